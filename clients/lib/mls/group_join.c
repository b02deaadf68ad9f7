/*
 * veil MLS group — joining: by Welcome (RFC 9420 §12.4.3.1) and by external Commit
 * (§12.4.3.2), and receiving an external Commit.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/group_epoch.h"

static const char EXTERNAL_INIT_LABEL[] = "MLS 1.0 external init secret";

/* Loads and checks the tree a joiner is given (§12.4.3.1): from the GroupInfo's
 * ratchet_tree extension or from the caller, fully validated, its hash equal to the
 * GroupContext's, every credential accepted, and the GroupInfo signed by its signer. */
static int load_tree(mls_group_t *g, const mls_group_info_t *gi, const uint8_t *rt,
                     size_t rt_len) {
  veil_view_t body;
  if (mls_extensions_find(&gi->extensions, MLS_EXT_RATCHET_TREE, &body) != 0) {
    if (!rt)
      return VEIL_ENOTFOUND;
    body = (veil_view_t){rt, rt_len};
  }
  int rc = mls_tree_parse(g->suite->id, body.ptr, body.len, &g->tree);
  if (rc)
    return rc;
  mls_list_t rq;
  mls_leaf_check_t chk = {.group_id = {g->group_id, g->group_id_len},
                          .required_capabilities = grp_required_caps(g, &rq),
                          .now = g->cfg.now};
  rc = mls_tree_validate(g->tree, &chk);
  if (rc)
    return rc;
  uint8_t th[MLS_HASH_MAX];
  rc = mls_tree_root_hash(g->tree, th);
  if (rc)
    return rc;
  const veil_view_t *want = &gi->group_context.tree_hash;
  if (want->len != g->suite->nh || memcmp(want->ptr, th, want->len) != 0)
    return VEIL_EMLS_TREE_HASH;
  for (uint32_t l = 0; l < mls_tree_leaf_count(g->tree); l++) {
    const mls_leaf_node_t *leaf = mls_tree_leaf(g->tree, l);
    if (leaf && (rc = grp_check_credential(g, leaf)) != 0)
      return rc;
  }
  const mls_leaf_node_t *signer = mls_tree_leaf(g->tree, gi->signer);
  if (!signer)
    return VEIL_EMLS_NOT_MEMBER;
  rc = mls_group_info_verify(g->suite, gi, signer->signature_key.ptr, signer->signature_key.len);
  return rc == VEIL_EVERIFY || rc == VEIL_EBADKEY ? VEIL_EMLS_SIGNATURE : rc;
}

/* The epoch-independent parts of a joiner's state from a GroupContext. */
static int take_context(mls_group_t *g, const mls_group_context_t *gc) {
  int rc = grp_set_group_id(g, gc->group_id.ptr, gc->group_id.len);
  if (rc == 0 && gc->extensions.raw.len)
    rc = veil_write_bytes(&g->gc_ext, gc->extensions.raw.ptr, gc->extensions.raw.len);
  g->gc_ext_count = gc->extensions.count;
  g->epoch = gc->epoch;
  if (rc == 0)
    rc = mls_group_context_encode(&g->gc, gc);
  return rc;
}

/* §12.4.3.1: the path secret names the lowest common ancestor of the joiner and the
 * signer; derive up the signer's filtered direct path from there, checking every public
 * key against the tree. */
static int take_path_secret(mls_group_t *g, uint32_t signer, veil_view_t ps_in) {
  const mls_suite_t *s = g->suite;
  uint32_t path[MLS_MAX_PATH], cop[MLS_MAX_PATH], n = 0, k;
  if (ps_in.len != s->nh)
    return VEIL_EDECODE;
  int rc = mls_tree_filtered_direct_path(g->tree, signer, path, cop, &n);
  if (rc)
    return rc;
  uint32_t lca = mls_tm_common_ancestor(mls_tm_leaf_to_node(g->priv.leaf_index),
                                        mls_tm_leaf_to_node(signer));
  for (k = 0; k < n && path[k] != lca; k++)
    ;
  if (k == n)
    return VEIL_EMLS_UPDATE_PATH;
  uint8_t ps[MLS_HASH_MAX], ns[MLS_HASH_MAX], sk[MLS_HPKE_SK_MAX], pk[MLS_HPKE_PK_MAX];
  memcpy(ps, ps_in.ptr, s->nh);
  for (uint32_t i = k; rc == 0 && i < n; i++) {
    veil_view_t want = mls_tree_encryption_key(g->tree, path[i]);
    rc = mls_derive_secret(s, ps, s->nh, "node", ns);
    if (rc == 0)
      rc = mls_derive_key_pair(s, ns, s->nh, sk, pk);
    if (rc == 0 && (want.len != s->hpke_pk_len || memcmp(want.ptr, pk, want.len) != 0))
      rc = VEIL_EMLS_UPDATE_PATH;
    if (rc == 0)
      rc = mls_tree_priv_set_path_secret(&g->priv, path[i], ps, s->nh);
    if (rc == 0)
      rc = mls_derive_secret(s, ps, s->nh, "path", ns);
    memcpy(ps, ns, s->nh);
  }
  vc_wipe(ps, sizeof(ps));
  vc_wipe(ns, sizeof(ns));
  vc_wipe(sk, sizeof(sk));
  return rc;
}

