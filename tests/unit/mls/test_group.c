/* Scenario tests of MLS group operations (RFC 9420 §12–§13): a three-member group with
 * adds, an update and a remove in one Commit, forward and post-compromise boundaries
 * (removed members and joiners), rejections that must leave the state byte-identical,
 * persistence, external joins and credential checks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/group.h"
#include "clients/lib/identity/x509.h"
#include "clients/lib/mls/group_epoch.h"
#include "clients/lib/mls/group_internal.h"
#include "tests/unit/mls/group_fixture.h"

/* B proposes an Update; A commits B's Update, the removal of C and the Add of D at once. */
static void big_commit(trio_t *t, member_t *d, veil_writer_t *commit, veil_writer_t *welcome,
                       uint16_t suite) {
  W(upd);
  cr_assert_eq(mls_group_propose_update(t->b.g, &upd), 0);
  cr_assert_eq(process(t->a.g, &upd, NULL), 0);
  cr_assert_eq(process(t->c.g, &upd, NULL), 0);
  veil_writer_free(&upd);
  make_kp(d, suite, "dave");
  veil_view_t kp = {d->kpmsg.buf, d->kpmsg.len};
  uint32_t rm = mls_group_own_leaf(t->c.g);
  mls_commit_opts_t o = {.add_key_packages = &kp, .n_add = 1, .remove_leaves = &rm,
                         .n_remove = 1};
  cr_assert_eq(mls_group_commit(t->a.g, &o, commit, welcome), 0);
}

static void scenario_big_commit(uint16_t suite) {
  trio_t t;
  trio_setup(&t, suite);
  member_t d;
  W(commit);
  W(welcome);
  big_commit(&t, &d, &commit, &welcome, suite);
  mls_processed_t r;
  cr_assert_eq(process(t.b.g, &commit, &r), 0);
  cr_assert_eq(r.kind, MLS_PROCESSED_COMMIT);
  cr_assert_eq(r.removed, 0);
  cr_assert_eq(process(t.c.g, &commit, &r), 0);
  cr_assert_eq(r.removed, 1, "C learns it was removed");
  cr_assert_eq(mls_group_active(t.c.g), 0);
  cr_assert_eq(mls_group_merge_pending(t.a.g), 0);
  cr_assert_eq(mls_group_join(welcome.buf, welcome.len, d.kp, NULL, 0, NULL, &d.g), VEIL_ENOTFOUND,
               "no ratchet_tree extension: the tree must be supplied");
  W(tree);
  cr_assert_eq(mls_group_ratchet_tree(t.a.g, &tree), 0);
  cr_assert_eq(mls_group_join(welcome.buf, welcome.len, d.kp, tree.buf, tree.len, NULL, &d.g), 0);
  assert_same_epoch(t.a.g, t.b.g);
  assert_same_epoch(t.a.g, d.g);
  cr_assert_eq(mls_group_epoch(t.a.g), 2);
  cr_assert_eq(mls_group_member_count(t.a.g), 3);
  /* B's leaf carries its new key, and B can still read and write. */
  W(app);
  cr_assert_eq(mls_group_protect(t.b.g, (const uint8_t *)"hi", 2, NULL, 0, &app), 0);
  cr_assert_eq(process(d.g, &app, &r), 0);
  cr_assert_eq(r.kind, MLS_PROCESSED_APPLICATION);
  cr_assert_eq(r.data.len, 2);
  cr_assert(memcmp(r.data.buf, "hi", 2) == 0);
  mls_processed_free(&r);
  veil_writer_free(&app);
  veil_writer_free(&tree);
  veil_writer_free(&commit);
  veil_writer_free(&welcome);
  member_free(&d);
  trio_free(&t);
}

Test(mls_group, three_members_add_update_remove_in_one_commit_suite1) { scenario_big_commit(1); }
Test(mls_group, three_members_add_update_remove_in_one_commit_suite2) { scenario_big_commit(2); }
Test(mls_group, three_members_add_update_remove_in_one_commit_suite3) { scenario_big_commit(3); }

Test(mls_group, removed_member_cannot_decrypt_after_removal) {
  trio_t t;
  trio_setup(&t, 1);
  member_t d;
  W(commit);
  W(welcome);
  W(saved);
  big_commit(&t, &d, &commit, &welcome, 1);
  state_of(t.c.g, &saved); /* C's state before it learns of its removal */
  cr_assert_eq(process(t.c.g, &commit, NULL), 0);
  cr_assert_eq(mls_group_merge_pending(t.a.g), 0);
  W(app);
  cr_assert_eq(mls_group_protect(t.a.g, (const uint8_t *)"secret", 6, NULL, 0, &app), 0);
  cr_assert_eq(process(t.c.g, &app, NULL), VEIL_EMLS_REMOVED_MEMBER);
  /* Even with its old state (never told of the removal) C holds no key of the new epoch. */
  mls_group_t *old = NULL;
  cr_assert_eq(mls_group_deserialize(saved.buf, saved.len, NULL, &old), 0);
  cr_assert_eq(process(old, &app, NULL), VEIL_EMLS_FUTURE_EPOCH);
  /* And it cannot derive that epoch from the Commit either: it is refused as removed. */
  mls_processed_t r;
  cr_assert_eq(process(old, &commit, &r), 0);
  cr_assert_eq(r.removed, 1);
  cr_assert_eq(process(old, &app, NULL), VEIL_EMLS_REMOVED_MEMBER);
  cr_assert_eq(mls_group_protect(t.c.g, (const uint8_t *)"x", 1, NULL, 0, &app),
               VEIL_EMLS_REMOVED_MEMBER);
  mls_group_free(old);
  veil_writer_free(&app);
  veil_writer_free(&saved);
  veil_writer_free(&commit);
  veil_writer_free(&welcome);
  member_free(&d);
  trio_free(&t);
}

