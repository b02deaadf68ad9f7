/* Received Commits that break RFC 9420 §12.2–§12.4 or §7.3 are refused, each with the
 * code the receiver gives for it, and leave the receiver's state byte-identical.
 *
 * The forger is a real malicious member: B, holding only its own state (signature
 * private key, epoch secrets through the framing context). It builds a FramedContent
 * with the Commit it wants, signs it and adds the membership tag (mls_public_protect),
 * so signature and membership tag are valid and the receiver (A) must refuse the
 * message for its content. Where the Commit needs an UpdatePath, B takes one from a
 * real Commit of its own (mls_group_commit, then discarded).
 *
 * The receiver checks, in order (group_process.c process_commit): proposal references,
 * the proposal list (§12.2), path required (§12.4), staging on a copy, the committer's
 * new leaf (§7.3), the path merge (source, parent hash), key uniqueness, path
 * decryption, and the confirmation tag last. So a forged Commit carries a garbage
 * confirmation tag: a content check that let it through would surface as a different
 * code (at the latest VEIL_EMLS_CONFIRMATION_TAG), never as the one asserted.
 *
 * Where only a receiver's check can stand in the way, B goes further and derives the
 * true confirmation tag (and, if needed, a fresh UpdatePath) itself, as a modified
 * client would: forge_commit_tagged.
 *
 * Ed25519 (suite 1) signs deterministically: the positive controls show that the
 * forging helpers, given a real Commit's content and tag, give back its exact bytes,
 * which the receiver accepts; and forge_commit_tagged's Commits are accepted when
 * their content is valid. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/group_epoch.h"
#include "tests/unit/mls/group_fixture.h"

#define SUITE 1

typedef struct forge {
  trio_t t;
  mls_group_t *m;       /* borrowed: the forging committer (B) */
  mls_group_t *r;       /* borrowed: the receiver (A) */
  veil_writer_t props;  /* the ProposalOrRef list being built */
  uint32_t n_props;
  veil_writer_t real;   /* a real Commit of m, source of an UpdatePath or a tag */
  mls_public_message_t real_pm; /* its parsed PublicMessage (views into real) */
  veil_writer_t msg;    /* the forged MLSMessage */
  veil_writer_t before, after;
} forge_t;

static const uint8_t GARBAGE_TAG[MLS_HASH_MAX] = {0x5a, 0x5a, 0x5a, 0x5a};

static void forge_setup(forge_t *f) {
  memset(f, 0, sizeof(*f));
  trio_setup(&f->t, SUITE);
  f->m = f->t.b.g;
  f->r = f->t.a.g;
  veil_writer_init_growable(&f->props, 0);
  veil_writer_init_growable(&f->real, 0);
  veil_writer_init_growable(&f->msg, 0);
  veil_writer_init_growable(&f->before, 0);
  veil_writer_init_growable(&f->after, 0);
}

static void forge_free(forge_t *f) {
  veil_writer_free(&f->props);
  veil_writer_free(&f->real);
  veil_writer_free(&f->msg);
  veil_writer_free(&f->before);
  veil_writer_free(&f->after);
  trio_free(&f->t);
}

/* A real Commit of the forger (opts may be NULL), kept parsed in f->real_pm; the
 * forger's pending state is dropped (its epoch stays). */
static void real_commit(forge_t *f, const mls_commit_opts_t *opts) {
  f->real.len = 0;
  cr_assert_eq(mls_group_commit(f->m, opts, &f->real, NULL), 0);
  mls_group_discard_pending(f->m);
  mls_message_t mm;
  cr_assert_eq(mls_message_parse(f->real.buf, f->real.len, &mm), 0);
  f->real_pm = mm.u.public_message;
}

/* A real Commit with an UpdatePath and nothing else (a self update). */
static const mls_update_path_t *real_path(forge_t *f) {
  mls_commit_opts_t o = {.force_path = 1};
  real_commit(f, &o);
  cr_assert(f->real_pm.content.commit.has_path);
  return &f->real_pm.content.commit.path;
}

