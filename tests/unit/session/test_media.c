/* Synthetic media over SFrame/RTP (clients/lib/session/vs_media.h): what a receiver does
 * with genuine, tampered, replayed, foreign and non-SFrame packets. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/session/vs_media.h"
#include "common/err.h"
#include "sfu/rtp.h"

#define MAXP 256
typedef struct pkts {
  uint8_t buf[MAXP][1600];
  size_t len[MAXP];
  size_t n;
} pkts_t;

static int collect(void *arg, uint8_t *pkt, size_t len, size_t cap) {
  (void)cap;
  pkts_t *p = arg;
  cr_assert_lt(p->n, MAXP);
  memcpy(p->buf[p->n], pkt, len);
  p->len[p->n++] = len;
  return 0;
}

static pkts_t P;
static sframe_mls_t *tx, *rx;

static sframe_mls_t *member(uint64_t epoch, uint8_t key_byte, uint32_t own) {
  sframe_mls_t *m;
  sframe_mls_config_t c = {.suite = SFRAME_AES_128_GCM_SHA256_128};
  cr_assert_eq(sframe_mls_new(&m, &c), 0);
  uint8_t base[16];
  memset(base, key_byte, sizeof base);
  cr_assert_eq(sframe_mls_add_epoch(m, epoch, base, sizeof base, 2, own), 0);
  return m;
}

static void setup(void) {
  memset(&P, 0, sizeof P);
  tx = member(1, 0x11, 0);
  rx = member(1, 0x11, 1);
}

static void teardown(void) {
  sframe_mls_free(tx);
  sframe_mls_free(rx);
}

static int leaf0_only(void *arg, uint32_t leaf) {
  (void)arg;
  return leaf == 0;
}

static int no_one(void *arg, uint32_t leaf) {
  (void)arg, (void)leaf;
  return 0;
}

static vs_receiver_t *run(vs_kind_t kind, int frames, int tamper, vs_leaf_check_cb check) {
  vs_sender_t *s;
  vs_receiver_t *r;
  cr_assert_eq(vs_sender_new(kind, 0x1234, &s), 0);
  cr_assert_eq(vs_receiver_new(kind, 0x1234, &r), 0);
  for (int i = 0; i < frames; i++)
    cr_assert_eq(vs_sender_frame(s, tx, tamper, collect, &P), 0);
  for (size_t i = 0; i < P.n; i++)
    vs_receiver_packet(r, rx, P.buf[i], P.len[i], check, NULL, vs_now_us());
  vs_sender_free(s);
  return r;
}

TestSuite(media_rx, .init = setup, .fini = teardown);
TestSuite(media_tx, .init = setup, .fini = teardown);

Test(media_rx, verifies_audio_and_video_bit_exact) {
  vs_receiver_t *a = run(VS_AUDIO, 20, 0, leaf0_only);
  const vs_rx_stats_t *st = vs_receiver_stats(a);
  cr_assert_eq(st->verified, 20);
  cr_assert_eq(st->decrypted, 20);
  vs_receiver_free(a);
  P.n = 0;
  vs_receiver_t *v = run(VS_VIDEO, 10, 0, leaf0_only); /* first is a 3 kB keyframe: 3 packets */
  st = vs_receiver_stats(v);
  cr_assert_eq(st->verified, 10);
  cr_assert_eq(st->corrupt + st->auth_failed + st->unknown_kid, 0);
  cr_assert_gt(P.n, 10, "frames were split over several packets");
  vs_receiver_free(v);
}

