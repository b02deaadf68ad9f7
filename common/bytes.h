/*
 * veil — bounds-checked byte reader and writer (the one codec every parser uses).
 *
 * Reader: a cursor {p, end, err} over borrowed bytes. Every read checks the remaining
 * length first. The first failure records an error in `err` and every later read on the
 * same reader fails with that same error without touching memory: callers may chain reads
 * and check once (picotls style), and nothing ever reads out of bounds.
 *
 * Blocks: a length-prefixed block yields a sub-reader over exactly the declared bytes;
 * `veil_reader_close_block` requires the block to be consumed exactly and carries any
 * error of the sub-reader up to its parent.
 *
 * Writer: appends to a caller's fixed buffer (overflow is an error, nothing is written past
 * `cap`) or, when made with veil_writer_init_growable, to a heap buffer it owns and grows.
 * Blocks reserve their length prefix and patch it when closed; a varint prefix is encoded
 * minimally (RFC 9420 §2.1.2), moving the content down if the reservation was too large.
 *
 * All integers are big-endian (network order). Functions return 0 or a negative VEIL_E*
 * code (common/err.h).
 */
#ifndef VEIL_COMMON_BYTES_H
#define VEIL_COMMON_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* A borrowed view of bytes: parsing yields views into the input, never copies. */
typedef struct veil_view {
  const uint8_t *ptr; /* borrowed */
  size_t len;
} veil_view_t;

/* Length prefixes of opaque vectors and blocks. */
typedef enum veil_len_prefix {
  VEIL_LEN_U8 = 1,     /* 1-byte length */
  VEIL_LEN_U16 = 2,    /* 2-byte length */
  VEIL_LEN_U24 = 3,    /* 3-byte length (TLS handshake style) */
  VEIL_LEN_U32 = 4,    /* 4-byte length */
  VEIL_LEN_VARINT = 0, /* QUIC/MLS variable-length integer, minimal (RFC 9420 §2.1.2) */
} veil_len_prefix_t;

/* The largest value a QUIC varint can carry (RFC 9000 §16): 2^62 - 1. MLS only allows
 * lengths up to 2^30 - 1 (the 8-byte form is invalid there, RFC 9420 §2.1.2). */
#define VEIL_VARINT_MAX ((UINT64_C(1) << 62) - 1)
#define VEIL_MLS_VARINT_MAX ((UINT64_C(1) << 30) - 1)

/* ---------------------------------------------------------------------------------------
 * Reader
 */
typedef struct veil_reader {
  const uint8_t *p;   /* next byte to read (borrowed) */
  const uint8_t *end; /* one past the last readable byte */
  int err;            /* 0, or the first error; sticky */
} veil_reader_t;

void veil_reader_init(veil_reader_t *r, const void *buf, size_t len);
static inline size_t veil_reader_remaining(const veil_reader_t *r) {
  return r->err ? 0 : (size_t)(r->end - r->p);
}
/* Records `err` unless an earlier error is already recorded; returns the recorded error. */
int veil_reader_fail(veil_reader_t *r, int err);
/* 0 when no error occurred and every byte was consumed; VEIL_ETRAILING when bytes remain. */
int veil_reader_finish(veil_reader_t *r);

int veil_read_u8(veil_reader_t *r, uint8_t *v);
int veil_read_u16(veil_reader_t *r, uint16_t *v);
int veil_read_u24(veil_reader_t *r, uint32_t *v);
int veil_read_u32(veil_reader_t *r, uint32_t *v);
int veil_read_u64(veil_reader_t *r, uint64_t *v);
/* Big-endian unsigned integer of 1..8 bytes (SFrame KID/CTR, RTP extension fields). */
int veil_read_uint(veil_reader_t *r, size_t nbytes, uint64_t *v);

/* QUIC variable-length integer (RFC 9000 §16), any of the four forms, minimal or not. */
int veil_read_quic_varint(veil_reader_t *r, uint64_t *v);
/* MLS variable-length integer (RFC 9420 §2.1.2): the 1/2/4-byte forms only, minimal
 * encoding required (VEIL_ENONMINIMAL otherwise), 8-byte form rejected (VEIL_EDECODE). */
