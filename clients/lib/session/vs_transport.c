/* veil client session — ICE (controlling) + DTLS client + SRTP. Contract in vs_transport.h. */
#include "clients/lib/session/vs_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "sfu/demux.h"
#include "sfu/dtls.h"
#include "sfu/srtp.h"
#include "sfu/stun.h"

#define CHECK_FIRST_MS 100
#define CHECK_MAX_MS 1600
#define CHECK_GIVE_UP_MS 10000
#define CONSENT_EVERY_MS 2000
#define CONSENT_LOST_MS 15000
#define PKT_CAP 2048
#define MAX_READS_PER_WAKEUP 64 /* bounded work per wakeup (libuv's "loop starvation") */

struct vs_transport {
  uv_loop_t *loop;          /* borrowed */
  uv_udp_t udp;             /* owned */
  uv_timer_t timer;         /* owned */
  int handles_open;
  vs_transport_callbacks_t cb;
  vs_transport_state_t state;
  char ufrag[9], pwd[25];
  char username[600];
  char remote_pwd[257];
  struct sockaddr_storage remote;
  sfu_dtls_ctx_t *dctx;     /* owned */
  sfu_dtls_t *dtls;         /* owned */
  sfu_srtp_t *in, *out;     /* owned */
  uint8_t tid[SFU_STUN_TID_LEN];
  uint64_t tiebreaker;
  uint64_t started_ms, next_check_ms, check_interval_ms, last_response_ms;
  vs_transport_stats_t stats;
  uint8_t rbuf[PKT_CAP];
  void (*close_cb)(void *);
  void *close_arg;
};

static uint64_t now_ms(vs_transport_t *t) { return uv_now(t->loop); }

static void set_state(vs_transport_t *t, vs_transport_state_t st, int err) {
  if (t->state == st)
    return;
  t->state = st;
  if (t->cb.on_state)
    t->cb.on_state(t->cb.arg, st, err);
}

static void fail(vs_transport_t *t, int err) {
  if (t->state == VS_TRANSPORT_FAILED || t->state == VS_TRANSPORT_CLOSED)
    return;
  veil_log(VEIL_LOG_WARN, "client", "transport_failed", "err=%s", veil_strerror(err));
  set_state(t, VS_TRANSPORT_FAILED, err);
}

static void send_raw(vs_transport_t *t, const uint8_t *buf, size_t len) {
  uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
  /* UDP: a full socket buffer drops the datagram, as the network would. */
  (void)uv_udp_try_send(&t->udp, &b, 1, (const struct sockaddr *)&t->remote);
}

static void flush_dtls(vs_transport_t *t) {
  uint8_t buf[PKT_CAP];
  long n;
  while (t->dtls && (n = sfu_dtls_pop_datagram(t->dtls, buf, sizeof buf)) > 0)
    send_raw(t, buf, (size_t)n);
}

static void random_ice_string(char *out, size_t n) {
  /* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4) */
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint8_t r[32];
  vc_random(r, n);
  for (size_t i = 0; i < n; i++)
    out[i] = alphabet[r[i] & 63];
  out[n] = 0;
}

static void send_check(vs_transport_t *t) {
  uint8_t buf[PKT_CAP];
  size_t len = 0;
  vc_random(t->tid, sizeof t->tid);
  sfu_stun_request_params_t p = {
      .tid = t->tid,
      .username = t->username,
      /* RFC 8445 §5.1.2.1: host type preference 126, local preference 65535, component 1 */
      .priority = (126u << 24) | (65535u << 8) | (256u - 1u),
      .controlling = 1,
      .tiebreaker = t->tiebreaker,
      .use_candidate = 1,
      .key = (const uint8_t *)t->remote_pwd,
      .key_len = strlen(t->remote_pwd),
  };
  if (sfu_stun_encode_binding_request(buf, sizeof buf, &p, &len) == 0) {
    send_raw(t, buf, len);
    t->stats.stun_checks++;
  }
}

