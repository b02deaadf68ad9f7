/*
 * sfu/participant — one client's transport: ICE-lite (sfu/ice), DTLS (sfu/dtls), SRTP
 * (sfu/srtp), its timer, and the participant half of the sfu.h API.
 *
 * State machine (sfu_transport_state_t, one enum, STYLE 8):
 *   NEW --ICE pair selected--> CONNECTING --DTLS done, SRTP keyed--> CONNECTED
 *   CONNECTING --DTLS alert/timeout--> FAILED;  CONNECTED --close_notify--> CLOSED
 *   any --ICE consent expired--> FAILED;        any --sfu_participant_close--> CLOSED
 * Every listener callback may close the participant: after each one the caller re-checks
 * `closing` and stops touching it (libuv's rule for user callbacks).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/err.h"
#include "common/log.h"
#include "sfu/sfu_int.h"

static void on_timer(uv_timer_t *t);

/* ---- state and events ------------------------------------------------------------------ */

void sfu_participant_set_state(sfu_participant_t *p, sfu_transport_state_t st, int err) {
  if (p->state == st) return;
  p->state = st;
  veil_log(VEIL_LOG_INFO, "sfu", "transport_state", "room=%s participant=%s state=%d err=%d",
           p->room ? p->room->id : "-", p->id, (int)st, err);
  if (p->listener.on_transport_state) p->listener.on_transport_state(p->listener.arg, p, st, err);
}

static void flush_dtls(sfu_participant_t *p) {
  sfu_worker_t *w = p->worker;
  for (;;) {
    sfu_pkt_t *pkt = sfu_pool_get(w->pool);
    if (!pkt) return;
    long n = sfu_dtls_pop_datagram(p->dtls, pkt->data, SFU_PKT_CAP);
    if (n <= 0 || !p->have_addr) {
      sfu_pool_put(w->pool, pkt);
      if (n <= 0) return;
      continue;
    }
    pkt->len = (uint32_t)n;
    sfu_udp_send(w->udp, pkt, (struct sockaddr *)&p->addr);
  }
}

static int key_srtp(sfu_participant_t *p) {
  sfu_dtls_srtp_keys_t k;
  int rc = sfu_dtls_srtp_keys(p->dtls, &k);
  if (rc) return rc;
  veil_log(VEIL_LOG_INFO, "sfu", "dtls_connected", "participant=%s srtp_profile=%s", p->id,
           sfu_srtp_profile_name(k.profile));
  rc = sfu_srtp_new(k.profile, SFU_SRTP_INBOUND, k.remote_key, k.key_len, k.remote_salt,
                    k.salt_len, &p->srtp_in);
  if (rc == 0)
    rc = sfu_srtp_new(k.profile, SFU_SRTP_OUTBOUND, k.local_key, k.key_len, k.local_salt,
                      k.salt_len, &p->srtp_out);
  OPENSSL_cleanse(&k, sizeof k);
  return rc;
}

/* Reacts to the DTLS state after any input or timer. */
static void after_dtls(sfu_participant_t *p) {
  flush_dtls(p);
  sfu_dtls_state_t ds = sfu_dtls_state(p->dtls);
  if (ds == SFU_DTLS_CONNECTED && p->state == SFU_TRANSPORT_CONNECTING) {
    int rc = key_srtp(p);
    if (rc) {
      sfu_participant_set_state(p, SFU_TRANSPORT_FAILED, rc);
      return;
    }
    p->next_rr_ms = uv_now(p->worker->loop) + 1000;
    sfu_participant_set_state(p, SFU_TRANSPORT_CONNECTED, 0);
  } else if (ds == SFU_DTLS_FAILED && p->state != SFU_TRANSPORT_FAILED) {
    sfu_participant_set_state(p, SFU_TRANSPORT_FAILED, sfu_dtls_error(p->dtls));
  } else if (ds == SFU_DTLS_CLOSED && p->state == SFU_TRANSPORT_CONNECTED) {
    sfu_participant_set_state(p, SFU_TRANSPORT_CLOSED, 0);
  }
}

/* ---- input ----------------------------------------------------------------------------- */