Test(media_tx, sender_sets_audio_level_and_dependency_descriptor_extensions) {
  vs_receiver_t *a = run(VS_AUDIO, 2, 0, NULL);
  for (size_t i = 0; i < P.n; i++) {
    sfu_rtp_hdr_t h;
    sfu_rtp_ext_elem_t e;
    cr_assert_eq(sfu_rtp_parse(P.buf[i], P.len[i], &h), 0);
    cr_assert_eq(sfu_rtp_ext_find(&h, VS_EXT_AUDIO_LEVEL, &e), 0);
    cr_assert_eq(e.data.len, 1);
    cr_assert_eq(e.data.ptr[0] & 0x80, 0x80, "RFC 6464 voice activity bit");
    cr_assert_eq(sfu_rtp_ext_find(&h, VS_EXT_DD, &e), VEIL_ENOTFOUND);
  }
  vs_receiver_free(a);
  P.n = 0;
  vs_receiver_t *v = run(VS_VIDEO, 2, 0, NULL); /* keyframe in 3 packets, then one packet */
  cr_assert_eq(P.n, 4);
  for (size_t i = 0; i < P.n; i++) {
    sfu_rtp_hdr_t h;
    sfu_rtp_ext_elem_t e;
    cr_assert_eq(sfu_rtp_parse(P.buf[i], P.len[i], &h), 0);
    cr_assert_eq(sfu_rtp_ext_find(&h, VS_EXT_DD, &e), 0);
    int start = (e.data.ptr[0] & 0x80) != 0, end = (e.data.ptr[0] & 0x40) != 0;
    cr_assert_eq(start, i == 0 || i == 3, "start_of_frame on packet %zu", i);
    cr_assert_eq(end, i == 2 || i == 3, "end_of_frame on packet %zu", i);
    cr_assert_eq(h.marker, end, "marker only on a frame's last packet");
    cr_assert_eq(e.data.len, i == 0 ? 6u : 3u, "template structure only on the keyframe's first packet");
    uint16_t frame = (uint16_t)(e.data.ptr[1] << 8 | e.data.ptr[2]);
    cr_assert_eq(frame, i < 3 ? 0 : 1);
  }
  vs_receiver_free(v);
}

Test(media_rx, tampered_ciphertext_is_an_auth_failure_never_media) {
  vs_receiver_t *a = run(VS_AUDIO, 10, 1, NULL);
  const vs_rx_stats_t *st = vs_receiver_stats(a);
  cr_assert_eq(st->auth_failed, 10);
  cr_assert_eq(st->decrypted + st->verified + st->corrupt, 0);
  vs_receiver_free(a);
  P.n = 0;
  vs_receiver_t *v = run(VS_VIDEO, 40, 1, NULL);
  st = vs_receiver_stats(v);
  /* The very first frame has no known start (no predecessor was seen): a failure there is
   * kept for a retry and holds newer frames back for the reorder delay (16 packets,
   * docs/protocol.md) before it is given up; every frame after that counts. */
  cr_assert_geq(st->auth_failed, 20, "frames %llu auth %llu", (unsigned long long)st->frames,
                (unsigned long long)st->auth_failed);
  cr_assert_eq(st->decrypted + st->verified + st->corrupt, 0);
  vs_receiver_free(v);
}

Test(media_rx, replayed_packet_is_dropped_and_counted) {
  vs_receiver_t *a = run(VS_AUDIO, 3, 0, NULL);
  vs_receiver_packet(a, rx, P.buf[1], P.len[1], NULL, NULL, vs_now_us());
  const vs_rx_stats_t *st = vs_receiver_stats(a);
  cr_assert_eq(st->verified, 3);
  cr_assert_eq(st->replayed, 1);
  vs_receiver_free(a);
}

Test(media_rx, frame_of_an_epoch_not_held_is_refused) {
  sframe_mls_free(rx);
  rx = member(2, 0x22, 1); /* a removed member never gets the next epoch */
  vs_receiver_t *a = run(VS_AUDIO, 5, 0, NULL);
  const vs_rx_stats_t *st = vs_receiver_stats(a);
  cr_assert_eq(st->unknown_kid, 5);
  cr_assert_eq(st->decrypted, 0);
  vs_receiver_free(a);
}

Test(media_rx, authentic_frame_from_a_leaf_not_owning_the_track_is_dropped) {
  vs_receiver_t *a = run(VS_AUDIO, 4, 0, no_one);
  const vs_rx_stats_t *st = vs_receiver_stats(a);
  cr_assert_eq(st->wrong_sender, 4);
  cr_assert_eq(st->decrypted + st->verified, 0);
  vs_receiver_free(a);
}