Test(mls_group, joiner_cannot_decrypt_messages_sent_before_it_joined) {
  trio_t t;
  trio_setup(&t, 1);
  W(before);
  cr_assert_eq(mls_group_protect(t.a.g, (const uint8_t *)"before", 6, NULL, 0, &before), 0);
  member_t d;
  make_kp(&d, 1, "dave");
  veil_view_t kp = {d.kpmsg.buf, d.kpmsg.len};
  mls_commit_opts_t o = {.add_key_packages = &kp, .n_add = 1, .inline_tree = 1};
  W(commit);
  W(welcome);
  cr_assert_eq(mls_group_commit(t.a.g, &o, &commit, &welcome), 0);
  cr_assert_eq(mls_group_merge_pending(t.a.g), 0);
  cr_assert_eq(mls_group_join(welcome.buf, welcome.len, d.kp, NULL, 0, NULL, &d.g), 0);
  assert_same_epoch(t.a.g, d.g);
  cr_assert_eq(process(d.g, &before, NULL), VEIL_EMLS_STALE_EPOCH);
  /* B, a member at the time, reads it. */
  mls_processed_t r;
  cr_assert_eq(process(t.b.g, &before, &r), 0);
  mls_processed_free(&r);
  veil_writer_free(&before);
  veil_writer_free(&commit);
  veil_writer_free(&welcome);
  member_free(&d);
  trio_free(&t);
}

/* Rejections: each with its own code, and the receiver's serialized state unchanged. */
typedef struct reject_fx {
  trio_t t;
  veil_writer_t commit2; /* A's second Commit (epoch 1 -> 2), processed by nobody yet */
  veil_writer_t before, after;
} reject_fx_t;

static void reject_setup(reject_fx_t *f) {
  trio_setup(&f->t, 1);
  veil_writer_init_growable(&f->commit2, 0);
  veil_writer_init_growable(&f->before, 0);
  veil_writer_init_growable(&f->after, 0);
  mls_commit_opts_t o = {.force_path = 1};
  cr_assert_eq(mls_group_commit(f->t.a.g, &o, &f->commit2, NULL), 0);
}

static void reject_free(reject_fx_t *f) {
  veil_writer_free(&f->commit2);
  veil_writer_free(&f->before);
  veil_writer_free(&f->after);
  trio_free(&f->t);
}

static void assert_rejected_unchanged(mls_group_t *g, const uint8_t *msg, size_t len, int want,
                                      reject_fx_t *f) {
  state_of(g, &f->before);
  mls_processed_t r;
  int rc = mls_group_process(g, msg, len, &r);
  cr_assert_eq(rc, want, "got %d (%s), want %d (%s)", rc, veil_strerror(rc), want,
               veil_strerror(want));
  state_of(g, &f->after);
  cr_assert_eq(f->before.len, f->after.len);
  cr_assert(memcmp(f->before.buf, f->after.buf, f->before.len) == 0, "state changed");
}

/* Re-encodes a PublicMessage with `edit` applied to its content, keeping the original
 * signature, with a membership tag made by `as` (a member holding the epoch's key). */
static void reframe(mls_group_t *as, const veil_writer_t *in, veil_writer_t *out, int new_sender,
                    int flip_sig) {
  mls_message_t m;
  cr_assert_eq(mls_message_parse(in->buf, in->len, &m), 0);
  mls_public_message_t *pm = &m.u.public_message;
  uint8_t sig[MLS_SIG_MAX];
  memcpy(sig, pm->auth.signature.ptr, pm->auth.signature.len);
  if (flip_sig)
    sig[3] ^= 0x40;
  mls_framed_content_auth_t auth = pm->auth;
  auth.signature.ptr = sig;
  if (new_sender >= 0)
    pm->content.sender.index = (uint32_t)new_sender;
  mls_framing_ctx_t ctx;
  cr_assert_eq(grp_framing(as, &ctx), 0);
  out->len = 0;
  cr_assert_eq(mls_public_encode_signed(&ctx, &pm->content, &auth, out), 0);
}

Test(mls_group, rejects_non_member_sender_state_unchanged) {
  reject_fx_t f;
  reject_setup(&f);
  W(msg);
  reframe(f.t.a.g, &f.commit2, &msg, 7, 0); /* leaf 7 does not exist */
  assert_rejected_unchanged(f.t.b.g, msg.buf, msg.len, VEIL_EMLS_NOT_MEMBER, &f);
  veil_writer_free(&msg);
  reject_free(&f);
}

