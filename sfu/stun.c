/*
 * veil sfu — STUN codec (RFC 8489): strict parser, integrity and fingerprint checks,
 * builder and the encoders ICE-lite needs.
 */
#include "sfu/stun.h"
#include "sfu/stun_hmac.h"

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* ---------------------------------------------------------------------------------------
 * Addresses
 */
int sfu_stun_addr_from_sockaddr(sfu_stun_addr_t *out, const struct sockaddr *sa) {
  memset(out, 0, sizeof(*out));
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    out->family = 4;
    out->port = ntohs(in->sin_port);
    memcpy(out->addr, &in->sin_addr, 4);
    return 0;
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    out->family = 6;
    out->port = ntohs(in6->sin6_port);
    memcpy(out->addr, &in6->sin6_addr, 16);
    return 0;
  }
  return VEIL_EUNSUPPORTED;
}

int sfu_stun_addr_to_sockaddr(const sfu_stun_addr_t *a, struct sockaddr *sa, size_t cap) {
  if (a->family == 4) {
    if (cap < sizeof(struct sockaddr_in))
      return VEIL_EOVERFLOW;
    struct sockaddr_in in;
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_port = htons(a->port);
    memcpy(&in.sin_addr, a->addr, 4);
    memcpy(sa, &in, sizeof(in));
    return 0;
  }
  if (a->family == 6) {
    if (cap < sizeof(struct sockaddr_in6))
      return VEIL_EOVERFLOW;
    struct sockaddr_in6 in6;
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(a->port);
    memcpy(&in6.sin6_addr, a->addr, 16);
    memcpy(sa, &in6, sizeof(in6));
    return 0;
  }
  return VEIL_EINVAL;
}

int sfu_stun_addr_equal(const sfu_stun_addr_t *a, const sfu_stun_addr_t *b) {
  if (a->family != b->family || a->port != b->port)
    return 0;
  return memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

/* ---------------------------------------------------------------------------------------
 * CRC-32 (reflected polynomial 0xEDB88320), four bits at a time: STUN messages are a few
 * hundred bytes, so a 16-entry table is enough and needs no initialisation.
 */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
    0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
    0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t sfu_stun_crc32(uint32_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ crc_nibble[crc & 0x0f];
    crc = (crc >> 4) ^ crc_nibble[crc & 0x0f];
  }
  return ~crc;
}

/* ---------------------------------------------------------------------------------------
 * Parsing
 */
int sfu_stun_looks_like(const uint8_t *buf, size_t len) {
  if (len < SFU_STUN_HEADER_LEN || (buf[0] & 0xc0) != 0)
    return 0;
  size_t mlen = ((size_t)buf[2] << 8) | buf[3];
  uint32_t cookie = ((uint32_t)buf[4] << 24) | ((uint32_t)buf[5] << 16) |
                    ((uint32_t)buf[6] << 8) | buf[7];
  return cookie == SFU_STUN_MAGIC_COOKIE && mlen % 4 == 0 && mlen + SFU_STUN_HEADER_LEN == len;
}

/* RFC 8489 §14.2: XOR-MAPPED-ADDRESS; family 0x01 (8 bytes) or 0x02 (20 bytes). The port
 * is XORed with the top 16 bits of the cookie, the address with cookie || transaction id. */
static int parse_xor_addr(veil_view_t v, const uint8_t tid[SFU_STUN_TID_LEN],
                          sfu_stun_addr_t *out) {
  veil_reader_t r;
  uint8_t reserved, family;
  uint16_t xport;
  uint8_t mask[16] = {0x21, 0x12, 0xa4, 0x42};
  memcpy(mask + 4, tid, SFU_STUN_TID_LEN);
  veil_reader_init(&r, v.ptr, v.len);
  veil_read_u8(&r, &reserved);
  veil_read_u8(&r, &family);
  veil_read_u16(&r, &xport);
  memset(out, 0, sizeof(*out));
  size_t alen;
  if (family == 0x01) {
    out->family = 4;
    alen = 4;
  } else if (family == 0x02) {
    out->family = 6;
    alen = 16;
  } else {
    return VEIL_ESTUN_ATTR;
  }
  veil_read_copy(&r, out->addr, alen);
  if (veil_reader_finish(&r) != 0)
    return VEIL_ESTUN_ATTR;
  out->port = xport ^ (uint16_t)(SFU_STUN_MAGIC_COOKIE >> 16);
  for (size_t i = 0; i < alen; i++)
    out->addr[i] ^= mask[i];
  return 0;
}