static void arm(vs_transport_t *t);

static void start_dtls(vs_transport_t *t) {
  set_state(t, VS_TRANSPORT_DTLS, 0);
  int rc = sfu_dtls_start(t->dtls, now_ms(t));
  if (rc)
    return fail(t, rc);
  flush_dtls(t);
}

static void on_stun(vs_transport_t *t, const uint8_t *buf, size_t len) {
  sfu_stun_msg_t m;
  if (sfu_stun_parse(buf, len, &m) || m.method != SFU_STUN_METHOD_BINDING)
    return;
  if (m.cls != SFU_STUN_SUCCESS || memcmp(m.tid, t->tid, SFU_STUN_TID_LEN) != 0)
    return; /* an ICE-lite server sends no requests; stray or stale responses */
  if (sfu_stun_verify_integrity(&m, (const uint8_t *)t->remote_pwd, strlen(t->remote_pwd)))
    return; /* RFC 8489 §9.1.3: a response failing integrity is discarded */
  t->stats.stun_responses++;
  t->last_response_ms = now_ms(t);
  if (t->state == VS_TRANSPORT_CHECKING) {
    t->next_check_ms = now_ms(t) + CONSENT_EVERY_MS;
    start_dtls(t);
  }
}

static void install_srtp(vs_transport_t *t) {
  sfu_dtls_srtp_keys_t k;
  int rc = sfu_dtls_srtp_keys(t->dtls, &k);
  if (!rc)
    rc = sfu_srtp_new(k.profile, SFU_SRTP_OUTBOUND, k.local_key, k.key_len, k.local_salt, k.salt_len, &t->out);
  if (!rc)
    rc = sfu_srtp_new(k.profile, SFU_SRTP_INBOUND, k.remote_key, k.key_len, k.remote_salt, k.salt_len, &t->in);
  vc_wipe(&k, sizeof k);
  if (rc)
    return fail(t, rc);
  set_state(t, VS_TRANSPORT_CONNECTED, 0);
}

static void on_dtls(vs_transport_t *t, const uint8_t *buf, size_t len) {
  if (!t->dtls || t->state < VS_TRANSPORT_DTLS)
    return;
  int rc = sfu_dtls_handle_datagram(t->dtls, buf, len, now_ms(t));
  flush_dtls(t);
  sfu_dtls_state_t ds = sfu_dtls_state(t->dtls);
  if (rc || ds == SFU_DTLS_FAILED)
    return fail(t, rc ? rc : sfu_dtls_error(t->dtls));
  if (ds == SFU_DTLS_CONNECTED && t->state == VS_TRANSPORT_DTLS)
    install_srtp(t);
  else if (ds == SFU_DTLS_CLOSED && t->state == VS_TRANSPORT_CONNECTED)
    fail(t, VEIL_EIO);
}

static void on_srtp(vs_transport_t *t, uint8_t *buf, size_t len, int rtcp) {
  if (t->state != VS_TRANSPORT_CONNECTED)
    return;
  int rc = rtcp ? sfu_srtp_unprotect_rtcp(t->in, buf, &len) : sfu_srtp_unprotect_rtp(t->in, buf, &len);
  if (rc) {
    t->stats.srtp_errors++;
    return;
  }
  if (rtcp) {
    t->stats.rtcp_in++;
    return;
  }
  t->stats.rtp_in++;
  if (t->cb.on_rtp)
    t->cb.on_rtp(t->cb.arg, buf, len);
}

static int same_addr(const struct sockaddr *a, const struct sockaddr_storage *b) {
  if (a->sa_family != b->ss_family)
    return 0;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  vs_transport_t *t = h->data;
  buf->base = (char *)t->rbuf;
  buf->len = sizeof t->rbuf;
}

