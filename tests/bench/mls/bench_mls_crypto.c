/*
 * Benchmark (part B): the per-epoch and per-message crypto of a 1000-member group, suite 1.
 *  - secret tree: creation, the first key of every member (lazy derivation), one ratchet
 *    step, a receiver jumping 100 generations ahead (skipped keys into the window);
 *  - PrivateMessage: protect, and unprotect + signature check, of 100-byte application data;
 *  - TreeKEM: a Commit's UpdatePath (prepare, sign the leaf, tree hash, encrypt) on a tree
 *    without parent nodes (the first Commit: one encryption per other member) and on a
 *    tree whose parent nodes all hold keys (steady state: one encryption per level), and a
 *    receiver's merge + decrypt of each.
 * Prints one JSON object (milliseconds or microseconds as named).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/framing.h"
#include "clients/lib/mls/key_schedule.h"
#include "clients/lib/mls/secret_tree.h"
#include "clients/lib/mls/tree.h"
#include "clients/lib/mls/treemath.h"
#include "clients/lib/mls/treekem.h"

#define MEMBERS 1000

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void check(const char *what, int rc) {
  if (rc) {
    fprintf(stderr, "bench_mls_crypto: %s: %s\n", what, veil_strerror(rc));
    exit(1);
  }
}

static const mls_suite_t *S;
static uint8_t GID[8] = "bench-gr";

/* ---- secret tree and messages ---------------------------------------------------------- */

static void bench_secret_tree(double *create_us, double *all_first_ms, double *step_us,
                              double *jump_us) {
  uint8_t enc[32] = {1};
  mls_ratchet_key_t k;
  double t0 = now_us();
  mls_secret_tree_t *t = mls_secret_tree_new(S, enc, 1024, NULL);
  double t1 = now_us();
  if (!t)
    check("secret tree", VEIL_ENOMEM);
  for (uint32_t l = 0; l < MEMBERS; l++)
    check("first key", mls_secret_tree_next(t, l, MLS_RATCHET_APPLICATION, &k));
  double t2 = now_us();
  for (int i = 0; i < 10000; i++)
    check("step", mls_secret_tree_next(t, 7, MLS_RATCHET_APPLICATION, &k));
  double t3 = now_us();
  for (int i = 0; i < 100; i++)
    check("jump", mls_secret_tree_get(t, 9, MLS_RATCHET_HANDSHAKE, 100u * (uint32_t)i + 99u, &k));
  double t4 = now_us();
  mls_ratchet_key_wipe(&k);
  mls_secret_tree_free(t);
  *create_us = t1 - t0;
  *all_first_ms = (t2 - t1) / 1e3;
  *step_us = (t3 - t2) / 10000;
  *jump_us = (t4 - t3) / 100;
}

static void bench_messages(double *protect_us, double *unprotect_us) {
  uint8_t th[32] = {1}, cth[32] = {2}, mk[32] = {3}, sds[32] = {4}, enc[32] = {5};
  uint8_t sp[32], pp[32], data[100];
  memset(data, 7, sizeof data);
  check("sig key", vc_sig_generate(S->sig, sp, pp));
  mls_group_context_t gc = {.version = MLS_VERSION_10, .cipher_suite = S->id,
                            .group_id = {GID, 8}, .epoch = 1, .tree_hash = {th, 32},
                            .confirmed_transcript_hash = {cth, 32}};
  veil_writer_t g, out, plain;
  veil_writer_init_growable(&g, 0);
  veil_writer_init_growable(&plain, 0);
  check("gc", mls_group_context_encode(&g, &gc));
  mls_secret_tree_t *tx = mls_secret_tree_new(S, enc, 1024, NULL);
  mls_secret_tree_t *rx = mls_secret_tree_new(S, enc, 1024, NULL);
  mls_framing_ctx_t ct, cr;
  check("ctx", mls_framing_ctx_init(&ct, S, g.buf, g.len, mk, sds, tx));
  check("ctx", mls_framing_ctx_init(&cr, S, g.buf, g.len, mk, sds, rx));
  mls_framed_content_t c;
  memset(&c, 0, sizeof c);
  c.group_id = (veil_view_t){GID, 8};
  c.epoch = 1;
  c.sender = (mls_sender_t){MLS_SENDER_MEMBER, 500};
  c.content_type = MLS_CT_APPLICATION;
  c.application_data = (veil_view_t){data, sizeof data};
  const int n = 2000;
  double tp = 0, tu = 0;
  for (int i = 0; i < n; i++) {
    veil_writer_init_growable(&out, 0);
    double a = now_us();
    check("protect", mls_private_protect(&ct, &c, sp, (veil_view_t){NULL, 0}, &out));
    double b = now_us();
    mls_message_t m;
    mls_authenticated_content_t ac;
    check("parse", mls_message_parse(out.buf, out.len, &m));
    check("unprotect", mls_private_unprotect(&cr, &m.u.private_message, &plain, &ac));
    check("verify", mls_framing_verify(&cr, &ac, pp, sizeof pp));
    double d = now_us();
    tp += b - a;
    tu += d - b;
    veil_writer_free(&out);
  }
  *protect_us = tp / n;
  *unprotect_us = tu / n;
  veil_writer_free(&plain);
  veil_writer_free(&g);
  mls_secret_tree_free(tx);
  mls_secret_tree_free(rx);
}

