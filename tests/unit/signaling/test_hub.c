/* Unit tests: the sans-I/O signaling core (signaling/sig_hub.c, sig_room.c), driven with
 * io callbacks that record every frame and close request. No media plane is configured
 * here (media requests must be refused as unavailable, never half-applied). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signaling/sig_hub.h"

#define NOW_S 1700000000LL
#define MAXC 8

typedef struct conn {
  sig_session_t *s;
  json_t *msgs; /* array of received messages */
  uint8_t bin[8][128]; /* the first binary frames (relay envelopes) */
  size_t bin_len[8], nbin;
  int close_code;
} conn_t;

static sig_jwt_key_t *key;
static sig_hub_t *hub;
static conn_t conns[MAXC];
static uint64_t now_ms = 1000;

static void rec_text(void *u, sig_session_t *s, const char *d, size_t n) {
  (void)u;
  conn_t *c = sig_session_user(s);
  json_t *j = json_loadb(d, n, 0, NULL);
  cr_assert(j, "server sent invalid JSON: %.*s", (int)n, d);
  json_array_append_new(c->msgs, j);
}
static void rec_bin(void *u, sig_session_t *s, const uint8_t *d, size_t n) {
  (void)u;
  conn_t *c = sig_session_user(s);
  if (c->nbin < 8 && n <= 128) {
    memcpy(c->bin[c->nbin], d, n);
    c->bin_len[c->nbin++] = n;
  }
}
static void rec_close(void *u, sig_session_t *s, int code, const char *r) {
  (void)u, (void)r;
  conn_t *c = sig_session_user(s);
  c->close_code = code;
}

static void rec_rebind(void *u, void *conn, sig_session_t *s) {
  (void)u;
  ((conn_t *)conn)->s = s;
}

/* The sig_resume suite turns resumption on; sig_hub runs with it off (grace 0). */
static uint32_t grace_ms, max_held;

static void make_hub(bool lobby, uint32_t max_rooms, uint32_t max_per_room) {
  sig_hub_config_t cfg = {
      .limits = {.max_rooms = max_rooms,
                 .max_participants_per_room = max_per_room,
                 .max_lobby_per_room = 2,
                 .max_message_bytes = 4096,
                 .max_prejoin_message_bytes = 1024,
                 .max_mls_message_bytes = 4096,
                 .messages_per_second = 5,
                 .join_timeout_ms = 3000,
                 .max_tracks_per_participant = 4,
                 .max_subscriptions_per_participant = 4,
                 .reconnect_grace_ms = grace_ms,
                 .max_reconnecting = max_held},
      .key = key,
      .token_leeway_s = 0,
      .lobby = lobby,
      .io = {.user = NULL, .send_text = rec_text, .send_binary = rec_bin, .close = rec_close, .rebind = rec_rebind},
  };
  cr_assert_eq(sig_hub_new(&cfg, &hub), 0);
}

static void setup(void) {
  now_ms = 1000;
  cr_assert_eq(sig_jwt_key_generate(SIG_JWT_HS256, &key), 0);
  make_hub(false, 2, 2);
  for (int i = 0; i < MAXC; i++) {
    conns[i].msgs = json_array();
    conns[i].close_code = 0;
    conns[i].nbin = 0;
    conns[i].s = sig_session_open(hub, &conns[i], now_ms);
  }
}
static void teardown(void) {
  sig_hub_free(hub);
  for (int i = 0; i < MAXC; i++)
    json_decref(conns[i].msgs);
  sig_jwt_key_free(key);
}
TestSuite(sig_hub, .init = setup, .fini = teardown);

static void setup_resume(void) {
  grace_ms = 5000;
  max_held = 1;
  setup();
  grace_ms = max_held = 0;
}
TestSuite(sig_resume, .init = setup_resume, .fini = teardown);

static char *token(const char *room, const char *sub, sig_role_t role) {
  sig_claims_t c;
  memset(&c, 0, sizeof c);
  snprintf(c.room, sizeof c.room, "%s", room);
  snprintf(c.sub, sizeof c.sub, "%s", sub);
  snprintf(c.name, sizeof c.name, "N-%s", sub);
  c.role = role;
  c.iat = NOW_S;
  c.exp = NOW_S + 60;
  c.can_publish = c.can_subscribe = true;
  char *t = NULL;
  cr_assert_eq(sig_jwt_sign(key, &c, &t), 0);
  return t;
}

