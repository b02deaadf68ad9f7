/* veil-load: one simulated participant = one vs_session (clients/lib/session) on a worker
 * loop. This file only turns the session's events and statistics into load metrics; all
 * signaling, MLS, SFrame and DTLS-SRTP work is the session library's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/sframe/sframe.h"
#include "clients/load/runner_int.h"
#include "common/err.h"
#include "common/vtime.h"

#define MAX_PRINTED_ERRORS 20u

void lp_error(load_worker_t *w, uint32_t idx, const char *what, const char *detail) {
  w->sec.session_errors++;
  if (atomic_fetch_add(&w->run->errors_printed, 1) < MAX_PRINTED_ERRORS)
    fprintf(stderr, "veil-load: participant %u: %s%s%s\n", idx, what, detail ? ": " : "", detail ? detail : "");
}

static void lp_poll_as(lp_t *p, int prejoin);

static void note_epoch(load_runctx_t *r, uint64_t e) {
  unsigned long long cur = atomic_load(&r->max_epoch);
  while (e > cur && !atomic_compare_exchange_weak(&r->max_epoch, &cur, e)) {
  }
}

static void on_event(void *arg, json_t *ev) {
  lp_t *p = arg;
  load_worker_t *w = p->w;
  const char *type = json_string_value(json_object_get(ev, "event"));
  if (!type) return;
  if (!strcmp(type, "epoch")) {
    p->epoch = (uint64_t)json_integer_value(json_object_get(ev, "epoch"));
    p->members = (uint32_t)json_integer_value(json_object_get(ev, "members"));
    if (p->state == LP_STARTED) {
      /* Frames that reached us before we were in the group could not be decrypted by
       * design (the SFU forwards media from the moment we subscribe; the keys come with
       * the Welcome): count them apart, not as decrypt failures of a member. */
      lp_poll_as(p, 1);
      p->state = LP_MEMBER;
      p->first_epoch = p->epoch;
      w->sec.joins++;
      load_hist_add(&w->sec.join_latency, veil_now_us() - p->start_us);
      atomic_fetch_add(&w->run->members, 1);
    }
    if (p->epoch > w->sec.max_epoch) w->sec.max_epoch = p->epoch;
    note_epoch(w->run, p->epoch);
  } else if (!strcmp(type, "rekey")) {
    /* the session measures from the moment it learnt of the leave to the epoch without
     * the leaver (vs_session.c) */
    double ms = json_number_value(json_object_get(ev, "after_leave_ms"));
    if (ms >= 0) load_hist_add(&w->sec.rekey_latency, (uint64_t)(ms * 1000.0));
  } else if (!strcmp(type, "removed")) {
    if (!p->leaving) lp_error(w, p->slot->idx, "removed from the group", NULL);
  } else if (!strcmp(type, "error")) {
    const char *what = json_string_value(json_object_get(ev, "what"));
    const char *e = json_string_value(json_object_get(ev, "error"));
    json_t *m = json_object_get(ev, "message");
    char *dump = m ? json_dumps(m, JSON_COMPACT) : NULL;
    lp_error(w, p->slot->idx, what ? what : "error", e ? e : dump);
    free(dump);
  } else if (!strcmp(type, "signaling_closed")) {
    if (!p->leaving && !w->stopping)
      lp_error(w, p->slot->idx, "signaling closed", json_string_value(json_object_get(ev, "reason")));
  } else if (!strcmp(type, "transport")) {
    const char *st = json_string_value(json_object_get(ev, "state"));
    if (st && !strcmp(st, "failed") && !p->leaving && !w->stopping)
      lp_error(w, p->slot->idx, "transport failed", json_string_value(json_object_get(ev, "error")));
  }
}

/* The tap sees each packet just before the session decrypts it. docs/protocol.md
 * ("SFrame ciphertext"): a ciphertext whose KID names an epoch the receiver has not
 * installed yet, or one already dropped, is discarded -- the documented loss at an epoch
 * change. The low E bits of the KID are the epoch (RFC 9605 §5.2), so the tap can tell:
 *   ahead   sent by a member who processed a commit we have not processed yet;
 *   behind  sent under an epoch from before our Welcome (a sender who has not processed
 *           the commit that added us), or older than the epochs the session keeps.
 * Such frames are counted as epoch-change drops; an unknown KID of an epoch we hold is
 * still a decrypt failure. */
