/*
 * Writes the seed corpus of fuzz_mls_group (seeds_group/): B's saved state in a
 * three-member group (A, B, C; suite 1) followed by a message for it — A's next Commit
 * (with path), a Proposal from C, application data from A — plus the same for suite 2.
 * Not built by meson; run by hand from the build dir:
 *   cc -I.. -I. ../tests/fuzz/mls/make_group_seeds.c clients/lib/libveilclient_core.a \
 *      clients/lib/libvc_openssl.a common/libveil_common.a -lcrypto -lm -o mgs && \
 *   ./mgs ../tests/fuzz/mls/seeds_group
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/group.h"

static void must(int rc, const char *what) {
  if (rc) {
    fprintf(stderr, "%s: %s\n", what, veil_strerror(rc));
    exit(1);
  }
}

static void seed(const char *dir, const char *name, const veil_writer_t *st, const veil_writer_t *m) {
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f)
    exit(1);
  uint8_t l[4] = {(uint8_t)(st->len >> 24), (uint8_t)(st->len >> 16), (uint8_t)(st->len >> 8),
                  (uint8_t)st->len};
  fwrite(l, 1, 4, f);
  fwrite(st->buf, 1, st->len, f);
  fwrite(m->buf, 1, m->len, f);
  fclose(f);
}

static mls_identity_t id_of(const char *n) {
  mls_identity_t id = {0};
  id.credential.type = MLS_CRED_BASIC;
  id.credential.identity = (veil_view_t){(const uint8_t *)n, strlen(n)};
  return id;
}

static void run(const char *dir, uint16_t suite) {
  mls_group_t *a, *b, *c;
  mls_keypackage_priv_t *kb, *kc;
  veil_writer_t wb, wc, cm, w, st, m;
  veil_writer_init_growable(&wb, 0);
  veil_writer_init_growable(&wc, 0);
  veil_writer_init_growable(&cm, 0);
  veil_writer_init_growable(&w, 0);
  veil_writer_init_growable(&st, 0);
  veil_writer_init_growable(&m, 0);
  mls_identity_t ia = id_of("alice"), ib = id_of("bob"), ic = id_of("carol");
  must(mls_group_create(suite, (const uint8_t *)"fuzz", 4, &ia, NULL, &a), "create");
  must(mls_keypackage_create(suite, &ib, 0, &wb, &kb), "kp");
  must(mls_keypackage_create(suite, &ic, 0, &wc, &kc), "kp");
  veil_view_t kps[2] = {{wb.buf, wb.len}, {wc.buf, wc.len}};
  mls_commit_opts_t o = {.add_key_packages = kps, .n_add = 2, .inline_tree = 1};
  must(mls_group_commit(a, &o, &cm, &w), "commit");
  must(mls_group_merge_pending(a), "merge");
  must(mls_group_join(w.buf, w.len, kb, NULL, 0, NULL, &b), "join");
  must(mls_group_join(w.buf, w.len, kc, NULL, 0, NULL, &c), "join");
  must(mls_group_serialize(b, &st), "serialize");
  char name[64];
  cm.len = 0;
  mls_commit_opts_t up = {.force_path = 1};
  must(mls_group_commit(a, &up, &cm, NULL), "commit2");
  snprintf(name, sizeof(name), "s%u_commit", suite);
  seed(dir, name, &st, &cm);
  must(mls_group_propose_update(c, &m), "propose");
  snprintf(name, sizeof(name), "s%u_proposal", suite);
  seed(dir, name, &st, &m);
  m.len = 0;
  must(mls_group_protect(a, (const uint8_t *)"hello", 5, NULL, 0, &m), "protect");
  snprintf(name, sizeof(name), "s%u_application", suite);
  seed(dir, name, &st, &m);
  mls_group_free(a);
  mls_group_free(b);
  mls_group_free(c);
  mls_keypackage_priv_free(kb);
  mls_keypackage_priv_free(kc);
  veil_writer_free(&wb);
  veil_writer_free(&wc);
  veil_writer_free(&cm);
  veil_writer_free(&w);
  veil_writer_free(&st);
  veil_writer_free(&m);
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  run(argv[1], 1);
  run(argv[1], 2);
  return 0;
}
