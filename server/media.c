/* veil-server media adapter over sfu/sfu.h. Contract in media.h. */
#include "server/media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "sfu/sfu.h"

typedef struct m_track {
  char id[SFU_ID_MAX + 1];
  sfu_track_t *t; /* owned by the SFU participant; valid while listed here */
  struct m_track *next;
} m_track_t;

typedef struct m_sub {
  char track_id[SFU_ID_MAX + 1];
  sfu_subscription_t *s; /* owned by the SFU; removed from here before the SFU frees it */
  struct m_sub *next;
} m_sub_t;

typedef struct m_room m_room_t;

/* One joined participant. Freed in on_closed once `left` (signaling is done with it), or
 * in leave() when the SFU already let it go (worker closing). */
typedef struct m_part {
  srv_media_t *m;
  m_room_t *room;     /* borrowed; NULL once left */
  sfu_participant_t *p; /* NULL once the SFU reported it closed */
  char id[SFU_ID_MAX + 1];
  m_track_t *tracks;  /* owned records */
  m_sub_t *subs;      /* owned records */
  sfu_transport_state_t state;
  int remote_set, left;
  struct m_part *next; /* room list */
} m_part_t;

struct m_room {
  char name[SFU_ID_MAX + 1];
  sfu_room_t *r;   /* owned by the worker; closed when the last participant leaves */
  m_part_t *parts; /* borrowed records */
  m_room_t *next;
};

struct srv_media {
  sfu_worker_t *w;
  m_room_t *rooms;
  sig_hub_t *hub;
  uint64_t dtls_failures, srtp_errors_closed;
  void (*close_cb)(void *);
  void *close_arg;
};

static const struct {
  const char *uri;
  size_t off;
} ext_uris[] = {
    {"urn:ietf:params:rtp-hdrext:sdes:mid", offsetof(sfu_ext_ids_t, mid)},
    {"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", offsetof(sfu_ext_ids_t, rid)},
    {"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", offsetof(sfu_ext_ids_t, repaired_rid)},
    {"urn:ietf:params:rtp-hdrext:ssrc-audio-level", offsetof(sfu_ext_ids_t, audio_level)},
    {"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", offsetof(sfu_ext_ids_t, abs_send_time)},
    {"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", offsetof(sfu_ext_ids_t, transport_cc)},
    {"https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension",
     offsetof(sfu_ext_ids_t, dependency_descriptor)},
};
#define NEXT (sizeof ext_uris / sizeof ext_uris[0])

static const char *state_name(sfu_transport_state_t s) {
  static const char *const n[] = {"new", "connecting", "connected", "failed", "closed"};
  return (unsigned)s < 5 ? n[s] : "unknown";
}

/* ---- listener ---- */

static void on_state(void *arg, sfu_participant_t *p, sfu_transport_state_t st, int err) {
  (void)p;
  m_part_t *mp = arg;
  /* FAILED while CONNECTING means the DTLS handshake failed or timed out. */
  if (st == SFU_TRANSPORT_FAILED && mp->state == SFU_TRANSPORT_CONNECTING)
    mp->m->dtls_failures++;
  mp->state = st;
  veil_log(st == SFU_TRANSPORT_FAILED ? VEIL_LOG_WARN : VEIL_LOG_INFO, "media", "transport_state",
           "participant=%s state=%s err=%s", mp->id, state_name(st), err ? veil_strerror(err) : "none");
  if (mp->m->hub && mp->room && !mp->left) {
    json_t *ev = json_pack("{s:s,s:s}", "type", "transport_state", "state", state_name(st));
    if (ev && err)
      json_object_set_new(ev, "error", json_string(veil_strerror(err)));
    sig_hub_notify(mp->m->hub, mp->room->name, mp->id, ev);
  }
}

static void free_records(m_part_t *mp) {
  while (mp->tracks) {
    m_track_t *t = mp->tracks;
    mp->tracks = t->next;
    free(t);
  }
  while (mp->subs) {
    m_sub_t *s = mp->subs;
    mp->subs = s->next;
    free(s);
  }
}

static void on_closed(void *arg, sfu_participant_t *p) {
  m_part_t *mp = arg;
  sfu_participant_stats_t st;
  sfu_participant_stats(p, &st);
  mp->m->srtp_errors_closed += st.srtp_errors;
  mp->p = NULL;
  if (mp->left) {
    free_records(mp);
    free(mp);
  }
}

/* ---- helpers ---- */

static m_room_t *room_find(srv_media_t *m, const char *name) {
  for (m_room_t *r = m->rooms; r; r = r->next)
    if (strcmp(r->name, name) == 0)
      return r;
  return NULL;
}

