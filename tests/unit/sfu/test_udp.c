/* UDP shell: dual-stack receive and reply, bounded reads per wakeup, pool accounting. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "sfu/pool.h"
#include "sfu/udp.h"

typedef struct ctx {
  sfu_udp_t *u;
  sfu_pool_t *pool;
  int got, echo, closed;
  int last_family;
} ctx_t;

static void on_recv(void *arg, sfu_pkt_t *pkt, const struct sockaddr *from) {
  ctx_t *c = arg;
  c->got++;
  c->last_family = from->sa_family;
  if (c->echo)
    sfu_udp_send(c->u, pkt, from);
  else
    sfu_pool_put(c->pool, pkt);
}

static void on_closed(void *arg) { ((ctx_t *)arg)->closed = 1; }

static int client_v4(uint16_t port, struct sockaddr_in *srv) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  memset(srv, 0, sizeof *srv);
  srv->sin_family = AF_INET;
  srv->sin_port = htons(port);
  srv->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return fd;
}

/* A loop, a pool of pool_buffers and a UDP shell on bind_ip (any port) reporting to c;
 * returns what sfu_udp_init returned. */
static int open_udp(uv_loop_t *loop, ctx_t *c, uint32_t pool_buffers, const char *bind_ip) {
  cr_assert_eq(uv_loop_init(loop), 0);
  cr_assert_eq(sfu_pool_new(pool_buffers, &c->pool), 0);
  return sfu_udp_init(loop, c->pool, bind_ip, 0, on_recv, c, &c->u);
}

static void finish(uv_loop_t *loop, ctx_t *c) {
  sfu_udp_close(c->u, on_closed, c);
  uv_run(loop, UV_RUN_DEFAULT);
  cr_assert(c->closed);
  cr_assert_eq(sfu_pool_available(c->pool), sfu_pool_capacity(c->pool), "pool buffers leaked");
  sfu_pool_free(c->pool);
  cr_assert_eq(uv_loop_close(loop), 0);
}

Test(udp, dual_stack_socket_serves_ipv4_peers_as_plain_ipv4) {
  uv_loop_t loop;
  ctx_t c = {.echo = 1};
  int rc = open_udp(&loop, &c, 512, "::");
  if (rc == -EAFNOSUPPORT) cr_skip_test("no IPv6 on this host");
  cr_assert_eq(rc, 0, "%s", veil_strerror(rc));
  cr_assert_eq(sfu_udp_family(c.u), AF_INET6);
  cr_assert_eq(sfu_udp_start(c.u), 0);
  struct sockaddr_in srv;
  int fd = client_v4(sfu_udp_port(c.u), &srv);
  cr_assert_eq(sendto(fd, "ping", 4, 0, (struct sockaddr *)&srv, sizeof srv), 4);
  for (int i = 0; i < 200 && c.got == 0; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  cr_assert_eq(c.got, 1);
  cr_assert_eq(c.last_family, AF_INET, "v4-mapped source not unmapped");
  uv_run(&loop, UV_RUN_NOWAIT); /* prepare handle flushes the echo */
  char buf[16];
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  cr_assert_eq(recv(fd, buf, sizeof buf, 0), 4, "echo over the dual-stack socket not received");
  cr_assert_eq(memcmp(buf, "ping", 4), 0);
  close(fd);
  finish(&loop, &c);
}

Test(udp, bounds_datagrams_handled_per_wakeup) {
  uv_loop_t loop;
  ctx_t c = {0};
  cr_assert_eq(open_udp(&loop, &c, 512, "127.0.0.1"), 0);
  cr_assert_eq(sfu_udp_start(c.u), 0);
  struct sockaddr_in srv;
  int fd = client_v4(sfu_udp_port(c.u), &srv);
  for (int i = 0; i < 1000; i++) sendto(fd, "x", 1, 0, (struct sockaddr *)&srv, sizeof srv);
  usleep(20000);
  uv_run(&loop, UV_RUN_NOWAIT);
  cr_assert_eq(c.got, SFU_UDP_BATCH * SFU_UDP_MAX_BATCHES,
               "one wakeup handled %d datagrams (loop starvation bound)", c.got);
  for (int i = 0; i < 20 && c.got < 1000; i++) uv_run(&loop, UV_RUN_NOWAIT);
  cr_assert_eq(c.got, 1000);
  close(fd);
  finish(&loop, &c);
}

Test(udp, send_takes_ownership_and_close_returns_queued_buffers) {
  uv_loop_t loop;
  ctx_t c = {0};
  cr_assert_eq(open_udp(&loop, &c, 64, "127.0.0.1"), 0);
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(9),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  for (int i = 0; i < 10; i++) {
    sfu_pkt_t *p = sfu_pool_get(c.pool);
    p->len = 10;
    cr_assert_eq(sfu_udp_send(c.u, p, (struct sockaddr *)&dst), 0);
  }
  cr_assert_eq(sfu_pool_available(c.pool), 54);
  finish(&loop, &c); /* closing without a flush must hand the 10 buffers back */
}

Test(udp, rejects_unparseable_bind_address) {
  uv_loop_t loop;
  ctx_t c = {0};
  cr_assert_eq(open_udp(&loop, &c, 8, "not-an-ip"), VEIL_EINVAL);
  sfu_pool_free(c.pool);
  cr_assert_eq(uv_loop_close(&loop), 0, "a failed init left a handle open");
}