static veil_view_t real_tag(const forge_t *f) { return f->real_pm.auth.confirmation_tag; }

static veil_view_t garbage_tag(const forge_t *f) {
  return (veil_view_t){GARBAGE_TAG, f->m->suite->nh};
}

static void by_value(forge_t *f, const mls_proposal_t *p) {
  mls_proposal_or_ref_t por = {.type = MLS_POR_PROPOSAL, .proposal = *p};
  cr_assert_eq(mls_proposal_or_ref_encode(&f->props, &por), 0);
  f->n_props++;
}

static void by_ref(forge_t *f, const uint8_t *ref) {
  mls_proposal_or_ref_t por = {.type = MLS_POR_REFERENCE,
                               .reference = {ref, f->m->suite->nh}};
  cr_assert_eq(mls_proposal_or_ref_encode(&f->props, &por), 0);
  f->n_props++;
}

static void remove_leaf(forge_t *f, uint32_t leaf) {
  mls_proposal_t p = {.type = MLS_PROP_REMOVE, .u.remove = leaf};
  by_value(f, &p);
}

/* An Add of an MLSMessage(KeyPackage) or bare KeyPackage (encoded at once: `kp` need
 * not outlive the call). */
static void add_kp(forge_t *f, const uint8_t *kp, size_t len) {
  mls_proposal_t p = {.type = MLS_PROP_ADD};
  cr_assert_eq(grp_parse_key_package(kp, len, &p.u.add, NULL), 0);
  by_value(f, &p);
}

static void add_gce(forge_t *f, const mls_extension_t *exts, uint32_t n) {
  W(body);
  for (uint32_t i = 0; i < n; i++)
    cr_assert_eq(mls_extension_encode(&body, &exts[i]), 0);
  mls_proposal_t p = {.type = MLS_PROP_GROUP_CONTEXT_EXTENSIONS,
                      .u.group_context_extensions = mls_list_from_writer(&body, n)};
  by_value(f, &p);
  veil_writer_free(&body);
}

/* Frames the proposals gathered so far (then cleared) and `path` (NULL: none) as the
 * forger's Commit for its current epoch: signed with its key, membership tag under its
 * epoch's membership_key, `tag` as confirmation tag. Into f->msg. */
static void forge_commit(forge_t *f, const mls_update_path_t *path, veil_view_t tag) {
  mls_framed_content_t c = {.group_id = mls_group_id(f->m),
                            .epoch = mls_group_epoch(f->m),
                            .sender = {MLS_SENDER_MEMBER, mls_group_own_leaf(f->m)},
                            .content_type = MLS_CT_COMMIT};
  c.commit.proposals = mls_list_from_writer(&f->props, f->n_props);
  if (path) {
    c.commit.has_path = 1;
    c.commit.path = *path;
  }
  mls_framing_ctx_t ctx;
  cr_assert_eq(grp_framing(f->m, &ctx), 0);
  f->msg.len = 0;
  cr_assert_eq(mls_public_protect(&ctx, &c, f->m->sig_priv, tag, &f->msg), 0);
  f->props.len = 0;
  f->n_props = 0;
}

/* The forger's new commit-source leaf for `u`: its current leaf with the path's key and
 * parent hash and, when ext_cap is not 0, capabilities.extensions = {ext_cap} (a client
 * may announce what it likes; mls_group_commit keeps the old list). Into `out`. */