static void room_drop_if_empty(srv_media_t *m, m_room_t *room) {
  if (room->parts)
    return;
  for (m_room_t **pp = &m->rooms; *pp; pp = &(*pp)->next) {
    if (*pp == room) {
      *pp = room->next;
      break;
    }
  }
  if (room->r)
    sfu_room_close(room->r);
  free(room);
}

/* The SFU removed every subscription to these tracks; forget our pointers to them. */
static void forget_subscriptions_to(m_room_t *room, const char *track_id) {
  for (m_part_t *q = room->parts; q; q = q->next) {
    for (m_sub_t **pp = &q->subs; *pp;) {
      if (strcmp((*pp)->track_id, track_id) == 0) {
        m_sub_t *s = *pp;
        *pp = s->next;
        free(s);
      } else {
        pp = &(*pp)->next;
      }
    }
  }
}

static json_t *transport_json(const sfu_local_params_t *lp) {
  json_t *cands = json_array();
  for (size_t i = 0; i < lp->n_candidates && cands; i++)
    json_array_append_new(cands, json_pack("{s:s,s:s,s:i,s:s,s:I,s:s}", "candidate", lp->candidates[i], "ip",
                                           lp->candidate_ip[i], "port", (int)lp->candidate_port[i], "protocol", "udp",
                                           "priority", (json_int_t)lp->candidate_priority[i], "type", "host"));
  return json_pack("{s:{s:s,s:s,s:b,s:o*},s:{s:s,s:[{s:s,s:s}]}}", "ice", "ufrag", lp->ice_ufrag, "pwd", lp->ice_pwd,
                   "lite", 1, "candidates", cands, "dtls", "role", lp->dtls_role, "fingerprints", "algorithm",
                   lp->dtls_fingerprint_algorithm, "value", lp->dtls_fingerprint);
}

/* ---- sig_media_ops_t ---- */

static int op_join(void *ctx, const char *room_name, const char *pid, void **handle, json_t **transport) {
  srv_media_t *m = ctx;
  int rc;
  m_room_t *room = room_find(m, room_name);
  bool fresh = false;
  if (!room) {
    if (!(room = calloc(1, sizeof *room)))
      return VEIL_ENOMEM;
    snprintf(room->name, sizeof room->name, "%s", room_name);
    if ((rc = sfu_room_create(m->w, room_name, &room->r))) {
      free(room);
      return rc;
    }
    room->next = m->rooms;
    m->rooms = room;
    fresh = true;
  }
  m_part_t *mp = calloc(1, sizeof *mp);
  if (!mp) {
    rc = VEIL_ENOMEM;
    goto fail;
  }
  mp->m = m;
  snprintf(mp->id, sizeof mp->id, "%s", pid);
  sfu_listener_t l = {.arg = mp, .on_transport_state = on_state, .on_closed = on_closed};
  if ((rc = sfu_participant_create(room->r, pid, &l, &mp->p))) {
    free(mp);
    goto fail;
  }
  sfu_local_params_t lp;
  json_t *tj = NULL;
  if ((rc = sfu_participant_local_params(mp->p, &lp)) || !(tj = transport_json(&lp))) {
    mp->left = 1; /* freed by on_closed */
    sfu_participant_close(mp->p);
    rc = rc ? rc : VEIL_ENOMEM;
    goto fail;
  }
  mp->room = room;
  mp->next = room->parts;
  room->parts = mp;
  *handle = mp;
  *transport = tj;
  return 0;
fail:
  if (fresh)
    room_drop_if_empty(m, room);
  return rc;
}

static void op_leave(void *ctx, void *handle) {
  srv_media_t *m = ctx;
  m_part_t *mp = handle;
  m_room_t *room = mp->room;
  for (m_part_t **pp = &room->parts; *pp; pp = &(*pp)->next) {
    if (*pp == mp) {
      *pp = mp->next;
      break;
    }
  }
  /* Closing the participant unpublishes its tracks and drops every subscription to them. */
  for (m_track_t *t = mp->tracks; t; t = t->next)
    forget_subscriptions_to(room, t->id);
  mp->room = NULL;
  mp->left = 1;
  if (mp->p) {
    sfu_participant_close(mp->p); /* on_closed frees mp later */
  } else {
    free_records(mp);
    free(mp);
  }
  room_drop_if_empty(m, room);
}