void sfu_participant_on_stun(sfu_participant_t *p, sfu_pkt_t *pkt, const struct sockaddr *from,
                             const sfu_stun_addr_t *from_key, uint64_t now_ms) {
  sfu_worker_t *w = p->worker;
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  int rc = sfu_ice_handle_stun(p->ice, pkt->data, pkt->len, from_key, now_ms, out, sizeof out,
                               &res);
  sfu_pool_put(w->pool, pkt);
  if (rc) {
    w->stats.rx_dropped++;
    return;
  }
  if (res.response_len) sfu_worker_send_copy(w, from, out, res.response_len);
  if (res.events & (SFU_ICE_EV_SELECTED | SFU_ICE_EV_SWITCHED)) {
    /* The authenticated source becomes the one address media is accepted from and sent
     * to (RFC 8445 §7.3.1.5, §8.2); the old one leaves the table. */
    if (p->have_addr) sfu_ptable_del(&w->by_addr, sfu_hash_addr(&p->addr_key), p);
    p->addr_key = *from_key;
    memset(&p->addr, 0, sizeof p->addr);
    memcpy(&p->addr, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                       : sizeof(struct sockaddr_in));
    p->have_addr = sfu_ptable_put(&w->by_addr, sfu_hash_addr(from_key), p) == 0;
    if (p->state == SFU_TRANSPORT_NEW) {
      sfu_dtls_start(p->dtls, now_ms);
      sfu_participant_set_state(p, SFU_TRANSPORT_CONNECTING, 0);
      if (p->closing) return;
    }
  }
  sfu_participant_rearm(p);
}

void sfu_participant_on_dtls(sfu_participant_t *p, sfu_pkt_t *pkt, uint64_t now_ms) {
  sfu_worker_t *w = p->worker;
  if (p->state != SFU_TRANSPORT_CONNECTING && p->state != SFU_TRANSPORT_CONNECTED) {
    w->stats.rx_dropped++;
    sfu_pool_put(w->pool, pkt);
    return;
  }
  sfu_dtls_handle_datagram(p->dtls, pkt->data, pkt->len, now_ms);
  sfu_pool_put(w->pool, pkt);
  after_dtls(p);
  if (p->closing) return;
  sfu_participant_rearm(p);
}

void sfu_participant_send_rtcp(sfu_participant_t *p, sfu_pkt_t *pkt) {
  sfu_worker_t *w = p->worker;
  size_t len = pkt->len;
  if (p->state != SFU_TRANSPORT_CONNECTED || p->closing ||
      sfu_srtp_protect_rtcp(p->srtp_out, pkt->data, &len, SFU_PKT_CAP) != 0) {
    w->stats.tx_dropped++;
    sfu_pool_put(w->pool, pkt);
    return;
  }
  pkt->len = (uint32_t)len;
  p->stats.rtcp_out++;
  sfu_udp_send(w->udp, pkt, (struct sockaddr *)&p->addr);
}

/* ---- timer ----------------------------------------------------------------------------- */

static int has_pending_keyframe_event(const sfu_participant_t *p);

void sfu_participant_rearm(sfu_participant_t *p) {
  if (p->closing) return;
  uint64_t now = uv_now(p->worker->loop);
  uint64_t t = UINT64_MAX;
  if (p->state == SFU_TRANSPORT_CONNECTING) {
    uint64_t d = sfu_dtls_next_timeout(p->dtls, now);
    if (d < t) t = d;
  }
  uint64_t ice = sfu_ice_next_deadline(p->ice);
  if (ice < t) t = ice;
  if (p->state == SFU_TRANSPORT_CONNECTED && p->n_tracks > 0 && p->next_rr_ms < t)
    t = p->next_rr_ms;
  if (p->worker->stats_interval_ms && p->next_stats_ms < t) t = p->next_stats_ms;
  if (has_pending_keyframe_event(p)) t = now;
  if (t == UINT64_MAX) {
    uv_timer_stop(&p->timer);
    return;
  }
  uv_timer_start(&p->timer, on_timer, t > now ? t - now : 0, 0);
}

static int has_pending_keyframe_event(const sfu_participant_t *p) {
  for (unsigned i = 0; i < p->n_tracks; i++)
    if (p->tracks[i]->kf_event_pending) return 1;
  return 0;
}

