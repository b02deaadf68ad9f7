/* veil client session — signaling, membership and lifecycle. Contract in vs_session.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/session/vs_session_int.h"
#include "clients/lib/session/vs_verify.h"
#include "clients/lib/mls/suite.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/log.h"
#include "mls-relay/envelope.h"

static double ms_since(uint64_t t_us) { return (double)(vs_now_us() - t_us) / 1000.0; }

void vs_emit(vs_session_t *s, json_t *ev) {
  if (!ev)
    return;
  json_object_set_new(ev, "t_ms", json_real(ms_since(s->t0_us)));
  json_object_set_new(ev, "self", json_string(s->self_identity));
  if (s->cfg.on_event)
    s->cfg.on_event(s->cfg.arg, ev);
  json_decref(ev);
}

static void emit_error(vs_session_t *s, const char *what, int err) {
  vs_emit(s, json_pack("{s:s,s:s,s:s}", "event", "error", "what", what, "error", veil_strerror(err)));
}

static long long send_json(vs_session_t *s, json_t *o) {
  long long id = ++s->next_req;
  json_object_set_new(o, "id", json_integer(id));
  char *txt = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!txt)
    return -1;
  int rc = vs_ws_send(s->ws, 0, txt, strlen(txt));
  free(txt);
  return rc ? -1 : id;
}

/* ---- peers (the signaling roster) ------------------------------------------------------- */

const vs_peer_t *vs_peer_by_pid(const vs_session_t *s, const char *pid) {
  for (const vs_peer_t *p = s->peers; p; p = p->next)
    if (strcmp(p->pid, pid) == 0)
      return p;
  return NULL;
}

static uint64_t member_of_pid(const char *pid) {
  /* signaling/sig_relay.c: the relay's member id is the hex part of "p<hex>" */
  return pid && pid[0] == 'p' ? strtoull(pid + 1, NULL, 16) : 0;
}

static int receiving(const vs_session_t *s, const char *track_id) {
  for (const vs_rx_t *x = s->rx; x; x = x->next)
    if (!x->tap && strcmp(x->track_id, track_id) == 0)
      return 1;
  return 0;
}

static void subscribe_tracks(vs_session_t *s, json_t *tracks) {
  size_t i;
  json_t *t;
  json_array_foreach(tracks, i, t) {
    const char *tid = json_string_value(json_object_get(t, "track_id"));
    /* After a resume the server kept our subscriptions: ask only for tracks we lack. */
    if (tid && !receiving(s, tid))
      send_json(s, json_pack("{s:s,s:s}", "type", "subscribe", "track_id", tid));
  }
}

static void add_peer(vs_session_t *s, json_t *pj) {
  const char *pid = json_string_value(json_object_get(pj, "participant_id"));
  const char *idn = json_string_value(json_object_get(pj, "identity"));
  const char *name = json_string_value(json_object_get(pj, "name"));
  if (!pid || !idn || strlen(pid) >= VS_ID_MAX)
    return;
  vs_peer_t *p = (vs_peer_t *)vs_peer_by_pid(s, pid);
  if (!p) {
    if (!(p = calloc(1, sizeof *p)))
      return;
    snprintf(p->pid, sizeof p->pid, "%s", pid);
    p->member = member_of_pid(pid);
    p->next = s->peers;
    s->peers = p;
  }
  snprintf(p->identity, sizeof p->identity, "%s", idn);
  snprintf(p->name, sizeof p->name, "%s", name ? name : "");
  p->present = 1;
  subscribe_tracks(s, json_object_get(pj, "tracks"));
}

static int resolve_member(void *arg, uint64_t member, char *out, size_t cap) {
  vs_session_t *s = arg;
  for (vs_peer_t *p = s->peers; p; p = p->next)
    if (p->member == member) {
      snprintf(out, cap, "%s", p->identity);
      return 0;
    }
  return VEIL_ENOTFOUND;
}

/* ---- roster and security code ---------------------------------------------------------- */

static const char *display_name_of(const vs_session_t *s, const char *identity, const char **pid) {
  *pid = NULL;
  if (strcmp(identity, s->self_identity) == 0) {
    *pid = s->self_pid;
    return s->cfg.display_name ? s->cfg.display_name : "";
  }
  for (const vs_peer_t *p = s->peers; p; p = p->next)
    if (p->present && strcmp(p->identity, identity) == 0) {
      *pid = p->pid;
      return p->name;
    }
  return "";
}

