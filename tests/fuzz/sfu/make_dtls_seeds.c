/*
 * Writes the seed corpus of fuzz_dtls (run: sfu_make_dtls_seeds <tests/fuzz/sfu>; built
 * here, not run by the tests; the seeds are committed). A real client association
 * handshakes with a real server, back to back in memory as tests/unit/sfu/test_dtls.c
 * does, and every datagram the client sent becomes input in fuzz_dtls's framing: the
 * ClientHello flight, the whole client side of a handshake (whose second flight the
 * fuzzed server, with its own randoms, parses and refuses), and damaged variants of the
 * ClientHello (truncated, bad record length, bad version, split into two handshake
 * fragments, followed by a stray record, past the handshake deadline).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/dtls.h"

#define MAX_DGRAMS 16
#define REC_HDR 13 /* RFC 6347 §4.1 record header */
#define HS_HDR 12  /* RFC 6347 §4.2.2 handshake header */

typedef struct dgram {
  uint8_t b[1500];
  size_t n;
} dgram_t;

static dgram_t sent[MAX_DGRAMS];
static size_t nsent;

static void die(const char *what) {
  fprintf(stderr, "make_dtls_seeds: %s\n", what);
  exit(1);
}

/* Moves a's queued datagrams to b, recording them when a is the client. */
static int pump(sfu_dtls_t *a, sfu_dtls_t *b, int record) {
  uint8_t buf[1500];
  long n;
  int moved = 0;
  while ((n = sfu_dtls_pop_datagram(a, buf, sizeof buf)) > 0) {
    if (record) {
      if (nsent == MAX_DGRAMS)
        die("too many client datagrams");
      memcpy(sent[nsent].b, buf, (size_t)n);
      sent[nsent++].n = (size_t)n;
    }
    sfu_dtls_handle_datagram(b, buf, (size_t)n, 1);
    moved++;
  }
  return moved;
}

static void handshake(void) {
  sfu_dtls_ctx_t *sctx, *cctx;
  sfu_dtls_t *server, *client;
  sfu_dtls_config_t sc = {.role = SFU_DTLS_ROLE_SERVER}, cc = {.role = SFU_DTLS_ROLE_CLIENT};
  if (sfu_dtls_ctx_new(&sctx) || sfu_dtls_ctx_new(&cctx) || sfu_dtls_new(sctx, &sc, &server) ||
      sfu_dtls_new(cctx, &cc, &client) ||
      sfu_dtls_set_remote_fingerprint(server, "sha-256", sfu_dtls_ctx_fingerprint(cctx)) ||
      sfu_dtls_set_remote_fingerprint(client, "sha-256", sfu_dtls_ctx_fingerprint(sctx)) ||
      sfu_dtls_start(server, 0) || sfu_dtls_start(client, 0))
    die("setup");
  for (int i = 0; i < 20; i++)
    if (pump(client, server, 1) + pump(server, client, 0) == 0)
      break;
  if (sfu_dtls_state(server) != SFU_DTLS_CONNECTED || nsent < 2)
    die("the handshake did not complete");
  sfu_dtls_free(server);
  sfu_dtls_free(client);
  sfu_dtls_ctx_free(sctx);
  sfu_dtls_ctx_free(cctx);
}

/* One seed being built: flags byte, then (control, u16 length, bytes) frames. */
typedef struct seed {
  uint8_t b[16384];
  size_t n;
} seed_t;

static void seed_start(seed_t *s, uint8_t flags) {
  s->b[0] = flags;
  s->n = 1;
}

static void seed_frame(seed_t *s, uint8_t ctl, const uint8_t *p, size_t n, size_t declared) {
  if (s->n + 3 + n > sizeof s->b)
    die("seed too large");
  s->b[s->n++] = ctl;
  s->b[s->n++] = (uint8_t)(declared >> 8);
  s->b[s->n++] = (uint8_t)declared;
  memcpy(s->b + s->n, p, n);
  s->n += n;
}

static void seed_write(const seed_t *s, const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/seeds_dtls/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f) != 0)
    die(path);
}