/* ---- TreeKEM --------------------------------------------------------------------------- */

static uint8_t sig_priv[MEMBERS][32], hpke_priv[MEMBERS][32];

static mls_tree_t *build_tree(void) {
  mls_tree_t *t;
  check("tree", mls_tree_new(S->id, &t));
  uint8_t enc[32], pub[32], sig[MLS_SIG_MAX], id[8] = "member", cs[2] = {0, 1}, cr[2] = {0, 1};
  mls_leaf_node_t l;
  memset(&l, 0, sizeof l);
  l.credential.type = MLS_CRED_BASIC;
  l.credential.identity = (veil_view_t){id, sizeof id};
  l.capabilities.cipher_suites = (mls_list_t){{cs, 2}, 1};
  l.capabilities.credentials = (mls_list_t){{cr, 2}, 1};
  l.source = MLS_LEAF_SRC_KEY_PACKAGE;
  l.lifetime.not_after = UINT64_MAX;
  for (int i = 0; i < MEMBERS; i++) {
    check("hpke key", vc_kex_generate(VC_X25519, hpke_priv[i], enc));
    check("sig key", vc_sig_generate(S->sig, sig_priv[i], pub));
    l.encryption_key = (veil_view_t){enc, 32};
    l.signature_key = (veil_view_t){pub, 32};
    veil_writer_t w;
    veil_writer_init_growable(&w, 256);
    mls_leaf_node_encode_tbs(&w, &l, (veil_view_t){NULL, 0}, 0);
    size_t sl;
    check("sign", mls_sign_with_label(S, sig_priv[i], "LeafNodeTBS", w.buf, w.len, sig, &sl));
    veil_writer_free(&w);
    l.signature = (veil_view_t){sig, sl};
    uint32_t idx;
    check("add", mls_tree_add(t, &l, &idx));
  }
  return t;
}

/* One Commit's UpdatePath from `leaf`; leaves the committer's tree in `t`, the encoded
 * UpdatePath in `out` and the provisional GroupContext in `gc`. */
static void commit_path(mls_tree_t *t, uint32_t leaf, veil_writer_t *gc, veil_writer_t *out,
                        mls_treekem_update_t *u) {
  uint8_t th[MLS_HASH_MAX], sig[MLS_SIG_MAX], cth[32] = {9};
  check("prepare", mls_treekem_prepare(t, leaf, NULL, u));
  mls_leaf_node_t ln = *mls_tree_leaf(t, leaf);
  ln.source = MLS_LEAF_SRC_COMMIT;
  ln.encryption_key = (veil_view_t){u->leaf_pub, S->hpke_pk_len};
  ln.parent_hash = (veil_view_t){u->leaf_parent_hash, u->leaf_parent_hash_len};
  veil_writer_t tbs;
  veil_writer_init_growable(&tbs, 0);
  size_t sl;
  check("tbs", mls_leaf_node_encode_tbs(&tbs, &ln, (veil_view_t){GID, 8}, leaf));
  check("sign", mls_sign_with_label(S, sig_priv[leaf], "LeafNodeTBS", tbs.buf, tbs.len, sig, &sl));
  veil_writer_free(&tbs);
  ln.signature = (veil_view_t){sig, sl};
  check("set leaf", mls_tree_set_leaf(t, leaf, &ln));
  check("tree hash", mls_tree_root_hash(t, th));
  mls_group_context_t g = {.version = MLS_VERSION_10, .cipher_suite = S->id,
                           .group_id = {GID, 8}, .epoch = 2, .tree_hash = {th, S->nh},
                           .confirmed_transcript_hash = {cth, 32}};
  veil_writer_init_growable(gc, 0);
  check("gc", mls_group_context_encode(gc, &g));
  veil_writer_init_growable(out, 0);
  check("encrypt", mls_treekem_encrypt(t, u, mls_tree_leaf(t, leaf), gc->buf, gc->len, NULL, 0,
                                       out));
}

