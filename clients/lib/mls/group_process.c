/*
 * veil MLS group — receiving (RFC 9420 §6, §12.4.2): framing checks, sender and
 * signature, proposals into the cache, Commits staged on a copy and swapped in only
 * when every check passed, application data.
 *
 * Order of checks (cheap and state-free first): group id, epoch (stale / replay /
 * future), sender membership, membership tag or decryption, signature, then the Commit's
 * content. Nothing in `g` changes before the last check: a PrivateMessage refused after
 * its decryption moved a ratchet gets the secret tree back as it was (every member can
 * derive every sender's keys, so a forged message must not burn the genuine one's key).
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/group_epoch.h"

void mls_processed_free(mls_processed_t *p) {
  if (p && p->data.buf)
    veil_writer_free(&p->data);
}

static int check_epoch(const mls_group_t *g, veil_view_t group_id, uint64_t epoch,
                       const uint8_t *msg, size_t len) {
  if (group_id.len != g->group_id_len ||
      (group_id.len && memcmp(group_id.ptr, g->group_id, group_id.len) != 0))
    return VEIL_EMLS_WRONG_GROUP;
  if (epoch == g->epoch)
    return 0;
  if (epoch > g->epoch)
    return VEIL_EMLS_FUTURE_EPOCH;
  if (epoch + 1 == g->epoch && g->has_last_commit) {
    uint8_t h[MLS_HASH_MAX];
    if (grp_msg_hash(g, msg, len, h) == 0 && memcmp(h, g->last_commit, g->suite->nh) == 0)
      return VEIL_EMLS_COMMIT_REPLAY;
  }
  return VEIL_EMLS_STALE_EPOCH;
}

static int verify_member(const mls_group_t *g, const mls_framing_ctx_t *ctx,
                         const mls_authenticated_content_t *ac) {
  const mls_leaf_node_t *leaf = mls_tree_leaf(g->tree, ac->content.sender.index);
  if (!leaf)
    return VEIL_EMLS_NOT_MEMBER;
  int rc = mls_framing_verify(ctx, ac, leaf->signature_key.ptr, leaf->signature_key.len);
  return rc == VEIL_EVERIFY || rc == VEIL_EBADKEY ? VEIL_EMLS_SIGNATURE : rc;
}

int grp_process_external_commit(mls_group_t *g, const mls_framing_ctx_t *ctx,
                                const mls_authenticated_content_t *ac, const uint8_t *msg,
                                size_t len, mls_processed_t *out);

int grp_receive_commit_tail(mls_group_t *g, mls_group_t **next,
                            const mls_authenticated_content_t *ac, const grp_commit_in_t *in,
                            uint32_t committer, const uint32_t *added, size_t n_added,
                            int removed_me, const uint8_t *init_secret, const uint8_t *msg,
                            size_t len, mls_processed_t *out) {
  const mls_commit_t *cm = &ac->content.commit;
  uint8_t commit_secret[MLS_HASH_MAX], psk_secret[MLS_HASH_MAX], h[MLS_HASH_MAX];
  uint32_t n_psk = 0;
  veil_writer_t prov;
  veil_writer_init_growable(&prov, 0);
  int rc = 0;
  if (cm->has_path)
    rc = mls_treekem_merge((*next)->tree, committer, &cm->path);
  /* §7.3, §12.4.2: the added and updated leaves' keys and every public key of the
   * UpdatePath appear nowhere else in the new tree. */
  if (rc == 0)
    rc = grp_keys_unique(*next, in, cm->has_path ? committer : UINT32_MAX, added, n_added);
  /* Stop here on failure: the steps below set rc afresh (a refused merge or key check
   * would be lost, and a Commit removing us would still clear g->active). */
  if (rc)
    goto done;
  if (cm->has_path) {
    rc = grp_provisional_gc(*next, &g->transcript, &prov);
    if (rc == 0 && !removed_me)
      rc = mls_treekem_decrypt((*next)->tree, &(*next)->priv, committer, &cm->path, prov.buf,
                               prov.len, added, n_added, commit_secret, NULL);
    if (rc)
      goto done;
  }
  if (removed_me) {
    /* The Commit is authentic (signature and membership tag checked) but the new epoch
     * is not ours to derive: the group is over for this member. */
    g->active = 0;
    out->kind = MLS_PROCESSED_COMMIT;
    out->sender = committer;
    out->removed = 1;
    goto done;
  }
  rc = grp_psk_secret(g, in, psk_secret, NULL, &n_psk);
  if (rc == 0)
    rc = grp_finish_epoch(g, *next, &ac->content, ac->wire_format, ac->auth.signature,
                          cm->has_path ? commit_secret : NULL, psk_secret, init_secret,
                          ac->auth.confirmation_tag.ptr, ac->auth.confirmation_tag.len, NULL,
                          NULL);
  if (rc == 0)
    rc = grp_msg_hash(g, msg, len, h);
  if (rc)
    goto done;
  memcpy((*next)->last_commit, h, g->suite->nh);
  (*next)->has_last_commit = 1;
  grp_swap_in(g, *next);
  *next = NULL;
  out->kind = MLS_PROCESSED_COMMIT;
  out->sender = committer;