int mls_group_join(const uint8_t *welcome, size_t welcome_len, const mls_keypackage_priv_t *kp,
                   const uint8_t *ratchet_tree, size_t ratchet_tree_len,
                   const mls_group_config_t *cfg, mls_group_t **out) {
  if (!welcome || !kp || !out)
    return VEIL_EINVAL;
  const mls_suite_t *s = kp->suite;
  mls_message_t m;
  int rc = mls_message_parse(welcome, welcome_len, &m);
  if (rc)
    return rc;
  if (m.wire_format != MLS_WF_WELCOME)
    return VEIL_EMLS_ENUM;
  if (m.u.welcome.cipher_suite != s->id)
    return VEIL_EMLS_SUITE;
  mls_group_t *g = grp_alloc(s, cfg);
  if (!g)
    return VEIL_ENOMEM;
  mls_welcome_join_t j;
  int joined = 0;
  uint8_t ref[MLS_HASH_MAX];
  mls_key_package_t kpd;
  veil_reader_t r;
  veil_reader_init(&r, kp->kp, kp->kp_len);
  rc = mls_key_package_decode(&r, &kpd);
  if (rc == 0)
    rc = mls_make_key_package_ref(s, kp->kp, kp->kp_len, ref);
  if (rc == 0)
    rc = mls_welcome_join(s, &m.u.welcome, ref, s->nh, kp->init_priv, grp_psk_lookup, g, &j);
  if (rc)
    goto fail;
  joined = 1;
  const mls_group_info_t *gi = &j.group_info;
  rc = take_context(g, &gi->group_context);
  if (rc == 0)
    rc = load_tree(g, gi, ratchet_tree, ratchet_tree_len);
  if (rc)
    goto fail;
  /* Our leaf: the one with our KeyPackage's signature and encryption keys. */
  uint32_t me = UINT32_MAX;
  for (uint32_t l = 0; l < mls_tree_leaf_count(g->tree) && me == UINT32_MAX; l++) {
    const mls_leaf_node_t *ln = mls_tree_leaf(g->tree, l);
    if (ln && ln->signature_key.len == kpd.leaf_node.signature_key.len &&
        memcmp(ln->signature_key.ptr, kpd.leaf_node.signature_key.ptr, ln->signature_key.len) == 0 &&
        ln->encryption_key.len == kpd.leaf_node.encryption_key.len &&
        memcmp(ln->encryption_key.ptr, kpd.leaf_node.encryption_key.ptr, ln->encryption_key.len) == 0)
      me = l;
  }
  if (me == UINT32_MAX) {
    rc = VEIL_EMLS_OWN_LEAF;
    goto fail;
  }
  mls_tree_priv_init(&g->priv, s, me, kp->enc_priv);
  memcpy(g->sig_priv, kp->sig_priv, sizeof(g->sig_priv));
  if (j.group_secrets.has_path_secret)
    rc = take_path_secret(g, gi->signer, j.group_secrets.path_secret);
  if (rc == 0)
    rc = mls_transcript_set(&g->transcript, s, gi->group_context.confirmed_transcript_hash.ptr,
                            gi->group_context.confirmed_transcript_hash.len, NULL, 0);
  if (rc == 0)
    rc = mls_transcript_set_interim(&g->transcript, gi->confirmation_tag.ptr,
                                    gi->confirmation_tag.len);
  if (rc == 0)
    rc = grp_install_epoch(g, &j.epoch);
  if (rc)
    goto fail;
  grp_psk_push(g, g->epoch, g->secrets.resumption_psk);
  mls_welcome_join_free(&j);
  *out = g;
  return 0;
fail:
  if (joined)
    mls_welcome_join_free(&j);
  mls_group_free(g);
  return rc;
}

/* ---- external Commit (§12.4.3.2) --------------------------------------------------------- */

