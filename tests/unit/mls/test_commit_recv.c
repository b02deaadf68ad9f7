/* Received Commits that break RFC 9420 §12.2–§12.4 or §7.3 are refused, each with the
 * code the receiver gives for it, and leave the receiver's state byte-identical.
 *
 * The forger (commit_forge.h) is a real malicious member, B: signature and membership
 * tag of its Commits are valid, so the receiver (A) must refuse them for their content.
 *
 * The receiver checks, in order (group_process.c process_commit): proposal references,
 * the proposal list (§12.2), path required (§12.4), staging on a copy, the committer's
 * new leaf (§7.3), the path merge (source, parent hash), key uniqueness, path
 * decryption, and the confirmation tag last. So a forged Commit carries a garbage
 * confirmation tag: a content check that let it through would surface as a different
 * code (at the latest VEIL_EMLS_CONFIRMATION_TAG), never as the one asserted.
 *
 * Where only a receiver's check can stand in the way, B derives the true tag itself
 * (forge_commit_tagged).
 *
 * Ed25519 (suite 1) signs deterministically: the positive controls show that the
 * forging helpers, given a real Commit's content and tag, give back its exact bytes,
 * which the receiver accepts; and forge_commit_tagged's Commits are accepted when
 * their content is valid. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/mls/commit_forge.h"

#define SUITE 1

/* ---- positive controls ------------------------------------------------------------------ */

Test(mls_commit_recv, forged_copy_of_a_real_remove_commit_is_identical_and_accepted) {
  forge_t f;
  forge_setup(&f, SUITE);
  uint32_t c = mls_group_own_leaf(f.t.c.g);
  mls_commit_opts_t o = {.remove_leaves = &c, .n_remove = 1};
  real_commit(&f, &o);
  remove_leaf(&f, c);
  forge_commit(&f, &f.real_pm.content.commit.path, real_tag(&f));
  assert_forged_is_real(&f);
  /* The path leaf re-made as the commit-source leaf it is: the same bytes again. */
  W(leaf);
  mls_update_path_t path;
  remake_path_leaf(&f, &f.real_pm.content.commit.path, MLS_LEAF_SRC_COMMIT, &path, &leaf);
  remove_leaf(&f, c);
  forge_commit(&f, &path, real_tag(&f));
  assert_forged_is_real(&f);
  mls_processed_t r;
  cr_assert_eq(process(f.r, &f.msg, &r), 0);
  cr_assert_eq(r.kind, MLS_PROCESSED_COMMIT);
  cr_assert_eq(r.sender, mls_group_own_leaf(f.m));
  cr_assert_eq(mls_group_epoch(f.r), 2);
  cr_assert_eq(mls_group_member_count(f.r), 2);
  veil_writer_free(&leaf);
  forge_free(&f);
}

Test(mls_commit_recv, forged_copy_of_a_real_add_commit_is_identical_and_accepted) {
  forge_t f;
  forge_setup(&f, SUITE);
  member_t d;
  make_kp(&d, SUITE, "dave");
  veil_view_t kp = {d.kpmsg.buf, d.kpmsg.len};
  mls_commit_opts_t o = {.add_key_packages = &kp, .n_add = 1};
  real_commit(&f, &o);
  cr_assert_eq(f.real_pm.content.commit.has_path, 0, "an Add alone needs no path");
  add_kp(&f, kp.ptr, kp.len);
  forge_commit(&f, NULL, real_tag(&f));
  assert_forged_is_real(&f);
  /* The forger's own derivation of the tag gives the real one. */
  add_kp(&f, kp.ptr, kp.len);
  forge_commit_tagged(&f, 0, 0);
  assert_forged_is_real(&f);
  cr_assert_eq(process(f.r, &f.msg, NULL), 0);
  cr_assert_eq(mls_group_member_count(f.r), 4);
  member_free(&d);
  forge_free(&f);
}

/* ---- §12.2: invalid proposal lists ------------------------------------------------------ */

