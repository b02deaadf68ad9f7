/* DTLS-SRTP glue: two sans-I/O associations wired back to back in memory. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "sfu/dtls.h"
#include "sfu/srtp.h"

typedef struct pair {
  sfu_dtls_ctx_t *sctx, *cctx;
  sfu_dtls_t *server, *client;
} pair_t;

static void pair_new(pair_t *p, int set_fps) {
  memset(p, 0, sizeof *p);
  cr_assert_eq(sfu_dtls_ctx_new(&p->sctx), 0);
  cr_assert_eq(sfu_dtls_ctx_new(&p->cctx), 0);
  sfu_dtls_config_t sc = {.role = SFU_DTLS_ROLE_SERVER};
  sfu_dtls_config_t cc = {.role = SFU_DTLS_ROLE_CLIENT};
  cr_assert_eq(sfu_dtls_new(p->sctx, &sc, &p->server), 0);
  cr_assert_eq(sfu_dtls_new(p->cctx, &cc, &p->client), 0);
  if (set_fps) {
    cr_assert_eq(sfu_dtls_set_remote_fingerprint(p->server, "sha-256",
                                                 sfu_dtls_ctx_fingerprint(p->cctx)), 0);
    cr_assert_eq(sfu_dtls_set_remote_fingerprint(p->client, "SHA-256",
                                                 sfu_dtls_ctx_fingerprint(p->sctx)), 0);
  }
}

static void pair_free(pair_t *p) {
  sfu_dtls_free(p->server);
  sfu_dtls_free(p->client);
  sfu_dtls_ctx_free(p->sctx);
  sfu_dtls_ctx_free(p->cctx);
}

/* Moves every queued datagram from a to b; returns how many moved. */
static int pump(sfu_dtls_t *a, sfu_dtls_t *b, uint64_t now, size_t *max_dgram) {
  uint8_t buf[1500];
  long n;
  int moved = 0;
  while ((n = sfu_dtls_pop_datagram(a, buf, sizeof buf)) > 0) {
    if (max_dgram && (size_t)n > *max_dgram) *max_dgram = (size_t)n;
    sfu_dtls_handle_datagram(b, buf, (size_t)n, now);
    moved++;
  }
  return moved;
}

static void run_handshake(pair_t *p, size_t *max_dgram) {
  cr_assert_eq(sfu_dtls_start(p->server, 0), 0);
  cr_assert_eq(sfu_dtls_start(p->client, 0), 0);
  for (int i = 0; i < 20; i++) {
    int m = pump(p->client, p->server, 1, max_dgram) + pump(p->server, p->client, 1, max_dgram);
    if (m == 0) break;
  }
}

Test(dtls, handshake_exports_matching_srtp_keys_gcm_preferred) {
  pair_t p;
  pair_new(&p, 1);
  size_t max_dgram = 0;
  run_handshake(&p, &max_dgram);
  cr_assert_eq(sfu_dtls_state(p.server), SFU_DTLS_CONNECTED, "server err %d",
               sfu_dtls_error(p.server));
  cr_assert_eq(sfu_dtls_state(p.client), SFU_DTLS_CONNECTED);
  cr_assert_leq(max_dgram, 1200, "datagram of %zu bytes exceeds the MTU", max_dgram);
  sfu_dtls_srtp_keys_t sk, ck;
  cr_assert_eq(sfu_dtls_srtp_keys(p.server, &sk), 0);
  cr_assert_eq(sfu_dtls_srtp_keys(p.client, &ck), 0);
  cr_assert_eq(sk.profile, SFU_SRTP_AEAD_AES_128_GCM);
  cr_assert_eq(sk.key_len, 16);
  cr_assert_eq(sk.salt_len, 12);
  /* What one side writes with, the other reads with (RFC 5764 §4.2). */
  cr_assert_arr_eq(sk.local_key, ck.remote_key, 16);
  cr_assert_arr_eq(sk.remote_key, ck.local_key, 16);
  cr_assert_arr_eq(sk.local_salt, ck.remote_salt, 12);
  cr_assert_arr_eq(sk.remote_salt, ck.local_salt, 12);
  cr_assert(memcmp(sk.local_key, sk.remote_key, 16) != 0, "directions share a key");

  /* The exported keys actually interoperate through SRTP. */
  sfu_srtp_t *out, *in;
  cr_assert_eq(sfu_srtp_new(ck.profile, SFU_SRTP_OUTBOUND, ck.local_key, ck.key_len,
                            ck.local_salt, ck.salt_len, &out), 0);
  cr_assert_eq(sfu_srtp_new(sk.profile, SFU_SRTP_INBOUND, sk.remote_key, sk.key_len,
                            sk.remote_salt, sk.salt_len, &in), 0);
  uint8_t pkt[256] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44, 'h', 'i'};
  size_t len = 14;
  cr_assert_eq(sfu_srtp_protect_rtp(out, pkt, &len, sizeof pkt), 0);
  cr_assert_eq(sfu_srtp_unprotect_rtp(in, pkt, &len), 0);
  cr_assert_eq(len, 14);
  cr_assert_eq(pkt[12], 'h');
  sfu_srtp_free(out);
  sfu_srtp_free(in);
  pair_free(&p);
}

