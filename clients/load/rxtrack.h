/*
 * veil-load — receive-side RTP loss accounting per SSRC, fed from the session's packet
 * tap (every RTP packet after SRTP). RTP sequence numbers are 16-bit; they are extended
 * with a roll-over count (RFC 3550 Appendix A.1) before the 32-bit tracker of media.h
 * counts gaps and duplicates.
 *
 * Bounded: an open-addressed table of at most LOAD_RX_MAX_SSRC streams per participant;
 * streams beyond that are counted in `untracked` instead of allocating (the SFU decides
 * what we receive, so the bound protects veil-load from a misbehaving server).
 */
#ifndef VEIL_CLIENTS_LOAD_RXTRACK_H
#define VEIL_CLIENTS_LOAD_RXTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "clients/load/media.h"

#define LOAD_RX_MAX_SSRC 4096u

typedef struct load_rx_stream {
  uint32_t ssrc;
  uint8_t used;
  uint8_t last_marker;      /* the newest packet so far carried the marker bit */
  uint16_t last_seq;
  uint32_t last_ts;
  uint32_t cycles;          /* roll-overs, in units of 2^16 */
  load_seqtrack_t t;
} load_rx_stream_t;

typedef struct load_rxmap {
  load_rx_stream_t *v;      /* owned, cap entries */
  uint32_t cap, n;
  uint64_t packets, untracked, malformed;
} load_rxmap_t;

/* cap_hint: expected streams; rounded up to a power of two >= 2x, at most the bound. */
int load_rxmap_init(load_rxmap_t *m, uint32_t cap_hint);
void load_rxmap_free(load_rxmap_t *m);
/* What one packet is, for the caller's own look at the payload. */
typedef struct load_rx_info {
  int ok;                   /* a well-formed RTP packet */
  uint8_t pt;
  int frame_start;          /* begins an SFrame ciphertext (docs/protocol.md
                             * "Packetization modes"): every packet of a per-packet track
                             * (audio), else the packet after a marker or a timestamp change */
  const uint8_t *payload;   /* view into pkt, padding removed */
  size_t payload_len;
} load_rx_info_t;

/* One RTP packet (header parsed here through common/bytes.h). info may be NULL. */
void load_rxmap_packet(load_rxmap_t *m, const uint8_t *pkt, size_t len, load_rx_info_t *info);
/* Totals over every stream. */
void load_rxmap_totals(const load_rxmap_t *m, uint64_t *expected, uint64_t *lost);

#endif
