/*
 * veil sfu — RTCP codec: compound and reduced-size packets (RFC 3550 §6, RFC 5506), SR,
 * RR, SDES, BYE, generic NACK (RFC 4585 §6.2.1), transport-wide congestion control
 * feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), PLI (RFC 4585
 * §6.3.1), FIR (RFC 5104 §4.3.1) and REMB (draft-alvestrand-rmcat-remb-03).
 *
 * The iterator walks a compound packet strictly: version 2 in every header, each length
 * field exactly inside the datagram, padding only on the last packet (RFC 3550 §6.4.1,
 * Appendix A.2) with a count that fits. Every sub-parser takes the sfu_rtcp_pkt_t the
 * iterator produced and reads it through common/bytes.h; nothing allocates. Lists inside
 * a packet (report blocks, NACK items, FIR entries, SDES items, transport-cc statuses)
 * are walked by small iterators over views.
 *
 * Encoders append to a veil_writer_t. SR translation rewrites an SR in place.
 */
#ifndef VEIL_SFU_RTCP_H
#define VEIL_SFU_RTCP_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"

enum {
  SFU_RTCP_SR = 200,
  SFU_RTCP_RR = 201,
  SFU_RTCP_SDES = 202,
  SFU_RTCP_BYE = 203,
  SFU_RTCP_APP = 204,
  SFU_RTCP_RTPFB = 205,
  SFU_RTCP_PSFB = 206,
};
enum {
  SFU_RTCP_FMT_NACK = 1,   /* RTPFB */
  SFU_RTCP_FMT_TCC = 15,   /* RTPFB */
  SFU_RTCP_FMT_PLI = 1,    /* PSFB */
  SFU_RTCP_FMT_FIR = 4,    /* PSFB */
  SFU_RTCP_FMT_AFB = 15,   /* PSFB: application layer feedback (REMB) */
};

/* One packet of a compound. */
typedef struct sfu_rtcp_pkt {
  uint8_t type;        /* PT, 192..223 in practice */
  uint8_t count;       /* RC / SC / FMT (5 bits) */
  uint8_t padding;     /* P bit */
  veil_view_t raw;     /* whole packet including header and padding */
  veil_view_t body;    /* after the 4-byte header, padding excluded */
  size_t offset;       /* of raw.ptr in the compound */
} sfu_rtcp_pkt_t;

typedef struct sfu_rtcp_iter {
  veil_reader_t r;
  const uint8_t *start;
  size_t n;            /* packets returned so far */
  int err;             /* first error, sticky */
} sfu_rtcp_iter_t;

void sfu_rtcp_iter_init(sfu_rtcp_iter_t *it, const uint8_t *buf, size_t len);
/* 1 and *p, 0 at the end, or VEIL_ETRUNC / VEIL_ERTP_VERSION / VEIL_ERTCP_LENGTH /
 * VEIL_ERTP_PADDING (padding not on the last packet, or count 0 / too large). */
int sfu_rtcp_next(sfu_rtcp_iter_t *it, sfu_rtcp_pkt_t *p);
/* Walks a whole compound. RFC 3550 §6.1 / A.2: at least one packet, and unless
 * `allow_reduced_size` (RFC 5506 §3, negotiated with a=rtcp-rsize) the first is SR or RR.
 * 0 or the first error (VEIL_ERTCP_COMPOUND for the first-packet rule). */
int sfu_rtcp_validate(const uint8_t *buf, size_t len, int allow_reduced_size);

/* ---- SR / RR (RFC 3550 §6.4) ------------------------------------------------------- */
typedef struct sfu_rtcp_report_block {
  uint32_t ssrc;
  uint8_t fraction_lost;
  int32_t cumulative_lost;   /* 24-bit signed */
  uint32_t highest_seq;      /* extended highest sequence number received */
  uint32_t jitter;
  uint32_t lsr;
  uint32_t dlsr;
} sfu_rtcp_report_block_t;

typedef struct sfu_rtcp_sr {
  uint32_t ssrc;
  uint64_t ntp;              /* SR only */
  uint32_t rtp_ts;           /* SR only */
  uint32_t packet_count;     /* SR only */
  uint32_t octet_count;      /* SR only */
  uint8_t n_blocks;
  veil_view_t blocks;        /* n_blocks * 24 bytes */
  veil_view_t ext;           /* profile-specific extension after the blocks */
} sfu_rtcp_sr_t;