Test(dtls, rejects_certificate_not_matching_signaled_fingerprint) {
  pair_t p;
  pair_new(&p, 0);
  sfu_dtls_ctx_t *other;
  cr_assert_eq(sfu_dtls_ctx_new(&other), 0);
  /* The server was told to expect another certificate: a man in the middle. */
  cr_assert_eq(sfu_dtls_set_remote_fingerprint(p.server, "sha-256",
                                               sfu_dtls_ctx_fingerprint(other)), 0);
  cr_assert_eq(sfu_dtls_set_remote_fingerprint(p.client, "sha-256",
                                               sfu_dtls_ctx_fingerprint(p.sctx)), 0);
  run_handshake(&p, NULL);
  cr_assert_eq(sfu_dtls_state(p.server), SFU_DTLS_FAILED);
  cr_assert_eq(sfu_dtls_error(p.server), VEIL_ESFU_DTLS_FINGERPRINT);
  cr_assert_neq(sfu_dtls_state(p.client), SFU_DTLS_CONNECTED);
  sfu_dtls_srtp_keys_t k;
  cr_assert_eq(sfu_dtls_srtp_keys(p.server, &k), VEIL_ESTATE);
  sfu_dtls_ctx_free(other);
  pair_free(&p);
}

Test(dtls, rejects_handshake_without_signaled_fingerprint) {
  pair_t p;
  pair_new(&p, 0);
  cr_assert_eq(sfu_dtls_set_remote_fingerprint(p.client, "sha-256",
                                               sfu_dtls_ctx_fingerprint(p.sctx)), 0);
  run_handshake(&p, NULL);
  cr_assert_eq(sfu_dtls_state(p.server), SFU_DTLS_FAILED);
  cr_assert_eq(sfu_dtls_error(p.server), VEIL_ESFU_DTLS_FINGERPRINT);
  pair_free(&p);
}

Test(dtls, rejects_malformed_fingerprint_strings) {
  pair_t p;
  pair_new(&p, 0);
  char fp[SFU_DTLS_FINGERPRINT_LEN];
  strcpy(fp, sfu_dtls_ctx_fingerprint(p.cctx));
  cr_assert_eq(sfu_dtls_set_remote_fingerprint(p.server, "sha-1", fp), VEIL_EUNSUPPORTED);
  fp[2] = '-';
  cr_assert_eq(sfu_dtls_set_remote_fingerprint(p.server, "sha-256", fp), VEIL_EDECODE);
  fp[2] = ':';
  fp[0] = 'G';
  cr_assert_eq(sfu_dtls_set_remote_fingerprint(p.server, "sha-256", fp), VEIL_EDECODE);
  cr_assert_eq(sfu_dtls_set_remote_fingerprint(p.server, "sha-256", "AB:CD"), VEIL_EDECODE);
  pair_free(&p);
}