static void on_rtp(void *arg, const uint8_t *pkt, size_t len) {
  lp_t *p = arg;
  load_rx_info_t in;
  load_rxmap_packet(&p->rx, pkt, len, &in);
  if (!in.ok || !in.frame_start || p->state != LP_MEMBER) return;
  veil_reader_t r;
  sframe_header_t h;
  veil_reader_init(&r, in.payload, in.payload_len);
  if (sframe_header_decode(&r, &h)) return;
  const uint64_t mask = (UINT64_C(1) << SFRAME_MLS_EPOCH_BITS_DEFAULT) - 1;
  uint64_t ahead = ((h.kid & mask) - (p->epoch & mask)) & mask;
  uint64_t behind = ((p->epoch & mask) - (h.kid & mask)) & mask;
  if (ahead >= 1 && ahead <= mask / 2) p->early++;
  else if (behind >= 1 && behind <= mask / 2 &&
           (behind > p->epoch - p->first_epoch || behind >= SFRAME_MLS_EPOCHS_KEPT_DEFAULT))
    p->early++;
}

/* vs_session frame_source: veil-load's media model is what goes on the wire. The model
 * keeps its own keyframe schedule (key_wanted is not followed). A frame larger than the
 * session carries (VS_FRAME_MAX) is skipped and counted as a send failure. */
static int on_source(void *arg, vs_kind_t kind, int key_wanted, uint8_t *out, size_t cap, size_t *len, int *key) {
  (void)key_wanted;
  lp_t *p = arg;
  load_source_t *src = &p->src[kind == VS_AUDIO ? LOAD_TRACK_AUDIO : LOAD_TRACK_VIDEO];
  load_frame_info_t fi;
  int rc = load_source_emit(src, vs_now_us(), out, cap, len, &fi);
  if (rc == VEIL_EOVERFLOW) {
    src->seq++;
    src->next_us += src->period_us;
  }
  if (rc) return rc;
  *key = fi.keyframe;
  return 0;
}

/* vs_session frame_check, on every frame that decrypted (the E2EE check is the session's):
 * the model's header always, the bit-exact rebuild on the verify-every sample
 * (load_frame_check). Returning 1 makes the session count the frame and pass its send
 * time to on_frame; the frames checked bit-exact are counted here. */
static int on_check(void *arg, const char *pid, const vs_frame_t *f, uint64_t *sent_us) {
  (void)pid;
  lp_t *p = arg;
  const load_scenario_t *sc = p->w->run->sc;
  load_frame_info_t fi;
  int sampled = 0;
  if (load_frame_check(f->data, f->len, sc->seed, sc->verify_every, &fi, &sampled)) return 0;
  p->bit_exact += (uint64_t)sampled;
  *sent_us = fi.sent_us;
  return 1;
}

/* vs_session allow_candidate: media goes only to an address of the --url host (target.h),
 * checked before the transport sends its first STUN check. */
static int on_candidate(void *arg, const char *ip, uint16_t port) {
  (void)port; /* the SFU's UDP port is its own, unrelated to the URL's */
  lp_t *p = arg;
  return load_target_allows_ip(&p->w->run->target, ip);
}

/* vs_session on_frame: exact per-frame latency (same host, CLOCK_REALTIME both ends). */
static void on_frame(void *arg, const char *pid, const vs_frame_t *f) {
  (void)pid;
  lp_t *p = arg;
  if (!f->verified || !f->sent_us) return;
  uint64_t lat = f->recv_us > f->sent_us ? f->recv_us - f->sent_us : 0;
  load_hist_add(&p->w->sec.frame_latency, lat);
  if (lat > p->w->sec.latency_max_us) p->w->sec.latency_max_us = lat;
}

