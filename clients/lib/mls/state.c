/*
 * veil MLS group — persistence of a member's group state (resume after a crash without
 * rejoining). Contract in group.h (mls_group_serialize / mls_group_deserialize).
 *
 * Format (big-endian, versioned by a magic): suite, group id, epoch, GroupContext
 * extensions, the ratchet tree (its wire form), the private tree keys, the signature key,
 * transcript hashes, the encoded GroupContext, the epoch secrets the epoch keeps (never
 * encryption_secret: the secret tree carries what is left of it), the secret tree's held
 * secrets (secret_tree.h), cached proposals, resumption-PSK history, the last Commit's
 * hash, the active flag, and the pending own Commit's next state with its message hash
 * (nested, one level): after a crash, the Commit the delivery service accepted still
 * merges when it comes back, and one it refused is dropped as before.
 *
 * The blob holds private keys: the caller stores it like one. Every count and length is
 * bounded before use, and the tree is parsed and cross-checked (own leaf present, secret
 * tree size equal to the ratchet tree's, its tree hash equal to the GroupContext's).
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/group_epoch.h"

#define STATE_MAGIC 0x564d4731u /* "VMG1" */

static void write_secret(veil_writer_t *w, const uint8_t *p, size_t n) { veil_write_bytes(w, p, n); }

int mls_group_serialize(const mls_group_t *g, veil_writer_t *out) {
  if (!g || !out)
    return VEIL_EINVAL;
  const mls_suite_t *s = g->suite;
  size_t nh = s->nh, sk = s->hpke_sk_len;
  veil_write_u32(out, STATE_MAGIC);
  veil_write_u16(out, s->id);
  veil_write_vec(out, VEIL_LEN_U32, g->group_id, g->group_id_len);
  veil_write_u64(out, g->epoch);
  veil_write_u32(out, g->gc_ext_count);
  veil_write_vec(out, VEIL_LEN_U32, g->gc_ext.buf, g->gc_ext.len);
  veil_wblock_t b;
  veil_writer_open_block(out, VEIL_LEN_U32, &b);
  mls_tree_encode(g->tree, out);
  veil_writer_close_block(out, &b);
  veil_write_u32(out, mls_tree_leaf_count(g->tree));
  veil_write_u32(out, g->priv.leaf_index);
  write_secret(out, g->priv.leaf_priv, sk);
  veil_write_u32(out, g->priv.n);
  for (uint32_t i = 0; i < g->priv.n; i++) {
    veil_write_u32(out, g->priv.node[i]);
    write_secret(out, g->priv.priv[i], sk);
  }
  write_secret(out, g->sig_priv, s->sig_priv_len);
  veil_write_vec(out, VEIL_LEN_U8, g->transcript.confirmed, g->transcript.confirmed_len);
  veil_write_vec(out, VEIL_LEN_U8, g->transcript.interim, g->transcript.interim_len);
  veil_write_vec(out, VEIL_LEN_U32, g->gc.buf, g->gc.len);
  const mls_epoch_secrets_t *e = &g->secrets;
  const uint8_t *keep[] = {e->welcome_secret,  e->sender_data_secret, e->exporter_secret,
                           e->external_secret, e->confirmation_key,   e->membership_key,
                           e->resumption_psk,  e->epoch_authenticator, e->init_secret};
  for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
    write_secret(out, keep[i], nh);
  mls_secret_tree_serialize(g->st, out);
  veil_write_u32(out, (uint32_t)g->n_props);
  for (size_t i = 0; i < g->n_props; i++) {
    const grp_proposal_t *p = &g->props[i];
    veil_write_bytes(out, p->ref, nh);
    veil_write_vec(out, VEIL_LEN_U32, p->enc, p->enc_len);
    veil_write_u8(out, p->sender.type);
    veil_write_u32(out, p->sender.index);
    veil_write_u8(out, p->upd_priv ? 1 : 0);
    if (p->upd_priv)
      write_secret(out, p->upd_priv, sk);
  }
  veil_write_u32(out, g->n_hist);
  for (uint32_t i = 0; i < g->n_hist; i++) {
    veil_write_u64(out, g->psk_hist[i].epoch);
    write_secret(out, g->psk_hist[i].psk, nh);
  }
  veil_write_u8(out, (uint8_t)g->has_last_commit);
  veil_write_bytes(out, g->last_commit, nh);
  veil_write_u8(out, (uint8_t)g->active);
  /* The pending own Commit's next state, one level deep, and its message hash. */
  veil_write_u8(out, g->pending ? 1 : 0);
  if (g->pending) {
    if (g->pending->pending)
      return VEIL_ESTATE;
    veil_writer_open_block(out, VEIL_LEN_U32, &b);
    mls_group_serialize(g->pending, out);
    veil_writer_close_block(out, &b);
    veil_write_bytes(out, g->pending_hash, nh);
  }
  return out->err;
}