/* RFC 8489 §14.8: 21 reserved bits, class 3..6, number 0..99, UTF-8 reason. */
static int parse_error_code(veil_view_t v, sfu_stun_msg_t *m) {
  veil_reader_t r;
  uint16_t reserved;
  uint8_t cls, number;
  veil_reader_init(&r, v.ptr, v.len);
  veil_read_u16(&r, &reserved);
  veil_read_u8(&r, &cls);
  veil_read_u8(&r, &number);
  if (r.err)
    return VEIL_ESTUN_ATTR;
  cls &= 0x07;
  if (cls < 3 || cls > 6 || number > 99)
    return VEIL_ESTUN_ATTR;
  m->error_code = (uint16_t)(cls * 100 + number);
  size_t rest = veil_reader_remaining(&r);
  if (rest > SFU_STUN_MAX_REASON)
    return VEIL_ESTUN_ATTR;
  veil_read_bytes(&r, rest, &m->error_reason);
  return 0;
}

static int read_be32(veil_view_t v, uint32_t *out) {
  veil_reader_t r;
  veil_reader_init(&r, v.ptr, v.len);
  veil_read_u32(&r, out);
  return veil_reader_finish(&r) == 0 ? 0 : VEIL_ESTUN_ATTR;
}

static int read_be64(veil_view_t v, uint64_t *out) {
  veil_reader_t r;
  veil_reader_init(&r, v.ptr, v.len);
  veil_read_u64(&r, out);
  return veil_reader_finish(&r) == 0 ? 0 : VEIL_ESTUN_ATTR;
}

/* A bounded text attribute (SOFTWARE, REALM, NONCE: < 128 characters, 763 bytes). */
static int set_text(veil_view_t v, size_t max, veil_view_t *out) {
  if (v.len > max)
    return VEIL_ESTUN_ATTR;
  *out = v;
  return 0;
}

/* Decodes one attribute the codec knows into `m`; records unknown comprehension-required
 * types. Only the first occurrence of a type is processed (RFC 8489 §14). */