Test(mls_commit_recv, refuses_remove_of_the_committer) {
  forge_t f;
  forge_setup(&f, SUITE);
  const mls_update_path_t *path = real_path(&f);
  remove_leaf(&f, mls_group_own_leaf(f.m));
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  /* Beside a valid Remove of another member too. */
  remove_leaf(&f, mls_group_own_leaf(f.t.c.g));
  remove_leaf(&f, mls_group_own_leaf(f.m));
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  assert_refused(&f, f.t.c.g, VEIL_EMLS_PROPOSAL_LIST);
  forge_free(&f);
}

Test(mls_commit_recv, refuses_add_of_a_client_already_in_the_group) {
  forge_t f;
  forge_setup(&f, SUITE);
  /* B's own KeyPackage, the one it joined with. */
  add_kp(&f, f.t.b.kpmsg.buf, f.t.b.kpmsg.len);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  /* A fresh, valid KeyPackage under another name that carries B's signature key. */
  mls_identity_t id = basic_id("bob-2");
  id.sig_priv = f.m->sig_priv;
  W(kpw);
  mls_keypackage_priv_t *kp = NULL;
  cr_assert_eq(mls_keypackage_create(SUITE, &id, 0, &kpw, &kp), 0);
  add_kp(&f, kpw.buf, kpw.len);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  mls_keypackage_priv_free(kp);
  veil_writer_free(&kpw);
  forge_free(&f);
}

Test(mls_commit_recv, refuses_two_adds_of_one_client) {
  forge_t f;
  forge_setup(&f, SUITE);
  member_t d;
  make_kp(&d, SUITE, "dave");
  add_kp(&f, d.kpmsg.buf, d.kpmsg.len);
  add_kp(&f, d.kpmsg.buf, d.kpmsg.len);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  /* Two KeyPackages of one signature key (two devices would have two keys). */
  mls_identity_t id = basic_id("dave-2");
  id.sig_priv = d.kp->sig_priv;
  W(kpw);
  mls_keypackage_priv_t *kp2 = NULL;
  cr_assert_eq(mls_keypackage_create(SUITE, &id, 0, &kpw, &kp2), 0);
  add_kp(&f, d.kpmsg.buf, d.kpmsg.len);
  add_kp(&f, kpw.buf, kpw.len);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  mls_keypackage_priv_free(kp2);
  veil_writer_free(&kpw);
  member_free(&d);
  forge_free(&f);
}

Test(mls_commit_recv, refuses_add_of_a_keypackage_for_another_cipher_suite) {
  forge_t f;
  forge_setup(&f, SUITE);
  member_t d;
  make_kp(&d, 2, "dave"); /* P-256, the group is on suite 1 */
  add_kp(&f, d.kpmsg.buf, d.kpmsg.len);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  member_free(&d);
  forge_free(&f);
}

/* §12.4: an Update may not come by value (it would be the committer's own, §12.2), and
 * the committer's own Update proposal may not be committed by reference either. */
Test(mls_commit_recv, refuses_the_committers_own_update) {
  forge_t f;
  forge_setup(&f, SUITE);
  W(upd);
  cr_assert_eq(mls_group_propose_update(f.m, &upd), 0);
  mls_message_t um;
  cr_assert_eq(mls_message_parse(upd.buf, upd.len, &um), 0);
  const mls_proposal_t *p = &um.u.public_message.content.proposal;
  cr_assert_eq(p->type, MLS_PROP_UPDATE);
  const mls_update_path_t *path = real_path(&f);
  by_value(&f, p);
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  /* A caches B's (valid) Update proposal; B then commits it by reference. */
  cr_assert_eq(process(f.r, &upd, NULL), 0);
  cr_assert_eq(f.m->n_props, 1);
  by_ref(&f, f.m->props[0].ref);
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  veil_writer_free(&upd);
  forge_free(&f);
}

Test(mls_commit_recv, refuses_external_init_in_a_member_commit) {
  forge_t f;
  forge_setup(&f, SUITE);
  const mls_update_path_t *path = real_path(&f);
  uint8_t kem[32];
  memset(kem, 0x11, sizeof(kem));
  mls_proposal_t p = {.type = MLS_PROP_EXTERNAL_INIT, .u.external_init = {kem, sizeof(kem)}};
  by_value(&f, &p);
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  forge_free(&f);
}

