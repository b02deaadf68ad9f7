/* veil — signaling core: sessions, dispatch, errors, drain. Contract in sig_hub.h. */
#include "signaling/sig_hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "signaling/sig_internal.h"
#include "signaling/sig_room.h"

const double sig_latency_bounds_ms[SIG_LAT_NBUCKETS] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500};

/* ---- error codes on the wire (docs/protocol.md, "Errors") ---- */

static const struct {
  int code;
  const char *wire;
} wire_names[] = {
    {VEIL_ESIG_MALFORMED, "malformed"},
    {VEIL_ESIG_SCHEMA, "invalid_message"},
    {VEIL_ESIG_TOO_LARGE, "too_large"},
    {VEIL_ESIG_STATE, "bad_state"},
    {VEIL_ESIG_RATE, "rate_limited"},
    {VEIL_ESIG_FORBIDDEN, "forbidden"},
    {VEIL_ESIG_TOKEN_MALFORMED, "token_malformed"},
    {VEIL_ESIG_TOKEN_ALG, "token_algorithm"},
    {VEIL_ESIG_TOKEN_SIG, "token_signature"},
    {VEIL_ESIG_TOKEN_EXPIRED, "token_expired"},
    {VEIL_ESIG_TOKEN_NOT_YET, "token_not_yet_valid"},
    {VEIL_ESIG_TOKEN_ROOM, "token_room"},
    {VEIL_ESIG_TOKEN_CLAIMS, "token_claims"},
    {VEIL_ESIG_ROOM_FULL, "room_full"},
    {VEIL_ESIG_TOO_MANY_ROOMS, "too_many_rooms"},
    {VEIL_ESIG_DUPLICATE, "duplicate_identity"},
    {VEIL_ESIG_REJECTED, "admission_rejected"},
    {VEIL_ESIG_DRAINING, "draining"},
    {VEIL_ESIG_UNKNOWN_PEER, "unknown_participant"},
    {VEIL_ESIG_UNKNOWN_TRACK, "unknown_track"},
    {VEIL_ESIG_MEDIA, "media_error"},
    {VEIL_ESIG_UNAVAILABLE, "unavailable"},
    {VEIL_ESIG_JOIN_TIMEOUT, "join_timeout"},
    {VEIL_ESIG_RESUME, "resume_refused"},
    {VEIL_ELIMIT, "limit"},
    {VEIL_EEXIST, "already_exists"},
    {VEIL_ENOMEM, "internal"},
};

const char *sig_error_wire_name(int code) {
  for (size_t i = 0; i < sizeof wire_names / sizeof wire_names[0]; i++)
    if (wire_names[i].code == code)
      return wire_names[i].wire;
  return "internal";
}

void sig_note_error(sig_hub_t *hub, int code) {
  int idx = -code - 10600;
  if (idx < 0 || idx >= SIG_NCODES)
    idx = 0; /* slot 0 counts errors from outside the signaling range */
  hub->stats.errors[idx]++;
}

void sig_hub_count_error(sig_hub_t *hub, int code) { sig_note_error(hub, code); }

/* ---- output ---- */

void sig_send_json(sig_hub_t *hub, sig_session_t *s, json_t *obj) {
  if (!s->user) { /* held for a resume: nobody to tell (it gets the roster on resume) */
    json_decref(obj);
    return;
  }
  if (!obj)
    return;
  char *text = json_dumps(obj, JSON_COMPACT);
  json_decref(obj);
  if (!text)
    return;
  hub->cfg.io.send_text(hub->cfg.io.user, s, text, strlen(text));
  free(text);
}

void sig_send_error(sig_hub_t *hub, sig_session_t *s, int code, long long id, const char *detail) {
  sig_note_error(hub, code);
  json_t *o = json_pack("{s:s,s:s,s:s}", "type", "error", "code", sig_error_wire_name(code), "message",
                        detail && detail[0] ? detail : veil_strerror(code));
  if (o && id >= 0)
    json_object_set_new(o, "id", json_integer(id));
  sig_send_json(hub, s, o);
}

static void send_reply(sig_hub_t *hub, sig_session_t *s, const char *type, long long id, json_t *body) {
  json_t *o = body ? body : json_object();
  if (!o)
    return;
  json_object_set_new(o, "type", json_string(type));
  if (id >= 0)
    json_object_set_new(o, "id", json_integer(id));
  sig_send_json(hub, s, o);
}

