/*
 * sfu/router — tracks, subscriptions and the forwarding path.
 *
 * RTP: a published track forwards each packet to every subscription. One received buffer
 * serves every subscriber: for each one the packet is copied into a per-send pool buffer
 * (SRTP protects in place, and each subscriber has its own keys), the copy's SSRC,
 * sequence number and timestamp are rewritten (sfu/rewrite), it is protected with the
 * subscriber's outbound session and queued for sendmmsg. The payload (SFrame ciphertext)
 * is never parsed or changed. Header extensions keep the publisher's ids and bytes, except
 * mid, rid and repaired-rid (sfu.h, sfu_ext_ids_t): those name the publisher's m-section
 * and encoding, so each copy has them blanked into RFC 8285 padding (same header length,
 * every other element in place). No allocation, no logging, no scan beyond the
 * subscription list on this path.
 *
 * RTCP (RFC 3550 §7 translator/mixer rules, as an SFU applies them):
 *   SR from a publisher   → one translated SR per subscription (its SSRC, its timestamp
 *                           offset, its own packet/octet counts); report blocks dropped.
 *   RR / report blocks    → terminated here; the SFU sends its own RRs to publishers.
 *   PLI / FIR from a subscriber → mapped to the source track, forwarded as a PLI from the
 *                           SFU to the publisher, rate-limited per track.
 *   NACK, TCC, REMB, SDES, BYE, APP → dropped (no NACK cache or BWE yet).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/bytes.h"
#include "common/err.h"
#include "sfu/rtcp.h"
#include "sfu/rtp.h"
#include "sfu/sfu_int.h"

/* ---- receive statistics (RFC 3550 A.1, A.3, A.8) ----------------------------------- */

static void rx_update(sfu_rx_stats_t *rx, uint16_t seq, uint32_t ts, uint64_t now_ms,
                      uint32_t clock_rate) {
  if (!rx->started) {
    rx->started = 1;
    rx->base_seq = seq;
    rx->max_seq = seq;
  } else {
    uint16_t udelta = (uint16_t)(seq - rx->max_seq);
    if (udelta < 3000) { /* in order, with a permissible gap (A.1 MAX_DROPOUT) */
      if (seq < rx->max_seq) rx->cycles += 1u << 16;
      rx->max_seq = seq;
    }
    /* else: duplicate, reordered, or a jump we treat as reordering */
  }
  rx->received++;
  int64_t arrival = (int64_t)(now_ms * clock_rate / 1000);
  int64_t transit = arrival - (int64_t)ts;
  if (rx->have_transit) {
    int64_t d = transit - rx->transit;
    if (d < 0) d = -d;
    if (d > 0x7fffffff) d = 0x7fffffff;
    /* J += (|D| - J) / 16, kept scaled by 16 (A.8). */
    rx->jitter_q4 += (uint32_t)d - ((rx->jitter_q4 + 8) >> 4);
  }
  rx->transit = transit;
  rx->have_transit = 1;
}

/* ---- forwarding ------------------------------------------------------------------------- */

static sfu_track_t *track_by_ssrc(const sfu_participant_t *p, uint32_t ssrc) {
  /* At most SFU_MAX_TRACKS_PER_PARTICIPANT (16) entries: a bounded scan of one cache
   * line of pointers beats a hash for this size. */
  for (unsigned i = 0; i < p->n_tracks; i++)
    if (p->tracks[i]->ssrc == ssrc) return p->tracks[i];
  return NULL;
}

