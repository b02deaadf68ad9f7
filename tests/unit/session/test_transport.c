/* The client transport (clients/lib/session/vs_transport.h) against a server side made of
 * the SFU's own pieces on the same loop: STUN answers under the ICE password
 * (sfu/stun.h), the DTLS server (sfu/dtls.h) and SRTP (sfu/srtp.h). */
#include <criterion/criterion.h>
#include <string.h>
#include <uv.h>

#include "clients/lib/session/vs_transport.h"
#include "common/bytes.h"
#include "common/err.h"
#include "sfu/demux.h"
#include "sfu/dtls.h"
#include "sfu/rtp.h"
#include "sfu/srtp.h"
#include "sfu/stun.h"

#define SRV_PWD "srvpasswordsrvpassword24"

typedef struct srv {
  uv_udp_t udp;
  struct sockaddr_storage peer;
  int have_peer;
  sfu_dtls_ctx_t *dctx;
  sfu_dtls_t *dtls;
  sfu_srtp_t *in, *out;
  int drop_checks;    /* checks to ignore before answering */
  int wrong_key;      /* answer with the wrong MESSAGE-INTEGRITY key */
  int checks, rtp_in;
  uint8_t buf[2048];
} srv_t;

static uv_loop_t loop;
static srv_t S;
static vs_transport_t *T;
static vs_transport_state_t last_state;
static int client_rtp;

static void srv_send(const uint8_t *b, size_t n) {
  uv_buf_t ub = uv_buf_init((char *)b, (unsigned)n);
  uv_udp_try_send(&S.udp, &ub, 1, (const struct sockaddr *)&S.peer);
}

static void srv_flush_dtls(void) {
  uint8_t b[2048];
  long n;
  while ((n = sfu_dtls_pop_datagram(S.dtls, b, sizeof b)) > 0)
    srv_send(b, (size_t)n);
}

static void srv_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  (void)h, (void)sz;
  b->base = (char *)S.buf;
  b->len = sizeof S.buf;
}

static void srv_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *from, unsigned fl) {
  (void)u, (void)fl;
  if (n <= 0 || !from)
    return;
  memcpy(&S.peer, from, sizeof(struct sockaddr_in));
  S.have_peer = 1;
  uint8_t *p = (uint8_t *)b->base;
  size_t len = (size_t)n;
  switch (sfu_demux_classify(p, len)) {
  case SFU_PKT_STUN: {
    sfu_stun_msg_t m;
    cr_assert_eq(sfu_stun_parse(p, len, &m), 0);
    cr_assert_eq(sfu_stun_verify_integrity(&m, (const uint8_t *)SRV_PWD, strlen(SRV_PWD)), 0,
                 "checks carry MESSAGE-INTEGRITY under the server's password");
    S.checks++;
    if (S.drop_checks > 0) {
      S.drop_checks--;
      return;
    }
    sfu_stun_addr_t a;
    sfu_stun_addr_from_sockaddr(&a, from);
    uint8_t out[512];
    size_t ol = 0;
    const char *key = S.wrong_key ? "not-the-password-at-all" : SRV_PWD;
    cr_assert_eq(sfu_stun_encode_binding_success(out, sizeof out, m.tid, &a, (const uint8_t *)key, strlen(key), &ol), 0);
    srv_send(out, ol);
    break;
  }
  case SFU_PKT_DTLS: {
    sfu_dtls_handle_datagram(S.dtls, p, len, uv_now(&loop));
    srv_flush_dtls();
    if (sfu_dtls_state(S.dtls) == SFU_DTLS_CONNECTED && !S.in) {
      sfu_dtls_srtp_keys_t k;
      cr_assert_eq(sfu_dtls_srtp_keys(S.dtls, &k), 0);
      cr_assert_eq(sfu_srtp_new(k.profile, SFU_SRTP_INBOUND, k.remote_key, k.key_len, k.remote_salt, k.salt_len, &S.in), 0);
      cr_assert_eq(sfu_srtp_new(k.profile, SFU_SRTP_OUTBOUND, k.local_key, k.key_len, k.local_salt, k.salt_len, &S.out), 0);
    }
    break;
  }
  case SFU_PKT_RTP:
    if (S.in && sfu_srtp_unprotect_rtp(S.in, p, &len) == 0)
      S.rtp_in++;
    break;
  default:
    break;
  }
}

static void on_state(void *arg, vs_transport_state_t st, int err) {
  (void)arg, (void)err;
  last_state = st;
}

static void on_rtp(void *arg, uint8_t *pkt, size_t len) {
  (void)arg;
  sfu_rtp_hdr_t h;
  if (sfu_rtp_parse(pkt, len, &h) == 0 && h.ssrc == 42)
    client_rtp++;
}

