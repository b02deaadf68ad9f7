/*
 * Benchmark: ratchet tree work of one Commit in a 1000-member group (suite 1), the part
 * the group benchmark's "< 20 ms per commit" budget spends in the tree: set the
 * committer's filtered direct path, compute its parent-hash chain (§7.9), replace its
 * leaf and recompute the root tree hash (§7.8) through the per-node cache. Also the
 * one-off costs of a joiner: parse + full tree hash, parent-hash verification, clone.
 * Prints one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/lib/mls/suite.h"
#include "clients/lib/mls/tree.h"

#define MEMBERS 1000
#define COMMITS 500

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void fail(const char *what, int rc) {
  fprintf(stderr, "bench_mls_tree: %s: %s\n", what, veil_strerror(rc));
  exit(1);
}

int main(void) {
  const mls_suite_t *s = mls_suite_get(1);
  mls_tree_t *t;
  int rc;
  if ((rc = mls_tree_new(1, &t)))
    fail("tree", rc);
  uint8_t enc[32], pub[32], priv[32], sig[MLS_SIG_MAX], id[8] = "member", cs[2] = {0, 1},
                                                     cr[2] = {0, 1};
  mls_leaf_node_t l;
  memset(&l, 0, sizeof l);
  l.credential.type = MLS_CRED_BASIC;
  l.credential.identity = (veil_view_t){id, sizeof id};
  l.capabilities.cipher_suites = (mls_list_t){{cs, 2}, 1};
  l.capabilities.credentials = (mls_list_t){{cr, 2}, 1};
  l.source = MLS_LEAF_SRC_KEY_PACKAGE;
  l.lifetime.not_after = UINT64_MAX;
  for (int i = 0; i < MEMBERS; i++) {
    vc_random(enc, sizeof enc);
    vc_sig_generate(s->sig, priv, pub);
    l.encryption_key = (veil_view_t){enc, 32};
    l.signature_key = (veil_view_t){pub, 32};
    veil_writer_t w;
    veil_writer_init_growable(&w, 256);
    mls_leaf_node_encode_tbs(&w, &l, (veil_view_t){NULL, 0}, 0);
    size_t sl;
    rc = mls_sign_with_label(s, priv, "LeafNodeTBS", w.buf, w.len, sig, &sl);
    veil_writer_free(&w);
    if (rc)
      fail("sign", rc);
    l.signature = (veil_view_t){sig, sl};
    uint32_t idx;
    if ((rc = mls_tree_add(t, &l, &idx)))
      fail("add", rc);
  }
  uint8_t h[MLS_HASH_MAX];
  double t0 = now_ms();
  if ((rc = mls_tree_root_hash(t, h)))
    fail("root hash", rc);
  double full_hash = now_ms() - t0;

  t0 = now_ms();
  for (int it = 0; it < COMMITS; it++) {
    uint32_t k = (uint32_t)(it * 37 % MEMBERS), path[MLS_MAX_PATH], cop[MLS_MAX_PATH], n;
    if ((rc = mls_tree_filtered_direct_path(t, k, path, cop, &n)))
      fail("path", rc);
    for (uint32_t j = 0; j < n; j++) {
      uint8_t key[32];
      vc_random(key, sizeof key);
      mls_parent_node_t p = {.encryption_key = {key, 32}};
      if ((rc = mls_tree_set_parent(t, path[j], &p)))
        fail("set parent", rc);
    }
    uint8_t ph[MLS_HASH_MAX];
    size_t phl;
    if ((rc = mls_tree_set_path_parent_hashes(t, k, ph, &phl)))
      fail("parent hashes", rc);
    l.source = MLS_LEAF_SRC_COMMIT;
    l.parent_hash = (veil_view_t){ph, phl};
    if ((rc = mls_tree_set_leaf(t, k, &l)) || (rc = mls_tree_root_hash(t, h)))
      fail("leaf/root", rc);
  }
  double per_commit = (now_ms() - t0) / COMMITS;

  t0 = now_ms();
  rc = mls_tree_verify_parent_hashes(t);
  double verify = now_ms() - t0;
  if (rc)
    fail("verify", rc);
  mls_tree_t *c;
  t0 = now_ms();
  if ((rc = mls_tree_clone(t, &c)))
    fail("clone", rc);
  double clone = now_ms() - t0;
  veil_writer_t w;
  veil_writer_init_growable(&w, 1 << 20);
  mls_tree_encode(t, &w);
  mls_tree_t *p2;
  t0 = now_ms();
  if ((rc = mls_tree_parse(1, w.buf, w.len, &p2)) || (rc = mls_tree_root_hash(p2, h)))
    fail("parse", rc);
  double parse = now_ms() - t0;
  printf("{\"bench\":\"mls_tree\",\"backend\":\"%s\",\"members\":%d,\"commits\":%d,"
         "\"commit_tree_ms\":%.4f,\"full_root_hash_ms\":%.3f,\"verify_parent_hashes_ms\":%.3f,"
         "\"clone_ms\":%.3f,\"parse_and_hash_ms\":%.3f,\"tree_bytes\":%zu}\n",
         vc_backend_name(), MEMBERS, COMMITS, per_commit, full_hash, verify, clone, parse, w.len);
  veil_writer_free(&w);
  mls_tree_free(p2);
  mls_tree_free(c);
  mls_tree_free(t);
  return 0;
}