static int send(int i, const char *text) {
  now_ms += 1000; /* one message per second per connection keeps clear of the rate limit */
  return sig_handle_message(hub, conns[i].s, text, strlen(text), now_ms, NOW_S);
}

static int join(int i, const char *room, const char *sub, sig_role_t role) {
  char *t = token(room, sub, role);
  char buf[2048];
  snprintf(buf, sizeof buf, "{\"type\":\"join\",\"id\":1,\"token\":\"%s\",\"room\":\"%s\"}", t, room);
  free(t);
  return send(i, buf);
}

static json_t *last(int i) {
  size_t n = json_array_size(conns[i].msgs);
  cr_assert(n > 0, "connection %d received nothing", i);
  return json_array_get(conns[i].msgs, n - 1);
}
static const char *last_type(int i) { return json_string_value(json_object_get(last(i), "type")); }
static const char *last_code(int i) { return json_string_value(json_object_get(last(i), "code")); }

Test(sig_hub, ping_answers_pong_with_id) {
  cr_assert_eq(send(0, "{\"type\":\"ping\",\"id\":5}"), 0);
  cr_assert_str_eq(last_type(0), "pong");
  cr_assert_eq(json_integer_value(json_object_get(last(0), "id")), 5);
}

Test(sig_hub, join_sends_joined_and_roster_events) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_str_eq(last_type(0), "joined");
  cr_assert_eq(json_array_size(json_object_get(last(0), "roster")), 0);
  cr_assert(json_is_null(json_object_get(last(0), "transport")));
  cr_assert_eq(join(1, "r", "b", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(json_array_size(json_object_get(last(1), "roster")), 1);
  cr_assert_str_eq(last_type(0), "participant_joined");
  cr_assert_eq(sig_hub_stats(hub)->participants, 2);
  cr_assert_eq(sig_hub_stats(hub)->rooms, 1);
  sig_session_close(hub, conns[1].s);
  conns[1].s = sig_session_open(hub, &conns[1], now_ms);
  cr_assert_str_eq(last_type(0), "participant_left");
  cr_assert_eq(sig_hub_stats(hub)->participants, 1);
}

Test(sig_hub, refused_token_closes_with_policy_violation_and_joins_nothing) {
  char *t = token("other", "a", SIG_ROLE_MEMBER);
  char buf[2048];
  snprintf(buf, sizeof buf, "{\"type\":\"join\",\"token\":\"%s\",\"room\":\"r\"}", t);
  free(t);
  cr_assert_eq(send(0, buf), VEIL_ESIG_TOKEN_ROOM);
  cr_assert_str_eq(last_code(0), "token_room");
  cr_assert_eq(conns[0].close_code, SIG_CLOSE_POLICY);
  cr_assert_eq(sig_hub_stats(hub)->rooms, 0);
  /* after the close request nothing more is processed */
  cr_assert_eq(send(0, "{\"type\":\"ping\"}"), VEIL_ESIG_STATE);
}

Test(sig_hub, messages_before_join_get_bad_state) {
  cr_assert_eq(send(0, "{\"type\":\"subscribe\",\"id\":3,\"track_id\":\"t1\"}"), VEIL_ESIG_STATE);
  cr_assert_str_eq(last_code(0), "bad_state");
  cr_assert_eq(json_integer_value(json_object_get(last(0), "id")), 3);
  cr_assert_eq(conns[0].close_code, 0);
}

Test(sig_hub, second_join_on_a_joined_session_is_refused) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(join(0, "r", "a2", SIG_ROLE_MEMBER), VEIL_ESIG_STATE);
  cr_assert_eq(sig_hub_stats(hub)->participants, 1);
}

Test(sig_hub, duplicate_identity_refused) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(join(1, "r", "a", SIG_ROLE_MEMBER), VEIL_ESIG_DUPLICATE);
  cr_assert_eq(sig_hub_stats(hub)->participants, 1);
}

