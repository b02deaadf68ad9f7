/*
 * veil MLS group — state plumbing, group creation (§11), application data, exporter,
 * roster. Contract in group.h; the Commit engine is group_commit.c, receiving is
 * group_process.c, joining group_join.c, persistence state.c.
 */
#include "clients/lib/mls/group_internal.h"

#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/credential.h"

mls_group_t *grp_alloc(const mls_suite_t *s, const mls_group_config_t *cfg) {
  mls_group_t *g = calloc(1, sizeof(*g));
  if (!g)
    return NULL;
  g->suite = s;
  if (cfg)
    g->cfg = *cfg;
  veil_writer_init_growable(&g->gc_ext, 0);
  veil_writer_init_growable(&g->gc, 0);
  mls_transcript_init(&g->transcript, s);
  g->active = 1;
  return g;
}

int grp_set_group_id(mls_group_t *g, const uint8_t *id, size_t len) {
  uint8_t *c = malloc(len ? len : 1);
  if (!c)
    return VEIL_ENOMEM;
  if (len)
    memcpy(c, id, len);
  free(g->group_id);
  g->group_id = c;
  g->group_id_len = len;
  return 0;
}

void grp_props_clear(mls_group_t *g) {
  for (size_t i = 0; i < g->n_props; i++) {
    free(g->props[i].enc);
    if (g->props[i].upd_priv) {
      vc_wipe(g->props[i].upd_priv, MLS_HPKE_SK_MAX);
      free(g->props[i].upd_priv);
    }
  }
  free(g->props);
  g->props = NULL;
  g->n_props = g->cap_props = 0;
}

void grp_clear(mls_group_t *g) {
  if (!g)
    return;
  if (g->pending) {
    mls_group_free(g->pending);
    g->pending = NULL;
  }
  grp_props_clear(g);
  free(g->group_id);
  g->group_id = NULL;
  veil_writer_free(&g->gc_ext);
  veil_writer_free(&g->gc);
  mls_tree_free(g->tree);
  g->tree = NULL;
  mls_secret_tree_free(g->st);
  g->st = NULL;
  mls_tree_priv_wipe(&g->priv);
  mls_epoch_secrets_wipe(&g->secrets);
  vc_wipe(g->sig_priv, sizeof(g->sig_priv));
  vc_wipe(g->psk_hist, sizeof(g->psk_hist));
}

void mls_group_free(mls_group_t *g) {
  if (!g)
    return;
  grp_clear(g);
  vc_wipe(g, sizeof(*g));
  free(g);
}

int grp_framing(const mls_group_t *g, mls_framing_ctx_t *ctx) {
  return mls_framing_ctx_init(ctx, g->suite, g->gc.buf, g->gc.len, g->secrets.membership_key,
                              g->secrets.sender_data_secret, g->st);
}

int grp_encode_gc(const mls_group_t *g, uint64_t epoch, const uint8_t *tree_hash,
                  const mls_transcript_t *tr, veil_writer_t *out) {
  mls_group_context_t gc = {
      .version = MLS_VERSION_10,
      .cipher_suite = g->suite->id,
      .group_id = {g->group_id, g->group_id_len},
      .epoch = epoch,
      .tree_hash = {tree_hash, g->suite->nh},
      .confirmed_transcript_hash = {tr->confirmed, tr->confirmed_len},
      .extensions = {{g->gc_ext.buf, g->gc_ext.len}, g->gc_ext_count},
  };
  out->len = 0;
  out->err = 0;
  return mls_group_context_encode(out, &gc);
}

int grp_props_add(mls_group_t *g, const uint8_t *ref, const uint8_t *enc, size_t enc_len,
                  mls_sender_t sender, const uint8_t *upd_priv) {
  if (grp_props_find(g, ref, g->suite->nh))
    return 0; /* the same proposal twice: one entry */
  if (g->n_props >= GRP_MAX_PROPOSALS)
    return VEIL_ELIMIT;
  if (g->n_props == g->cap_props) {
    size_t cap = g->cap_props ? 2 * g->cap_props : 8;
    grp_proposal_t *p = realloc(g->props, cap * sizeof(*p));
    if (!p)
      return VEIL_ENOMEM;
    g->props = p;
    g->cap_props = cap;
  }
  grp_proposal_t *p = &g->props[g->n_props];
  memset(p, 0, sizeof(*p));
  memcpy(p->ref, ref, g->suite->nh);
  p->enc = malloc(enc_len ? enc_len : 1);
  if (!p->enc)
    return VEIL_ENOMEM;
  memcpy(p->enc, enc, enc_len);
  p->enc_len = enc_len;
  p->sender = sender;
  if (upd_priv) {
    p->upd_priv = malloc(MLS_HPKE_SK_MAX);
    if (!p->upd_priv) {
      free(p->enc);
      return VEIL_ENOMEM;
    }
    memcpy(p->upd_priv, upd_priv, MLS_HPKE_SK_MAX);
  }
  g->n_props++;
  return 0;
}

