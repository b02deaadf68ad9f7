/*
 * veil — SFrame keys from MLS epochs (RFC 9605 §5.2). Contract in sframe.h.
 *
 * base_key = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk) is computed by the MLS
 * library and handed in as bytes, so this file does not depend on it. Every member of an
 * epoch shares that base_key; what separates senders is the KID, which enters the key and
 * salt derivation (§4.4.2):
 *
 *   KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E))
 *
 * with S the smallest value such that n_leaves <= (1 << S). Because the epoch sits in the
 * low E bits, a receiver finds the epoch first and then reads index and context with
 * that epoch's S (S changes as the tree grows or shrinks).
 *
 * Keys are derived on demand and installed in the underlying sframe_ctx_t: ours (send
 * only) on our first frame in a context, a peer's (receive only) on its first frame. A
 * peer key derived for a frame that then fails to authenticate is removed again, so a
 * forger cannot fill the key table with keys nobody uses; the cost of a forged frame is
 * one HKDF. Held epochs are few (at most 16), so finding one is a short scan.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/sframe/sframe_internal.h"

#define EPOCHS_KEPT_MAX 16
#define CONTEXTS_MAX (1u << 16)

typedef struct mls_epoch {
  int used;
  uint64_t epoch;
  uint32_t n_leaves;
  uint32_t own_leaf;
  unsigned s_bits;       /* S */
  uint8_t secret[48];    /* base_key (exporter output), secret; wiped on drop */
} mls_epoch_t;

struct sframe_mls {
  sframe_ctx_t *ctx; /* owned */
  size_t nk;
  unsigned e_bits;   /* E */
  uint32_t epochs_kept;
  uint32_t max_contexts;
  int have_current;
  uint64_t current;  /* newest epoch: the one we send in */
  mls_epoch_t epochs[EPOCHS_KEPT_MAX];
};

int sframe_mls_new(sframe_mls_t **out, const sframe_mls_config_t *cfg) {
  *out = NULL;
  if (!cfg)
    return VEIL_EINVAL;
  uint32_t e = cfg->epoch_bits ? cfg->epoch_bits : SFRAME_MLS_EPOCH_BITS_DEFAULT;
  uint32_t kept = cfg->epochs_kept ? cfg->epochs_kept : SFRAME_MLS_EPOCHS_KEPT_DEFAULT;
  uint32_t nctx = cfg->max_contexts ? cfg->max_contexts : SFRAME_MLS_CONTEXTS_DEFAULT;
  /* More epochs than 2^E could not be told apart by their low bits (§5.2). */
  if (e > 16 || kept > EPOCHS_KEPT_MAX || kept > (UINT32_C(1) << e) || nctx > CONTEXTS_MAX)
    return VEIL_ERANGE;
  sframe_mls_t *m = calloc(1, sizeof(*m));
  if (!m)
    return VEIL_ENOMEM;
  sframe_ctx_config_t cc = {
      .suite = cfg->suite, .replay_window = cfg->replay_window, .max_keys = cfg->max_keys};
  int rc = sframe_ctx_new(&m->ctx, &cc);
  if (rc) {
    free(m);
    return rc;
  }
  m->nk = sframe_suite_nk(cfg->suite);
  m->e_bits = e;
  m->epochs_kept = kept;
  m->max_contexts = nctx;
  *out = m;
  return 0;
}

static void drop_epoch(sframe_mls_t *m, mls_epoch_t *ep) {
  uint64_t mask = (UINT64_C(1) << m->e_bits) - 1;
  /* Every KID of the epoch carries its low E bits, and no other held epoch shares them,
   * so this removes (and wipes) exactly that epoch's keys. */
  sframe_ctx_remove_keys_matching(m->ctx, mask, ep->epoch & mask);
  vc_wipe(ep, sizeof(*ep));
}

void sframe_mls_free(sframe_mls_t *m) {
  if (!m)
    return;
  for (size_t i = 0; i < EPOCHS_KEPT_MAX; i++)
    vc_wipe(&m->epochs[i], sizeof(m->epochs[i]));
  sframe_ctx_free(m->ctx);
  free(m);
}

