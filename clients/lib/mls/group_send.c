/*
 * veil MLS group — what a member sends: Proposals (§12.1), Commits with their UpdatePath
 * and Welcome (§12.4, §12.4.3.1), GroupInfo (§12.4.3).
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/group_epoch.h"

/* Signs a handshake content as PublicMessage, optionally returning the encoded
 * AuthenticatedContent (for the ProposalRef, §5.2). */
static int send_public(const mls_group_t *g, const mls_framed_content_t *c, veil_view_t tag,
                       veil_writer_t *ac_out, veil_writer_t *out) {
  mls_framing_ctx_t ctx;
  uint8_t sig[MLS_SIG_MAX];
  size_t sig_len = 0;
  int rc = grp_framing(g, &ctx);
  if (rc == 0)
    rc = mls_framing_sign(&ctx, MLS_WF_PUBLIC_MESSAGE, c, g->sig_priv, sig, &sig_len);
  if (rc)
    return rc;
  mls_framed_content_auth_t auth = {{sig, sig_len}, tag};
  if (ac_out) {
    mls_authenticated_content_t ac = {MLS_WF_PUBLIC_MESSAGE, *c, auth};
    rc = mls_authenticated_content_encode(ac_out, &ac);
    if (rc)
      return rc;
  }
  return mls_public_encode_signed(&ctx, c, &auth, out);
}

static mls_framed_content_t base_content(const mls_group_t *g, uint8_t type) {
  return (mls_framed_content_t){.group_id = {g->group_id, g->group_id_len},
                                .epoch = g->epoch,
                                .sender = {MLS_SENDER_MEMBER, g->priv.leaf_index},
                                .content_type = type};
}

static int propose(mls_group_t *g, const mls_proposal_t *p, const uint8_t *upd_priv,
                   veil_writer_t *out) {
  if (!g->active)
    return VEIL_EMLS_REMOVED_MEMBER;
  mls_framed_content_t c = base_content(g, MLS_CT_PROPOSAL);
  c.proposal = *p;
  veil_writer_t ac, enc;
  veil_writer_init_growable(&ac, 0);
  veil_writer_init_growable(&enc, 0);
  uint8_t ref[MLS_HASH_MAX];
  size_t start = out->len;
  int rc = send_public(g, &c, (veil_view_t){NULL, 0}, &ac, out);
  if (rc == 0)
    rc = mls_make_proposal_ref(g->suite, ac.buf, ac.len, ref);
  if (rc == 0)
    rc = mls_proposal_encode(&enc, p);
  if (rc == 0)
    rc = grp_props_add(g, ref, enc.buf, enc.len, c.sender, upd_priv);
  if (rc)
    out->len = start;
  veil_writer_free(&ac);
  veil_writer_free(&enc);
  return rc;
}

int mls_group_propose_add(mls_group_t *g, const uint8_t *key_package, size_t len,
                          veil_writer_t *out) {
  if (!g || !key_package || !out)
    return VEIL_EINVAL;
  mls_proposal_t p = {.type = MLS_PROP_ADD};
  int rc = grp_parse_key_package(key_package, len, &p.u.add, NULL);
  return rc ? rc : propose(g, &p, NULL, out);
}

int mls_group_propose_remove(mls_group_t *g, uint32_t leaf_index, veil_writer_t *out) {
  if (!g || !out)
    return VEIL_EINVAL;
  if (!mls_tree_leaf(g->tree, leaf_index))
    return VEIL_EMLS_LEAF_INDEX;
  mls_proposal_t p = {.type = MLS_PROP_REMOVE, .u.remove = leaf_index};
  return propose(g, &p, NULL, out);
}

