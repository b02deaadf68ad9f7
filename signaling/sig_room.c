/* veil — rooms, roster and lobby of the signaling core. Contract in sig_room.h.
 *
 * Rooms are kept in a singly linked list and looked up by name in O(rooms): lookups happen
 * only on join, never per packet, and the list is bounded by max_rooms. */
#include "signaling/sig_room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

sig_room_t *sig_room_find(sig_hub_t *hub, const char *name) {
  for (sig_room_t *r = hub->rooms; r; r = r->next)
    if (strcmp(r->name, name) == 0)
      return r;
  return NULL;
}

static uint32_t room_count(const sig_hub_t *hub) {
  uint32_t n = 0;
  for (sig_room_t *r = hub->rooms; r; r = r->next)
    n++;
  return n;
}

static sig_room_t *room_create(sig_hub_t *hub, const char *name) {
  sig_room_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  snprintf(r->name, sizeof r->name, "%s", name);
  r->next = hub->rooms;
  hub->rooms = r;
  hub->stats.rooms++;
  veil_log(VEIL_LOG_INFO, "signaling", "room_open", "room=%s", r->name);
  return r;
}

static void room_free_if_empty(sig_hub_t *hub, sig_room_t *r) {
  if (r->members || r->lobby)
    return;
  for (sig_room_t **pp = &hub->rooms; *pp; pp = &(*pp)->next) {
    if (*pp == r) {
      *pp = r->next;
      break;
    }
  }
  hub->stats.rooms--;
  sig_relay_free(hub, r);
  veil_log(VEIL_LOG_INFO, "signaling", "room_close", "room=%s", r->name);
  free(r);
}

static void list_remove(sig_session_t **head, sig_session_t *s) {
  for (sig_session_t **pp = head; *pp; pp = &(*pp)->room_next) {
    if (*pp == s) {
      *pp = s->room_next;
      s->room_next = NULL;
      return;
    }
  }
}

static bool identity_present(const sig_room_t *r, const char *sub) {
  for (sig_session_t *p = r->members; p; p = p->room_next)
    if (strcmp(p->claims.sub, sub) == 0)
      return true;
  for (sig_session_t *p = r->lobby; p; p = p->room_next)
    if (strcmp(p->claims.sub, sub) == 0)
      return true;
  return false;
}

sig_session_t *sig_room_member(sig_room_t *room, const char *participant_id) {
  for (sig_session_t *p = room->members; p; p = p->room_next)
    if (strcmp(p->id, participant_id) == 0)
      return p;
  return NULL;
}

json_t *sig_participant_json(const sig_session_t *s, bool with_tracks) {
  json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "participant_id", s->id, "identity", s->claims.sub, "name",
                        s->display_name, "role", sig_role_name(s->claims.role));
  if (o && s->caps)
    json_object_set(o, "capabilities", s->caps);
  if (o && with_tracks) {
    json_t *arr = json_array();
    for (const sig_track_t *t = s->tracks; t && arr; t = t->next)
      json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "track_id", t->id, "kind", t->kind, "source", t->source));
    json_object_set_new(o, "tracks", arr ? arr : json_null());
  }
  return o;
}

void sig_room_broadcast(sig_hub_t *hub, sig_room_t *room, const sig_session_t *except, json_t *obj) {
  if (!obj)
    return;
  for (sig_session_t *p = room->members; p; p = p->room_next)
    if (p != except)
      sig_send_json(hub, p, json_incref(obj));
  json_decref(obj);
}

static void tell_hosts(sig_hub_t *hub, sig_room_t *room, json_t *obj) {
  if (!obj)
    return;
  for (sig_session_t *p = room->members; p; p = p->room_next)
    if (p->claims.role == SIG_ROLE_HOST)
      sig_send_json(hub, p, json_incref(obj));
  json_decref(obj);
}

static json_t *lobby_json(const sig_room_t *room) {
  json_t *arr = json_array();
  for (sig_session_t *p = room->lobby; p && arr; p = p->room_next)
    json_array_append_new(arr, sig_participant_json(p, false));
  return arr;
}

