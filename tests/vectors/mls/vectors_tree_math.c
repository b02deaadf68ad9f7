/*
 * RFC 9420 tree-math vectors (Appendix C): node count, root, and left/right/parent/
 * sibling of every node for trees of 1..512 leaves (null where undefined).
 */
#include <stdio.h>

#include "clients/lib/mls/treemath.h"
#include "vjson.h"

/* Compares one relation array: JSON null <-> MLS_TM_NONE. */
static int check_rel(const vj_t *tc, const char *key, uint32_t n, uint32_t width,
                     uint32_t (*fn)(uint32_t x, uint32_t n), const char *what) {
  const vj_t *arr = vj_get(tc, key);
  if (!arr || vj_size(arr) != width) {
    tap_diag("%s: array size %zu, want %u", key, arr ? vj_size(arr) : 0, width);
    return 0;
  }
  for (uint32_t x = 0; x < width; x++) {
    const vj_t *v = vj_at(arr, x);
    uint32_t got = fn(x, n);
    int ok = 0;
    uint64_t want = 0;
    if (vj_is_null(v))
      ok = got == MLS_TM_NONE;
    else {
      /* vj_u64 reads object members; an array element's raw number text is read here. */
      int okn = v->type == VJ_NUM && sscanf(v->text, "%llu", (unsigned long long *)&want) == 1;
      ok = okn && got == want;
    }
    if (!ok) {
      tap_diag("%s(%u) with %u leaves = %d, want %s", what, x, n, (int)got,
               vj_is_null(v) ? "null" : v->text);
      return 0;
    }
  }
  return 1;
}

static uint32_t left2(uint32_t x, uint32_t n) { (void)n; return mls_tm_left(x); }
static uint32_t right2(uint32_t x, uint32_t n) { (void)n; return mls_tm_right(x); }

int main(void) {
  char path[4096];
  if (!vj_vector_path("mls/tree-math.json", path, sizeof path))
    return tap_skip_all("MLS vectors folder absent");
  vj_t *root = vj_parse_file(path);
  size_t ran = 0;
  for (size_t i = 0; root && i < vj_size(root); i++) {
    const vj_t *tc = vj_at(root, i);
    int ok1, ok2, ok3;
    uint32_t n = (uint32_t)vj_u64(tc, "n_leaves", &ok1);
    uint32_t nodes = (uint32_t)vj_u64(tc, "n_nodes", &ok2);
    uint32_t rt = (uint32_t)vj_u64(tc, "root", &ok3);
    int ok = ok1 && ok2 && ok3 && mls_tm_node_width(n) == nodes && mls_tm_root(n) == rt;
    ok = ok && check_rel(tc, "left", n, nodes, left2, "left");
    ok = ok && check_rel(tc, "right", n, nodes, right2, "right");
    ok = ok && check_rel(tc, "parent", n, nodes, mls_tm_parent, "parent");
    ok = ok && check_rel(tc, "sibling", n, nodes, mls_tm_sibling, "sibling");
    tap_ok(ok, "tree-math[%zu]: %u leaves", i, n);
    ran++;
  }
  tap_diag("tree-math.json (no cipher suite): ran %zu, skipped 0", ran);
  tap_ok(root && ran == vj_size(root) && ran > 0, "tree-math.json: every test case ran");
  vj_free(root);
  return tap_done();
}
