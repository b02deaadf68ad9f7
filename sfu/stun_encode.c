/*
 * veil sfu — STUN encoding (RFC 8489): the builder and the messages ICE sends.
 *
 * The builder writes through a veil_writer_t and keeps the header's length field equal to
 * what has been written, so MESSAGE-INTEGRITY and FINGERPRINT can be computed over the
 * bytes exactly as they will be sent (§14.5, §14.7).
 */
#include "sfu/stun.h"
#include "sfu/stun_hmac.h"

#include <string.h>


static int bfail(sfu_stun_builder_t *b, int err) {
  if (!b->err)
    b->err = err;
  if (b->w && !b->w->err)
    veil_writer_fail(b->w, err);
  return b->err;
}

static int bcheck(sfu_stun_builder_t *b) {
  if (!b->err && b->w->err)
    b->err = b->w->err;
  return b->err;
}

/* Sets the header length to cover everything written plus `extra` bytes. */
static void patch_len(sfu_stun_builder_t *b, size_t extra) {
  size_t n = b->w->len - b->start - SFU_STUN_HEADER_LEN + extra;
  b->w->buf[b->start + 2] = (uint8_t)(n >> 8);
  b->w->buf[b->start + 3] = (uint8_t)n;
}

int sfu_stun_begin(sfu_stun_builder_t *b, veil_writer_t *w, uint16_t method,
                   sfu_stun_class_t cls, const uint8_t tid[SFU_STUN_TID_LEN]) {
  b->w = w;
  b->start = w->len;
  b->err = 0;
  if (method > 0x0fff || (unsigned)cls > 3)
    return bfail(b, VEIL_EINVAL);
  /* §5: interleave the class bits into the method. */
  uint16_t type = (uint16_t)((method & 0x000f) | ((method & 0x0070) << 1) |
                             ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7));
  veil_write_u16(w, type);
  veil_write_u16(w, 0);
  veil_write_u32(w, SFU_STUN_MAGIC_COOKIE);
  veil_write_bytes(w, tid, SFU_STUN_TID_LEN);
  return bcheck(b);
}

int sfu_stun_put_attr(sfu_stun_builder_t *b, uint16_t type, const void *value, size_t len) {
  static const uint8_t zeros[3] = {0, 0, 0};
  if (b->err)
    return b->err;
  if (len > 0xffff - 3)
    return bfail(b, VEIL_ERANGE);
  veil_write_u16(b->w, type);
  veil_write_u16(b->w, (uint16_t)len);
  veil_write_bytes(b->w, value, len);
  veil_write_bytes(b->w, zeros, (4 - (len & 3)) & 3);
  if (bcheck(b))
    return b->err;
  if (b->w->len - b->start - SFU_STUN_HEADER_LEN > 0xffff)
    return bfail(b, VEIL_ERANGE);
  patch_len(b, 0);
  return 0;
}

int sfu_stun_put_u32(sfu_stun_builder_t *b, uint16_t type, uint32_t v) {
  uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  return sfu_stun_put_attr(b, type, x, sizeof(x));
}

int sfu_stun_put_u64(sfu_stun_builder_t *b, uint16_t type, uint64_t v) {
  uint8_t x[8];
  for (int i = 0; i < 8; i++)
    x[i] = (uint8_t)(v >> (56 - 8 * i));
  return sfu_stun_put_attr(b, type, x, sizeof(x));
}

int sfu_stun_put_xor_addr(sfu_stun_builder_t *b, uint16_t type, const sfu_stun_addr_t *a) {
  if (b->err)
    return b->err;
  uint8_t v[20];
  uint8_t mask[16] = {0x21, 0x12, 0xa4, 0x42};
  size_t alen;
  if (a->family == 4)
    alen = 4;
  else if (a->family == 6)
    alen = 16;
  else
    return bfail(b, VEIL_EINVAL);
  memcpy(mask + 4, b->w->buf + b->start + 8, SFU_STUN_TID_LEN);
  uint16_t xport = a->port ^ (uint16_t)(SFU_STUN_MAGIC_COOKIE >> 16);
  v[0] = 0;
  v[1] = a->family == 4 ? 0x01 : 0x02;
  v[2] = (uint8_t)(xport >> 8);
  v[3] = (uint8_t)xport;
  for (size_t i = 0; i < alen; i++)
    v[4 + i] = a->addr[i] ^ mask[i];
  return sfu_stun_put_attr(b, type, v, 4 + alen);
}

int sfu_stun_put_error_code(sfu_stun_builder_t *b, uint16_t code, const char *reason) {
  if (b->err)
    return b->err;
  if (code < 300 || code > 699)
    return bfail(b, VEIL_EINVAL);
  size_t rlen = reason ? strlen(reason) : 0;
  if (rlen > SFU_STUN_MAX_REASON)
    return bfail(b, VEIL_ERANGE);
  uint8_t v[4 + SFU_STUN_MAX_REASON];
  v[0] = 0;
  v[1] = 0;
  v[2] = (uint8_t)(code / 100);
  v[3] = (uint8_t)(code % 100);
  if (rlen)
    memcpy(v + 4, reason, rlen);
  return sfu_stun_put_attr(b, SFU_STUN_ATTR_ERROR_CODE, v, 4 + rlen);
}