Test(mls_group, rejects_forged_signature_state_unchanged) {
  reject_fx_t f;
  reject_setup(&f);
  W(msg);
  reframe(f.t.a.g, &f.commit2, &msg, -1, 1); /* valid membership tag, bad signature */
  assert_rejected_unchanged(f.t.b.g, msg.buf, msg.len, VEIL_EMLS_SIGNATURE, &f);
  /* A signature by another member's key under A's sender index: also forged. */
  reframe(f.t.a.g, &f.commit2, &msg, (int)mls_group_own_leaf(f.t.c.g), 0);
  assert_rejected_unchanged(f.t.b.g, msg.buf, msg.len, VEIL_EMLS_SIGNATURE, &f);
  /* The genuine Commit still goes through afterwards. */
  cr_assert_eq(process(f.t.b.g, &f.commit2, NULL), 0);
  cr_assert_eq(mls_group_merge_pending(f.t.a.g), 0);
  assert_same_epoch(f.t.a.g, f.t.b.g);
  veil_writer_free(&msg);
  reject_free(&f);
}

Test(mls_group, rejects_tampered_membership_tag_state_unchanged) {
  reject_fx_t f;
  reject_setup(&f);
  f.commit2.buf[f.commit2.len - 1] ^= 1; /* the membership tag is the last field */
  assert_rejected_unchanged(f.t.b.g, f.commit2.buf, f.commit2.len, VEIL_EMLS_MEMBERSHIP_TAG, &f);
  reject_free(&f);
}

Test(mls_group, rejects_replayed_commit_state_unchanged) {
  reject_fx_t f;
  reject_setup(&f);
  cr_assert_eq(process(f.t.b.g, &f.commit2, NULL), 0);
  assert_rejected_unchanged(f.t.b.g, f.commit2.buf, f.commit2.len, VEIL_EMLS_COMMIT_REPLAY, &f);
  reject_free(&f);
}

Test(mls_group, rejects_commit_for_stale_epoch_state_unchanged) {
  reject_fx_t f;
  reject_setup(&f);
  cr_assert_eq(process(f.t.b.g, &f.commit2, NULL), 0);
  cr_assert_eq(mls_group_merge_pending(f.t.a.g), 0);
  W(commit3);
  cr_assert_eq(mls_group_commit(f.t.a.g, NULL, &commit3, NULL), 0);
  cr_assert_eq(process(f.t.b.g, &commit3, NULL), 0);
  /* commit1 made epoch 1; B is at epoch 3 now. */
  assert_rejected_unchanged(f.t.b.g, f.t.commit1.buf, f.t.commit1.len, VEIL_EMLS_STALE_EPOCH, &f);
  /* A competing Commit for an epoch already closed (C committed too late). */
  W(late);
  cr_assert_eq(mls_group_commit(f.t.c.g, NULL, &late, NULL), 0);
  assert_rejected_unchanged(f.t.b.g, late.buf, late.len, VEIL_EMLS_STALE_EPOCH, &f);
  veil_writer_free(&late);
  veil_writer_free(&commit3);
  reject_free(&f);
}

Test(mls_group, rejects_bad_confirmation_tag_state_unchanged) {
  reject_fx_t f;
  reject_setup(&f);
  mls_message_t m;
  cr_assert_eq(mls_message_parse(f.commit2.buf, f.commit2.len, &m), 0);
  mls_public_message_t *pm = &m.u.public_message;
  uint8_t tag[MLS_HASH_MAX];
  memcpy(tag, pm->auth.confirmation_tag.ptr, pm->auth.confirmation_tag.len);
  tag[0] ^= 1;
  mls_framed_content_auth_t auth = pm->auth;
  auth.confirmation_tag.ptr = tag;
  mls_framing_ctx_t ctx;
  cr_assert_eq(grp_framing(f.t.a.g, &ctx), 0);
  W(msg);
  cr_assert_eq(mls_public_encode_signed(&ctx, &pm->content, &auth, &msg), 0);
  assert_rejected_unchanged(f.t.b.g, msg.buf, msg.len, VEIL_EMLS_CONFIRMATION_TAG, &f);
  veil_writer_free(&msg);
  reject_free(&f);
}

Test(mls_group, rejects_message_for_future_epoch_and_other_group) {
  reject_fx_t f;
  reject_setup(&f);
  cr_assert_eq(mls_group_merge_pending(f.t.a.g), 0);
  W(app);
  cr_assert_eq(mls_group_protect(f.t.a.g, (const uint8_t *)"x", 1, NULL, 0, &app), 0);
  assert_rejected_unchanged(f.t.b.g, app.buf, app.len, VEIL_EMLS_FUTURE_EPOCH, &f);
  mls_group_t *other = NULL;
  mls_identity_t id = basic_id("eve");
  cr_assert_eq(mls_group_create(1, (const uint8_t *)"room-2", 6, &id, NULL, &other), 0);
  assert_rejected_unchanged(other, app.buf, app.len, VEIL_EMLS_WRONG_GROUP, &f);
  mls_group_free(other);
  veil_writer_free(&app);
  reject_free(&f);
}