/* SR (type 200) and RR (type 201); VEIL_ERTCP_TYPE for other types, VEIL_ETRUNC when the
 * body is shorter than RC blocks. */
int sfu_rtcp_parse_sr(const sfu_rtcp_pkt_t *p, sfu_rtcp_sr_t *out);
int sfu_rtcp_parse_rr(const sfu_rtcp_pkt_t *p, sfu_rtcp_sr_t *out);
/* Report block i (< n_blocks) of a parsed SR/RR. */
int sfu_rtcp_report_block(const sfu_rtcp_sr_t *sr, size_t i, sfu_rtcp_report_block_t *b);

/* ---- SDES (RFC 3550 §6.5) ---------------------------------------------------------- */
typedef struct sfu_rtcp_sdes_iter {
  veil_reader_t r;
  const uint8_t *base;       /* body start: chunks align to 32 bits from here */
  uint8_t chunks_left;
  int in_chunk;
  uint32_t ssrc;
} sfu_rtcp_sdes_iter_t;
typedef struct sfu_rtcp_sdes_item {
  uint32_t ssrc;             /* of the chunk holding the item */
  uint8_t type;              /* 1 CNAME .. 8 PRIV */
  veil_view_t value;
} sfu_rtcp_sdes_item_t;
int sfu_rtcp_sdes_init(sfu_rtcp_sdes_iter_t *it, const sfu_rtcp_pkt_t *p);
/* 1 and *item, 0 after the last chunk (the body must be consumed exactly), or an error
 * (VEIL_ETRUNC, VEIL_ERTCP_LENGTH for a chunk not ending on a 32-bit boundary with zeros). */
int sfu_rtcp_sdes_next(sfu_rtcp_sdes_iter_t *it, sfu_rtcp_sdes_item_t *item);

/* ---- BYE (RFC 3550 §6.6) ----------------------------------------------------------- */
typedef struct sfu_rtcp_bye {
  uint8_t n_ssrc;
  veil_view_t ssrcs;         /* n_ssrc * 4 bytes */
  veil_view_t reason;        /* empty when absent */
} sfu_rtcp_bye_t;
int sfu_rtcp_parse_bye(const sfu_rtcp_pkt_t *p, sfu_rtcp_bye_t *out);
uint32_t sfu_rtcp_bye_ssrc(const sfu_rtcp_bye_t *b, size_t i);

/* ---- Feedback common part (RFC 4585 §6.1) ------------------------------------------ */
typedef struct sfu_rtcp_fb {
  uint8_t type;              /* RTPFB or PSFB */
  uint8_t fmt;
  uint32_t sender_ssrc;
  uint32_t media_ssrc;
  veil_view_t fci;
} sfu_rtcp_fb_t;
/* RTPFB/PSFB header; VEIL_ERTCP_TYPE for other packet types. */
int sfu_rtcp_parse_fb(const sfu_rtcp_pkt_t *p, sfu_rtcp_fb_t *out);

/* Generic NACK: FCI is one or more (PID, BLP) pairs; VEIL_ETRUNC for an empty or partial
 * FCI. Each pair names PID and up to 16 following sequence numbers. */
typedef struct sfu_rtcp_nack_iter {
  veil_reader_t r;
  uint16_t pid;
  uint16_t blp;
  int bit;                   /* -1: PID itself next, 0..15: BLP bit next */
} sfu_rtcp_nack_iter_t;
int sfu_rtcp_nack_init(sfu_rtcp_nack_iter_t *it, const sfu_rtcp_fb_t *fb);
/* 1 and *seq for each lost sequence number in order, 0 at the end. */
int sfu_rtcp_nack_next(sfu_rtcp_nack_iter_t *it, uint16_t *seq);

/* PLI has an empty FCI (RFC 4585 §6.3.1.2); VEIL_ERTCP_LENGTH otherwise. */
int sfu_rtcp_check_pli(const sfu_rtcp_fb_t *fb);

/* FIR: FCI entries of 8 bytes (SSRC, seq nr, 24 reserved bits). */
typedef struct sfu_rtcp_fir_entry {
  uint32_t ssrc;
  uint8_t seq_nr;
} sfu_rtcp_fir_entry_t;
/* Number of entries (>= 1), VEIL_ETRUNC/VEIL_ERTCP_LENGTH otherwise. */
int sfu_rtcp_fir_count(const sfu_rtcp_fb_t *fb, size_t *n);
int sfu_rtcp_fir_entry(const sfu_rtcp_fb_t *fb, size_t i, sfu_rtcp_fir_entry_t *e);

