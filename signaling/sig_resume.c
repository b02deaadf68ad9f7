/*
 * veil — session resumption in the signaling core (docs/protocol.md "Resuming").
 *
 * A joined participant whose connection closes without `leave` is held (SIG_AWAY): it
 * stays a member of its room with its media-plane participant (transport, tracks,
 * subscriptions) and its relay member (told DISCONNECTED), but has no connection, so
 * nothing is sent to it. A later connection that presents a valid join token for the same
 * identity and the participant's resume token takes the participant over: the shell's
 * connection is rebound to the held session (sig_io_t.rebind), `joined` is repeated with
 * `resumed: true`, and the relay is told CONNECTED with the client's MLS epoch (it replays
 * the commits the client missed or tells it to rejoin). Nobody else sees a leave or a join.
 *
 * The same applies while the old connection is still open (a client that noticed the
 * drop before the server did): the new connection takes over and the old one is closed
 * with 4004.
 *
 * Limits: at most max_reconnecting held participants hub-wide (beyond that a lost
 * connection leaves at once, as without resumption), each for reconnect_grace_ms. The held
 * sessions form a FIFO, so the next expiry is the head's: O(1) per deadline query.
 *
 * Why a bearer token next to the JWT rather than the JWT alone: the JWT says who the user
 * is, not which of its participants a connection continues; a second device of the same
 * identity must not take over the first one's place. The token is random (256 bits),
 * issued per `joined` (a resume gets a new one), compared in constant time.
 */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/log.h"
#include "signaling/sig_internal.h"
#include "signaling/sig_room.h"

bool sig_resume_enabled(const sig_hub_t *hub) {
  return hub->cfg.limits.reconnect_grace_ms > 0 && hub->cfg.limits.max_reconnecting > 0 && hub->cfg.io.rebind;
}

int sig_resume_issue(sig_session_t *s) {
  uint8_t raw[SIG_RESUME_RAW];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    s->resume_token[0] = '\0';
    return VEIL_ECRYPTO;
  }
  veil_b64url_encode(raw, sizeof raw, s->resume_token);
  OPENSSL_cleanse(raw, sizeof raw);
  return 0;
}

static void away_unlink(sig_hub_t *hub, sig_session_t *s) {
  if (s->away_prev)
    s->away_prev->away_next = s->away_next;
  else
    hub->away_head = s->away_next;
  if (s->away_next)
    s->away_next->away_prev = s->away_prev;
  else
    hub->away_tail = s->away_prev;
  s->away_next = s->away_prev = NULL;
  hub->stats.reconnecting--;
  hub->stats.sessions++; /* counted again as it gets a connection (or is freed) */
}

void sig_resume_forget(sig_hub_t *hub, sig_session_t *s) {
  if (s->state == SIG_AWAY)
    away_unlink(hub, s);
}

bool sig_resume_hold(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms) {
  if (!sig_resume_enabled(hub) || s->state != SIG_JOINED || !s->resume_token[0])
    return false;
  if (hub->stats.reconnecting >= hub->cfg.limits.max_reconnecting) {
    veil_log(VEIL_LOG_WARN, "signaling", "hold_refused", "room=%s participant=%s held=%llu", s->room->name, s->id,
             (unsigned long long)hub->stats.reconnecting);
    return false;
  }
  s->state = SIG_AWAY;
  s->user = NULL;
  s->away_since = now_ms;
  s->away_next = NULL;
  s->away_prev = hub->away_tail;
  if (hub->away_tail)
    hub->away_tail->away_next = s;
  else
    hub->away_head = s;
  hub->away_tail = s;
  hub->stats.reconnecting++;
  hub->stats.sessions--; /* no connection any more */
  veil_log(VEIL_LOG_INFO, "signaling", "participant_away", "room=%s participant=%s grace_ms=%u", s->room->name, s->id,
           hub->cfg.limits.reconnect_grace_ms);
  sig_relay_away(hub, s, now_ms);
  return true;
}

static int refuse(const sig_session_t *s, const char *pid, const char *why) {
  veil_log(VEIL_LOG_INFO, "signaling", "resume_refused", "room=%s participant=%s reason=%s", s->claims.room, pid, why);
  return VEIL_ESIG_RESUME;
}

/* Token check in constant time over the full token length, so that timing cannot tell
 * how many leading characters were right (or whether the length was). */