int mls_group_propose_update(mls_group_t *g, veil_writer_t *out) {
  if (!g || !out)
    return VEIL_EINVAL;
  const mls_suite_t *s = g->suite;
  uint8_t sk[MLS_HPKE_SK_MAX] = {0}, pk[MLS_HPKE_PK_MAX];
  veil_writer_t leaf;
  veil_writer_init_growable(&leaf, 0);
  mls_proposal_t p = {.type = MLS_PROP_UPDATE};
  int rc = hpke_generate_key_pair(s->hpke.kem_id, sk, pk);
  if (rc == 0)
    rc = grp_remake_own_leaf(g, g->tree, (veil_view_t){pk, s->hpke_pk_len}, MLS_LEAF_SRC_UPDATE,
                             (veil_view_t){NULL, 0}, &leaf);
  if (rc == 0) {
    veil_reader_t r;
    veil_reader_init(&r, leaf.buf, leaf.len);
    rc = mls_leaf_node_decode(&r, &p.u.update);
  }
  if (rc == 0)
    rc = propose(g, &p, sk, out);
  vc_wipe(sk, sizeof(sk));
  veil_writer_free(&leaf);
  return rc;
}

/* ---- Commit ------------------------------------------------------------------------------ */

/* The path secret a new member needs: the one of the lowest node of the committer's
 * filtered direct path above the new leaf (§12.4.3.1). */
static veil_view_t path_secret_for(const mls_treekem_update_t *u, uint32_t leaf, size_t nh) {
  uint32_t node = mls_tm_leaf_to_node(leaf);
  for (uint32_t i = 0; i < u->n; i++)
    if (mls_tm_is_descendant(node, u->node[i]))
      return (veil_view_t){u->path_secret[i], nh};
  return (veil_view_t){NULL, 0};
}

/* GroupInfo of `st`'s epoch signed by this member (§12.4.3), encoded (not wrapped). */
static int group_info_encode(const mls_group_t *st, const uint8_t *tag, int with_tree,
                             veil_writer_t *out) {
  const mls_suite_t *s = st->suite;
  uint8_t xpriv[MLS_HPKE_SK_MAX], xpub[MLS_HPKE_PK_MAX], sig[MLS_SIG_MAX];
  size_t sig_len = 0;
  veil_writer_t tree, exts;
  veil_writer_init_growable(&tree, 0);
  veil_writer_init_growable(&exts, 0);
  uint32_t n_ext = 0;
  mls_group_info_t gi = {0};
  veil_reader_t r;
  veil_reader_init(&r, st->gc.buf, st->gc.len);
  int rc = mls_group_context_decode(&r, &gi.group_context);
  if (rc == 0 && with_tree) {
    rc = mls_tree_encode(st->tree, &tree);
    mls_extension_t e = {MLS_EXT_RATCHET_TREE, {tree.buf, tree.len}};
    if (rc == 0)
      rc = mls_extension_encode(&exts, &e);
    n_ext++;
  }
  /* §12.4.3.2: external_pub lets a new member join by external Commit. */
  if (rc == 0)
    rc = mls_ks_external_key_pair(&st->secrets, xpriv, xpub);
  vc_wipe(xpriv, sizeof(xpriv));
  if (rc == 0) {
    veil_writer_t body;
    veil_writer_init_growable(&body, 0);
    rc = mls_write_opaque(&body, (veil_view_t){xpub, s->hpke_pk_len});
    mls_extension_t e = {MLS_EXT_EXTERNAL_PUB, {body.buf, body.len}};
    if (rc == 0)
      rc = mls_extension_encode(&exts, &e);
    n_ext++;
    if (rc == 0) {
      gi.extensions = mls_list_from_writer(&exts, n_ext);
      gi.confirmation_tag = (veil_view_t){tag, s->nh};
      gi.signer = st->priv.leaf_index;
      rc = mls_group_info_sign(s, &gi, st->sig_priv, sig, &sig_len);
    }
    if (rc == 0) {
      gi.signature = (veil_view_t){sig, sig_len};
      rc = mls_group_info_encode(out, &gi);
    }
    veil_writer_free(&body);
  }
  veil_writer_free(&tree);
  veil_writer_free(&exts);
  return rc;
}

int mls_group_group_info(mls_group_t *g, int with_tree, veil_writer_t *out) {
  if (!g || !out)
    return VEIL_EINVAL;
  if (!g->active)
    return VEIL_EMLS_REMOVED_MEMBER;
  /* The confirmation tag of the current epoch: interim = Hash(confirmed || tag<V>) does
   * not give it back, so recompute it (§6.1: MAC(confirmation_key, confirmed hash)). */
  uint8_t tag[MLS_HASH_MAX];
  int rc = mls_ks_confirmation_tag(&g->secrets, g->transcript.confirmed,
                                   g->transcript.confirmed_len, tag);
  if (rc)
    return rc;
  veil_write_u16(out, MLS_VERSION_10);
  veil_write_u16(out, MLS_WF_GROUP_INFO);
  return group_info_encode(g, tag, with_tree, out);
}

