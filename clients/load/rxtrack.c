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

#define PT_AUDIO 111 /* per-packet SFrame mode (clients/lib/session/vs_media.h) */

void load_rxmap_packet(load_rxmap_t *m, const uint8_t *pkt, size_t len, load_rx_info_t *info) {
  /* RFC 3550 §5.1 header, §5.3.1 extension, §5.1 padding. */
  veil_reader_t r;
  uint8_t b0, b1;
  uint16_t seq, xprof, xlen;
  uint32_t ts, ssrc;
  if (info) memset(info, 0, sizeof *info);
  veil_reader_init(&r, pkt, len);
  veil_read_u8(&r, &b0);
  veil_read_u8(&r, &b1);
  veil_read_u16(&r, &seq);
  veil_read_u32(&r, &ts);
  veil_read_u32(&r, &ssrc);
  veil_skip(&r, 4u * (b0 & 0x0f));
  if (b0 & 0x10) {
    veil_read_u16(&r, &xprof);
    veil_read_u16(&r, &xlen);
    veil_skip(&r, 4u * xlen);
  }
  size_t rest = veil_reader_remaining(&r);
  size_t pad = 0;
  if (!r.err && (b0 & 0x20)) pad = rest ? pkt[len - 1] : 1;
  if (r.err || (b0 >> 6) != 2 || pad > rest || (b0 & 0x20 && pad == 0)) {
    m->malformed++;
    return;
  }
  m->packets++;
  load_rx_stream_t *s = find(m, ssrc);
  int marker = b1 >> 7, pt = b1 & 0x7f;
  if (info) {
    info->ok = 1;
    info->pt = (uint8_t)pt;
    info->payload = r.p;
    info->payload_len = rest - pad;
  }
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
    if (info) info->frame_start = pt == PT_AUDIO || (d == 1 && (s->last_marker || ts != s->last_ts));
    if (d > 0) {
      s->last_seq = seq;
      s->last_ts = ts;
      s->last_marker = (uint8_t)marker;
    }
    load_seqtrack_add(&s->t, (uint32_t)ext);
  } else {
    s->last_seq = seq;
    s->last_ts = ts;
    s->last_marker = (uint8_t)marker;
    /* start one cycle in so a late packet from just before the first wraps to a valid
     * lower value instead of underflowing */
    s->cycles = 1;
    if (info) info->frame_start = pt == PT_AUDIO;
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