Test(sig_hub, room_and_server_limits) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(join(1, "r", "b", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(join(2, "r", "c", SIG_ROLE_MEMBER), VEIL_ESIG_ROOM_FULL);
  cr_assert_str_eq(last_code(2), "room_full");
  cr_assert_eq(join(3, "s", "d", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(join(4, "t", "e", SIG_ROLE_MEMBER), VEIL_ESIG_TOO_MANY_ROOMS);
  cr_assert_eq(sig_hub_stats(hub)->rooms, 2);
}

Test(sig_hub, malformed_message_changes_nothing) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  size_t before = json_array_size(conns[0].msgs);
  cr_assert_eq(send(0, "{\"type\":\"leave\",\"x\":1}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(json_array_size(conns[0].msgs), before + 1);
  cr_assert_str_eq(last_code(0), "invalid_message");
  cr_assert_eq(sig_hub_stats(hub)->participants, 1);
  cr_assert(sig_session_joined(conns[0].s));
}

Test(sig_hub, media_requests_without_a_media_plane_are_refused) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(send(0, "{\"type\":\"publish\",\"kind\":\"audio\",\"mid\":\"0\",\"ssrc\":1,"
                       "\"codec\":{\"name\":\"opus\",\"payload_type\":111,\"clock_rate\":48000}}"),
               VEIL_ESIG_UNAVAILABLE);
  cr_assert_eq(sig_hub_stats(hub)->tracks, 0);
  cr_assert_eq(send(0, "{\"type\":\"subscribe\",\"track_id\":\"t9\"}"), VEIL_ESIG_UNKNOWN_TRACK);
}

Test(sig_hub, rate_limit_refuses_bursts) {
  int limited = 0;
  for (int k = 0; k < 30; k++)
    if (sig_handle_message(hub, conns[0].s, "{\"type\":\"ping\"}", 15, 5000, NOW_S) == VEIL_ESIG_RATE)
      limited++;
  cr_assert_eq(limited, 20, "burst is 2 x 5 msg/s, so 20 of 30 are refused (got %d)", limited);
  cr_assert_eq(sig_handle_message(hub, conns[0].s, "{\"type\":\"ping\"}", 15, 6000, NOW_S), 0);
}

Test(sig_hub, prejoin_size_limit_is_tighter) {
  char big[2000];
  memset(big, ' ', sizeof big);
  memcpy(big, "{\"type\":\"ping\"}", 15);
  cr_assert_eq(sig_handle_message(hub, conns[0].s, big, 1500, 9000, NOW_S), VEIL_ESIG_TOO_LARGE);
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(sig_handle_message(hub, conns[0].s, big, 1500, 20000, NOW_S), 0);
}

Test(sig_hub, drain_refuses_new_joins_and_tells_everyone) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  sig_hub_drain(hub, 5000);
  cr_assert_str_eq(last_type(0), "draining");
  cr_assert_eq(conns[0].close_code, 0, "joined sessions may finish");
  cr_assert_eq(conns[1].close_code, SIG_CLOSE_GOING_AWAY, "unjoined sessions are sent away");
}

Test(sig_hub, leave_acks_then_closes_normally) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(send(0, "{\"type\":\"leave\",\"id\":4}"), 0);
  cr_assert_str_eq(last_type(0), "ack");
  cr_assert_eq(conns[0].close_code, SIG_CLOSE_NORMAL);
  cr_assert_eq(sig_hub_stats(hub)->rooms, 0);
}

Test(sig_hub, lobby_admit_reject_and_host_only) {
  sig_hub_free(hub);
  make_hub(true, 4, 4);
  for (int i = 0; i < MAXC; i++)
    conns[i].s = sig_session_open(hub, &conns[i], now_ms);
  cr_assert_eq(join(0, "r", "m", SIG_ROLE_MEMBER), 0);
  cr_assert_str_eq(last_type(0), "lobby");
  const char *mid = json_string_value(json_object_get(last(0), "participant_id"));
  char admit[128];
  snprintf(admit, sizeof admit, "{\"type\":\"admit\",\"participant_id\":\"%s\"}", mid);
  cr_assert_eq(send(0, "{\"type\":\"ping\"}"), 0);
  cr_assert_eq(join(1, "r", "h", SIG_ROLE_HOST), 0);
  cr_assert_str_eq(last_type(1), "joined");
  cr_assert_eq(json_array_size(json_object_get(last(1), "lobby")), 1);
  cr_assert_eq(join(2, "r", "m2", SIG_ROLE_MEMBER), 0);
  cr_assert_str_eq(last_type(1), "lobby_waiting");
  cr_assert_eq(join(3, "r", "m3", SIG_ROLE_MEMBER), VEIL_ESIG_ROOM_FULL, "lobby bound is 2");
  cr_assert_eq(send(1, admit), 0);
  cr_assert_str_eq(last_type(0), "joined");
  cr_assert_eq(join(4, "r", "m4", SIG_ROLE_MEMBER), 0, "admission made room in the lobby");
  cr_assert_eq(sig_hub_stats(hub)->participants, 2);
  cr_assert_eq(send(1, admit), VEIL_ESIG_UNKNOWN_PEER, "already admitted");
  /* a member cannot admit */
  const char *m2 = json_string_value(json_object_get(json_array_get(conns[2].msgs, 0), "participant_id"));
  char rej[128];
  snprintf(rej, sizeof rej, "{\"type\":\"reject\",\"participant_id\":\"%s\"}", m2);
  cr_assert_eq(send(0, rej), VEIL_ESIG_FORBIDDEN);
  cr_assert_eq(send(1, rej), 0);
  cr_assert_str_eq(last_code(2), "admission_rejected");
  cr_assert_eq(conns[2].close_code, SIG_CLOSE_REJECTED);
  cr_assert_eq(sig_hub_stats(hub)->lobby_waiting, 1);
}

Test(sig_hub, error_replies_are_counted_by_code) {
  send(0, "{");
  send(0, "{\"type\":\"nope\"}");
  send(0, "{\"type\":\"nope\"}");
  const sig_stats_t *st = sig_hub_stats(hub);
  cr_assert_eq(st->errors[-VEIL_ESIG_MALFORMED - 10600], 1);
  cr_assert_eq(st->errors[-VEIL_ESIG_SCHEMA - 10600], 2);
}

static uint64_t be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

/* docs/relay.md: control(6) leader(2): uint64 leader, uint64 epoch, uint8 flags. */
static void assert_leader(int i, size_t k, uint64_t leader, int create) {
  cr_assert(conns[i].nbin > k, "connection %d got %zu binary frames", i, conns[i].nbin);
  const uint8_t *b = conns[i].bin[k];
  cr_assert_eq(conns[i].bin_len[k], 3 + 8 + 8 + 1);
  cr_assert_eq(b[0], 1);
  cr_assert_eq(b[1], 6);
  cr_assert_eq(b[2], 2);
  cr_assert_eq(be64(b + 3), leader);
  cr_assert_eq(b[19] & 1, create);
}

static uint64_t member_of(int i) {
  json_t *j = json_array_get(conns[i].msgs, 0);
  return strtoull(json_string_value(json_object_get(j, "participant_id")) + 1, NULL, 16);
}

Test(sig_hub, relay_appoints_the_first_member_leader_and_tells_joiners) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  uint64_t a = member_of(0);
  assert_leader(0, 0, a, 1);
  cr_assert_eq(join(1, "r", "b", SIG_ROLE_MEMBER), 0);
  assert_leader(1, 0, a, 0);
}

