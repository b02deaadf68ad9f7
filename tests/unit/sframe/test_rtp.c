/* Unit tests of SFrame over RTP: per-frame and per-packet packetization, and reassembly
 * under loss, reordering, duplication and sequence wrap (docs/protocol.md). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/sframe/sframe.h"

#define MAXP 64
static const uint8_t key[16] = {9, 9, 9};

typedef struct pkt {
  uint16_t seq;
  uint32_t ts;
  int marker;
  size_t len;
  uint8_t data[1500];
} pkt_t;

typedef struct stream {
  sframe_ctx_t *tx, *rx;
  sframe_reasm_t *ra;
  uint16_t seq;
  pkt_t pkts[512];
  size_t n;
} stream_t;

/* A context holding `key` as KID 1 for `usage`. */
static sframe_ctx_t *ctx_with_key(sframe_key_usage_t usage) {
  sframe_ctx_config_t cfg = {.suite = SFRAME_AES_128_GCM_SHA256_128};
  sframe_ctx_t *c;
  cr_assert_eq(sframe_ctx_new(&c, &cfg), 0);
  cr_assert_eq(sframe_ctx_add_key(c, 1, usage, key, 16), 0);
  return c;
}

static void stream_init(stream_t *s, uint16_t first_seq, uint32_t reorder_delay) {
  memset(s, 0, sizeof(*s));
  s->tx = ctx_with_key(SFRAME_KEY_SEND);
  s->rx = ctx_with_key(SFRAME_KEY_RECV);
  sframe_reasm_config_t rc = {.max_packets = 64, .max_payload = 1500,
                              .reorder_delay = reorder_delay};
  cr_assert_eq(sframe_reasm_new(&s->ra, &rc), 0);
  s->seq = first_seq;
}

static void stream_free(stream_t *s) {
  sframe_ctx_free(s->tx);
  sframe_ctx_free(s->rx);
  sframe_reasm_free(s->ra);
}

static void fill(uint8_t *f, size_t len, uint32_t tag) {
  for (size_t i = 0; i < len; i++)
    f[i] = (uint8_t)(tag * 13 + i * 7);
}

/* Packetizes frame number `tag` (len bytes) per frame; returns the index of its first
 * packet in s->pkts. */
static size_t send_frame(stream_t *s, uint32_t tag, size_t len, size_t mtu) {
  static uint8_t frame[100000], buf[100000 + SFRAME_OVERHEAD_MAX];
  fill(frame, len, tag);
  sframe_rtp_payload_t out[MAXP];
  size_t n;
  cr_assert_eq(sframe_rtp_packetize(s->tx, SFRAME_RTP_PER_FRAME, 1, NULL, 0, frame, len, mtu,
                                    buf, sizeof buf, out, MAXP, &n), 0);
  size_t first = s->n;
  for (size_t i = 0; i < n; i++) {
    cr_assert_leq(out[i].len, mtu);
    pkt_t *p = &s->pkts[s->n++];
    p->seq = s->seq++;
    p->ts = tag * 3000;
    p->marker = out[i].marker;
    p->len = out[i].len;
    memcpy(p->data, out[i].ptr, out[i].len);
  }
  return first;
}

static void push(stream_t *s, size_t i) {
  pkt_t *p = &s->pkts[i];
  cr_assert_eq(sframe_reasm_push(s->ra, p->seq, p->ts, p->marker, p->data, p->len), 0);
}

/* Pops every ready frame; records their tags (checked against the expected content). */
static size_t drain(stream_t *s, uint32_t *tags, size_t max) {
  static uint8_t out[100000], want[100000];
  size_t got = 0, len;
  sframe_header_t h;
  int rc;
  while ((rc = sframe_rtp_depacketize(s->ra, s->rx, NULL, 0, out, sizeof out, &len, &h)) == 1) {
    cr_assert_lt(got, max);
    /* Identify the frame by its content: tags are small. */
    uint32_t tag = 0;
    for (; tag < 1000; tag++) {
      fill(want, len, tag);
      if (memcmp(out, want, len) == 0)
        break;
    }
    cr_assert_lt(tag, 1000, "delivered frame matches no sent frame");
    tags[got++] = tag;
  }
  cr_assert_eq(rc, 0);
  return got;
}