static json_t *roster_json(vs_session_t *s, mls_group_t *g) {
  json_t *arr = json_array();
  for (uint32_t i = 0; g && arr && i < mls_group_leaf_count(g); i++) {
    const mls_leaf_node_t *l = mls_group_member(g, i);
    if (!l)
      continue;
    char idn[VS_NAME_MAX];
    if (vs_member_leaf_identity(l, idn, sizeof idn))
      snprintf(idn, sizeof idn, "?");
    const char *pid;
    const char *name = display_name_of(s, idn, &pid);
    verify_status_t st;
    if (vs_verify_leaf(s->cfg.trust, s->cfg.identity->suite, l, name, (int64_t)(vs_now_us() / 1000000u), &st))
      continue;
    json_t *m = json_pack("{s:i,s:s,s:s?,s:b}", "leaf", (int)i, "identity", idn, "participant_id", pid, "self",
                          i == mls_group_own_leaf(g));
    if (m)
      vs_verify_to_json(&st, m);
    verify_status_clear(&st);
    json_array_append_new(arr, m);
  }
  return arr;
}

static void remember_leaf_ids(vs_session_t *s, mls_group_t *g) {
  uint32_t n = mls_group_leaf_count(g);
  free(s->leaf_ids);
  s->leaf_ids = calloc(n ? n : 1, sizeof *s->leaf_ids);
  s->n_leaf_ids = s->leaf_ids ? n : 0;
  for (uint32_t i = 0; i < s->n_leaf_ids; i++) {
    const mls_leaf_node_t *l = mls_group_member(g, i);
    if (!l || vs_member_leaf_identity(l, s->leaf_ids[i], VS_NAME_MAX))
      s->leaf_ids[i][0] = 0;
  }
}

static void install_sframe_epoch(vs_session_t *s, mls_group_t *g) {
  uint64_t epoch = mls_group_epoch(g);
  if (s->sm && epoch <= s->sm_epoch && sframe_mls_has_epoch(s->sm, epoch))
    return;
  if (s->sm && epoch <= s->sm_epoch) { /* a new group (rejoin): start over */
    sframe_mls_free(s->sm);
    s->sm = NULL;
  }
  int rc;
  if (!s->sm) {
    sframe_mls_config_t mc = {.suite = SFRAME_AES_128_GCM_SHA256_128};
    if ((rc = sframe_mls_new(&s->sm, &mc)))
      return emit_error(s, "sframe", rc);
  }
  uint8_t base[64];
  size_t n = sframe_mls_exporter_len(s->sm);
  /* RFC 9605 §5.2: base_key = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk) */
  rc = mls_group_export(g, (const uint8_t *)SFRAME_MLS_EXPORTER_LABEL, strlen(SFRAME_MLS_EXPORTER_LABEL), NULL, 0,
                        base, n);
  if (!rc)
    rc = sframe_mls_add_epoch(s->sm, epoch, base, n, mls_group_leaf_count(g), mls_group_own_leaf(g));
  vc_wipe(base, sizeof base);
  if (rc)
    return emit_error(s, "sframe_epoch", rc);
  s->sm_epoch = epoch;
  /* Receivers that had not processed the commit lose the first frames of the epoch:
   * follow the change with a key frame (docs/protocol.md). */
  if (s->video)
    vs_sender_force_key(s->video);
}