static void recv_cb(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags) {
  vs_transport_t *t = u->data;
  if (n <= 0 || !from || (flags & UV_UDP_PARTIAL))
    return;
  if (!same_addr(from, &t->remote))
    return; /* only the server's candidate speaks to us */
  uint8_t *p = (uint8_t *)buf->base;
  size_t len = (size_t)n;
  switch (sfu_demux_classify(p, len)) {
  case SFU_PKT_STUN:
    on_stun(t, p, len);
    break;
  case SFU_PKT_DTLS:
    on_dtls(t, p, len);
    break;
  case SFU_PKT_RTP:
    on_srtp(t, p, len, 0);
    break;
  case SFU_PKT_RTCP:
    on_srtp(t, p, len, 1);
    break;
  default:
    break;
  }
  arm(t);
}

static void timer_cb(uv_timer_t *h) {
  vs_transport_t *t = h->data;
  uint64_t now = now_ms(t);
  if (t->state == VS_TRANSPORT_CHECKING) {
    if (now - t->started_ms > CHECK_GIVE_UP_MS)
      return fail(t, VEIL_EIO);
    if (now >= t->next_check_ms) {
      send_check(t);
      t->check_interval_ms = t->check_interval_ms * 2 > CHECK_MAX_MS ? CHECK_MAX_MS : t->check_interval_ms * 2;
      t->next_check_ms = now + t->check_interval_ms;
    }
  } else if (t->state == VS_TRANSPORT_DTLS || t->state == VS_TRANSPORT_CONNECTED) {
    if (now - t->last_response_ms > CONSENT_LOST_MS)
      return fail(t, VEIL_EIO); /* RFC 7675 §5.1: consent lost */
    if (now >= t->next_check_ms) {
      send_check(t);
      t->next_check_ms = now + CONSENT_EVERY_MS;
    }
    if (t->state == VS_TRANSPORT_DTLS) {
      if (sfu_dtls_next_timeout(t->dtls, now) <= now) {
        int rc = sfu_dtls_handle_timeout(t->dtls, now);
        flush_dtls(t);
        if (rc)
          return fail(t, rc);
      }
    }
  }
  arm(t);
}

static void arm(vs_transport_t *t) {
  if (!t->handles_open)
    return;
  if (t->state != VS_TRANSPORT_CHECKING && t->state != VS_TRANSPORT_DTLS && t->state != VS_TRANSPORT_CONNECTED) {
    uv_timer_stop(&t->timer);
    return;
  }
  uint64_t now = now_ms(t), due = t->next_check_ms;
  if (t->state == VS_TRANSPORT_DTLS) {
    uint64_t d = sfu_dtls_next_timeout(t->dtls, now);
    if (d < due)
      due = d;
  }
  uv_timer_start(&t->timer, timer_cb, due > now ? due - now : 0, 0);
}

int vs_transport_new(uv_loop_t *loop, const vs_transport_callbacks_t *cb, vs_transport_t **out) {
  vs_transport_t *t = calloc(1, sizeof *t);
  if (!t)
    return VEIL_ENOMEM;
  t->loop = loop;
  t->cb = *cb;
  random_ice_string(t->ufrag, 8);
  random_ice_string(t->pwd, 24);
  vc_random((uint8_t *)&t->tiebreaker, sizeof t->tiebreaker);
  int rc = sfu_dtls_ctx_new(&t->dctx);
  if (!rc) {
    sfu_dtls_config_t dc = {.role = SFU_DTLS_ROLE_CLIENT, .handshake_timeout_ms = 10000};
    rc = sfu_dtls_new(t->dctx, &dc, &t->dtls);
  }
  if (rc) {
    sfu_dtls_ctx_free(t->dctx);
    free(t);
    return rc;
  }
  *out = t;
  return 0;
}

const char *vs_transport_ufrag(const vs_transport_t *t) { return t->ufrag; }
const char *vs_transport_pwd(const vs_transport_t *t) { return t->pwd; }
const char *vs_transport_fingerprint(const vs_transport_t *t) { return sfu_dtls_ctx_fingerprint(t->dctx); }
vs_transport_state_t vs_transport_state(const vs_transport_t *t) { return t->state; }
void vs_transport_get_stats(const vs_transport_t *t, vs_transport_stats_t *out) { *out = t->stats; }