static void push_range(stream_t *s, size_t from, size_t end) {
  for (size_t i = from; i < end; i++)
    push(s, i);
}

/* The tags of every frame delivered so far, in order. */
typedef struct got {
  uint32_t tags[64];
  size_t n;
} got_t;

static void take(stream_t *s, got_t *g) { g->n += drain(s, g->tags + g->n, 64 - g->n); }

/* Pushes packets from..s->n except the `n_lost` listed, taking what is ready after each. */
static void push_all_but(stream_t *s, size_t from, const size_t *lost, size_t n_lost, got_t *g) {
  for (size_t i = from; i < s->n; i++) {
    int is_lost = 0;
    for (size_t k = 0; k < n_lost; k++)
      is_lost |= lost[k] == i;
    if (!is_lost) {
      push(s, i);
      take(s, g);
    }
  }
}

/* Exactly the frames `want` (n of them) were delivered, in that order. */
static void expect_tags(const got_t *g, size_t n, const uint32_t *want) {
  cr_assert_eq(g->n, n, "%zu frames delivered, want %zu", g->n, n);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(g->tags[i], want[i], "frame %zu is %u, want %u", i, g->tags[i], want[i]);
}

/* Takes what is ready; then exactly the frames `want` have been delivered so far. */
static void take_expecting(stream_t *s, got_t *g, size_t n, const uint32_t *want) {
  take(s, g);
  expect_tags(g, n, want);
}

Test(sframe_rtp, per_frame_round_trip_with_balanced_payloads) {
  stream_t s;
  stream_init(&s, 100, 0);
  size_t first = send_frame(&s, 1, 5000, 1200);
  cr_assert_eq(s.n - first, 5); /* 5000 + 1 + 16 bytes over 1200-byte payloads */
  for (size_t i = first; i < s.n; i++) {
    cr_assert(s.pkts[i].len == 1003 || s.pkts[i].len == 1004);
    cr_assert_eq(s.pkts[i].marker, i + 1 == s.n);
  }
  push_range(&s, first, s.n);
  got_t g = {0};
  take_expecting(&s, &g, 1, (uint32_t[]){1});
  stream_free(&s);
}

Test(sframe_rtp, per_packet_payloads_decrypt_on_their_own) {
  stream_t s;
  stream_init(&s, 0, 0);
  static uint8_t frame[7000], buf[8000], out[8000], joined[7000];
  fill(frame, sizeof frame, 4);
  sframe_rtp_payload_t pl[MAXP];
  size_t n, off = 0, len;
  cr_assert_eq(sframe_rtp_packetize(s.tx, SFRAME_RTP_PER_PACKET, 1, NULL, 0, frame,
                                    sizeof frame, 1200, buf, sizeof buf, pl, MAXP, &n), 0);
  /* 7000 bytes need 6 chunks of <= 1183 (1200 - 1-byte header - 16-byte tag; CTRs 0..5
   * fit the config byte), balanced to 1167 or 1166 bytes. */
  cr_assert_eq(n, 6);
  for (size_t i = 0; i < n; i++) {
    cr_assert(pl[i].len == 1 + 1167 + 16 || pl[i].len == 1 + 1166 + 16);
    cr_assert_eq(pl[i].marker, i + 1 == n);
  }
  /* Any order: each payload is a complete SFrame ciphertext with its own CTR. */
  for (size_t k = n; k-- > 0;) {
    sframe_header_t h;
    cr_assert_eq(sframe_ctx_decrypt(s.rx, NULL, 0, pl[k].ptr, pl[k].len, out, sizeof out, &len,
                                    &h), 0);
    cr_assert_eq(h.ctr, k);
  }
  /* Reassembled plaintext equals the frame (decrypt again with a fresh receiver). */
  sframe_ctx_t *rx2 = ctx_with_key(SFRAME_KEY_RECV);
  for (size_t k = 0; k < n; k++) {
    cr_assert_eq(sframe_ctx_decrypt(rx2, NULL, 0, pl[k].ptr, pl[k].len, joined + off,
                                    sizeof joined - off, &len, NULL), 0);
    off += len;
  }
  cr_assert_eq(off, sizeof frame);
  cr_assert_arr_eq(joined, frame, sizeof frame);
  /* Too small an MTU for even the overhead. */
  cr_assert_eq(sframe_rtp_packetize(s.tx, SFRAME_RTP_PER_PACKET, 1, NULL, 0, frame, 10, 17,
                                    buf, sizeof buf, pl, MAXP, &n), VEIL_EINVAL);
  sframe_ctx_free(rx2);
  stream_free(&s);
}