Test(mls_group, commit_cannot_remove_the_committer_or_add_a_member_twice) {
  trio_t t;
  trio_setup(&t, 1);
  W(c);
  uint32_t me = mls_group_own_leaf(t.a.g);
  mls_commit_opts_t o = {.remove_leaves = &me, .n_remove = 1};
  cr_assert_eq(mls_group_commit(t.a.g, &o, &c, NULL), VEIL_EMLS_PROPOSAL_LIST);
  veil_view_t kp = {t.b.kpmsg.buf, t.b.kpmsg.len}; /* B is already a member */
  mls_commit_opts_t o2 = {.add_key_packages = &kp, .n_add = 1};
  cr_assert_eq(mls_group_commit(t.a.g, &o2, &c, NULL), VEIL_EMLS_PROPOSAL_LIST);
  cr_assert_eq(c.len, 0, "nothing written on refusal");
  cr_assert_eq(mls_group_has_pending(t.a.g), 0);
  veil_writer_free(&c);
  trio_free(&t);
}

Test(mls_group, state_survives_serialize_and_resume) {
  trio_t t;
  trio_setup(&t, 2);
  W(s);
  W(app);
  /* B has consumed a generation; the resumed copy must not reuse it. */
  cr_assert_eq(mls_group_protect(t.b.g, (const uint8_t *)"one", 3, NULL, 0, &app), 0);
  cr_assert_eq(process(t.a.g, &app, NULL), 0);
  state_of(t.b.g, &s);
  mls_group_t *b2 = NULL;
  cr_assert_eq(mls_group_deserialize(s.buf, s.len, NULL, &b2), 0);
  W(s2);
  state_of(b2, &s2);
  cr_assert_eq(s.len, s2.len);
  cr_assert(memcmp(s.buf, s2.buf, s.len) == 0, "round trip is exact");
  app.len = 0;
  cr_assert_eq(mls_group_protect(b2, (const uint8_t *)"two", 3, NULL, 0, &app), 0);
  mls_processed_t r;
  cr_assert_eq(process(t.a.g, &app, &r), 0);
  cr_assert(memcmp(r.data.buf, "two", 3) == 0);
  mls_processed_free(&r);
  /* The resumed member follows a Commit. */
  W(c);
  cr_assert_eq(mls_group_commit(t.a.g, NULL, &c, NULL), 0);
  cr_assert_eq(process(b2, &c, NULL), 0);
  cr_assert_eq(mls_group_merge_pending(t.a.g), 0);
  assert_same_epoch(t.a.g, b2);
  /* Truncated or altered blobs are refused. */
  mls_group_t *bad = NULL;
  cr_assert_eq(mls_group_deserialize(s.buf, s.len - 1, NULL, &bad), VEIL_EMLS_STATE_BLOB);
  s.buf[0] ^= 1;
  cr_assert_eq(mls_group_deserialize(s.buf, s.len, NULL, &bad), VEIL_EMLS_STATE_BLOB);
  /* A well-formed blob whose ratchet tree is not the one its GroupContext commits to
   * (carol's leaf gone) is refused too. */
  cr_assert_eq(mls_tree_remove(b2->tree, 2), 0);
  state_of(b2, &s2);
  cr_assert_eq(mls_group_deserialize(s2.buf, s2.len, NULL, &bad), VEIL_EMLS_STATE_BLOB);
  cr_assert_null(bad);
  mls_group_free(b2);
  veil_writer_free(&s);
  veil_writer_free(&s2);
  veil_writer_free(&app);
  veil_writer_free(&c);
  trio_free(&t);
}

Test(mls_group, external_commit_joins_from_group_info) {
  trio_t t;
  trio_setup(&t, 1);
  W(gi);
  cr_assert_eq(mls_group_group_info(t.a.g, 1, &gi), 0);
  mls_identity_t id = basic_id("erin");
  mls_group_t *e = NULL;
  W(commit);
  cr_assert_eq(mls_group_join_external(gi.buf, gi.len, NULL, 0, 1, &id, NULL, &commit, &e), 0);
  cr_assert_eq(process(t.a.g, &commit, NULL), 0);
  cr_assert_eq(process(t.b.g, &commit, NULL), 0);
  assert_same_epoch(t.a.g, e);
  assert_same_epoch(t.b.g, e);
  cr_assert_eq(mls_group_member_count(t.a.g), 4);
  W(app);
  cr_assert_eq(mls_group_protect(e, (const uint8_t *)"hello", 5, NULL, 0, &app), 0);
  mls_processed_t r;
  cr_assert_eq(process(t.c.g, &commit, NULL), 0);
  cr_assert_eq(process(t.c.g, &app, &r), 0);
  cr_assert_eq(r.sender, mls_group_own_leaf(e));
  mls_processed_free(&r);
  /* Replaying the external Commit is refused. */
  cr_assert_eq(process(t.b.g, &commit, NULL), VEIL_EMLS_COMMIT_REPLAY);
  mls_group_free(e);
  veil_writer_free(&gi);
  veil_writer_free(&commit);
  veil_writer_free(&app);
  trio_free(&t);
}