static void on_timer(uv_timer_t *h) {
  sfu_participant_t *p = h->data;
  uint64_t now = uv_now(p->worker->loop);
  if (p->closing) return;
  if (p->state == SFU_TRANSPORT_CONNECTING) {
    sfu_dtls_handle_timeout(p->dtls, now);
    after_dtls(p);
    if (p->closing) return;
  }
  if (sfu_ice_next_deadline(p->ice) <= now) {
    sfu_ice_result_t res;
    if (sfu_ice_on_timeout(p->ice, now, &res) == 0 && (res.events & SFU_ICE_EV_EXPIRED) &&
        p->state != SFU_TRANSPORT_FAILED && p->state != SFU_TRANSPORT_CLOSED) {
      sfu_participant_set_state(p, SFU_TRANSPORT_FAILED, VEIL_EICE_EXPIRED);
      if (p->closing) return;
    }
  }
  if (p->state == SFU_TRANSPORT_CONNECTED && p->n_tracks > 0 && p->next_rr_ms <= now) {
    sfu_router_send_rr(p, now);
    p->next_rr_ms = now + 1000; /* RFC 3550 §6.2 allows far more; 1 s is WebRTC's habit */
  }
  /* Keyframe events deferred from the RTCP path (a callback there could free objects the
   * compound walk still uses). Tracks belong to this participant, so this is safe. */
  for (unsigned i = 0; i < p->n_tracks && !p->closing; i++) {
    sfu_track_t *t = p->tracks[i];
    if (!t->kf_event_pending) continue;
    t->kf_event_pending = 0;
    if (p->listener.on_keyframe_needed) p->listener.on_keyframe_needed(p->listener.arg, p, t);
  }
  if (p->closing) return;
  if (p->worker->stats_interval_ms && p->next_stats_ms <= now) {
    p->next_stats_ms = now + p->worker->stats_interval_ms;
    if (p->listener.on_stats) p->listener.on_stats(p->listener.arg, p, &p->stats);
    if (p->closing) return;
  }
  sfu_participant_rearm(p);
}

/* ---- API ------------------------------------------------------------------------------- */

sfu_participant_t *sfu_participant_find(sfu_room_t *r, const char *participant_id) {
  if (!participant_id) return NULL;
  for (sfu_link_t *l = r->participants.next; l != &r->participants; l = l->next) {
    sfu_participant_t *p = SFU_CONTAINER_OF(l, sfu_participant_t, room_link);
    if (!strcmp(p->id, participant_id)) return p;
  }
  return NULL;
}

int sfu_participant_create(sfu_room_t *r, const char *participant_id,
                           const sfu_listener_t *listener, sfu_participant_t **out) {
  *out = NULL;
  sfu_worker_t *w = r->worker;
  if (w->closing) return VEIL_ESFU_CLOSED;
  size_t idlen = participant_id ? strlen(participant_id) : 0;
  if (idlen == 0 || idlen > SFU_ID_MAX) return VEIL_EINVAL;
  if (sfu_participant_find(r, participant_id)) return VEIL_EEXIST;
  if (w->n_participants >= SFU_MAX_PARTICIPANTS_PER_WORKER) return VEIL_ESFU_LIMIT;
  sfu_participant_t *p = calloc(1, sizeof *p);
  if (!p) return VEIL_ENOMEM;
  memcpy(p->id, participant_id, idlen + 1);
  p->room = r;
  p->worker = w;
  if (listener) p->listener = *listener;
  sfu_link_init(&p->subs);
  sfu_ice_config_t ic = {.consent_timeout_ms = w->consent_timeout_ms};
  int rc = sfu_ice_new(&ic, &p->ice);
  if (rc) goto fail;
  sfu_dtls_config_t dc = {.role = SFU_DTLS_ROLE_SERVER, .handshake_timeout_ms = w->dtls_timeout_ms};
  rc = sfu_dtls_new(w->dtls, &dc, &p->dtls);
  if (rc) goto fail;
  const char *uf = sfu_ice_local_ufrag(p->ice);
  rc = sfu_ptable_put(&w->by_ufrag, sfu_hash_str(uf, strlen(uf)), p);
  if (rc) goto fail;
  uv_timer_init(w->loop, &p->timer);
  p->timer.data = p;
  w->open_timers++;
  w->n_participants++;
  p->next_stats_ms = uv_now(w->loop) + w->stats_interval_ms;
  sfu_link_insert_tail(&r->participants, &p->room_link);
  *out = p;
  sfu_participant_rearm(p);
  return 0;
fail:
  sfu_dtls_free(p->dtls);
  sfu_ice_free(p->ice);
  free(p);
  return rc;
}

