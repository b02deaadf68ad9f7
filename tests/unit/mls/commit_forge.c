/* Forging Commits as a malicious member would (commit_forge.h). */
#include "tests/unit/mls/commit_forge.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t GARBAGE_TAG[MLS_HASH_MAX] = {0x5a, 0x5a, 0x5a, 0x5a};

void forge_setup(forge_t *f, uint16_t suite) {
  memset(f, 0, sizeof(*f));
  trio_setup(&f->t, suite);
  f->m = f->t.b.g;
  f->r = f->t.a.g;
  veil_writer_init_growable(&f->props, 0);
  veil_writer_init_growable(&f->real, 0);
  veil_writer_init_growable(&f->msg, 0);
  veil_writer_init_growable(&f->before, 0);
  veil_writer_init_growable(&f->after, 0);
}

void forge_free(forge_t *f) {
  veil_writer_free(&f->props);
  veil_writer_free(&f->real);
  veil_writer_free(&f->msg);
  veil_writer_free(&f->before);
  veil_writer_free(&f->after);
  trio_free(&f->t);
}

void real_commit(forge_t *f, const mls_commit_opts_t *opts) {
  f->real.len = 0;
  cr_assert_eq(mls_group_commit(f->m, opts, &f->real, NULL), 0);
  mls_group_discard_pending(f->m);
  mls_message_t mm;
  cr_assert_eq(mls_message_parse(f->real.buf, f->real.len, &mm), 0);
  f->real_pm = mm.u.public_message;
}

const mls_update_path_t *real_path(forge_t *f) {
  mls_commit_opts_t o = {.force_path = 1};
  real_commit(f, &o);
  cr_assert(f->real_pm.content.commit.has_path);
  return &f->real_pm.content.commit.path;
}

veil_view_t real_tag(const forge_t *f) { return f->real_pm.auth.confirmation_tag; }

veil_view_t garbage_tag(const forge_t *f) {
  return (veil_view_t){GARBAGE_TAG, f->m->suite->nh};
}

void by_value(forge_t *f, const mls_proposal_t *p) {
  mls_proposal_or_ref_t por = {.type = MLS_POR_PROPOSAL, .proposal = *p};
  cr_assert_eq(mls_proposal_or_ref_encode(&f->props, &por), 0);
  f->n_props++;
}

void by_ref(forge_t *f, const uint8_t *ref) {
  mls_proposal_or_ref_t por = {.type = MLS_POR_REFERENCE,
                               .reference = {ref, f->m->suite->nh}};
  cr_assert_eq(mls_proposal_or_ref_encode(&f->props, &por), 0);
  f->n_props++;
}

void remove_leaf(forge_t *f, uint32_t leaf) {
  mls_proposal_t p = {.type = MLS_PROP_REMOVE, .u.remove = leaf};
  by_value(f, &p);
}

void add_kp(forge_t *f, const uint8_t *kp, size_t len) {
  mls_proposal_t p = {.type = MLS_PROP_ADD};
  cr_assert_eq(grp_parse_key_package(kp, len, &p.u.add, NULL), 0);
  by_value(f, &p);
}

void add_gce(forge_t *f, const mls_extension_t *exts, uint32_t n) {
  W(body);
  for (uint32_t i = 0; i < n; i++)
    cr_assert_eq(mls_extension_encode(&body, &exts[i]), 0);
  mls_proposal_t p = {.type = MLS_PROP_GROUP_CONTEXT_EXTENSIONS,
                      .u.group_context_extensions = mls_list_from_writer(&body, n)};
  by_value(f, &p);
  veil_writer_free(&body);
}

void forge_commit(forge_t *f, const mls_update_path_t *path, veil_view_t tag) {
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

void forge_commit_tagged(forge_t *f, int with_path, uint16_t ext_cap) {
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

void assert_refused(forge_t *f, mls_group_t *g, int want) {
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

void forge_refused(forge_t *f, const mls_update_path_t *path, veil_view_t tag, int want) {
  forge_commit(f, path, tag);
  assert_refused(f, f->r, want);
}

void assert_forged_is_real(const forge_t *f) {
  cr_assert_eq(f->msg.len, f->real.len);
  cr_assert(memcmp(f->msg.buf, f->real.buf, f->real.len) == 0,
            "the forging helpers do not rebuild the real Commit");
}

void remake_path_leaf(forge_t *f, const mls_update_path_t *in, uint8_t source,
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