static int op_connect(void *ctx, void *handle, json_t *msg) {
  (void)ctx;
  m_part_t *mp = handle;
  if (!mp->p)
    return VEIL_ESTATE;
  if (mp->remote_set)
    return VEIL_ESIG_STATE; /* one transport per participant, connected once */
  json_t *dtls = json_object_get(msg, "dtls");
  const char *role = json_string_value(json_object_get(dtls, "role"));
  /* The SFU is always the DTLS server (a=setup:passive), so the client must be the
   * client: "client" or "auto" (RFC 5763 §5). */
  if (strcmp(role, "server") == 0)
    return VEIL_EUNSUPPORTED;
  const char *fp = NULL, *alg = NULL;
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(dtls, "fingerprints"), i, e) {
    const char *a = json_string_value(json_object_get(e, "algorithm"));
    if (strcmp(a, "sha-256") == 0) {
      alg = a;
      fp = json_string_value(json_object_get(e, "value"));
    }
  }
  if (!fp)
    return VEIL_EUNSUPPORTED;
  sfu_remote_params_t rp = {
      .ice_ufrag = json_string_value(json_object_get(json_object_get(msg, "ice"), "ufrag")),
      .dtls_fingerprint_algorithm = alg,
      .dtls_fingerprint = fp,
  };
  int rc = sfu_participant_set_remote(mp->p, &rp);
  if (rc == 0)
    mp->remote_set = 1;
  return rc;
}

static int op_publish(void *ctx, void *handle, const char *track_id, json_t *msg, json_t **info) {
  (void)ctx;
  m_part_t *mp = handle;
  if (!mp->p)
    return VEIL_ESTATE;
  sfu_track_params_t tp;
  memset(&tp, 0, sizeof tp);
  tp.track_id = track_id;
  tp.kind = strcmp(json_string_value(json_object_get(msg, "kind")), "audio") == 0 ? SFU_MEDIA_AUDIO : SFU_MEDIA_VIDEO;
  tp.ssrc = (uint32_t)json_integer_value(json_object_get(msg, "ssrc"));
  tp.rtx_ssrc = (uint32_t)json_integer_value(json_object_get(msg, "rtx_ssrc"));
  json_t *codec = json_object_get(msg, "codec");
  tp.payload_type = (uint8_t)json_integer_value(json_object_get(codec, "payload_type"));
  tp.clock_rate = (uint32_t)json_integer_value(json_object_get(codec, "clock_rate"));
  size_t i;
  json_t *e;
  uint16_t used = 0;
  json_array_foreach(json_object_get(msg, "header_extensions"), i, e) {
    int id = (int)json_integer_value(json_object_get(e, "id"));
    const char *uri = json_string_value(json_object_get(e, "uri"));
    if (used & (1u << id))
      return VEIL_EINVAL; /* one id, one extension (RFC 8285 §5) */
    used |= (uint16_t)(1u << id);
    for (size_t k = 0; k < NEXT; k++)
      if (strcmp(uri, ext_uris[k].uri) == 0)
        *((uint8_t *)&tp.ext + ext_uris[k].off) = (uint8_t)id;
  }
  m_track_t *rec = calloc(1, sizeof *rec);
  if (!rec)
    return VEIL_ENOMEM;
  snprintf(rec->id, sizeof rec->id, "%s", track_id);
  int rc = sfu_track_publish(mp->p, &tp, &rec->t);
  if (rc) {
    free(rec);
    return rc;
  }
  rec->next = mp->tracks;
  mp->tracks = rec;
  *info = json_pack("{s:I}", "ssrc", (json_int_t)tp.ssrc);
  return 0;
}

static m_track_t **find_track(m_part_t *mp, const char *id) {
  for (m_track_t **pp = &mp->tracks; *pp; pp = &(*pp)->next)
    if (strcmp((*pp)->id, id) == 0)
      return pp;
  return NULL;
}

static int op_unpublish(void *ctx, void *handle, const char *track_id) {
  (void)ctx;
  m_part_t *mp = handle;
  m_track_t **pp = find_track(mp, track_id);
  if (!pp)
    return VEIL_ENOTFOUND;
  m_track_t *t = *pp;
  *pp = t->next;
  forget_subscriptions_to(mp->room, track_id);
  if (mp->p)
    sfu_track_unpublish(t->t);
  free(t);
  return 0;
}

static json_t *ext_json(const sfu_ext_ids_t *ext) {
  json_t *arr = json_array();
  for (size_t k = 0; k < NEXT && arr; k++) {
    uint8_t id = *((const uint8_t *)ext + ext_uris[k].off);
    if (id)
      json_array_append_new(arr, json_pack("{s:s,s:i}", "uri", ext_uris[k].uri, "id", id));
  }
  return arr;
}

