/*
 * veil — SFrame context: keys by KID, send counters, replay windows (RFC 9605 §4.4,
 * §7.4, §9.1, §9.3, Appendix A). Contract in sframe.h.
 *
 * Keys live in an open-addressing table (linear probing, backward-shift deletion) sized
 * at creation to a power of two at least twice max_keys, so lookups on the media path are
 * O(1) expected and never allocate; each key and its replay bitmap are allocated once,
 * when the key is added.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/sframe/sframe_internal.h"

typedef struct sframe_key {
  uint64_t kid;
  sframe_key_usage_t usage;
  sframe_cipher_t cipher; /* owned; wiped on removal */
  /* send keys: the next CTR; `exhausted` once CTR 2^64-1 has been used (§7.4: a CTR,
   * hence a nonce, is never used twice, so the counter does not wrap). */
  uint64_t next_ctr;
  int exhausted;
  /* receive keys: RFC 3711 §3.3.2-style window. `top` is the highest CTR accepted; bit
   * (top - ctr) of `seen` records whether ctr was accepted, for top - ctr < window. */
  int have_top;
  uint64_t top;
  uint64_t *seen; /* owned; window / 64 words */
} sframe_key_t;

struct sframe_ctx {
  sframe_suite_t suite;
  size_t nt;
  uint32_t window;   /* replay window in frames, a multiple of 64 */
  uint32_t max_keys;
  uint32_t n_keys;
  size_t cap;        /* table slots, a power of two */
  sframe_key_t **slots; /* owned; NULL = empty */
};

static size_t slot_of(const sframe_ctx_t *c, uint64_t kid) {
  /* Fibonacci hashing: spreads sequential KIDs (the common case) over the table. */
  return (size_t)((kid * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (c->cap - 1);
}

static sframe_key_t *find(const sframe_ctx_t *c, uint64_t kid, size_t *pos) {
  for (size_t i = slot_of(c, kid), n = 0; n < c->cap; i = (i + 1) & (c->cap - 1), n++) {
    sframe_key_t *k = c->slots[i];
    if (!k)
      return NULL;
    if (k->kid == kid) {
      if (pos)
        *pos = i;
      return k;
    }
  }
  return NULL;
}

static void key_free(sframe_key_t *k, uint32_t window) {
  sframe_cipher_clear(&k->cipher);
  if (k->seen)
    vc_wipe(k->seen, window / 8);
  free(k->seen);
  vc_wipe(k, sizeof(*k));
  free(k);
}

int sframe_ctx_new(sframe_ctx_t **out, const sframe_ctx_config_t *cfg) {
  *out = NULL;
  if (!cfg || !sframe_suite_valid(cfg->suite))
    return VEIL_EUNSUPPORTED;
  uint32_t window = cfg->replay_window ? cfg->replay_window : SFRAME_REPLAY_WINDOW_DEFAULT;
  if (window > SFRAME_REPLAY_WINDOW_MAX)
    return VEIL_ERANGE;
  window = (window + 63) / 64 * 64;
  uint32_t max_keys = cfg->max_keys ? cfg->max_keys : SFRAME_MAX_KEYS_DEFAULT;
  if (max_keys > (1u << 20))
    return VEIL_ERANGE;
  sframe_ctx_t *c = calloc(1, sizeof(*c));
  if (!c)
    return VEIL_ENOMEM;
  c->suite = cfg->suite;
  c->nt = sframe_suite_nt(cfg->suite);
  c->window = window;
  c->max_keys = max_keys;
  c->cap = 16;
  while (c->cap < 2 * (size_t)max_keys)
    c->cap *= 2;
  c->slots = calloc(c->cap, sizeof(*c->slots));
  if (!c->slots) {
    free(c);
    return VEIL_ENOMEM;
  }
  *out = c;
  return 0;
}

void sframe_ctx_free(sframe_ctx_t *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->cap; i++)
    if (c->slots[i])
      key_free(c->slots[i], c->window);
  free(c->slots);
  free(c);
}

sframe_suite_t sframe_ctx_suite(const sframe_ctx_t *c) { return c->suite; }

int sframe_ctx_add_key(sframe_ctx_t *c, uint64_t kid, sframe_key_usage_t usage,
                       const uint8_t *base_key, size_t base_key_len) {
  if (usage != SFRAME_KEY_SEND && usage != SFRAME_KEY_RECV)
    return VEIL_EINVAL;
  if (!base_key || base_key_len == 0)
    return VEIL_EINVAL;
  if (find(c, kid, NULL))
    return VEIL_EEXIST;
  if (c->n_keys >= c->max_keys)
    return VEIL_ESFRAME_FULL;
  uint8_t key[48], salt[SFRAME_NONCE_LEN];
  sframe_key_t *k = calloc(1, sizeof(*k));
  int rc = VEIL_ENOMEM;
  if (!k)
    goto fail;
  k->kid = kid;
  k->usage = usage;
  if (usage == SFRAME_KEY_RECV) {
    k->seen = calloc(c->window / 64, sizeof(uint64_t));
    if (!k->seen)
      goto fail;
  }
  rc = sframe_derive_key_salt(c->suite, kid, base_key, base_key_len, key, salt);
  if (rc)
    goto fail;
  rc = sframe_cipher_init(&k->cipher, c->suite, key, salt);
  if (rc)
    goto fail;
  size_t i = slot_of(c, kid);
  while (c->slots[i])
    i = (i + 1) & (c->cap - 1);
  c->slots[i] = k;
  c->n_keys++;
  vc_wipe(key, sizeof(key));
  vc_wipe(salt, sizeof(salt));
  return 0;
fail:
  vc_wipe(key, sizeof(key));
  vc_wipe(salt, sizeof(salt));
  if (k)
    key_free(k, c->window);
  return rc;
}

/* Backward-shift deletion (Knuth 6.4 algorithm R): moves later entries of the probe run
 * into the hole so lookups never need tombstones. */
static void remove_at(sframe_ctx_t *c, size_t hole) {
  key_free(c->slots[hole], c->window);
  c->slots[hole] = NULL;
  c->n_keys--;
  size_t mask = c->cap - 1;
  for (size_t j = (hole + 1) & mask; c->slots[j]; j = (j + 1) & mask) {
    size_t home = slot_of(c, c->slots[j]->kid);
    /* Move j into the hole unless its home lies cyclically in (hole, j]. */
    int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      c->slots[hole] = c->slots[j];
      c->slots[j] = NULL;
      hole = j;
    }
  }
}