Test(mls_group, credential_validator_refuses_add) {
  mls_group_config_t cfg = {.validate_credential = reject_mallory};
  mls_identity_t id = basic_id("alice");
  mls_group_t *g = NULL;
  cr_assert_eq(mls_group_create(1, (const uint8_t *)"r", 1, &id, &cfg, &g), 0);
  member_t m;
  make_kp(&m, 1, "mallory");
  veil_view_t kp = {m.kpmsg.buf, m.kpmsg.len};
  mls_commit_opts_t o = {.add_key_packages = &kp, .n_add = 1};
  W(c);
  cr_assert_eq(mls_group_commit(g, &o, &c, NULL), VEIL_EMLS_CREDENTIAL);
  veil_writer_free(&c);
  member_free(&m);
  mls_group_free(g);
}

static const uint8_t CAROL_KEY[32] = {
    0xe0, 0x21, 0x1f, 0x55, 0xdc, 0x63, 0xbf, 0x87, 0xed, 0xc7, 0x28, 0xc6, 0xc3, 0xa2, 0x1b, 0x9c,
    0x43, 0xc8, 0x51, 0xf6, 0xc1, 0x30, 0x54, 0x82, 0x73, 0xe5, 0x12, 0x65, 0xa4, 0xe0, 0x44, 0xef};

/* An x509 credential holding carol-ed25519.pem (leaf only). */
static void carol_cred(mls_identity_t *id, veil_writer_t *certs, veil_view_t *der) {
  FILE *f = fopen(FIXTURES "/carol-ed25519.pem", "rb");
  cr_assert_not_null(f);
  char pem[8192];
  size_t n = fread(pem, 1, sizeof(pem), f);
  fclose(f);
  cr_assert_eq(x509_pem_to_der(pem, n, der, 1), 1);
  cr_assert_eq(mls_write_opaque(certs, *der), 0);
  memset(id, 0, sizeof(*id));
  id->credential.type = MLS_CRED_X509;
  id->credential.certificates = mls_list_from_writer(certs, 1);
}



Test(mls_group, x509_credential_needs_the_certificate_key_as_signature_key) {
  mls_identity_t id;
  veil_view_t der;
  W(certs);
  carol_cred(&id, &certs, &der);
  W(kpmsg);
  mls_keypackage_priv_t *kp = NULL;
  /* A fresh signature key is not the certificate's key. */
  cr_assert_eq(mls_keypackage_create(1, &id, 0, &kpmsg, &kp), VEIL_EMLS_X509_KEY);
  /* Suite 2 signs with P-256, the certificate holds an Ed25519 key. */
  id.sig_priv = NULL;
  cr_assert_eq(mls_keypackage_create(2, &id, 0, &kpmsg, &kp), VEIL_EMLS_X509_KEY);
  /* Carol's own key: accepted, and a group takes her in. */
  id.sig_priv = CAROL_KEY;
  cr_assert_eq(mls_keypackage_create(1, &id, 0, &kpmsg, &kp), 0);
  mls_identity_t ida = basic_id("alice");
  mls_group_t *g = NULL;
  cr_assert_eq(mls_group_create(1, (const uint8_t *)"r", 1, &ida, NULL, &g), 0);
  veil_view_t kv = {kpmsg.buf, kpmsg.len};
  mls_commit_opts_t o = {.add_key_packages = &kv, .n_add = 1};
  W(c);
  W(w);
  cr_assert_eq(mls_group_commit(g, &o, &c, &w), 0);
  cr_assert_eq(mls_group_merge_pending(g), 0);
  const mls_leaf_node_t *leaf = mls_group_member(g, 1);
  cr_assert_not_null(leaf);
  cr_assert_eq(leaf->credential.type, MLS_CRED_X509);
  free((void *)der.ptr);
  mls_keypackage_priv_free(kp);
  mls_group_free(g);
  veil_writer_free(&certs);
  veil_writer_free(&kpmsg);
  veil_writer_free(&c);
  veil_writer_free(&w);
}

Test(mls_group, keypackage_private_state_round_trips_and_checks_keys) {
  member_t m;
  make_kp(&m, 3, "kim");
  W(s);
  cr_assert_eq(mls_keypackage_priv_serialize(m.kp, &s), 0);
  mls_keypackage_priv_t *k2 = NULL;
  cr_assert_eq(mls_keypackage_priv_deserialize(s.buf, s.len, &k2), 0);
  veil_view_t a = mls_keypackage_priv_public(m.kp), b = mls_keypackage_priv_public(k2);
  cr_assert_eq(a.len, b.len);
  cr_assert(memcmp(a.ptr, b.ptr, a.len) == 0);
  mls_keypackage_priv_free(k2);
  s.buf[s.len - 1] ^= 1; /* init private key no longer matches init_key */
  cr_assert_eq(mls_keypackage_priv_deserialize(s.buf, s.len, &k2), VEIL_EMLS_STATE_BLOB);
  veil_writer_free(&s);
  member_free(&m);
}

