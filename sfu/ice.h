/*
 * veil sfu — ICE-lite responder (RFC 8445 §2.5, §7.3) as a sans-I/O core, with consent
 * freshness (RFC 7675).
 *
 * One sfu_ice_t per transport. It holds the local ufrag/password (generated here or given)
 * and the remote ufrag learnt through signaling. The transport shell feeds it every STUN
 * datagram with the source address and `now`; the core answers with bytes to send back to
 * that address (or nothing) and events (pair selected / switched). Time only enters as
 * `now` arguments, so tests are deterministic.
 *
 * Security contract: only a Binding request whose USERNAME is exactly
 * "<local ufrag>:<remote ufrag>", carrying a MESSAGE-INTEGRITY valid under the local
 * password (and a valid FINGERPRINT if one is present), gets any answer, refreshes consent
 * or can select or switch the pair. Anything else is dropped silently: no reply (not even
 * 400/401, so the SFU is neither an oracle nor a reflector for spoofed sources), no state,
 * no path switch. The return code says why, for counters.
 *
 * Roles: a lite agent is always controlled (RFC 8445 §6.1.1). A request carrying
 * ICE-CONTROLLED (the peer thinks it is controlled as well) gets 487 Role Conflict
 * (§7.3.1.1; a lite agent cannot switch to controlling). An authenticated request with
 * neither role attribute gets 400 (§7.2.2 requires one). Unknown comprehension-required
 * attributes in an authenticated request get 420 (RFC 8489 §6.3.1).
 *
 * Nomination: a valid request with USE-CANDIDATE selects the pair formed by its source
 * address (§7.3.1.5, §8.2); a later one from another address switches to it (the peer's
 * ICE renominated, e.g. after a network change). Consent: every valid request from the
 * selected address refreshes it; when no such request arrived for `consent_timeout_ms`
 * (default 30 s, RFC 7675 §5.1) the next sfu_ice_on_timeout reports SFU_ICE_EV_EXPIRED and
 * the agent enters SFU_ICE_EXPIRED for good (a new session needs an ICE restart, i.e. a new
 * sfu_ice_t with fresh credentials).
 */
#ifndef VEIL_SFU_ICE_H
#define VEIL_SFU_ICE_H

#include <stddef.h>
#include <stdint.h>

#include "sfu/stun.h"

/* RFC 8445 §5.3: ufrag >= 4 characters, password >= 22 (24 bits / 128 bits of randomness
 * with the 64-character ice-char set of RFC 8839 §5.4). We use 8 and 24 characters. */
#define SFU_ICE_UFRAG_LEN 8
#define SFU_ICE_PWD_LEN 24
#define SFU_ICE_UFRAG_MIN 4
#define SFU_ICE_PWD_MIN 22
/* RFC 8839 §5.4 caps ice-ufrag/ice-pwd at 256 characters. */
#define SFU_ICE_CRED_MAX 256
#define SFU_ICE_DEFAULT_CONSENT_MS 30000u
/* A response never exceeds this (XOR-MAPPED-ADDRESS v6 + MI + FINGERPRINT, or an error
 * with reason and UNKNOWN-ATTRIBUTES). */
#define SFU_ICE_MAX_RESPONSE 256
#define SFU_ICE_NO_DEADLINE UINT64_MAX

typedef struct sfu_ice sfu_ice_t;

typedef enum sfu_ice_state {
  SFU_ICE_WAITING = 0, /* no pair selected yet */
  SFU_ICE_SELECTED,    /* a pair is selected and consent is fresh */
  SFU_ICE_EXPIRED,     /* consent expired; terminal */
} sfu_ice_state_t;

typedef struct sfu_ice_config {
  const char *local_ufrag;    /* NULL: generated (SFU_ICE_UFRAG_LEN chars) */
  const char *local_pwd;      /* NULL: generated (SFU_ICE_PWD_LEN chars) */
  const char *remote_ufrag;   /* NULL: set later with sfu_ice_set_remote_ufrag */
  uint64_t consent_timeout_ms;/* 0: SFU_ICE_DEFAULT_CONSENT_MS */
} sfu_ice_config_t;

/* Creates an agent; copies every string. VEIL_EINVAL for a ufrag/password that is too
 * short, too long or has characters outside ice-char; VEIL_ECRYPTO if RAND_bytes fails.
 * The caller owns *out and frees it with sfu_ice_free. */