Test(media_rx, non_sframe_payload_is_not_media) {
  vs_receiver_t *r;
  cr_assert_eq(vs_receiver_new(VS_AUDIO, 0x1234, &r), 0);
  uint8_t pkt[200];
  veil_writer_t w;
  veil_writer_init(&w, pkt, sizeof pkt);
  uint8_t junk[100];
  memset(junk, 0xA5, sizeof junk); /* config byte 0xA5 announces a 3-byte CTR: header ok, tag fails */
  sfu_rtp_write_params_t wp = {.payload_type = VS_PT_AUDIO, .ssrc = 0x1234, .payload = {junk, sizeof junk}};
  cr_assert_eq(sfu_rtp_write(&w, &wp), 0);
  vs_receiver_packet(r, rx, pkt, w.len, NULL, NULL, vs_now_us());
  uint8_t one = 0xFF; /* an extended KID and CTR that are not there */
  veil_writer_init(&w, pkt, sizeof pkt);
  wp.payload = (veil_view_t){&one, 1};
  wp.seq = 1;
  cr_assert_eq(sfu_rtp_write(&w, &wp), 0);
  vs_receiver_packet(r, rx, pkt, w.len, NULL, NULL, vs_now_us());
  const vs_rx_stats_t *st = vs_receiver_stats(r);
  cr_assert_eq(st->frames, 2);
  cr_assert_eq(st->decrypted + st->verified, 0);
  cr_assert_eq(st->auth_failed + st->unknown_kid + st->not_sframe, 2);
  vs_receiver_free(r);
}