static void on_epoch(void *arg, mls_group_t *g, int added) {
  vs_session_t *s = arg;
  uint32_t before = s->members;
  s->members = mls_group_member_count(g);
  install_sframe_epoch(s, g);
  remember_leaf_ids(s, g);
  /* The epoch_authenticator (RFC 9420 §8.7) is public to the group and equal for every
   * member of an epoch: tests compare it to show that no member forked. */
  veil_view_t auth = mls_group_epoch_authenticator(g);
  char auth_hex[2 * MLS_HASH_MAX + 1] = "";
  if (auth.len <= MLS_HASH_MAX)
    veil_hex_encode(auth.ptr, auth.len, auth_hex);
  vs_emit(s, json_pack("{s:s,s:I,s:i,s:b,s:s}", "event", "epoch", "epoch", (json_int_t)mls_group_epoch(g), "members",
                       (int)s->members, "added", added, "epoch_authenticator", auth_hex));
  if (s->leave_seen_us && s->members < before) {
    vs_emit(s, json_pack("{s:s,s:f,s:I}", "event", "rekey", "after_leave_ms", ms_since(s->leave_seen_us),
                         "epoch", (json_int_t)mls_group_epoch(g)));
    s->leave_seen_us = 0;
  }
  json_t *roster = roster_json(s, g);
  if (roster && !json_equal(roster, s->last_roster)) {
    json_decref(s->last_roster);
    s->last_roster = json_incref(roster);
    vs_emit(s, json_pack("{s:s,s:O}", "event", "roster", "roster", roster));
  }
  json_decref(roster);
  if (added || !s->code[0]) {
    veil_view_t gid = mls_group_id(g), ea = mls_group_epoch_authenticator(g);
    char code[VS_SECCODE_LEN];
    if (vs_seccode(gid.ptr, gid.len, ea.ptr, ea.len, code) == 0) {
      s->code_epoch = mls_group_epoch(g);
      if (strcmp(code, s->code) != 0) {
        memcpy(s->code, code, sizeof code);
        vs_emit(s, json_pack("{s:s,s:s,s:I}", "event", "security_code", "code", s->code, "epoch",
                             (json_int_t)s->code_epoch));
      }
    }
  }
}

static void on_chat(void *arg, uint32_t leaf, const uint8_t *text, size_t len) {
  vs_session_t *s = arg;
  const char *from = leaf < s->n_leaf_ids ? s->leaf_ids[leaf] : "?";
  vs_emit(s, json_pack("{s:s,s:s,s:i,s:s%}", "event", "chat", "from", from, "leaf", (int)leaf, "text", text, len));
}

static void on_removed(void *arg) {
  vs_session_t *s = arg;
  s->removed = 1;
  vs_emit(s, json_pack("{s:s}", "event", "removed"));
}

static int send_env(void *arg, const uint8_t *env, size_t len) {
  vs_session_t *s = arg;
  return vs_ws_send(s->ws, 1, env, len);
}

/* ---- signaling ---------------------------------------------------------------------------- */

static void on_tr_state(void *arg, vs_transport_state_t st, int err) {
  vs_session_t *s = arg;
  static const char *const names[] = {"new", "checking", "dtls", "connected", "failed", "closed"};
  vs_emit(s, json_pack("{s:s,s:s,s:s?}", "event", "transport", "state", names[st], "error",
                       err ? veil_strerror(err) : NULL));
  if (st == VS_TRANSPORT_CONNECTED)
    (void)vs_media_start(s);
}

static void on_tr_rtp(void *arg, uint8_t *pkt, size_t len) {
  vs_session_t *s = arg;
  if (s->cfg.on_rtp_copy)
    s->cfg.on_rtp_copy(s->cfg.arg, pkt, len);
  vs_media_on_rtp(s, pkt, len);
}

static json_t *ext_list(vs_kind_t kind) {
  return kind == VS_AUDIO ? json_pack("[{s:s,s:i},{s:s,s:i}]", "uri", VS_URI_MID, "id", VS_EXT_MID, "uri",
                                      VS_URI_AUDIO_LEVEL, "id", VS_EXT_AUDIO_LEVEL)
                          : json_pack("[{s:s,s:i},{s:s,s:i}]", "uri", VS_URI_MID, "id", VS_EXT_MID, "uri", VS_URI_DD,
                                      "id", VS_EXT_DD);
}

static uint32_t random_ssrc(void) {
  uint32_t v = 0;
  while (!v)
    vc_random((uint8_t *)&v, sizeof v);
  return v;
}