const grp_proposal_t *grp_props_find(const mls_group_t *g, const uint8_t *ref, size_t len) {
  if (len != g->suite->nh)
    return NULL;
  for (size_t i = 0; i < g->n_props; i++)
    if (memcmp(g->props[i].ref, ref, len) == 0)
      return &g->props[i];
  return NULL;
}

void grp_psk_push(mls_group_t *g, uint64_t epoch, const uint8_t *psk) {
  if (g->n_hist == GRP_PSK_HISTORY) {
    memmove(&g->psk_hist[0], &g->psk_hist[1], (GRP_PSK_HISTORY - 1) * sizeof(grp_psk_t));
    g->n_hist--;
  }
  g->psk_hist[g->n_hist].epoch = epoch;
  memcpy(g->psk_hist[g->n_hist].psk, psk, g->suite->nh);
  g->n_hist++;
}

int grp_psk_lookup(void *arg, const mls_psk_id_t *id, const uint8_t **psk, size_t *psk_len) {
  const mls_group_t *g = arg;
  if (id->psktype == MLS_PSK_EXTERNAL) {
    if (!g->cfg.external_psk)
      return VEIL_ENOTFOUND;
    return g->cfg.external_psk(g->cfg.external_psk_arg, id, psk, psk_len);
  }
  /* §8.6: a resumption PSK of this group's own past (or current) epochs. */
  if (id->usage != MLS_RESUMPTION_APPLICATION || id->psk_group_id.len != g->group_id_len ||
      memcmp(id->psk_group_id.ptr, g->group_id, g->group_id_len) != 0)
    return VEIL_ENOTFOUND;
  for (uint32_t i = 0; i < g->n_hist; i++)
    if (g->psk_hist[i].epoch == id->psk_epoch) {
      *psk = g->psk_hist[i].psk;
      *psk_len = g->suite->nh;
      return 0;
    }
  return VEIL_ENOTFOUND;
}

int grp_check_credential(const mls_group_t *g, const mls_leaf_node_t *leaf) {
  if (mls_credential_check_key(g->suite->id, &leaf->credential, leaf->signature_key) != 0)
    return VEIL_EMLS_CREDENTIAL;
  if (g->cfg.validate_credential &&
      g->cfg.validate_credential(g->cfg.validate_arg, &leaf->credential,
                                 leaf->signature_key) != 0)
    return VEIL_EMLS_CREDENTIAL;
  return 0;
}

const mls_list_t *grp_required_caps(const mls_group_t *g, mls_list_t *body) {
  mls_list_t exts = {{g->gc_ext.buf, g->gc_ext.len}, g->gc_ext_count};
  veil_view_t v;
  if (mls_extensions_find(&exts, MLS_EXT_REQUIRED_CAPABILITIES, &v) != 0)
    return NULL;
  body->raw = v;
  body->count = 1;
  return body;
}

int grp_install_epoch(mls_group_t *g, const mls_epoch_secrets_t *e) {
  mls_secret_tree_t *st =
      mls_secret_tree_new(g->suite, e->encryption_secret, mls_tree_leaf_count(g->tree), NULL);
  if (!st)
    return VEIL_ENOMEM;
  mls_secret_tree_free(g->st);
  g->st = st;
  g->secrets = *e;
  mls_epoch_secrets_consume_encryption(&g->secrets);
  return 0;
}

int grp_signature_key(const mls_suite_t *s, const mls_identity_t *id, uint8_t *sig_priv,
                      uint8_t *sig_pub) {
  if (!id->sig_priv)
    return vc_sig_generate(s->sig, sig_priv, sig_pub);
  memcpy(sig_priv, id->sig_priv, s->sig_priv_len);
  return vc_sig_public(s->sig, sig_priv, sig_pub);
}