static bool token_ok(const char *given, const char *want) {
  char padded[SIG_RESUME_LEN] = {0};
  size_t n = strlen(given);
  memcpy(padded, given, n < SIG_RESUME_LEN ? n : SIG_RESUME_LEN);
  int diff = CRYPTO_memcmp(padded, want, SIG_RESUME_LEN);
  return (diff == 0) & (n == SIG_RESUME_LEN);
}

int sig_resume_take(sig_hub_t *hub, sig_session_t *s, json_t *resume, long long req_id, uint64_t now_ms) {
  const char *pid = json_string_value(json_object_get(resume, "participant_id"));
  const char *tok = json_string_value(json_object_get(resume, "token"));
  json_t *ep = json_object_get(resume, "epoch");
  uint64_t epoch = json_is_integer(ep) ? (uint64_t)json_integer_value(ep) : RELAY_NO_STATE;
  if (!sig_resume_enabled(hub))
    return refuse(s, pid, "disabled");
  sig_room_t *room = sig_room_find(hub, s->claims.room);
  sig_session_t *p = room ? sig_room_member(room, pid) : NULL;
  if (!p || (p->state != SIG_JOINED && p->state != SIG_AWAY) || !p->resume_token[0])
    return refuse(s, pid, "not_held");
  bool ok = token_ok(tok, p->resume_token);
  if (!ok)
    return refuse(s, pid, "token");
  if (strcmp(p->claims.sub, s->claims.sub) != 0)
    return refuse(s, pid, "identity");

  void *conn = s->user;
  bool takeover = p->state == SIG_JOINED;
  if (takeover) {
    /* The old connection gets the asking session, which closes it: when it is gone the
     * shell frees that session, never the participant. The relay sees the old transport
     * go and the new one come. */
    void *old = p->user;
    s->user = old;
    hub->cfg.io.rebind(hub->cfg.io.user, old, s);
    memset(&s->claims, 0, sizeof s->claims);
    sig_request_close(hub, s, SIG_CLOSE_TAKEN_OVER, "resumed on another connection");
    sig_relay_away(hub, p, now_ms);
  } else {
    away_unlink(hub, p);
    s->user = NULL;
    s->spent = true; /* sig_handle_message frees it once it returns */
  }
  p->user = conn;
  hub->cfg.io.rebind(hub->cfg.io.user, conn, p);
  p->state = SIG_JOINED;
  p->tokens = s->tokens; /* the connection's rate limiter goes with it */
  p->rate_last_ms = s->rate_last_ms;
  (void)sig_resume_issue(p); /* no randomness: this participant cannot resume again */
  hub->stats.resumes_total++;
  veil_log(VEIL_LOG_INFO, "signaling", "participant_resumed", "room=%s participant=%s takeover=%d epoch=%lld",
           p->room->name, p->id, takeover, epoch == RELAY_NO_STATE ? -1LL : (long long)epoch);
  sig_send_json(hub, p, sig_joined_json(hub, p, req_id, true));
  /* After `joined`, as on a first join: the client knows it resumed before the replay. */
  sig_relay_back(hub, p, epoch, now_ms);
  return 0;
}

void sig_resume_evict_identity(sig_hub_t *hub, sig_room_t *room, const char *sub) {
  for (sig_session_t *p = room->members; p; p = p->room_next) {
    if (p->state == SIG_AWAY && strcmp(p->claims.sub, sub) == 0) {
      veil_log(VEIL_LOG_INFO, "signaling", "held_replaced", "room=%s participant=%s", room->name, p->id);
      sig_session_close(hub, p); /* may free the room: the caller looks it up again */
      return;
    }
  }
}

void sig_resume_expire(sig_hub_t *hub, uint64_t now_ms) {
  uint64_t grace = hub->cfg.limits.reconnect_grace_ms;
  while (hub->away_head && now_ms >= hub->away_head->away_since + grace) {
    sig_session_t *s = hub->away_head;
    hub->stats.resume_expired++;
    veil_log(VEIL_LOG_INFO, "signaling", "hold_expired", "room=%s participant=%s", s->room->name, s->id);
    sig_session_close(hub, s); /* leaves exactly as a lost connection without resumption */
  }
}

void sig_hub_release_held(sig_hub_t *hub) {
  while (hub->away_head)
    sig_session_close(hub, hub->away_head);
}

uint64_t sig_resume_next_deadline(const sig_hub_t *hub) {
  return hub->away_head ? hub->away_head->away_since + hub->cfg.limits.reconnect_grace_ms : UINT64_MAX;
}