int sfu_ice_new(const sfu_ice_config_t *cfg, sfu_ice_t **out);
/* Frees the agent and wipes the password. NULL is allowed. */
void sfu_ice_free(sfu_ice_t *ice);

/* Sets (or replaces) the remote ufrag from signaling (1..SFU_ICE_CRED_MAX ice-chars). */
int sfu_ice_set_remote_ufrag(sfu_ice_t *ice, const char *ufrag);
/* Borrowed NUL-terminated strings, valid until sfu_ice_free. */
const char *sfu_ice_local_ufrag(const sfu_ice_t *ice);
const char *sfu_ice_local_pwd(const sfu_ice_t *ice);

sfu_ice_state_t sfu_ice_state(const sfu_ice_t *ice);
/* The selected remote address; VEIL_ENOTFOUND when none is selected. */
int sfu_ice_selected(const sfu_ice_t *ice, sfu_stun_addr_t *out);

/* What handling one datagram or one timeout produced. */
enum {
  SFU_ICE_EV_SELECTED = 1u << 0, /* first pair selected (from the request's source) */
  SFU_ICE_EV_SWITCHED = 1u << 1, /* selected pair moved to the request's source */
  SFU_ICE_EV_EXPIRED = 1u << 2,  /* consent expired (timeout only) */
};
typedef struct sfu_ice_result {
  size_t response_len; /* > 0: send out[0..response_len) back to `from` */
  uint32_t events;     /* SFU_ICE_EV_* */
} sfu_ice_result_t;

/* Handles one STUN datagram received from `from` at `now_ms`. On 0, `res` says what to
 * send and what changed; `out` (>= SFU_ICE_MAX_RESPONSE bytes) receives the response.
 * A negative return means the datagram was dropped with nothing sent and no state
 * changed: VEIL_ESTUN_* (malformed, bad integrity or fingerprint), VEIL_EICE_NOTREQUEST
 * (not a Binding request: responses and indications are not ours to handle),
 * VEIL_EICE_USERNAME, VEIL_EICE_NOREMOTE, VEIL_EOVERFLOW (out too small), or
 * VEIL_EICE_EXPIRED (consent expired, or its deadline has passed: the state change and
 * SFU_ICE_EV_EXPIRED then come from sfu_ice_on_timeout, whose deadline is due). On a
 * negative return res is all zero. */
int sfu_ice_handle_stun(sfu_ice_t *ice, const uint8_t *pkt, size_t len,
                        const sfu_stun_addr_t *from, uint64_t now_ms, uint8_t *out,
                        size_t out_cap, sfu_ice_result_t *res);

/* The next time sfu_ice_on_timeout must be called (consent deadline of the selected
 * pair), or SFU_ICE_NO_DEADLINE. */
uint64_t sfu_ice_next_deadline(const sfu_ice_t *ice);
/* Advances time: reports SFU_ICE_EV_EXPIRED in res->events once consent has expired. */
int sfu_ice_on_timeout(sfu_ice_t *ice, uint64_t now_ms, sfu_ice_result_t *res);

/* ---------------------------------------------------------------------------------------
 * Credentials and candidates
 */
/* Writes `n` random ice-chars (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/") and a NUL into
 * buf (cap >= n + 1), from RAND_bytes. VEIL_ECRYPTO on failure. */
int sfu_ice_random_string(char *buf, size_t cap, size_t n);

/* A host candidate of the SFU (RFC 8445 §5.1.1.1, §5.1.2). */
typedef struct sfu_ice_candidate {
  char foundation[33];   /* 1..32 ice-chars */
  uint32_t priority;
  uint16_t component;    /* always 1 (rtcp-mux) */
  sfu_stun_addr_t addr;
} sfu_ice_candidate_t;

/* RFC 8445 §5.1.2.1: (2^24)*type_pref + (2^8)*local_pref + (256 - component). */
uint32_t sfu_ice_priority(uint8_t type_pref, uint16_t local_pref, uint16_t component);
/* Fills a UDP host candidate (type preference 126); the foundation is derived from the
 * address family and `local_index` so distinct local addresses get distinct foundations. */
int sfu_ice_host_candidate(sfu_ice_candidate_t *c, const sfu_stun_addr_t *addr,
                           uint16_t local_index);
/* Formats "candidate:<foundation> 1 udp <priority> <ip> <port> typ host" (RFC 8839 §5.1)
 * into buf; VEIL_EOVERFLOW when it does not fit. */
int sfu_ice_candidate_format(const sfu_ice_candidate_t *c, char *buf, size_t cap);

#endif