int sframe_ctx_remove_key(sframe_ctx_t *c, uint64_t kid) {
  size_t pos;
  if (!find(c, kid, &pos))
    return VEIL_ENOTFOUND;
  remove_at(c, pos);
  return 0;
}

int sframe_ctx_remove_keys_matching(sframe_ctx_t *c, uint64_t mask, uint64_t value) {
  int n = 0;
  /* Deleting shifts entries backwards, so rescan a slot after removing from it. */
  for (size_t i = 0; i < c->cap;) {
    sframe_key_t *k = c->slots[i];
    if (k && (k->kid & mask) == value) {
      remove_at(c, i);
      n++;
      continue;
    }
    i++;
  }
  return n;
}

int sframe_ctx_has_key(const sframe_ctx_t *c, uint64_t kid) { return find(c, kid, NULL) != NULL; }

int sframe_ctx_advance_ctr(sframe_ctx_t *c, uint64_t kid, uint64_t next_ctr) {
  sframe_key_t *k = find(c, kid, NULL);
  if (!k)
    return VEIL_ESFRAME_KID;
  if (k->usage != SFRAME_KEY_SEND)
    return VEIL_ESFRAME_KEY_USAGE;
  if (k->exhausted || next_ctr < k->next_ctr)
    return VEIL_ERANGE;
  k->next_ctr = next_ctr;
  return 0;
}

int sframe_ctx_next_ctr(const sframe_ctx_t *c, uint64_t kid, uint64_t *next_ctr) {
  const sframe_key_t *k = find(c, kid, NULL);
  if (!k)
    return VEIL_ESFRAME_KID;
  if (k->usage != SFRAME_KEY_SEND)
    return VEIL_ESFRAME_KEY_USAGE;
  if (k->exhausted)
    return VEIL_ESFRAME_CTR_EXHAUSTED;
  *next_ctr = k->next_ctr;
  return 0;
}

size_t sframe_ctx_ciphertext_len(const sframe_ctx_t *c, uint64_t kid, size_t pt_len) {
  const sframe_key_t *k = find(c, kid, NULL);
  uint64_t ctr = k && k->usage == SFRAME_KEY_SEND ? k->next_ctr : UINT64_MAX;
  return sframe_header_size(kid, ctr) + pt_len + c->nt;
}