/* REMB: "REMB", num SSRC, BR exp(6) mantissa(18), SSRC list. */
typedef struct sfu_rtcp_remb {
  uint64_t bitrate_bps;      /* mantissa << exp, saturated at UINT64_MAX */
  uint8_t n_ssrc;
  veil_view_t ssrcs;
} sfu_rtcp_remb_t;
/* VEIL_ENOTFOUND when the AFB is not REMB. */
int sfu_rtcp_parse_remb(const sfu_rtcp_fb_t *fb, sfu_rtcp_remb_t *out);

/* Transport-wide CC feedback. */
typedef struct sfu_rtcp_tcc {
  uint16_t base_seq;
  uint16_t status_count;
  int32_t reference_time;    /* 24-bit signed, multiples of 64 ms */
  uint8_t fb_count;
  veil_view_t chunks;        /* packet status chunks */
  veil_view_t deltas;        /* receive deltas (+ up to 3 zero bytes of padding) */
} sfu_rtcp_tcc_t;
/* Validates the whole feedback: chunks cover status_count, deltas present for every
 * received packet, at most 3 trailing bytes. */
int sfu_rtcp_parse_tcc(const sfu_rtcp_fb_t *fb, sfu_rtcp_tcc_t *out);
enum {
  SFU_TCC_NOT_RECEIVED = 0,
  SFU_TCC_SMALL_DELTA = 1,
  SFU_TCC_LARGE_DELTA = 2,   /* or negative */
};
typedef struct sfu_rtcp_tcc_iter {
  veil_reader_t chunks;
  veil_reader_t deltas;
  uint16_t seq;
  uint16_t left;             /* statuses left overall */
  uint16_t chunk;            /* current chunk */
  uint16_t in_chunk;         /* statuses left in the current chunk */
  uint16_t chunk_pos;
} sfu_rtcp_tcc_iter_t;
typedef struct sfu_rtcp_tcc_status {
  uint16_t seq;
  uint8_t status;            /* SFU_TCC_* */
  int32_t delta_250us;       /* receive delta in 250 µs ticks (when received) */
} sfu_rtcp_tcc_status_t;
void sfu_rtcp_tcc_iter_init(sfu_rtcp_tcc_iter_t *it, const sfu_rtcp_tcc_t *t);
/* 1 and *s, 0 at the end, negative on a malformed chunk/delta. */
int sfu_rtcp_tcc_next(sfu_rtcp_tcc_iter_t *it, sfu_rtcp_tcc_status_t *s);

/* ---- Encoders ---------------------------------------------------------------------- */
int sfu_rtcp_write_rr(veil_writer_t *w, uint32_t sender_ssrc,
                      const sfu_rtcp_report_block_t *blocks, size_t n_blocks);
int sfu_rtcp_write_pli(veil_writer_t *w, uint32_t sender_ssrc, uint32_t media_ssrc);
/* One FIR entry per target (RFC 5104 §4.3.1.1: media SSRC field 0). */
int sfu_rtcp_write_fir(veil_writer_t *w, uint32_t sender_ssrc,
                       const sfu_rtcp_fir_entry_t *entries, size_t n);
/* Generic NACK for the lost sequence numbers `seqs` (any order; packed into PID/BLP
 * pairs in the order given, a new pair whenever a number is not within 16 after the
 * current PID). */
int sfu_rtcp_write_nack(veil_writer_t *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                        const uint16_t *seqs, size_t n);
int sfu_rtcp_write_remb(veil_writer_t *w, uint32_t sender_ssrc, uint64_t bitrate_bps,
                        const uint32_t *ssrcs, size_t n);

/* SR translation in place: `p` must come from an iterator over `buf` (a writable copy of
 * the compound) and be an SR. Rewrites sender SSRC, NTP timestamp and RTP timestamp. */
int sfu_rtcp_sr_rewrite(uint8_t *buf, size_t len, const sfu_rtcp_pkt_t *p, uint32_t ssrc,
                        uint64_t ntp, uint32_t rtp_ts);
/* Rewrites the SSRC of report block i of an SR/RR in place (media SSRC translation). */
int sfu_rtcp_report_block_set_ssrc(uint8_t *buf, size_t len, const sfu_rtcp_pkt_t *p,
                                   size_t i, uint32_t ssrc);

#endif