Test(sig_hub, binary_before_join_is_refused_with_a_text_error) {
  const uint8_t env[] = {1, 5, 0};
  cr_assert_eq(sig_handle_binary(hub, conns[0].s, env, sizeof env, 5000), VEIL_ESIG_STATE);
  cr_assert_str_eq(last_code(0), "bad_state");
  cr_assert_eq(conns[0].nbin, 0);
}

Test(sig_hub, malformed_envelope_gets_a_relay_error_control) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  size_t before = conns[0].nbin;
  const uint8_t env[] = {1, 99, 0, 0};
  cr_assert_lt(sig_handle_binary(hub, conns[0].s, env, sizeof env, 5000), 0);
  cr_assert_eq(conns[0].nbin, before + 1);
  const uint8_t *b = conns[0].bin[before];
  cr_assert_eq(b[1], 6, "control");
  cr_assert_eq(b[2], 1, "error");
  cr_assert_eq(sig_hub_stats(hub)->relay_refused, 1);
}

Test(sig_hub, oversized_envelope_is_refused) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  static uint8_t big[5000];
  big[0] = 1;
  cr_assert_eq(sig_handle_binary(hub, conns[0].s, big, sizeof big, 5000), VEIL_ESIG_TOO_LARGE);
}

Test(sig_hub, unjoined_connections_time_out_but_joined_and_lobby_ones_stay) {
  /* sessions were opened at t=1000 ms; the limit is 3000 ms */
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  sig_hub_expire(hub, 1000);
  cr_assert_eq(conns[1].close_code, 0);
  sig_hub_expire(hub, 3999);
  cr_assert_eq(conns[1].close_code, 0);
  sig_hub_expire(hub, 4000);
  cr_assert_eq(conns[1].close_code, SIG_CLOSE_POLICY);
  cr_assert_str_eq(last_code(1), "join_timeout");
  cr_assert_eq(conns[0].close_code, 0, "joined sessions are not timed out");
}

