/*
 * Fuzz target: the SFU's DTLS 1.2 server glue (sfu/dtls.h) over its memory BIOs — what a
 * peer that passed the ICE check (and so may send DTLS) controls. The certificate context
 * is made once (a P-256 key: too slow per input); each input gets a fresh server-role
 * association, so inputs do not leak state into each other, and frees it at the end.
 *
 * Input: one flags byte, then datagrams, each behind a control byte and a 16-bit
 * big-endian length (a length past the end takes the rest: a truncated datagram).
 *   flags bit 0   the peer's fingerprint is signaled (a fixed value no peer certificate
 *                 has: the Certificate is parsed and refused), else none is
 *   flags bit 1   MTU 256 (the smallest accepted) instead of the default 1200
 *   flags bit 2   the association offers only SRTP_AES128_CM_SHA1_80
 *   flags bit 3   the shell calls sfu_dtls_start before the first datagram
 *   flags bit 4   sfu_dtls_close once the datagrams are fed
 *   control bits 0..3   advance the injected clock by that many 500 ms steps first
 *                       (the handshake deadline is 5 s, so it can pass)
 *   control bit 4       then run the timer if it is due, as the shell would
 * After every step the queued datagrams are popped as the shell pops them.
 *
 * Checks beyond "no crash, no leak": no queued datagram exceeds the MTU, each starts with
 * a DTLS content type (RFC 7983: 20..63), and a failed association says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "sfu/dtls.h"

/* A broken contract is a finding: abort so the fuzzer keeps the input. */
static void check(int ok) {
  if (!ok)
    abort();
}

#define HANDSHAKE_TIMEOUT_MS 5000
#define STEP_MS 500

static sfu_dtls_ctx_t *ctx;

static void free_ctx(void) { sfu_dtls_ctx_free(ctx); }

/* Pops every queued datagram into an MTU-sized buffer: one that does not fit is a finding. */
static void drain(sfu_dtls_t *d, uint16_t mtu) {
  uint8_t buf[1500];
  long n;
  while ((n = sfu_dtls_pop_datagram(d, buf, mtu)) != 0) {
    check(n > 0);
    check(buf[0] >= 20 && buf[0] <= 63);
  }
}

static void check_state(const sfu_dtls_t *d, int rc) {
  sfu_dtls_state_t s = sfu_dtls_state(d);
  if (s == SFU_DTLS_FAILED)
    check(sfu_dtls_error(d) < 0);
  if (rc != 0 && rc != VEIL_ESTATE && rc != VEIL_EINVAL)
    check(s == SFU_DTLS_FAILED && rc == sfu_dtls_error(d));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ctx) {
    check(sfu_dtls_ctx_new(&ctx) == 0);
    atexit(free_ctx);
  }
  if (size == 0)
    return 0;
  uint8_t flags = data[0];
  sfu_dtls_config_t cfg = {.role = SFU_DTLS_ROLE_SERVER,
                           .handshake_timeout_ms = HANDSHAKE_TIMEOUT_MS,
                           .mtu = (flags & 0x02) ? 256 : 0,
                           .srtp_profiles = (flags & 0x04) ? "SRTP_AES128_CM_SHA1_80" : NULL};
  uint16_t mtu = cfg.mtu ? cfg.mtu : 1200;
  sfu_dtls_t *d;
  check(sfu_dtls_new(ctx, &cfg, &d) == 0);
  if (flags & 0x01)
    check(sfu_dtls_set_remote_fingerprint(
              d, "sha-256",
              "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
              "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF") == 0);
  uint64_t now = 1000;
  if (flags & 0x08)
    check(sfu_dtls_start(d, now) == 0);

  veil_reader_t r;
  veil_reader_init(&r, data + 1, size - 1);
  uint8_t ctl;
  uint16_t len;
  while (veil_read_u8(&r, &ctl) == 0 && veil_read_u16(&r, &len) == 0) {
    size_t take = len < veil_reader_remaining(&r) ? len : veil_reader_remaining(&r);
    const uint8_t *dgram = r.p;
    veil_skip(&r, take);
    now += (uint64_t)(ctl & 0x0f) * STEP_MS;
    if ((ctl & 0x10) && sfu_dtls_next_timeout(d, now) <= now) {
      check_state(d, sfu_dtls_handle_timeout(d, now));
      drain(d, mtu);
    }
    check_state(d, sfu_dtls_handle_datagram(d, dgram, take, now));
    drain(d, mtu);
  }
  if (flags & 0x10) {
    sfu_dtls_close(d);
    drain(d, mtu);
    check(sfu_dtls_state(d) == SFU_DTLS_CLOSED || sfu_dtls_state(d) == SFU_DTLS_FAILED);
  }
  sfu_dtls_free(d);
  return 0;
}
