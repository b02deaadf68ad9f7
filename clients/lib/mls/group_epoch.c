/*
 * veil MLS group — moving a staged copy to the next epoch (RFC 9420 §12.4.2 receiver
 * steps, mirrored by the committer): applying proposals to the tree in the order of
 * §12.3, the PSK secret (§8.4), the transcript and key schedule (§8, §8.2), the
 * confirmation tag.
 */
#include "clients/lib/mls/group_epoch.h"

#include <stdlib.h>
#include <string.h>

int grp_keys_unique(const mls_group_t *next, const grp_commit_in_t *in, uint32_t path_leaf,
                    const uint32_t *added, size_t n_added) {
  size_t n_props = in ? in->n_props : 0;
  uint32_t *nodes = malloc((n_added + n_props + MLS_MAX_PATH + 1) * sizeof *nodes);
  if (!nodes)
    return VEIL_ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < n_added; i++)
    nodes[n++] = mls_tm_leaf_to_node(added[i]);
  for (size_t i = 0; i < n_props; i++)
    if (in->props[i].p.type == MLS_PROP_UPDATE)
      nodes[n++] = mls_tm_leaf_to_node(in->props[i].sender);
  if (path_leaf != UINT32_MAX) {
    uint32_t leaf = mls_tm_leaf_to_node(path_leaf);
    nodes[n++] = leaf;
    n += mls_tm_direct_path(leaf, mls_tree_leaf_count(next->tree), nodes + n);
  }
  int rc = mls_tree_check_keys_unique(next->tree, nodes, n);
  free(nodes);
  return rc;
}

int grp_stage_commit(const mls_group_t *g, const grp_commit_in_t *in, int check_keys,
                     mls_group_t **next, uint32_t **added, size_t *n_added, int *removed_me) {
  *next = NULL;
  *n_added = 0;
  *removed_me = 0;
  if (!(*added = calloc(in->n_props + 1, sizeof(**added))))
    return VEIL_ENOMEM;
  int rc = grp_stage_copy(g, next);
  if (rc == 0)
    rc = grp_apply_proposals(g, *next, in, *added, n_added, removed_me);
  /* §7.3: the added and updated leaves' keys are unique in the group — on the committer's
   * side too, so no member ever sends a Commit its peers must refuse. */
  if (rc == 0 && check_keys)
    rc = grp_keys_unique(*next, in, UINT32_MAX, *added, *n_added);
  return rc;
}

int grp_apply_proposals(const mls_group_t *g, mls_group_t *next, const grp_commit_in_t *in,
                        uint32_t *added, size_t *n_added, int *removed_me) {
  int rc = 0;
  *n_added = 0;
  *removed_me = 0;
  /* §12.3: GroupContextExtensions, then Updates, Removes, Adds (in list order). */
  for (size_t i = 0; i < in->n_props && rc == 0; i++) {
    const mls_proposal_t *p = &in->props[i].p;
    if (p->type != MLS_PROP_GROUP_CONTEXT_EXTENSIONS)
      continue;
    next->gc_ext.len = 0;
    if (p->u.group_context_extensions.raw.len)
      rc = veil_write_bytes(&next->gc_ext, p->u.group_context_extensions.raw.ptr,
                            p->u.group_context_extensions.raw.len);
    next->gc_ext_count = p->u.group_context_extensions.count;
  }
  for (size_t i = 0; i < in->n_props && rc == 0; i++) {
    const grp_resolved_t *rp = &in->props[i];
    if (rp->p.type != MLS_PROP_UPDATE)
      continue;
    rc = mls_tree_update(next->tree, rp->sender, &rp->p.u.update);
    if (rc == 0 && rp->sender == g->priv.leaf_index && g->active) {
      /* Our own Update, committed by another member: its leaf key becomes ours and the
       * blanked direct path drops every parent key we held (§12.1.2). */
      if (!rp->cached || !rp->cached->upd_priv)
        return VEIL_EMLS_PROPOSAL_LIST;
      mls_tree_priv_init(&next->priv, g->suite, g->priv.leaf_index, rp->cached->upd_priv);
    }
  }
  for (size_t i = 0; i < in->n_props && rc == 0; i++) {
    const mls_proposal_t *p = &in->props[i].p;
    if (p->type != MLS_PROP_REMOVE)
      continue;
    if (p->u.remove == g->priv.leaf_index && g->active)
      *removed_me = 1;
    rc = mls_tree_remove(next->tree, p->u.remove);
  }
  for (size_t i = 0; i < in->n_props && rc == 0; i++) {
    const mls_proposal_t *p = &in->props[i].p;
    if (p->type != MLS_PROP_ADD)
      continue;
    rc = mls_tree_add(next->tree, &p->u.add.leaf_node, &added[(*n_added)++]);
  }
  return rc;
}

