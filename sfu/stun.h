/*
 * veil sfu — STUN message codec (RFC 8489), the subset ICE needs (RFC 8445 §7, §16).
 *
 * Parsing is strict and allocation-free: sfu_stun_parse() checks the header (top two
 * bits zero, magic cookie, length a multiple of 4 and equal to the datagram's remainder),
 * walks every attribute through common/bytes.h (length within the message, padding to 4
 * bytes skipped without looking at its value, RFC 8489 §14) and fills a sfu_stun_msg_t
 * whose views borrow the input. The first occurrence of an attribute wins (§14).
 * Attributes after MESSAGE-INTEGRITY are ignored except MESSAGE-INTEGRITY-SHA256 and
 * FINGERPRINT (§14.5, §14.6); nothing may follow FINGERPRINT (§14.7).
 *
 * Integrity (§14.5, §14.6) and FINGERPRINT (§14.7) are verified by separate calls, so a
 * caller decides what to require. HMAC-SHA1 / HMAC-SHA256 come from OpenSSL's libcrypto
 * directly (the SFU links OpenSSL, never clients/lib); MAC comparison is constant-time
 * (CRYPTO_memcmp).
 *
 * Encoding goes through sfu_stun_builder_t, a thin layer over a veil_writer_t on the
 * caller's buffer: begin → attributes → (MESSAGE-INTEGRITY) → (FINGERPRINT) → finish.
 * Convenience encoders build the messages ICE-lite sends and the Binding request a client
 * sends.
 */
#ifndef VEIL_SFU_STUN_H
#define VEIL_SFU_STUN_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"

struct sockaddr;

#define SFU_STUN_HEADER_LEN 20
#define SFU_STUN_MAGIC_COOKIE 0x2112A442u
#define SFU_STUN_TID_LEN 12
#define SFU_STUN_FINGERPRINT_XOR 0x5354554eu
#define SFU_STUN_HMAC_SHA1_LEN 20
#define SFU_STUN_HMAC_SHA256_LEN 32
/* RFC 8489 §14.3: USERNAME < 509 bytes; §14.8: reason phrase < 128 characters (763 bytes). */
#define SFU_STUN_MAX_USERNAME 508
#define SFU_STUN_MAX_REASON 763
/* How many unknown comprehension-required attribute types a parse remembers (for 420). */
#define SFU_STUN_MAX_UNKNOWN 8

/* Message classes (RFC 8489 §5): the C1/C0 bits. */
typedef enum sfu_stun_class {
  SFU_STUN_REQUEST = 0,
  SFU_STUN_INDICATION = 1,
  SFU_STUN_SUCCESS = 2,
  SFU_STUN_ERROR = 3,
} sfu_stun_class_t;

#define SFU_STUN_METHOD_BINDING 0x001

/* Attribute types used here (RFC 8489 §18.3, RFC 8445 §16.1). */
enum {
  SFU_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
  SFU_STUN_ATTR_USERNAME = 0x0006,
  SFU_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
  SFU_STUN_ATTR_ERROR_CODE = 0x0009,
  SFU_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
  SFU_STUN_ATTR_REALM = 0x0014,
  SFU_STUN_ATTR_NONCE = 0x0015,
  SFU_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
  SFU_STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
  SFU_STUN_ATTR_USERHASH = 0x001E,
  SFU_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
  SFU_STUN_ATTR_PRIORITY = 0x0024,
  SFU_STUN_ATTR_USE_CANDIDATE = 0x0025,
  SFU_STUN_ATTR_SOFTWARE = 0x8022,
  SFU_STUN_ATTR_FINGERPRINT = 0x8028,
  SFU_STUN_ATTR_ICE_CONTROLLED = 0x8029,
  SFU_STUN_ATTR_ICE_CONTROLLING = 0x802A,
};

/* A transport address as STUN carries it (also the address type of the ICE core). */
typedef struct sfu_stun_addr {
  uint8_t family;    /* 4 or 6 */
  uint16_t port;     /* host order */
  uint8_t addr[16];  /* network order; IPv4 uses the first 4 bytes, the rest are zero */
} sfu_stun_addr_t;

/* Conversions to/from struct sockaddr_in / sockaddr_in6 (for the transport shell).
 * from: VEIL_EUNSUPPORTED for other families. to: `cap` is the size of `sa`'s storage. */
int sfu_stun_addr_from_sockaddr(sfu_stun_addr_t *out, const struct sockaddr *sa);
int sfu_stun_addr_to_sockaddr(const sfu_stun_addr_t *a, struct sockaddr *sa, size_t cap);
/* 1 when family, port and address are equal. */
int sfu_stun_addr_equal(const sfu_stun_addr_t *a, const sfu_stun_addr_t *b);