void sig_request_close(sig_hub_t *hub, sig_session_t *s, int code, const char *reason) {
  if (s->state == SIG_CLOSING || !s->user)
    return;
  s->state = SIG_CLOSING;
  hub->cfg.io.close(hub->cfg.io.user, s, code, reason);
}

/* ---- hub and sessions ---- */

int sig_hub_new(const sig_hub_config_t *cfg, sig_hub_t **out) {
  if (!cfg->key || !cfg->io.send_text || !cfg->io.close || !cfg->io.send_binary)
    return VEIL_EINVAL;
  sig_hub_t *hub = calloc(1, sizeof *hub);
  if (!hub)
    return VEIL_ENOMEM;
  hub->cfg = *cfg;
  relay_actions_init(&hub->relay_acts);
  *out = hub;
  return 0;
}

void sig_hub_free(sig_hub_t *hub) {
  if (!hub)
    return;
  while (hub->sessions)
    sig_session_close(hub, hub->sessions);
  relay_actions_free(&hub->relay_acts);
  free(hub);
}

const sig_stats_t *sig_hub_stats(const sig_hub_t *hub) { return &hub->stats; }
const sig_limits_t *sig_hub_limits(const sig_hub_t *hub) { return &hub->cfg.limits; }
bool sig_hub_draining(const sig_hub_t *hub) { return hub->draining; }
void *sig_session_user(const sig_session_t *s) { return s->user; }
bool sig_session_joined(const sig_session_t *s) { return s->state == SIG_JOINED; }

size_t sig_session_max_frame(const sig_hub_t *hub, const sig_session_t *s, bool binary) {
  if (s->state != SIG_JOINED)
    return hub->cfg.limits.max_prejoin_message_bytes;
  return binary ? hub->cfg.limits.max_mls_message_bytes : hub->cfg.limits.max_message_bytes;
}

sig_session_t *sig_session_open(sig_hub_t *hub, void *user, uint64_t now_ms) {
  sig_session_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->hub = hub;
  s->user = user;
  s->state = SIG_EXPECT_JOIN;
  s->opened_ms = now_ms;
  s->tokens = 2.0 * hub->cfg.limits.messages_per_second;
  s->all_next = hub->sessions;
  if (hub->sessions)
    hub->sessions->all_prev = s;
  hub->sessions = s;
  hub->stats.sessions++;
  if (hub->draining) {
    json_t *o = json_pack("{s:s,s:i}", "type", "draining", "deadline_ms", (int)hub->drain_deadline_ms);
    sig_send_json(hub, s, o);
  }
  return s;
}

void sig_session_lost(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms) {
  if (!sig_resume_hold(hub, s, now_ms))
    sig_session_close(hub, s);
}

void sig_session_close(sig_hub_t *hub, sig_session_t *s) {
  sig_resume_forget(hub, s);
  sig_room_leave(hub, s, "disconnected");
  if (s->all_prev)
    s->all_prev->all_next = s->all_next;
  else
    hub->sessions = s->all_next;
  if (s->all_next)
    s->all_next->all_prev = s->all_prev;
  hub->stats.sessions--;
  json_decref(s->caps);
  json_decref(s->transport);
  free(s);
}

/* ---- rate limit: a token bucket per connection, burst 2x the sustained rate ---- */

static bool rate_ok(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms) {
  double rate = hub->cfg.limits.messages_per_second;
  if (rate <= 0)
    return true;
  if (s->rate_last_ms && now_ms > s->rate_last_ms) {
    s->tokens += rate * (double)(now_ms - s->rate_last_ms) / 1000.0;
    if (s->tokens > 2 * rate)
      s->tokens = 2 * rate;
  }
  s->rate_last_ms = now_ms;
  if (s->tokens < 1.0)
    return false;
  s->tokens -= 1.0;
  return true;
}

/* ---- the legality table: which message types each state accepts (STYLE 8) ---- */