Test(mls_commit_recv, refuses_two_group_context_extensions) {
  forge_t f;
  forge_setup(&f, SUITE);
  const mls_update_path_t *path = real_path(&f);
  add_gce(&f, NULL, 0);
  add_gce(&f, NULL, 0);
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  /* One alone passes every content check: with no extensions before and after, the
   * self-update path still fits, and only the garbage confirmation tag is left. */
  add_gce(&f, NULL, 0);
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_CONFIRMATION_TAG);
  forge_free(&f);
}

/* §12.1.7: an extension type the members do not all support. */
Test(mls_commit_recv, refuses_group_context_extension_members_do_not_support) {
  forge_t f;
  forge_setup(&f, SUITE);
  const mls_update_path_t *path = real_path(&f);
  mls_extension_t e = {.type = 0xff00, .data = {(const uint8_t *)"x", 1}};
  add_gce(&f, &e, 1);
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_CAPABILITIES);
  forge_free(&f);
}

Test(mls_commit_recv, refuses_two_removes_of_one_leaf) {
  forge_t f;
  forge_setup(&f, SUITE);
  const mls_update_path_t *path = real_path(&f);
  remove_leaf(&f, mls_group_own_leaf(f.t.c.g));
  remove_leaf(&f, mls_group_own_leaf(f.t.c.g));
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  forge_free(&f);
}

/* A commits `o`; B follows (A's pending state merges). C is left behind. */
static void a_commits(forge_t *f, const mls_commit_opts_t *o) {
  W(c);
  cr_assert_eq(mls_group_commit(f->r, o, &c, NULL), 0);
  cr_assert_eq(process(f->m, &c, NULL), 0);
  cr_assert_eq(mls_group_merge_pending(f->r), 0);
  veil_writer_free(&c);
}

Test(mls_commit_recv, refuses_remove_of_a_blank_or_missing_leaf) {
  forge_t f;
  forge_setup(&f, SUITE);
  /* Leaves A0 B1 _2 D3: D added, then C removed. */
  member_t d;
  make_kp(&d, SUITE, "dave");
  veil_view_t kp = {d.kpmsg.buf, d.kpmsg.len};
  mls_commit_opts_t add = {.add_key_packages = &kp, .n_add = 1};
  a_commits(&f, &add);
  uint32_t c = mls_group_own_leaf(f.t.c.g);
  mls_commit_opts_t rm = {.remove_leaves = &c, .n_remove = 1};
  a_commits(&f, &rm);
  cr_assert_eq(mls_group_leaf_count(f.r), 4);
  cr_assert_null(mls_group_member(f.r, c));
  const mls_update_path_t *path = real_path(&f);
  remove_leaf(&f, c);
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  remove_leaf(&f, 9);
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  /* The same forger's Remove of D, with the real Commit's path and tag, goes through. */
  uint32_t dl = 3;
  mls_commit_opts_t rmd = {.remove_leaves = &dl, .n_remove = 1};
  real_commit(&f, &rmd);
  remove_leaf(&f, dl);
  forge_commit(&f, &f.real_pm.content.commit.path, real_tag(&f));
  assert_forged_is_real(&f);
  cr_assert_eq(process(f.r, &f.msg, NULL), 0);
  member_free(&d);
  forge_free(&f);
}

/* ---- §12.4: the UpdatePath --------------------------------------------------------------- */

Test(mls_commit_recv, refuses_path_requiring_commits_without_path) {
  forge_t f;
  forge_setup(&f, SUITE);
  uint32_t c = mls_group_own_leaf(f.t.c.g);
  mls_commit_opts_t o = {.remove_leaves = &c, .n_remove = 1};
  real_commit(&f, &o);
  /* The real Remove Commit with its path left out, re-signed by B. */
  remove_leaf(&f, c);
  forge_refused(&f, NULL, real_tag(&f), VEIL_EMLS_PATH_REQUIRED);
  /* An empty Commit and a GroupContextExtensions one need a path as well. */
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_EMLS_PATH_REQUIRED);
  add_gce(&f, NULL, 0);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_EMLS_PATH_REQUIRED);
  forge_free(&f);
}