Test(mls_group, rejects_commit_referencing_unknown_proposal_state_unchanged) {
  reject_fx_t f;
  reject_setup(&f);
  mls_group_discard_pending(f.t.a.g);
  W(prop);
  W(c);
  /* A proposes removing C but B never receives the proposal. */
  cr_assert_eq(mls_group_propose_remove(f.t.a.g, mls_group_own_leaf(f.t.c.g), &prop), 0);
  cr_assert_eq(mls_group_commit(f.t.a.g, NULL, &c, NULL), 0);
  assert_rejected_unchanged(f.t.b.g, c.buf, c.len, VEIL_EMLS_UNKNOWN_PROPOSAL, &f);
  /* With the proposal, the same Commit is accepted. */
  cr_assert_eq(process(f.t.b.g, &prop, NULL), 0);
  cr_assert_eq(process(f.t.b.g, &c, NULL), 0);
  cr_assert_eq(mls_group_merge_pending(f.t.a.g), 0);
  assert_same_epoch(f.t.a.g, f.t.b.g);
  cr_assert_eq(mls_group_member_count(f.t.b.g), 2);
  veil_writer_free(&prop);
  veil_writer_free(&c);
  reject_free(&f);
}

Test(mls_group, rejects_remove_commit_without_path_state_unchanged) {
  reject_fx_t f;
  reject_setup(&f);
  mls_group_discard_pending(f.t.a.g);
  W(c);
  uint32_t rm = mls_group_own_leaf(f.t.c.g);
  mls_commit_opts_t o = {.remove_leaves = &rm, .n_remove = 1};
  cr_assert_eq(mls_group_commit(f.t.a.g, &o, &c, NULL), 0);
  /* The same Commit with its path stripped, re-signed by A (a buggy or hostile member). */
  mls_message_t m;
  cr_assert_eq(mls_message_parse(c.buf, c.len, &m), 0);
  mls_public_message_t *pm = &m.u.public_message;
  cr_assert(pm->content.commit.has_path);
  pm->content.commit.has_path = 0;
  mls_framing_ctx_t ctx;
  cr_assert_eq(grp_framing(f.t.a.g, &ctx), 0);
  uint8_t sig[MLS_SIG_MAX];
  size_t sig_len = 0;
  cr_assert_eq(mls_framing_sign(&ctx, MLS_WF_PUBLIC_MESSAGE, &pm->content, f.t.a.g->sig_priv, sig,
                                &sig_len), 0);
  mls_framed_content_auth_t auth = {{sig, sig_len}, pm->auth.confirmation_tag};
  W(msg);
  cr_assert_eq(mls_public_encode_signed(&ctx, &pm->content, &auth, &msg), 0);
  assert_rejected_unchanged(f.t.b.g, msg.buf, msg.len, VEIL_EMLS_PATH_REQUIRED, &f);
  veil_writer_free(&msg);
  veil_writer_free(&c);
  reject_free(&f);
}

/* Every single-byte corruption of a Commit is refused and leaves the receiver's state
 * exactly as it was (the signature, membership tag or a structural check catches it). */
Test(mls_group, every_corrupted_commit_byte_is_refused_without_state_change, .timeout = 120) {
  reject_fx_t f;
  reject_setup(&f);
  W(m);
  state_of(f.t.b.g, &f.before);
  for (size_t i = 0; i < f.commit2.len; i++) {
    m.len = 0;
    cr_assert_eq(veil_write_bytes(&m, f.commit2.buf, f.commit2.len), 0);
    m.buf[i] ^= 0x01;
    mls_processed_t r;
    int rc = mls_group_process(f.t.b.g, m.buf, m.len, &r);
    cr_assert_neq(rc, 0, "corruption at byte %zu accepted", i);
    state_of(f.t.b.g, &f.after);
    cr_assert(f.before.len == f.after.len && memcmp(f.before.buf, f.after.buf, f.before.len) == 0,
              "state changed by corruption at byte %zu", i);
  }
  cr_assert_eq(process(f.t.b.g, &f.commit2, NULL), 0, "the genuine Commit still applies");
  veil_writer_free(&m);
  reject_free(&f);
}

/* A saved state with any byte changed or cut short is either refused or loads into a
 * usable group: never a crash or an out-of-bounds read (run under ASan). */
Test(mls_group, corrupted_state_blobs_never_crash, .timeout = 120) {
  trio_t t;
  trio_setup(&t, 1);
  W(s);
  W(m);
  state_of(t.b.g, &s);
  for (size_t i = 0; i < s.len; i += 3) {
    m.len = 0;
    cr_assert_eq(veil_write_bytes(&m, s.buf, s.len), 0);
    m.buf[i] ^= 0x80;
    mls_group_t *g = NULL;
    if (mls_group_deserialize(m.buf, m.len, NULL, &g) == 0)
      mls_group_free(g);
    g = NULL;
    cr_assert_neq(mls_group_deserialize(s.buf, i, NULL, &g), 0, "prefix of %zu bytes loaded", i);
  }
  veil_writer_free(&s);
  veil_writer_free(&m);
  trio_free(&t);
}

