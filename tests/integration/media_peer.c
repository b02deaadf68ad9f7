/*
 * media_peer — the media half of an integration-test client. test_signaling.py speaks
 * veil.v1 over the WebSocket itself and drives this process over stdin/stdout for what
 * Python's standard library cannot do: ICE, DTLS-SRTP and SRTP (the in-tree test peer of
 * tests/bench/sfu/sfu_peer.h, i.e. the SFU's own building blocks used from the client side).
 *
 * Line protocol (one command per line on stdin, answers on stdout):
 *   at start                       -> "peer <ufrag> <fingerprint>"
 *   start <port> <ufrag> <pwd> <fp> -> "connected" or "failed" (within 10 s)
 *   send <ssrc> <pt> <count> <hex>  -> sends <count> RTP packets whose payload is <hex>;
 *                                      answers "sent <count>". Sequence numbers continue
 *                                      from the previous send (1, 2, ... across sends), so
 *                                      a second burst is not an SRTP replay (RFC 3711 §3.3.2)
 *   wait <n> <ms>                  -> waits until <n> RTP packets were received in total or
 *                                      <ms> passed; answers "received <total>"
 *   quit                           -> exits 0
 * Every received RTP packet is also reported as "rtp <ssrc> <pt> <seq> <payload-hex>".
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/hex.h"
#include "sfu_peer.h"

static uint64_t received;
static uint32_t next_seq = 1; /* of the next RTP packet sent, whatever its SSRC */

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_media(void *arg, sfu_peer_t *p, int is_rtcp, const uint8_t *d, size_t n) {
  (void)arg, (void)p;
  if (is_rtcp || n < 12)
    return;
  /* RFC 3550 §5.1 fixed header; CSRCs and extensions skipped by their declared sizes. */
  size_t off = 12 + 4u * (d[0] & 0x0f);
  if ((d[0] & 0x10) && off + 4 <= n)
    off += 4 + 4u * (((size_t)d[off + 2] << 8) | d[off + 3]);
  if (off > n)
    return;
  received++;
  char hex[2 * 256 + 1];
  size_t pl = n - off < 256 ? n - off : 256;
  veil_hex_encode(d + off, pl, hex);
  unsigned ssrc = (unsigned)d[8] << 24 | (unsigned)d[9] << 16 | (unsigned)d[10] << 8 | d[11];
  printf("rtp %u %u %u %s\n", ssrc, d[1] & 0x7f, (unsigned)d[2] << 8 | d[3], hex);
  fflush(stdout);
}

static void pump(sfu_peer_t *p, int ms) { sfu_peer_poll(p, ms); }

int main(void) {
  sfu_peer_t *p = NULL;
  if (sfu_peer_new(on_media, NULL, &p))
    return 1;
  printf("peer %s %s\n", sfu_peer_ufrag(p), sfu_peer_fingerprint(p));
  fflush(stdout);
  char line[1024];
  for (;;) {
    struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfu_peer_fd(p), .events = POLLIN}};
    if (poll(fds, 2, 20) < 0)
      break;
    pump(p, 0);
    if (!(fds[0].revents & (POLLIN | POLLHUP)))
      continue;
    if (!fgets(line, sizeof line, stdin))
      break;
    unsigned port, ssrc, pt, count, n, ms;
    char uf[128], pwd[128], fp[128], hex[600];
    if (sscanf(line, "start %u %127s %127s %127s", &port, uf, pwd, fp) == 4) {
      int rc = sfu_peer_start(p, (uint16_t)port, uf, pwd, fp);
      uint64_t end = now_ms() + 10000;
      while (!rc && !sfu_peer_connected(p) && !sfu_peer_failed(p) && now_ms() < end)
        pump(p, 10);
      printf("%s\n", sfu_peer_connected(p) ? "connected" : "failed");
    } else if (sscanf(line, "send %u %u %u %599s", &ssrc, &pt, &count, hex) == 4) {
      uint8_t pkt[12 + 300];
      long pl = veil_hex_decode(hex, strlen(hex), pkt + 12, 300);
      if (pl < 0) {
        printf("error bad hex\n");
        fflush(stdout);
        continue;
      }
      unsigned sent = 0;
      for (unsigned i = 0; i < count; i++) {
        uint32_t seq = next_seq++;
        pkt[0] = 0x80;
        pkt[1] = (uint8_t)(pt & 0x7f);
        pkt[2] = (uint8_t)(seq >> 8), pkt[3] = (uint8_t)seq;
        uint32_t ts = seq * 960;
        pkt[4] = (uint8_t)(ts >> 24), pkt[5] = (uint8_t)(ts >> 16), pkt[6] = (uint8_t)(ts >> 8), pkt[7] = (uint8_t)ts;
        pkt[8] = (uint8_t)(ssrc >> 24), pkt[9] = (uint8_t)(ssrc >> 16), pkt[10] = (uint8_t)(ssrc >> 8),
        pkt[11] = (uint8_t)ssrc;
        if (sfu_peer_send_rtp(p, pkt, 12 + (size_t)pl) == 0)
          sent++;
        pump(p, 2);
      }
      printf("sent %u\n", sent);
    } else if (sscanf(line, "wait %u %u", &n, &ms) == 2) {
      uint64_t end = now_ms() + ms;
      while (received < n && now_ms() < end)
        pump(p, 10);
      printf("received %llu\n", (unsigned long long)received);
    } else if (strncmp(line, "quit", 4) == 0) {
      break;
    } else {
      printf("error unknown command\n");
    }
    fflush(stdout);
  }
  sfu_peer_free(p);
  return 0;
}