static void publish(vs_session_t *s) {
  int rc = 0;
  vs_sender_t **mine[2] = {&s->audio, &s->video};
  if (s->cfg.publish_audio && !s->audio && !(rc = vs_sender_new(VS_AUDIO, random_ssrc(), &s->audio)))
    send_json(s, json_pack("{s:s,s:s,s:s,s:s,s:I,s:{s:s,s:i,s:i,s:i},s:o}", "type", "publish", "kind", "audio",
                           "source", "microphone", "mid", "0", "ssrc", (json_int_t)vs_sender_ssrc(s->audio), "codec",
                           "name", "opus", "payload_type", VS_PT_AUDIO, "clock_rate", 48000, "channels", 2,
                           "header_extensions", ext_list(VS_AUDIO)));
  if (!rc && s->cfg.publish_video && !s->video && !(rc = vs_sender_new(VS_VIDEO, random_ssrc(), &s->video)))
    send_json(s, json_pack("{s:s,s:s,s:s,s:s,s:I,s:{s:s,s:i,s:i},s:o}", "type", "publish", "kind", "video", "source",
                           "camera", "mid", "1", "ssrc", (json_int_t)vs_sender_ssrc(s->video), "codec", "name", "av1",
                           "payload_type", VS_PT_VIDEO, "clock_rate", 90000, "header_extensions",
                           ext_list(VS_VIDEO)));
  for (int i = 0; i < 2; i++)
    if (*mine[i] && s->cfg.frame_source) {
      vs_sender_set_source(*mine[i], s->cfg.frame_source, s->cfg.arg);
      if (i == 1 && s->cfg.video_fps)
        vs_sender_set_fps(*mine[i], s->cfg.video_fps);
    }
  if (rc)
    emit_error(s, "publish", rc);
}

static void on_joined(vs_session_t *s, json_t *m) {
  const char *pid = json_string_value(json_object_get(m, "participant_id"));
  const char *idn = json_string_value(json_object_get(m, "identity"));
  if (!pid || strlen(pid) >= VS_ID_MAX)
    return emit_error(s, "joined", VEIL_EDECODE);
  snprintf(s->self_pid, sizeof s->self_pid, "%s", pid);
  s->self_member = member_of_pid(pid);
  if (idn && strcmp(idn, s->cfg.identity->name) != 0)
    veil_log(VEIL_LOG_WARN, "client", "identity_differs", "token=%s credential=%s", idn, s->cfg.identity->name);
  s->joined = 1;
  vs_member_config_t mc = {
      .self = s->self_member,
      .identity = &s->cfg.identity->mls,
      .cipher_suite = s->cfg.identity->suite,
      .group = {.now = vs_now_us() / 1000000u},
      .cb = {.send = send_env, .on_epoch = on_epoch, .on_chat = on_chat, .on_removed = on_removed,
             .resolve = resolve_member, .arg = s},
  };
  int rc = vs_member_new(&mc, &s->member);
  if (rc)
    return emit_error(s, "member", rc);
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(m, "roster"), i, p) add_peer(s, p);
  vs_emit(s, json_pack("{s:s,s:s,s:s}", "event", "joined", "participant_id", s->self_pid, "room", s->cfg.room));

  /* Transport: our ICE/DTLS parameters to the server, then checks towards its candidate. */
  vs_transport_callbacks_t tcb = {.on_state = on_tr_state, .on_rtp = on_tr_rtp, .arg = s};
  if ((rc = vs_transport_new(s->cfg.loop, &tcb, &s->tr)))
    return emit_error(s, "transport", rc);
  send_json(s, json_pack("{s:s,s:{s:s,s:s},s:{s:s,s:[{s:s,s:s}]}}", "type", "transport_connect", "ice", "ufrag",
                         vs_transport_ufrag(s->tr), "pwd", vs_transport_pwd(s->tr), "dtls", "role", "client",
                         "fingerprints", "algorithm", "sha-256", "value", vs_transport_fingerprint(s->tr)));
  publish(s);
}

/* The answer to a resume: same participant, same transport, same MLS state; the relay
 * replays the commits we missed (or tells us to rejoin) right after it. The roster may
 * have changed while we were away: peers not in it have left. */
static void on_resumed(vs_session_t *s, json_t *m) {
  const char *pid = json_string_value(json_object_get(m, "participant_id"));
  if (!pid || strcmp(pid, s->self_pid) != 0)
    return emit_error(s, "resumed", VEIL_EDECODE);
  for (vs_peer_t *p = s->peers; p; p = p->next)
    p->present = 0;
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(m, "roster"), i, p) add_peer(s, p);
  s->reconnecting = 0;
  mls_group_t *g = s->member && !s->removed ? vs_member_group(s->member) : NULL;
  vs_emit(s, json_pack("{s:s,s:s,s:i,s:f,s:o}", "event", "resumed", "participant_id", s->self_pid, "attempts",
                       (int)s->attempts, "outage_ms", ms_since(s->lost_us), "epoch",
                       g ? json_integer((json_int_t)mls_group_epoch(g)) : json_null()));
}