Test(sig_hub, join_latency_is_measured_from_connection_open) {
  /* opened at t=1000; join() advances the clock to t=2000 before the join arrives */
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  const sig_stats_t *st = sig_hub_stats(hub);
  cr_assert_eq(st->lat_count, 1);
  cr_assert_float_eq(st->lat_sum_ms, 1000.0, 1e-9);
  cr_assert_eq(st->lat_buckets[9], 1, "1000 ms falls in the le=1 s bucket");
  cr_assert_eq(st->joins_total, 1);
}

/* ---- resumption (docs/protocol.md "Resuming"); the sig_resume suite holds one
 * participant for 5 s ---- */

/* The first message connection i received of `type` (NULL: none). */
static json_t *first_of(int i, const char *type) {
  size_t k;
  json_t *j;
  json_array_foreach(conns[i].msgs, k, j) if (strcmp(json_string_value(json_object_get(j, "type")), type) == 0) return j;
  return NULL;
}

static int count_of(int i, const char *type) {
  size_t k;
  json_t *j;
  int n = 0;
  json_array_foreach(conns[i].msgs, k, j) n += strcmp(json_string_value(json_object_get(j, "type")), type) == 0;
  return n;
}

/* Copies participant id and resume token of the `joined` connection i received last. */
static void resume_creds(int i, char pid[33], char tok[65]) {
  json_t *j = NULL;
  size_t k;
  json_t *m;
  json_array_foreach(conns[i].msgs, k, m) if (strcmp(json_string_value(json_object_get(m, "type")), "joined") == 0) j = m;
  cr_assert(j, "connection %d never joined", i);
  snprintf(pid, 33, "%s", json_string_value(json_object_get(j, "participant_id")));
  const char *t = json_string_value(json_object_get(json_object_get(j, "resume"), "token"));
  cr_assert(t, "joined offers no resume token");
  cr_assert_eq(strlen(t), 43, "256 random bits, base64url");
  snprintf(tok, 65, "%s", t);
}

static int resume(int i, const char *sub, const char *pid, const char *tok) {
  char *t = token("r", sub, SIG_ROLE_MEMBER);
  char buf[2048];
  snprintf(buf, sizeof buf,
           "{\"type\":\"join\",\"id\":7,\"token\":\"%s\",\"room\":\"r\",\"resume\":{\"participant_id\":\"%s\",\"token\":"
           "\"%s\",\"epoch\":0}}",
           t, pid, tok);
  free(t);
  return send(i, buf);
}

/* a on connection 0 and b on connection 1; a's connection is lost at now_ms. */
static void join_two_and_lose_a(char pid[33], char tok[65]) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(join(1, "r", "b", SIG_ROLE_MEMBER), 0);
  resume_creds(0, pid, tok);
  sig_session_lost(hub, conns[0].s, now_ms);
  conns[0].s = NULL;
}