void sfu_router_on_rtp(sfu_participant_t *pub, sfu_pkt_t *pkt, uint64_t now_ms) {
  sfu_worker_t *w = pub->worker;
  sfu_rtp_hdr_t h;
  sfu_track_t *t;
  if (sfu_rtp_parse(pkt->data, pkt->len, &h) != 0 || !(t = track_by_ssrc(pub, h.ssrc))) {
    w->stats.rx_dropped++;
    sfu_pool_put(w->pool, pkt);
    return;
  }
  pub->stats.rtp_in++;
  pub->stats.rtp_in_bytes += pkt->len;
  rx_update(&t->rx, h.seq, h.timestamp, now_ms, t->clock_rate);

  /* MID and RID name the publisher's m-section and encoding; a subscriber's receiver
   * would demux on them (RFC 8843 §9.2, RFC 8852) and drop the packet as unknown. They are
   * blanked into RFC 8285 padding (zero bytes, §4.2/§4.3) in each copy, which keeps the
   * header length and every other element in place; subscribers demux by SSRC. */
  struct {
    size_t off, len;
  } blank[3];
  int n_blank = 0;
  if (h.extension && (t->ext.mid || t->ext.rid || t->ext.repaired_rid)) {
    sfu_rtp_ext_iter_t it;
    sfu_rtp_ext_elem_t e;
    if (sfu_rtp_ext_iter_init(&it, &h) == 0) {
      size_t hl = it.two_byte ? 2 : 1;
      while (n_blank < 3 && sfu_rtp_ext_next(&it, &e) == 1) {
        if (e.id && (e.id == t->ext.mid || e.id == t->ext.rid || e.id == t->ext.repaired_rid)) {
          blank[n_blank].off = e.offset - hl;
          blank[n_blank].len = e.data.len + hl;
          n_blank++;
        }
      }
    }
  }

  for (sfu_link_t *l = t->subs.next; l != &t->subs; l = l->next) {
    sfu_subscription_t *s = SFU_CONTAINER_OF(l, sfu_subscription_t, track_link);
    sfu_participant_t *sub = s->subscriber;
    if (s->paused || sub->state != SFU_TRANSPORT_CONNECTED) continue;
    uint16_t oseq;
    uint32_t ots;
    if (sfu_rewrite_apply(&s->rw, h.seq, h.timestamp, now_ms, t->clock_rate, &oseq, &ots))
      continue;
    sfu_pkt_t *out = sfu_pool_get(w->pool);
    if (!out) {
      w->stats.tx_dropped++;
      continue;
    }
    memcpy(out->data, pkt->data, pkt->len);
    size_t len = pkt->len;
    sfu_rtp_set_ssrc(out->data, len, s->out_ssrc);
    sfu_rtp_set_seq(out->data, len, oseq);
    sfu_rtp_set_timestamp(out->data, len, ots);
    for (int b = 0; b < n_blank; b++) memset(out->data + blank[b].off, 0, blank[b].len);
    if (sfu_srtp_protect_rtp(sub->srtp_out, out->data, &len, SFU_PKT_CAP) != 0) {
      w->stats.tx_dropped++;
      sfu_pool_put(w->pool, out);
      continue;
    }
    out->len = (uint32_t)len;
    s->packets_sent++;
    s->octets_sent += (uint32_t)h.payload.len;
    sub->stats.rtp_out++;
    sub->stats.rtp_out_bytes += len;
    w->stats.rtp_forwarded++;
    sfu_udp_send(w->udp, out, (struct sockaddr *)&sub->addr);
  }
  sfu_pool_put(w->pool, pkt);
}

/* ---- RTCP --------------------------------------------------------------------------- */

static void send_translated_sr(sfu_subscription_t *s, const sfu_rtcp_sr_t *sr) {
  sfu_worker_t *w = s->subscriber->worker;
  /* The timestamp mapping is only valid once this source's first packet was forwarded. */
  if (!s->rw.started || s->rw.resync || s->paused) return;
  sfu_pkt_t *out = sfu_pool_get(w->pool);
  if (!out) return;
  veil_writer_t wr;
  veil_writer_init(&wr, out->data, SFU_PKT_CAP);
  veil_write_u8(&wr, 0x80); /* V=2, P=0, RC=0: the publisher's report blocks stay here */
  veil_write_u8(&wr, SFU_RTCP_SR);
  veil_write_u16(&wr, 6); /* 28 bytes = 7 words, minus one (RFC 3550 §6.4.1) */
  veil_write_u32(&wr, s->out_ssrc);
  veil_write_u64(&wr, sr->ntp);
  veil_write_u32(&wr, sr->rtp_ts + s->rw.ts_delta);
  veil_write_u32(&wr, s->packets_sent);
  veil_write_u32(&wr, s->octets_sent);
  if (wr.err) {
    sfu_pool_put(w->pool, out);
    return;
  }
  out->len = (uint32_t)wr.len;
  sfu_participant_send_rtcp(s->subscriber, out);
}

static sfu_subscription_t *sub_by_out_ssrc(const sfu_participant_t *p, uint32_t ssrc) {
  for (sfu_link_t *l = p->subs.next; l != &p->subs; l = l->next) {
    sfu_subscription_t *s = SFU_CONTAINER_OF(l, sfu_subscription_t, sub_link);
    if (s->out_ssrc == ssrc) return s;
  }
  return NULL;
}

