/* Test/bench client transport — see sfu_peer.h. */
#include "sfu_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/err.h"
#include "sfu/demux.h"
#include "sfu/dtls.h"
#include "sfu/ice.h"
#include "sfu/pool.h"
#include "sfu/srtp.h"
#include "sfu/stun.h"

struct sfu_peer {
  int fd;
  struct sockaddr_in server;
  char ufrag[16], pwd[32];
  char server_ufrag[64], server_pwd[64];
  sfu_dtls_ctx_t *ctx;
  sfu_dtls_t *dtls;
  sfu_srtp_t *out, *in;
  int ice_ok, connected, failed, started;
  uint64_t next_check_ms;
  sfu_peer_media_cb cb;
  void *arg;
  uint64_t rx_media;
};

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int sfu_peer_new(sfu_peer_media_cb cb, void *arg, sfu_peer_t **out) {
  *out = NULL;
  sfu_peer_t *p = calloc(1, sizeof *p);
  if (!p) return VEIL_ENOMEM;
  p->cb = cb;
  p->arg = arg;
  p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int bufsz = 8 << 20;
  setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
  setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
  int rc = VEIL_EIO;
  if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&a, sizeof a) != 0) goto fail;
  if ((rc = sfu_ice_random_string(p->ufrag, sizeof p->ufrag, 8)) != 0) goto fail;
  if ((rc = sfu_ice_random_string(p->pwd, sizeof p->pwd, 24)) != 0) goto fail;
  if ((rc = sfu_dtls_ctx_new(&p->ctx)) != 0) goto fail;
  sfu_dtls_config_t dc = {.role = SFU_DTLS_ROLE_CLIENT};
  if ((rc = sfu_dtls_new(p->ctx, &dc, &p->dtls)) != 0) goto fail;
  *out = p;
  return 0;
fail:
  sfu_peer_free(p);
  return rc;
}

void sfu_peer_free(sfu_peer_t *p) {
  if (!p) return;
  if (p->fd >= 0) close(p->fd);
  sfu_srtp_free(p->out);
  sfu_srtp_free(p->in);
  sfu_dtls_free(p->dtls);
  sfu_dtls_ctx_free(p->ctx);
  free(p);
}

const char *sfu_peer_ufrag(const sfu_peer_t *p) { return p->ufrag; }
const char *sfu_peer_fingerprint(const sfu_peer_t *p) { return sfu_dtls_ctx_fingerprint(p->ctx); }
int sfu_peer_fd(const sfu_peer_t *p) { return p->fd; }
int sfu_peer_connected(const sfu_peer_t *p) { return p->connected; }
int sfu_peer_failed(const sfu_peer_t *p) { return p->failed; }
uint64_t sfu_peer_rx_media(const sfu_peer_t *p) { return p->rx_media; }

static void send_raw(sfu_peer_t *p, const uint8_t *d, size_t n) {
  (void)sendto(p->fd, d, n, 0, (struct sockaddr *)&p->server, sizeof p->server);
}

static void send_check(sfu_peer_t *p) {
  uint8_t tid[12], buf[512];
  char user[160];
  uint64_t tb;
  RAND_bytes(tid, sizeof tid);
  RAND_bytes((unsigned char *)&tb, sizeof tb);
  snprintf(user, sizeof user, "%s:%s", p->server_ufrag, p->ufrag);
  sfu_stun_request_params_t rp = {.tid = tid, .username = user, .priority = 0x6e7f00ff,
                                  .controlling = 1, .tiebreaker = tb, .use_candidate = 1,
                                  .key = (const uint8_t *)p->server_pwd,
                                  .key_len = strlen(p->server_pwd)};
  size_t len = 0;
  if (sfu_stun_encode_binding_request(buf, sizeof buf, &rp, &len) == 0) send_raw(p, buf, len);
  p->next_check_ms = now_ms() + 200;
}

int sfu_peer_start(sfu_peer_t *p, uint16_t port, const char *ufrag, const char *pwd,
                   const char *fingerprint) {
  if (strlen(ufrag) >= sizeof p->server_ufrag || strlen(pwd) >= sizeof p->server_pwd)
    return VEIL_EINVAL;
  strcpy(p->server_ufrag, ufrag);
  strcpy(p->server_pwd, pwd);
  memset(&p->server, 0, sizeof p->server);
  p->server.sin_family = AF_INET;
  p->server.sin_port = htons(port);
  p->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = sfu_dtls_set_remote_fingerprint(p->dtls, "sha-256", fingerprint);
  if (rc) return rc;
  p->started = 1;
  send_check(p);
  return 0;
}

static void flush_dtls(sfu_peer_t *p) {
  uint8_t buf[1500];
  long n;
  while ((n = sfu_dtls_pop_datagram(p->dtls, buf, sizeof buf)) > 0) send_raw(p, buf, (size_t)n);
}

static void after_dtls(sfu_peer_t *p) {
  flush_dtls(p);
  if (!p->connected && sfu_dtls_state(p->dtls) == SFU_DTLS_CONNECTED) {
    sfu_dtls_srtp_keys_t k;
    if (sfu_dtls_srtp_keys(p->dtls, &k) == 0 &&
        sfu_srtp_new(k.profile, SFU_SRTP_OUTBOUND, k.local_key, k.key_len, k.local_salt,
                     k.salt_len, &p->out) == 0 &&
        sfu_srtp_new(k.profile, SFU_SRTP_INBOUND, k.remote_key, k.key_len, k.remote_salt,
                     k.salt_len, &p->in) == 0)
      p->connected = 1;
    else
      p->failed = 1;
  } else if (sfu_dtls_state(p->dtls) == SFU_DTLS_FAILED) {
    p->failed = 1;
  }
}