json_t *sig_joined_json(const sig_hub_t *hub, const sig_session_t *s, long long req_id, bool resumed) {
  const sig_room_t *room = s->room;
  json_t *roster = json_array();
  for (sig_session_t *p = room->members; p && roster; p = p->room_next)
    if (p != s)
      json_array_append_new(roster, sig_participant_json(p, true));
  json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o*,s:O?,s:b,s:b}", "type", "joined", "participant_id", s->id, "room",
                        room->name, "identity", s->claims.sub, "role", sig_role_name(s->claims.role), "roster", roster,
                        "transport", s->transport, "can_publish", s->claims.can_publish, "can_subscribe",
                        s->claims.can_subscribe);
  if (!j)
    return NULL;
  if (req_id >= 0)
    json_object_set_new(j, "id", json_integer(req_id));
  if (s->claims.role == SIG_ROLE_HOST)
    json_object_set_new(j, "lobby", lobby_json(room));
  /* Offered only when the hub would hold this participant (docs/protocol.md "Resuming"). */
  if (s->resume_token[0])
    json_object_set_new(j, "resume", json_pack("{s:s,s:i}", "token", s->resume_token, "grace_ms",
                                               (json_int_t)hub->cfg.limits.reconnect_grace_ms));
  if (resumed)
    json_object_set_new(j, "resumed", json_true());
  return j;
}

/* Moves a session with verified claims into the room's member list: media first (it may
 * refuse, and then nothing has changed), then our own state, then the messages. */
static int admit(sig_hub_t *hub, sig_session_t *s, sig_room_t *room, const char *room_name, long long req_id,
                 uint64_t now_ms) {
  if (room && room->nmembers >= hub->cfg.limits.max_participants_per_room)
    return VEIL_ESIG_ROOM_FULL;
  void *media = NULL;
  json_t *transport = NULL;
  if (hub->cfg.media) {
    int rc = hub->cfg.media->join(hub->cfg.media_ctx, room_name, s->id, &media, &transport);
    if (rc) {
      veil_log(VEIL_LOG_WARN, "signaling", "media_join_failed", "room=%s participant=%s err=%s", room_name, s->id,
               veil_strerror(rc));
      return VEIL_ESIG_MEDIA;
    }
  }
  if (!room && !(room = room_create(hub, room_name))) {
    if (media)
      hub->cfg.media->leave(hub->cfg.media_ctx, media);
    json_decref(transport);
    return VEIL_ENOMEM;
  }
  s->media = media;
  s->transport = transport;
  s->room = room;
  s->state = SIG_JOINED;
  s->room_next = room->members;
  room->members = s;
  room->nmembers++;
  hub->stats.participants++;
  if (sig_resume_enabled(hub) && sig_resume_issue(s))
    s->resume_token[0] = '\0'; /* no randomness: this participant cannot resume */
  sig_send_json(hub, s, sig_joined_json(hub, s, req_id, false));
  sig_room_joined_latency(hub, s, now_ms);
  veil_log(VEIL_LOG_INFO, "signaling", "participant_joined", "room=%s participant=%s role=%s", room->name, s->id,
           sig_role_name(s->claims.role));
  sig_room_broadcast(hub, room, s,
                     json_pack("{s:s,s:o*}", "type", "participant_joined", "participant", sig_participant_json(s, true)));
  /* After `joined`, so that the client knows its id before the relay's `leader` control. */
  int rc = sig_relay_joined(hub, s, now_ms);
  if (rc)
    veil_log(VEIL_LOG_ERROR, "signaling", "relay_join_failed", "room=%s participant=%s err=%s", room->name, s->id,
             veil_strerror(rc));
  return 0;
}

int sig_room_join(sig_hub_t *hub, sig_session_t *s, long long req_id, uint64_t now_ms) {
  /* A fresh join replaces the identity's participant held for a resume (its client lost
   * its state or gave up); that may free the room, so look it up afterwards. */
  sig_room_t *room = sig_room_find(hub, s->claims.room);
  if (room)
    sig_resume_evict_identity(hub, room, s->claims.sub);
  room = sig_room_find(hub, s->claims.room);
  if (!room && room_count(hub) >= hub->cfg.limits.max_rooms)
    return VEIL_ESIG_TOO_MANY_ROOMS;
  if (room && identity_present(room, s->claims.sub))
    return VEIL_ESIG_DUPLICATE;
  s->member_id = ++hub->next_id;
  snprintf(s->id, sizeof s->id, "p%llx", (unsigned long long)s->member_id);
  if (!hub->cfg.lobby || s->claims.role == SIG_ROLE_HOST) {
    int rc = admit(hub, s, room, s->claims.room, req_id, now_ms);
    if (rc)
      s->id[0] = '\0';
    return rc;
  }
  /* Lobby: wait for a host (RFC-less, our protocol: docs/protocol.md "Lobby"). */
  if (room && room->nlobby >= hub->cfg.limits.max_lobby_per_room) {
    s->id[0] = '\0';
    return VEIL_ESIG_ROOM_FULL;
  }
  if (!room && !(room = room_create(hub, s->claims.room))) {
    s->id[0] = '\0';
    return VEIL_ENOMEM;
  }
  s->room = room;
  s->state = SIG_IN_LOBBY;
  s->room_next = room->lobby;
  room->lobby = s;
  room->nlobby++;
  hub->stats.lobby_waiting++;
  json_t *w = json_pack("{s:s,s:s,s:s}", "type", "lobby", "state", "waiting", "participant_id", s->id);
  if (w && req_id >= 0)
    json_object_set_new(w, "id", json_integer(req_id));
  sig_send_json(hub, s, w);
  tell_hosts(hub, room, json_pack("{s:s,s:o*}", "type", "lobby_waiting", "participant", sig_participant_json(s, false)));
  return 0;
}

