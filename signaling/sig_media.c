/* veil — transport, publish and subscribe requests of the signaling core.
 *
 * Signaling keeps its own record of tracks and subscriptions (for the roster, permission
 * checks and events); the media plane keeps the forwarding state. Every handler checks
 * all preconditions, allocates its record, asks the media plane, and commits only when
 * the media plane said yes, so a refusal leaves both sides unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "signaling/sig_internal.h"
#include "signaling/sig_room.h"

static void reply(sig_hub_t *hub, sig_session_t *s, const char *type, long long id, json_t *body) {
  json_t *o = body ? body : json_object();
  if (!o)
    return;
  json_object_set_new(o, "type", json_string(type));
  if (id >= 0)
    json_object_set_new(o, "id", json_integer(id));
  sig_send_json(hub, s, o);
}

static sig_track_t *own_track(sig_session_t *s, const char *id) {
  for (sig_track_t *t = s->tracks; t; t = t->next)
    if (strcmp(t->id, id) == 0)
      return t;
  return NULL;
}

static sig_session_t *track_owner(sig_room_t *room, const char *id) {
  for (sig_session_t *p = room->members; p; p = p->room_next)
    if (own_track(p, id))
      return p;
  return NULL;
}

static sig_sub_t **find_sub(sig_session_t *s, const char *track_id) {
  for (sig_sub_t **pp = &s->subs; *pp; pp = &(*pp)->next)
    if (strcmp((*pp)->track_id, track_id) == 0)
      return pp;
  return NULL;
}

int sig_on_connect(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m) {
  if (!hub->cfg.media)
    return VEIL_ESIG_UNAVAILABLE;
  int rc = hub->cfg.media->connect(hub->cfg.media_ctx, s->media, m->root);
  if (rc) {
    veil_log(VEIL_LOG_INFO, "signaling", "transport_connect_refused", "participant=%s err=%s", s->id, veil_strerror(rc));
    return rc == VEIL_ESIG_STATE ? rc : VEIL_ESIG_MEDIA;
  }
  reply(hub, s, "transport_connected", m->id, NULL);
  return 0;
}

int sig_on_publish(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m) {
  if (!s->claims.can_publish)
    return VEIL_ESIG_FORBIDDEN;
  if (!hub->cfg.media)
    return VEIL_ESIG_UNAVAILABLE;
  if (s->ntracks >= hub->cfg.limits.max_tracks_per_participant)
    return VEIL_ELIMIT;
  sig_track_t *t = calloc(1, sizeof *t);
  if (!t)
    return VEIL_ENOMEM;
  snprintf(t->id, sizeof t->id, "t%llx", (unsigned long long)++hub->next_id);
  snprintf(t->kind, sizeof t->kind, "%s", sig_msg_str(m, "kind"));
  const char *src = sig_msg_str(m, "source");
  snprintf(t->source, sizeof t->source, "%s", src ? src : strcmp(t->kind, "audio") == 0 ? "microphone" : "camera");
  json_t *info = NULL;
  int rc = hub->cfg.media->publish(hub->cfg.media_ctx, s->media, t->id, m->root, &info);
  if (rc) {
    free(t);
    veil_log(VEIL_LOG_INFO, "signaling", "publish_refused", "participant=%s err=%s", s->id, veil_strerror(rc));
    return VEIL_ESIG_MEDIA;
  }
  t->next = s->tracks;
  s->tracks = t;
  s->ntracks++;
  hub->stats.tracks++;
  json_t *body = json_is_object(info) ? info : json_object();
  if (!json_is_object(info))
    json_decref(info);
  if (body)
    json_object_set_new(body, "track_id", json_string(t->id));
  reply(hub, s, "published", m->id, body);
  json_t *tj = json_pack("{s:s,s:s,s:s}", "track_id", t->id, "kind", t->kind, "source", t->source);
  sig_room_broadcast(hub, s->room, s,
                     json_pack("{s:s,s:s,s:o*}", "type", "track_published", "participant_id", s->id, "track", tj));
  return 0;
}

/* Removes every subscription in the room to `track_id` (the track is going away). */
static void drop_subscribers(sig_hub_t *hub, sig_room_t *room, const char *track_id) {
  for (sig_session_t *p = room->members; p; p = p->room_next) {
    sig_sub_t **pp = find_sub(p, track_id);
    if (pp) {
      sig_sub_t *sub = *pp;
      *pp = sub->next;
      free(sub);
      p->nsubs--;
      hub->stats.subscriptions--;
    }
  }
}

