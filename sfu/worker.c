/*
 * sfu/worker — the worker (one loop, one socket), rooms, the demux tables and the close
 * cascade. The packet path starts here: udp → on_datagram → demux (RFC 7983 first byte)
 * → participant (by selected address; STUN also by ICE username on first contact) →
 * participant.c (STUN, DTLS) or SRTP unprotect → router.c (RTP, RTCP).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "sfu/demux.h"
#include "sfu/sfu_int.h"

/* ---- participant tables ---------------------------------------------------------------- */

#define PT_MASK (SFU_PTABLE_SLOTS - 1)

void sfu_ptable_init(sfu_ptable_t *t) { memset(t, 0, sizeof *t); }

uint64_t sfu_hash_str(const char *s, size_t n) {
  /* FNV-1a, then a final mix so linear probing sees well-spread low bits. The keys
   * (ufrags we generated, addresses the kernel gave us) are not attacker-chosen enough to
   * need a keyed hash: ufrags are random, and an address needs an authenticated ICE
   * check before it enters the table. */
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (uint8_t)s[i];
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

uint64_t sfu_hash_addr(const sfu_stun_addr_t *a) {
  char key[19];
  key[0] = (char)a->family;
  key[1] = (char)(a->port >> 8);
  key[2] = (char)a->port;
  memcpy(key + 3, a->addr, 16);
  return sfu_hash_str(key, sizeof key);
}

int sfu_ptable_put(sfu_ptable_t *t, uint64_t hash, sfu_participant_t *p) {
  for (size_t n = 0, i = hash & PT_MASK; n < SFU_PTABLE_SLOTS; n++, i = (i + 1) & PT_MASK) {
    if (t->slot[i].p == NULL) {
      t->slot[i].hash = hash;
      t->slot[i].p = p;
      return 0;
    }
  }
  return VEIL_ESFU_LIMIT;
}

void sfu_ptable_del(sfu_ptable_t *t, uint64_t hash, const sfu_participant_t *p) {
  size_t i = hash & PT_MASK, n = 0;
  while (t->slot[i].p != p) {
    if (t->slot[i].p == NULL || ++n == SFU_PTABLE_SLOTS) return;
    i = (i + 1) & PT_MASK;
  }
  t->slot[i].p = NULL;
  /* Backward-shift deletion: pull later members of the probe run into the hole when
   * their home slot does not lie cyclically in (hole, j]. */
  size_t j = i;
  for (;;) {
    j = (j + 1) & PT_MASK;
    if (t->slot[j].p == NULL) return;
    size_t k = t->slot[j].hash & PT_MASK;
    int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (!stays) {
      t->slot[i] = t->slot[j];
      t->slot[j].p = NULL;
      i = j;
    }
  }
}

static sfu_participant_t *find_by_addr(sfu_worker_t *w, const sfu_stun_addr_t *a) {
  uint64_t h = sfu_hash_addr(a);
  for (size_t i = h & PT_MASK;; i = (i + 1) & PT_MASK) {
    sfu_participant_t *p = w->by_addr.slot[i].p;
    if (!p) return NULL;
    if (w->by_addr.slot[i].hash == h && sfu_stun_addr_equal(&p->addr_key, a)) return p;
  }
}

/* First contact (RFC 8445 §7.3): the USERNAME of a Binding request is
 * "<our ufrag>:<their ufrag>"; our part names the participant. The ICE core verifies
 * MESSAGE-INTEGRITY afterwards; this only routes. */
static sfu_participant_t *find_by_username(sfu_worker_t *w, const uint8_t *buf, size_t len) {
  sfu_stun_msg_t m;
  if (sfu_stun_parse(buf, len, &m) != 0 || !(m.present & SFU_STUN_HAS_USERNAME)) return NULL;
  const char *u = (const char *)m.username.ptr;
  size_t n = 0;
  while (n < m.username.len && u[n] != ':') n++;
  if (n == m.username.len || n == 0 || n > SFU_ICE_CRED_MAX) return NULL;
  uint64_t h = sfu_hash_str(u, n);
  for (size_t i = h & PT_MASK;; i = (i + 1) & PT_MASK) {
    sfu_participant_t *p = w->by_ufrag.slot[i].p;
    if (!p) return NULL;
    if (w->by_ufrag.slot[i].hash != h) continue;
    const char *lu = sfu_ice_local_ufrag(p->ice);
    if (strlen(lu) == n && memcmp(lu, u, n) == 0) return p;
  }
}

/* ---- packet path ----------------------------------------------------------------------- */

/* libsrtp's ssrc_any_inbound template clones a stream (an allocation with its own replay
 * list) for every new SSRC that authenticates, with no limit: a participant holding valid
 * keys could grow our memory one SSRC at a time. So the SSRC, which SRTP leaves in the
 * clear (RFC 3711 §3.1, §3.4), is checked before unprotect: RTP only for the participant's
 * published SSRCs (anything else would be dropped by the router anyway), RTCP for at most
 * SFU_MAX_RTCP_SSRCS distinct senders. */
static int admit_ssrc(sfu_participant_t *p, const sfu_pkt_t *pkt, int rtcp) {
  veil_reader_t r;
  uint32_t ssrc = 0;
  veil_reader_init(&r, pkt->data, pkt->len);
  veil_skip(&r, rtcp ? 4 : 8);
  if (veil_read_u32(&r, &ssrc) != 0) return 0;
  if (!rtcp) {
    for (unsigned i = 0; i < p->n_tracks; i++)
      if (p->tracks[i]->ssrc == ssrc || (p->tracks[i]->rtx_ssrc && p->tracks[i]->rtx_ssrc == ssrc))
        return 1;
    return 0;
  }
  for (unsigned i = 0; i < p->n_rtcp_ssrcs; i++)
    if (p->rtcp_ssrcs[i] == ssrc) return 1;
  if (p->n_rtcp_ssrcs == SFU_MAX_RTCP_SSRCS) return 0;
  /* Remembered before authentication: a forged packet can use up a slot, but only from
   * the participant's own ICE-verified address, and the cap still holds. */
  p->rtcp_ssrcs[p->n_rtcp_ssrcs++] = ssrc;
  return 1;
}

static void on_datagram(void *arg, sfu_pkt_t *pkt, const struct sockaddr *from) {
  sfu_worker_t *w = arg;
  uint64_t now = uv_now(w->loop);
  sfu_pkt_kind_t kind = sfu_demux_classify(pkt->data, pkt->len);
  sfu_stun_addr_t key;
  if (kind == SFU_PKT_DROP || sfu_stun_addr_from_sockaddr(&key, from) != 0) goto drop;
  sfu_participant_t *p = find_by_addr(w, &key);
  switch (kind) {
  case SFU_PKT_STUN:
    if (!p) p = find_by_username(w, pkt->data, pkt->len);
    if (!p) goto drop;
    sfu_participant_on_stun(p, pkt, from, &key, now);
    return;
  case SFU_PKT_DTLS:
    if (!p) goto drop;
    sfu_participant_on_dtls(p, pkt, now);
    return;
  case SFU_PKT_RTP:
  case SFU_PKT_RTCP: {
    if (!p || p->state != SFU_TRANSPORT_CONNECTED ||
        !admit_ssrc(p, pkt, kind == SFU_PKT_RTCP))
      goto drop;
    size_t len = pkt->len;
    int rc = kind == SFU_PKT_RTP ? sfu_srtp_unprotect_rtp(p->srtp_in, pkt->data, &len)
                                 : sfu_srtp_unprotect_rtcp(p->srtp_in, pkt->data, &len);
    if (rc) {
      p->stats.srtp_errors++;
      goto drop;
    }
    pkt->len = (uint32_t)len;
    if (kind == SFU_PKT_RTP)
      sfu_router_on_rtp(p, pkt, now);
    else
      sfu_router_on_rtcp(p, pkt, now);
    return;
  }
  case SFU_PKT_DROP:
    break;
  }
drop:
  w->stats.rx_dropped++;
  sfu_pool_put(w->pool, pkt);
}

int sfu_worker_send_copy(sfu_worker_t *w, const struct sockaddr *to, const uint8_t *data,
                         size_t len) {
  if (len > SFU_PKT_CAP) return VEIL_EINVAL;
  sfu_pkt_t *pkt = sfu_pool_get(w->pool);
  if (!pkt) {
    w->stats.tx_dropped++;
    return VEIL_ESFU_POOL_EMPTY;
  }
  memcpy(pkt->data, data, len);
  pkt->len = (uint32_t)len;
  return sfu_udp_send(w->udp, pkt, to);
}

/* ---- worker lifecycle ------------------------------------------------------------------ */

static int is_wildcard(const char *ip) { return !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::"); }

int sfu_worker_init(uv_loop_t *loop, const sfu_worker_config_t *cfg, sfu_worker_t **out) {
  *out = NULL;
  if (!loop || !cfg) return VEIL_EINVAL;
  const char *ip = cfg->bind_ip ? cfg->bind_ip : "127.0.0.1";
  if (cfg->n_announced_ips > SFU_MAX_CANDIDATES) return VEIL_EINVAL;
  sfu_worker_t *w = calloc(1, sizeof *w);
  if (!w) return VEIL_ENOMEM;
  w->loop = loop;
  sfu_link_init(&w->rooms);
  sfu_ptable_init(&w->by_addr);
  sfu_ptable_init(&w->by_ufrag);
  w->dtls_timeout_ms = cfg->dtls_timeout_ms ? cfg->dtls_timeout_ms : 30000;
  w->stats_interval_ms = cfg->stats_interval_ms;
  w->consent_timeout_ms = cfg->ice_consent_timeout_ms;
  w->keyframe_min_ms = cfg->keyframe_min_interval_ms ? cfg->keyframe_min_interval_ms : 500;
  for (size_t i = 0; i < cfg->n_announced_ips; i++) {
    if (!cfg->announced_ips[i] || strlen(cfg->announced_ips[i]) >= sizeof w->announced[0]) {
      free(w);
      return VEIL_EINVAL;
    }
    strcpy(w->announced[i], cfg->announced_ips[i]);
  }
  w->n_announced = cfg->n_announced_ips;
  if (w->n_announced == 0) {
    if (strlen(ip) >= sizeof w->announced[0]) {
      free(w);
      return VEIL_EINVAL;
    }
    strcpy(w->announced[0], is_wildcard(ip) ? "127.0.0.1" : ip);
    w->n_announced = 1;
  }
  if (RAND_bytes((unsigned char *)&w->rtcp_ssrc, sizeof w->rtcp_ssrc) != 1) {
    free(w);
    return VEIL_ESFU_DTLS;
  }
  if (cfg->port < SFU_PORT_EPHEMERAL || cfg->port > 65535) {
    free(w);
    return VEIL_EINVAL;
  }
  uint16_t port = cfg->port == SFU_PORT_EPHEMERAL ? 0
                  : cfg->port == 0               ? SFU_DEFAULT_PORT
                                                 : (uint16_t)cfg->port;
  int rc = sfu_pool_new(cfg->pool_buffers ? cfg->pool_buffers : 8192, &w->pool);
  if (rc) goto fail;
  rc = sfu_dtls_ctx_new(&w->dtls);
  if (rc) goto fail;
  rc = sfu_udp_init(loop, w->pool, ip, port, on_datagram, w, &w->udp);
  if (rc) goto fail;
  *out = w;
  return 0;
fail:
  sfu_dtls_ctx_free(w->dtls);
  sfu_pool_free(w->pool);
  free(w);
  return rc;
}

int sfu_worker_start(sfu_worker_t *w) {
  if (w->closing) return VEIL_ESFU_CLOSED;
  int rc = sfu_udp_start(w->udp);
  if (rc == 0)
    veil_log(VEIL_LOG_INFO, "sfu", "worker_started", "port=%u fingerprint=%s",
             sfu_udp_port(w->udp), sfu_dtls_ctx_fingerprint(w->dtls));
  return rc;
}

uint16_t sfu_worker_port(const sfu_worker_t *w) { return sfu_udp_port(w->udp); }
const char *sfu_worker_fingerprint(const sfu_worker_t *w) {
  return sfu_dtls_ctx_fingerprint(w->dtls);
}

void sfu_worker_stats(const sfu_worker_t *w, sfu_worker_stats_t *out) {
  *out = w->stats;
  const sfu_udp_stats_t *u = sfu_udp_stats(w->udp);
  out->rx_packets = u->rx_packets;
  out->rx_bytes = u->rx_bytes;
  out->tx_packets = u->tx_packets;
  out->tx_bytes = u->tx_bytes;
  out->rx_dropped += u->rx_dropped;
  out->tx_dropped += u->tx_dropped;
  out->pool_free = sfu_pool_available(w->pool);
  out->pool_total = sfu_pool_capacity(w->pool);
}

static void on_udp_closed(void *arg) {
  sfu_worker_t *w = arg;
  sfu_worker_close_cb cb = w->close_cb;
  void *cb_arg = w->close_arg;
  sfu_dtls_ctx_free(w->dtls);
  sfu_pool_free(w->pool);
  free(w);
  if (cb) cb(cb_arg);
}

static void maybe_finish_close(sfu_worker_t *w) {
  if (!w->closing || w->open_timers > 0 || !w->udp) return;
  sfu_udp_t *u = w->udp;
  w->udp = NULL;
  sfu_udp_close(u, on_udp_closed, w);
}

void sfu_worker_participant_timer_closed(sfu_worker_t *w) {
  w->open_timers--;
  maybe_finish_close(w);
}

void sfu_worker_close(sfu_worker_t *w, sfu_worker_close_cb cb, void *arg) {
  if (w->closing) return;
  w->closing = 1;
  w->close_cb = cb;
  w->close_arg = arg;
  while (!sfu_link_empty(&w->rooms))
    sfu_room_close(SFU_CONTAINER_OF(w->rooms.next, sfu_room_t, link));
  maybe_finish_close(w);
}

/* ---- rooms ----------------------------------------------------------------------------- */

static int valid_id(const char *id) {
  size_t n = id ? strlen(id) : 0;
  return n >= 1 && n <= SFU_ID_MAX;
}

sfu_room_t *sfu_room_find(sfu_worker_t *w, const char *room_id) {
  if (!room_id) return NULL;
  for (sfu_link_t *l = w->rooms.next; l != &w->rooms; l = l->next) {
    sfu_room_t *r = SFU_CONTAINER_OF(l, sfu_room_t, link);
    if (!strcmp(r->id, room_id)) return r;
  }
  return NULL;
}

int sfu_room_create(sfu_worker_t *w, const char *room_id, sfu_room_t **out) {
  *out = NULL;
  if (w->closing) return VEIL_ESFU_CLOSED;
  if (!valid_id(room_id)) return VEIL_EINVAL;
  if (sfu_room_find(w, room_id)) return VEIL_EEXIST;
  sfu_room_t *r = calloc(1, sizeof *r);
  if (!r) return VEIL_ENOMEM;
  strcpy(r->id, room_id);
  r->worker = w;
  sfu_link_init(&r->participants);
  sfu_link_insert_tail(&w->rooms, &r->link);
  *out = r;
  return 0;
}

void sfu_room_close(sfu_room_t *r) {
  while (!sfu_link_empty(&r->participants))
    sfu_participant_close(SFU_CONTAINER_OF(r->participants.next, sfu_participant_t, room_link));
  sfu_link_remove(&r->link);
  free(r);
}

const char *sfu_room_id(const sfu_room_t *r) { return r->id; }