int lp_start(load_worker_t *w, const load_slot_t *slot) {
  load_runctx_t *r = w->run;
  const load_scenario_t *sc = r->sc;
  char sub[LOAD_SUB_MAX + 1];
  lp_t *p = calloc(1, sizeof *p);
  if (!p) return VEIL_ENOMEM;
  p->w = w;
  p->slot = slot;
  /* Token valid for the whole run plus a margin; identity = the token's sub. */
  int64_t ttl = (int64_t)(r->plan.end_ms / 1000u) + 600;
  int rc = load_tokens_get(r->tokens, slot->idx, ttl, &p->token, sub);
  if (rc) goto fail;
  if ((rc = vs_identity_generate(sub, VC_ECDSA_P256_SHA256, &p->id))) goto fail;
  p->have_id = 1;
  if ((rc = load_rxmap_init(&p->rx, 2 * load_scenario_peak(sc)))) goto fail;
  uint64_t t0 = vs_now_us();
  if ((rc = load_source_init_audio(&p->src[LOAD_TRACK_AUDIO], slot->idx, sc->seed, t0))) goto fail;
  if (slot->publish_video &&
      (rc = load_source_init_video(&p->src[LOAD_TRACK_VIDEO], slot->idx, sc->seed, t0, &sc->vp)))
    goto fail;
  vs_session_config_t cfg = {
      .loop = &w->loop,
      .url = sc->url,
      .pin_sha256 = sc->pin_sha256[0] ? sc->pin_sha256 : NULL,
      .ca_file = sc->ca_file[0] ? sc->ca_file : NULL,
      .token = p->token,
      .room = sc->room,
      .identity = &p->id,
      .publish_audio = slot->publish_audio,
      .publish_video = slot->publish_video,
      .on_event = on_event,
      .on_rtp_copy = on_rtp,
      .frame_source = on_source,
      .video_fps = sc->vp.fps,
      .frame_check = on_check,
      .on_frame = on_frame,
      .allow_candidate = on_candidate,
      .arg = p,
  };
  p->start_us = veil_now_us();
  p->state = LP_STARTED;
  if ((rc = vs_session_new(&cfg, &p->s))) goto fail;
  p->next = w->active;
  w->active = p;
  if ((rc = vs_session_start(p->s))) {
    lp_error(w, slot->idx, "session start", veil_strerror(rc));
    lp_leave(p);
    return 0;
  }
  return 0;
fail:
  lp_error(w, slot->idx, "cannot start", veil_strerror(rc));
  lp_free(p);
  return rc;
}

/* Sums the session's per-receiver counters (vs_session_stats) and its senders. */
static void read_counters(lp_t *p, lp_counters_t *c, uint64_t *lat_max) {
  memset(c, 0, sizeof *c);
  json_t *st = vs_session_stats(p->s);
  if (!st) return;
  c->sent = (uint64_t)json_integer_value(json_object_get(st, "audio_frames_sent")) +
            (uint64_t)json_integer_value(json_object_get(st, "video_frames_sent"));
  size_t i;
  json_t *rx;
  json_array_foreach(json_object_get(st, "receivers"), i, rx) {
#define G(k) ((uint64_t)json_integer_value(json_object_get(rx, k)))
    uint64_t verified = G("verified");
    c->frames += G("frames");
    c->decrypted += G("decrypted");
    /* every way a frame from the group can fail to decrypt (vs_media.h, receive side) */
    c->auth_failed += G("auth_failed");
    c->unknown_kid += G("unknown_kid");
    c->not_sframe += G("not_sframe");
    c->wrong_sender += G("wrong_sender");
    c->failures += G("auth_failed") + G("unknown_kid") + G("not_sframe") + G("wrong_sender");
    c->corrupt += G("corrupt");
    c->replayed += G("replayed");
#undef G
    /* latency_avg_ms is sum / verified (vs_session_media.c): the sum comes back exact to
     * double precision */
    c->lat_sum_us += (uint64_t)(json_number_value(json_object_get(rx, "latency_avg_ms")) * 1000.0 * (double)verified + 0.5);
    uint64_t mx = (uint64_t)(json_number_value(json_object_get(rx, "latency_max_ms")) * 1000.0);
    if (mx > *lat_max) *lat_max = mx;
  }
  json_decref(st);
  c->verified = p->bit_exact;
  c->packets = p->rx.packets;
  c->early = p->early;
  load_rxmap_totals(&p->rx, &c->rtp_expected, &c->rtp_lost);
}