static int decode_attr(sfu_stun_msg_t *m, uint16_t type, veil_view_t v, size_t offset) {
  switch (type) {
  case SFU_STUN_ATTR_USERNAME:
    if (m->present & SFU_STUN_HAS_USERNAME)
      return 0;
    if (v.len > SFU_STUN_MAX_USERNAME)
      return VEIL_ESTUN_ATTR;
    m->username = v;
    m->present |= SFU_STUN_HAS_USERNAME;
    return 0;
  case SFU_STUN_ATTR_MESSAGE_INTEGRITY:
    if (v.len != SFU_STUN_HMAC_SHA1_LEN)
      return VEIL_ESTUN_ATTR;
    m->mi_offset = offset;
    m->present |= SFU_STUN_HAS_MI;
    return 0;
  case SFU_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
    /* §14.6: at least 16 bytes, at most 32, a multiple of 4. */
    if (v.len < 16 || v.len > SFU_STUN_HMAC_SHA256_LEN || v.len % 4 != 0)
      return VEIL_ESTUN_ATTR;
    m->mi256_offset = offset;
    m->mi256_len = v.len;
    m->present |= SFU_STUN_HAS_MI256;
    return 0;
  case SFU_STUN_ATTR_FINGERPRINT:
    if (v.len != 4)
      return VEIL_ESTUN_ATTR;
    m->fp_offset = offset;
    m->present |= SFU_STUN_HAS_FINGERPRINT;
    return 0;
  case SFU_STUN_ATTR_XOR_MAPPED_ADDRESS:
    if (m->present & SFU_STUN_HAS_XOR_MAPPED)
      return 0;
    if (parse_xor_addr(v, m->tid, &m->xor_mapped) != 0)
      return VEIL_ESTUN_ATTR;
    m->present |= SFU_STUN_HAS_XOR_MAPPED;
    return 0;
  case SFU_STUN_ATTR_PRIORITY:
    if (m->present & SFU_STUN_HAS_PRIORITY)
      return 0;
    if (read_be32(v, &m->priority) != 0)
      return VEIL_ESTUN_ATTR;
    m->present |= SFU_STUN_HAS_PRIORITY;
    return 0;
  case SFU_STUN_ATTR_USE_CANDIDATE:
    if (v.len != 0)
      return VEIL_ESTUN_ATTR;
    m->present |= SFU_STUN_HAS_USE_CANDIDATE;
    return 0;
  case SFU_STUN_ATTR_ICE_CONTROLLING:
  case SFU_STUN_ATTR_ICE_CONTROLLED: {
    uint64_t tb;
    if (read_be64(v, &tb) != 0)
      return VEIL_ESTUN_ATTR;
    if (!(m->present & (SFU_STUN_HAS_ICE_CONTROLLING | SFU_STUN_HAS_ICE_CONTROLLED)))
      m->tiebreaker = tb;
    m->present |= type == SFU_STUN_ATTR_ICE_CONTROLLING ? SFU_STUN_HAS_ICE_CONTROLLING
                                                       : SFU_STUN_HAS_ICE_CONTROLLED;
    return 0;
  }
  case SFU_STUN_ATTR_ERROR_CODE:
    if (m->present & SFU_STUN_HAS_ERROR_CODE)
      return 0;
    if (parse_error_code(v, m) != 0)
      return VEIL_ESTUN_ATTR;
    m->present |= SFU_STUN_HAS_ERROR_CODE;
    return 0;
  case SFU_STUN_ATTR_SOFTWARE:
    if (m->present & SFU_STUN_HAS_SOFTWARE)
      return 0;
    m->present |= SFU_STUN_HAS_SOFTWARE;
    return set_text(v, SFU_STUN_MAX_REASON, &m->software);
  case SFU_STUN_ATTR_REALM:
    if (m->present & SFU_STUN_HAS_REALM)
      return 0;
    m->present |= SFU_STUN_HAS_REALM;
    return set_text(v, SFU_STUN_MAX_REASON, &m->realm);
  case SFU_STUN_ATTR_NONCE:
    if (m->present & SFU_STUN_HAS_NONCE)
      return 0;
    m->present |= SFU_STUN_HAS_NONCE;
    return set_text(v, SFU_STUN_MAX_REASON, &m->nonce);
  case SFU_STUN_ATTR_USERHASH:
    if (m->present & SFU_STUN_HAS_USERHASH)
      return 0;
    if (v.len != 32)
      return VEIL_ESTUN_ATTR;
    m->userhash = v;
    m->present |= SFU_STUN_HAS_USERHASH;
    return 0;
  case SFU_STUN_ATTR_MAPPED_ADDRESS:
  case SFU_STUN_ATTR_UNKNOWN_ATTRIBUTES:
  case SFU_STUN_ATTR_PASSWORD_ALGORITHM:
    return 0; /* understood, not used by ICE-lite */
  default:
    if (type < 0x8000) {
      if (m->n_unknown < SFU_STUN_MAX_UNKNOWN)
        m->unknown[m->n_unknown] = type;
      m->n_unknown++;
    }
    return 0;
  }
}