int grp_psk_secret(const mls_group_t *g, const grp_commit_in_t *in, uint8_t *psk_secret,
                   veil_writer_t *ids, uint32_t *n_ids) {
  size_t n = 0;
  for (size_t i = 0; i < in->n_props; i++)
    n += in->props[i].p.type == MLS_PROP_PSK;
  *n_ids = 0;
  if (n == 0)
    return mls_ks_psk_secret(g->suite, NULL, 0, psk_secret);
  if (n > 65535)
    return VEIL_ELIMIT;
  mls_ks_psk_t *psks = calloc(n, sizeof(*psks));
  if (!psks)
    return VEIL_ENOMEM;
  size_t k = 0;
  int rc = 0;
  for (size_t i = 0; i < in->n_props && rc == 0; i++) {
    const mls_proposal_t *p = &in->props[i].p;
    if (p->type != MLS_PROP_PSK)
      continue;
    psks[k].id = &p->u.psk;
    rc = grp_psk_lookup((void *)g, &p->u.psk, &psks[k].psk, &psks[k].psk_len);
    if (rc == 0 && ids)
      rc = mls_psk_id_encode(ids, &p->u.psk);
    k++;
  }
  if (rc == 0)
    rc = mls_ks_psk_secret(g->suite, psks, n, psk_secret);
  *n_ids = (uint32_t)n;
  free(psks);
  return rc;
}

int grp_provisional_gc(mls_group_t *next, const mls_transcript_t *old, veil_writer_t *out) {
  uint8_t th[MLS_HASH_MAX];
  int rc = mls_tree_root_hash(next->tree, th);
  if (rc == 0)
    rc = grp_encode_gc(next, next->epoch + 1, th, old, out);
  return rc;
}

int grp_finish_epoch(const mls_group_t *g, mls_group_t *next, const mls_framed_content_t *content,
                     uint16_t wire_format, veil_view_t signature, const uint8_t *commit_secret,
                     const uint8_t *psk_secret, const uint8_t *init_secret,
                     const uint8_t *tag_in, size_t tag_in_len, uint8_t *tag_out,
                     uint8_t *joiner_out) {
  const mls_suite_t *s = g->suite;
  uint8_t th[MLS_HASH_MAX], tag[MLS_HASH_MAX];
  mls_epoch_secrets_t e = {0};
  /* §8.2: the new confirmed hash covers the Commit content and its signature. */
  int rc = mls_transcript_update_confirmed(&next->transcript, wire_format, content, signature);
  if (rc == 0)
    rc = mls_tree_root_hash(next->tree, th);
  if (rc == 0)
    rc = grp_encode_gc(next, g->epoch + 1, th, &next->transcript, &next->gc);
  if (rc == 0)
    rc = mls_ks_advance(s, init_secret ? init_secret : g->secrets.init_secret, commit_secret,
                        psk_secret, next->gc.buf, next->gc.len, &e, joiner_out);
  if (rc)
    goto done;
  if (tag_in) {
    rc = mls_ks_verify_confirmation_tag(&e, next->transcript.confirmed,
                                        next->transcript.confirmed_len, tag_in, tag_in_len);
    if (rc) {
      rc = VEIL_EMLS_CONFIRMATION_TAG;
      goto done;
    }
    memcpy(tag, tag_in, s->nh);
  } else {
    rc = mls_ks_confirmation_tag(&e, next->transcript.confirmed, next->transcript.confirmed_len,
                                 tag);
    if (rc)
      goto done;
    memcpy(tag_out, tag, s->nh);
  }
  rc = mls_transcript_set_interim(&next->transcript, tag, s->nh);
  if (rc == 0)
    rc = grp_install_epoch(next, &e);
  if (rc == 0) {
    next->epoch = g->epoch + 1;
    grp_psk_push(next, next->epoch, next->secrets.resumption_psk);
  }
done:
  mls_epoch_secrets_wipe(&e);
  return rc;
}