int grp_stage_copy(const mls_group_t *g, mls_group_t **out) {
  mls_group_t *n = grp_alloc(g->suite, &g->cfg);
  if (!n)
    return VEIL_ENOMEM;
  int rc = grp_set_group_id(n, g->group_id, g->group_id_len);
  if (rc == 0)
    rc = mls_tree_clone(g->tree, &n->tree);
  if (rc == 0 && g->gc_ext.len)
    rc = veil_write_bytes(&n->gc_ext, g->gc_ext.buf, g->gc_ext.len);
  if (rc) {
    mls_group_free(n);
    return rc;
  }
  n->gc_ext_count = g->gc_ext_count;
  n->epoch = g->epoch;
  n->priv = g->priv;
  memcpy(n->sig_priv, g->sig_priv, sizeof(n->sig_priv));
  n->transcript = g->transcript;
  memcpy(n->psk_hist, g->psk_hist, sizeof(n->psk_hist));
  n->n_hist = g->n_hist;
  n->active = g->active;
  *out = n;
  return 0;
}

void grp_swap_in(mls_group_t *g, mls_group_t *next) {
  mls_group_config_t cfg = g->cfg;
  grp_clear(g);
  *g = *next;
  g->cfg = cfg;
  vc_wipe(next, sizeof(*next));
  free(next);
}

int grp_msg_hash(const mls_group_t *g, const uint8_t *msg, size_t len, uint8_t *out) {
  return mls_hash(g->suite, msg, len, out);
}

/* ---- group creation (§11) ------------------------------------------------------------ */

int grp_make_leaf_node(const mls_suite_t *s, const mls_credential_t *cred, veil_view_t sig_pub,
                       veil_view_t enc_pub, uint8_t source, mls_lifetime_t lifetime,
                       veil_view_t parent_hash, veil_view_t group_id, uint32_t leaf_index,
                       const uint8_t *sig_priv, veil_writer_t *out);

int mls_group_create(uint16_t cipher_suite, const uint8_t *group_id, size_t group_id_len,
                     const mls_identity_t *id, const mls_group_config_t *cfg,
                     mls_group_t **out) {
  const mls_suite_t *s = mls_suite_get(cipher_suite);
  if (!s)
    return VEIL_EMLS_SUITE;
  if (!id || !out || (!group_id && group_id_len))
    return VEIL_EINVAL;
  mls_group_t *g = grp_alloc(s, cfg);
  if (!g)
    return VEIL_ENOMEM;
  uint8_t sig_pub[MLS_SIG_PUB_MAX], enc_priv[MLS_HPKE_SK_MAX], enc_pub[MLS_HPKE_PK_MAX];
  uint8_t epoch_secret[MLS_HASH_MAX], tree_hash[MLS_HASH_MAX], tag[MLS_HASH_MAX];
  mls_epoch_secrets_t e = {0};
  veil_writer_t leaf;
  veil_writer_init_growable(&leaf, 0);
  uint32_t idx = 0;
  int rc = grp_set_group_id(g, group_id, group_id_len);
  if (rc)
    goto fail;
  rc = grp_signature_key(s, id, g->sig_priv, sig_pub);
  if (rc == 0)
    rc = hpke_generate_key_pair(s->hpke.kem_id, enc_priv, enc_pub);
  if (rc)
    goto fail;
  uint64_t now = cfg ? cfg->now : 0;
  mls_lifetime_t lt = {now > 3600 ? now - 3600 : 0, now ? now + 90ull * 86400 : UINT64_MAX};
  rc = grp_make_leaf_node(s, &id->credential, (veil_view_t){sig_pub, s->sig_pub_len},
                          (veil_view_t){enc_pub, s->hpke_pk_len}, MLS_LEAF_SRC_KEY_PACKAGE, lt,
                          (veil_view_t){NULL, 0}, (veil_view_t){NULL, 0}, 0, g->sig_priv,
                          &leaf);
  if (rc == 0)
    rc = mls_tree_new(cipher_suite, &g->tree);
  if (rc == 0) {
    veil_reader_t r;
    mls_leaf_node_t ln;
    veil_reader_init(&r, leaf.buf, leaf.len);
    rc = mls_leaf_node_decode(&r, &ln);
    if (rc == 0)
      rc = grp_check_credential(g, &ln);
    if (rc == 0)
      rc = mls_tree_add(g->tree, &ln, &idx);
  }
  if (rc)
    goto fail;
  mls_tree_priv_init(&g->priv, s, idx, enc_priv);
  /* §11: epoch 0 from a random epoch_secret; empty transcript, interim hash from the
   * confirmation tag over the empty confirmed hash (§8.2). */
  rc = vc_random(epoch_secret, s->nh);
  if (rc == 0)
    rc = mls_ks_from_epoch_secret(s, epoch_secret, &e);
  if (rc == 0)
    rc = mls_tree_root_hash(g->tree, tree_hash);
  if (rc == 0)
    rc = grp_encode_gc(g, 0, tree_hash, &g->transcript, &g->gc);
  if (rc == 0)
    rc = mls_ks_confirmation_tag(&e, g->transcript.confirmed, 0, tag);
  if (rc == 0)
    rc = mls_transcript_set_interim(&g->transcript, tag, s->nh);
  if (rc == 0)
    rc = grp_install_epoch(g, &e);
  if (rc)
    goto fail;
  grp_psk_push(g, 0, g->secrets.resumption_psk);
  *out = g;
  g = NULL;
fail:
  vc_wipe(enc_priv, sizeof(enc_priv));
  vc_wipe(epoch_secret, sizeof(epoch_secret));
  mls_epoch_secrets_wipe(&e);
  veil_writer_free(&leaf);
  mls_group_free(g);
  return rc;
}