int sig_room_decide(sig_hub_t *hub, sig_session_t *host, const char *pid, bool yes, uint64_t now_ms) {
  sig_room_t *room = host->room;
  sig_session_t *w = NULL;
  for (sig_session_t *p = room->lobby; p; p = p->room_next)
    if (strcmp(p->id, pid) == 0)
      w = p;
  if (!w)
    return VEIL_ESIG_UNKNOWN_PEER;
  if (yes) {
    /* Take it out of the lobby first so admit() sees the member count only; put it back
     * if admission fails, so a refused admit changes nothing. */
    list_remove(&room->lobby, w);
    room->nlobby--;
    hub->stats.lobby_waiting--;
    int rc = admit(hub, w, room, room->name, -1, now_ms);
    if (rc) {
      w->room_next = room->lobby;
      room->lobby = w;
      room->nlobby++;
      hub->stats.lobby_waiting++;
      return rc;
    }
  } else {
    list_remove(&room->lobby, w);
    room->nlobby--;
    hub->stats.lobby_waiting--;
    w->room = NULL;
    sig_session_reject(hub, w);
  }
  tell_hosts(hub, room,
             json_pack("{s:s,s:s,s:s}", "type", "lobby_left", "participant_id", pid, "outcome", yes ? "admitted" : "rejected"));
  veil_log(VEIL_LOG_INFO, "signaling", yes ? "lobby_admitted" : "lobby_rejected", "room=%s participant=%s by=%s",
           room->name, pid, host->id);
  return 0;
}

void sig_room_leave(sig_hub_t *hub, sig_session_t *s, const char *reason) {
  sig_room_t *room = s->room;
  if (!room)
    return;
  if (!sig_room_member(room, s->id)) {
    list_remove(&room->lobby, s);
    room->nlobby--;
    hub->stats.lobby_waiting--;
    s->room = NULL;
    tell_hosts(hub, room, json_pack("{s:s,s:s,s:s}", "type", "lobby_left", "participant_id", s->id, "outcome", reason));
    room_free_if_empty(hub, room);
    return;
  }
  sig_media_release(hub, s);
  sig_relay_left(hub, s, hub->relay_clock);
  list_remove(&room->members, s);
  room->nmembers--;
  hub->stats.participants--;
  if (s->media && hub->cfg.media)
    hub->cfg.media->leave(hub->cfg.media_ctx, s->media);
  s->media = NULL;
  json_decref(s->transport);
  s->transport = NULL;
  s->resume_token[0] = '\0';
  s->room = NULL;
  if (s->state == SIG_JOINED)
    s->state = SIG_EXPECT_JOIN;
  veil_log(VEIL_LOG_INFO, "signaling", "participant_left", "room=%s participant=%s reason=%s", room->name, s->id, reason);
  sig_room_broadcast(hub, room, NULL,
                     json_pack("{s:s,s:s,s:s}", "type", "participant_left", "participant_id", s->id, "reason", reason));
  room_free_if_empty(hub, room);
}

int sig_hub_notify(sig_hub_t *hub, const char *room_name, const char *pid, json_t *obj) {
  sig_room_t *room = sig_room_find(hub, room_name);
  sig_session_t *s = room ? sig_room_member(room, pid) : NULL;
  if (!s) {
    json_decref(obj);
    return VEIL_ENOTFOUND;
  }
  sig_send_json(hub, s, obj);
  return 0;
}