Test(sframe_rtp, reorders_fragments_and_frames) {
  stream_t s;
  stream_init(&s, 65530, 0); /* crosses the 16-bit sequence wrap */
  size_t a = send_frame(&s, 1, 3000, 1000), b = send_frame(&s, 2, 2500, 1000);
  send_frame(&s, 3, 100, 1000);
  /* Arrival order: a's fragments, then c's and b's reversed. */
  got_t g = {0};
  push_range(&s, a, b);
  take_expecting(&s, &g, 1, (uint32_t[]){1});
  for (size_t i = s.n; i-- > b;)
    push(&s, i);
  take_expecting(&s, &g, 3, (uint32_t[]){1, 2, 3});
  /* Duplicates and replays of delivered payloads are ignored. */
  push(&s, a);
  push(&s, s.n - 1);
  take_expecting(&s, &g, 3, (uint32_t[]){1, 2, 3});
  stream_free(&s);
}

Test(sframe_rtp, lost_fragment_loses_only_its_frame) {
  stream_t s;
  stream_init(&s, 1000, 3);
  size_t f1 = send_frame(&s, 1, 3000, 1000);
  size_t f2 = send_frame(&s, 2, 3000, 1000);
  send_frame(&s, 3, 3000, 1000);
  send_frame(&s, 4, 3000, 1000);
  got_t g = {0};
  push_all_but(&s, f1, (size_t[]){f2 + 1}, 1, &g); /* a middle fragment of frame 2 is lost */
  expect_tags(&g, 3, (uint32_t[]){1, 3, 4});
  cr_assert_geq(sframe_reasm_dropped(s.ra), 1);
  /* The lost fragment arriving late is ignored: frame 2 is gone for good. */
  push(&s, f2 + 1);
  take_expecting(&s, &g, 3, (uint32_t[]){1, 3, 4});
  stream_free(&s);
}

Test(sframe_rtp, late_fragment_within_reorder_delay_keeps_older_frame) {
  stream_t s;
  stream_init(&s, 7, 8);
  size_t f1 = send_frame(&s, 1, 3000, 1000);
  send_frame(&s, 2, 3000, 1000);
  got_t g = {0};
  push(&s, f1); /* frame 1 fragment 0 */
  /* frame 1 fragment 1 is late; frame 2 complete meanwhile */
  push_all_but(&s, f1 + 2, NULL, 0, &g);
  expect_tags(&g, 0, NULL); /* frame 2 waits for frame 1 */
  push(&s, f1 + 1);
  take_expecting(&s, &g, 2, (uint32_t[]){1, 2});
  stream_free(&s);
}