Test(sig_resume, lost_participant_is_held_and_resumes_its_place) {
  char pid[33], tok[65];
  join_two_and_lose_a(pid, tok);
  const sig_stats_t *st = sig_hub_stats(hub);
  cr_assert_eq(st->reconnecting, 1);
  cr_assert_eq(st->participants, 2, "still in the room");
  cr_assert_null(first_of(1, "participant_left"), "no leave while held");
  cr_assert_eq(sig_hub_next_deadline(hub), now_ms + 5000, "the grace is the next deadline");

  sig_session_t *spare = conns[2].s;
  cr_assert_eq(resume(2, "a", pid, tok), 0);
  json_t *j = last(2);
  cr_assert_str_eq(last_type(2), "joined");
  cr_assert(json_is_true(json_object_get(j, "resumed")));
  cr_assert_str_eq(json_string_value(json_object_get(j, "participant_id")), pid);
  cr_assert_eq(json_integer_value(json_object_get(j, "id")), 7);
  cr_assert_eq(json_array_size(json_object_get(j, "roster")), 1);
  const char *fresh = json_string_value(json_object_get(json_object_get(j, "resume"), "token"));
  cr_assert(fresh && strlen(fresh) == 43 && strcmp(fresh, tok) != 0, "every joined carries a new token");
  cr_assert_neq(conns[2].s, spare, "the connection now serves the held participant");
  cr_assert(sig_session_joined(conns[2].s));
  cr_assert_gt(conns[2].nbin, 0, "the relay greets the returning member");
  cr_assert_eq(st->reconnecting, 0);
  cr_assert_eq(st->resumes_total, 1);
  cr_assert_eq(st->participants, 2);
  cr_assert_eq(st->sessions, MAXC - 1, "one per open connection: the spare one was freed");
  cr_assert_eq(count_of(1, "participant_joined"), 0, "no roster churn");
  cr_assert_null(first_of(1, "participant_left"));
  cr_assert_eq(sig_hub_next_deadline(hub), UINT64_MAX);
  cr_assert_eq(send(2, "{\"type\":\"ping\"}"), 0);
  cr_assert_str_eq(last_type(2), "pong");
}