/* §12.4.2: the committer's new leaf in the path has leaf_node_source commit. The leaf is
 * otherwise valid (signed by B over group id and leaf index, a new encryption key). */
Test(mls_commit_recv, refuses_path_whose_leaf_source_is_not_commit) {
  forge_t f;
  forge_setup(&f, SUITE);
  uint32_t c = mls_group_own_leaf(f.t.c.g);
  mls_commit_opts_t o = {.remove_leaves = &c, .n_remove = 1};
  real_commit(&f, &o);
  W(leaf);
  static const uint8_t sources[] = {MLS_LEAF_SRC_UPDATE, MLS_LEAF_SRC_KEY_PACKAGE};
  for (size_t i = 0; i < sizeof(sources); i++) {
    mls_update_path_t path;
    remake_path_leaf(&f, &f.real_pm.content.commit.path, sources[i], &path, &leaf);
    remove_leaf(&f, c);
    forge_refused(&f, &path, real_tag(&f), VEIL_EMLS_UPDATE_PATH);
    /* C, whom the Commit removes, refuses it too and stays a member (active). */
    assert_refused(&f, f.t.c.g, VEIL_EMLS_UPDATE_PATH);
    cr_assert(mls_group_active(f.t.c.g));
  }
  veil_writer_free(&leaf);
  forge_free(&f);
}

/* ---- §7.3, §10.1, §11.1 and the application's checks ---------------------------------- */

/* The receiver's state reloaded under another config (validator, clock). */
static mls_group_t *receiver_with(forge_t *f, const mls_group_config_t *cfg) {
  state_of(f->r, &f->before);
  mls_group_t *g = NULL;
  cr_assert_eq(mls_group_deserialize(f->before.buf, f->before.len, cfg, &g), 0);
  return g;
}

Test(mls_commit_recv, refuses_add_the_receivers_credential_validator_rejects) {
  forge_t f;
  forge_setup(&f, SUITE);
  mls_group_config_t cfg = {.validate_credential = reject_mallory};
  mls_group_t *a = receiver_with(&f, &cfg);
  member_t mal, d;
  make_kp(&mal, SUITE, "mallory");
  make_kp(&d, SUITE, "dave");
  add_kp(&f, mal.kpmsg.buf, mal.kpmsg.len);
  forge_commit(&f, NULL, garbage_tag(&f));
  assert_refused(&f, a, VEIL_EMLS_CREDENTIAL);
  /* The same receiver takes a real Add of dave. */
  veil_view_t kp = {d.kpmsg.buf, d.kpmsg.len};
  mls_commit_opts_t o = {.add_key_packages = &kp, .n_add = 1};
  real_commit(&f, &o);
  cr_assert_eq(process(a, &f.real, NULL), 0);
  mls_group_free(a);
  member_free(&mal);
  member_free(&d);
  forge_free(&f);
}

/* §10.1: a KeyPackage outside its lifetime, by the receiver's clock. */
Test(mls_commit_recv, refuses_add_of_an_expired_keypackage) {
  forge_t f;
  forge_setup(&f, SUITE);
  const uint64_t t0 = 1700000000;
  mls_group_config_t late = {.now = t0 + 100ull * 86400}, in_time = {.now = t0 + 86400};
  mls_group_t *a_late = receiver_with(&f, &late), *a_ok = receiver_with(&f, &in_time);
  mls_identity_t id = basic_id("dave");
  W(kpw);
  mls_keypackage_priv_t *kp = NULL;
  cr_assert_eq(mls_keypackage_create(SUITE, &id, t0, &kpw, &kp), 0); /* until t0 + 90 d */
  veil_view_t v = {kpw.buf, kpw.len};
  mls_commit_opts_t o = {.add_key_packages = &v, .n_add = 1};
  real_commit(&f, &o); /* B's clock is 0: it does not check lifetimes */
  veil_writer_t *real = &f.real;
  f.msg.len = 0;
  cr_assert_eq(veil_write_bytes(&f.msg, real->buf, real->len), 0);
  assert_refused(&f, a_late, VEIL_EMLS_LEAF_INVALID);
  cr_assert_eq(process(a_ok, &f.msg, NULL), 0);
  mls_keypackage_priv_free(kp);
  veil_writer_free(&kpw);
  mls_group_free(a_late);
  mls_group_free(a_ok);
  forge_free(&f);
}