Test(sframe_rtp, lost_marker_or_first_fragment_still_recovers_next_frame) {
  stream_t s;
  stream_init(&s, 500, 2);
  size_t f1 = send_frame(&s, 1, 2500, 1000);
  size_t f2 = send_frame(&s, 2, 2500, 1000);
  size_t f3 = send_frame(&s, 3, 2500, 1000);
  send_frame(&s, 4, 2500, 1000);
  for (int i = 0; i < 4; i++)
    send_frame(&s, 10 + i, 100, 1000);
  got_t g = {0};
  /* frame 1's marker and frame 3's first fragment are lost */
  push_all_but(&s, f1, (size_t[]){f2 - 1, f3}, 2, &g);
  /* Frame 2 starts after a lost packet: offered with an unknown start and authenticated by
   * decryption. Frame 3 (start lost) never authenticates. */
  expect_tags(&g, 6, (uint32_t[]){2, 4, 10, 11, 12, 13});
  stream_free(&s);
}

Test(sframe_rtp, single_packet_frames_survive_loss) {
  stream_t s;
  stream_init(&s, 65000, 0);
  for (uint32_t t = 0; t < 50; t++)
    send_frame(&s, t, 160, 1200);
  cr_assert_eq(s.n, 50, "one packet a frame");
  size_t lost[8], n_lost = 0, n_want = 0;
  uint32_t want[50];
  for (size_t i = 0; i < s.n; i++) {
    if (i % 7 == 3)
      lost[n_lost++] = i;
    else
      want[n_want++] = (uint32_t)i;
  }
  got_t g = {0};
  push_all_but(&s, 0, lost, n_lost, &g);
  expect_tags(&g, n_want, want);
  stream_free(&s);
}

Test(sframe_rtp, rejects_oversized_payload_and_bad_config) {
  sframe_reasm_t *r;
  sframe_reasm_config_t cfg = {.max_packets = 16, .max_payload = 100};
  cr_assert_eq(sframe_reasm_new(&r, &cfg), 0);
  uint8_t big[101] = {0};
  cr_assert_eq(sframe_reasm_push(r, 1, 1, 1, big, sizeof big), VEIL_ELIMIT);
  sframe_reasm_free(r);
  sframe_reasm_config_t bad = {.max_packets = 100};
  cr_assert_eq(sframe_reasm_new(&r, &bad), VEIL_ERANGE);
}

Test(sframe_rtp, frame_larger_than_limit_is_dropped) {
  stream_t s;
  stream_init(&s, 0, 0);
  sframe_reasm_free(s.ra);
  sframe_reasm_config_t rc = {.max_packets = 64, .max_payload = 1500, .max_frame = 2000};
  cr_assert_eq(sframe_reasm_new(&s.ra, &rc), 0);
  size_t f1 = send_frame(&s, 1, 2500, 1000);
  send_frame(&s, 2, 500, 1000);
  push_range(&s, f1, s.n);
  got_t g = {0};
  take_expecting(&s, &g, 1, (uint32_t[]){2});
  stream_free(&s);
}

Test(sframe_rtp, refused_packetization_spends_no_counter) {
  stream_t s;
  stream_init(&s, 0, 0);
  static uint8_t frame[5000], buf[6000];
  sframe_rtp_payload_t pl[2];
  size_t n;
  uint64_t next;
  cr_assert_eq(sframe_rtp_packetize(s.tx, SFRAME_RTP_PER_FRAME, 1, NULL, 0, frame, sizeof frame,
                                    1200, buf, sizeof buf, pl, 2, &n), VEIL_EOVERFLOW);
  cr_assert_eq(sframe_rtp_packetize(s.tx, SFRAME_RTP_PER_PACKET, 1, NULL, 0, frame,
                                    sizeof frame, 1200, buf, sizeof buf, pl, 2, &n),
               VEIL_EOVERFLOW);
  cr_assert_eq(sframe_ctx_next_ctr(s.tx, 1, &next), 0);
  cr_assert_eq(next, 0);
  stream_free(&s);
}