static int put_mac(sfu_stun_builder_t *b, int sha256, uint16_t type, size_t mac_len,
                   const uint8_t *key, size_t key_len) {
  if (b->err)
    return b->err;
  uint8_t mac[SFU_STUN_HMAC_SHA256_LEN];
  /* The length covers the MAC attribute about to be appended (§14.5). */
  patch_len(b, 4 + mac_len);
  int rc = sfu_stun_hmac(sha256, key, key_len, b->w->buf + b->start, b->w->len - b->start,
                         NULL, 0, mac, mac_len);
  if (rc) {
    patch_len(b, 0);
    return bfail(b, rc);
  }
  return sfu_stun_put_attr(b, type, mac, mac_len);
}

int sfu_stun_put_integrity(sfu_stun_builder_t *b, const uint8_t *key, size_t key_len) {
  return put_mac(b, 0, SFU_STUN_ATTR_MESSAGE_INTEGRITY, SFU_STUN_HMAC_SHA1_LEN, key,
                 key_len);
}

int sfu_stun_put_integrity_sha256(sfu_stun_builder_t *b, const uint8_t *key,
                                  size_t key_len) {
  return put_mac(b, 1, SFU_STUN_ATTR_MESSAGE_INTEGRITY_SHA256,
                 SFU_STUN_HMAC_SHA256_LEN, key, key_len);
}

int sfu_stun_put_fingerprint(sfu_stun_builder_t *b) {
  if (b->err)
    return b->err;
  patch_len(b, 8);
  uint32_t crc = sfu_stun_crc32(0, b->w->buf + b->start, b->w->len - b->start) ^
                 SFU_STUN_FINGERPRINT_XOR;
  return sfu_stun_put_u32(b, SFU_STUN_ATTR_FINGERPRINT, crc);
}

int sfu_stun_finish(sfu_stun_builder_t *b, size_t *len) {
  if (bcheck(b))
    return b->err;
  *len = b->w->len - b->start;
  return 0;
}

const char *sfu_stun_reason(uint16_t code) {
  switch (code) {
  case 300:
    return "Try Alternate";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthenticated";
  case 403:
    return "Forbidden";
  case 420:
    return "Unknown Attribute";
  case 438:
    return "Stale Nonce";
  case 487:
    return "Role Conflict";
  case 500:
    return "Server Error";
  default:
    return "Error";
  }
}

int sfu_stun_encode_binding_success(uint8_t *buf, size_t cap,
                                    const uint8_t tid[SFU_STUN_TID_LEN],
                                    const sfu_stun_addr_t *mapped, const uint8_t *key,
                                    size_t key_len, size_t *len) {
  veil_writer_t w;
  sfu_stun_builder_t b;
  veil_writer_init(&w, buf, cap);
  sfu_stun_begin(&b, &w, SFU_STUN_METHOD_BINDING, SFU_STUN_SUCCESS, tid);
  sfu_stun_put_xor_addr(&b, SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, mapped);
  sfu_stun_put_integrity(&b, key, key_len);
  sfu_stun_put_fingerprint(&b);
  return sfu_stun_finish(&b, len);
}

int sfu_stun_encode_error(uint8_t *buf, size_t cap, uint16_t method,
                          const uint8_t tid[SFU_STUN_TID_LEN], uint16_t code,
                          const uint16_t *unknown, size_t n_unknown, const uint8_t *key,
                          size_t key_len, size_t *len) {
  veil_writer_t w;
  sfu_stun_builder_t b;
  veil_writer_init(&w, buf, cap);
  sfu_stun_begin(&b, &w, method, SFU_STUN_ERROR, tid);
  sfu_stun_put_error_code(&b, code, sfu_stun_reason(code));
  if (unknown && n_unknown) {
    /* §14.9: a list of 16-bit types, padded like any attribute. */
    uint8_t v[2 * SFU_STUN_MAX_UNKNOWN];
    if (n_unknown > SFU_STUN_MAX_UNKNOWN)
      n_unknown = SFU_STUN_MAX_UNKNOWN;
    for (size_t i = 0; i < n_unknown; i++) {
      v[2 * i] = (uint8_t)(unknown[i] >> 8);
      v[2 * i + 1] = (uint8_t)unknown[i];
    }
    sfu_stun_put_attr(&b, SFU_STUN_ATTR_UNKNOWN_ATTRIBUTES, v, 2 * n_unknown);
  }
  if (key)
    sfu_stun_put_integrity(&b, key, key_len);
  sfu_stun_put_fingerprint(&b);
  return sfu_stun_finish(&b, len);
}

int sfu_stun_encode_binding_request(uint8_t *buf, size_t cap,
                                    const sfu_stun_request_params_t *p, size_t *len) {
  if (!p->tid || !p->username || !p->key)
    return VEIL_EINVAL;
  size_t ulen = strlen(p->username);
  if (ulen == 0 || ulen > SFU_STUN_MAX_USERNAME)
    return VEIL_EINVAL;
  veil_writer_t w;
  sfu_stun_builder_t b;
  veil_writer_init(&w, buf, cap);
  sfu_stun_begin(&b, &w, SFU_STUN_METHOD_BINDING, SFU_STUN_REQUEST, p->tid);
  sfu_stun_put_attr(&b, SFU_STUN_ATTR_USERNAME, p->username, ulen);
  sfu_stun_put_u32(&b, SFU_STUN_ATTR_PRIORITY, p->priority);
  sfu_stun_put_u64(&b, p->controlling ? SFU_STUN_ATTR_ICE_CONTROLLING
                                      : SFU_STUN_ATTR_ICE_CONTROLLED,
                   p->tiebreaker);
  if (p->use_candidate)
    sfu_stun_put_attr(&b, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  sfu_stun_put_integrity(&b, p->key, p->key_len);
  sfu_stun_put_fingerprint(&b);
  return sfu_stun_finish(&b, len);
}
