/*
 * Fuzz target (part B): a received UpdatePath (RFC 9420 §7.5-7.6) as a property. A fixed
 * 8-member group (keys built from constants at start) has one member commit a genuine
 * UpdatePath; the input picks the committer, the receiver and one alteration of the
 * encoded path (a flipped byte and/or a truncation). The receiver merges and decrypts:
 *  - the genuine path always merges and decrypts to the committer's commit_secret;
 *  - an altered path never crashes, and if it still merges and decrypts, the result is
 *    the genuine commit_secret (the parent-hash chain and the key checks leave an
 *    attacker no other outcome).
 * Input: [0] committer, [1] receiver, [2] flags, [3..4] offset, [5] xor mask,
 * [6..] leaf_secret material.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/tree.h"
#include "clients/lib/mls/treekem.h"

#define MEMBERS 8

static void must(int cond) {
  if (!cond)
    abort();
}

static const mls_suite_t *S;
static mls_tree_t *TREE;
static uint8_t GID[8] = "fuzz-tkm", SIG_PRIV[MEMBERS][32], HPKE_PRIV[MEMBERS][32];

static void setup(void) {
  if (S)
    return;
  S = mls_suite_get(1);
  must(mls_tree_new(S->id, &TREE) == 0);
  uint8_t id[6] = "member", cs[2] = {0, 1}, cr[2] = {0, 1}, enc[32], pub[32], sig[MLS_SIG_MAX];
  mls_leaf_node_t l;
  memset(&l, 0, sizeof l);
  l.credential.type = MLS_CRED_BASIC;
  l.credential.identity = (veil_view_t){id, sizeof id};
  l.capabilities.cipher_suites = (mls_list_t){{cs, 2}, 1};
  l.capabilities.credentials = (mls_list_t){{cr, 2}, 1};
  l.source = MLS_LEAF_SRC_KEY_PACKAGE;
  l.lifetime.not_after = UINT64_MAX;
  for (int i = 0; i < MEMBERS; i++) {
    uint8_t ikm[32];
    memset(ikm, 0x40 + i, sizeof ikm);
    must(mls_derive_key_pair(S, ikm, sizeof ikm, HPKE_PRIV[i], enc) == 0);
    memset(SIG_PRIV[i], 0x60 + i, 32);
    must(vc_sig_public(S->sig, SIG_PRIV[i], pub) == 0);
    l.encryption_key = (veil_view_t){enc, 32};
    l.signature_key = (veil_view_t){pub, 32};
    veil_writer_t w;
    veil_writer_init_growable(&w, 0);
    must(mls_leaf_node_encode_tbs(&w, &l, (veil_view_t){NULL, 0}, 0) == 0);
    size_t sl;
    must(mls_sign_with_label(S, SIG_PRIV[i], "LeafNodeTBS", w.buf, w.len, sig, &sl) == 0);
    veil_writer_free(&w);
    l.signature = (veil_view_t){sig, sl};
    uint32_t idx;
    must(mls_tree_add(TREE, &l, &idx) == 0);
  }
}

/* The committer's side: the encoded UpdatePath and provisional GroupContext. */
static void commit(uint32_t sender, const uint8_t *leaf_secret, veil_writer_t *out,
                   veil_writer_t *gc, mls_treekem_update_t *u) {
  mls_tree_t *c;
  uint8_t th[MLS_HASH_MAX], sig[MLS_SIG_MAX], cth[32] = {7};
  must(mls_tree_clone(TREE, &c) == 0);
  must(mls_treekem_prepare(c, sender, leaf_secret, u) == 0);
  mls_leaf_node_t ln = *mls_tree_leaf(c, sender);
  ln.source = MLS_LEAF_SRC_COMMIT;
  ln.encryption_key = (veil_view_t){u->leaf_pub, S->hpke_pk_len};
  ln.parent_hash = (veil_view_t){u->leaf_parent_hash, u->leaf_parent_hash_len};
  veil_writer_t tbs;
  veil_writer_init_growable(&tbs, 0);
  size_t sl;
  must(mls_leaf_node_encode_tbs(&tbs, &ln, (veil_view_t){GID, 8}, sender) == 0);
  must(mls_sign_with_label(S, SIG_PRIV[sender], "LeafNodeTBS", tbs.buf, tbs.len, sig, &sl) == 0);
  veil_writer_free(&tbs);
  ln.signature = (veil_view_t){sig, sl};
  must(mls_tree_set_leaf(c, sender, &ln) == 0);
  must(mls_tree_root_hash(c, th) == 0);
  mls_group_context_t g = {.version = MLS_VERSION_10, .cipher_suite = S->id,
                           .group_id = {GID, 8}, .epoch = 3, .tree_hash = {th, S->nh},
                           .confirmed_transcript_hash = {cth, 32}};
  must(mls_group_context_encode(gc, &g) == 0);
  must(mls_treekem_encrypt(c, u, mls_tree_leaf(c, sender), gc->buf, gc->len, NULL, 0, out) == 0);
  mls_tree_free(c);
}

/* The receiver's side: 0 and *commit_secret, or an error. */
static int receive(uint32_t sender, uint32_t receiver, const uint8_t *buf, size_t len,
                   const veil_writer_t *gc, uint8_t *commit_secret) {
  mls_update_path_t up;
  veil_reader_t r;
  veil_reader_init(&r, buf, len);
  mls_update_path_decode(&r, &up);
  int rc = veil_reader_finish(&r);
  if (rc)
    return rc;
  mls_tree_t *view;
  must(mls_tree_clone(TREE, &view) == 0);
  mls_tree_priv_t p;
  mls_tree_priv_init(&p, S, receiver, HPKE_PRIV[receiver]);
  rc = mls_treekem_merge(view, sender, &up);
  if (rc == 0)
    rc = mls_treekem_decrypt(view, &p, sender, &up, gc->buf, gc->len, NULL, 0, commit_secret,
                             NULL);
  mls_tree_priv_wipe(&p);
  mls_tree_free(view);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size < 6)
    return 0;
  uint32_t sender = data[0] % MEMBERS, receiver = data[1] % MEMBERS;
  if (receiver == sender)
    receiver = (receiver + 1) % MEMBERS;
  uint8_t flags = data[2], mask = data[5] ? data[5] : 1;
  size_t offset = (size_t)data[3] << 8 | data[4];
  uint8_t leaf_secret[32] = {0};
  memcpy(leaf_secret, data + 6, size - 6 > 32 ? 32 : size - 6);

  veil_writer_t out, gc, bad;
  veil_writer_init_growable(&out, 0);
  veil_writer_init_growable(&gc, 0);
  veil_writer_init_growable(&bad, 0);
  mls_treekem_update_t u;
  commit(sender, leaf_secret, &out, &gc, &u);
  uint8_t got[MLS_HASH_MAX];
  must(receive(sender, receiver, out.buf, out.len, &gc, got) == 0);
  must(memcmp(got, u.commit_secret, S->nh) == 0);
  if (flags & 0x03) {
    veil_write_bytes(&bad, out.buf, out.len);
    size_t at = offset % out.len;
    if (flags & 0x01)
      bad.buf[at] ^= mask;
    if (flags & 0x02)
      bad.len = at;
    if (receive(sender, receiver, bad.buf, bad.len, &gc, got) == 0)
      must(memcmp(got, u.commit_secret, S->nh) == 0);
  }
  mls_treekem_update_wipe(&u);
  veil_writer_free(&out);
  veil_writer_free(&gc);
  veil_writer_free(&bad);
  return 0;
}