/* Collects the proposals of an own Commit: the cached ones this member may commit, then
 * the inline Adds and Removes of `opts`. A cached proposal is left out (not refused)
 * when committing it would make the list invalid (§12.2): our own Updates, a Remove of
 * ourselves, a second Update/Remove for a leaf already covered (the caller's own Removes
 * come first), a second GroupContextExtensions. */
static int collect(mls_group_t *g, const mls_commit_opts_t *o, grp_resolved_t **out, size_t *n) {
  size_t cap = g->n_props + o->n_add + o->n_remove;
  uint32_t nl = mls_tree_leaf_count(g->tree), me = g->priv.leaf_index;
  grp_resolved_t *res = calloc(cap ? cap : 1, sizeof(*res));
  uint8_t *covered = calloc(nl ? nl : 1, 1);
  if (!res || !covered) {
    free(res);
    free(covered);
    return VEIL_ENOMEM;
  }
  for (size_t i = 0; i < o->n_remove; i++)
    if (o->remove_leaves[i] < nl)
      covered[o->remove_leaves[i]] = 1;
  size_t k = 0;
  int rc = 0, gce = 0;
  for (size_t i = 0; i < g->n_props && rc == 0; i++) {
    const grp_proposal_t *cp = &g->props[i];
    veil_reader_t r;
    veil_reader_init(&r, cp->enc, cp->enc_len);
    mls_proposal_decode(&r, &res[k].p);
    rc = veil_reader_finish(&r);
    const mls_proposal_t *p = &res[k].p;
    uint32_t leaf = p->type == MLS_PROP_REMOVE ? p->u.remove
                    : p->type == MLS_PROP_UPDATE ? cp->sender.index
                                                 : UINT32_MAX;
    if (leaf != UINT32_MAX && (leaf == me || leaf >= nl || covered[leaf]))
      continue;
    if (p->type == MLS_PROP_GROUP_CONTEXT_EXTENSIONS && gce++)
      continue;
    if (leaf != UINT32_MAX)
      covered[leaf] = 1;
    res[k].sender = cp->sender.index;
    res[k].sender_type = cp->sender.type;
    res[k].cached = cp;
    k++;
  }
  for (size_t i = 0; i < o->n_add && rc == 0; i++, k++) {
    res[k].p.type = MLS_PROP_ADD;
    rc = grp_parse_key_package(o->add_key_packages[i].ptr, o->add_key_packages[i].len,
                               &res[k].p.u.add, NULL);
    res[k].sender = me;
    res[k].sender_type = MLS_SENDER_MEMBER;
  }
  for (size_t i = 0; i < o->n_remove && rc == 0; i++, k++) {
    res[k].p.type = MLS_PROP_REMOVE;
    res[k].p.u.remove = o->remove_leaves[i];
    res[k].sender = me;
    res[k].sender_type = MLS_SENDER_MEMBER;
  }
  free(covered);
  if (rc) {
    free(res);
    return rc;
  }
  *out = res;
  *n = k;
  return 0;
}

static int write_por(veil_writer_t *w, const grp_resolved_t *rp, size_t nh) {
  mls_proposal_or_ref_t por = {0};
  if (rp->cached) {
    por.type = MLS_POR_REFERENCE;
    por.reference = (veil_view_t){rp->cached->ref, nh};
  } else {
    por.type = MLS_POR_PROPOSAL;
    por.proposal = rp->p;
  }
  return mls_proposal_or_ref_encode(w, &por);
}

