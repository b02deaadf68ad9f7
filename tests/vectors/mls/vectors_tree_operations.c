/*
 * RFC 9420 tree-operations vectors (§12.1.1-3, §7.7): apply an Add, Update or Remove
 * proposal from `proposal_sender` to tree_before; compare the serialized tree and the
 * tree hash before and after.
 *
 * The upstream file holds suite 1 entries only; the closing check requires that every
 * entry of a supported suite (1-3) ran, and reports per suite what the file contains.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/tree.h"
#include "mls_vec.h"

static int check_hash(mls_tree_t *t, const uint8_t *want, size_t wl, const char *what) {
  uint8_t got[MLS_HASH_MAX];
  return mls_tree_root_hash(t, got) == 0 && tap_bytes_eq(what, got, wl, want, wl);
}

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "tree-operations.json");
  if (rc)
    return rc;
  size_t supported = 0;
  for (size_t i = 0; m.root && i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    supported++;
    size_t bl, al, pl, hbl, hal;
    uint8_t *before = mv_hex(&m, tc, "tree_before", &bl), *after = mv_hex(&m, tc, "tree_after", &al);
    uint8_t *prop = mv_hex(&m, tc, "proposal", &pl);
    uint8_t *hb = mv_hex(&m, tc, "tree_hash_before", &hbl), *ha = mv_hex(&m, tc, "tree_hash_after", &hal);
    int oks;
    uint32_t sender = (uint32_t)vj_u64(tc, "proposal_sender", &oks);
    mls_tree_t *t = NULL;
    mls_proposal_t p;
    veil_reader_t r;
    veil_reader_init(&r, prop, pl);
    int ok = before && after && prop && hb && ha && oks && hbl == s->nh && hal == s->nh &&
             mls_tree_parse(s->id, before, bl, &t) == 0 && check_hash(t, hb, hbl, "hash before");
    ok = ok && mls_proposal_decode(&r, &p) == 0 && veil_reader_finish(&r) == 0;
    int arc = ok ? mls_tree_apply_proposal(t, &p, sender) : -1;
    if (ok && arc)
      tap_diag("apply: %s", veil_strerror(arc));
    ok = ok && arc == 0;
    veil_writer_t w;
    veil_writer_init_growable(&w, al + 16);
    ok = ok && mls_tree_encode(t, &w) == 0 && tap_bytes_eq("tree after", w.buf, w.len, after, al);
    veil_writer_free(&w);
    ok = ok && check_hash(t, ha, hal, "hash after");
    tap_ok(ok, "tree-operations[%zu] suite %u: proposal type %u from leaf %u", i, s->id,
           ok ? p.type : 0, sender);
    mls_tree_free(t);
    mv_release(&m);
    mv_ran(&m, s);
  }
  for (unsigned id = 1; id < MV_MAX_SUITE; id++)
    if (m.ran[id] || m.skipped[id])
      tap_diag("tree-operations.json suite %u: ran %u, skipped %u", id, m.ran[id],
               m.skipped[id]);
  for (unsigned id = 1; id <= 3; id++)
    if (!m.ran[id])
      tap_diag("tree-operations.json has no suite %u entries (upstream file is suite 1 only)",
               id);
  tap_ok(m.root && supported > 0 && m.skipped[1] + m.skipped[2] + m.skipped[3] == 0,
         "tree-operations.json: every entry of suites 1-3 in the file ran");
  mv_release(&m);
  vj_free(m.root);
  return tap_done();
}
