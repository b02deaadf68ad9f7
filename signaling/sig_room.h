/* veil — rooms and the lobby inside the signaling core (internal to signaling/). */
#ifndef VEIL_SIGNALING_SIG_ROOM_H
#define VEIL_SIGNALING_SIG_ROOM_H

#include "signaling/sig_internal.h"

/* After a verified token: enters the room (or its lobby). Changes nothing on failure. */
int sig_room_join(sig_hub_t *hub, sig_session_t *s, long long req_id, uint64_t now_ms);
/* A host's decision on a lobby entrant. */
int sig_room_decide(sig_hub_t *hub, sig_session_t *host, const char *participant_id, bool admit, uint64_t now_ms);
/* Leaves room or lobby (no-op otherwise), telling the others; frees an empty room. */
void sig_room_leave(sig_hub_t *hub, sig_session_t *s, const char *reason);
/* Finds an open room by name (NULL: none). */
sig_room_t *sig_room_find(sig_hub_t *hub, const char *name);
/* Finds a joined member of the room by participant id. */
sig_session_t *sig_room_member(sig_room_t *room, const char *participant_id);

/* sig_hub.c */
void sig_room_joined_latency(sig_hub_t *hub, sig_session_t *s, uint64_t now_ms);
void sig_session_reject(sig_hub_t *hub, sig_session_t *s);

#endif
