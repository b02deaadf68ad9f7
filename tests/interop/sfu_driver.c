/*
 * sfu-driver — the sfu.h API as JSON lines over stdin/stdout, for interop tests that drive
 * the SFU from another language (tests/interop/werift_interop.mjs). One request per line:
 *   {"id":1,"op":"room.create","room":"r1"}
 * one response per request ({"id":1,"ok":true,...} or {"id":1,"ok":false,"error":"..."}),
 * and unsolicited events ({"event":"transport_state",...}). Not a product: the real
 * signaling layer calls sfu.h directly.
 *
 * Usage: sfu-driver [port] (default: ephemeral). Prints {"event":"ready","port":N,...}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "common/err.h"
#include "common/log.h"
#include "sfu/sfu.h"

#define MAX_SUBS 256

static uv_loop_t *g_loop;
static sfu_worker_t *g_worker;
static uv_pipe_t g_stdin;
static char g_line[65536];
static size_t g_line_len;
static sfu_subscription_t *g_subs[MAX_SUBS];
static int g_closing;

static void emit(json_t *o) {
  char *s = json_dumps(o, JSON_COMPACT);
  if (s) {
    fputs(s, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    free(s);
  }
  json_decref(o);
}

static const char *state_name(sfu_transport_state_t s) {
  switch (s) {
  case SFU_TRANSPORT_NEW: return "new";
  case SFU_TRANSPORT_CONNECTING: return "connecting";
  case SFU_TRANSPORT_CONNECTED: return "connected";
  case SFU_TRANSPORT_FAILED: return "failed";
  case SFU_TRANSPORT_CLOSED: return "closed";
  }
  return "?";
}

static void on_state(void *arg, sfu_participant_t *p, sfu_transport_state_t st, int err) {
  (void)arg;
  emit(json_pack("{s:s,s:s,s:s,s:i,s:s}", "event", "transport_state", "participant",
                 sfu_participant_id(p), "state", state_name(st), "err", err, "error",
                 err ? veil_strerror(err) : ""));
}
static void on_kf(void *arg, sfu_participant_t *p, sfu_track_t *t) {
  (void)arg;
  emit(json_pack("{s:s,s:s,s:s}", "event", "keyframe_needed", "participant",
                 sfu_participant_id(p), "track", sfu_track_id(t)));
}
static void on_stats(void *arg, sfu_participant_t *p, const sfu_participant_stats_t *st) {
  (void)arg;
  emit(json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "event", "stats", "participant",
                 sfu_participant_id(p), "rtp_in", (json_int_t)st->rtp_in, "rtp_out",
                 (json_int_t)st->rtp_out, "rtcp_in", (json_int_t)st->rtcp_in, "rtcp_out",
                 (json_int_t)st->rtcp_out, "pli_in", (json_int_t)st->pli_in, "pli_out",
                 (json_int_t)st->pli_out));
}

static json_t *fail(json_t *id, int rc) {
  return json_pack("{s:O,s:b,s:s,s:i}", "id", id, "ok", 0, "error", veil_strerror(rc), "code", rc);
}

static sfu_participant_t *find_p(json_t *req) {
  sfu_room_t *r = sfu_room_find(g_worker, json_string_value(json_object_get(req, "room")));
  return r ? sfu_participant_find(r, json_string_value(json_object_get(req, "participant"))) : NULL;
}

static void on_worker_closed(void *arg) {
  (void)arg;
  emit(json_pack("{s:s}", "event", "closed"));
  uv_close((uv_handle_t *)&g_stdin, NULL);
}

static void handle(json_t *req) {
  json_t *id = json_object_get(req, "id");
  if (!id) id = json_null();
  const char *op = json_string_value(json_object_get(req, "op"));
  if (!op || g_closing) {
    emit(fail(id, VEIL_EINVAL));
    return;
  }
  int rc = 0;
  json_t *res = json_pack("{s:O,s:b}", "id", id, "ok", 1);
  if (!strcmp(op, "room.create")) {
    sfu_room_t *r;
    rc = sfu_room_create(g_worker, json_string_value(json_object_get(req, "room")), &r);
  } else if (!strcmp(op, "room.close")) {
    sfu_room_t *r = sfu_room_find(g_worker, json_string_value(json_object_get(req, "room")));
    if (r) sfu_room_close(r);
    else rc = VEIL_ENOTFOUND;
  } else if (!strcmp(op, "participant.create")) {
    sfu_room_t *r = sfu_room_find(g_worker, json_string_value(json_object_get(req, "room")));
    sfu_participant_t *p = NULL;
    sfu_listener_t l = {.on_transport_state = on_state, .on_keyframe_needed = on_kf,
                        .on_stats = on_stats};
    rc = r ? sfu_participant_create(r, json_string_value(json_object_get(req, "participant")), &l, &p)
           : VEIL_ENOTFOUND;
    sfu_local_params_t lp;
    if (rc == 0) rc = sfu_participant_local_params(p, &lp);
    if (rc == 0) {
      json_t *cands = json_array();
      for (size_t i = 0; i < lp.n_candidates; i++)
        json_array_append_new(cands, json_pack("{s:s,s:s,s:i,s:I}", "candidate", lp.candidates[i],
                                               "ip", lp.candidate_ip[i], "port",
                                               lp.candidate_port[i], "priority",
                                               (json_int_t)lp.candidate_priority[i]));
      json_object_set_new(res, "ice", json_pack("{s:s,s:s,s:b,s:o}", "ufrag", lp.ice_ufrag, "pwd",
                                                lp.ice_pwd, "lite", 1, "candidates", cands));
      json_object_set_new(res, "dtls", json_pack("{s:s,s:s,s:s}", "algorithm",
                                                 lp.dtls_fingerprint_algorithm, "fingerprint",
                                                 lp.dtls_fingerprint, "role", lp.dtls_role));
    }
  } else if (!strcmp(op, "participant.set_remote")) {
    sfu_participant_t *p = find_p(req);
    sfu_remote_params_t rp = {
        .ice_ufrag = json_string_value(json_object_get(req, "ice_ufrag")),
        .dtls_fingerprint_algorithm = json_string_value(json_object_get(req, "algorithm")),
        .dtls_fingerprint = json_string_value(json_object_get(req, "fingerprint"))};
    rc = p ? sfu_participant_set_remote(p, &rp) : VEIL_ENOTFOUND;
  } else if (!strcmp(op, "participant.close")) {
    sfu_participant_t *p = find_p(req);
    if (p) sfu_participant_close(p);
    else rc = VEIL_ENOTFOUND;
  } else if (!strcmp(op, "participant.stats")) {
    sfu_participant_t *p = find_p(req);
    if (!p) {
      rc = VEIL_ENOTFOUND;
    } else {
      sfu_participant_stats_t st;
      sfu_participant_stats(p, &st);
      json_object_set_new(res, "stats", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "rtp_in",
                                                  (json_int_t)st.rtp_in, "rtp_out",
                                                  (json_int_t)st.rtp_out, "rtcp_in",
                                                  (json_int_t)st.rtcp_in, "rtcp_out",
                                                  (json_int_t)st.rtcp_out, "srtp_errors",
                                                  (json_int_t)st.srtp_errors, "pli_in",
                                                  (json_int_t)st.pli_in, "pli_out",
                                                  (json_int_t)st.pli_out));
    }
  } else if (!strcmp(op, "track.publish")) {
    sfu_participant_t *p = find_p(req);
    const char *kind = json_string_value(json_object_get(req, "kind"));
    sfu_track_params_t tp = {
        .track_id = json_string_value(json_object_get(req, "track")),
        .kind = kind && !strcmp(kind, "audio") ? SFU_MEDIA_AUDIO : SFU_MEDIA_VIDEO,
        .ssrc = (uint32_t)json_integer_value(json_object_get(req, "ssrc")),
        .rtx_ssrc = (uint32_t)json_integer_value(json_object_get(req, "rtx_ssrc")),
        .payload_type = (uint8_t)json_integer_value(json_object_get(req, "payload_type")),
        .clock_rate = (uint32_t)json_integer_value(json_object_get(req, "clock_rate"))};
    sfu_track_t *t;
    rc = p ? sfu_track_publish(p, &tp, &t) : VEIL_ENOTFOUND;
  } else if (!strcmp(op, "track.unpublish")) {
    sfu_room_t *r = sfu_room_find(g_worker, json_string_value(json_object_get(req, "room")));
    sfu_track_t *t = r ? sfu_track_find(r, json_string_value(json_object_get(req, "track"))) : NULL;
    if (t) sfu_track_unpublish(t);
    else rc = VEIL_ENOTFOUND;
  } else if (!strcmp(op, "subscribe")) {
    sfu_participant_t *p = find_p(req);
    sfu_room_t *r = sfu_room_find(g_worker, json_string_value(json_object_get(req, "room")));
    sfu_track_t *t = r ? sfu_track_find(r, json_string_value(json_object_get(req, "track"))) : NULL;
    int slot = -1;
    for (int i = 0; i < MAX_SUBS && slot < 0; i++)
      if (!g_subs[i]) slot = i;
    sfu_subscription_t *s = NULL;
    rc = (!p || !t) ? VEIL_ENOTFOUND : slot < 0 ? VEIL_ESFU_LIMIT : sfu_subscribe(p, t, &s);
    if (rc == 0) {
      g_subs[slot] = s;
      sfu_subscription_info_t si;
      sfu_subscription_info(s, &si);
      json_object_set_new(res, "sub", json_integer(slot));
      json_object_set_new(res, "ssrc", json_integer(si.ssrc));
      json_object_set_new(res, "payload_type", json_integer(si.payload_type));
      json_object_set_new(res, "clock_rate", json_integer(si.clock_rate));
    }
  } else if (!strcmp(op, "unsubscribe")) {
    json_int_t slot = json_integer_value(json_object_get(req, "sub"));
    if (slot < 0 || slot >= MAX_SUBS || !g_subs[slot]) {
      rc = VEIL_ENOTFOUND;
    } else {
      sfu_unsubscribe(g_subs[slot]);
      g_subs[slot] = NULL;
    }
  } else if (!strcmp(op, "worker.stats")) {
    sfu_worker_stats_t st;
    sfu_worker_stats(g_worker, &st);
    json_object_set_new(res, "stats", json_pack("{s:I,s:I,s:I,s:I,s:I}", "rx_packets",
                                                (json_int_t)st.rx_packets, "tx_packets",
                                                (json_int_t)st.tx_packets, "rx_dropped",
                                                (json_int_t)st.rx_dropped, "tx_dropped",
                                                (json_int_t)st.tx_dropped, "rtp_forwarded",
                                                (json_int_t)st.rtp_forwarded));
  } else if (!strcmp(op, "close")) {
    g_closing = 1;
    emit(res);
    /* Subscriptions die with their participants; forget the handles first. */
    memset(g_subs, 0, sizeof g_subs);
    sfu_worker_close(g_worker, on_worker_closed, NULL);
    return;
  } else {
    rc = VEIL_EUNSUPPORTED;
  }
  if (rc) {
    json_decref(res);
    emit(fail(id, rc));
  } else {
    emit(res);
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  static char chunk[16384];
  *buf = uv_buf_init(chunk, sizeof chunk);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)s;
  if (n < 0) {
    /* EOF: behave like "close" so the test harness never leaves us running. */
    if (!g_closing) {
      g_closing = 1;
      memset(g_subs, 0, sizeof g_subs);
      uv_read_stop((uv_stream_t *)&g_stdin);
      sfu_worker_close(g_worker, on_worker_closed, NULL);
    }
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    char c = buf->base[i];
    if (c != '\n') {
      if (g_line_len < sizeof g_line - 1) g_line[g_line_len++] = c;
      continue;
    }
    g_line[g_line_len] = '\0';
    json_error_t err;
    json_t *req = g_line_len ? json_loads(g_line, 0, &err) : NULL;
    g_line_len = 0;
    if (req) {
      handle(req);
      json_decref(req);
    } else {
      emit(json_pack("{s:b,s:s}", "ok", 0, "error", "bad json"));
    }
  }
}