/* ---- application data (§6.3) ---------------------------------------------------------- */

int mls_group_protect(mls_group_t *g, const uint8_t *data, size_t len, const uint8_t *aad,
                      size_t aad_len, veil_writer_t *out) {
  if (!g || !out || (!data && len) || (!aad && aad_len))
    return VEIL_EINVAL;
  if (!g->active)
    return VEIL_EMLS_REMOVED_MEMBER;
  mls_framing_ctx_t ctx;
  int rc = grp_framing(g, &ctx);
  if (rc)
    return rc;
  mls_framed_content_t c = {
      .group_id = {g->group_id, g->group_id_len},
      .epoch = g->epoch,
      .sender = {MLS_SENDER_MEMBER, g->priv.leaf_index},
      .authenticated_data = {aad, aad_len},
      .content_type = MLS_CT_APPLICATION,
      .application_data = {data, len},
  };
  return mls_private_protect(&ctx, &c, g->sig_priv, (veil_view_t){NULL, 0}, out);
}

/* ---- accessors ------------------------------------------------------------------------ */

uint16_t mls_group_cipher_suite(const mls_group_t *g) { return g->suite->id; }
veil_view_t mls_group_id(const mls_group_t *g) {
  return (veil_view_t){g->group_id, g->group_id_len};
}
uint64_t mls_group_epoch(const mls_group_t *g) { return g->epoch; }
uint32_t mls_group_own_leaf(const mls_group_t *g) { return g->priv.leaf_index; }
int mls_group_active(const mls_group_t *g) { return g->active; }
veil_view_t mls_group_epoch_authenticator(const mls_group_t *g) {
  return (veil_view_t){g->secrets.epoch_authenticator, g->suite->nh};
}
int mls_group_export(const mls_group_t *g, const uint8_t *label, size_t label_len,
                     const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len) {
  if (!g || !out || (!label && label_len) || (!context && context_len))
    return VEIL_EINVAL;
  if (!g->active)
    return VEIL_EMLS_REMOVED_MEMBER;
  return mls_ks_export(&g->secrets, label, label_len, context, context_len, out, out_len);
}
uint32_t mls_group_leaf_count(const mls_group_t *g) { return mls_tree_leaf_count(g->tree); }
const mls_leaf_node_t *mls_group_member(const mls_group_t *g, uint32_t leaf_index) {
  return mls_tree_leaf(g->tree, leaf_index);
}
uint32_t mls_group_member_count(const mls_group_t *g) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < mls_tree_leaf_count(g->tree); i++)
    n += mls_tree_leaf(g->tree, i) != NULL;
  return n;
}
int mls_group_ratchet_tree(const mls_group_t *g, veil_writer_t *out) {
  if (!g || !out)
    return VEIL_EINVAL;
  return mls_tree_encode(g->tree, out);
}