void sfu_router_request_keyframe(sfu_track_t *t, uint64_t now_ms, int from_subscriber) {
  sfu_participant_t *pub = t->publisher;
  sfu_worker_t *w = pub->worker;
  if (from_subscriber && !t->kf_event_pending) {
    t->kf_event_pending = 1;
    sfu_participant_rearm(pub);
  }
  if (pub->state != SFU_TRANSPORT_CONNECTED) return;
  /* RFC 4585 §3.5 leaves the rate to the application; one PLI per interval per track
   * collapses the requests of many subscribers into one keyframe. */
  if (t->pli_sent && now_ms - t->last_pli_ms < w->keyframe_min_ms) return;
  sfu_pkt_t *out = sfu_pool_get(w->pool);
  if (!out) return;
  veil_writer_t wr;
  veil_writer_init(&wr, out->data, SFU_PKT_CAP);
  if (sfu_rtcp_write_pli(&wr, w->rtcp_ssrc, t->ssrc) != 0) {
    sfu_pool_put(w->pool, out);
    return;
  }
  out->len = (uint32_t)wr.len;
  t->pli_sent = 1;
  t->last_pli_ms = now_ms;
  pub->stats.pli_out++;
  sfu_participant_send_rtcp(pub, out);
}

static void on_feedback(sfu_participant_t *from, const sfu_rtcp_pkt_t *rp, uint64_t now_ms) {
  sfu_rtcp_fb_t fb;
  if (sfu_rtcp_parse_fb(rp, &fb) != 0) return;
  if (fb.fmt == SFU_RTCP_FMT_PLI) {
    sfu_subscription_t *s;
    if (sfu_rtcp_check_pli(&fb) != 0 || !(s = sub_by_out_ssrc(from, fb.media_ssrc))) return;
    from->stats.pli_in++;
    sfu_router_request_keyframe(s->track, now_ms, 1);
  } else if (fb.fmt == SFU_RTCP_FMT_FIR) {
    size_t n = 0;
    if (sfu_rtcp_fir_count(&fb, &n) != 0) return;
    for (size_t i = 0; i < n && i < 16; i++) {
      sfu_rtcp_fir_entry_t e;
      sfu_subscription_t *s;
      if (sfu_rtcp_fir_entry(&fb, i, &e) != 0 || !(s = sub_by_out_ssrc(from, e.ssrc))) continue;
      from->stats.pli_in++;
      sfu_router_request_keyframe(s->track, now_ms, 1);
    }
  }
}

void sfu_router_on_rtcp(sfu_participant_t *from, sfu_pkt_t *pkt, uint64_t now_ms) {
  sfu_worker_t *w = from->worker;
  from->stats.rtcp_in++;
  sfu_rtcp_iter_t it;
  sfu_rtcp_pkt_t rp;
  sfu_rtcp_iter_init(&it, pkt->data, pkt->len);
  /* No user callback runs inside this walk (keyframe events are deferred), so `from` and
   * every track stay valid throughout. A malformed packet ends the walk. */
  while (sfu_rtcp_next(&it, &rp) == 1) {
    switch (rp.type) {
    case SFU_RTCP_SR: {
      sfu_rtcp_sr_t sr;
      sfu_track_t *t;
      if (sfu_rtcp_parse_sr(&rp, &sr) != 0 || !(t = track_by_ssrc(from, sr.ssrc))) break;
      t->rx.last_sr_mid = (uint32_t)(sr.ntp >> 16);
      t->rx.last_sr_ms = now_ms ? now_ms : 1;
      for (sfu_link_t *l = t->subs.next; l != &t->subs; l = l->next)
        send_translated_sr(SFU_CONTAINER_OF(l, sfu_subscription_t, track_link), &sr);
      break;
    }
    case SFU_RTCP_PSFB:
      on_feedback(from, &rp, now_ms);
      break;
    default:
      break; /* RR terminated; NACK/TCC/REMB/SDES/BYE/APP not used yet */
    }
  }
  (void)w;
  sfu_pool_put(from->worker->pool, pkt);
}