/* §7.3: a new leaf's encryption key appears nowhere else in the tree. B's sybil "dave"
 * re-signs its KeyPackage around A's encryption key; B commits it with the true
 * confirmation tag (forge_commit_tagged), so nothing but the receiver's key check
 * stands between it and the group. */
Test(mls_commit_recv, refuses_add_reusing_a_members_encryption_key) {
  forge_t f;
  forge_setup(&f, SUITE);
  const mls_suite_t *s = f.m->suite;
  member_t d;
  make_kp(&d, SUITE, "dave");
  mls_key_package_t kp;
  cr_assert_eq(grp_parse_key_package(d.kpmsg.buf, d.kpmsg.len, &kp, NULL), 0);
  kp.leaf_node.encryption_key = mls_group_member(f.r, mls_group_own_leaf(f.r))->encryption_key;
  W(tbs);
  uint8_t leaf_sig[MLS_SIG_MAX], kp_sig[MLS_SIG_MAX];
  size_t ls = 0, ks = 0;
  cr_assert_eq(mls_leaf_node_encode_tbs(&tbs, &kp.leaf_node, (veil_view_t){0}, 0), 0);
  cr_assert_eq(mls_sign_with_label(s, d.kp->sig_priv, "LeafNodeTBS", tbs.buf, tbs.len, leaf_sig,
                                   &ls),
               0);
  kp.leaf_node.signature = (veil_view_t){leaf_sig, ls};
  tbs.len = 0;
  kp.tbs = (veil_view_t){NULL, 0};
  cr_assert_eq(mls_key_package_encode_tbs(&tbs, &kp), 0);
  cr_assert_eq(mls_sign_with_label(s, d.kp->sig_priv, "KeyPackageTBS", tbs.buf, tbs.len, kp_sig,
                                   &ks),
               0);
  kp.signature = (veil_view_t){kp_sig, ks};
  W(forged);
  cr_assert_eq(mls_key_package_encode(&forged, &kp), 0);
  add_kp(&f, forged.buf, forged.len);
  forge_commit_tagged(&f, 0, 0);
  assert_refused(&f, f.r, VEIL_EMLS_DUP_KEY);
  assert_refused(&f, f.t.c.g, VEIL_EMLS_DUP_KEY);
  veil_writer_free(&tbs);
  veil_writer_free(&forged);
  member_free(&d);
  forge_free(&f);
}

/* RequiredCapabilities (§11.1) naming one extension type. */
static void required_ext(uint16_t type, veil_writer_t *body) {
  for (int list = 0; list < 3; list++) {
    veil_wblock_t b;
    veil_writer_open_block(body, VEIL_LEN_VARINT, &b);
    if (list == 0 && type)
      veil_write_u16(body, type);
    cr_assert_eq(veil_writer_close_block(body, &b), 0);
  }
}

/* §11.1: a GroupContextExtensions proposal is invalid when its required_capabilities
 * names a capability not every current member supports. B's own new leaf announces the
 * extension type (so its path passes the new requirement); A and C do not support it. */
Test(mls_commit_recv, refuses_required_capabilities_members_do_not_support) {
  forge_t f;
  forge_setup(&f, SUITE);
  W(rq);
  required_ext(0xff00, &rq);
  mls_extension_t e = {.type = MLS_EXT_REQUIRED_CAPABILITIES, .data = {rq.buf, rq.len}};
  add_gce(&f, &e, 1);
  forge_commit_tagged(&f, 1, 0xff00);
  assert_refused(&f, f.r, VEIL_EMLS_CAPABILITIES);
  assert_refused(&f, f.t.c.g, VEIL_EMLS_CAPABILITIES);
  /* Control: the same forge requiring nothing, B's leaf announcing 0xff00 all the same. */
  rq.len = 0;
  required_ext(0, &rq);
  e.data = (veil_view_t){rq.buf, rq.len};
  add_gce(&f, &e, 1);
  forge_commit_tagged(&f, 1, 0xff00);
  cr_assert_eq(process(f.r, &f.msg, NULL), 0);
  cr_assert_eq(process(f.t.c.g, &f.msg, NULL), 0);
  assert_same_epoch(f.r, f.t.c.g);
  veil_writer_free(&rq);
  forge_free(&f);
}