/* End to end: MLS keys, per-frame packetization, loss and reordering, epoch change. */
Test(sframe_rtp, mls_meeting_survives_loss_reorder_and_epoch_change) {
  sframe_mls_config_t cfg = {.suite = SFRAME_AES_128_CTR_HMAC_SHA256_80};
  sframe_mls_t *alice, *bob;
  cr_assert_eq(sframe_mls_new(&alice, &cfg), 0);
  cr_assert_eq(sframe_mls_new(&bob, &cfg), 0);
  uint8_t secret[48];
  memset(secret, 0x11, sizeof secret);
  cr_assert_eq(sframe_mls_add_epoch(alice, 1, secret, 48, 2, 0), 0);
  cr_assert_eq(sframe_mls_add_epoch(bob, 1, secret, 48, 2, 1), 0);
  sframe_reasm_t *ra;
  cr_assert_eq(sframe_reasm_new(&ra, NULL), 0);
  static uint8_t frame[4000], buf[4100], out[4100];
  sframe_rtp_payload_t pl[8];
  uint16_t seq = 40000;
  int delivered = 0;
  for (uint32_t f = 0; f < 20; f++) {
    if (f == 10) {
      memset(secret, 0x22, sizeof secret);
      cr_assert_eq(sframe_mls_add_epoch(alice, 2, secret, 48, 2, 0), 0);
      cr_assert_eq(sframe_mls_add_epoch(bob, 2, secret, 48, 2, 1), 0);
    }
    uint64_t kid;
    size_t n;
    cr_assert_eq(sframe_mls_send_kid(alice, 2, &kid), 0);
    fill(frame, sizeof frame, f);
    cr_assert_eq(sframe_rtp_packetize(sframe_mls_ctx(alice), SFRAME_RTP_PER_FRAME, kid, NULL, 0,
                                      frame, sizeof frame, 1200, buf, sizeof buf, pl, 8, &n), 0);
    /* Send the fragments last-to-first on odd frames; drop fragment 1 of frame 5. */
    for (size_t k = 0; k < n; k++) {
      size_t i = f % 2 ? n - 1 - k : k;
      if (f == 5 && i == 1)
        continue;
      cr_assert_eq(sframe_reasm_push(ra, (uint16_t)(seq + i), f * 3000, pl[i].marker,
                                     pl[i].ptr, pl[i].len), 0);
    }
    seq = (uint16_t)(seq + n);
    size_t len;
    sframe_mls_sender_t who;
    int rc;
    while ((rc = sframe_mls_depacketize(ra, bob, NULL, 0, out, sizeof out, &len, &who)) == 1) {
      cr_assert_eq(len, sizeof frame);
      cr_assert_eq(who.sender_index, 0);
      cr_assert_eq(who.context, 2);
      cr_assert_eq(who.epoch, delivered < 9 ? 1u : 2u);
      delivered++;
    }
    cr_assert_eq(rc, 0);
  }
  /* Only frame 5 is lost; frames 6.. waited for it (reorder delay), then went through. */
  cr_assert_eq(delivered, 19);
  cr_assert_eq(sframe_reasm_dropped(ra), 1);
  sframe_reasm_free(ra);
  sframe_mls_free(alice);
  sframe_mls_free(bob);
}

/* Issue 9: a stream that begins mid-frame (an SFU forwards from the subscription on) has
 * an undecryptable head; the next complete frame must not wait reorder_delay packets
 * behind it (during that wait an MLS epoch could expire under the frame). */
Test(sframe_rtp, stream_joined_mid_frame_delivers_next_frame_at_once) {
  stream_t s;
  stream_init(&s, 65530, 16);
  size_t f1 = send_frame(&s, 1, 3000, 1000);
  size_t f2 = send_frame(&s, 2, 500, 1000);
  send_frame(&s, 3, 500, 1000);
  got_t g = {0};
  push_range(&s, f1 + 1, f2); /* frame 1 without its first fragment */
  take_expecting(&s, &g, 0, NULL);
  push(&s, f2);
  take_expecting(&s, &g, 1, (uint32_t[]){2});
  push(&s, f2 + 1);
  take_expecting(&s, &g, 2, (uint32_t[]){2, 3});
  stream_free(&s);
}