void sfu_router_send_rr(sfu_participant_t *p, uint64_t now_ms) {
  sfu_worker_t *w = p->worker;
  sfu_rtcp_report_block_t blocks[SFU_MAX_TRACKS_PER_PARTICIPANT];
  size_t n = 0;
  for (unsigned i = 0; i < p->n_tracks; i++) {
    sfu_rx_stats_t *rx = &p->tracks[i]->rx;
    if (!rx->started) continue;
    uint32_t ext_max = rx->cycles + rx->max_seq;
    uint32_t expected = ext_max - rx->base_seq + 1;
    int64_t lost = (int64_t)expected - (int64_t)rx->received;
    if (lost > 0x7fffff) lost = 0x7fffff;
    if (lost < -0x800000) lost = -0x800000;
    uint32_t exp_int = expected - rx->expected_prior;
    uint32_t rec_int = rx->received - rx->received_prior;
    rx->expected_prior = expected;
    rx->received_prior = rx->received;
    int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
    sfu_rtcp_report_block_t *b = &blocks[n++];
    memset(b, 0, sizeof *b);
    b->ssrc = p->tracks[i]->ssrc;
    b->fraction_lost = (exp_int == 0 || lost_int <= 0) ? 0 : (uint8_t)((lost_int << 8) / exp_int);
    b->cumulative_lost = (int32_t)lost;
    b->highest_seq = ext_max;
    b->jitter = rx->jitter_q4 >> 4;
    b->lsr = rx->last_sr_ms ? rx->last_sr_mid : 0;
    b->dlsr = rx->last_sr_ms ? (uint32_t)((now_ms - rx->last_sr_ms) * 65536 / 1000) : 0;
  }
  if (n == 0) return;
  sfu_pkt_t *out = sfu_pool_get(w->pool);
  if (!out) return;
  veil_writer_t wr;
  veil_writer_init(&wr, out->data, SFU_PKT_CAP);
  if (sfu_rtcp_write_rr(&wr, w->rtcp_ssrc, blocks, n) != 0) {
    sfu_pool_put(w->pool, out);
    return;
  }
  out->len = (uint32_t)wr.len;
  sfu_participant_send_rtcp(p, out);
}

/* ---- tracks ----------------------------------------------------------------------------- */

static int valid_id(const char *id) {
  size_t n = id ? strlen(id) : 0;
  return n >= 1 && n <= SFU_ID_MAX;
}

sfu_track_t *sfu_track_find(sfu_room_t *r, const char *track_id) {
  if (!track_id) return NULL;
  for (sfu_link_t *l = r->participants.next; l != &r->participants; l = l->next) {
    sfu_participant_t *p = SFU_CONTAINER_OF(l, sfu_participant_t, room_link);
    for (unsigned i = 0; i < p->n_tracks; i++)
      if (!strcmp(p->tracks[i]->id, track_id)) return p->tracks[i];
  }
  return NULL;
}

static int ssrc_in_room(sfu_room_t *r, uint32_t ssrc) {
  for (sfu_link_t *l = r->participants.next; l != &r->participants; l = l->next) {
    sfu_participant_t *p = SFU_CONTAINER_OF(l, sfu_participant_t, room_link);
    for (unsigned i = 0; i < p->n_tracks; i++)
      if (p->tracks[i]->ssrc == ssrc || (p->tracks[i]->rtx_ssrc && p->tracks[i]->rtx_ssrc == ssrc))
        return 1;
  }
  return 0;
}

int sfu_track_publish(sfu_participant_t *pub, const sfu_track_params_t *tp, sfu_track_t **out) {
  *out = NULL;
  if (pub->closing || !pub->room) return VEIL_ESFU_CLOSED;
  if (!tp || !valid_id(tp->track_id) || tp->ssrc == 0 ||
      (tp->kind != SFU_MEDIA_AUDIO && tp->kind != SFU_MEDIA_VIDEO) || tp->payload_type > 127)
    return VEIL_EINVAL;
  if (pub->n_tracks >= SFU_MAX_TRACKS_PER_PARTICIPANT || pub->tracks_ever >= SFU_MAX_TRACKS_LIFETIME)
    return VEIL_ESFU_LIMIT;
  if (sfu_track_find(pub->room, tp->track_id)) return VEIL_EEXIST;
  if (ssrc_in_room(pub->room, tp->ssrc) || (tp->rtx_ssrc && ssrc_in_room(pub->room, tp->rtx_ssrc)))
    return VEIL_EEXIST;
  sfu_track_t *t = calloc(1, sizeof *t);
  if (!t) return VEIL_ENOMEM;
  strcpy(t->id, tp->track_id);
  t->publisher = pub;
  t->kind = tp->kind;
  t->ssrc = tp->ssrc;
  t->rtx_ssrc = tp->rtx_ssrc;
  t->payload_type = tp->payload_type;
  t->clock_rate = tp->clock_rate ? tp->clock_rate : (tp->kind == SFU_MEDIA_AUDIO ? 48000 : 90000);
  t->ext = tp->ext;
  sfu_link_init(&t->subs);
  pub->tracks[pub->n_tracks++] = t;
  pub->tracks_ever++;
  sfu_participant_rearm(pub);
  *out = t;
  return 0;
}

void sfu_track_unpublish(sfu_track_t *t) {
  while (!sfu_link_empty(&t->subs))
    sfu_unsubscribe(SFU_CONTAINER_OF(t->subs.next, sfu_subscription_t, track_link));
  sfu_participant_t *p = t->publisher;
  for (unsigned i = 0; i < p->n_tracks; i++) {
    if (p->tracks[i] == t) {
      p->tracks[i] = p->tracks[--p->n_tracks];
      break;
    }
  }
  free(t);
}

