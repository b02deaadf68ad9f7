/*
 * sfu/sfu_int.h — private structures of the object model behind sfu.h, shared by
 * worker.c (worker, rooms, demux tables, close cascade), participant.c (transport: ICE,
 * DTLS, SRTP, timer) and router.c (tracks, subscriptions, forwarding, RTCP).
 * Not installed, not included outside sfu/ (tests included).
 *
 * Ownership is written per member: owned (freed by the holder), borrowed (someone else
 * frees it and outlives us), link (intrusive list membership, no ownership).
 */
#ifndef VEIL_SFU_SFU_INT_H
#define VEIL_SFU_SFU_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sfu/dtls.h"
#include "sfu/ice.h"
#include "sfu/pool.h"
#include "sfu/rewrite.h"
#include "sfu/sfu.h"
#include "sfu/srtp.h"
#include "sfu/stun.h"
#include "sfu/udp.h"

/* ---- intrusive doubly linked list (subscribe/unsubscribe never allocate on the path) -- */
typedef struct sfu_link {
  struct sfu_link *prev, *next;
} sfu_link_t;

static inline void sfu_link_init(sfu_link_t *h) { h->prev = h->next = h; }
static inline int sfu_link_empty(const sfu_link_t *h) { return h->next == h; }
static inline void sfu_link_insert_tail(sfu_link_t *h, sfu_link_t *n) {
  n->prev = h->prev;
  n->next = h;
  h->prev->next = n;
  h->prev = n;
}
static inline void sfu_link_remove(sfu_link_t *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = n;
}
#define SFU_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- open-addressing table of participants (by remote address, by local ufrag) -------
 * Linear probing with backward-shift deletion (no tombstones), fixed capacity: the worker
 * caps its participants at SFU_MAX_PARTICIPANTS_PER_WORKER, the table has twice as many
 * slots, so a lookup is O(1) expected on the packet path. */
#define SFU_MAX_PARTICIPANTS_PER_WORKER 4096
#define SFU_PTABLE_SLOTS (2 * SFU_MAX_PARTICIPANTS_PER_WORKER)
/* Distinct RTCP sender SSRCs a participant may use (its own tracks, RTX, a receiver-only
 * SSRC, room to spare). */
#define SFU_MAX_RTCP_SSRCS 16

typedef struct sfu_ptable {
  struct {
    uint64_t hash;
    sfu_participant_t *p; /* borrowed; NULL = empty */
  } slot[SFU_PTABLE_SLOTS];
} sfu_ptable_t;

/* ---- objects -------------------------------------------------------------------------- */

struct sfu_worker {
  uv_loop_t *loop;          /* borrowed */
  sfu_udp_t *udp;           /* owned (closed last) */
  sfu_pool_t *pool;         /* owned (freed after the socket's close callback) */
  sfu_dtls_ctx_t *dtls;     /* owned: certificate shared by every participant */
  uint32_t dtls_timeout_ms, stats_interval_ms, keyframe_min_ms, consent_timeout_ms;
  char announced[SFU_MAX_CANDIDATES][48];
  size_t n_announced;
  uint32_t rtcp_ssrc;       /* sender SSRC of RTCP the SFU originates (RR, PLI) */
  sfu_link_t rooms;         /* of sfu_room_t.link */
  uint32_t n_participants;
  uint32_t open_timers;     /* participant timers not yet closed */
  sfu_ptable_t by_addr;     /* selected ICE address → participant */
  sfu_ptable_t by_ufrag;    /* local ICE ufrag → participant (first contact) */
  sfu_worker_stats_t stats; /* rx/tx come from udp; router counters here */
  int closing;
  sfu_worker_close_cb close_cb;
  void *close_arg;
};

struct sfu_room {
  sfu_link_t link;          /* link in worker->rooms */
  sfu_worker_t *worker;     /* borrowed */
  char id[SFU_ID_MAX + 1];
  sfu_link_t participants;  /* of sfu_participant_t.room_link */
};

struct sfu_participant {
  sfu_link_t room_link;     /* link in room->participants */
  sfu_room_t *room;         /* borrowed; NULL once closing */
  sfu_worker_t *worker;     /* borrowed */
  char id[SFU_ID_MAX + 1];
  sfu_listener_t listener;  /* copied */
  sfu_transport_state_t state;
  int closing;
  sfu_ice_t *ice;           /* owned */
  sfu_dtls_t *dtls;         /* owned */
  sfu_srtp_t *srtp_in;      /* owned; set when CONNECTED */
  sfu_srtp_t *srtp_out;     /* owned; set when CONNECTED */
  int have_remote;          /* remote ufrag and fingerprint set */
  int have_addr;            /* in worker->by_addr under addr_key */
  sfu_stun_addr_t addr_key;
  struct sockaddr_storage addr; /* selected remote address (plain v4 or v6) */
  uv_timer_t timer;         /* DTLS retransmission, ICE consent, RR and stats; data = this */
  uint64_t next_rr_ms, next_stats_ms;
  sfu_track_t *tracks[SFU_MAX_TRACKS_PER_PARTICIPANT]; /* owned: published tracks */
  unsigned n_tracks;
  sfu_link_t subs;          /* of sfu_subscription_t.sub_link: what it receives */
  unsigned n_subs;
  unsigned tracks_ever, subs_ever; /* lifetime counts, capped (sfu.h) */
  sfu_participant_stats_t stats;
  /* RTCP sender SSRCs accepted so far (see admit_ssrc in worker.c). */
  uint32_t rtcp_ssrcs[SFU_MAX_RTCP_SSRCS];
  unsigned n_rtcp_ssrcs;
};