/* The Welcome of an own Commit for the members it adds (§12.4.3.1). */
static int make_welcome(const mls_group_t *next, const grp_commit_in_t *in, const uint8_t *tag,
                        const uint8_t *joiner, const uint8_t *psk_secret,
                        const veil_writer_t *psk_ids, uint32_t n_psk,
                        const mls_treekem_update_t *u, int has_path, int with_tree,
                        veil_writer_t *out) {
  const mls_suite_t *s = next->suite;
  size_t n_add = 0;
  for (size_t i = 0; i < in->n_props; i++)
    n_add += in->props[i].p.type == MLS_PROP_ADD;
  mls_welcome_member_t *m = calloc(n_add ? n_add : 1, sizeof(*m));
  uint8_t *refs = calloc(n_add ? n_add : 1, MLS_HASH_MAX);
  veil_writer_t gi, kpw;
  veil_writer_init_growable(&gi, 0);
  veil_writer_init_growable(&kpw, 0);
  int rc = (m && refs) ? 0 : VEIL_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < in->n_props && rc == 0; i++) {
    const mls_key_package_t *kp = &in->props[i].p.u.add;
    if (in->props[i].p.type != MLS_PROP_ADD)
      continue;
    kpw.len = 0;
    rc = mls_key_package_encode(&kpw, kp);
    if (rc == 0)
      rc = mls_make_key_package_ref(s, kpw.buf, kpw.len, refs + k * MLS_HASH_MAX);
    if (rc)
      break;
    /* The new member's leaf: found by its (unique) signature key. */
    uint32_t leaf = UINT32_MAX;
    for (uint32_t l = 0; l < mls_tree_leaf_count(next->tree) && leaf == UINT32_MAX; l++) {
      const mls_leaf_node_t *ln = mls_tree_leaf(next->tree, l);
      if (ln && ln->signature_key.len == kp->leaf_node.signature_key.len &&
          memcmp(ln->signature_key.ptr, kp->leaf_node.signature_key.ptr, ln->signature_key.len) == 0)
        leaf = l;
    }
    m[k].key_package_ref = (veil_view_t){refs + k * MLS_HASH_MAX, s->nh};
    m[k].init_key = kp->init_key;
    m[k].path_secret = has_path && leaf != UINT32_MAX ? path_secret_for(u, leaf, s->nh)
                                                      : (veil_view_t){NULL, 0};
    k++;
  }
  if (rc == 0)
    rc = group_info_encode(next, tag, with_tree, &gi);
  mls_list_t psks = mls_list_from_writer(psk_ids, n_psk);
  if (rc == 0)
    rc = mls_welcome_create(s, gi.buf, gi.len, joiner, psk_secret, n_psk ? &psks : NULL, m, k,
                            out);
  free(m);
  free(refs);
  veil_writer_free(&gi);
  veil_writer_free(&kpw);
  return rc;
}