Test(dtls, fails_after_handshake_deadline_without_peer) {
  sfu_dtls_ctx_t *ctx;
  cr_assert_eq(sfu_dtls_ctx_new(&ctx), 0);
  sfu_dtls_config_t cc = {.role = SFU_DTLS_ROLE_CLIENT, .handshake_timeout_ms = 5000};
  sfu_dtls_t *c;
  cr_assert_eq(sfu_dtls_new(ctx, &cc, &c), 0);
  cr_assert_eq(sfu_dtls_start(c, 1000), 0);
  uint8_t buf[1500];
  cr_assert_gt(sfu_dtls_pop_datagram(c, buf, sizeof buf), 0, "no ClientHello queued");
  uint64_t t = sfu_dtls_next_timeout(c, 1000);
  cr_assert_leq(t, 6000);
  cr_assert_eq(sfu_dtls_handle_timeout(c, 5999), 0);
  cr_assert_eq(sfu_dtls_state(c), SFU_DTLS_HANDSHAKING);
  cr_assert_eq(sfu_dtls_handle_timeout(c, 6000), VEIL_ESFU_DTLS_TIMEOUT);
  cr_assert_eq(sfu_dtls_state(c), SFU_DTLS_FAILED);
  cr_assert_eq(sfu_dtls_next_timeout(c, 6000), UINT64_MAX);
  sfu_dtls_free(c);
  sfu_dtls_ctx_free(ctx);
}

Test(dtls, retransmits_client_hello_when_timer_fires) {
  sfu_dtls_ctx_t *ctx;
  cr_assert_eq(sfu_dtls_ctx_new(&ctx), 0);
  sfu_dtls_config_t cc = {.role = SFU_DTLS_ROLE_CLIENT};
  sfu_dtls_t *c;
  cr_assert_eq(sfu_dtls_new(ctx, &cc, &c), 0);
  cr_assert_eq(sfu_dtls_start(c, 0), 0);
  uint8_t buf[1500];
  cr_assert_gt(sfu_dtls_pop_datagram(c, buf, sizeof buf), 0);
  cr_assert_eq(sfu_dtls_pop_datagram(c, buf, sizeof buf), 0);
  /* OpenSSL's timer reads the system clock: wait out the 400 ms initial timeout. */
  struct timespec ts = {0, 450 * 1000 * 1000};
  nanosleep(&ts, NULL);
  cr_assert_eq(sfu_dtls_handle_timeout(c, 450), 0);
  cr_assert_gt(sfu_dtls_pop_datagram(c, buf, sizeof buf), 0, "no retransmission");
  sfu_dtls_free(c);
  sfu_dtls_ctx_free(ctx);
}

Test(dtls, close_notify_moves_peer_to_closed) {
  pair_t p;
  pair_new(&p, 1);
  run_handshake(&p, NULL);
  cr_assert_eq(sfu_dtls_state(p.server), SFU_DTLS_CONNECTED);
  sfu_dtls_close(p.client);
  cr_assert_eq(sfu_dtls_state(p.client), SFU_DTLS_CLOSED);
  pump(p.client, p.server, 2, NULL);
  cr_assert_eq(sfu_dtls_state(p.server), SFU_DTLS_CLOSED);
  pair_free(&p);
}

Test(dtls, ignores_garbage_datagram_before_handshake_without_crashing) {
  pair_t p;
  pair_new(&p, 1);
  uint8_t junk[40];
  memset(junk, 0x16, sizeof junk);
  sfu_dtls_handle_datagram(p.server, junk, sizeof junk, 0);
  cr_assert_neq(sfu_dtls_state(p.server), SFU_DTLS_CONNECTED);
  pair_free(&p);
}