static void setup(void) {
  memset(&S, 0, sizeof S);
  last_state = VS_TRANSPORT_NEW;
  client_rtp = 0;
  cr_assert_eq(uv_loop_init(&loop), 0);
  uv_udp_init(&loop, &S.udp);
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  cr_assert_eq(uv_udp_bind(&S.udp, (const struct sockaddr *)&a, 0), 0);
  uv_udp_recv_start(&S.udp, srv_alloc, srv_recv);
  cr_assert_eq(sfu_dtls_ctx_new(&S.dctx), 0);
  sfu_dtls_config_t dc = {.role = SFU_DTLS_ROLE_SERVER};
  cr_assert_eq(sfu_dtls_new(S.dctx, &dc, &S.dtls), 0);
  cr_assert_eq(sfu_dtls_start(S.dtls, uv_now(&loop)), 0);
  vs_transport_callbacks_t cb = {.on_state = on_state, .on_rtp = on_rtp};
  cr_assert_eq(vs_transport_new(&loop, &cb, &T), 0);
  cr_assert_eq(sfu_dtls_set_remote_fingerprint(S.dtls, "sha-256", vs_transport_fingerprint(T)), 0);
}

static void closed(uv_handle_t *h) { (void)h; }

static void teardown(void) {
  vs_transport_close(T, NULL, NULL);
  uv_close((uv_handle_t *)&S.udp, closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  sfu_srtp_free(S.in);
  sfu_srtp_free(S.out);
  sfu_dtls_free(S.dtls);
  sfu_dtls_ctx_free(S.dctx);
}

static int start(const char *fingerprint) {
  struct sockaddr_in a;
  int alen = sizeof a;
  uv_udp_getsockname(&S.udp, (struct sockaddr *)&a, &alen);
  vs_remote_t r = {.ip = "127.0.0.1", .port = ntohs(a.sin_port), .ice_ufrag = "srvu", .ice_pwd = SRV_PWD,
                   .fingerprint = fingerprint ? fingerprint : sfu_dtls_ctx_fingerprint(S.dctx)};
  return vs_transport_start(T, &r);
}

/* Runs the loop until `st` is reached or `ms` pass. */
static void run_until(vs_transport_state_t st, uint64_t ms) {
  uint64_t end = uv_now(&loop) + ms;
  while (last_state != st && uv_now(&loop) < end) {
    uv_run(&loop, UV_RUN_ONCE);
    uv_update_time(&loop);
  }
}

TestSuite(transport, .init = setup, .fini = teardown, .timeout = 30);

Test(transport, retransmits_lost_checks_then_carries_srtp_both_ways) {
  S.drop_checks = 2;
  cr_assert_eq(start(NULL), 0);
  run_until(VS_TRANSPORT_CONNECTED, 5000);
  cr_assert_eq(last_state, VS_TRANSPORT_CONNECTED);
  cr_assert_geq(S.checks, 3, "checks were retransmitted");
  /* client -> server */
  uint8_t pkt[1500];
  veil_writer_t w;
  veil_writer_init(&w, pkt, 200);
  uint8_t pl[20] = {1};
  sfu_rtp_write_params_t wp = {.payload_type = 96, .ssrc = 7, .payload = {pl, sizeof pl}};
  cr_assert_eq(sfu_rtp_write(&w, &wp), 0);
  cr_assert_eq(vs_transport_send_rtp(T, pkt, w.len, sizeof pkt), 0);
  /* server -> client */
  uint8_t back[1500];
  veil_writer_init(&w, back, 200);
  wp.ssrc = 42;
  cr_assert_eq(sfu_rtp_write(&w, &wp), 0);
  size_t bl = w.len;
  cr_assert_eq(sfu_srtp_protect_rtp(S.out, back, &bl, sizeof back), 0);
  srv_send(back, bl);
  uint64_t end = uv_now(&loop) + 2000;
  while ((S.rtp_in < 1 || client_rtp < 1) && uv_now(&loop) < end) {
    uv_run(&loop, UV_RUN_ONCE);
    uv_update_time(&loop);
  }
  cr_assert_eq(S.rtp_in, 1);
  cr_assert_eq(client_rtp, 1);
}

Test(transport, binding_response_failing_integrity_is_ignored) {
  S.wrong_key = 1;
  cr_assert_eq(start(NULL), 0);
  run_until(VS_TRANSPORT_DTLS, 800);
  cr_assert_eq(last_state, VS_TRANSPORT_CHECKING, "a forged response does not nominate");
  vs_transport_stats_t st;
  vs_transport_get_stats(T, &st);
  cr_assert_eq(st.stun_responses, 0);
  cr_assert_geq(st.stun_checks, 3, "still checking");
}

Test(transport, server_certificate_not_matching_the_signaled_fingerprint_fails) {
  char wrong[SFU_DTLS_FINGERPRINT_LEN + 1];
  snprintf(wrong, sizeof wrong, "%s", sfu_dtls_ctx_fingerprint(S.dctx));
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  cr_assert_eq(start(wrong), 0);
  run_until(VS_TRANSPORT_FAILED, 5000);
  cr_assert_eq(last_state, VS_TRANSPORT_FAILED);
}
