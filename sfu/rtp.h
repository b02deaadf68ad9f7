/*
 * veil sfu — RTP header codec (RFC 3550 §5.1) with RFC 8285 header extensions.
 *
 * The SFU reads RTP headers and header extensions (mid, rid, audio level, dependency
 * descriptor, abs-send-time, transport-wide seq) and forwards the payload — SFrame
 * ciphertext — byte for byte. So parsing yields views: sfu_rtp_parse never allocates
 * and never copies; the payload is an opaque view.
 *
 * Rewriting happens in place on the packet buffer (mediasoup's "one buffer serving every
 * consumer: rewrite, send, restore"): SSRC, sequence number, timestamp, payload type,
 * marker, and the value of an existing extension element of the same length.
 */
#ifndef VEIL_SFU_RTP_H
#define VEIL_SFU_RTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"

#define SFU_RTP_FIXED_LEN 12
#define SFU_RTP_MAX_CSRC 15
/* RFC 8285 profiles ("defined by profile" field of the RFC 3550 §5.3.1 extension). */
#define SFU_RTP_EXT_ONE_BYTE 0xBEDEu
#define SFU_RTP_EXT_TWO_BYTE 0x1000u      /* 0x100 + 4 "appbits": mask 0xFFF0 */
#define SFU_RTP_EXT_TWO_BYTE_MASK 0xFFF0u

/* A parsed header. Views borrow the packet given to sfu_rtp_parse. */
typedef struct sfu_rtp_hdr {
  uint8_t padding;        /* P bit */
  uint8_t extension;      /* X bit */
  uint8_t csrc_count;     /* CC */
  uint8_t marker;         /* M bit */
  uint8_t payload_type;   /* 7 bits */
  uint16_t seq;
  uint32_t timestamp;
  uint32_t ssrc;
  uint32_t csrc[SFU_RTP_MAX_CSRC];
  uint16_t ext_profile;   /* when extension: the 16-bit "defined by profile" */
  veil_view_t ext;        /* when extension: the extension data (after its 4-byte header) */
  size_t ext_offset;      /* offset of ext.ptr in the packet */
  size_t header_len;      /* fixed + CSRCs + extension: offset of the payload */
  veil_view_t payload;    /* opaque payload, padding excluded */
  uint8_t pad_len;        /* padding bytes at the end (including the count byte) */
} sfu_rtp_hdr_t;

/* Parses one RTP packet. 0, or VEIL_ETRUNC, VEIL_ERTP_VERSION, VEIL_ERTP_PADDING (count 0
 * or past the header). The extension data is not validated here (sfu_rtp_ext_next does
 * it as it walks; sfu_rtp_ext_validate walks all of it). */
int sfu_rtp_parse(const uint8_t *pkt, size_t len, sfu_rtp_hdr_t *out);

/* ---------------------------------------------------------------------------------------
 * RFC 8285 header extensions
 */
typedef struct sfu_rtp_ext_elem {
  uint8_t id;          /* 1..14 (one-byte) or 1..255 (two-byte) */
  veil_view_t data;    /* the element's value */
  size_t offset;       /* offset of data.ptr in the packet */
} sfu_rtp_ext_elem_t;

typedef struct sfu_rtp_ext_iter {
  veil_reader_t r;
  int two_byte;        /* 1: two-byte form, 0: one-byte form */
  size_t base;         /* packet offset of the extension data */
  const uint8_t *start;
  int done;
} sfu_rtp_ext_iter_t;

/* Starts iterating the extension of `h`. VEIL_ENOTFOUND when the packet has no extension,
 * VEIL_EUNSUPPORTED when its profile is neither RFC 8285 form. */
int sfu_rtp_ext_iter_init(sfu_rtp_ext_iter_t *it, const sfu_rtp_hdr_t *h);
/* 1 and *e for the next element; 0 at the end (trailing padding bytes skipped, and after
 * ID 15 in the one-byte form, which ends processing, RFC 8285 §4.2); VEIL_ERTP_EXT when an
 * element's length runs past the extension. */
int sfu_rtp_ext_next(sfu_rtp_ext_iter_t *it, sfu_rtp_ext_elem_t *e);
/* Walks the whole extension; 0 when well formed or absent. */
int sfu_rtp_ext_validate(const sfu_rtp_hdr_t *h);
/* The first element with `id`: 0 and *e, VEIL_ENOTFOUND, or a walk error. */
int sfu_rtp_ext_find(const sfu_rtp_hdr_t *h, uint8_t id, sfu_rtp_ext_elem_t *e);
/* Overwrites the value of element `id` in place; `len` must equal its current length
 * (VEIL_ERANGE otherwise). `pkt` is the buffer `h` was parsed from. */
int sfu_rtp_ext_rewrite(uint8_t *pkt, size_t pkt_len, const sfu_rtp_hdr_t *h, uint8_t id,
                        const void *data, size_t len);

/* An element to write. */
typedef struct sfu_rtp_ext_in {
  uint8_t id;
  const void *data;
  size_t len;
} sfu_rtp_ext_in_t;

/* ---------------------------------------------------------------------------------------
 * Serialization
 */
/* Header fields to write (the views in sfu_rtp_hdr_t are ignored). */
typedef struct sfu_rtp_write_params {
  uint8_t marker;
  uint8_t payload_type;
  uint16_t seq;
  uint32_t timestamp;
  uint32_t ssrc;
  const uint32_t *csrc;      /* csrc_count entries */
  uint8_t csrc_count;        /* <= 15 */
  const sfu_rtp_ext_in_t *ext; /* n_ext elements; the one-byte form when every id is
                                * 1..14 and every length 1..16, else the two-byte form
                                * (ids 1..255, lengths 0..255) */
  size_t n_ext;
  veil_view_t payload;
  uint8_t pad_len;           /* 0, or 1..255 padding bytes (last = count, others zero) */
} sfu_rtp_write_params_t;

/* Appends one RTP packet to `w`. VEIL_EINVAL for an impossible element (id 0, id 15 in
 * one-byte form, etc.), VEIL_EOVERFLOW when it does not fit. */
int sfu_rtp_write(veil_writer_t *w, const sfu_rtp_write_params_t *p);

/* In-place rewrites of the fixed header (VEIL_ETRUNC when len < 12). */
int sfu_rtp_set_ssrc(uint8_t *pkt, size_t len, uint32_t ssrc);
int sfu_rtp_set_seq(uint8_t *pkt, size_t len, uint16_t seq);
int sfu_rtp_set_timestamp(uint8_t *pkt, size_t len, uint32_t ts);
int sfu_rtp_set_payload_type(uint8_t *pkt, size_t len, uint8_t pt);
int sfu_rtp_set_marker(uint8_t *pkt, size_t len, int marker);

#endif
