/* sfu/udp — see udp.h. */
#include "sfu/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"

typedef struct send_entry {
  sfu_pkt_t *pkt; /* owned while queued */
  struct sockaddr_storage to;
  socklen_t tolen;
} send_entry_t;

struct sfu_udp {
  uv_loop_t *loop;       /* borrowed */
  sfu_pool_t *pool;      /* borrowed */
  int fd;                /* owned; closed in the poll close callback */
  int family;
  uint16_t port;
  uv_poll_t poll;        /* data = this */
  uv_prepare_t prepare;  /* flushes the queue once per iteration before blocking */
  int poll_events;       /* UV_READABLE, plus UV_WRITABLE while the queue is blocked */
  int closing, handles_open;
  sfu_udp_recv_cb cb;
  void *cb_arg;
  sfu_udp_close_cb close_cb;
  void *close_arg;
  /* Send ring: entries [head, head+count) mod SFU_UDP_QUEUE_CAP. */
  send_entry_t *queue;   /* owned, SFU_UDP_QUEUE_CAP entries */
  uint32_t head, count;
  sfu_udp_stats_t stats;
};

static socklen_t sa_len(const struct sockaddr *sa) {
  return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

void sfu_udp_unmap(const struct sockaddr *in, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (in->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)in;
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
      struct sockaddr_in *s4 = (struct sockaddr_in *)out;
      s4->sin_family = AF_INET;
      s4->sin_port = s6->sin6_port;
      memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
      return;
    }
    memcpy(out, in, sizeof(struct sockaddr_in6));
  } else {
    memcpy(out, in, sizeof(struct sockaddr_in));
  }
}

/* Destination for the socket's family: IPv4 targets on a dual-stack IPv6 socket are
 * written as v4-mapped addresses. */
static socklen_t to_socket_family(const sfu_udp_t *u, const struct sockaddr *to,
                                  struct sockaddr_storage *out) {
  if (u->family == AF_INET6 && to->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)to;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
    memset(s6, 0, sizeof *s6);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = s4->sin_port;
    s6->sin6_addr.s6_addr[10] = 0xff;
    s6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&s6->sin6_addr.s6_addr[12], &s4->sin_addr, 4);
    return sizeof *s6;
  }
  socklen_t l = sa_len(to);
  memcpy(out, to, l);
  return l;
}

static void on_poll(uv_poll_t *h, int status, int events);
static void on_prepare(uv_prepare_t *h);

int sfu_udp_init(uv_loop_t *loop, sfu_pool_t *pool, const char *ip, uint16_t port,
                 sfu_udp_recv_cb cb, void *arg, sfu_udp_t **out) {
  *out = NULL;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  int family;
  if (uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss) == 0) {
    family = AF_INET;
  } else if (uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss) == 0) {
    family = AF_INET6;
  } else {
    return VEIL_EINVAL;
  }
  sfu_udp_t *u = calloc(1, sizeof *u);
  if (!u) return VEIL_ENOMEM;
  u->queue = calloc(SFU_UDP_QUEUE_CAP, sizeof *u->queue);
  if (!u->queue) {
    free(u);
    return VEIL_ENOMEM;
  }
  int rc;
  u->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (u->fd < 0) {
    rc = -errno;
    goto fail;
  }
  if (family == AF_INET6) {
    /* "::" serves IPv4 too (mapped addresses); a specific v6 address stays v6-only. */
    int v6only = IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr) ? 0 : 1;
    setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  /* Media bursts: a few MB of kernel buffering absorb a keyframe fan-out. */
  int bufsz = 4 << 20;
  setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
  setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
  if (bind(u->fd, (struct sockaddr *)&ss, sa_len((struct sockaddr *)&ss)) != 0) {
    rc = -errno;
    goto fail;
  }
  socklen_t sl = sizeof ss;
  if (getsockname(u->fd, (struct sockaddr *)&ss, &sl) != 0) {
    rc = -errno;
    goto fail;
  }
  u->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
  u->family = family;
  u->loop = loop;
  u->pool = pool;
  u->cb = cb;
  u->cb_arg = arg;
  rc = uv_poll_init(loop, &u->poll, u->fd);
  if (rc) goto fail;
  u->poll.data = u;
  uv_prepare_init(loop, &u->prepare);
  u->prepare.data = u;
  u->handles_open = 2;
  *out = u;
  return 0;
