/*
 * sfu/rewrite — per-subscription RTP sequence number and timestamp rewriting, so that a
 * subscriber sees one continuous stream (one SSRC, sequence numbers without jumps,
 * monotonic timestamps) while the SFU switches its source (simulcast layer, active
 * speaker, republished track). Pure arithmetic on 16/32-bit wrapping counters; the SSRC
 * itself is a constant of the subscription.
 *
 * RFC 3550 §5.1 lets a translator renumber as long as the output is self-consistent. On a
 * switch the next output sequence number is highest-sent + 1, and the next timestamp is
 * last-sent + the wall-clock gap in clock-rate units (at least 1), so receivers' jitter
 * buffers see neither a loss burst nor a timestamp jump. Packets of the new source older
 * than its first forwarded packet are dropped (they would map before the splice point).
 */
#ifndef VEIL_SFU_REWRITE_H
#define VEIL_SFU_REWRITE_H

#include <stdint.h>

typedef struct sfu_rewrite {
  uint8_t started;     /* at least one packet forwarded */
  uint8_t resync;      /* the next packet starts a new source */
  uint8_t guard;       /* still close to the splice point: drop packets before it */
  uint16_t seq_delta;  /* out_seq = in_seq + seq_delta (mod 2^16) */
  uint32_t ts_delta;   /* out_ts = in_ts + ts_delta (mod 2^32) */
  uint16_t base_in_seq;/* first input sequence number of the current source */
  uint16_t max_out_seq;/* highest output sequence number sent */
  uint32_t max_out_ts; /* timestamp of that packet */
  uint64_t max_out_ms; /* when it was sent */
} sfu_rewrite_t;

void sfu_rewrite_init(sfu_rewrite_t *rw);
/* The next packet comes from a new source (another SSRC or restarted numbering). */
void sfu_rewrite_switch(sfu_rewrite_t *rw);
/* Maps one input packet. Returns 0 with out_seq and out_ts set, or 1 when the packet must
 * be dropped (older than the current source's splice point). */
int sfu_rewrite_apply(sfu_rewrite_t *rw, uint16_t in_seq, uint32_t in_ts, uint64_t now_ms,
                      uint32_t clock_rate, uint16_t *out_seq, uint32_t *out_ts);

#endif