Test(mls_group, pending_commit_survives_a_restart_and_merges_when_it_comes_back) {
  trio_t t;
  trio_setup(&t, 1);
  W(c);
  W(s);
  cr_assert_eq(mls_group_commit(t.a.g, NULL, &c, NULL), 0);
  state_of(t.a.g, &s); /* crash after sending the Commit */
  mls_group_t *a2 = NULL;
  cr_assert_eq(mls_group_deserialize(s.buf, s.len, NULL, &a2), 0);
  cr_assert_eq(mls_group_has_pending(a2), 1);
  cr_assert_eq(process(t.b.g, &c, NULL), 0);
  mls_processed_t r;
  cr_assert_eq(process(a2, &c, &r), 0, "the accepted Commit merges from the saved state");
  cr_assert_eq(r.sender, mls_group_own_leaf(a2));
  assert_same_epoch(a2, t.b.g);
  mls_group_free(a2);
  veil_writer_free(&c);
  veil_writer_free(&s);
  trio_free(&t);
}

/* B proposes removing A and removing C; A commits with its own Remove of C: A leaves out
 * the proposal it cannot commit (its own removal) and the duplicate, and the Commit is
 * valid for everyone. */
Test(mls_group, committer_leaves_out_cached_proposals_it_cannot_commit) {
  trio_t t;
  trio_setup(&t, 1);
  W(p1);
  W(p2);
  W(c);
  cr_assert_eq(mls_group_propose_remove(t.b.g, mls_group_own_leaf(t.a.g), &p1), 0);
  cr_assert_eq(mls_group_propose_remove(t.b.g, mls_group_own_leaf(t.c.g), &p2), 0);
  cr_assert_eq(process(t.a.g, &p1, NULL), 0);
  cr_assert_eq(process(t.a.g, &p2, NULL), 0);
  uint32_t rm = mls_group_own_leaf(t.c.g);
  mls_commit_opts_t o = {.remove_leaves = &rm, .n_remove = 1};
  cr_assert_eq(mls_group_commit(t.a.g, &o, &c, NULL), 0);
  cr_assert_eq(process(t.b.g, &c, NULL), 0);
  cr_assert_eq(mls_group_merge_pending(t.a.g), 0);
  assert_same_epoch(t.a.g, t.b.g);
  cr_assert_eq(mls_group_member_count(t.a.g), 2);
  veil_writer_free(&p1);
  veil_writer_free(&p2);
  veil_writer_free(&c);
  trio_free(&t);
}

/* Every member can derive every sender's keys: C forges application data "from A" that
 * decrypts but fails the signature check. B refuses it with the state unchanged, and A's
 * genuine message of that generation still decrypts. */
Test(mls_group, forged_private_message_does_not_burn_the_genuine_key) {
  reject_fx_t f;
  reject_setup(&f);
  mls_group_discard_pending(f.t.a.g);
  mls_framing_ctx_t ctx;
  cr_assert_eq(grp_framing(f.t.c.g, &ctx), 0);
  veil_view_t gid = mls_group_id(f.t.c.g);
  mls_framed_content_t c = {.group_id = gid,
                            .epoch = mls_group_epoch(f.t.c.g),
                            .sender = {MLS_SENDER_MEMBER, mls_group_own_leaf(f.t.a.g)},
                            .content_type = MLS_CT_APPLICATION,
                            .application_data = {(const uint8_t *)"forged", 6}};
  W(forged);
  cr_assert_eq(mls_private_protect(&ctx, &c, f.t.c.g->sig_priv, (veil_view_t){NULL, 0}, &forged),
               0);
  assert_rejected_unchanged(f.t.b.g, forged.buf, forged.len, VEIL_EMLS_SIGNATURE, &f);
  W(genuine);
  cr_assert_eq(mls_group_protect(f.t.a.g, (const uint8_t *)"genuine", 7, NULL, 0, &genuine), 0);
  mls_processed_t r;
  cr_assert_eq(process(f.t.b.g, &genuine, &r), 0);
  cr_assert_eq(r.data.len, 7);
  cr_assert(memcmp(r.data.buf, "genuine", 7) == 0);
  mls_processed_free(&r);
  veil_writer_free(&forged);
  veil_writer_free(&genuine);
  reject_free(&f);
}

/* §7.3 / §10.1: a KeyPackage outside its lifetime is refused when the group knows the
 * time (config.now), and accepted inside it. */
Test(mls_group, expired_keypackage_is_refused) {
  const uint64_t t0 = 1700000000;
  mls_group_config_t late = {.now = t0 + 100ull * 86400}, ok = {.now = t0 + 86400};
  mls_identity_t ida = basic_id("alice"), idb = basic_id("bob");
  mls_group_t *g1 = NULL, *g2 = NULL;
  cr_assert_eq(mls_group_create(1, (const uint8_t *)"r", 1, &ida, &late, &g1), 0);
  cr_assert_eq(mls_group_create(1, (const uint8_t *)"r", 1, &ida, &ok, &g2), 0);
  W(kpw);
  mls_keypackage_priv_t *kp = NULL;
  cr_assert_eq(mls_keypackage_create(1, &idb, t0, &kpw, &kp), 0); /* valid until t0 + 90 d */
  veil_view_t v = {kpw.buf, kpw.len};
  mls_commit_opts_t o = {.add_key_packages = &v, .n_add = 1};
  W(c);
  cr_assert_neq(mls_group_commit(g1, &o, &c, NULL), 0);
  cr_assert_eq(mls_group_has_pending(g1), 0);
  cr_assert_eq(mls_group_commit(g2, &o, &c, NULL), 0);
  veil_writer_free(&kpw);
  veil_writer_free(&c);
  mls_keypackage_priv_free(kp);
  mls_group_free(g1);
  mls_group_free(g2);
}