static void handle(sfu_peer_t *p, uint8_t *buf, size_t n) {
  switch (sfu_demux_classify(buf, n)) {
  case SFU_PKT_STUN: {
    sfu_stun_msg_t m;
    if (!p->ice_ok && sfu_stun_parse(buf, n, &m) == 0 && m.cls == SFU_STUN_SUCCESS &&
        sfu_stun_verify_integrity(&m, (const uint8_t *)p->server_pwd, strlen(p->server_pwd)) == 0) {
      p->ice_ok = 1;
      sfu_dtls_start(p->dtls, now_ms());
      after_dtls(p);
    }
    break;
  }
  case SFU_PKT_DTLS:
    sfu_dtls_handle_datagram(p->dtls, buf, n, now_ms());
    after_dtls(p);
    break;
  case SFU_PKT_RTP:
  case SFU_PKT_RTCP: {
    if (!p->connected) break;
    int rtcp = sfu_demux_is_rtcp(buf, n);
    size_t len = n;
    int rc = rtcp ? sfu_srtp_unprotect_rtcp(p->in, buf, &len) : sfu_srtp_unprotect_rtp(p->in, buf, &len);
    if (rc) break;
    p->rx_media++;
    if (p->cb) p->cb(p->arg, p, rtcp, buf, len);
    break;
  }
  default:
    break;
  }
}

int sfu_peer_poll(sfu_peer_t *p, int timeout_ms) {
  int handled = 0;
  if (p->started && !p->ice_ok && now_ms() >= p->next_check_ms) send_check(p);
  if (p->ice_ok && !p->connected && !p->failed) {
    uint64_t t = sfu_dtls_next_timeout(p->dtls, now_ms());
    if (t <= now_ms()) {
      sfu_dtls_handle_timeout(p->dtls, now_ms());
      after_dtls(p);
    }
  }
  struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
  if (timeout_ms > 0 && poll(&pfd, 1, timeout_ms) <= 0) return 0;
  struct mmsghdr msgs[32];
  struct iovec iov[32];
  static __thread uint8_t bufs[32][2048];
  for (;;) {
    for (int i = 0; i < 32; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = sizeof bufs[i];
      memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int got = recvmmsg(p->fd, msgs, 32, MSG_DONTWAIT, NULL);
    if (got <= 0) break;
    for (int i = 0; i < got; i++) handle(p, bufs[i], msgs[i].msg_len);
    handled += got;
    if (got < 32) break;
  }
  return handled;
}

int sfu_peer_unprotect_rtp(sfu_peer_t *p, uint8_t *buf, size_t *len) {
  if (!p->connected) return VEIL_ESTATE;
  return sfu_srtp_unprotect_rtp(p->in, buf, len);
}

static int send_protected(sfu_peer_t *p, const uint8_t *pkt, size_t len, int rtcp) {
  if (!p->connected) return VEIL_ESTATE;
  uint8_t buf[SFU_PKT_CAP];
  if (len + SFU_SRTP_MAX_OVERHEAD > sizeof buf) return VEIL_EINVAL;
  memcpy(buf, pkt, len);
  int rc = rtcp ? sfu_srtp_protect_rtcp(p->out, buf, &len, sizeof buf)
                : sfu_srtp_protect_rtp(p->out, buf, &len, sizeof buf);
  if (rc) return rc;
  send_raw(p, buf, len);
  return 0;
}

int sfu_peer_send_rtp(sfu_peer_t *p, const uint8_t *pkt, size_t len) {
  return send_protected(p, pkt, len, 0);
}
int sfu_peer_send_rtcp(sfu_peer_t *p, const uint8_t *pkt, size_t len) {
  return send_protected(p, pkt, len, 1);
}

int sfu_peer_send_rtp_batch(sfu_peer_t *p, uint8_t *const *pkts, const size_t *lens, size_t n) {
  if (!p->connected) return VEIL_ESTATE;
  struct mmsghdr msgs[64];
  struct iovec iov[64];
  size_t done = 0;
  while (done < n) {
    size_t k = 0;
    for (; k < 64 && done + k < n; k++) {
      size_t len = lens[done + k];
      int rc = sfu_srtp_protect_rtp(p->out, pkts[done + k], &len, SFU_PKT_CAP);
      if (rc) return rc;
      iov[k].iov_base = pkts[done + k];
      iov[k].iov_len = len;
      memset(&msgs[k], 0, sizeof msgs[k]);
      msgs[k].msg_hdr.msg_name = &p->server;
      msgs[k].msg_hdr.msg_namelen = sizeof p->server;
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    size_t sent = 0;
    while (sent < k) {
      int r = sendmmsg(p->fd, msgs + sent, (unsigned)(k - sent), 0);
      if (r < 0) {
        if (errno == EAGAIN || errno == ENOBUFS) {
          struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
          poll(&pfd, 1, 10);
          continue;
        }
        return VEIL_EIO;
      }
      sent += (size_t)r;
    }
    done += k;
  }
  return 0;
}
