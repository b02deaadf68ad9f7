/*
 * Fuzz target: ratchet_tree decoding (RFC 9420 §12.4.3.3) and everything a joiner then
 * runs over an untrusted tree: hashes, resolutions, filtered direct paths, validation.
 * Differential checks: a parsed tree re-encodes to the input; after a Remove and an Add
 * the cached root hash equals the root hash of a freshly parsed copy.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/suite.h"
#include "clients/lib/mls/tree.h"

static void must(int cond) {
  if (!cond)
    abort();
}

/* 0 and the hash, or 1 when the tree has no member left (nothing to parse back). */
static int root_hash_fresh(const mls_tree_t *t, uint8_t *out) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 1024);
  must(mls_tree_encode(t, &w) == 0);
  if (w.len == 1) {
    veil_writer_free(&w);
    return 1;
  }
  mls_tree_t *c = NULL;
  must(mls_tree_parse(mls_tree_cipher_suite(t), w.buf, w.len, &c) == 0);
  must(mls_tree_root_hash(c, out) == 0);
  mls_tree_free(c);
  veil_writer_free(&w);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mls_tree_t *t = NULL;
  if (mls_tree_parse(1, data, size, &t))
    return 0;
  veil_writer_t w;
  veil_writer_init_growable(&w, size + 1);
  must(mls_tree_encode(t, &w) == 0);
  must(w.len == size && memcmp(w.buf, data, size) == 0);
  veil_writer_free(&w);

  uint8_t h[MLS_HASH_MAX], h2[MLS_HASH_MAX];
  must(mls_tree_root_hash(t, h) == 0);
  uint32_t width = mls_tree_node_count(t);
  uint32_t *res = malloc((size_t)width * sizeof *res);
  must(res != NULL);
  for (uint32_t x = 0; x < width; x++) {
    uint32_t n;
    (void)mls_tree_resolution(t, x, res, width, &n);
  }
  free(res);
  for (uint32_t l = 0; l < mls_tree_leaf_count(t); l++) {
    uint32_t path[MLS_MAX_PATH], cop[MLS_MAX_PATH], n;
    must(mls_tree_filtered_direct_path(t, l, path, cop, &n) == 0);
  }
  /* Random leaves fail their signatures first in mls_tree_validate; run the parent-hash
   * check on its own as well, over unvalidated unmerged lists. */
  (void)mls_tree_check_unmerged(t);
  (void)mls_tree_verify_parent_hashes(t);
  const uint8_t gid[] = {'f', 'u', 'z', 'z'};
  mls_leaf_check_t chk = {.group_id = {gid, sizeof gid}};
  (void)mls_tree_validate(t, &chk);

  /* Remove the first member, re-add its leaf: the path-invalidated cache must agree with
   * a from-scratch computation at every step. */
  for (uint32_t l = 0; l < mls_tree_leaf_count(t); l++) {
    const mls_leaf_node_t *leaf = mls_tree_leaf(t, l);
    if (!leaf)
      continue;
    veil_view_t enc = mls_tree_leaf_encoding(t, l);
    uint8_t *copy = malloc(enc.len);
    must(copy != NULL);
    memcpy(copy, enc.ptr, enc.len);
    veil_reader_t r;
    mls_leaf_node_t again;
    veil_reader_init(&r, copy, enc.len);
    must(mls_leaf_node_decode(&r, &again) == 0);
    must(mls_tree_remove(t, l) == 0);
    must(mls_tree_root_hash(t, h) == 0);
    must(root_hash_fresh(t, h2) == 1 || memcmp(h, h2, 32) == 0);
    uint32_t idx;
    must(mls_tree_add(t, &again, &idx) == 0);
    must(mls_tree_root_hash(t, h) == 0);
    must(root_hash_fresh(t, h2) == 0 && memcmp(h, h2, 32) == 0);
    free(copy);
    break;
  }
  mls_tree_free(t);
  return 0;
}