done:
  vc_wipe(commit_secret, sizeof(commit_secret));
  vc_wipe(psk_secret, sizeof(psk_secret));
  veil_writer_free(&prov);
  return rc;
}

/* §12.4.2: a Commit from member `ac->content.sender.index`. */
static int process_commit(mls_group_t *g, const mls_authenticated_content_t *ac,
                          const uint8_t *msg, size_t len, mls_processed_t *out) {
  const mls_suite_t *s = g->suite;
  const mls_commit_t *cm = &ac->content.commit;
  uint32_t sender = ac->content.sender.index;
  grp_commit_in_t in = {.sender_type = MLS_SENDER_MEMBER, .committer = sender,
                        .path = cm->has_path ? &cm->path : NULL};
  mls_group_t *next = NULL;
  uint32_t *added = NULL;
  size_t n_added = 0;
  int removed_me = 0;
  if (sender == g->priv.leaf_index)
    return VEIL_EMLS_SENDER; /* our own Commit, not the pending one: cannot be ours */
  int rc = grp_resolve_commit(g, cm, MLS_SENDER_MEMBER, sender, &in.props, &in.n_props);
  if (rc)
    return rc;
  rc = grp_validate_proposals(g, &in);
  if (rc == 0 && !cm->has_path && grp_path_required(in.props, in.n_props))
    rc = VEIL_EMLS_PATH_REQUIRED;
  if (rc == 0)
    rc = grp_stage_commit(g, &in, 0, &next, &added, &n_added, &removed_me);
  if (rc == 0 && cm->has_path) {
    /* §7.3 on the committer's new leaf before its path is merged. */
    mls_list_t rq;
    mls_leaf_check_t chk = {.group_id = {g->group_id, g->group_id_len},
                            .required_capabilities = grp_required_caps(next, &rq),
                            .now = 0};
    rc = mls_leaf_node_validate(s->id, &cm->path.leaf_node, sender, &chk);
    /* §12.4.2: the committer's new leaf has a new encryption key. */
    const mls_leaf_node_t *old = mls_tree_leaf(g->tree, sender);
    if (rc == 0 && old && old->encryption_key.len == cm->path.leaf_node.encryption_key.len &&
        memcmp(old->encryption_key.ptr, cm->path.leaf_node.encryption_key.ptr,
               old->encryption_key.len) == 0)
      rc = VEIL_EMLS_LEAF_INVALID;
    if (rc == 0)
      rc = grp_check_credential(g, &cm->path.leaf_node);
  }
  if (rc == 0)
    rc = grp_receive_commit_tail(g, &next, ac, &in, sender, added, n_added, removed_me, NULL,
                                 msg, len, out);
  free(in.props);
  free(added);
  mls_group_free(next);
  return rc;
}

static int process_proposal(mls_group_t *g, const mls_authenticated_content_t *ac,
                            mls_processed_t *out) {
  const mls_proposal_t *p = &ac->content.proposal;
  /* Proposals that can only come inside a Commit, or that this client refuses anyway. */
  if (p->type == MLS_PROP_EXTERNAL_INIT || p->type == MLS_PROP_REINIT)
    return VEIL_EMLS_PROPOSAL_LIST;
  /* Checked on receipt (§12.2 per proposal), so a Commit of ours never carries a
   * proposal every member would refuse: as one list with no committer. */
  grp_resolved_t one = {.p = *p, .sender = ac->content.sender.index,
                        .sender_type = ac->content.sender.type};
  grp_commit_in_t in = {.sender_type = MLS_SENDER_MEMBER, .committer = UINT32_MAX,
                        .props = &one, .n_props = 1};
  int vrc = grp_validate_proposals(g, &in);
  if (vrc)
    return vrc;
  veil_writer_t acw, enc;
  veil_writer_init_growable(&acw, 0);
  veil_writer_init_growable(&enc, 0);
  uint8_t ref[MLS_HASH_MAX];
  int rc = mls_authenticated_content_encode(&acw, ac);
  if (rc == 0)
    rc = mls_make_proposal_ref(g->suite, acw.buf, acw.len, ref);
  if (rc == 0)
    rc = mls_proposal_encode(&enc, p);
  if (rc == 0)
    rc = grp_props_add(g, ref, enc.buf, enc.len, ac->content.sender, NULL);
  veil_writer_free(&acw);
  veil_writer_free(&enc);
  if (rc == 0) {
    out->kind = MLS_PROCESSED_PROPOSAL;
    out->sender = ac->content.sender.index;
  }
  return rc;
}