/* ---- §12.4.3.2: external Commits ---------------------------------------------------------- */

/* A joiner E's real external Commit, made from A's GroupInfo, and what E needs to forge
 * others: its signature key (E's group state) and the GroupContext of the epoch it joins
 * (from the GroupInfo, public). */
typedef struct ext {
  veil_writer_t gi, gc, real;
  mls_group_t *e;                /* owned: E's state after its real Commit */
  mls_public_message_t real_pm;  /* views into real */
  mls_proposal_t einit;          /* the real ExternalInit (views into real) */
  mls_framing_ctx_t ctx;         /* borrows gc */
} ext_t;

static void ext_setup(forge_t *f, ext_t *x) {
  memset(x, 0, sizeof(*x));
  veil_writer_init_growable(&x->gi, 0);
  veil_writer_init_growable(&x->gc, 0);
  veil_writer_init_growable(&x->real, 0);
  cr_assert_eq(mls_group_group_info(f->r, 1, &x->gi), 0);
  mls_identity_t id = basic_id("erin");
  cr_assert_eq(mls_group_join_external(x->gi.buf, x->gi.len, NULL, 0, SUITE, &id, NULL, &x->real,
                                       &x->e),
               0);
  mls_message_t m;
  cr_assert_eq(mls_message_parse(x->gi.buf, x->gi.len, &m), 0);
  cr_assert_eq(mls_group_context_encode(&x->gc, &m.u.group_info.group_context), 0);
  cr_assert_eq(mls_framing_ctx_init(&x->ctx, x->e->suite, x->gc.buf, x->gc.len, NULL, NULL, NULL),
               0);
  cr_assert_eq(mls_message_parse(x->real.buf, x->real.len, &m), 0);
  x->real_pm = m.u.public_message;
  const mls_commit_t *cm = &x->real_pm.content.commit;
  cr_assert_eq(cm->proposals.count, 1);
  veil_reader_t r;
  mls_list_reader(&cm->proposals, &r);
  mls_proposal_or_ref_t por;
  cr_assert_eq(mls_proposal_or_ref_decode(&r, &por), 0);
  cr_assert_eq(por.proposal.type, MLS_PROP_EXTERNAL_INIT);
  x->einit = por.proposal;
}

static void ext_free(ext_t *x) {
  mls_group_free(x->e);
  veil_writer_free(&x->gi);
  veil_writer_free(&x->gc);
  veil_writer_free(&x->real);
}

/* E's Commit with the proposals gathered in f, `path` (NULL: none) and `tag`, signed by
 * E (new_member_commit: no membership tag). Into f->msg. */
static void forge_external(forge_t *f, ext_t *x, const mls_update_path_t *path, veil_view_t tag) {
  mls_framed_content_t c = x->real_pm.content;
  c.commit.proposals = mls_list_from_writer(&f->props, f->n_props);
  c.commit.has_path = path != NULL;
  if (path)
    c.commit.path = *path;
  f->msg.len = 0;
  cr_assert_eq(mls_public_protect(&x->ctx, &c, x->e->sig_priv, tag, &f->msg), 0);
  f->props.len = 0;
  f->n_props = 0;
}

