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
  SIG_AWAY,            /* member of the room whose connection is gone: waits for a resume */
} sig_state_t;
#define SIG_NSTATES 5

/* The resume token: 32 random bytes, unpadded base64url (43 characters). */
#define SIG_RESUME_RAW 32
#define SIG_RESUME_LEN 43

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
  json_t *transport;          /* owned: the media transport of `joined`, repeated on resume */
  char resume_token[SIG_RESUME_LEN + 1]; /* issued with `joined`; "" before */
  uint64_t away_since;        /* SIG_AWAY: when the connection closed */
  sig_session_t *away_next, *away_prev; /* SIG_AWAY: the hub's FIFO of held participants */
  bool spent;                 /* its connection now serves another session: free it */
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
  /* Held participants, oldest first: the grace is the same for all, so the head expires
   * first and the next deadline is O(1). Bounded by limits.max_reconnecting. */
  sig_session_t *away_head, *away_tail;
};

/* Outgoing messages (sig_hub.c). `obj` is consumed. */
void sig_send_json(sig_hub_t *hub, sig_session_t *s, json_t *obj);
json_t *sig_participant_json(const sig_session_t *s, bool with_tracks);
void sig_room_broadcast(sig_hub_t *hub, sig_room_t *room, const sig_session_t *except, json_t *obj);
void sig_note_error(sig_hub_t *hub, int code);
/* Asks the shell to close s's connection (no-op when closing already or held). */
void sig_request_close(sig_hub_t *hub, sig_session_t *s, int code, const char *reason);

/* Media messages (sig_media.c): return 0 or the error to report. */
int sig_on_connect(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
int sig_on_publish(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
int sig_on_unpublish(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
int sig_on_subscribe(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
int sig_on_unsubscribe(sig_hub_t *hub, sig_session_t *s, sig_msg_t *m);
/* Drops every track and subscription of s, telling the room (used on leave). */
void sig_media_release(sig_hub_t *hub, sig_session_t *s);

/* Resumption (sig_resume.c). */
bool sig_resume_enabled(const sig_hub_t *hub);
/* Issues a fresh resume token to s (0 or VEIL_ECRYPTO). */
int sig_resume_issue(sig_session_t *s);
/* s's connection closed without `leave`: holds it (true) or declines (false). */
bool sig_resume_hold(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms);
/* A verified `join` carrying `resume` (s->claims set): rebinds s's connection to the
 * held participant, or returns VEIL_ESIG_RESUME and changes nothing. */
int sig_resume_take(sig_hub_t *hub, sig_session_t *s, json_t *resume, long long req_id, uint64_t now_ms);
/* A fresh join of an identity whose old participant is held: that one leaves now. */
void sig_resume_evict_identity(sig_hub_t *hub, sig_room_t *room, const char *sub);
/* Takes s off the held list if it is there (before it is freed). */
void sig_resume_forget(sig_hub_t *hub, sig_session_t *s);
/* Ends held participants whose grace ran out by now_ms; the earliest end (UINT64_MAX). */
void sig_resume_expire(sig_hub_t *hub, uint64_t now_ms);
uint64_t sig_resume_next_deadline(const sig_hub_t *hub);
/* The `joined` message for s (sig_room.c); `resumed` marks the answer to a resume. */
json_t *sig_joined_json(const sig_hub_t *hub, const sig_session_t *s, long long req_id, bool resumed);

/* MLS relay glue (sig_relay.c). */
int sig_relay_joined(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms);
void sig_relay_left(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms);
/* The participant's connection is gone (DISCONNECTED) / back with its MLS epoch or
 * RELAY_NO_STATE (CONNECTED): the relay keeps its place, replays or asks it to rejoin. */
void sig_relay_away(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms);
void sig_relay_back(sig_hub_t *hub, sig_session_t *s, uint64_t epoch, uint64_t now_ms);
void sig_relay_free(sig_hub_t *hub, sig_room_t *room);

#endif