int veil_read_varint(veil_reader_t *r, uint64_t *v);

/* A view of the next `n` bytes. */
int veil_read_bytes(veil_reader_t *r, size_t n, veil_view_t *out);
/* Copies the next `n` bytes into `out`. */
int veil_read_copy(veil_reader_t *r, void *out, size_t n);
int veil_skip(veil_reader_t *r, size_t n);
/* A length-prefixed opaque vector; VEIL_ELIMIT when the declared length exceeds `max`. */
int veil_read_vec(veil_reader_t *r, veil_len_prefix_t prefix, size_t max, veil_view_t *out);
/* A length-prefixed block: `sub` reads exactly its content. Close it with
 * veil_reader_close_block, which fails on trailing bytes inside the block. */
int veil_reader_open_block(veil_reader_t *r, veil_len_prefix_t prefix, veil_reader_t *sub);
int veil_reader_close_block(veil_reader_t *r, veil_reader_t *sub);

/* ---------------------------------------------------------------------------------------
 * Writer
 */
typedef struct veil_writer {
  uint8_t *buf; /* caller's buffer (fixed) or owned heap buffer (growable) */
  size_t len;   /* bytes written */
  size_t cap;   /* capacity of buf */
  int err;      /* 0, or the first error; sticky */
  int growable; /* 1: buf is owned, grown on demand, freed by veil_writer_free */
} veil_writer_t;

/* A block opened with veil_writer_open_block; pass it back to close. */
typedef struct veil_wblock {
  size_t start;  /* offset of the reserved prefix */
  uint8_t width; /* reserved prefix width in bytes */
  uint8_t prefix;/* veil_len_prefix_t */
} veil_wblock_t;

void veil_writer_init(veil_writer_t *w, void *buf, size_t cap);
/* Heap-backed writer; `initial` may be 0. */
void veil_writer_init_growable(veil_writer_t *w, size_t initial);
/* Frees a growable writer's buffer (wiping it: it may have held key material). */
void veil_writer_free(veil_writer_t *w);
/* Hands the growable buffer to the caller (free() it); the writer is left empty. */
uint8_t *veil_writer_steal(veil_writer_t *w, size_t *len);
int veil_writer_fail(veil_writer_t *w, int err);
/* Ensures room for `n` more bytes and returns a pointer to them (NULL on failure); the
 * caller fills them and calls veil_writer_advance. */
uint8_t *veil_writer_reserve(veil_writer_t *w, size_t n);
void veil_writer_advance(veil_writer_t *w, size_t n);

int veil_write_u8(veil_writer_t *w, uint8_t v);
int veil_write_u16(veil_writer_t *w, uint16_t v);
int veil_write_u24(veil_writer_t *w, uint32_t v);
int veil_write_u32(veil_writer_t *w, uint32_t v);
int veil_write_u64(veil_writer_t *w, uint64_t v);
int veil_write_uint(veil_writer_t *w, size_t nbytes, uint64_t v);
/* Minimal QUIC varint; VEIL_ERANGE above VEIL_VARINT_MAX. */
int veil_write_quic_varint(veil_writer_t *w, uint64_t v);
/* Minimal MLS varint; VEIL_ERANGE above VEIL_MLS_VARINT_MAX. */
int veil_write_varint(veil_writer_t *w, uint64_t v);
int veil_write_bytes(veil_writer_t *w, const void *data, size_t len);
int veil_write_vec(veil_writer_t *w, veil_len_prefix_t prefix, const void *data, size_t len);
int veil_writer_open_block(veil_writer_t *w, veil_len_prefix_t prefix, veil_wblock_t *b);
int veil_writer_close_block(veil_writer_t *w, const veil_wblock_t *b);

/* Number of bytes the minimal MLS varint encoding of `v` takes (0 if out of range). */
size_t veil_varint_size(uint64_t v);

#endif