static const unsigned char legal[SIG_NSTATES][SIG_MSG__COUNT] = {
    [SIG_EXPECT_JOIN] = {[SIG_MSG_JOIN] = 1, [SIG_MSG_PING] = 1, [SIG_MSG_LEAVE] = 1},
    [SIG_IN_LOBBY] = {[SIG_MSG_PING] = 1, [SIG_MSG_LEAVE] = 1},
    [SIG_JOINED] =
        {
            [SIG_MSG_PING] = 1,
            [SIG_MSG_LEAVE] = 1,
            [SIG_MSG_TRANSPORT_CONNECT] = 1,
            [SIG_MSG_PUBLISH] = 1,
            [SIG_MSG_UNPUBLISH] = 1,
            [SIG_MSG_SUBSCRIBE] = 1,
            [SIG_MSG_UNSUBSCRIBE] = 1,
            [SIG_MSG_ADMIT] = 1,
            [SIG_MSG_REJECT] = 1,
        },
    [SIG_CLOSING] = {0},
    [SIG_AWAY] = {0}, /* no connection: nothing can arrive */
};

static int on_join(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m, uint64_t now_ms, int64_t wall_s) {
  if (hub->draining)
    return VEIL_ESIG_DRAINING;
  const char *token = sig_msg_str(m, "token");
  const char *room = sig_msg_str(m, "room");
  sig_claims_t c;
  int rc = sig_jwt_verify(hub->cfg.key, token, strlen(token), room, wall_s, hub->cfg.token_leeway_s, &c);
  if (rc) {
    veil_log(VEIL_LOG_INFO, "signaling", "join_refused", "room=%s reason=%s", room, sig_error_wire_name(rc));
    return rc;
  }
  json_t *resume = json_object_get(m->root, "resume");
  if (resume) {
    /* The token proved who is asking; the resume token proves it is that participant. A
     * refused resume leaves this connection free to join fresh. */
    s->claims = c;
    rc = sig_resume_take(hub, s, resume, m->id, now_ms);
    if (rc)
      memset(&s->claims, 0, sizeof s->claims);
    return rc;
  }
  const char *dn = sig_msg_str(m, "display_name");
  s->claims = c;
  s->caps = json_incref(json_object_get(m->root, "capabilities"));
  snprintf(s->display_name, sizeof s->display_name, "%s", dn ? dn : c.name);
  rc = sig_room_join(hub, s, m->id, now_ms);
  if (rc) {
    memset(&s->claims, 0, sizeof s->claims);
    json_decref(s->caps);
    s->caps = NULL;
  }
  return rc;
}

static int on_admit(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m, bool admit, uint64_t now_ms) {
  if (s->claims.role != SIG_ROLE_HOST)
    return VEIL_ESIG_FORBIDDEN;
  int rc = sig_room_decide(hub, s, sig_msg_str(m, "participant_id"), admit, now_ms);
  if (rc == 0)
    send_reply(hub, s, "ack", m->id, json_pack("{s:s}", "request", admit ? "admit" : "reject"));
  return rc;
}

void sig_room_joined_latency(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms) {
  double ms = now_ms >= s->opened_ms ? (double)(now_ms - s->opened_ms) : 0;
  size_t b = 0;
  while (b < SIG_LAT_NBUCKETS && ms > sig_latency_bounds_ms[b])
    b++;
  hub->stats.lat_buckets[b]++;
  hub->stats.lat_count++;
  hub->stats.lat_sum_ms += ms;
  hub->stats.joins_total++;
}