int mls_group_join_external(const uint8_t *group_info, size_t group_info_len,
                            const uint8_t *ratchet_tree, size_t ratchet_tree_len,
                            uint16_t cipher_suite, const mls_identity_t *id,
                            const mls_group_config_t *cfg, veil_writer_t *commit,
                            mls_group_t **out) {
  if (!group_info || !id || !commit || !out)
    return VEIL_EINVAL;
  mls_message_t m;
  int rc = mls_message_parse(group_info, group_info_len, &m);
  if (rc)
    return rc;
  if (m.wire_format != MLS_WF_GROUP_INFO)
    return VEIL_EMLS_ENUM;
  const mls_group_info_t *gi = &m.u.group_info;
  const mls_suite_t *s = mls_suite_get(gi->group_context.cipher_suite);
  if (!s || gi->group_context.cipher_suite != cipher_suite)
    return VEIL_EMLS_SUITE;
  mls_group_t *g = grp_alloc(s, cfg), *next = NULL;
  if (!g)
    return VEIL_ENOMEM;
  hpke_ctx_t hc;
  memset(&hc, 0, sizeof(hc));
  uint8_t kem_out[MLS_KEM_OUTPUT_MAX], init_secret[MLS_HASH_MAX], sig_pub[MLS_SIG_PUB_MAX];
  uint8_t psk_secret[MLS_HASH_MAX], tag[MLS_HASH_MAX], sig[MLS_SIG_MAX];
  size_t kem_len = 0, sig_len = 0;
  uint32_t me = 0, n_psk = 0;
  mls_treekem_update_t u = {0};
  veil_writer_t leaf, prov, pathw, porw;
  veil_writer_init_growable(&leaf, 0);
  veil_writer_init_growable(&prov, 0);
  veil_writer_init_growable(&pathw, 0);
  veil_writer_init_growable(&porw, 0);
  veil_view_t xpub;
  size_t start = commit->len;
  rc = take_context(g, &gi->group_context);
  if (rc == 0)
    rc = load_tree(g, gi, ratchet_tree, ratchet_tree_len);
  if (rc == 0)
    rc = mls_transcript_set(&g->transcript, s, gi->group_context.confirmed_transcript_hash.ptr,
                            gi->group_context.confirmed_transcript_hash.len, NULL, 0);
  if (rc == 0)
    rc = mls_transcript_set_interim(&g->transcript, gi->confirmation_tag.ptr,
                                    gi->confirmation_tag.len);
  if (rc == 0 && mls_extensions_find(&gi->extensions, MLS_EXT_EXTERNAL_PUB, &xpub) != 0)
    rc = VEIL_EMLS_EXTERNAL_COMMIT;
  if (rc == 0) {
    veil_reader_t r;
    veil_reader_init(&r, xpub.ptr, xpub.len);
    mls_read_opaque(&r, &xpub);
    rc = veil_reader_finish(&r);
  }
  /* kem_output, context = SetupBaseS(external_pub, ""); init_secret = context.export(
   * "MLS 1.0 external init secret", Nh). */
  if (rc == 0)
    rc = hpke_setup_sender(&hc, s->hpke, HPKE_MODE_BASE, xpub.ptr, xpub.len, NULL, 0, NULL, NULL,
                           0, kem_out, &kem_len);
  if (rc == 0)
    rc = hpke_export(&hc, (const uint8_t *)EXTERNAL_INIT_LABEL, sizeof(EXTERNAL_INIT_LABEL) - 1,
                     init_secret, s->nh);
  if (rc)
    goto done;
  rc = grp_signature_key(s, id, g->sig_priv, sig_pub);
  if (rc == 0)
    rc = grp_stage_copy(g, &next);
  /* Our leaf goes where an Add would put it; a placeholder holds the place while the path
   * is made, then the commit-source LeafNode replaces it. */
  if (rc == 0)
    rc = grp_make_leaf_node(s, &id->credential, (veil_view_t){sig_pub, s->sig_pub_len},
                            (veil_view_t){kem_out, kem_len}, MLS_LEAF_SRC_KEY_PACKAGE,
                            (mls_lifetime_t){0, UINT64_MAX}, (veil_view_t){NULL, 0},
                            (veil_view_t){NULL, 0}, 0, g->sig_priv, &leaf);
  if (rc == 0) {
    mls_leaf_node_t ph;
    veil_reader_t r;
    veil_reader_init(&r, leaf.buf, leaf.len);
    rc = mls_leaf_node_decode(&r, &ph);
    if (rc == 0)
      rc = mls_tree_add(next->tree, &ph, &me);
  }
  if (rc)
    goto done;
  next->priv.leaf_index = me;
  next->priv.suite = s;
  memcpy(next->sig_priv, g->sig_priv, sizeof(next->sig_priv));
  rc = mls_treekem_prepare(next->tree, me, NULL, &u);
  leaf.len = 0;
  if (rc == 0)
    rc = grp_remake_own_leaf(next, next->tree, (veil_view_t){u.leaf_pub, s->hpke_pk_len},
                             MLS_LEAF_SRC_COMMIT,
                             (veil_view_t){u.leaf_parent_hash, u.leaf_parent_hash_len}, &leaf);
  if (rc == 0)
    rc = mls_tree_set_leaf_encoded(next->tree, me, leaf.buf, leaf.len);
  if (rc == 0)
    rc = grp_provisional_gc(next, &g->transcript, &prov);
  if (rc == 0)
    rc = mls_treekem_encrypt(next->tree, &u, mls_tree_leaf(next->tree, me), prov.buf, prov.len,
                             NULL, 0, &pathw);
  mls_tree_priv_init(&next->priv, s, me, u.leaf_priv);
  if (rc == 0)
    rc = mls_treekem_commit_own(&next->priv, &u);
  if (rc)
    goto done;
  mls_commit_t cm = {.has_path = 1};
  {
    veil_reader_t r;
    veil_reader_init(&r, pathw.buf, pathw.len);
    mls_update_path_decode(&r, &cm.path);
    rc = veil_reader_finish(&r);
  }
  mls_proposal_or_ref_t por = {.type = MLS_POR_PROPOSAL,
                               .proposal = {.type = MLS_PROP_EXTERNAL_INIT,
                                            .u.external_init = {kem_out, kem_len}}};
  if (rc == 0)
    rc = mls_proposal_or_ref_encode(&porw, &por);
  cm.proposals = mls_list_from_writer(&porw, 1);
  grp_commit_in_t in = {.sender_type = MLS_SENDER_NEW_MEMBER_COMMIT};
  if (rc == 0)
    rc = grp_psk_secret(g, &in, psk_secret, NULL, &n_psk);
  mls_framed_content_t c = {.group_id = {g->group_id, g->group_id_len},
                            .epoch = g->epoch,
                            .sender = {MLS_SENDER_NEW_MEMBER_COMMIT, 0},
                            .content_type = MLS_CT_COMMIT,
                            .commit = cm};
  mls_framing_ctx_t ctx;
  if (rc == 0)
    rc = mls_framing_ctx_init(&ctx, s, g->gc.buf, g->gc.len, NULL, NULL, NULL);
  if (rc == 0)
    rc = mls_framing_sign(&ctx, MLS_WF_PUBLIC_MESSAGE, &c, g->sig_priv, sig, &sig_len);
  if (rc == 0)
    rc = grp_finish_epoch(g, next, &c, MLS_WF_PUBLIC_MESSAGE, (veil_view_t){sig, sig_len},
                          u.commit_secret, psk_secret, init_secret, NULL, 0, tag, NULL);
  if (rc == 0) {
    mls_framed_content_auth_t auth = {{sig, sig_len}, {tag, s->nh}};
    rc = mls_public_encode_signed(&ctx, &c, &auth, commit);
  }
  if (rc == 0)
    rc = grp_msg_hash(g, commit->buf + start, commit->len - start, next->last_commit);
  if (rc)
    goto done;
  next->has_last_commit = 1;
  *out = next;
  next = NULL;
done:
  if (rc)
    commit->len = start;
  hpke_ctx_wipe(&hc);
  mls_treekem_update_wipe(&u);
  vc_wipe(init_secret, sizeof(init_secret));
  veil_writer_free(&leaf);
  veil_writer_free(&prov);
  veil_writer_free(&pathw);
  veil_writer_free(&porw);
  mls_group_free(next);
  mls_group_free(g);
  return rc;
}