size_t sframe_mls_exporter_len(const sframe_mls_t *m) { return m->nk; }
sframe_ctx_t *sframe_mls_ctx(sframe_mls_t *m) { return m->ctx; }

static mls_epoch_t *find_epoch(sframe_mls_t *m, uint64_t epoch) {
  for (size_t i = 0; i < EPOCHS_KEPT_MAX; i++)
    if (m->epochs[i].used && m->epochs[i].epoch == epoch)
      return &m->epochs[i];
  return NULL;
}

static mls_epoch_t *find_epoch_bits(sframe_mls_t *m, uint64_t bits) {
  uint64_t mask = (UINT64_C(1) << m->e_bits) - 1;
  for (size_t i = 0; i < EPOCHS_KEPT_MAX; i++)
    if (m->epochs[i].used && (m->epochs[i].epoch & mask) == bits)
      return &m->epochs[i];
  return NULL;
}

int sframe_mls_has_epoch(const sframe_mls_t *m, uint64_t epoch) {
  return find_epoch((sframe_mls_t *)m, epoch) != NULL;
}

int sframe_mls_add_epoch(sframe_mls_t *m, uint64_t epoch, const uint8_t *exporter_secret,
                         size_t secret_len, uint32_t n_leaves, uint32_t own_leaf) {
  if (!exporter_secret || secret_len != m->nk || n_leaves == 0 || own_leaf >= n_leaves)
    return VEIL_EINVAL;
  if (m->have_current && epoch <= m->current)
    return VEIL_ERANGE;
  unsigned s = 0;
  while (s < 32 && (UINT64_C(1) << s) < n_leaves)
    s++;
  if (s + m->e_bits > 64)
    return VEIL_ERANGE;
  /* §5.2: "receivers MUST remove an old epoch when a new epoch with the same low-order E
   * bits is introduced". */
  mls_epoch_t *same = find_epoch_bits(m, epoch & ((UINT64_C(1) << m->e_bits) - 1));
  if (same)
    drop_epoch(m, same);
  /* Keep at most epochs_kept: drop the oldest until there is room for one more. */
  for (;;) {
    size_t used = 0;
    mls_epoch_t *oldest = NULL;
    for (size_t i = 0; i < EPOCHS_KEPT_MAX; i++) {
      if (!m->epochs[i].used)
        continue;
      used++;
      if (!oldest || m->epochs[i].epoch < oldest->epoch)
        oldest = &m->epochs[i];
    }
    if (used < m->epochs_kept)
      break;
    drop_epoch(m, oldest);
  }
  mls_epoch_t *slot = NULL;
  for (size_t i = 0; i < EPOCHS_KEPT_MAX && !slot; i++)
    if (!m->epochs[i].used)
      slot = &m->epochs[i];
  slot->used = 1;
  slot->epoch = epoch;
  slot->n_leaves = n_leaves;
  slot->own_leaf = own_leaf;
  slot->s_bits = s;
  memcpy(slot->secret, exporter_secret, secret_len);
  m->current = epoch;
  m->have_current = 1;
  return 0;
}

static int make_kid(const sframe_mls_t *m, const mls_epoch_t *ep, uint32_t index,
                    uint64_t context, uint64_t *kid) {
  if (index >= ep->n_leaves || context >= m->max_contexts)
    return VEIL_ESFRAME_SENDER;
  unsigned shift = ep->s_bits + m->e_bits;
  if (context && (shift >= 64 || (context >> (64 - shift)) != 0))
    return VEIL_ESFRAME_SENDER;
  uint64_t mask = (UINT64_C(1) << m->e_bits) - 1;
  *kid = (shift < 64 ? context << shift : 0) | ((uint64_t)index << m->e_bits) |
         (ep->epoch & mask);
  return 0;
}

int sframe_mls_kid(const sframe_mls_t *m, uint64_t epoch, uint32_t sender_index,
                   uint64_t context, uint64_t *kid) {
  const mls_epoch_t *ep = find_epoch((sframe_mls_t *)m, epoch);
  if (!ep)
    return VEIL_ESFRAME_EPOCH;
  return make_kid(m, ep, sender_index, context, kid);
}

