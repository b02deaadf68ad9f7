/*
 * veil vectors — MLS passive client (mlswg/mls-implementations test-vectors.md,
 * "Passive Client"): for each test case, build the KeyPackage's private state from the
 * given keys (checking they match it), join from the Welcome (with the given ratchet tree
 * when the Welcome has none), compare epoch_authenticator, then for every epoch feed the
 * proposals and the Commit and compare epoch_authenticator again.
 *
 * Usage: vectors_passive_client <file> (passive-client-welcome.json, ...). The runner
 * reports ran/skipped per suite; every test case of a supported suite (1-3) present in
 * the file must run and pass: one is never skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/group.h"
#include "mls_vec.h"

typedef struct psks {
  size_t n;
  const uint8_t *id[16];
  size_t id_len[16];
  const uint8_t *psk[16];
  size_t psk_len[16];
} psks_t;

static int psk_lookup(void *arg, const mls_psk_id_t *id, const uint8_t **psk, size_t *len) {
  const psks_t *p = arg;
  if (id->psktype != MLS_PSK_EXTERNAL)
    return VEIL_ENOTFOUND;
  for (size_t i = 0; i < p->n; i++)
    if (p->id_len[i] == id->psk_id.len && memcmp(p->id[i], id->psk_id.ptr, id->psk_id.len) == 0) {
      *psk = p->psk[i];
      *len = p->psk_len[i];
      return 0;
    }
  return VEIL_ENOTFOUND;
}

/* A hex string array element, malloc'd (freed per message: random.json has ~1500). */
static uint8_t *hex_value(const vj_t *v, size_t *len) {
  if (!v || v->type != VJ_STR)
    return NULL;
  uint8_t *out = malloc(v->len / 2 + 1);
  long n = out ? veil_hex_decode(v->text, v->len, out, v->len / 2) : -1;
  if (n < 0) {
    free(out);
    return NULL;
  }
  *len = (size_t)n;
  return out;
}

static int run_case(mv_t *m, const vj_t *tc, size_t idx) {
  size_t kp_len, sig_len, enc_len, init_len, w_len, rt_len = 0, ea_len;
  uint8_t *kp = mv_hex(m, tc, "key_package", &kp_len);
  uint8_t *sig = mv_hex(m, tc, "signature_priv", &sig_len);
  uint8_t *enc = mv_hex(m, tc, "encryption_priv", &enc_len);
  uint8_t *init = mv_hex(m, tc, "init_priv", &init_len);
  uint8_t *welcome = mv_hex(m, tc, "welcome", &w_len);
  uint8_t *ea = mv_hex(m, tc, "initial_epoch_authenticator", &ea_len);
  uint8_t *rt = NULL;
  if (!vj_is_null(vj_get(tc, "ratchet_tree")))
    rt = mv_hex(m, tc, "ratchet_tree", &rt_len);
  if (!kp || !sig || !enc || !init || !welcome || !ea)
    return 0;
  psks_t psks = {0};
  const vj_t *ep = vj_get(tc, "external_psks");
  for (size_t i = 0; i < vj_size(ep) && i < 16; i++) {
    const vj_t *e = vj_at(ep, i);
    psks.id[i] = mv_hex(m, e, "psk_id", &psks.id_len[i]);
    psks.psk[i] = mv_hex(m, e, "psk", &psks.psk_len[i]);
    psks.n++;
  }
  mls_group_config_t cfg = {.external_psk = psk_lookup, .external_psk_arg = &psks};
  mls_keypackage_priv_t *kpp = NULL;
  mls_group_t *g = NULL;
  int rc = mls_keypackage_priv_from_keys(kp, kp_len, sig, enc, init, &kpp);
  if (rc) {
    tap_diag("case %zu: key package private keys: %s", idx, veil_strerror(rc));
    return 0;
  }
  rc = mls_group_join(welcome, w_len, kpp, rt, rt_len, &cfg, &g);
  mls_keypackage_priv_free(kpp);
  if (rc) {
    tap_diag("case %zu: join: %s", idx, veil_strerror(rc));
    return 0;
  }
  veil_view_t got = mls_group_epoch_authenticator(g);
  int ok = tap_bytes_eq("initial epoch_authenticator", got.ptr, got.len, ea, ea_len);
  const vj_t *epochs = vj_get(tc, "epochs");
  for (size_t e = 0; ok && e < vj_size(epochs); e++) {
    const vj_t *eo = vj_at(epochs, e);
    const vj_t *props = vj_get(eo, "proposals");
    for (size_t p = 0; ok && p < vj_size(props); p++) {
      size_t len = 0;
      uint8_t *b = hex_value(vj_at(props, p), &len);
      mls_processed_t res;
      rc = mls_group_process(g, b, len, &res);
      free(b);
      if (rc || res.kind != MLS_PROCESSED_PROPOSAL) {
        tap_diag("case %zu epoch %zu proposal %zu: %s", idx, e, p, veil_strerror(rc));
        ok = 0;
      }
      mls_processed_free(&res);
    }
    size_t c_len = 0, a_len = 0;
    uint8_t *c = vj_hex(eo, "commit", &c_len);
    uint8_t *a = vj_hex(eo, "epoch_authenticator", &a_len);
    mls_processed_t res;
    rc = ok && c ? mls_group_process(g, c, c_len, &res) : VEIL_EINVAL;
    if (rc || res.kind != MLS_PROCESSED_COMMIT) {
      tap_diag("case %zu epoch %zu commit: %s", idx, e, veil_strerror(rc));
      ok = 0;
    } else {
      mls_processed_free(&res);
      got = mls_group_epoch_authenticator(g);
      char what[64];
      snprintf(what, sizeof(what), "epoch %zu epoch_authenticator", e);
      ok = tap_bytes_eq(what, got.ptr, got.len, a, a_len);
    }
    free(c);
    free(a);
  }
  mls_group_free(g);
  return ok;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <passive-client-*.json>\n", argv[0]);
    return 2;
  }
  mv_t m;
  int rc = mv_open(&m, argv[1]);
  if (rc)
    return rc;
  unsigned present[MV_MAX_SUITE] = {0};
  for (size_t i = 0; i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    int ok = 0;
    uint64_t id = vj_u64(tc, "cipher_suite", &ok);
    if (ok && id < MV_MAX_SUITE)
      present[id]++;
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    int pass = run_case(&m, tc, i);
    tap_ok(pass, "%s[%zu] suite %u: %zu epochs", argv[1], i, s->id,
           vj_size(vj_get(tc, "epochs")));
    mv_ran(&m, s);
    mv_release(&m);
  }
  /* Every supported suite the file holds must have run in full. */
  int all = 1;
  for (unsigned id = 1; id < MV_MAX_SUITE; id++)
    if (m.ran[id] || m.skipped[id])
      tap_diag("%s suite %u: ran %u, skipped %u", argv[1], id, m.ran[id], m.skipped[id]);
  for (unsigned id = 1; id <= 3; id++)
    if (present[id] && (m.ran[id] != present[id] || m.skipped[id]))
      all = 0;
  tap_ok(m.root && all, "%s: every test case of suites 1-3 in the file ran", argv[1]);
  mv_release(&m);
  vj_free(m.root);
  return tap_done();
}