int sframe_ctx_encrypt(sframe_ctx_t *c, uint64_t kid, const uint8_t *metadata,
                       size_t meta_len, const uint8_t *pt, size_t pt_len, uint8_t *out,
                       size_t out_cap, size_t *out_len) {
  if (meta_len > SFRAME_METADATA_MAX)
    return VEIL_ELIMIT;
  if ((!metadata && meta_len) || (!pt && pt_len) || !out)
    return VEIL_EINVAL;
  sframe_key_t *k = find(c, kid, NULL);
  if (!k)
    return VEIL_ESFRAME_KID;
  if (k->usage != SFRAME_KEY_SEND)
    return VEIL_ESFRAME_KEY_USAGE;
  if (k->exhausted)
    return VEIL_ESFRAME_CTR_EXHAUSTED;
  uint64_t ctr = k->next_ctr;
  size_t hlen = sframe_header_size(kid, ctr);
  if (out_cap < hlen || out_cap - hlen < c->nt || out_cap - hlen - c->nt < pt_len)
    return VEIL_EOVERFLOW;
  veil_writer_t w;
  veil_writer_init(&w, out, hlen);
  int rc = sframe_header_encode(&w, kid, ctr);
  if (rc)
    return rc;
  rc = sframe_cipher_seal(&k->cipher, ctr, out, hlen, metadata, meta_len, pt, pt_len,
                          out + hlen);
  if (rc)
    return rc;
  if (ctr == UINT64_MAX)
    k->exhausted = 1;
  else
    k->next_ctr = ctr + 1;
  *out_len = hlen + pt_len + c->nt;
  return 0;
}

/* Replay check before authentication: nothing is modified here. */
static int replay_check(const sframe_ctx_t *c, const sframe_key_t *k, uint64_t ctr) {
  if (!k->have_top || ctr > k->top)
    return 0;
  uint64_t age = k->top - ctr;
  if (age >= c->window)
    return VEIL_ESFRAME_TOO_OLD;
  if (k->seen[age / 64] & (UINT64_C(1) << (age % 64)))
    return VEIL_ESFRAME_REPLAY;
  return 0;
}

/* Marks ctr accepted; only called once the frame authenticated. Moving the top forward
 * by d shifts the bitmap by d bits (bit i = top - i). */
static void replay_accept(const sframe_ctx_t *c, sframe_key_t *k, uint64_t ctr) {
  size_t words = c->window / 64;
  if (!k->have_top || ctr > k->top) {
    uint64_t d = k->have_top ? ctr - k->top : c->window;
    if (d >= c->window) {
      memset(k->seen, 0, words * sizeof(uint64_t));
    } else {
      size_t ws = (size_t)(d / 64), bs = (size_t)(d % 64);
      for (size_t i = words; i-- > 0;) {
        uint64_t v = i >= ws ? k->seen[i - ws] << bs : 0;
        if (bs && i >= ws + 1)
          v |= k->seen[i - ws - 1] >> (64 - bs);
        k->seen[i] = v;
      }
    }
    k->top = ctr;
    k->have_top = 1;
  }
  uint64_t age = k->top - ctr;
  k->seen[age / 64] |= UINT64_C(1) << (age % 64);
}

int sframe_ctx_decrypt(sframe_ctx_t *c, const uint8_t *metadata, size_t meta_len,
                       const uint8_t *ct, size_t ct_len, uint8_t *out, size_t out_cap,
                       size_t *out_len, sframe_header_t *hdr) {
  if (meta_len > SFRAME_METADATA_MAX)
    return VEIL_ELIMIT;
  if ((!metadata && meta_len) || (!ct && ct_len))
    return VEIL_EINVAL;
  veil_reader_t r;
  veil_reader_init(&r, ct, ct_len);
  sframe_header_t h;
  int rc = sframe_header_decode(&r, &h);
  if (rc)
    return rc;
  size_t hlen = ct_len - veil_reader_remaining(&r);
  size_t body = veil_reader_remaining(&r);
  if (body < c->nt)
    return VEIL_ETRUNC;
  size_t pt_len = body - c->nt;
  if (hdr)
    *hdr = h;
  sframe_key_t *k = find(c, h.kid, NULL);
  if (!k)
    return VEIL_ESFRAME_KID;
  if (k->usage != SFRAME_KEY_RECV)
    return VEIL_ESFRAME_KEY_USAGE;
  rc = replay_check(c, k, h.ctr);
  if (rc)
    return rc;
  if (out_cap < pt_len || (!out && pt_len))
    return VEIL_EOVERFLOW;
  rc = sframe_cipher_open(&k->cipher, h.ctr, ct, hlen, metadata, meta_len, ct + hlen, body,
                          out);
  if (rc) {
    if (pt_len)
      vc_wipe(out, pt_len);
    return rc;
  }
  replay_accept(c, k, h.ctr);
  *out_len = pt_len;
  return 0;
}