int sfu_stun_parse(const uint8_t *buf, size_t len, sfu_stun_msg_t *m) {
  memset(m, 0, sizeof(*m));
  if (!sfu_stun_looks_like(buf, len))
    return VEIL_ESTUN_NOTSTUN;
  veil_reader_t r;
  uint16_t mlen;
  uint32_t cookie;
  veil_reader_init(&r, buf, len);
  veil_read_u16(&r, &m->type);
  veil_read_u16(&r, &mlen);
  veil_read_u32(&r, &cookie);
  veil_read_copy(&r, m->tid, SFU_STUN_TID_LEN);
  if (r.err)
    return r.err;
  m->raw.ptr = buf;
  m->raw.len = len;
  /* §5: method bits M0..M11 interleaved with the class bits C0 (bit 4) and C1 (bit 8). */
  m->method = (uint16_t)((m->type & 0x000f) | ((m->type & 0x00e0) >> 1) |
                         ((m->type & 0x3e00) >> 2));
  m->cls = (sfu_stun_class_t)(((m->type >> 7) & 0x2) | ((m->type >> 4) & 0x1));

  int after_mi = 0, after_mi256 = 0, after_fp = 0;
  while (veil_reader_remaining(&r) > 0) {
    size_t offset = (size_t)(r.p - buf);
    uint16_t type, alen;
    veil_view_t v;
    veil_read_u16(&r, &type);
    veil_read_u16(&r, &alen);
    veil_read_bytes(&r, alen, &v);
    /* Padding to a 4-byte boundary; its value is ignored (RFC 5769 pads with 0x20). */
    veil_skip(&r, (4 - (alen & 3)) & 3);
    if (r.err)
      return r.err;
    /* §14.7: FINGERPRINT is the last attribute. */
    if (after_fp)
      return VEIL_ESTUN_ORDER;
    if (type == SFU_STUN_ATTR_FINGERPRINT) {
      int rc = decode_attr(m, type, v, offset);
      if (rc)
        return rc;
      after_fp = 1;
      continue;
    }
    /* §14.5, §14.6: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
     * count; after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT. Others are ignored. */
    if (after_mi256)
      continue;
    if (after_mi && type != SFU_STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
      continue;
    int rc = decode_attr(m, type, v, offset);
    if (rc)
      return rc;
    if (type == SFU_STUN_ATTR_MESSAGE_INTEGRITY)
      after_mi = 1;
    else if (type == SFU_STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
      after_mi256 = 1;
  }
  return veil_reader_finish(&r);
}

/* ---------------------------------------------------------------------------------------
 * HMAC through OpenSSL 3's EVP_MAC (the HMAC_CTX API is deprecated). Fetching the
 * algorithm and the digest on every call dominated the cost of a connectivity check, so
 * one keyless template context per digest is made once per process and duplicated per
 * call (EVP_MAC_CTX_dup only reads the template, so concurrent callers are fine). The
 * templates live until exit, reachable, on purpose.
 */
static EVP_MAC_CTX *hmac_tmpl[2]; /* [0] SHA-1, [1] SHA-256 */
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_setup(void) {
  static const char *digests[2] = {"SHA1", "SHA256"};
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  if (!mac)
    return;
  for (int i = 0; i < 2; i++) {
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digests[i], 0);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx && EVP_MAC_CTX_set_params(ctx, params) == 1) {
      hmac_tmpl[i] = ctx;
    } else {
      EVP_MAC_CTX_free(ctx);
    }
  }
  EVP_MAC_free(mac); /* the contexts hold their own references */
}