fail:
  if (u->fd >= 0) close(u->fd);
  free(u->queue);
  free(u);
  return rc;
}

int sfu_udp_start(sfu_udp_t *u) {
  if (u->closing) return VEIL_ESFU_CLOSED;
  u->poll_events = UV_READABLE;
  int rc = uv_poll_start(&u->poll, u->poll_events, on_poll);
  if (rc) return rc;
  return uv_prepare_start(&u->prepare, on_prepare);
}

uint16_t sfu_udp_port(const sfu_udp_t *u) { return u->port; }
int sfu_udp_family(const sfu_udp_t *u) { return u->family; }
const sfu_udp_stats_t *sfu_udp_stats(const sfu_udp_t *u) { return &u->stats; }

static void set_writable_interest(sfu_udp_t *u, int on) {
  int ev = UV_READABLE | (on ? UV_WRITABLE : 0);
  if (ev == u->poll_events || u->closing) return;
  u->poll_events = ev;
  uv_poll_start(&u->poll, ev, on_poll);
}

void sfu_udp_flush(sfu_udp_t *u) {
  struct mmsghdr msgs[64];
  struct iovec iov[64];
  while (u->count > 0) {
    unsigned n = 0;
    for (; n < 64 && n < u->count; n++) {
      send_entry_t *e = &u->queue[(u->head + n) % SFU_UDP_QUEUE_CAP];
      iov[n].iov_base = e->pkt->data;
      iov[n].iov_len = e->pkt->len;
      memset(&msgs[n], 0, sizeof msgs[n]);
      msgs[n].msg_hdr.msg_name = &e->to;
      msgs[n].msg_hdr.msg_namelen = e->tolen;
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
    }
    int sent = sendmmsg(u->fd, msgs, n, MSG_DONTWAIT);
    u->stats.tx_syscalls++;
    unsigned done;
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        set_writable_interest(u, 1);
        return;
      }
      if (errno == EINTR) continue;
      /* The first datagram failed for itself (e.g. EMSGSIZE, ECONNREFUSED from an ICMP
       * error, EHOSTUNREACH): drop it and go on with the rest. */
      done = 1;
      u->stats.tx_dropped++;
    } else {
      done = (unsigned)sent;
      for (unsigned i = 0; i < done; i++) {
        u->stats.tx_packets++;
        u->stats.tx_bytes += u->queue[(u->head + i) % SFU_UDP_QUEUE_CAP].pkt->len;
      }
    }
    for (unsigned i = 0; i < done; i++) {
      send_entry_t *e = &u->queue[u->head];
      sfu_pool_put(u->pool, e->pkt);
      e->pkt = NULL;
      u->head = (u->head + 1) % SFU_UDP_QUEUE_CAP;
      u->count--;
    }
  }
  set_writable_interest(u, 0);
}

int sfu_udp_send(sfu_udp_t *u, sfu_pkt_t *pkt, const struct sockaddr *to) {
  if (u->closing) {
    sfu_pool_put(u->pool, pkt);
    return VEIL_ESFU_CLOSED;
  }
  if (u->count == SFU_UDP_QUEUE_CAP) {
    sfu_udp_flush(u);
    if (u->count == SFU_UDP_QUEUE_CAP) {
      u->stats.tx_dropped++;
      sfu_pool_put(u->pool, pkt);
      return VEIL_ESFU_QUEUE_FULL;
    }
  }
  send_entry_t *e = &u->queue[(u->head + u->count) % SFU_UDP_QUEUE_CAP];
  e->pkt = pkt;
  e->tolen = to_socket_family(u, to, &e->to);
  u->count++;
  if (u->count >= SFU_UDP_FLUSH_AT) sfu_udp_flush(u);
  return 0;
}