static void remove_track(sig_hub_t *hub, sig_session_t *s, sig_track_t *t) {
  for (sig_track_t **pp = &s->tracks; *pp; pp = &(*pp)->next) {
    if (*pp == t) {
      *pp = t->next;
      break;
    }
  }
  s->ntracks--;
  hub->stats.tracks--;
  drop_subscribers(hub, s->room, t->id);
  sig_room_broadcast(hub, s->room, s,
                     json_pack("{s:s,s:s,s:s}", "type", "track_unpublished", "participant_id", s->id, "track_id", t->id));
  free(t);
}

int sig_on_unpublish(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m) {
  const char *tid = sig_msg_str(m, "track_id");
  sig_track_t *t = own_track(s, tid);
  if (!t)
    return VEIL_ESIG_UNKNOWN_TRACK;
  if (!hub->cfg.media)
    return VEIL_ESIG_UNAVAILABLE;
  int rc = hub->cfg.media->unpublish(hub->cfg.media_ctx, s->media, tid);
  if (rc)
    return VEIL_ESIG_MEDIA;
  reply(hub, s, "ack", m->id, json_pack("{s:s,s:s}", "request", "unpublish", "track_id", tid));
  remove_track(hub, s, t);
  return 0;
}

int sig_on_subscribe(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m) {
  const char *tid = sig_msg_str(m, "track_id");
  if (!s->claims.can_subscribe)
    return VEIL_ESIG_FORBIDDEN;
  sig_session_t *pub = track_owner(s->room, tid);
  if (!pub || pub == s)
    return VEIL_ESIG_UNKNOWN_TRACK;
  if (find_sub(s, tid))
    return VEIL_EEXIST;
  if (!hub->cfg.media)
    return VEIL_ESIG_UNAVAILABLE;
  if (s->nsubs >= hub->cfg.limits.max_subscriptions_per_participant)
    return VEIL_ELIMIT;
  sig_sub_t *sub = calloc(1, sizeof *sub);
  if (!sub)
    return VEIL_ENOMEM;
  snprintf(sub->track_id, sizeof sub->track_id, "%s", tid);
  sub->publisher = pub;
  json_t *info = NULL;
  int rc = hub->cfg.media->subscribe(hub->cfg.media_ctx, s->media, pub->media, tid, &info);
  if (rc) {
    free(sub);
    veil_log(VEIL_LOG_INFO, "signaling", "subscribe_refused", "participant=%s track=%s err=%s", s->id, tid,
             veil_strerror(rc));
    return VEIL_ESIG_MEDIA;
  }
  sub->next = s->subs;
  s->subs = sub;
  s->nsubs++;
  hub->stats.subscriptions++;
  json_t *body = json_is_object(info) ? info : json_object();
  if (!json_is_object(info))
    json_decref(info);
  if (body) {
    json_object_set_new(body, "track_id", json_string(tid));
    json_object_set_new(body, "participant_id", json_string(pub->id));
  }
  reply(hub, s, "subscribed", m->id, body);
  return 0;
}

int sig_on_unsubscribe(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m) {
  const char *tid = sig_msg_str(m, "track_id");
  sig_sub_t **pp = find_sub(s, tid);
  if (!pp)
    return VEIL_ESIG_UNKNOWN_TRACK;
  if (!hub->cfg.media)
    return VEIL_ESIG_UNAVAILABLE;
  sig_sub_t *sub = *pp;
  int rc = hub->cfg.media->unsubscribe(hub->cfg.media_ctx, s->media, sub->publisher->media, tid);
  if (rc)
    return VEIL_ESIG_MEDIA;
  *pp = sub->next;
  free(sub);
  s->nsubs--;
  hub->stats.subscriptions--;
  reply(hub, s, "ack", m->id, json_pack("{s:s,s:s}", "request", "unsubscribe", "track_id", tid));
  return 0;
}

void sig_media_release(sig_hub_t *hub, sig_session_t *s) {
  /* Our subscriptions go with our media participant (the media plane's leave tears its
   * side down); only the records remain to free. */
  while (s->subs) {
    sig_sub_t *sub = s->subs;
    s->subs = sub->next;
    free(sub);
    hub->stats.subscriptions--;
  }
  s->nsubs = 0;
  while (s->tracks)
    remove_track(hub, s, s->tracks);
}