static int read_flag(veil_reader_t *r, int *v) {
  uint8_t b = 0;
  veil_read_u8(r, &b);
  if (b > 1)
    return veil_reader_fail(r, VEIL_EDECODE);
  *v = b;
  return r->err;
}

/* The ratchet tree must be the one the epoch's GroupContext commits to. Computing its hash
 * here also fills every node's hash cache, so the first Commit processed after a restore
 * hashes only the changed path, not the whole tree. */
static int tree_matches_context(mls_group_t *g) {
  veil_reader_t r;
  veil_reader_init(&r, g->gc.buf, g->gc.len);
  mls_group_context_t gc;
  uint8_t h[MLS_HASH_MAX];
  if (mls_group_context_decode(&r, &gc) != 0 || gc.tree_hash.len != g->suite->nh)
    return VEIL_EMLS_STATE_BLOB;
  int rc = mls_tree_root_hash(g->tree, h);
  if (rc)
    return rc;
  return memcmp(h, gc.tree_hash.ptr, g->suite->nh) ? VEIL_EMLS_STATE_BLOB : 0;
}

static int deserialize_at(const uint8_t *buf, size_t len, const mls_group_config_t *cfg,
                          int depth, mls_group_t **out) {
  veil_reader_t r, tr;
  uint32_t magic = 0, leaves = 0, n = 0;
  uint16_t suite = 0;
  veil_view_t v;
  veil_reader_init(&r, buf, len);
  veil_read_u32(&r, &magic);
  veil_read_u16(&r, &suite);
  const mls_suite_t *s = mls_suite_get(suite);
  if (r.err || magic != STATE_MAGIC || !s)
    return VEIL_EMLS_STATE_BLOB;
  size_t nh = s->nh, sk = s->hpke_sk_len;
  mls_group_t *g = grp_alloc(s, cfg);
  if (!g)
    return VEIL_ENOMEM;
  int rc = 0;
  veil_read_vec(&r, VEIL_LEN_U32, MLS_MAX_OPAQUE, &v);
  if (r.err || (rc = grp_set_group_id(g, v.ptr, v.len)) != 0)
    goto fail;
  veil_read_u64(&r, &g->epoch);
  veil_read_u32(&r, &g->gc_ext_count);
  veil_read_vec(&r, VEIL_LEN_U32, MLS_MAX_OPAQUE, &v);
  if (r.err || (v.len && (rc = veil_write_bytes(&g->gc_ext, v.ptr, v.len)) != 0))
    goto fail;
  if (veil_reader_open_block(&r, VEIL_LEN_U32, &tr) != 0)
    goto fail;
  rc = mls_tree_parse(s->id, tr.p, veil_reader_remaining(&tr), &g->tree);
  veil_skip(&tr, veil_reader_remaining(&tr));
  veil_reader_close_block(&r, &tr);
  if (rc)
    goto fail;
  veil_read_u32(&r, &leaves);
  if (r.err || leaves != mls_tree_leaf_count(g->tree))
    goto fail;
  uint32_t me = 0;
  uint8_t lp[MLS_HPKE_SK_MAX] = {0};
  veil_read_u32(&r, &me);
  veil_read_copy(&r, lp, sk);
  mls_tree_priv_init(&g->priv, s, me, lp);
  vc_wipe(lp, sizeof(lp));
  veil_read_u32(&r, &n);
  if (r.err || n > MLS_MAX_PATH)
    goto fail;
  g->priv.n = n;
  for (uint32_t i = 0; i < n; i++) {
    veil_read_u32(&r, &g->priv.node[i]);
    veil_read_copy(&r, g->priv.priv[i], sk);
  }
  veil_read_copy(&r, g->sig_priv, s->sig_priv_len);
  veil_view_t c, im;
  veil_read_vec(&r, VEIL_LEN_U8, MLS_HASH_MAX, &c);
  veil_read_vec(&r, VEIL_LEN_U8, MLS_HASH_MAX, &im);
  if (r.err || mls_transcript_set(&g->transcript, s, c.ptr, c.len, im.ptr, im.len) != 0)
    goto fail;
  veil_read_vec(&r, VEIL_LEN_U32, MLS_MAX_OPAQUE, &v);
  if (r.err || v.len == 0 || (rc = veil_write_bytes(&g->gc, v.ptr, v.len)) != 0)
    goto fail;
  mls_epoch_secrets_t *e = &g->secrets;
  e->suite = s;
  e->nh = nh;
  uint8_t *keep[] = {e->welcome_secret,  e->sender_data_secret, e->exporter_secret,
                     e->external_secret, e->confirmation_key,   e->membership_key,
                     e->resumption_psk,  e->epoch_authenticator, e->init_secret};
  for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
    veil_read_copy(&r, keep[i], nh);
  if (r.err || mls_secret_tree_deserialize(s, &r, &g->st) != 0)
    goto fail;
  veil_read_u32(&r, &n);
  if (r.err || n > GRP_MAX_PROPOSALS)
    goto fail;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t ref[MLS_HASH_MAX], upd[MLS_HPKE_SK_MAX] = {0};
    mls_sender_t snd = {0};
    int has_upd = 0;
    veil_read_copy(&r, ref, nh);
    veil_read_vec(&r, VEIL_LEN_U32, MLS_MAX_OPAQUE, &v);
    veil_read_u8(&r, &snd.type);
    veil_read_u32(&r, &snd.index);
    read_flag(&r, &has_upd);
    if (has_upd)
      veil_read_copy(&r, upd, sk);
    if (r.err)
      goto fail;
    /* The cached proposal must decode exactly: Commits re-read it by reference. */
    mls_proposal_t p;
    veil_reader_init(&tr, v.ptr, v.len);
    mls_proposal_decode(&tr, &p);
    if (veil_reader_finish(&tr) != 0)
      goto fail;
    rc = grp_props_add(g, ref, v.ptr, v.len, snd, has_upd ? upd : NULL);
    vc_wipe(upd, sizeof(upd));
    if (rc)
      goto fail;
  }
  veil_read_u32(&r, &n);
  if (r.err || n > GRP_PSK_HISTORY)
    goto fail;
  for (uint32_t i = 0; i < n; i++) {
    veil_read_u64(&r, &g->psk_hist[i].epoch);
    veil_read_copy(&r, g->psk_hist[i].psk, nh);
  }
  g->n_hist = n;
  read_flag(&r, &g->has_last_commit);
  veil_read_copy(&r, g->last_commit, nh);
  read_flag(&r, &g->active);
  int has_pending = 0;
  read_flag(&r, &has_pending);
  if (has_pending) {
    if (depth > 0 || veil_reader_open_block(&r, VEIL_LEN_U32, &tr) != 0)
      goto fail; /* nesting bounded before recursing */
    rc = deserialize_at(tr.p, veil_reader_remaining(&tr), cfg, depth + 1, &g->pending);
    veil_skip(&tr, veil_reader_remaining(&tr));
    veil_reader_close_block(&r, &tr);
    if (rc)
      goto fail;
    veil_read_copy(&r, g->pending_hash, nh);
    /* One level only: a pending state has no pending state of its own, and it is the
     * next epoch of this one. */
    if (g->pending->pending || g->pending->epoch != g->epoch + 1)
      goto fail;
  }
  if (veil_reader_finish(&r) != 0)
    goto fail;
  /* Cross-checks: the secret tree spans the ratchet tree, our leaf is there, and the
   * GroupContext is this group's at this epoch. */
  mls_framing_ctx_t ctx;
  if ((g->active && !mls_tree_leaf(g->tree, me)) || grp_framing(g, &ctx) != 0 ||
      ctx.epoch != g->epoch || ctx.group_id.len != g->group_id_len ||
      (g->group_id_len && memcmp(ctx.group_id.ptr, g->group_id, g->group_id_len) != 0))
    goto fail;
  if ((rc = tree_matches_context(g)))
    goto fail;
  *out = g;
  return 0;
fail:
  mls_group_free(g);
  return rc == VEIL_ENOMEM ? rc : VEIL_EMLS_STATE_BLOB;
}

int mls_group_deserialize(const uint8_t *buf, size_t len, const mls_group_config_t *cfg,
                          mls_group_t **out) {
  if (!buf || !out)
    return VEIL_EINVAL;
  return deserialize_at(buf, len, cfg, 0, out);
}