/* Frees the participant's state — MLS, SFrame, senders, receivers, roster — and leaves
 * the fields empty, so that a fresh join can start over (and free can run after it). */
static void free_state(vs_session_t *s) {
  vs_member_free(s->member);
  s->member = NULL;
  sframe_mls_free(s->sm);
  s->sm = NULL;
  s->sm_epoch = 0;
  vs_sender_free(s->audio);
  vs_sender_free(s->video);
  s->audio = s->video = NULL;
  vs_media_free_rx(s);
  while (s->peers) {
    vs_peer_t *p = s->peers;
    s->peers = p->next;
    free(p);
  }
  free(s->leaf_ids);
  s->leaf_ids = NULL;
  s->n_leaf_ids = 0;
  json_decref(s->last_roster);
  s->last_roster = NULL;
  json_decref(s->pending_transport);
  s->pending_transport = NULL;
}

/* A refused resume (our place expired): drop the participant we were — its state and
 * transport — and join as a new one, as on start. */
static void reset_for_fresh_join(vs_session_t *s) {
  if (s->tr) {
    vs_transport_close(s->tr, NULL, NULL);
    s->tr = NULL;
  }
  free_state(s);
  s->removed = 0;
  s->leader_seen = 0;
  s->members = 0;
  s->joined = 0;
  s->self_pid[0] = '\0';
}

static void send_join(vs_session_t *s, int resume);

static void on_transport_connected(vs_session_t *s, json_t *joined_transport) {
  json_t *ice = json_object_get(joined_transport, "ice");
  json_t *c0 = json_array_get(json_object_get(ice, "candidates"), 0);
  json_t *fp = json_array_get(json_object_get(json_object_get(joined_transport, "dtls"), "fingerprints"), 0);
  vs_remote_t r = {
      .ip = json_string_value(json_object_get(c0, "ip")),
      .port = (uint16_t)json_integer_value(json_object_get(c0, "port")),
      .ice_ufrag = json_string_value(json_object_get(ice, "ufrag")),
      .ice_pwd = json_string_value(json_object_get(ice, "pwd")),
      .fingerprint = json_string_value(json_object_get(fp, "value")),
  };
  if (s->cfg.allow_candidate && (!r.ip || !s->cfg.allow_candidate(s->cfg.arg, r.ip, r.port))) {
    char why[96];
    snprintf(why, sizeof why, "media candidate %.46s:%u refused", r.ip ? r.ip : "(none)", (unsigned)r.port);
    vs_emit(s, json_pack("{s:s,s:s,s:s}", "event", "error", "what", "candidate", "error", why));
    return;
  }
  int rc = vs_transport_start(s->tr, &r);
  if (rc)
    emit_error(s, "transport_start", rc);
}

static int is_code(json_t *m, const char *code) {
  const char *c = json_string_value(json_object_get(m, "code"));
  return c && strcmp(c, code) == 0;
}

