/* veil-load per-SSRC RTP loss accounting. Contract in rxtrack.h. */
#include "clients/load/rxtrack.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"

int load_rxmap_init(load_rxmap_t *m, uint32_t hint) {
  memset(m, 0, sizeof *m);
  uint32_t cap = 16;
  while (cap < 2 * hint && cap < LOAD_RX_MAX_SSRC * 2) cap *= 2;
  m->v = calloc(cap, sizeof *m->v);
  if (!m->v) return VEIL_ENOMEM;
  m->cap = cap;
  return 0;
}

void load_rxmap_free(load_rxmap_t *m) {
  free(m->v);
  memset(m, 0, sizeof *m);
}

static load_rx_stream_t *find(load_rxmap_t *m, uint32_t ssrc) {
  uint32_t mask = m->cap - 1, i = (ssrc * 2654435761u) & mask;
  for (uint32_t probes = 0; probes < m->cap; probes++, i = (i + 1) & mask) {
    load_rx_stream_t *s = &m->v[i];
    if (s->used && s->ssrc == ssrc) return s;
    if (!s->used) {
      /* keep the table at most half full so probing stays short */
      if (m->n >= LOAD_RX_MAX_SSRC || (m->n + 1) * 2 > m->cap) return NULL;
      s->used = 1;
      s->ssrc = ssrc;
      m->n++;
      return s;
    }
  }
  return NULL;
}

void load_rxmap_packet(load_rxmap_t *m, const uint8_t *pkt, size_t len) {
  /* RFC 3550 §5.1: V=2 in the first byte, seq at bytes 2..3, SSRC at 8..11. */
  veil_reader_t r;
  uint8_t b0, b1;
  uint16_t seq;
  uint32_t ts, ssrc;
  veil_reader_init(&r, pkt, len);
  veil_read_u8(&r, &b0);
  veil_read_u8(&r, &b1);
  veil_read_u16(&r, &seq);
  veil_read_u32(&r, &ts);
  if (veil_read_u32(&r, &ssrc) || (b0 >> 6) != 2) {
    m->malformed++;
    return;
  }
  m->packets++;
  load_rx_stream_t *s = find(m, ssrc);
  if (!s) {
    m->untracked++;
    return;
  }
  if (s->t.started) {
    /* RFC 3550 A.1: a forward jump across 0 is a roll-over; a small backward step near
     * the wrap belongs to the previous cycle. */
    int32_t d = (int16_t)(uint16_t)(seq - s->last_seq);
    if (d > 0 && seq < s->last_seq) s->cycles++;
    uint64_t ext = ((uint64_t)s->cycles << 16) | seq;
    if (d < 0 && seq > s->last_seq && s->cycles) ext -= 1u << 16;
    if (d > 0) s->last_seq = seq;
    load_seqtrack_add(&s->t, (uint32_t)ext);
  } else {
    s->last_seq = seq;
    /* start one cycle in so a late packet from just before the first wraps to a valid
     * lower value instead of underflowing */
    s->cycles = 1;
    load_seqtrack_add(&s->t, (1u << 16) | seq);
  }
}

void load_rxmap_totals(const load_rxmap_t *m, uint64_t *expected, uint64_t *lost) {
  uint64_t e = 0, l = 0;
  for (uint32_t i = 0; i < m->cap; i++)
    if (m->v[i].used) {
      e += load_seqtrack_expected(&m->v[i].t);
      l += load_seqtrack_lost(&m->v[i].t);
    }
  *expected = e, *lost = l;
}