/* §7.3: a KeyPackage whose leaf reuses a member's encryption key (re-signed by its own
 * key, so it is otherwise valid) is never committed: the committer refuses it before any
 * peer would have to, with DUP_KEY, and its state is unchanged. */
Test(mls_group, add_reusing_a_members_encryption_key_is_refused) {
  trio_t t;
  trio_setup(&t, 2);
  member_t d;
  make_kp(&d, 2, "dave");
  mls_key_package_t kp;
  veil_view_t bare;
  cr_assert_eq(grp_parse_key_package(d.kpmsg.buf, d.kpmsg.len, &kp, &bare), 0);
  const mls_suite_t *s = t.a.g->suite;
  kp.leaf_node.encryption_key = mls_tree_leaf(t.a.g->tree, 1)->encryption_key; /* bob's */
  W(tbs);
  uint8_t leaf_sig[MLS_SIG_MAX], kp_sig[MLS_SIG_MAX];
  size_t ls, ks;
  cr_assert_eq(mls_leaf_node_encode_tbs(&tbs, &kp.leaf_node, (veil_view_t){0}, 0), 0);
  cr_assert_eq(mls_sign_with_label(s, d.kp->sig_priv, "LeafNodeTBS", tbs.buf, tbs.len, leaf_sig, &ls), 0);
  kp.leaf_node.signature = (veil_view_t){leaf_sig, ls};
  tbs.len = 0;
  cr_assert_eq(mls_key_package_encode_tbs(&tbs, &kp), 0);
  cr_assert_eq(mls_sign_with_label(s, d.kp->sig_priv, "KeyPackageTBS", tbs.buf, tbs.len, kp_sig, &ks), 0);
  kp.signature = (veil_view_t){kp_sig, ks};
  W(forged);
  cr_assert_eq(mls_key_package_encode(&forged, &kp), 0);
  W(before);
  W(after);
  state_of(t.a.g, &before);
  W(c);
  W(w);
  veil_view_t v = {forged.buf, forged.len};
  mls_commit_opts_t o = {.add_key_packages = &v, .n_add = 1, .inline_tree = 1};
  cr_assert_eq(mls_group_commit(t.a.g, &o, &c, &w), VEIL_EMLS_DUP_KEY);
  state_of(t.a.g, &after);
  cr_assert(before.len == after.len && memcmp(before.buf, after.buf, before.len) == 0,
            "a refused commit changes nothing");
  /* the untouched KeyPackage is fine */
  v = (veil_view_t){d.kpmsg.buf, d.kpmsg.len};
  c.len = w.len = 0;
  cr_assert_eq(mls_group_commit(t.a.g, &o, &c, &w), 0);
  veil_writer_free(&tbs);
  veil_writer_free(&forged);
  veil_writer_free(&before);
  veil_writer_free(&after);
  veil_writer_free(&c);
  veil_writer_free(&w);
  member_free(&d);
  trio_free(&t);
}

/* §12.2: an Add of a client already in the group is valid when the same Commit removes
 * it — a member that lost its state rejoins under its certificate's key (the same
 * signature key) in one Commit, as the relay batches it (leaves + joins). */
Test(mls_group, rejoin_with_the_same_signature_key_in_one_commit) {
  trio_t t;
  trio_setup(&t, 2);
  mls_identity_t idb = basic_id("bob");
  idb.sig_priv = t.b.kp->sig_priv;
  W(kpmsg);
  mls_keypackage_priv_t *kp2 = NULL;
  cr_assert_eq(mls_keypackage_create(2, &idb, 0, &kpmsg, &kp2), 0);
  veil_view_t v = {kpmsg.buf, kpmsg.len};
  uint32_t bob = 1;
  W(c);
  W(w);
  /* alone, the Add is of a member: refused */
  mls_commit_opts_t add_only = {.add_key_packages = &v, .n_add = 1, .inline_tree = 1};
  cr_assert_eq(mls_group_commit(t.a.g, &add_only, &c, &w), VEIL_EMLS_PROPOSAL_LIST);
  /* with the Remove of bob's old leaf: one Commit */
  mls_commit_opts_t o = {.add_key_packages = &v, .n_add = 1, .remove_leaves = &bob, .n_remove = 1,
                         .inline_tree = 1};
  cr_assert_eq(mls_group_commit(t.a.g, &o, &c, &w), 0);
  cr_assert_eq(process(t.c.g, &c, NULL), 0, "carol takes it");
  cr_assert_eq(mls_group_merge_pending(t.a.g), 0);
  mls_group_t *b2 = NULL;
  cr_assert_eq(mls_group_join(w.buf, w.len, kp2, NULL, 0, NULL, &b2), 0);
  assert_same_epoch(t.a.g, t.c.g);
  assert_same_epoch(t.a.g, b2);
  cr_assert_eq(mls_group_member_count(t.a.g), 3);
  mls_group_free(b2);
  mls_keypackage_priv_free(kp2);
  veil_writer_free(&kpmsg);
  veil_writer_free(&c);
  veil_writer_free(&w);
  trio_free(&t);
}