static void on_text(void *arg, const char *text, size_t len) {
  vs_session_t *s = arg;
  json_error_t jerr;
  json_t *m = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  const char *type = json_string_value(json_object_get(m, "type"));
  if (!type) {
    json_decref(m);
    return;
  }
  if (!strcmp(type, "joined")) {
    json_t *r = json_object_get(m, "resume");
    const char *tok = json_string_value(json_object_get(r, "token"));
    snprintf(s->resume_token, sizeof s->resume_token, "%s", tok && strlen(tok) < VS_ID_MAX ? tok : "");
    s->resume_grace_ms = (uint32_t)json_integer_value(json_object_get(r, "grace_ms"));
    if (json_is_true(json_object_get(m, "resumed"))) {
      on_resumed(s, m);
    } else {
      /* Keep the server's transport parameters until it acknowledged ours. */
      json_decref(s->pending_transport);
      s->pending_transport = json_incref(json_object_get(m, "transport"));
      on_joined(s, m);
    }
  } else if (!strcmp(type, "transport_connected")) {
    if (s->pending_transport) {
      on_transport_connected(s, s->pending_transport);
      json_decref(s->pending_transport);
      s->pending_transport = NULL;
    }
  } else if (!strcmp(type, "participant_joined")) {
    add_peer(s, json_object_get(m, "participant"));
  } else if (!strcmp(type, "participant_left")) {
    const char *pid = json_string_value(json_object_get(m, "participant_id"));
    vs_peer_t *p = pid ? (vs_peer_t *)vs_peer_by_pid(s, pid) : NULL;
    if (p) {
      p->present = 0;
      s->leave_seen_us = vs_now_us();
    }
  } else if (!strcmp(type, "track_published")) {
    json_t *t = json_object_get(m, "track");
    const char *tid = json_string_value(json_object_get(t, "track_id"));
    if (tid)
      send_json(s, json_pack("{s:s,s:s}", "type", "subscribe", "track_id", tid));
  } else if (!strcmp(type, "subscribed")) {
    const char *tid = json_string_value(json_object_get(m, "track_id"));
    const char *pid = json_string_value(json_object_get(m, "participant_id"));
    const char *kind = json_string_value(json_object_get(m, "kind"));
    json_int_t ssrc = json_integer_value(json_object_get(m, "ssrc"));
    if (tid && pid && kind && ssrc > 0)
      vs_media_add_rx(s, tid, pid, strcmp(kind, "audio") == 0 ? VS_AUDIO : VS_VIDEO, (uint32_t)ssrc);
  } else if (!strcmp(type, "error") && s->reconnecting && is_code(m, "resume_refused")) {
    reset_for_fresh_join(s);
    s->reconnecting = 0;
    vs_emit(s, json_pack("{s:s,s:s,s:i,s:f}", "event", "rejoined", "reason", "resume_refused", "attempts",
                         (int)s->attempts, "outage_ms", ms_since(s->lost_us)));
    send_join(s, 0);
  } else if (!strcmp(type, "error")) {
    vs_emit(s, json_pack("{s:s,s:s,s:O?}", "event", "error", "what", "signaling", "message", m));
  }
  json_decref(m);
}

static void on_binary(void *arg, const uint8_t *data, size_t len) {
  vs_session_t *s = arg;
  if (!s->member)
    return;
  relay_env_t e;
  /* Decoded once for the session's own looks (a `rejoin` is an event; test hooks). */
  int decoded = relay_env_decode(data, len, len, &e) == 0;
  if (decoded && e.kind == RELAY_ENV_CONTROL && e.ctl_type == RELAY_CTL_REJOIN && !s->removed)
    vs_emit(s, json_pack("{s:s,s:s,s:I}", "event", "rejoined", "reason", "relay", "epoch", (json_int_t)e.epoch));
  if (decoded && s->cfg.test_ignore_batches && e.kind == RELAY_ENV_CONTROL && e.ctl_type == RELAY_CTL_BATCH) {
    vs_emit(s, json_pack("{s:s,s:I}", "event", "test_batch_ignored", "epoch", (json_int_t)e.epoch));
    return;
  }
  if (decoded && s->cfg.on_mls_copy && e.kind == RELAY_ENV_APPLICATION)
    s->cfg.on_mls_copy(s->cfg.arg, e.mls.ptr, e.mls.len);
  int rc = vs_member_handle(s->member, data, len);
  if (rc)
    veil_log(VEIL_LOG_INFO, "client", "relay_message_not_applied", "err=%s", veil_strerror(rc));
  uint64_t leader = vs_member_leader(s->member);
  if (leader != s->leader_seen && leader != 0) {
    s->leader_seen = leader;
    char who[VS_NAME_MAX] = "";
    if (leader == s->self_member)
      snprintf(who, sizeof who, "%s", s->self_identity);
    else
      (void)resolve_member(s, leader, who, sizeof who);
    vs_emit(s, json_pack("{s:s,s:I,s:s,s:b}", "event", "leader", "member", (json_int_t)leader, "identity", who, "self",
                         leader == s->self_member));
  }
}

/* `join`, with `resume` (the participant we were, its token, the epoch of our MLS state)
 * when reconnecting. */
