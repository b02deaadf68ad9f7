/*
 * sfu/udp — the worker's one UDP socket on libuv: batched receive (recvmmsg) into pool
 * buffers, a bounded send queue flushed with sendmmsg once per loop iteration.
 *
 * Why uv_poll on our own socket rather than uv_udp with UV_UDP_RECVMMSG: uv_udp hands each
 * datagram to the callback in a slice of one big buffer it asks for per wakeup, and sends
 * one datagram per uv_udp_try_send (or queues copies it allocates). We want the kernel to
 * write straight into pool buffers that then travel through the router without a copy, and
 * one sendmmsg per loop iteration for the whole fan-out of a batch. uv_poll gives us the
 * readiness edge and leaves the syscalls to us; the socket is still closed through libuv
 * (uv_close on the poll handle, then close(fd) in its close callback).
 *
 * Starvation bound (libuv's "prevent loop starvation"): at most SFU_UDP_MAX_BATCHES
 * recvmmsg calls of SFU_UDP_BATCH datagrams per wakeup; the rest waits for the next
 * iteration, so timers and other handles keep running under flood.
 */
#ifndef VEIL_SFU_UDP_H
#define VEIL_SFU_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "sfu/pool.h"

#define SFU_UDP_BATCH 32
#define SFU_UDP_MAX_BATCHES 8
#define SFU_UDP_QUEUE_CAP 8192
/* The queue is flushed early once it holds this many datagrams: a large fan-out (200
 * subscribers x 32 received packets) would otherwise cycle ~13 MB of pool buffers per
 * batch through the cache; flushing at 256 keeps the LIFO pool's buffers cache-hot while
 * still amortising each sendmmsg over 64 datagrams. */
#define SFU_UDP_FLUSH_AT 256

typedef struct sfu_udp sfu_udp_t;

/* One received datagram. Ownership of `pkt` passes to the callee, which returns it to the
 * pool (or hands it on). `from` is valid for the call only. */
typedef void (*sfu_udp_recv_cb)(void *arg, sfu_pkt_t *pkt, const struct sockaddr *from);
typedef void (*sfu_udp_close_cb)(void *arg);

typedef struct sfu_udp_stats {
  uint64_t rx_packets, rx_bytes, rx_dropped; /* dropped: pool empty, truncated */
  uint64_t tx_packets, tx_bytes, tx_dropped; /* dropped: queue full, send error */
  uint64_t tx_syscalls, rx_syscalls;
} sfu_udp_stats_t;

/* Binds `ip`:`port` ("::" = dual-stack). `pool` is borrowed and must outlive the socket. */
int sfu_udp_init(uv_loop_t *loop, sfu_pool_t *pool, const char *ip, uint16_t port,
                 sfu_udp_recv_cb cb, void *arg, sfu_udp_t **out);
int sfu_udp_start(sfu_udp_t *u);
/* Queues `pkt` (ownership passes, always: on error it is returned to the pool) for `to`.
 * Flushed at the end of the current receive batch or before the loop next blocks.
 * VEIL_ESFU_QUEUE_FULL when dropped. */
int sfu_udp_send(sfu_udp_t *u, sfu_pkt_t *pkt, const struct sockaddr *to);
/* Sends what is queued now (until EAGAIN). */
void sfu_udp_flush(sfu_udp_t *u);
/* Drops the queue, closes handles and socket; frees and calls cb(arg) from libuv's close
 * callbacks. */
void sfu_udp_close(sfu_udp_t *u, sfu_udp_close_cb cb, void *arg);
uint16_t sfu_udp_port(const sfu_udp_t *u);
/* Address family of the socket (AF_INET or AF_INET6). */
int sfu_udp_family(const sfu_udp_t *u);
const sfu_udp_stats_t *sfu_udp_stats(const sfu_udp_t *u);

/* Converts an IPv4-mapped IPv6 sockaddr (::ffff:a.b.c.d, seen on dual-stack sockets) to
 * plain IPv4 in place-independent storage; other addresses are copied. */
void sfu_udp_unmap(const struct sockaddr *in, struct sockaddr_storage *out);

#endif