/* Bits of sfu_stun_msg_t.present. */
enum {
  SFU_STUN_HAS_USERNAME = 1u << 0,
  SFU_STUN_HAS_MI = 1u << 1,
  SFU_STUN_HAS_MI256 = 1u << 2,
  SFU_STUN_HAS_FINGERPRINT = 1u << 3,
  SFU_STUN_HAS_XOR_MAPPED = 1u << 4,
  SFU_STUN_HAS_PRIORITY = 1u << 5,
  SFU_STUN_HAS_USE_CANDIDATE = 1u << 6,
  SFU_STUN_HAS_ICE_CONTROLLING = 1u << 7,
  SFU_STUN_HAS_ICE_CONTROLLED = 1u << 8,
  SFU_STUN_HAS_ERROR_CODE = 1u << 9,
  SFU_STUN_HAS_SOFTWARE = 1u << 10,
  SFU_STUN_HAS_REALM = 1u << 11,
  SFU_STUN_HAS_NONCE = 1u << 12,
  SFU_STUN_HAS_USERHASH = 1u << 13,
};

/* A parsed message. Every view borrows the buffer given to sfu_stun_parse, which must
 * outlive it. Offsets are from the start of the message. */
typedef struct sfu_stun_msg {
  veil_view_t raw;           /* the whole message */
  uint16_t type;             /* message type (method + class bits) */
  uint16_t method;           /* 12-bit method */
  sfu_stun_class_t cls;
  uint8_t tid[SFU_STUN_TID_LEN];
  uint32_t present;          /* SFU_STUN_HAS_* */

  veil_view_t username;      /* USERNAME value */
  veil_view_t software;
  veil_view_t realm;
  veil_view_t nonce;
  veil_view_t userhash;
  uint32_t priority;
  uint64_t tiebreaker;       /* ICE-CONTROLLING or ICE-CONTROLLED value */
  sfu_stun_addr_t xor_mapped;/* decoded (un-XORed) XOR-MAPPED-ADDRESS */
  uint16_t error_code;       /* 300..699 */
  veil_view_t error_reason;

  /* Offsets of attribute headers (type field), valid when the HAS bit is set. */
  size_t mi_offset;          /* MESSAGE-INTEGRITY */
  size_t mi256_offset;       /* MESSAGE-INTEGRITY-SHA256 */
  size_t mi256_len;          /* its value length: 16..32, multiple of 4 (§14.6) */
  size_t fp_offset;          /* FINGERPRINT */

  /* Comprehension-required attributes (0x0000..0x7FFF) this codec does not know, before
   * MESSAGE-INTEGRITY; a server answers a request that has any with 420 (§6.3.1). */
  uint16_t unknown[SFU_STUN_MAX_UNKNOWN];
  size_t n_unknown;          /* may exceed SFU_STUN_MAX_UNKNOWN; only the first are kept */
} sfu_stun_msg_t;

/* Quick check without parsing attributes: top bits, magic cookie, length. */
int sfu_stun_looks_like(const uint8_t *buf, size_t len);

/* Parses one whole datagram. 0, or VEIL_ESTUN_NOTSTUN (header), VEIL_ETRUNC /
 * VEIL_ESTUN_ATTR (attribute framing or a known attribute's value malformed),
 * VEIL_ESTUN_ORDER (anything after FINGERPRINT). `out` is undefined on failure. */
int sfu_stun_parse(const uint8_t *buf, size_t len, sfu_stun_msg_t *out);

/* RFC 8489 §14.5: HMAC-SHA1 over the message up to MESSAGE-INTEGRITY, the header length
 * adjusted to end just after it. `key` is the short-term password (ICE) or the long-term
 * key. 0, or VEIL_ESTUN_INTEGRITY when absent or wrong; VEIL_ECRYPTO on library failure. */
int sfu_stun_verify_integrity(const sfu_stun_msg_t *m, const uint8_t *key, size_t key_len);
/* RFC 8489 §14.6: the same with HMAC-SHA256 over MESSAGE-INTEGRITY-SHA256 (value may be
 * truncated to 16..32 bytes). The hashed prefix ends before MESSAGE-INTEGRITY-SHA256. */
int sfu_stun_verify_integrity_sha256(const sfu_stun_msg_t *m, const uint8_t *key,
                                     size_t key_len);
/* RFC 8489 §14.7: CRC-32 of the message up to FINGERPRINT, XOR 0x5354554e.
 * VEIL_ESTUN_FINGERPRINT when absent or wrong. */