int sig_handle_message(sig_hub_t *hub, sig_session_t *s, const char *data, size_t len, uint64_t now_ms,
                       int64_t wall_s) {
  char why[128] = "";
  long long id = -1;
  hub->stats.messages_in++;
  if (s->state == SIG_CLOSING)
    return VEIL_ESIG_STATE; /* the connection is going away: no replies */
  if (!rate_ok(hub, s, now_ms)) {
    sig_send_error(hub, s, VEIL_ESIG_RATE, -1, NULL);
    return VEIL_ESIG_RATE;
  }
  if (now_ms > hub->relay_clock)
    hub->relay_clock = now_ms;
  if (len > sig_session_max_frame(hub, s, false)) {
    sig_send_error(hub, s, VEIL_ESIG_TOO_LARGE, -1, NULL);
    return VEIL_ESIG_TOO_LARGE;
  }
  sig_msg_t m;
  int rc = sig_msg_parse(data, len, &m, why, sizeof why, &id);
  if (rc) {
    sig_send_error(hub, s, rc, id, why);
    return rc;
  }
  if (!legal[s->state][m.type]) {
    rc = VEIL_ESIG_STATE;
    snprintf(why, sizeof why, "'%s' is not valid %s", sig_msg_type_name(m.type),
             s->state == SIG_EXPECT_JOIN ? "before join" : s->state == SIG_IN_LOBBY ? "in the lobby" : "after join");
    goto done;
  }
  switch (m.type) {
  case SIG_MSG_PING:
    send_reply(hub, s, "pong", m.id, NULL);
    break;
  case SIG_MSG_JOIN:
    rc = on_join(hub, s, &m, now_ms, wall_s);
    break;
  case SIG_MSG_LEAVE:
    send_reply(hub, s, "ack", m.id, json_pack("{s:s}", "request", "leave"));
    sig_room_leave(hub, s, "left");
    sig_request_close(hub, s, SIG_CLOSE_NORMAL, "left");
    break;
  case SIG_MSG_TRANSPORT_CONNECT:
    rc = sig_on_connect(hub, s, &m);
    break;
  case SIG_MSG_PUBLISH:
    rc = sig_on_publish(hub, s, &m);
    break;
  case SIG_MSG_UNPUBLISH:
    rc = sig_on_unpublish(hub, s, &m);
    break;
  case SIG_MSG_SUBSCRIBE:
    rc = sig_on_subscribe(hub, s, &m);
    break;
  case SIG_MSG_UNSUBSCRIBE:
    rc = sig_on_unsubscribe(hub, s, &m);
    break;
  case SIG_MSG_ADMIT:
  case SIG_MSG_REJECT:
    rc = on_admit(hub, s, &m, m.type == SIG_MSG_ADMIT, now_ms);
    break;
  case SIG_MSG__COUNT:
    abort(); /* impossible: sig_msg_parse only yields known types */
  }
done:
  if (rc) {
    sig_send_error(hub, s, rc, m.id, why[0] ? why : NULL);
    /* A refused token is an authentication failure: no second try on this connection. */
    if (rc <= VEIL_ESIG_TOKEN_MALFORMED && rc >= VEIL_ESIG_TOKEN_CLAIMS)
      sig_request_close(hub, s, SIG_CLOSE_POLICY, "join token refused");
    else if (rc == VEIL_ESIG_DRAINING)
      sig_request_close(hub, s, SIG_CLOSE_GOING_AWAY, "draining");
  }
  sig_msg_release(&m);
  if (s->spent)
    sig_session_close(hub, s); /* its connection went to the participant it resumed */
  return rc;
}

void sig_hub_drain(sig_hub_t *hub, uint32_t deadline_ms) {
  if (hub->draining)
    return;
  hub->draining = true;
  hub->drain_deadline_ms = deadline_ms;
  for (sig_session_t *s = hub->sessions; s; s = s->all_next) {
    if (s->state == SIG_CLOSING)
      continue;
    json_t *o = json_pack("{s:s,s:i}", "type", "draining", "deadline_ms", (int)deadline_ms);
    sig_send_json(hub, s, o);
    /* Nobody will admit lobby entrants into a room that is about to close. */
    if (s->state == SIG_IN_LOBBY || s->state == SIG_EXPECT_JOIN) {
      sig_send_error(hub, s, VEIL_ESIG_DRAINING, -1, NULL);
      sig_room_leave(hub, s, "draining");
      sig_request_close(hub, s, SIG_CLOSE_GOING_AWAY, "draining");
    }
  }
}

void sig_hub_expire(sig_hub_t *hub, uint64_t now_ms) {
  uint32_t limit = hub->cfg.limits.join_timeout_ms;
  for (sig_session_t *s = hub->sessions; s; s = s->all_next) {
    if (limit && s->state == SIG_EXPECT_JOIN && now_ms >= s->opened_ms && now_ms - s->opened_ms >= limit) {
      sig_send_error(hub, s, VEIL_ESIG_JOIN_TIMEOUT, -1, NULL);
      sig_request_close(hub, s, SIG_CLOSE_POLICY, "join timeout");
    }
  }
}

/* Used by sig_room.c to end a session that was refused admission. */
void sig_session_reject(sig_hub_t *hub, sig_session_t *s) {
  sig_send_error(hub, s, VEIL_ESIG_REJECTED, -1, NULL);
  sig_request_close(hub, s, SIG_CLOSE_REJECTED, "admission rejected");
}