void lp_poll(lp_t *p) { lp_poll_as(p, p->state == LP_STARTED); }

static void lp_poll_as(lp_t *p, int prejoin) {
  if (!p->s) return;
  load_stats_t *s = &p->w->sec;
  lp_counters_t c;
  uint64_t mx = 0;
  read_counters(p, &c, &mx);
  /* Unsigned deltas: loss may shrink when a late packet fills a gap; modular sums keep the
   * run totals exact (stats.c). */
  s->frames_sent += c.sent - p->prev.sent;
  s->frames_recv += c.frames - p->prev.frames;
  s->frames_decrypted += c.decrypted - p->prev.decrypted;
  s->frames_verified += c.verified - p->prev.verified;
  if (prejoin) {
    s->prejoin_undecryptable += c.failures - p->prev.failures;
  } else {
    /* Unknown-KID refusals up to the number of early-epoch frame starts seen in the
     * same interval are the documented loss at an epoch change, not failures. */
    uint64_t unknown = c.unknown_kid - p->prev.unknown_kid, early = c.early - p->prev.early;
    /* A video frame is seen at its first packet and refused at its last, which can fall
     * in the next poll: unmatched early frames stay credited for one more poll. */
    if (early) p->credit_age = 0;
    else if (++p->credit_age > 1) p->early_credit = 0;
    p->early_credit += early;
    uint64_t drops = unknown < p->early_credit ? unknown : p->early_credit;
    p->early_credit -= drops;
    s->early_epoch_drops += drops;
    s->decrypt_failures += c.failures - p->prev.failures - drops;
    s->fail_auth += c.auth_failed - p->prev.auth_failed;
    s->fail_unknown_kid += unknown - drops;
    s->fail_not_sframe += c.not_sframe - p->prev.not_sframe;
    s->fail_wrong_sender += c.wrong_sender - p->prev.wrong_sender;
  }
  s->verify_failures += c.corrupt - p->prev.corrupt;

  s->replayed += c.replayed - p->prev.replayed;
  s->packets_recv += c.packets - p->prev.packets;
  s->rtp_expected += c.rtp_expected - p->prev.rtp_expected;
  s->rtp_lost += c.rtp_lost - p->prev.rtp_lost;
  (void)mx; /* frame latency is recorded per frame (on_frame) */
  p->prev = c;
}

static void unlink_active(lp_t *p) {
  for (lp_t **pp = &p->w->active; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      return;
    }
}

void lp_close(lp_t *p) {
  if (p->state == LP_CLOSED) return;
  if (p->state == LP_MEMBER) atomic_fetch_sub(&p->w->run->members, 1);
  p->state = LP_CLOSED;
  p->closed_us = veil_now_us();
  if (p->s) vs_session_close(p->s);
}

void lp_leave(lp_t *p) {
  load_worker_t *w = p->w;
  lp_poll(p); /* count what it received up to now */
  p->leaving = 1;
  if (p->state == LP_MEMBER) {
    w->sec.leaves++;
    if (p->slot->leader_leave) w->sec.failovers++;
  }
  if (p->s) vs_session_leave(p->s);
  lp_close(p);
  unlink_active(p);
  p->next = w->closed;
  w->closed = p;
}

void lp_record_final(lp_t *p) {
  load_runctx_t *r = p->w->run;
  uv_mutex_lock(&r->mu);
  if (r->nfinals < r->plan.n) {
    load_final_t *f = &r->finals[r->nfinals++];
    f->idx = p->slot->idx;
    f->member = p->state == LP_MEMBER && p->s && vs_session_is_member(p->s);
    f->epoch = p->epoch;
    snprintf(f->code, sizeof f->code, "%s", p->s ? vs_session_security_code(p->s) : "");
  }
  uv_mutex_unlock(&r->mu);
}

void lp_free(lp_t *p) {
  if (!p) return;
  vs_session_free(p->s);
  if (p->have_id) vs_identity_free(&p->id);
  load_rxmap_free(&p->rx);
  free(p->token);
  free(p);
}
