/* veil — signaling core internals shared by sig_hub.c, sig_room.c and sig_media.c. */
#ifndef VEIL_SIGNALING_SIG_INTERNAL_H
#define VEIL_SIGNALING_SIG_INTERNAL_H

#include "signaling/sig_hub.h"
#include "mls-relay/relay.h"
#include "signaling/sig_msg.h"

#define SIG_ID_MAX 32

typedef enum sig_state {
  SIG_EXPECT_JOIN = 0, /* connected; only join, ping, leave are legal */
  SIG_IN_LOBBY,        /* token verified; waiting for a host's admission */
  SIG_JOINED,          /* member of the room */
  SIG_CLOSING,         /* close requested; every further message is refused */
} sig_state_t;

typedef struct sig_room sig_room_t;

typedef struct sig_track {
  char id[SIG_ID_MAX + 1];
  char kind[8];
  char source[16];
  struct sig_track *next; /* owned list of the publisher */
} sig_track_t;

typedef struct sig_sub {
  char track_id[SIG_ID_MAX + 1];
  sig_session_t *publisher; /* borrowed; the entry is removed before the publisher goes */
  struct sig_sub *next;     /* owned list of the subscriber */
} sig_sub_t;

struct sig_session {
  sig_hub_t *hub;  /* borrowed */
  void *user;      /* borrowed: the shell's connection */
  sig_state_t state;
  char id[SIG_ID_MAX + 1];
  uint64_t member_id;         /* the relay's member id: the number in `id` */
  sig_claims_t claims;
  char display_name[SIG_NAME_MAX + 1];
  json_t *caps;               /* owned: the validated `capabilities` of join, or NULL */
  sig_room_t *room;           /* borrowed; set in lobby and joined states */
  sig_session_t *room_next;   /* intrusive list: room members or room lobby */
  sig_session_t *all_next, *all_prev; /* intrusive list of every session of the hub */
  sig_track_t *tracks;        /* owned */
  uint32_t ntracks;
  sig_sub_t *subs;            /* owned */
  uint32_t nsubs;
  void *media;                /* the media plane's participant; owned by it */
  double tokens;              /* rate limiter (token bucket) */
  uint64_t rate_last_ms;
  uint64_t opened_ms;         /* connection time: join timeout and join latency */
};

struct sig_room {
  char name[SIG_ROOM_MAX + 1];
  sig_session_t *members; /* borrowed sessions, intrusive via room_next */
  uint32_t nmembers;
  sig_session_t *lobby;
  uint32_t nlobby;
  relay_room_t *relay;     /* owned; created with the first member */
  uint64_t relay_deadline; /* RELAY_NEVER or when to feed a tick */
  sig_room_t *next; /* hub's list */
};

struct sig_hub {
  sig_hub_config_t cfg;
  sig_room_t *rooms; /* owned */
  sig_session_t *sessions; /* owned */
  uint64_t next_id;
  bool draining;
  uint32_t drain_deadline_ms;
  sig_stats_t stats;
  relay_actions_t relay_acts; /* owned, reused for every relay call */
  uint64_t relay_clock;       /* last `now` given to any relay (non-decreasing) */
  sig_relay_totals_t relay_closed; /* counters of relay rooms already freed */
};

/* Outgoing messages (sig_hub.c). `obj` is consumed. */
void sig_send_json(sig_hub_t *hub, sig_session_t *s, json_t *obj);
json_t *sig_participant_json(const sig_session_t *s, bool with_tracks);
void sig_room_broadcast(sig_hub_t *hub, sig_room_t *room, const sig_session_t *except, json_t *obj);
void sig_note_error(sig_hub_t *hub, int code);

/* Media messages (sig_media.c): return 0 or the error to report. */
int sig_on_connect(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
int sig_on_publish(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
int sig_on_unpublish(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
int sig_on_subscribe(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
int sig_on_unsubscribe(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
/* Drops every track and subscription of s, telling the room (used on leave). */
void sig_media_release(sig_hub_t *hub, sig_session_t *s);

/* MLS relay glue (sig_relay.c). */
int sig_relay_joined(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms);
void sig_relay_left(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms);
void sig_relay_free(sig_hub_t *hub, sig_room_t *room);

#endif