int main(int argc, char **argv) {
  veil_log_set_level(getenv("VEIL_LOG") && !strcmp(getenv("VEIL_LOG"), "info") ? VEIL_LOG_INFO
                                                                        : VEIL_LOG_WARN);
  g_loop = uv_default_loop();
  sfu_worker_config_t cfg = {.bind_ip = "127.0.0.1", .port = SFU_PORT_EPHEMERAL,
                             .stats_interval_ms = 0};
  if (argc > 1) cfg.port = atoi(argv[1]);
  int rc = sfu_worker_init(g_loop, &cfg, &g_worker);
  if (rc == 0) rc = sfu_worker_start(g_worker);
  if (rc) {
    emit(json_pack("{s:s,s:s}", "event", "error", "error", veil_strerror(rc)));
    return 1;
  }
  uv_pipe_init(g_loop, &g_stdin, 0);
  if (uv_pipe_open(&g_stdin, 0) != 0 ||
      uv_read_start((uv_stream_t *)&g_stdin, on_alloc, on_read) != 0) {
    emit(json_pack("{s:s,s:s}", "event", "error", "error", "stdin must be a pipe"));
    return 1;
  }
  emit(json_pack("{s:s,s:i,s:s}", "event", "ready", "port", sfu_worker_port(g_worker),
                 "fingerprint", sfu_worker_fingerprint(g_worker)));
  uv_run(g_loop, UV_RUN_DEFAULT);
  uv_loop_close(g_loop);
  return 0;
}