static void own_commit_leaf(const mls_group_t *m, const mls_treekem_update_t *u, uint16_t ext_cap,
                            veil_writer_t *out) {
  const mls_suite_t *s = m->suite;
  uint32_t me = mls_group_own_leaf(m);
  mls_leaf_node_t ln = *mls_tree_leaf(m->tree, me);
  uint8_t cap[2] = {(uint8_t)(ext_cap >> 8), (uint8_t)ext_cap};
  if (ext_cap)
    ln.capabilities.extensions = (mls_list_t){{cap, 2}, 1};
  ln.encryption_key = (veil_view_t){u->leaf_pub, s->hpke_pk_len};
  ln.source = MLS_LEAF_SRC_COMMIT;
  ln.lifetime = (mls_lifetime_t){0, 0};
  ln.parent_hash = (veil_view_t){u->leaf_parent_hash, u->leaf_parent_hash_len};
  W(tbs);
  uint8_t sig[MLS_SIG_MAX];
  size_t sig_len = 0;
  cr_assert_eq(mls_leaf_node_encode_tbs(&tbs, &ln, mls_group_id(m), me), 0);
  cr_assert_eq(mls_sign_with_label(s, m->sig_priv, "LeafNodeTBS", tbs.buf, tbs.len, sig, &sig_len),
               0);
  ln.signature = (veil_view_t){sig, sig_len};
  out->len = 0;
  cr_assert_eq(mls_leaf_node_encode(out, &ln), 0);
  veil_writer_free(&tbs);
}

/* Like forge_commit, but with the confirmation tag the Commit really has, and (with_path)
 * a fresh UpdatePath whose leaf is own_commit_leaf(ext_cap): the forger stages the
 * proposals itself, skipping the checks its own mls_group_commit makes (a modified
 * client), and derives the next epoch as every receiver will. Only a receiver's own
 * checks can then refuse the Commit. */
static void forge_commit_tagged(forge_t *f, int with_path, uint16_t ext_cap) {
  const mls_suite_t *s = f->m->suite;
  uint32_t me = mls_group_own_leaf(f->m);
  mls_framed_content_t c = {.group_id = mls_group_id(f->m),
                            .epoch = mls_group_epoch(f->m),
                            .sender = {MLS_SENDER_MEMBER, me},
                            .content_type = MLS_CT_COMMIT};
  c.commit.proposals = mls_list_from_writer(&f->props, f->n_props);
  grp_commit_in_t in = {.sender_type = MLS_SENDER_MEMBER, .committer = me};
  cr_assert_eq(grp_resolve_commit(f->m, &c.commit, MLS_SENDER_MEMBER, me, &in.props, &in.n_props),
               0);
  mls_group_t *next = NULL;
  uint32_t *added = NULL, n_psk = 0;
  size_t n_added = 0;
  int removed_me = 0;
  cr_assert_eq(grp_stage_commit(f->m, &in, 0, &next, &added, &n_added, &removed_me), 0);
  mls_treekem_update_t u = {0};
  W(leaf);
  W(prov);
  W(pathw);
  if (with_path) {
    cr_assert_eq(mls_treekem_prepare(next->tree, me, NULL, &u), 0);
    own_commit_leaf(f->m, &u, ext_cap, &leaf);
    cr_assert_eq(mls_tree_set_leaf_encoded(next->tree, me, leaf.buf, leaf.len), 0);
    cr_assert_eq(grp_provisional_gc(next, &f->m->transcript, &prov), 0);
    cr_assert_eq(mls_treekem_encrypt(next->tree, &u, mls_tree_leaf(next->tree, me), prov.buf,
                                     prov.len, added, n_added, &pathw),
                 0);
    veil_reader_t r;
    veil_reader_init(&r, pathw.buf, pathw.len);
    cr_assert_eq(mls_update_path_decode(&r, &c.commit.path), 0);
    cr_assert_eq(veil_reader_finish(&r), 0);
    c.commit.has_path = 1;
  }
  uint8_t psk_secret[MLS_HASH_MAX], sig[MLS_SIG_MAX], tag[MLS_HASH_MAX];
  size_t sig_len = 0;
  cr_assert_eq(grp_psk_secret(f->m, &in, psk_secret, NULL, &n_psk), 0);
  mls_framing_ctx_t ctx;
  cr_assert_eq(grp_framing(f->m, &ctx), 0);
  cr_assert_eq(mls_framing_sign(&ctx, MLS_WF_PUBLIC_MESSAGE, &c, f->m->sig_priv, sig, &sig_len),
               0);
  cr_assert_eq(grp_finish_epoch(f->m, next, &c, MLS_WF_PUBLIC_MESSAGE,
                                (veil_view_t){sig, sig_len}, with_path ? u.commit_secret : NULL,
                                psk_secret, NULL, NULL, 0, tag, NULL),
               0);
  mls_framed_content_auth_t auth = {{sig, sig_len}, {tag, s->nh}};
  f->msg.len = 0;
  cr_assert_eq(mls_public_encode_signed(&ctx, &c, &auth, &f->msg), 0);
  mls_treekem_update_wipe(&u);
  veil_writer_free(&leaf);
  veil_writer_free(&prov);
  veil_writer_free(&pathw);
  mls_group_free(next);
  free(added);
  free(in.props);
  f->props.len = 0;
  f->n_props = 0;
}