/* Puts back the secret tree saved before a refused PrivateMessage. */
static void restore_secret_tree(mls_group_t *g, const veil_writer_t *backup) {
  veil_reader_t r;
  mls_secret_tree_t *st = NULL;
  veil_reader_init(&r, backup->buf, backup->len);
  if (mls_secret_tree_deserialize(g->suite, &r, &st) == 0) {
    mls_secret_tree_free(g->st);
    g->st = st;
  }
}

int mls_group_process(mls_group_t *g, const uint8_t *msg, size_t len, mls_processed_t *out) {
  if (!g || !msg || !out)
    return VEIL_EINVAL;
  memset(out, 0, sizeof(*out));
  if (!g->active)
    return VEIL_EMLS_REMOVED_MEMBER;
  mls_message_t m;
  int rc = mls_message_parse(msg, len, &m);
  if (rc)
    return rc;
  /* Our own Commit coming back from the delivery service: it is the pending one. */
  if (g->pending && m.wire_format == MLS_WF_PUBLIC_MESSAGE) {
    uint8_t h[MLS_HASH_MAX];
    if (grp_msg_hash(g, msg, len, h) == 0 && memcmp(h, g->pending_hash, g->suite->nh) == 0) {
      out->kind = MLS_PROCESSED_COMMIT;
      out->sender = g->priv.leaf_index;
      return mls_group_merge_pending(g);
    }
  }
  mls_framing_ctx_t ctx;
  mls_authenticated_content_t ac;
  veil_writer_t plain, st_backup;
  veil_writer_init_growable(&plain, 0);
  veil_writer_init_growable(&st_backup, 0);
  int has_backup = 0;
  rc = grp_framing(g, &ctx);
  if (rc)
    goto done;
  if (m.wire_format == MLS_WF_PUBLIC_MESSAGE) {
    const mls_framed_content_t *c = &m.u.public_message.content;
    rc = check_epoch(g, c->group_id, c->epoch, msg, len);
    if (rc)
      goto done;
    if (c->sender.type == MLS_SENDER_NEW_MEMBER_COMMIT) {
      rc = mls_public_unprotect(&ctx, &m.u.public_message, &ac);
      if (rc == 0)
        rc = grp_process_external_commit(g, &ctx, &ac, msg, len, out);
      goto done;
    }
    if (c->sender.type != MLS_SENDER_MEMBER) {
      rc = VEIL_EMLS_SENDER; /* external senders: no external_senders support */
      goto done;
    }
    if (!mls_tree_leaf(g->tree, c->sender.index)) {
      rc = VEIL_EMLS_NOT_MEMBER;
      goto done;
    }
    rc = mls_public_unprotect(&ctx, &m.u.public_message, &ac);
  } else if (m.wire_format == MLS_WF_PRIVATE_MESSAGE) {
    const mls_private_message_t *pm = &m.u.private_message;
    rc = check_epoch(g, pm->group_id, pm->epoch, msg, len);
    /* Decryption moves the sender's ratchet before the signature can be checked; any
     * member can derive any sender's keys, so a forgery that opens but fails later must
     * not burn the genuine message's key. Keep the secret tree to put it back. */
    if (rc == 0 && (rc = mls_secret_tree_serialize(g->st, &st_backup)) == 0)
      has_backup = 1;
    if (rc == 0)
      rc = mls_private_unprotect(&ctx, pm, &plain, &ac);
    if (rc == 0 && !mls_tree_leaf(g->tree, ac.content.sender.index))
      rc = VEIL_EMLS_NOT_MEMBER;
  } else {
    rc = VEIL_EMLS_ENUM; /* Welcome, GroupInfo, KeyPackage are not group messages */
  }
  if (rc == 0)
    rc = verify_member(g, &ctx, &ac);
  if (rc)
    goto done;
  switch (ac.content.content_type) {
  case MLS_CT_APPLICATION:
    out->kind = MLS_PROCESSED_APPLICATION;
    out->sender = ac.content.sender.index;
    veil_writer_init_growable(&out->data, ac.content.application_data.len + 1);
    rc = veil_write_bytes(&out->data, ac.content.application_data.ptr,
                          ac.content.application_data.len);
    break;
  case MLS_CT_PROPOSAL:
    rc = process_proposal(g, &ac, out);
    break;
  case MLS_CT_COMMIT:
    rc = process_commit(g, &ac, msg, len, out);
    break;
  default:
    rc = VEIL_EMLS_ENUM;
  }
done:
  if (rc && has_backup)
    restore_secret_tree(g, &st_backup);
  veil_writer_free(&st_backup);
  veil_writer_free(&plain);
  if (rc)
    mls_processed_free(out);
  return rc;
}