static int same_credential(const mls_leaf_node_t *a, const mls_leaf_node_t *b) {
  if (!a || !b)
    return 0;
  veil_writer_t x, y;
  veil_writer_init_growable(&x, 0);
  veil_writer_init_growable(&y, 0);
  int same = mls_credential_encode(&x, &a->credential) == 0 &&
             mls_credential_encode(&y, &b->credential) == 0 && x.len == y.len &&
             memcmp(x.buf, y.buf, x.len) == 0;
  veil_writer_free(&x);
  veil_writer_free(&y);
  return same;
}

int grp_process_external_commit(mls_group_t *g, const mls_framing_ctx_t *ctx,
                                const mls_authenticated_content_t *ac, const uint8_t *msg,
                                size_t len, mls_processed_t *out) {
  const mls_suite_t *s = g->suite;
  const mls_commit_t *cm = &ac->content.commit;
  grp_commit_in_t in = {.sender_type = MLS_SENDER_NEW_MEMBER_COMMIT, .committer = UINT32_MAX};
  mls_group_t *next = NULL;
  uint32_t *added = NULL, me = 0;
  size_t n_added = 0;
  int removed_me = 0;
  uint8_t xpriv[MLS_HPKE_SK_MAX], xpub[MLS_HPKE_PK_MAX], init_secret[MLS_HASH_MAX];
  hpke_ctx_t hc;
  memset(&hc, 0, sizeof(hc));
  if (!cm->has_path)
    return VEIL_EMLS_PATH_REQUIRED;
  int rc = grp_resolve_commit(g, cm, MLS_SENDER_NEW_MEMBER_COMMIT, UINT32_MAX, &in.props,
                              &in.n_props);
  if (rc)
    return rc;
  rc = grp_validate_proposals(g, &in);
  const veil_view_t *kem = NULL;
  for (size_t i = 0; rc == 0 && i < in.n_props; i++)
    if (in.props[i].p.type == MLS_PROP_EXTERNAL_INIT)
      kem = &in.props[i].p.u.external_init;
  if (rc == 0 && !kem)
    rc = VEIL_EMLS_EXTERNAL_COMMIT;
  /* §12.4.3.2: a Remove in an external Commit is a resync: the leaf it removes must
   * belong to the same client (same credential) as the joiner's new leaf. */
  for (size_t i = 0; rc == 0 && i < in.n_props; i++)
    if (in.props[i].p.type == MLS_PROP_REMOVE &&
        !same_credential(mls_tree_leaf(g->tree, in.props[i].p.u.remove), &cm->path.leaf_node))
      rc = VEIL_EMLS_EXTERNAL_COMMIT;
  if (rc == 0)
    rc = mls_ks_external_key_pair(&g->secrets, xpriv, xpub);
  if (rc == 0)
    rc = hpke_setup_receiver(&hc, s->hpke, HPKE_MODE_BASE, kem->ptr, kem->len, xpriv, NULL, 0,
                             NULL);
  if (rc == 0)
    rc = hpke_export(&hc, (const uint8_t *)EXTERNAL_INIT_LABEL, sizeof(EXTERNAL_INIT_LABEL) - 1,
                     init_secret, s->nh);
  if (rc == 0)
    rc = grp_stage_commit(g, &in, 0, &next, &added, &n_added, &removed_me);
  /* The joiner's leaf lands where an Add would put it (§12.4.3.2), then its path. */
  if (rc == 0)
    rc = mls_tree_add(next->tree, &cm->path.leaf_node, &me);
  if (rc)
    goto done;
  {
    mls_list_t rq;
    mls_leaf_check_t chk = {.group_id = {g->group_id, g->group_id_len},
                            .required_capabilities = grp_required_caps(next, &rq)};
    rc = mls_leaf_node_validate(s->id, &cm->path.leaf_node, me, &chk);
  }
  if (rc == 0)
    rc = grp_check_credential(g, &cm->path.leaf_node);
  for (uint32_t l = 0; rc == 0 && l < mls_tree_leaf_count(g->tree); l++) {
    const mls_leaf_node_t *ln = mls_tree_leaf(next->tree, l);
    if (l != me && ln && ln->signature_key.len == cm->path.leaf_node.signature_key.len &&
        memcmp(ln->signature_key.ptr, cm->path.leaf_node.signature_key.ptr, ln->signature_key.len) == 0)
      rc = VEIL_EMLS_EXTERNAL_COMMIT;
  }
  if (rc == 0) {
    rc = mls_framing_verify(ctx, ac, cm->path.leaf_node.signature_key.ptr,
                            cm->path.leaf_node.signature_key.len);
    if (rc == VEIL_EVERIFY || rc == VEIL_EBADKEY)
      rc = VEIL_EMLS_SIGNATURE;
  }
  if (rc == 0)
    rc = grp_receive_commit_tail(g, &next, ac, &in, me, added, n_added, removed_me, init_secret,
                                 msg, len, out);
done:
  hpke_ctx_wipe(&hc);
  vc_wipe(xpriv, sizeof(xpriv));
  vc_wipe(init_secret, sizeof(init_secret));
  free(in.props);
  free(added);
  mls_group_free(next);
  return rc;
}