Test(pattern, every_single_bit_flip_is_rejected) {
  uint8_t f[200];
  size_t n = vs_pattern_make(77, 1, 5, 0, 123456, 100, f, sizeof f);
  cr_assert_gt(n, 0);
  uint32_t seq;
  uint64_t t;
  cr_assert_eq(vs_pattern_check(f, n, &seq, &t), 0);
  cr_assert_eq(seq, 5);
  cr_assert_eq(t, 123456);
  for (size_t bit = 0; bit < n * 8; bit++) {
    f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    cr_assert_neq(vs_pattern_check(f, n, &seq, &t), 0, "bit %zu", bit);
    f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
}

Test(pattern, truncated_or_extended_frame_is_rejected) {
  uint8_t f[200];
  size_t n = vs_pattern_make(77, 1, 5, 1, 1, 100, f, sizeof f);
  uint32_t seq;
  uint64_t t;
  for (size_t k = 0; k < n; k++)
    cr_assert_neq(vs_pattern_check(f, k, &seq, &t), 0, "length %zu", k);
  cr_assert_neq(vs_pattern_check(f, n + 1, &seq, &t), 0);
}

/* Issue 9: a video receiver whose stream starts mid-frame (the SFU forwards from the
 * subscription on; packets before the Welcome are never pushed) held every following
 * complete frame behind that undecryptable head for reorder_delay packets (16: about a
 * second of video). Commits arriving meanwhile retired the frames' epoch (3 kept), so
 * frames that named the receiver's current epoch on arrival were refused as unknown KIDs. */
Test(media_rx, video_joined_mid_frame_is_not_held_until_its_epoch_is_gone) {
  vs_sender_t *s;
  vs_receiver_t *r;
  cr_assert_eq(vs_sender_new(VS_VIDEO, 0x1234, &s), 0);
  cr_assert_eq(vs_receiver_new(VS_VIDEO, 0x1234, &r), 0);
  cr_assert_eq(vs_sender_frame(s, tx, 0, collect, &P), 0); /* keyframe: several packets */
  size_t head = P.n;
  cr_assert_gt(head, 1);
  cr_assert_eq(vs_sender_frame(s, tx, 0, collect, &P), 0);
  /* The receiver's stream starts at the keyframe's second packet. */
  for (size_t i = 1; i < P.n; i++)
    vs_receiver_packet(r, rx, P.buf[i], P.len[i], NULL, NULL, vs_now_us());
  const vs_rx_stats_t *st = vs_receiver_stats(r);
  cr_assert_eq(st->verified, 1, "the complete second frame is delivered on arrival (got %llu)",
               (unsigned long long)st->verified);
  /* Three commits: epoch 1 leaves the receiver's window; the sender follows. */
  uint8_t base[16];
  for (uint64_t e = 2; e <= 4; e++) {
    memset(base, (int)(0x11 + e), sizeof base);
    cr_assert_eq(sframe_mls_add_epoch(tx, e, base, sizeof base, 2, 0), 0);
    cr_assert_eq(sframe_mls_add_epoch(rx, e, base, sizeof base, 2, 1), 0);
  }
  size_t from = P.n;
  for (int i = 0; i < 20; i++)
    cr_assert_eq(vs_sender_frame(s, tx, 0, collect, &P), 0);
  for (size_t i = from; i < P.n; i++)
    vs_receiver_packet(r, rx, P.buf[i], P.len[i], NULL, NULL, vs_now_us());
  cr_assert_eq(st->unknown_kid, 0, "unknown-KID refusals: %llu", (unsigned long long)st->unknown_kid);
  cr_assert_eq(st->verified, 21);
  cr_assert_eq(st->corrupt + st->auth_failed + st->not_sframe, 0);
  vs_receiver_free(r);
  vs_sender_free(s);
}

/* Issue 11 hooks: an application's frames go on the wire as it made them (sizes, key
 * flags), its check decides verified/corrupt, and on_frame sees each frame's send time. */
typedef struct app {
  uint32_t n_src, n_key, n_seen, bad;
  uint64_t last_sent;
  size_t sizes[8];
} app_t;

static int app_source(void *arg, vs_kind_t kind, int key_wanted, uint8_t *out, size_t cap, size_t *len, int *key) {
  app_t *a = arg;
  cr_assert_eq(kind, VS_VIDEO);
  size_t n = a->sizes[a->n_src % 8];
  cr_assert_leq(n, cap);
  memset(out, (int)a->n_src, n);
  uint64_t sent = 1000 + a->n_src;
  memcpy(out, &sent, sizeof sent);
  *len = n;
  *key = key_wanted || a->n_src == 3;
  a->n_key += (uint32_t)*key;
  a->n_src++;
  return 0;
}

static int app_check(void *arg, const vs_frame_t *f, uint64_t *sent_us) {
  app_t *a = arg;
  memcpy(sent_us, f->data, sizeof *sent_us);
  uint8_t fill = (uint8_t)(*sent_us - 1000);
  for (size_t i = sizeof *sent_us; i < f->len; i++)
    if (f->data[i] != fill)
      return 0;
  return f->len == a->sizes[(*sent_us - 1000) % 8] && !a->bad;
}

static void app_frame(void *arg, const vs_frame_t *f) {
  app_t *a = arg;
  a->n_seen++;
  a->last_sent = f->sent_us;
  cr_assert_eq(f->kind, VS_VIDEO);
  cr_assert_eq(f->sender_leaf, 0);
}

Test(media_rx, frame_source_check_and_per_frame_hook_carry_the_applications_frames) {
  app_t a = {.sizes = {40, 5000, 1200, 20000, 900, 64000, 100, 3000}};
  vs_sender_t *s;
  vs_receiver_t *r;
  cr_assert_eq(vs_sender_new(VS_VIDEO, 0x1234, &s), 0);
  cr_assert_eq(vs_receiver_new(VS_VIDEO, 0x1234, &r), 0);
  vs_sender_set_source(s, app_source, &a);
  vs_receiver_set_hooks(r, app_check, app_frame, &a);
  for (int i = 0; i < 8; i++) {
    cr_assert_eq(vs_sender_frame(s, tx, 0, collect, &P), 0);
    for (size_t k = 0; k < P.n; k++)
      vs_receiver_packet(r, rx, P.buf[k], P.len[k], NULL, NULL, vs_now_us());
    P.n = 0;
  }
  const vs_rx_stats_t *st = vs_receiver_stats(r);
  cr_assert_eq(a.n_key, 2); /* the forced first keyframe and the application's own */
  cr_assert_eq(st->verified, 8);
  cr_assert_eq(a.n_seen, 8);
  cr_assert_eq(a.last_sent, 1007);
  a.bad = 1; /* the application's check refuses: counted as corrupt, never verified */
  cr_assert_eq(vs_sender_frame(s, tx, 0, collect, &P), 0);
  for (size_t k = 0; k < P.n; k++)
    vs_receiver_packet(r, rx, P.buf[k], P.len[k], NULL, NULL, vs_now_us());
  cr_assert_eq(st->corrupt, 1);
  cr_assert_eq(a.last_sent, 0);
  vs_receiver_free(r);
  vs_sender_free(s);
}