static void handshake_with_client_profiles(const char *profiles, pair_t *p) {
  memset(p, 0, sizeof *p);
  cr_assert_eq(sfu_dtls_ctx_new(&p->sctx), 0);
  cr_assert_eq(sfu_dtls_ctx_new(&p->cctx), 0);
  sfu_dtls_config_t sc = {.role = SFU_DTLS_ROLE_SERVER};
  sfu_dtls_config_t cc = {.role = SFU_DTLS_ROLE_CLIENT, .srtp_profiles = profiles};
  cr_assert_eq(sfu_dtls_new(p->sctx, &sc, &p->server), 0);
  cr_assert_eq(sfu_dtls_new(p->cctx, &cc, &p->client), 0);
  sfu_dtls_set_remote_fingerprint(p->server, "sha-256", sfu_dtls_ctx_fingerprint(p->cctx));
  sfu_dtls_set_remote_fingerprint(p->client, "sha-256", sfu_dtls_ctx_fingerprint(p->sctx));
  run_handshake(p, NULL);
}

Test(dtls, accepts_aes_cm_sha1_80_only_client) {
  pair_t p;
  handshake_with_client_profiles("SRTP_AES128_CM_SHA1_80", &p);
  cr_assert_eq(sfu_dtls_state(p.server), SFU_DTLS_CONNECTED);
  sfu_dtls_srtp_keys_t sk, ck;
  cr_assert_eq(sfu_dtls_srtp_keys(p.server, &sk), 0);
  cr_assert_eq(sfu_dtls_srtp_keys(p.client, &ck), 0);
  cr_assert_eq(sk.profile, SFU_SRTP_AES128_CM_SHA1_80);
  cr_assert_eq(sk.salt_len, 14);
  cr_assert_arr_eq(sk.remote_salt, ck.local_salt, 14);
  pair_free(&p);
}

Test(dtls, server_prefers_gcm_even_when_client_lists_cm_first) {
  pair_t p;
  handshake_with_client_profiles("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", &p);
  sfu_dtls_srtp_keys_t sk;
  cr_assert_eq(sfu_dtls_srtp_keys(p.server, &sk), 0);
  cr_assert_eq(sk.profile, SFU_SRTP_AEAD_AES_128_GCM);
  pair_free(&p);
}

Test(dtls, fails_when_no_common_srtp_profile) {
  pair_t p;
  handshake_with_client_profiles("SRTP_AES128_CM_SHA1_32", &p);
  /* Without use_srtp agreement there are no media keys: the association must not count
   * as connected on either side that checks (RFC 5764 §4.1.1). */
  cr_assert_eq(sfu_dtls_state(p.server), SFU_DTLS_FAILED);
  cr_assert_eq(sfu_dtls_error(p.server), VEIL_ESFU_DTLS_NO_SRTP);
  pair_free(&p);
}

Test(dtls, never_emits_datagram_over_configured_mtu) {
  pair_t p;
  memset(&p, 0, sizeof p);
  cr_assert_eq(sfu_dtls_ctx_new(&p.sctx), 0);
  cr_assert_eq(sfu_dtls_ctx_new(&p.cctx), 0);
  /* A small path MTU: the certificate flight must be fragmented by OpenSSL and our
   * record packing must never glue records past the limit. */
  sfu_dtls_config_t sc = {.role = SFU_DTLS_ROLE_SERVER, .mtu = 300};
  sfu_dtls_config_t cc = {.role = SFU_DTLS_ROLE_CLIENT, .mtu = 300};
  cr_assert_eq(sfu_dtls_new(p.sctx, &sc, &p.server), 0);
  cr_assert_eq(sfu_dtls_new(p.cctx, &cc, &p.client), 0);
  sfu_dtls_set_remote_fingerprint(p.server, "sha-256", sfu_dtls_ctx_fingerprint(p.cctx));
  sfu_dtls_set_remote_fingerprint(p.client, "sha-256", sfu_dtls_ctx_fingerprint(p.sctx));
  size_t max_dgram = 0;
  run_handshake(&p, &max_dgram);
  cr_assert_eq(sfu_dtls_state(p.server), SFU_DTLS_CONNECTED);
  cr_assert_eq(sfu_dtls_state(p.client), SFU_DTLS_CONNECTED);
  cr_assert_leq(max_dgram, 300, "datagram of %zu bytes over a 300-byte MTU", max_dgram);
  pair_free(&p);
}
