/*
 * RFC 9420 tree-validation vectors: for each tree, the resolution and the tree hash of
 * every node, then the joiner's checks — parent hashes (§7.9.2), leaf signatures with the
 * group id as context and the rest of §7.3 / §12.4.3.1 (mls_tree_validate). A mutated
 * copy of each tree (one parent hash byte flipped) must then fail, so the check cannot
 * pass vacuously.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/tree.h"
#include "common/hex.h"
#include "mls_vec.h"

static int check_resolutions(mls_tree_t *t, const vj_t *res) {
  uint32_t width = mls_tree_node_count(t);
  if (vj_size(res) != width) {
    tap_diag("resolutions: %zu entries for %u nodes", vj_size(res), width);
    return 0;
  }
  uint32_t *buf = malloc((size_t)(width + 1) * sizeof *buf);
  int ok = buf != NULL;
  for (uint32_t x = 0; ok && x < width; x++) {
    const vj_t *want = vj_at(res, x);
    uint32_t n = 0;
    ok = mls_tree_resolution(t, x, buf, width + 1, &n) == 0 && n == vj_size(want);
    for (uint32_t k = 0; ok && k < n; k++) {
      const vj_t *e = vj_at(want, k);
      ok = e && e->type == VJ_NUM && strtoull(e->text, NULL, 10) == buf[k];
    }
    if (!ok)
      tap_diag("resolution of node %u differs (%u entries)", x, n);
  }
  free(buf);
  return ok;
}

static int check_hashes(mls_tree_t *t, const vj_t *hashes, size_t nh) {
  uint32_t width = mls_tree_node_count(t);
  if (vj_size(hashes) != width) {
    tap_diag("tree_hashes: %zu entries for %u nodes", vj_size(hashes), width);
    return 0;
  }
  for (uint32_t x = 0; x < width; x++) {
    const vj_t *h = vj_at(hashes, x);
    uint8_t got[MLS_HASH_MAX], want[MLS_HASH_MAX];
    long wl = h && h->type == VJ_STR ? veil_hex_decode(h->text, h->len, want, sizeof want) : -1;
    int ok = wl >= 0 && mls_tree_hash(t, x, got) == 0 &&
             tap_bytes_eq("tree hash", got, nh, want, (size_t)wl);
    if (!ok) {
      tap_diag("tree hash of node %u differs", x);
      return 0;
    }
  }
  return 1;
}

/* Flips one byte of the first non-blank parent node's parent_hash (or of its key when
 * the hash is empty): the tree must stop validating. 1 when it does, or when the tree
 * has no non-blank parent (then there is nothing to tamper with; reported). */
static int tamper_fails(mls_tree_t *t, const mls_leaf_check_t *chk, int *tampered) {
  *tampered = 0;
  for (uint32_t x = 1; x < mls_tree_node_count(t); x += 2) {
    const mls_parent_node_t *p = mls_tree_parent(t, x);
    if (!p)
      continue;
    mls_tree_t *c = NULL;
    if (mls_tree_clone(t, &c))
      return 0;
    mls_parent_node_t np = *mls_tree_parent(c, x);
    veil_view_t *f = np.parent_hash.len ? &np.parent_hash : &np.encryption_key;
    uint8_t *copy = malloc(f->len);
    memcpy(copy, f->ptr, f->len);
    copy[0] ^= 0x01;
    f->ptr = copy;
    int set = mls_tree_set_parent(c, x, &np);
    int rc = mls_tree_validate(c, chk);
    free(copy);
    mls_tree_free(c);
    *tampered = 1;
    return set == 0 && rc != 0;
  }
  return 1;
}

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "tree-validation.json");
  if (rc)
    return rc;
  unsigned tampered_total = 0;
  for (size_t i = 0; m.root && i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    size_t tl, gl;
    uint8_t *tree = mv_hex(&m, tc, "tree", &tl), *gid = mv_hex(&m, tc, "group_id", &gl);
    mls_tree_t *t = NULL;
    int ok = tree && gid && mls_tree_parse(s->id, tree, tl, &t) == 0;
    ok = ok && check_resolutions(t, vj_get(tc, "resolutions"));
    ok = ok && check_hashes(t, vj_get(tc, "tree_hashes"), s->nh);
    mls_leaf_check_t chk = {.group_id = {gid, gl}};
    int vrc = ok ? mls_tree_validate(t, &chk) : -1;
    if (ok && vrc)
      tap_diag("mls_tree_validate: %s", veil_strerror(vrc));
    ok = ok && vrc == 0;
    int tampered = 0;
    ok = ok && tamper_fails(t, &chk, &tampered);
    tampered_total += (unsigned)tampered;
    tap_ok(ok, "tree-validation[%zu] suite %u, %u leaves", i, s->id,
           t ? mls_tree_leaf_count(t) : 0);
    mls_tree_free(t);
    mv_release(&m);
    mv_ran(&m, s);
  }
  tap_diag("tree-validation.json: %u trees also rejected after tampering", tampered_total);
  return mv_finish(&m);
}