int sfu_stun_hmac(int sha256, const uint8_t *key, size_t key_len, const uint8_t *a,
                  size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out, size_t out_len) {
  static const uint8_t empty = 0;
  size_t got = 0;
  int rc = VEIL_ECRYPTO;
  pthread_once(&hmac_once, hmac_setup);
  EVP_MAC_CTX *tmpl = hmac_tmpl[sha256 ? 1 : 0];
  EVP_MAC_CTX *ctx = tmpl ? EVP_MAC_CTX_dup(tmpl) : NULL;
  if (!ctx)
    goto fail;
  /* An empty key is legal for HMAC; OpenSSL wants a non-NULL pointer. */
  if (EVP_MAC_init(ctx, key_len ? key : &empty, key_len, NULL) != 1)
    goto fail;
  if (EVP_MAC_update(ctx, a, a_len) != 1 || (b_len && EVP_MAC_update(ctx, b, b_len) != 1))
    goto fail;
  if (EVP_MAC_final(ctx, out, &got, out_len) != 1 || got != out_len)
    goto fail;
  rc = 0;
fail:
  EVP_MAC_CTX_free(ctx);
  return rc;
}

/* MAC of buf[0..attr_offset) with the header length set as if the message ended right
 * after an attribute of `value_len` bytes at attr_offset (§14.5). */
static int stun_mac(int sha256, const uint8_t *buf, size_t attr_offset,
                    size_t value_len, const uint8_t *key, size_t key_len, uint8_t *out,
                    size_t out_len) {
  uint8_t hdr[SFU_STUN_HEADER_LEN];
  size_t adj = attr_offset + 4 + value_len - SFU_STUN_HEADER_LEN;
  memcpy(hdr, buf, SFU_STUN_HEADER_LEN);
  hdr[2] = (uint8_t)(adj >> 8);
  hdr[3] = (uint8_t)adj;
  return sfu_stun_hmac(sha256, key, key_len, hdr, sizeof(hdr), buf + SFU_STUN_HEADER_LEN,
               attr_offset - SFU_STUN_HEADER_LEN, out, out_len);
}

int sfu_stun_verify_integrity(const sfu_stun_msg_t *m, const uint8_t *key, size_t key_len) {
  if (!(m->present & SFU_STUN_HAS_MI))
    return VEIL_ESTUN_INTEGRITY;
  uint8_t mac[SFU_STUN_HMAC_SHA1_LEN];
  int rc = stun_mac(0, m->raw.ptr, m->mi_offset, SFU_STUN_HMAC_SHA1_LEN, key, key_len,
                    mac, sizeof(mac));
  if (rc)
    return rc;
  if (CRYPTO_memcmp(mac, m->raw.ptr + m->mi_offset + 4, sizeof(mac)) != 0)
    return VEIL_ESTUN_INTEGRITY;
  return 0;
}

int sfu_stun_verify_integrity_sha256(const sfu_stun_msg_t *m, const uint8_t *key,
                                     size_t key_len) {
  if (!(m->present & SFU_STUN_HAS_MI256))
    return VEIL_ESTUN_INTEGRITY;
  uint8_t mac[SFU_STUN_HMAC_SHA256_LEN];
  int rc = stun_mac(1, m->raw.ptr, m->mi256_offset, m->mi256_len, key, key_len, mac,
                    sizeof(mac));
  if (rc)
    return rc;
  /* §14.6: a truncated value is the leftmost bytes of the HMAC. */
  if (CRYPTO_memcmp(mac, m->raw.ptr + m->mi256_offset + 4, m->mi256_len) != 0)
    return VEIL_ESTUN_INTEGRITY;
  return 0;
}

int sfu_stun_verify_fingerprint(const sfu_stun_msg_t *m) {
  if (!(m->present & SFU_STUN_HAS_FINGERPRINT))
    return VEIL_ESTUN_FINGERPRINT;
  /* FINGERPRINT is last, so the header length already covers it: no adjustment. */
  uint32_t crc = sfu_stun_crc32(0, m->raw.ptr, m->fp_offset) ^ SFU_STUN_FINGERPRINT_XOR;
  const uint8_t *v = m->raw.ptr + m->fp_offset + 4;
  uint32_t got = ((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) | ((uint32_t)v[2] << 8) | v[3];
  return crc == got ? 0 : VEIL_ESTUN_FINGERPRINT;
}