Test(mls_commit_recv, refuses_invalid_external_commits) {
  forge_t f;
  forge_setup(&f, SUITE);
  ext_t x;
  ext_setup(&f, &x);
  const mls_update_path_t *path = &x.real_pm.content.commit.path;
  veil_view_t tag = x.real_pm.auth.confirmation_tag;
  /* No path at all. */
  by_value(&f, &x.einit);
  forge_external(&f, &x, NULL, tag);
  assert_refused(&f, f.r, VEIL_EMLS_PATH_REQUIRED);
  /* No ExternalInit; two of them. */
  forge_external(&f, &x, path, tag);
  assert_refused(&f, f.r, VEIL_EMLS_EXTERNAL_COMMIT);
  by_value(&f, &x.einit);
  by_value(&f, &x.einit);
  forge_external(&f, &x, path, tag);
  assert_refused(&f, f.r, VEIL_EMLS_PROPOSAL_LIST);
  /* An Add or a GroupContextExtensions beside the ExternalInit (§12.4.3.2: only
   * ExternalInit, Remove, PreSharedKey). */
  member_t d;
  make_kp(&d, SUITE, "dave");
  by_value(&f, &x.einit);
  add_kp(&f, d.kpmsg.buf, d.kpmsg.len);
  forge_external(&f, &x, path, tag);
  assert_refused(&f, f.r, VEIL_EMLS_PROPOSAL_LIST);
  by_value(&f, &x.einit);
  add_gce(&f, NULL, 0);
  forge_external(&f, &x, path, tag);
  assert_refused(&f, f.r, VEIL_EMLS_PROPOSAL_LIST);
  /* A Remove of someone else's leaf: only a resync of the joiner's own client may. */
  by_value(&f, &x.einit);
  remove_leaf(&f, mls_group_own_leaf(f.t.c.g));
  forge_external(&f, &x, path, tag);
  assert_refused(&f, f.r, VEIL_EMLS_EXTERNAL_COMMIT);
  /* Control: the helpers rebuild E's real Commit, which A takes. */
  by_value(&f, &x.einit);
  forge_external(&f, &x, path, tag);
  cr_assert_eq(f.msg.len, x.real.len);
  cr_assert(memcmp(f.msg.buf, x.real.buf, x.real.len) == 0);
  cr_assert_eq(process(f.r, &f.msg, NULL), 0);
  assert_same_epoch(f.r, x.e);
  member_free(&d);
  ext_free(&x);
  forge_free(&f);
}

/* ---- §12.1.4 / §8.4: PreSharedKey proposals ----------------------------------------------- */

static void add_resumption_psk(forge_t *f, uint8_t usage, uint64_t epoch, size_t nonce_len) {
  static const uint8_t nonce[MLS_HASH_MAX] = {7};
  mls_proposal_t p = {.type = MLS_PROP_PSK,
                      .u.psk = {.psktype = MLS_PSK_RESUMPTION,
                                .usage = usage,
                                .psk_group_id = mls_group_id(f->m),
                                .psk_epoch = epoch,
                                .psk_nonce = {nonce, nonce_len}}};
  by_value(f, &p);
}

/* The resumption PSK of the current epoch is one every member holds. The same PSK twice,
 * a nonce not Nh long, an epoch nobody kept and a usage other than application are
 * refused (the list is checked before the tag); B's valid one, committed with the true
 * tag, is accepted. */
Test(mls_commit_recv, refuses_invalid_psk_proposals) {
  forge_t f;
  forge_setup(&f, SUITE);
  size_t nh = f.m->suite->nh;
  uint64_t now = mls_group_epoch(f.m);
  add_resumption_psk(&f, MLS_RESUMPTION_APPLICATION, now, nh);
  add_resumption_psk(&f, MLS_RESUMPTION_APPLICATION, now, nh);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  add_resumption_psk(&f, MLS_RESUMPTION_APPLICATION, now, nh - 1);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_EMLS_PROPOSAL_LIST);
  /* Not known: the generic VEIL_ENOTFOUND, for a missing epoch and a wrong usage alike. */
  add_resumption_psk(&f, MLS_RESUMPTION_APPLICATION, now + 5, nh);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_ENOTFOUND);
  add_resumption_psk(&f, MLS_RESUMPTION_BRANCH, now, nh);
  forge_refused(&f, NULL, garbage_tag(&f), VEIL_ENOTFOUND);
  /* Control: the one valid PSK proposal, true tag and all. */
  add_resumption_psk(&f, MLS_RESUMPTION_APPLICATION, now, nh);
  forge_commit_tagged(&f, 0, 0);
  cr_assert_eq(process(f.r, &f.msg, NULL), 0);
  cr_assert_eq(process(f.t.c.g, &f.msg, NULL), 0);
  assert_same_epoch(f.r, f.t.c.g);
  forge_free(&f);
}