int mls_group_commit(mls_group_t *g, const mls_commit_opts_t *opts, veil_writer_t *commit,
                     veil_writer_t *welcome) {
  static const mls_commit_opts_t none;
  if (!g || !commit)
    return VEIL_EINVAL;
  if (!g->active)
    return VEIL_EMLS_REMOVED_MEMBER;
  if (!opts)
    opts = &none;
  const mls_suite_t *s = g->suite;
  grp_commit_in_t in = {.sender_type = MLS_SENDER_MEMBER, .committer = g->priv.leaf_index};
  mls_group_t *next = NULL;
  uint32_t *added = NULL;
  size_t n_added = 0;
  int removed_me = 0, has_path = 0;
  mls_treekem_update_t u = {0};
  uint8_t psk_secret[MLS_HASH_MAX], joiner[MLS_HASH_MAX], tag[MLS_HASH_MAX];
  uint32_t n_psk = 0;
  veil_writer_t prov, leaf, pathw, porw, psk_ids;
  veil_writer_init_growable(&prov, 0);
  veil_writer_init_growable(&leaf, 0);
  veil_writer_init_growable(&pathw, 0);
  veil_writer_init_growable(&porw, 0);
  veil_writer_init_growable(&psk_ids, 0);
  mls_commit_t cm = {0};
  size_t start = commit->len;
  int rc = collect(g, opts, &in.props, &in.n_props);
  if (rc)
    goto done;
  rc = grp_validate_proposals(g, &in);
  if (rc == 0)
    rc = grp_stage_commit(g, &in, 1, &next, &added, &n_added, &removed_me);
  if (rc)
    goto done;
  has_path = opts->force_path || grp_path_required(in.props, in.n_props);
  if (has_path) {
    /* §12.4.2 / §7.5: fresh path secrets, the new own LeafNode, the provisional
     * GroupContext, then the path secrets encrypted under it. */
    rc = mls_treekem_prepare(next->tree, g->priv.leaf_index, NULL, &u);
    if (rc == 0)
      rc = grp_remake_own_leaf(g, next->tree, (veil_view_t){u.leaf_pub, s->hpke_pk_len},
                               MLS_LEAF_SRC_COMMIT,
                               (veil_view_t){u.leaf_parent_hash, u.leaf_parent_hash_len}, &leaf);
    if (rc == 0)
      rc = mls_tree_set_leaf_encoded(next->tree, g->priv.leaf_index, leaf.buf, leaf.len);
    if (rc == 0)
      rc = grp_provisional_gc(next, &g->transcript, &prov);
    if (rc == 0)
      rc = mls_treekem_encrypt(next->tree, &u, mls_tree_leaf(next->tree, g->priv.leaf_index),
                               prov.buf, prov.len, added, n_added, &pathw);
    if (rc == 0) {
      veil_reader_t r;
      veil_reader_init(&r, pathw.buf, pathw.len);
      mls_update_path_decode(&r, &cm.path);
      rc = veil_reader_finish(&r);
    }
    if (rc == 0)
      rc = mls_treekem_commit_own(&next->priv, &u);
    cm.has_path = 1;
  }
  for (size_t i = 0; i < in.n_props && rc == 0; i++)
    rc = write_por(&porw, &in.props[i], s->nh);
  if (rc == 0)
    rc = grp_psk_secret(g, &in, psk_secret, &psk_ids, &n_psk);
  if (rc)
    goto done;
  cm.proposals = mls_list_from_writer(&porw, (uint32_t)in.n_props);
  mls_framed_content_t c = base_content(g, MLS_CT_COMMIT);
  c.commit = cm;
  mls_framing_ctx_t ctx;
  uint8_t sig[MLS_SIG_MAX];
  size_t sig_len = 0;
  rc = grp_framing(g, &ctx);
  if (rc == 0)
    rc = mls_framing_sign(&ctx, MLS_WF_PUBLIC_MESSAGE, &c, g->sig_priv, sig, &sig_len);
  if (rc == 0)
    rc = grp_finish_epoch(g, next, &c, MLS_WF_PUBLIC_MESSAGE, (veil_view_t){sig, sig_len},
                          has_path ? u.commit_secret : NULL, psk_secret, NULL, NULL, 0, tag,
                          joiner);
  if (rc == 0) {
    mls_framed_content_auth_t auth = {{sig, sig_len}, {tag, s->nh}};
    rc = mls_public_encode_signed(&ctx, &c, &auth, commit);
  }
  if (rc == 0 && n_added && welcome)
    rc = make_welcome(next, &in, tag, joiner, psk_secret, &psk_ids, n_psk, &u, has_path,
                      opts->inline_tree, welcome);
  if (rc == 0)
    rc = grp_msg_hash(g, commit->buf + start, commit->len - start, g->pending_hash);
  if (rc)
    goto done;
  memcpy(next->last_commit, g->pending_hash, s->nh);
  next->has_last_commit = 1;
  if (g->pending)
    mls_group_free(g->pending);
  g->pending = next;
  next = NULL;
done:
  if (rc)
    commit->len = start;
  mls_treekem_update_wipe(&u);
  vc_wipe(joiner, sizeof(joiner));
  vc_wipe(psk_secret, sizeof(psk_secret));
  veil_writer_free(&prov);
  veil_writer_free(&leaf);
  veil_writer_free(&pathw);
  veil_writer_free(&porw);
  veil_writer_free(&psk_ids);
  free(in.props);
  free(added);
  mls_group_free(next);
  return rc;
}

int mls_group_merge_pending(mls_group_t *g) {
  if (!g || !g->pending)
    return VEIL_ESTATE;
  mls_group_t *next = g->pending;
  g->pending = NULL;
  grp_swap_in(g, next);
  return 0;
}

void mls_group_discard_pending(mls_group_t *g) {
  if (g && g->pending) {
    mls_group_free(g->pending);
    g->pending = NULL;
  }
}

int mls_group_has_pending(const mls_group_t *g) { return g && g->pending != NULL; }
