/* veil client session — media: senders on timers, receivers per subscribed track, stats,
 * and the test taps (RTP and MLS application messages fed to a member that left).
 * Contract in vs_session.h / vs_media.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/session/vs_session_int.h"
#include "common/err.h"
#include "sfu/rtp.h"

#define AUDIO_MS 20
#define VIDEO_MS 66

static int out_rtp(void *arg, uint8_t *pkt, size_t len, size_t cap) {
  vs_session_t *s = arg;
  return s->tr ? vs_transport_send_rtp(s->tr, pkt, len, cap) : VEIL_ESTATE;
}

static int can_send(const vs_session_t *s) {
  return s->sm && !s->left && !s->removed && !s->closing && s->tr &&
         vs_transport_state(s->tr) == VS_TRANSPORT_CONNECTED && vs_session_is_member(s);
}

static void tick(vs_session_t *s, vs_sender_t *snd) {
  if (!snd || !can_send(s))
    return;
  int rc = vs_sender_frame(snd, s->sm, s->cfg.tamper, out_rtp, s);
  if (rc)
    s->frames_sent_failed++;
}

static void audio_cb(uv_timer_t *t) {
  vs_session_t *s = t->data;
  tick(s, s->audio);
}

static void video_cb(uv_timer_t *t) {
  vs_session_t *s = t->data;
  tick(s, s->video);
}

int vs_media_start(vs_session_t *s) {
  if (s->timers_open || s->closing)
    return 0;
  uv_timer_init(s->cfg.loop, &s->audio_timer);
  uv_timer_init(s->cfg.loop, &s->video_timer);
  s->audio_timer.data = s->video_timer.data = s;
  s->timers_open = 1;
  uv_timer_start(&s->audio_timer, audio_cb, AUDIO_MS, AUDIO_MS);
  uint64_t vms = s->cfg.video_fps ? 1000u / s->cfg.video_fps : VIDEO_MS;
  uv_timer_start(&s->video_timer, video_cb, vms ? vms : 1, vms ? vms : 1);
  return 0;
}

void vs_media_stop(vs_session_t *s) {
  if (!s->timers_open)
    return;
  uv_timer_stop(&s->audio_timer);
  uv_timer_stop(&s->video_timer);
}

static int rx_check(void *arg, const vs_frame_t *f, uint64_t *sent_us) {
  vs_rx_t *x = arg;
  return x->s->cfg.frame_check(x->s->cfg.arg, x->pid, f, sent_us);
}

static void rx_frame(void *arg, const vs_frame_t *f) {
  vs_rx_t *x = arg;
  x->s->cfg.on_frame(x->s->cfg.arg, x->pid, f);
}

/* Tap sources are kept apart from subscriptions: the SFU may give a tapped member's
 * subscription the same SSRC as ours. */
static vs_rx_t *rx_by_ssrc(vs_session_t *s, uint32_t ssrc, int tap) {
  for (vs_rx_t *x = s->rx; x; x = x->next)
    if (vs_receiver_ssrc(x->r) == ssrc && x->tap == tap)
      return x;
  return NULL;
}

int vs_media_add_rx(vs_session_t *s, const char *track_id, const char *pid, vs_kind_t kind, uint32_t ssrc) {
  int tap = !pid[0];
  if (rx_by_ssrc(s, ssrc, tap))
    return VEIL_EEXIST;
  vs_rx_t *x = calloc(1, sizeof *x);
  if (!x)
    return VEIL_ENOMEM;
  int rc = vs_receiver_new(kind, ssrc, &x->r);
  if (rc) {
    free(x);
    return rc;
  }
  x->s = s;
  x->tap = tap;
  if (s->cfg.frame_check || s->cfg.on_frame)
    vs_receiver_set_hooks(x->r, s->cfg.frame_check ? rx_check : NULL, s->cfg.on_frame ? rx_frame : NULL, x);
  snprintf(x->track_id, sizeof x->track_id, "%s", track_id);
  snprintf(x->pid, sizeof x->pid, "%s", pid);
  x->next = s->rx;
  s->rx = x;
  return 0;
}

void vs_media_free_rx(vs_session_t *s) {
  while (s->rx) {
    vs_rx_t *x = s->rx;
    s->rx = x->next;
    vs_receiver_free(x->r);
    free(x);
  }
}

/* A frame that authenticated under leaf `leaf` belongs on this track only if that leaf's
 * credential names the publisher signaling announced: otherwise the SFU (or another
 * member) spliced someone else's media into this track. */
static int leaf_ok(void *arg, uint32_t leaf) {
  vs_rx_t *x = arg;
  if (!x->pid[0])
    return 1; /* a tap source: any member */
  const vs_peer_t *p = vs_peer_by_pid(x->s, x->pid);
  return p && leaf < x->s->n_leaf_ids && strcmp(x->s->leaf_ids[leaf], p->identity) == 0;
}

static void deliver(vs_session_t *s, vs_rx_t *x, const uint8_t *pkt, size_t len) {
  int ok = vs_receiver_packet(x->r, s->sm, pkt, len, leaf_ok, x, vs_now_us());
  if (ok > 0 && !s->first_frame_done && s->join_sent_us) {
    s->first_frame_done = 1;
    vs_emit(s, json_pack("{s:s,s:f,s:s}", "event", "first_frame", "after_join_ms",
                         (double)(vs_now_us() - s->join_sent_us) / 1000.0, "from", x->pid));
  }
}