/* g refuses f->msg with `want`, its serialized state unchanged. */
static void assert_refused(forge_t *f, mls_group_t *g, int want) {
  state_of(g, &f->before);
  mls_processed_t r;
  int rc = mls_group_process(g, f->msg.buf, f->msg.len, &r);
  cr_assert_eq(rc, want, "got %d (%s), want %d (%s)", rc, veil_strerror(rc), want,
               veil_strerror(want));
  state_of(g, &f->after);
  cr_assert(f->before.len == f->after.len &&
                memcmp(f->before.buf, f->after.buf, f->before.len) == 0,
            "a refused Commit changed the state");
}

/* forge_commit, then the receiver refuses it with `want`, its state unchanged. */
static void forge_refused(forge_t *f, const mls_update_path_t *path, veil_view_t tag, int want) {
  forge_commit(f, path, tag);
  assert_refused(f, f->r, want);
}

static void assert_forged_is_real(const forge_t *f) {
  cr_assert_eq(f->msg.len, f->real.len);
  cr_assert(memcmp(f->msg.buf, f->real.buf, f->real.len) == 0,
            "the forging helpers do not rebuild the real Commit");
}

/* The forger's own leaf re-made with `source` and the path's encryption key, signed by
 * the forger over group id and leaf index (a commit source keeps the parent hash). The
 * leaf views into `buf`. */
static void remake_path_leaf(forge_t *f, const mls_update_path_t *in, uint8_t source,
                             mls_update_path_t *out, veil_writer_t *buf) {
  *out = *in;
  veil_view_t ph = source == MLS_LEAF_SRC_COMMIT ? in->leaf_node.parent_hash
                                                 : (veil_view_t){NULL, 0};
  buf->len = 0;
  cr_assert_eq(grp_remake_own_leaf(f->m, f->m->tree, in->leaf_node.encryption_key, source, ph,
                                   buf),
               0);
  veil_reader_t r;
  veil_reader_init(&r, buf->buf, buf->len);
  cr_assert_eq(mls_leaf_node_decode(&r, &out->leaf_node), 0);
  cr_assert_eq(veil_reader_finish(&r), 0);
}

/* ---- positive controls ------------------------------------------------------------------ */

Test(mls_commit_recv, forged_copy_of_a_real_remove_commit_is_identical_and_accepted) {
  forge_t f;
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
  const mls_update_path_t *path = real_path(&f);
  mls_extension_t e = {.type = 0xff00, .data = {(const uint8_t *)"x", 1}};
  add_gce(&f, &e, 1);
  forge_refused(&f, path, garbage_tag(&f), VEIL_EMLS_CAPABILITIES);
  forge_free(&f);
}

Test(mls_commit_recv, refuses_two_removes_of_one_leaf) {
  forge_t f;
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
  forge_setup(&f);
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