/* Member 1 merges and decrypts an encoded UpdatePath from `sender` into its own view. */
static double receive(mls_tree_t *view, mls_tree_priv_t *p, uint32_t sender,
                      const veil_writer_t *out, const veil_writer_t *gc,
                      const mls_treekem_update_t *u) {
  mls_update_path_t up;
  veil_reader_t r;
  uint8_t commit[MLS_HASH_MAX];
  veil_reader_init(&r, out->buf, out->len);
  mls_update_path_decode(&r, &up);
  check("decode", veil_reader_finish(&r));
  double a = now_us();
  check("merge", mls_treekem_merge(view, sender, &up));
  check("decrypt", mls_treekem_decrypt(view, p, sender, &up, gc->buf, gc->len, NULL, 0, commit,
                                       NULL));
  double b = now_us();
  if (memcmp(commit, u->commit_secret, S->nh) != 0)
    check("commit secret", VEIL_EAUTH);
  return (b - a) / 1e3;
}

static void bench_treekem(double *first_ms, double *steady_ms, double *first_recv_ms,
                          double *steady_recv_ms, size_t *first_bytes, size_t *steady_bytes) {
  mls_tree_t *t = build_tree(), *view;
  check("clone", mls_tree_clone(t, &view)); /* member 1's copy */
  mls_tree_priv_t p;
  mls_tree_priv_init(&p, S, 1, hpke_priv[1]);
  mls_treekem_update_t u;
  veil_writer_t gc, out;
  /* Member 0 commits on a tree without parent nodes: one encryption per other member. */
  double a = now_us();
  commit_path(t, 0, &gc, &out, &u);
  double b = now_us();
  *first_ms = (b - a) / 1e3;
  *first_bytes = out.len;
  *first_recv_ms = receive(view, &p, 0, &out, &gc, &u);
  veil_writer_free(&gc);
  veil_writer_free(&out);
  mls_treekem_update_wipe(&u);
  /* Steady state: every parent node over at least one member holds a key (as after many
   * Commits), set identically in both views; member 1 knows the keys on its own path. */
  for (uint32_t x = 1; x < mls_tree_node_count(t); x += 2) {
    uint32_t first_leaf = (x - ((UINT32_C(1) << mls_tm_level(x)) - 1)) / 2;
    if (first_leaf >= MEMBERS)
      continue;
    uint8_t ps[MLS_HASH_MAX], ns[MLS_HASH_MAX], sk[32], pk[32];
    check("random", vc_random(ps, S->nh));
    check("node secret", mls_derive_secret(S, ps, S->nh, "node", ns));
    check("node key", mls_derive_key_pair(S, ns, S->nh, sk, pk));
    mls_parent_node_t pn = {.encryption_key = {pk, 32}};
    check("parent", mls_tree_set_parent(t, x, &pn));
    check("parent", mls_tree_set_parent(view, x, &pn));
    if (mls_tm_is_descendant(mls_tm_leaf_to_node(1), x))
      check("path secret", mls_tree_priv_set_path_secret(&p, x, ps, S->nh));
  }
  /* Member 999 commits: one encryption per filtered-path level. */
  a = now_us();
  commit_path(t, 999, &gc, &out, &u);
  b = now_us();
  *steady_ms = (b - a) / 1e3;
  *steady_bytes = out.len;
  *steady_recv_ms = receive(view, &p, 999, &out, &gc, &u);
  mls_tree_priv_wipe(&p);
  mls_treekem_update_wipe(&u);
  veil_writer_free(&gc);
  veil_writer_free(&out);
  mls_tree_free(view);
  mls_tree_free(t);
}

int main(void) {
  S = mls_suite_get(1);
  double st_create, st_all, st_step, st_jump, mp, mu, tk_first, tk_steady, tk_rf, tk_rs;
  size_t b_first, b_steady;
  bench_secret_tree(&st_create, &st_all, &st_step, &st_jump);
  bench_messages(&mp, &mu);
  bench_treekem(&tk_first, &tk_steady, &tk_rf, &tk_rs, &b_first, &b_steady);
  printf("{\"members\":%d,\"backend\":\"%s\",\"secret_tree_new_us\":%.1f,"
         "\"secret_tree_first_key_all_members_ms\":%.2f,\"ratchet_step_us\":%.2f,"
         "\"receiver_jump_100_generations_us\":%.1f,\"private_protect_100B_us\":%.1f,"
         "\"private_unprotect_verify_100B_us\":%.1f,\"updatepath_first_commit_ms\":%.1f,"
         "\"updatepath_first_commit_bytes\":%zu,\"updatepath_steady_commit_ms\":%.2f,"
         "\"updatepath_steady_commit_bytes\":%zu,\"updatepath_first_merge_decrypt_ms\":%.2f,"
         "\"updatepath_steady_merge_decrypt_ms\":%.2f}\n",
         MEMBERS, vc_backend_name(), st_create, st_all, st_step, st_jump, mp, mu, tk_first,
         b_first, tk_steady, b_steady, tk_rf, tk_rs);
  return 0;
}