static void send_join(vs_session_t *s, int resume) {
  json_t *j = json_pack("{s:s,s:s,s:s,s:{s:b}}", "type", "join", "token", s->cfg.token, "room", s->cfg.room,
                        "capabilities", "mls", 1);
  if (j && s->cfg.display_name)
    json_object_set_new(j, "display_name", json_string(s->cfg.display_name));
  if (j && resume) {
    json_t *r = json_pack("{s:s,s:s}", "participant_id", s->self_pid, "token", s->resume_token);
    mls_group_t *g = s->member && !s->removed ? vs_member_group(s->member) : NULL;
    if (r && g)
      json_object_set_new(r, "epoch", json_integer((json_int_t)mls_group_epoch(g)));
    json_object_set_new(j, "resume", r);
  } else {
    s->join_sent_us = vs_now_us();
  }
  send_json(s, j);
}

static void on_open(void *arg) {
  vs_session_t *s = arg;
  send_join(s, s->reconnecting);
}

/* Backoff 200 ms doubling, at most 2 s apart, for the server's grace and 30 s beyond it
 * (past the grace the resume is refused and we join as a new participant). */
#define RETRY_FIRST_MS 200
#define RETRY_MAX_MS 2000
#define RETRY_AFTER_GRACE_MS 30000

static void on_retry(uv_timer_t *t);

static void schedule_retry(vs_session_t *s, int code, const char *why) {
  uint64_t delay = (uint64_t)RETRY_FIRST_MS << (s->attempts < 4 ? s->attempts : 4);
  if (delay > RETRY_MAX_MS)
    delay = RETRY_MAX_MS;
  if (ms_since(s->lost_us) + (double)delay > (double)s->resume_grace_ms + RETRY_AFTER_GRACE_MS) {
    s->reconnecting = 0;
    vs_emit(s, json_pack("{s:s,s:i,s:s,s:b}", "event", "signaling_closed", "code", code, "reason", why ? why : "",
                         "gave_up", 1));
    return;
  }
  if (!s->retry_open) {
    uv_timer_init(s->cfg.loop, &s->retry_timer);
    s->retry_timer.data = s;
    s->retry_open = 1;
  }
  uv_timer_start(&s->retry_timer, on_retry, delay, 0);
}

static void on_retry(uv_timer_t *t) {
  vs_session_t *s = t->data;
  if (s->closing || s->left || !s->reconnecting)
    return;
  s->attempts++;
  vs_emit(s, json_pack("{s:s,s:i}", "event", "reconnecting", "attempt", (int)s->attempts));
  int rc = vs_ws_reconnect(s->ws);
  if (rc)
    schedule_retry(s, 0, veil_strerror(rc));
}

static void bye_done(uv_timer_t *t);

static void on_ws_closed(void *arg, int code, const char *why) {
  vs_session_t *s = arg;
  if (s->closing) {
    if (s->bye && s->retry_open) /* the server closed after our `leave`: finish now */
      uv_timer_start(&s->retry_timer, bye_done, 0, 0);
    return;
  }
  /* Reconnect after an unexpected close once we have a place to resume; not after our
   * leave, a refused token (1008), a rejection (4003) or a takeover by another of our
   * connections (4004). */
  int resumable = s->resume_token[0] && s->self_pid[0] && !s->left && code != 1000 && code != 1008 &&
                  code != 4003 && code != 4004;
  if (!resumable && !s->reconnecting) {
    vs_emit(s, json_pack("{s:s,s:i,s:s}", "event", "signaling_closed", "code", code, "reason", why ? why : ""));
    return;
  }
  if (!s->reconnecting) {
    s->reconnecting = 1;
    s->attempts = 0;
    s->lost_us = vs_now_us();
    vs_emit(s, json_pack("{s:s,s:i,s:s,s:i}", "event", "reconnecting", "code", code, "reason", why ? why : "",
                         "grace_ms", (int)s->resume_grace_ms));
  }
  schedule_retry(s, code, why);
}

int vs_session_new(const vs_session_config_t *cfg, vs_session_t **out) {
  if (!cfg->loop || !cfg->url || !cfg->token || !cfg->room || !cfg->identity)
    return VEIL_EINVAL;
  vs_session_t *s = calloc(1, sizeof *s);
  if (!s)
    return VEIL_ENOMEM;
  s->cfg = *cfg;
  s->t0_us = vs_now_us();
  snprintf(s->self_identity, sizeof s->self_identity, "%s", cfg->identity->name);
  *out = s;
  return 0;
}