Test(sig_resume, wrong_token_is_refused_and_a_fresh_join_replaces_the_held_one) {
  char pid[33], tok[65];
  join_two_and_lose_a(pid, tok);
  char bad[65];
  snprintf(bad, sizeof bad, "%s", tok);
  bad[42] = bad[42] == 'A' ? 'B' : 'A';
  cr_assert_eq(resume(2, "a", pid, bad), VEIL_ESIG_RESUME);
  cr_assert_str_eq(last_code(2), "resume_refused");
  cr_assert_eq(conns[2].close_code, 0, "the connection may join fresh");
  cr_assert_eq(resume(2, "a", pid, "short"), VEIL_ESIG_RESUME);
  cr_assert_eq(resume(2, "a", "p99", tok), VEIL_ESIG_RESUME, "unknown participant");
  cr_assert_eq(sig_hub_stats(hub)->reconnecting, 1, "refusals change nothing");
  cr_assert_null(first_of(1, "participant_left"));

  cr_assert_eq(join(2, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_str_eq(last_type(2), "joined");
  cr_assert_str_neq(json_string_value(json_object_get(last(2), "participant_id")), pid);
  cr_assert_null(json_object_get(last(2), "resumed"));
  json_t *left = first_of(1, "participant_left");
  cr_assert(left, "the held participant left for the fresh one");
  cr_assert_str_eq(json_string_value(json_object_get(left, "participant_id")), pid);
  cr_assert_eq(sig_hub_stats(hub)->reconnecting, 0);
  cr_assert_eq(sig_hub_stats(hub)->participants, 2);
}

Test(sig_resume, another_identity_cannot_take_the_place) {
  char pid[33], tok[65];
  join_two_and_lose_a(pid, tok);
  cr_assert_eq(resume(2, "c", pid, tok), VEIL_ESIG_RESUME);
  cr_assert_str_eq(last_code(2), "resume_refused");
  cr_assert_eq(sig_hub_stats(hub)->reconnecting, 1);
  cr_assert(!sig_session_joined(conns[2].s));
}

Test(sig_resume, grace_expiry_leaves_like_a_disconnect_and_resume_is_refused) {
  char pid[33], tok[65];
  join_two_and_lose_a(pid, tok);
  uint64_t lost = now_ms;
  sig_hub_tick(hub, lost + 4999);
  cr_assert_null(first_of(1, "participant_left"));
  sig_hub_tick(hub, lost + 5000);
  json_t *left = first_of(1, "participant_left");
  cr_assert(left);
  cr_assert_str_eq(json_string_value(json_object_get(left, "participant_id")), pid);
  cr_assert_str_eq(json_string_value(json_object_get(left, "reason")), "disconnected");
  const sig_stats_t *st = sig_hub_stats(hub);
  cr_assert_eq(st->reconnecting, 0);
  cr_assert_eq(st->resume_expired, 1);
  cr_assert_eq(st->participants, 1);
  now_ms = lost + 5000;
  cr_assert_eq(resume(2, "a", pid, tok), VEIL_ESIG_RESUME);
  cr_assert_eq(join(2, "r", "a", SIG_ROLE_MEMBER), 0, "it joins fresh");
}

Test(sig_resume, a_second_connection_takes_over_and_the_first_is_closed) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(join(1, "r", "b", SIG_ROLE_MEMBER), 0);
  char pid[33], tok[65];
  resume_creds(0, pid, tok);
  sig_session_t *held = conns[0].s;
  cr_assert_eq(resume(2, "a", pid, tok), 0);
  cr_assert(json_is_true(json_object_get(last(2), "resumed")));
  cr_assert_eq(conns[2].s, held, "the new connection serves the participant");
  cr_assert_eq(conns[0].close_code, SIG_CLOSE_TAKEN_OVER);
  cr_assert_neq(conns[0].s, held, "the old connection got a spare session");
  cr_assert_eq(send(0, "{\"type\":\"ping\"}"), VEIL_ESIG_STATE, "the old connection is closing");
  /* When the old connection is finally gone, the participant stays. */
  sig_session_lost(hub, conns[0].s, now_ms);
  conns[0].s = NULL;
  cr_assert_eq(sig_hub_stats(hub)->participants, 2);
  cr_assert_eq(sig_hub_stats(hub)->reconnecting, 0);
  cr_assert_null(first_of(1, "participant_left"));
  cr_assert(sig_session_joined(conns[2].s));
}

Test(sig_resume, held_participants_are_bounded_and_leave_is_never_held) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(join(1, "r", "b", SIG_ROLE_MEMBER), 0);
  cr_assert_eq(join(2, "r2", "c", SIG_ROLE_MEMBER), 0);
  sig_session_lost(hub, conns[0].s, now_ms);
  sig_session_lost(hub, conns[1].s, now_ms); /* over max_reconnecting = 1: leaves now */
  cr_assert_eq(sig_hub_stats(hub)->reconnecting, 1);
  cr_assert_eq(sig_hub_stats(hub)->participants, 2);
  cr_assert_eq(send(2, "{\"type\":\"leave\"}"), 0);
  sig_session_lost(hub, conns[2].s, now_ms);
  cr_assert_eq(sig_hub_stats(hub)->reconnecting, 1, "a participant that left is not held");
  cr_assert_eq(sig_hub_stats(hub)->participants, 1);
  conns[0].s = conns[1].s = conns[2].s = NULL;
}

Test(sig_hub, resume_is_refused_when_the_server_holds_nobody) {
  cr_assert_eq(join(0, "r", "a", SIG_ROLE_MEMBER), 0);
  cr_assert_null(json_object_get(last(0), "resume"), "no token offered");
  char pid[33];
  snprintf(pid, sizeof pid, "%s", json_string_value(json_object_get(last(0), "participant_id")));
  sig_session_lost(hub, conns[0].s, now_ms);
  conns[0].s = NULL;
  cr_assert_eq(sig_hub_stats(hub)->participants, 0, "left at once");
  cr_assert_eq(resume(1, "a", pid, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), VEIL_ESIG_RESUME);
}