static int op_subscribe(void *ctx, void *handle, void *publisher, const char *track_id, json_t **info) {
  (void)ctx;
  m_part_t *mp = handle, *pub = publisher;
  m_track_t **tp = pub ? find_track(pub, track_id) : NULL;
  if (!mp->p || !pub || !pub->p || !tp)
    return VEIL_ENOTFOUND;
  m_sub_t *rec = calloc(1, sizeof *rec);
  if (!rec)
    return VEIL_ENOMEM;
  snprintf(rec->track_id, sizeof rec->track_id, "%s", track_id);
  int rc = sfu_subscribe(mp->p, (*tp)->t, &rec->s);
  sfu_subscription_info_t si;
  if (!rc && (rc = sfu_subscription_info(rec->s, &si)))
    sfu_unsubscribe(rec->s);
  if (rc) {
    free(rec);
    return rc;
  }
  rec->next = mp->subs;
  mp->subs = rec;
  *info = json_pack("{s:I,s:i,s:I,s:s,s:o*}", "ssrc", (json_int_t)si.ssrc, "payload_type", (int)si.payload_type,
                    "clock_rate", (json_int_t)si.clock_rate, "kind", si.kind == SFU_MEDIA_AUDIO ? "audio" : "video",
                    "header_extensions", ext_json(&si.ext));
  return 0;
}

static int op_unsubscribe(void *ctx, void *handle, void *publisher, const char *track_id) {
  (void)ctx, (void)publisher;
  m_part_t *mp = handle;
  for (m_sub_t **pp = &mp->subs; *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->track_id, track_id) == 0) {
      m_sub_t *s = *pp;
      *pp = s->next;
      if (mp->p)
        sfu_unsubscribe(s->s);
      free(s);
      return 0;
    }
  }
  return VEIL_ENOTFOUND;
}

static const sig_media_ops_t ops = {
    .join = op_join,
    .leave = op_leave,
    .connect = op_connect,
    .publish = op_publish,
    .unpublish = op_unpublish,
    .subscribe = op_subscribe,
    .unsubscribe = op_unsubscribe,
};

const sig_media_ops_t *srv_media_ops(void) { return &ops; }

/* ---- lifecycle ---- */

int srv_media_new(uv_loop_t *loop, const srv_config_t *cfg, srv_media_t **out) {
  srv_media_t *m = calloc(1, sizeof *m);
  if (!m)
    return VEIL_ENOMEM;
  const char *announce[1] = {cfg->announce_ip};
  sfu_worker_config_t wc = {
      .bind_ip = cfg->udp_host,
      .port = cfg->udp_port ? cfg->udp_port : SFU_PORT_EPHEMERAL,
      .announced_ips = cfg->announce_ip[0] ? announce : NULL,
      .n_announced_ips = cfg->announce_ip[0] ? 1 : 0,
  };
  int rc = sfu_worker_init(loop, &wc, &m->w);
  if (rc) {
    free(m);
    return rc;
  }
  if ((rc = sfu_worker_start(m->w))) {
    srv_media_close(m, NULL, NULL);
    return rc;
  }
  *out = m;
  return 0;
}

void srv_media_set_hub(srv_media_t *m, sig_hub_t *hub) { m->hub = hub; }
uint16_t srv_media_port(const srv_media_t *m) { return sfu_worker_port(m->w); }

void srv_media_stats(const srv_media_t *m, srv_media_stats_t *out) {
  sfu_worker_stats_t ws;
  sfu_worker_stats(m->w, &ws);
  out->packets_in = ws.rx_packets;
  out->packets_out = ws.tx_packets;
  out->bytes_in = ws.rx_bytes;
  out->bytes_out = ws.tx_bytes;
  out->dtls_failures = m->dtls_failures;
  out->srtp_errors = m->srtp_errors_closed;
  for (m_room_t *r = m->rooms; r; r = r->next) {
    for (m_part_t *p = r->parts; p; p = p->next) {
      if (!p->p)
        continue;
      sfu_participant_stats_t st;
      sfu_participant_stats(p->p, &st);
      out->srtp_errors += st.srtp_errors;
    }
  }
}

static void worker_closed(void *arg) {
  srv_media_t *m = arg;
  void (*cb)(void *) = m->close_cb;
  void *cb_arg = m->close_arg;
  free(m);
  if (cb)
    cb(cb_arg);
}

void srv_media_close(srv_media_t *m, void (*cb)(void *), void *arg) {
  m->close_cb = cb;
  m->close_arg = arg;
  m->hub = NULL;
  /* The worker closes every SFU room itself; our room records only go. Participants
   * still joined (none after a clean shutdown) are freed by their on_closed. */
  while (m->rooms) {
    m_room_t *r = m->rooms;
    m->rooms = r->next;
    for (m_part_t *p = r->parts; p; p = p->next) {
      p->room = NULL;
      p->left = 1;
    }
    free(r);
  }
  sfu_worker_close(m->w, worker_closed, m);
}