int sfu_stun_verify_fingerprint(const sfu_stun_msg_t *m);

/* CRC-32 (ISO-HDLC, the zlib/Ethernet one), exposed for tests and fuzzing. */
uint32_t sfu_stun_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* ---------------------------------------------------------------------------------------
 * Encoding
 */
typedef struct sfu_stun_builder {
  veil_writer_t *w; /* borrowed */
  size_t start;     /* offset of the message header within w */
  int err;          /* first error, sticky (also recorded in w) */
} sfu_stun_builder_t;

/* Writes the 20-byte header (length patched as attributes are added). */
int sfu_stun_begin(sfu_stun_builder_t *b, veil_writer_t *w, uint16_t method,
                   sfu_stun_class_t cls, const uint8_t tid[SFU_STUN_TID_LEN]);
/* Appends one attribute; pads with zero bytes to a multiple of 4. */
int sfu_stun_put_attr(sfu_stun_builder_t *b, uint16_t type, const void *value, size_t len);
int sfu_stun_put_u32(sfu_stun_builder_t *b, uint16_t type, uint32_t v);
int sfu_stun_put_u64(sfu_stun_builder_t *b, uint16_t type, uint64_t v);
int sfu_stun_put_xor_addr(sfu_stun_builder_t *b, uint16_t type, const sfu_stun_addr_t *a);
/* ERROR-CODE (§14.8); code 300..699; reason may be NULL. */
int sfu_stun_put_error_code(sfu_stun_builder_t *b, uint16_t code, const char *reason);
/* MESSAGE-INTEGRITY over everything written so far (§14.5). */
int sfu_stun_put_integrity(sfu_stun_builder_t *b, const uint8_t *key, size_t key_len);
/* MESSAGE-INTEGRITY-SHA256, full 32 bytes (§14.6). */
int sfu_stun_put_integrity_sha256(sfu_stun_builder_t *b, const uint8_t *key, size_t key_len);
/* FINGERPRINT (§14.7); must be the last attribute. */
int sfu_stun_put_fingerprint(sfu_stun_builder_t *b);
/* Completes the message; *len receives its size. Returns the first error if any. */
int sfu_stun_finish(sfu_stun_builder_t *b, size_t *len);

/* Binding success response (RFC 8445 §7.3.1.4): XOR-MAPPED-ADDRESS of `mapped`,
 * MESSAGE-INTEGRITY under `key`, FINGERPRINT. Returns 0 and *len, or VEIL_EOVERFLOW. */
int sfu_stun_encode_binding_success(uint8_t *buf, size_t cap,
                                    const uint8_t tid[SFU_STUN_TID_LEN],
                                    const sfu_stun_addr_t *mapped, const uint8_t *key,
                                    size_t key_len, size_t *len);
/* Error response for `method` (400, 401, 420, 487, ...): ERROR-CODE with the standard
 * reason phrase, UNKNOWN-ATTRIBUTES when `unknown`/`n_unknown` are given (420),
 * MESSAGE-INTEGRITY when `key` is not NULL (not for 400/401 to unauthenticated requests,
 * §9.1.3), FINGERPRINT. */
int sfu_stun_encode_error(uint8_t *buf, size_t cap, uint16_t method,
                          const uint8_t tid[SFU_STUN_TID_LEN], uint16_t code,
                          const uint16_t *unknown, size_t n_unknown, const uint8_t *key,
                          size_t key_len, size_t *len);

/* An ICE connectivity check (RFC 8445 §7.2.2): Binding request with USERNAME
 * "<remote ufrag>:<local ufrag>" (the caller passes the joined string), PRIORITY,
 * ICE-CONTROLLING or ICE-CONTROLLED with the tiebreaker, optional USE-CANDIDATE,
 * MESSAGE-INTEGRITY under the remote password, FINGERPRINT. */
typedef struct sfu_stun_request_params {
  const uint8_t *tid;       /* 12 bytes, caller-chosen (random) */
  const char *username;     /* NUL-terminated, <= SFU_STUN_MAX_USERNAME bytes */
  uint32_t priority;
  int controlling;          /* 1: ICE-CONTROLLING, 0: ICE-CONTROLLED */
  uint64_t tiebreaker;
  int use_candidate;
  const uint8_t *key;       /* the remote password bytes */
  size_t key_len;
} sfu_stun_request_params_t;
int sfu_stun_encode_binding_request(uint8_t *buf, size_t cap,
                                    const sfu_stun_request_params_t *p, size_t *len);

/* The standard reason phrase of an error code (RFC 8489 §14.8), or "Error". */
const char *sfu_stun_reason(uint16_t code);

#endif