static void put_u16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void put_u24(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 16);
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)v;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <tests/fuzz/sfu>\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  handshake();
  const dgram_t *ch = &sent[0]; /* the ClientHello flight: one record */
  if (ch->n < REC_HDR + HS_HDR || ch->b[0] != 22 || ch->b[REC_HDR] != 1)
    die("the first client datagram is not a ClientHello");
  seed_t s;

  seed_start(&s, 0x00);
  seed_frame(&s, 0, ch->b, ch->n, ch->n);
  seed_write(&s, dir, "client_hello");

  seed_start(&s, 0x08 | 0x01);
  seed_frame(&s, 0, ch->b, ch->n, ch->n);
  seed_frame(&s, 0x11, ch->b, ch->n, ch->n); /* a retransmission, timer run first */
  seed_write(&s, dir, "client_hello_twice");

  for (uint8_t flags = 0; flags < 2; flags++) {
    seed_start(&s, flags | 0x10);
    for (size_t i = 0; i < nsent; i++)
      seed_frame(&s, 0, sent[i].b, sent[i].n, sent[i].n);
    seed_write(&s, dir, flags ? "handshake_fingerprint" : "handshake_no_fingerprint");
  }

  seed_start(&s, 0x02 | 0x04);
  seed_frame(&s, 0, ch->b, ch->n, ch->n);
  seed_write(&s, dir, "client_hello_mtu256_cm80");

  seed_start(&s, 0x08);
  seed_frame(&s, 0x1f, ch->b, ch->n, ch->n); /* 7.5 s later: past the deadline */
  seed_write(&s, dir, "client_hello_late");

  seed_start(&s, 0x00);
  seed_frame(&s, 0, ch->b, ch->n / 2, ch->n);
  seed_write(&s, dir, "client_hello_truncated");

  uint8_t m[1500];
  memcpy(m, ch->b, ch->n);
  put_u16(m + 11, ch->n); /* record length past the datagram */
  seed_start(&s, 0x00);
  seed_frame(&s, 0, m, ch->n, ch->n);
  seed_write(&s, dir, "record_length_overrun");

  memcpy(m, ch->b, ch->n);
  m[1] = 0x03, m[2] = 0x03; /* TLS 1.2's version in a DTLS record */
  seed_start(&s, 0x00);
  seed_frame(&s, 0, m, ch->n, ch->n);
  seed_write(&s, dir, "record_tls_version");

  /* The ClientHello body split in two fragments, each in its own record and datagram. */
  size_t body = ch->n - REC_HDR - HS_HDR, half = body / 2;
  const uint8_t *hs = ch->b + REC_HDR;
  seed_start(&s, 0x00);
  for (int part = 0; part < 2; part++) {
    size_t off = part ? half : 0, len = part ? body - half : half;
    memcpy(m, ch->b, REC_HDR);
    put_u16(m + 11, HS_HDR + len);
    memcpy(m + REC_HDR, hs, 6); /* type, length, message_seq */
    put_u24(m + REC_HDR + 6, off);
    put_u24(m + REC_HDR + 9, len);
    memcpy(m + REC_HDR + HS_HDR, hs + HS_HDR + off, len);
    m[10] = (uint8_t)(m[10] + part); /* next record sequence number */
    seed_frame(&s, 0, m, REC_HDR + HS_HDR + len, REC_HDR + HS_HDR + len);
  }
  seed_write(&s, dir, "client_hello_fragmented");

  /* The ClientHello, then in the same datagram an epoch-1 record of junk. */
  memcpy(m, ch->b, ch->n);
  static const uint8_t junk[REC_HDR + 8] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 8};
  memcpy(m + ch->n, junk, sizeof junk);
  seed_start(&s, 0x00);
  seed_frame(&s, 0, m, ch->n + sizeof junk, ch->n + sizeof junk);
  seed_write(&s, dir, "client_hello_then_junk_record");

  /* An alert before any handshake, and an empty datagram. */
  static const uint8_t alert[REC_HDR + 2] = {21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40};
  seed_start(&s, 0x10);
  seed_frame(&s, 0, alert, sizeof alert, sizeof alert);
  seed_frame(&s, 0, alert, 0, 0);
  seed_write(&s, dir, "alert_and_empty");
  return 0;
}