void vs_media_on_rtp(vs_session_t *s, uint8_t *pkt, size_t len) {
  sfu_rtp_hdr_t h;
  if (sfu_rtp_parse(pkt, len, &h))
    return;
  vs_rx_t *x = rx_by_ssrc(s, h.ssrc, 0);
  if (x)
    deliver(s, x, pkt, len);
}

void vs_session_tap_packet(vs_session_t *s, const uint8_t *pkt, size_t len) {
  /* Only once we left: while a member, the same frames arrive through our own transport
   * and the shared per-KID replay window would (rightly) refuse the second copy. */
  sfu_rtp_hdr_t h;
  if (!s->left || sfu_rtp_parse(pkt, len, &h))
    return;
  vs_rx_t *x = rx_by_ssrc(s, h.ssrc, 1);
  if (!x) {
    char tid[32];
    snprintf(tid, sizeof tid, "tap-%08x", h.ssrc);
    if (vs_media_add_rx(s, tid, "", h.payload_type == VS_PT_AUDIO ? VS_AUDIO : VS_VIDEO, h.ssrc))
      return;
    x = rx_by_ssrc(s, h.ssrc, 1);
  }
  deliver(s, x, pkt, len);
}

/* Why a tapped message did not open, by class: the epoch is not one we hold; the epoch is,
 * but no key of ours opens or authenticates it; not application data (never tried). */
static void tap_chat_refused(vs_tap_chat_t *t, int rc) {
  t->refused++;
  t->last_error = rc;
  if (rc == VEIL_EMLS_FUTURE_EPOCH || rc == VEIL_EMLS_STALE_EPOCH)
    t->wrong_epoch++;
  else if (rc == VEIL_EAUTH || rc == VEIL_EMLS_SIGNATURE)
    t->unknown_key++;
  else if (rc == VEIL_EINVAL)
    t->not_application++;
  else
    t->other++;
}

void vs_session_tap_mls(vs_session_t *s, const uint8_t *msg, size_t len) {
  /* Only once we left, as for RTP: while a member, the relay gives us the same message
   * and trying the copy too would consume its ratchet key twice. */
  if (!s->left || !s->member)
    return;
  vs_tap_chat_t *t = &s->tap_chat;
  uint64_t epoch;
  int rc = vs_member_tap_application(s->member, msg, len, &epoch);
  t->fed++;
  if (epoch != UINT64_MAX) {
    if (!t->dated++ || epoch < t->min_epoch)
      t->min_epoch = epoch;
    if (epoch > t->max_epoch)
      t->max_epoch = epoch;
  }
  if (rc)
    tap_chat_refused(t, rc);
  else
    t->decrypted++; /* counted, never shown as chat: the test decides what it means */
}

static json_t *tap_chat_json(const vs_tap_chat_t *t) {
  const char *err = t->last_error ? veil_errname(t->last_error) : NULL;
  return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s?,s:I,s:I,s:I}", "fed", (json_int_t)t->fed, "decrypted",
                   (json_int_t)t->decrypted, "refused", (json_int_t)t->refused, "wrong_epoch",
                   (json_int_t)t->wrong_epoch, "unknown_key", (json_int_t)t->unknown_key, "not_application",
                   (json_int_t)t->not_application, "other", (json_int_t)t->other, "last_error", err, "dated",
                   (json_int_t)t->dated, "min_epoch", (json_int_t)t->min_epoch, "max_epoch",
                   (json_int_t)t->max_epoch);
}

json_t *vs_session_stats(vs_session_t *s) {
  json_t *arr = json_array();
  for (vs_rx_t *x = s->rx; x && arr; x = x->next) {
    const vs_rx_stats_t *st = vs_receiver_stats(x->r);
    const vs_peer_t *p = x->pid[0] ? vs_peer_by_pid(s, x->pid) : NULL;
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "track_id", x->track_id,
                          "participant_id", x->pid, "identity", p ? p->identity : "", "packets",
                          (json_int_t)st->packets, "frames", (json_int_t)st->frames, "decrypted",
                          (json_int_t)st->decrypted, "verified", (json_int_t)st->verified, "auth_failed",
                          (json_int_t)st->auth_failed, "unknown_kid", (json_int_t)st->unknown_kid, "replayed",
                          (json_int_t)st->replayed, "not_sframe", (json_int_t)st->not_sframe, "wrong_sender",
                          (json_int_t)st->wrong_sender, "corrupt", (json_int_t)st->corrupt, "max_epoch",
                          (json_int_t)st->max_epoch);
    if (!o)
      continue;
    json_object_set_new(o, "kind", json_string(vs_receiver_kind(x->r) == VS_AUDIO ? "audio" : "video"));
    json_object_set_new(o, "latency_avg_ms",
                        json_real(st->latency_n ? (double)st->latency_sum_us / (double)st->latency_n / 1000.0 : 0));
    json_object_set_new(o, "latency_max_ms", json_real((double)st->latency_max_us / 1000.0));
    json_array_append_new(arr, o);
  }
  json_t *o = json_pack("{s:s,s:o,s:I,s:I,s:I}", "event", "stats", "receivers", arr, "audio_frames_sent",
                        (json_int_t)(s->audio ? vs_sender_frames(s->audio) : 0), "video_frames_sent",
                        (json_int_t)(s->video ? vs_sender_frames(s->video) : 0), "send_failures",
                        (json_int_t)s->frames_sent_failed);
  if (o)
    json_object_set_new(o, "tap_chat", tap_chat_json(&s->tap_chat));
  return o;
}