/* Receive statistics of a published track, for the RRs the SFU sends (RFC 3550 A.3, A.8). */
typedef struct sfu_rx_stats {
  int started;
  uint16_t max_seq;
  uint32_t cycles;          /* count of sequence number wraps, << 16 */
  uint32_t base_seq;
  uint32_t received;
  uint32_t expected_prior, received_prior;
  uint32_t jitter_q4;       /* interarrival jitter in clock units, scaled by 16 */
  int have_transit;
  int64_t transit;
  uint32_t last_sr_mid;     /* middle 32 bits of the last SR's NTP timestamp */
  uint64_t last_sr_ms;      /* when it arrived (0: never) */
} sfu_rx_stats_t;

struct sfu_track {
  sfu_participant_t *publisher; /* borrowed (the publisher owns the track) */
  char id[SFU_ID_MAX + 1];
  sfu_media_kind_t kind;
  uint32_t ssrc, rtx_ssrc, clock_rate;
  uint8_t payload_type;
  sfu_ext_ids_t ext;
  sfu_link_t subs;          /* of sfu_subscription_t.track_link: who receives it */
  uint64_t last_pli_ms;     /* rate limit of keyframe requests to the publisher */
  int pli_sent;
  int kf_event_pending;      /* on_keyframe_needed to emit from the publisher's timer */
  sfu_rx_stats_t rx;
  /* Last SR of the publisher, translated for each subscription on arrival. */
};

struct sfu_subscription {
  sfu_participant_t *subscriber; /* borrowed (the subscriber owns the subscription) */
  sfu_track_t *track;       /* borrowed: current source */
  sfu_link_t track_link;    /* link in track->subs */
  sfu_link_t sub_link;      /* link in subscriber->subs */
  uint32_t out_ssrc;        /* SSRC the subscriber sees */
  sfu_rewrite_t rw;
  int paused;
  uint32_t packets_sent, octets_sent; /* for the translated SR's sender info */
};

/* ---- cross-file internals ------------------------------------------------------------ */
/* worker.c */
void sfu_ptable_init(sfu_ptable_t *t);
int sfu_ptable_put(sfu_ptable_t *t, uint64_t hash, sfu_participant_t *p);
void sfu_ptable_del(sfu_ptable_t *t, uint64_t hash, const sfu_participant_t *p);
uint64_t sfu_hash_addr(const sfu_stun_addr_t *a);
uint64_t sfu_hash_str(const char *s, size_t n);
/* Queues a copy of `data` to the participant's selected address (control path). */
int sfu_worker_send_copy(sfu_worker_t *w, const struct sockaddr *to, const uint8_t *data,
                         size_t len);
void sfu_worker_participant_timer_closed(sfu_worker_t *w);

/* participant.c */
void sfu_participant_on_stun(sfu_participant_t *p, sfu_pkt_t *pkt, const struct sockaddr *from,
                             const sfu_stun_addr_t *from_key, uint64_t now_ms);
void sfu_participant_on_dtls(sfu_participant_t *p, sfu_pkt_t *pkt, uint64_t now_ms);
void sfu_participant_set_state(sfu_participant_t *p, sfu_transport_state_t st, int err);
/* Protects an RTCP packet in `pkt` (pool buffer, ownership passes) and sends it to p. */
void sfu_participant_send_rtcp(sfu_participant_t *p, sfu_pkt_t *pkt);
void sfu_participant_rearm(sfu_participant_t *p);

/* router.c */
void sfu_router_on_rtp(sfu_participant_t *pub, sfu_pkt_t *pkt, uint64_t now_ms);
void sfu_router_on_rtcp(sfu_participant_t *from, sfu_pkt_t *pkt, uint64_t now_ms);
/* Builds and sends receiver reports for p's published tracks. */
void sfu_router_send_rr(sfu_participant_t *p, uint64_t now_ms);
/* Removes every track and subscription of a closing participant. */
void sfu_router_detach(sfu_participant_t *p);
/* Sends a PLI for `t` to its publisher unless one went out less than the limit ago. */
void sfu_router_request_keyframe(sfu_track_t *t, uint64_t now_ms, int from_subscriber);

#endif