int sframe_mls_send_kid(sframe_mls_t *m, uint64_t context, uint64_t *kid) {
  mls_epoch_t *ep = m->have_current ? find_epoch(m, m->current) : NULL;
  if (!ep)
    return VEIL_ESFRAME_EPOCH;
  int rc = make_kid(m, ep, ep->own_leaf, context, kid);
  if (rc)
    return rc;
  if (!sframe_ctx_has_key(m->ctx, *kid))
    rc = sframe_ctx_add_key(m->ctx, *kid, SFRAME_KEY_SEND, ep->secret, m->nk);
  return rc;
}

int sframe_mls_encrypt(sframe_mls_t *m, uint64_t context, const uint8_t *metadata,
                       size_t meta_len, const uint8_t *pt, size_t pt_len, uint8_t *out,
                       size_t out_cap, size_t *out_len) {
  uint64_t kid;
  int rc = sframe_mls_send_kid(m, context, &kid);
  if (rc)
    return rc;
  return sframe_ctx_encrypt(m->ctx, kid, metadata, meta_len, pt, pt_len, out, out_cap,
                            out_len);
}

int sframe_mls_decrypt(sframe_mls_t *m, const uint8_t *metadata, size_t meta_len,
                       const uint8_t *ct, size_t ct_len, uint8_t *out, size_t out_cap,
                       size_t *out_len, sframe_mls_sender_t *who) {
  veil_reader_t r;
  veil_reader_init(&r, ct, ct_len);
  sframe_header_t h;
  int rc = sframe_header_decode(&r, &h);
  if (rc)
    return rc;
  uint64_t emask = (UINT64_C(1) << m->e_bits) - 1;
  mls_epoch_t *ep = find_epoch_bits(m, h.kid & emask);
  if (!ep)
    return VEIL_ESFRAME_EPOCH;
  unsigned shift = ep->s_bits + m->e_bits;
  uint64_t index = (h.kid >> m->e_bits) & ((UINT64_C(1) << ep->s_bits) - 1);
  uint64_t context = shift < 64 ? h.kid >> shift : 0;
  if (index >= ep->n_leaves || context >= m->max_contexts)
    return VEIL_ESFRAME_SENDER;
  /* Our own KIDs are send-only (§4.4.1): a frame carrying one is a reflection. */
  if (index == ep->own_leaf)
    return VEIL_ESFRAME_KEY_USAGE;
  int derived = 0;
  if (!sframe_ctx_has_key(m->ctx, h.kid)) {
    rc = sframe_ctx_add_key(m->ctx, h.kid, SFRAME_KEY_RECV, ep->secret, m->nk);
    if (rc)
      return rc;
    derived = 1;
  }
  rc = sframe_ctx_decrypt(m->ctx, metadata, meta_len, ct, ct_len, out, out_cap, out_len,
                          NULL);
  if (rc) {
    if (derived)
      sframe_ctx_remove_key(m->ctx, h.kid);
    return rc;
  }
  if (who) {
    who->epoch = ep->epoch;
    who->sender_index = (uint32_t)index;
    who->context = context;
  }
  return 0;
}

typedef struct mls_depkt {
  sframe_mls_t *m;
  const uint8_t *meta;
  size_t meta_len;
  uint8_t *out;
  size_t cap;
  size_t *out_len;
  sframe_mls_sender_t *who;
} mls_depkt_t;

static int mls_decrypt_cb(void *arg, const uint8_t *frame, size_t len, uint32_t ts,
                          int start_known) {
  (void)ts, (void)start_known;
  mls_depkt_t *d = arg;
  return sframe_mls_decrypt(d->m, d->meta, d->meta_len, frame, len, d->out, d->cap,
                            d->out_len, d->who);
}

int sframe_mls_depacketize(sframe_reasm_t *r, sframe_mls_t *m, const uint8_t *metadata,
                           size_t meta_len, uint8_t *out, size_t out_cap, size_t *out_len,
                           sframe_mls_sender_t *who) {
  mls_depkt_t d = {m, metadata, meta_len, out, out_cap, out_len, who};
  return sframe_reasm_pop(r, mls_decrypt_cb, &d);
}