const char *sfu_track_id(const sfu_track_t *t) { return t->id; }
sfu_participant_t *sfu_track_publisher(const sfu_track_t *t) { return t->publisher; }

int sfu_track_request_keyframe(sfu_track_t *t) {
  if (t->publisher->state != SFU_TRANSPORT_CONNECTED) return VEIL_ESTATE;
  sfu_router_request_keyframe(t, uv_now(t->publisher->worker->loop), 0);
  return 0;
}

/* ---- subscriptions ------------------------------------------------------------------- */

int sfu_subscribe(sfu_participant_t *sub, sfu_track_t *t, sfu_subscription_t **out) {
  *out = NULL;
  if (sub->closing || !sub->room) return VEIL_ESFU_CLOSED;
  if (t->publisher == sub || t->publisher->room != sub->room) return VEIL_EINVAL;
  if (sub->n_subs >= SFU_MAX_SUBS_PER_PARTICIPANT || sub->subs_ever >= SFU_MAX_SUBS_LIFETIME)
    return VEIL_ESFU_LIMIT;
  sfu_subscription_t *s = calloc(1, sizeof *s);
  if (!s) return VEIL_ENOMEM;
  /* A fresh random SSRC per subscription (RFC 3550 §8.1), unique on this transport. */
  do {
    if (RAND_bytes((unsigned char *)&s->out_ssrc, sizeof s->out_ssrc) != 1) {
      free(s);
      return VEIL_ESFU_DTLS;
    }
  } while (s->out_ssrc == 0 || sub_by_out_ssrc(sub, s->out_ssrc));
  s->subscriber = sub;
  s->track = t;
  sfu_rewrite_init(&s->rw);
  sfu_link_insert_tail(&t->subs, &s->track_link);
  sfu_link_insert_tail(&sub->subs, &s->sub_link);
  sub->n_subs++;
  sub->subs_ever++;
  /* A new receiver can only start decoding at a keyframe. */
  if (t->kind == SFU_MEDIA_VIDEO) sfu_router_request_keyframe(t, uv_now(sub->worker->loop), 0);
  *out = s;
  return 0;
}

void sfu_unsubscribe(sfu_subscription_t *s) {
  sfu_link_remove(&s->track_link);
  sfu_link_remove(&s->sub_link);
  s->subscriber->n_subs--;
  free(s);
}

int sfu_subscription_switch(sfu_subscription_t *s, sfu_track_t *t) {
  if (t == s->track) return 0;
  if (t->kind != s->track->kind || t->publisher == s->subscriber ||
      t->publisher->room != s->subscriber->room)
    return VEIL_EINVAL;
  sfu_link_remove(&s->track_link);
  s->track = t;
  sfu_link_insert_tail(&t->subs, &s->track_link);
  sfu_rewrite_switch(&s->rw);
  if (t->kind == SFU_MEDIA_VIDEO) sfu_router_request_keyframe(t, uv_now(t->publisher->worker->loop), 0);
  return 0;
}

void sfu_subscription_set_paused(sfu_subscription_t *s, int paused) {
  /* Resuming splices like a switch: the gap becomes a timestamp step, not a seq gap. */
  if (s->paused && !paused) {
    sfu_rewrite_switch(&s->rw);
    if (s->track->kind == SFU_MEDIA_VIDEO)
      sfu_router_request_keyframe(s->track, uv_now(s->subscriber->worker->loop), 0);
  }
  s->paused = paused ? 1 : 0;
}

int sfu_subscription_info(const sfu_subscription_t *s, sfu_subscription_info_t *out) {
  memset(out, 0, sizeof *out);
  out->ssrc = s->out_ssrc;
  out->payload_type = s->track->payload_type;
  out->clock_rate = s->track->clock_rate;
  out->kind = s->track->kind;
  out->ext = s->track->ext;
  /* Blanked on forwarding (see sfu_router_on_rtp): not negotiable towards subscribers. */
  out->ext.mid = out->ext.rid = out->ext.repaired_rid = 0;
  out->track_id = s->track->id;
  return 0;
}

void sfu_router_detach(sfu_participant_t *p) {
  while (p->n_tracks > 0) sfu_track_unpublish(p->tracks[p->n_tracks - 1]);
  while (!sfu_link_empty(&p->subs))
    sfu_unsubscribe(SFU_CONTAINER_OF(p->subs.next, sfu_subscription_t, sub_link));
}