static void on_timer_closed(uv_handle_t *h) {
  sfu_participant_t *p = h->data;
  sfu_worker_t *w = p->worker;
  if (p->listener.on_closed) p->listener.on_closed(p->listener.arg, p);
  sfu_srtp_free(p->srtp_in);
  sfu_srtp_free(p->srtp_out);
  sfu_dtls_free(p->dtls);
  sfu_ice_free(p->ice);
  free(p);
  sfu_worker_participant_timer_closed(w);
}

void sfu_participant_close(sfu_participant_t *p) {
  if (p->closing) return;
  sfu_worker_t *w = p->worker;
  if (p->state == SFU_TRANSPORT_CONNECTED) {
    sfu_dtls_close(p->dtls); /* close_notify, RFC 5246 §7.2.1 */
    flush_dtls(p);
  }
  sfu_router_detach(p);
  p->closing = 1;
  p->state = SFU_TRANSPORT_CLOSED;
  if (p->have_addr) sfu_ptable_del(&w->by_addr, sfu_hash_addr(&p->addr_key), p);
  p->have_addr = 0;
  const char *uf = sfu_ice_local_ufrag(p->ice);
  sfu_ptable_del(&w->by_ufrag, sfu_hash_str(uf, strlen(uf)), p);
  sfu_link_remove(&p->room_link);
  p->room = NULL;
  w->n_participants--;
  uv_close((uv_handle_t *)&p->timer, on_timer_closed);
}

const char *sfu_participant_id(const sfu_participant_t *p) { return p->id; }
sfu_transport_state_t sfu_participant_state(const sfu_participant_t *p) { return p->state; }
void sfu_participant_stats(const sfu_participant_t *p, sfu_participant_stats_t *out) {
  *out = p->stats;
}

int sfu_participant_local_params(const sfu_participant_t *p, sfu_local_params_t *out) {
  memset(out, 0, sizeof *out);
  sfu_worker_t *w = p->worker;
  out->ice_ufrag = sfu_ice_local_ufrag(p->ice);
  out->ice_pwd = sfu_ice_local_pwd(p->ice);
  out->ice_lite = 1;
  uint16_t port = sfu_udp_port(w->udp);
  for (size_t i = 0; i < w->n_announced; i++) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (uv_ip4_addr(w->announced[i], port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(w->announced[i], port, (struct sockaddr_in6 *)&ss) != 0)
      return VEIL_EINVAL;
    sfu_stun_addr_t a;
    sfu_ice_candidate_t c;
    int rc = sfu_stun_addr_from_sockaddr(&a, (struct sockaddr *)&ss);
    if (rc == 0) rc = sfu_ice_host_candidate(&c, &a, (uint16_t)i);
    if (rc == 0) rc = sfu_ice_candidate_format(&c, out->candidates[i], sizeof out->candidates[i]);
    if (rc) return rc;
    strcpy(out->candidate_ip[i], w->announced[i]);
    out->candidate_port[i] = port;
    out->candidate_priority[i] = c.priority;
    out->n_candidates++;
  }
  out->dtls_fingerprint_algorithm = "sha-256";
  out->dtls_fingerprint = sfu_dtls_ctx_fingerprint(w->dtls);
  out->dtls_role = "server";
  return 0;
}

int sfu_participant_set_remote(sfu_participant_t *p, const sfu_remote_params_t *rp) {
  if (p->closing) return VEIL_ESFU_CLOSED;
  if (!rp || !rp->ice_ufrag || !rp->dtls_fingerprint) return VEIL_EINVAL;
  int rc = sfu_dtls_set_remote_fingerprint(
      p->dtls, rp->dtls_fingerprint_algorithm ? rp->dtls_fingerprint_algorithm : "sha-256",
      rp->dtls_fingerprint);
  if (rc) return rc;
  rc = sfu_ice_set_remote_ufrag(p->ice, rp->ice_ufrag);
  if (rc) return rc;
  p->have_remote = 1;
  return 0;
}