int vs_transport_start(vs_transport_t *t, const vs_remote_t *r) {
  if (t->state != VS_TRANSPORT_NEW)
    return VEIL_ESTATE;
  if (!r->ip || !r->ice_ufrag || !r->ice_pwd || !r->fingerprint || strlen(r->ice_pwd) >= sizeof t->remote_pwd ||
      strlen(r->ice_ufrag) > 256)
    return VEIL_EINVAL;
  int rc;
  if (strchr(r->ip, ':'))
    rc = uv_ip6_addr(r->ip, r->port, (struct sockaddr_in6 *)&t->remote);
  else
    rc = uv_ip4_addr(r->ip, r->port, (struct sockaddr_in *)&t->remote);
  if (rc)
    return VEIL_EINVAL;
  if ((rc = sfu_dtls_set_remote_fingerprint(t->dtls, "sha-256", r->fingerprint)))
    return rc;
  snprintf(t->username, sizeof t->username, "%s:%s", r->ice_ufrag, t->ufrag);
  snprintf(t->remote_pwd, sizeof t->remote_pwd, "%s", r->ice_pwd);
  if ((rc = uv_udp_init(t->loop, &t->udp)))
    return rc;
  uv_timer_init(t->loop, &t->timer);
  t->udp.data = t->timer.data = t;
  t->handles_open = 1;
  struct sockaddr_storage any;
  memset(&any, 0, sizeof any);
  if (t->remote.ss_family == AF_INET6)
    uv_ip6_addr("::", 0, (struct sockaddr_in6 *)&any);
  else
    uv_ip4_addr("0.0.0.0", 0, (struct sockaddr_in *)&any);
  if ((rc = uv_udp_bind(&t->udp, (const struct sockaddr *)&any, 0)) ||
      (rc = uv_udp_recv_start(&t->udp, alloc_cb, recv_cb)))
    return rc;
  t->started_ms = now_ms(t);
  t->check_interval_ms = CHECK_FIRST_MS;
  t->next_check_ms = t->started_ms;
  set_state(t, VS_TRANSPORT_CHECKING, 0);
  send_check(t);
  t->next_check_ms = t->started_ms + CHECK_FIRST_MS;
  arm(t);
  return 0;
}

int vs_transport_send_rtp(vs_transport_t *t, uint8_t *pkt, size_t len, size_t cap) {
  if (t->state != VS_TRANSPORT_CONNECTED)
    return VEIL_ESTATE;
  int rc = sfu_srtp_protect_rtp(t->out, pkt, &len, cap);
  if (rc)
    return rc;
  send_raw(t, pkt, len);
  t->stats.rtp_out++;
  return 0;
}

static void closed_one(uv_handle_t *h) {
  vs_transport_t *t = h->data;
  if (--t->handles_open > 0)
    return;
  void (*cb)(void *) = t->close_cb;
  void *arg = t->close_arg;
  free(t);
  if (cb)
    cb(arg);
}

void vs_transport_close(vs_transport_t *t, void (*cb)(void *), void *arg) {
  if (t->dtls && t->state == VS_TRANSPORT_CONNECTED) {
    sfu_dtls_close(t->dtls);
    flush_dtls(t);
  }
  t->state = VS_TRANSPORT_CLOSED;
  sfu_srtp_free(t->in);
  sfu_srtp_free(t->out);
  sfu_dtls_free(t->dtls);
  sfu_dtls_ctx_free(t->dctx);
  t->in = t->out = NULL;
  t->dtls = NULL;
  t->dctx = NULL;
  t->close_cb = cb;
  t->close_arg = arg;
  if (!t->handles_open) {
    free(t);
    if (cb)
      cb(arg);
    return;
  }
  t->handles_open = 2;
  uv_close((uv_handle_t *)&t->udp, closed_one);
  uv_close((uv_handle_t *)&t->timer, closed_one);
}