int vs_session_start(vs_session_t *s) {
  vs_ws_config_t wc = {
      .loop = s->cfg.loop,
      .url = s->cfg.url,
      .pin_sha256 = s->cfg.pin_sha256,
      .ca_file = s->cfg.ca_file,
      .cb = {.on_open = on_open, .on_text = on_text, .on_binary = on_binary, .on_closed = on_ws_closed, .arg = s},
  };
  return vs_ws_new(&wc, &s->ws);
}

int vs_session_chat(vs_session_t *s, const char *text) {
  if (!s->member || s->left)
    return VEIL_ESTATE;
  return vs_member_send_chat(s->member, (const uint8_t *)text, strlen(text));
}

void vs_session_leave(vs_session_t *s) {
  if (s->left)
    return;
  s->left = 1;
  s->reconnecting = 0;
  if (s->retry_open)
    uv_timer_stop(&s->retry_timer);
  vs_media_stop(s);
  /* The server acknowledges `leave` and closes the connection itself: closing it from here
   * too could race the `leave` out of the socket, and the server would then hold our place
   * for a resume instead of removing us. Without an open connection there is nobody to
   * tell. */
  if (s->ws && vs_ws_is_open(s->ws))
    send_json(s, json_pack("{s:s}", "type", "leave"));
  else
    vs_ws_close(s->ws);
  if (s->tr) {
    vs_transport_close(s->tr, NULL, NULL);
    s->tr = NULL;
  }
  vs_emit(s, json_pack("{s:s}", "event", "left"));
}

const char *vs_session_security_code(const vs_session_t *s) { return s->code; }
void vs_session_set_test_ignore_batches(vs_session_t *s, int on) { s->cfg.test_ignore_batches = on; }

int vs_session_is_member(const vs_session_t *s) { return s->member && vs_member_group(s->member) && !s->removed; }

json_t *vs_session_roster(vs_session_t *s) {
  mls_group_t *g = s->member ? vs_member_group(s->member) : NULL;
  return g ? roster_json(s, g) : json_array();
}

/* Closing: media timers and the transport close through libuv; the WebSocket's lws
 * context is destroyed in two stages (vs_ws.h): shutdown here, free in vs_session_free
 * once the caller's loop ran the close callbacks. */
static void timer_closed(uv_handle_t *h) { (void)h; }

/* The end of the wait for the server's close after our `leave` (or its bound). */
static void bye_done(uv_timer_t *t) {
  vs_session_t *s = t->data;
  s->bye = 0;
  s->retry_open = 0;
  uv_close((uv_handle_t *)&s->retry_timer, timer_closed);
  vs_ws_shutdown(s->ws);
}

/* How long a closing session waits for the server to take its `leave` and close. */
#define BYE_WAIT_MS 500

void vs_session_close(vs_session_t *s) {
  if (s->closing)
    return;
  /* Ending the session ends our part in the meeting: say so, or the server would take the
   * closed socket for a lost connection and hold our place for a resume. Destroying the
   * WebSocket context at once would drop the queued `leave` (ours, or vs_session_leave's):
   * wait (bounded) for the server to close after it. */
  int bye = s->joined && vs_ws_is_open(s->ws) && (s->left || send_json(s, json_pack("{s:s}", "type", "leave")) >= 0);
  s->closing = 1;
  if (s->timers_open) {
    s->timers_open = 0;
    uv_close((uv_handle_t *)&s->audio_timer, timer_closed);
    uv_close((uv_handle_t *)&s->video_timer, timer_closed);
  }
  if (s->tr) {
    vs_transport_close(s->tr, NULL, NULL);
    s->tr = NULL;
  }
  if (bye) {
    if (!s->retry_open) {
      uv_timer_init(s->cfg.loop, &s->retry_timer);
      s->retry_timer.data = s;
      s->retry_open = 1;
    }
    s->bye = 1;
    uv_timer_start(&s->retry_timer, bye_done, BYE_WAIT_MS, 0);
    return;
  }
  if (s->retry_open) {
    s->retry_open = 0;
    uv_close((uv_handle_t *)&s->retry_timer, timer_closed);
  }
  vs_ws_shutdown(s->ws);
}

void vs_session_free(vs_session_t *s) {
  if (!s)
    return;
  vs_ws_free(s->ws);
  free_state(s);
  free(s);
}