static void recv_batches(sfu_udp_t *u) {
  struct mmsghdr msgs[SFU_UDP_BATCH];
  struct iovec iov[SFU_UDP_BATCH];
  struct sockaddr_storage from[SFU_UDP_BATCH];
  sfu_pkt_t *pkts[SFU_UDP_BATCH];
  for (int batch = 0; batch < SFU_UDP_MAX_BATCHES && !u->closing; batch++) {
    unsigned n = 0;
    for (; n < SFU_UDP_BATCH; n++) {
      pkts[n] = sfu_pool_get(u->pool);
      if (!pkts[n]) break;
      iov[n].iov_base = pkts[n]->data;
      /* Leave room for the SRTP trailer a forwarded copy may need; a datagram larger than
       * this is truncated (MSG_TRUNC) and dropped. */
      iov[n].iov_len = SFU_PKT_CAP - 256;
      memset(&msgs[n], 0, sizeof msgs[n]);
      msgs[n].msg_hdr.msg_name = &from[n];
      msgs[n].msg_hdr.msg_namelen = sizeof from[n];
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
    }
    if (n == 0) {
      /* Pool exhausted: leave datagrams in the kernel; flushing frees send buffers. */
      u->stats.rx_dropped++;
      break;
    }
    int got = recvmmsg(u->fd, msgs, n, MSG_DONTWAIT, NULL);
    u->stats.rx_syscalls++;
    if (got < 0) got = 0;
    for (unsigned i = (unsigned)got; i < n; i++) sfu_pool_put(u->pool, pkts[i]);
    for (int i = 0; i < got; i++) {
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        u->stats.rx_dropped++;
        sfu_pool_put(u->pool, pkts[i]);
        continue;
      }
      pkts[i]->len = msgs[i].msg_len;
      u->stats.rx_packets++;
      u->stats.rx_bytes += msgs[i].msg_len;
      struct sockaddr_storage src;
      sfu_udp_unmap((struct sockaddr *)&from[i], &src);
      if (u->closing) {
        sfu_pool_put(u->pool, pkts[i]);
        continue;
      }
      u->cb(u->cb_arg, pkts[i], (struct sockaddr *)&src);
    }
    /* One sendmmsg pass for the fan-out of this batch. */
    if (!u->closing) sfu_udp_flush(u);
    if ((unsigned)got < n) break; /* socket drained */
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  sfu_udp_t *u = h->data;
  if (status < 0 || u->closing) return;
  if (events & UV_WRITABLE) sfu_udp_flush(u);
  if (events & UV_READABLE) recv_batches(u);
}

static void on_prepare(uv_prepare_t *h) {
  sfu_udp_t *u = h->data;
  if (u->count > 0 && !u->closing) sfu_udp_flush(u);
}

static void on_handle_closed(uv_handle_t *h) {
  sfu_udp_t *u = h->data;
  if (--u->handles_open > 0) return;
  close(u->fd);
  sfu_udp_close_cb cb = u->close_cb;
  void *arg = u->close_arg;
  free(u->queue);
  free(u);
  if (cb) cb(arg);
}

void sfu_udp_close(sfu_udp_t *u, sfu_udp_close_cb cb, void *arg) {
  if (u->closing) return;
  u->closing = 1;
  u->close_cb = cb;
  u->close_arg = arg;
  while (u->count > 0) {
    sfu_pool_put(u->pool, u->queue[u->head].pkt);
    u->head = (u->head + 1) % SFU_UDP_QUEUE_CAP;
    u->count--;
  }
  uv_close((uv_handle_t *)&u->poll, on_handle_closed);
  uv_close((uv_handle_t *)&u->prepare, on_handle_closed);
}
