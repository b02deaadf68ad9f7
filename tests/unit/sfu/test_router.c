/*
 * The SFU end to end over loopback sockets: two in-tree client peers (tests/bench/sfu/
 * sfu_peer.c: ICE check, DTLS client, SRTP) against a worker on its libuv loop, driven
 * alternately in one thread. Guards: media reaching the wrong SSRC, payload alteration,
 * sequence gaps across a source switch, PLI not reaching the publisher or not being
 * rate-limited, SR not translated, forged SRTP accepted, handles leaked at close.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/bytes.h"
#include "common/err.h"
#include "sfu/rtcp.h"
#include "sfu/rtp.h"
#include "sfu/sfu.h"
#include "sfu_peer.h"

#define MAXRX 512
#define PAYLOAD_LEN 40 /* what make_rtp puts in every packet */
#define SRTP_TAG_LEN 16 /* room a forged packet leaves for a tag it cannot compute */

typedef struct rx {
  int n_rtp;
  uint32_t ssrc[MAXRX];
  uint16_t seq[MAXRX];
  uint32_t ts[MAXRX];
  uint8_t payload[MAXRX][64];
  size_t payload_len[MAXRX];
  int n_pli;
  uint32_t pli_media[16];
  int n_sr;
  uint32_t sr_ssrc, sr_ts;
  int n_rr;
  int ext_found_mid, ext_found_rid, audio_level;
} rx_t;

typedef struct world {
  uv_loop_t loop;
  sfu_worker_t *w;
  sfu_room_t *room;
  sfu_participant_t *pa, *pb;
  sfu_peer_t *a, *b;
  rx_t ra, rb;
  int state_a, state_b, kf_events, closed;
  int stats_events;
  sfu_participant_stats_t last_stats_b;
} world_t;

/* The track most tests publish from alice: video, SSRC 0x1111, PT 96. */
static const sfu_track_params_t cam = {.track_id = "cam", .kind = SFU_MEDIA_VIDEO,
                                       .ssrc = 0x1111, .payload_type = 96};

static void on_media(void *arg, sfu_peer_t *p, int is_rtcp, const uint8_t *d, size_t n) {
  (void)p;
  rx_t *r = arg;
  if (!is_rtcp) {
    sfu_rtp_hdr_t h;
    if (sfu_rtp_parse(d, n, &h) != 0 || r->n_rtp >= MAXRX) return;
    r->ssrc[r->n_rtp] = h.ssrc;
    r->seq[r->n_rtp] = h.seq;
    r->ts[r->n_rtp] = h.timestamp;
    r->payload_len[r->n_rtp] = h.payload.len < 64 ? h.payload.len : 64;
    memcpy(r->payload[r->n_rtp], h.payload.ptr, r->payload_len[r->n_rtp]);
    r->n_rtp++;
    sfu_rtp_ext_elem_t e;
    r->ext_found_mid += sfu_rtp_ext_find(&h, 1, &e) == 0;
    r->ext_found_rid += sfu_rtp_ext_find(&h, 2, &e) == 0;
    if (sfu_rtp_ext_find(&h, 3, &e) == 0 && e.data.len == 1) r->audio_level = e.data.ptr[0];
    return;
  }
  sfu_rtcp_iter_t it;
  sfu_rtcp_pkt_t rp;
  sfu_rtcp_iter_init(&it, d, n);
  while (sfu_rtcp_next(&it, &rp) == 1) {
    sfu_rtcp_fb_t fb;
    sfu_rtcp_sr_t sr;
    if (rp.type == SFU_RTCP_PSFB && sfu_rtcp_parse_fb(&rp, &fb) == 0 && fb.fmt == SFU_RTCP_FMT_PLI) {
      if (r->n_pli < 16) r->pli_media[r->n_pli] = fb.media_ssrc;
      r->n_pli++;
    } else if (rp.type == SFU_RTCP_SR && sfu_rtcp_parse_sr(&rp, &sr) == 0) {
      r->n_sr++;
      r->sr_ssrc = sr.ssrc;
      r->sr_ts = sr.rtp_ts;
    } else if (rp.type == SFU_RTCP_RR) {
      r->n_rr++;
    }
  }
}

static void on_state(void *arg, sfu_participant_t *p, sfu_transport_state_t st, int err) {
  (void)err;
  world_t *wd = arg;
  if (p == wd->pa) wd->state_a = (int)st;
  if (p == wd->pb) wd->state_b = (int)st;
}
static void on_stats(void *arg, sfu_participant_t *p, const sfu_participant_stats_t *st) {
  world_t *wd = arg;
  wd->stats_events++;
  if (p == wd->pb) wd->last_stats_b = *st;
}
static void on_kf(void *arg, sfu_participant_t *pub, sfu_track_t *t) {
  (void)pub;
  (void)t;
  ((world_t *)arg)->kf_events++;
}

static void pump(world_t *wd, int ms) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    uv_run(&wd->loop, UV_RUN_NOWAIT);
    sfu_peer_poll(wd->a, 0);
    sfu_peer_poll(wd->b, 0);
    uv_run(&wd->loop, UV_RUN_NOWAIT);
    struct timespec ts = {0, 500 * 1000};
    nanosleep(&ts, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t);
    if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms) return;
  }
}

static void connect_world_cfg(world_t *wd, const char *bind_ip, uint32_t consent_ms) {
  memset(wd, 0, sizeof *wd);
  cr_assert_eq(uv_loop_init(&wd->loop), 0);
  sfu_worker_config_t cfg = {.bind_ip = bind_ip, .port = SFU_PORT_EPHEMERAL,
                             .pool_buffers = 1024, .keyframe_min_interval_ms = 200,
                             .stats_interval_ms = 100, .ice_consent_timeout_ms = consent_ms};
  int rc = sfu_worker_init(&wd->loop, &cfg, &wd->w);
  cr_assert_eq(rc, 0, "worker init: %s", veil_strerror(rc));
  cr_assert_eq(sfu_worker_start(wd->w), 0);
  cr_assert_eq(sfu_room_create(wd->w, "room-1", &wd->room), 0);
  sfu_listener_t l = {.arg = wd, .on_transport_state = on_state, .on_keyframe_needed = on_kf,
                      .on_stats = on_stats};
  cr_assert_eq(sfu_participant_create(wd->room, "alice", &l, &wd->pa), 0);
  cr_assert_eq(sfu_participant_create(wd->room, "bob", &l, &wd->pb), 0);
  cr_assert_eq(sfu_peer_new(on_media, &wd->ra, &wd->a), 0);
  cr_assert_eq(sfu_peer_new(on_media, &wd->rb, &wd->b), 0);
  sfu_participant_t *ps[2] = {wd->pa, wd->pb};
  sfu_peer_t *peers[2] = {wd->a, wd->b};
  for (int i = 0; i < 2; i++) {
    sfu_remote_params_t rp = {.ice_ufrag = sfu_peer_ufrag(peers[i]),
                              .dtls_fingerprint_algorithm = "sha-256",
                              .dtls_fingerprint = sfu_peer_fingerprint(peers[i])};
    cr_assert_eq(sfu_participant_set_remote(ps[i], &rp), 0);
    sfu_local_params_t lp;
    cr_assert_eq(sfu_participant_local_params(ps[i], &lp), 0);
    cr_assert_eq(lp.n_candidates, 1);
    cr_assert_str_eq(lp.candidate_ip[0], "127.0.0.1");
    cr_assert_eq(sfu_peer_start(peers[i], lp.candidate_port[0], lp.ice_ufrag, lp.ice_pwd,
                                lp.dtls_fingerprint), 0);
  }
  for (int i = 0; i < 100 && !(sfu_peer_connected(wd->a) && sfu_peer_connected(wd->b) &&
                               wd->state_a == SFU_TRANSPORT_CONNECTED &&
                               wd->state_b == SFU_TRANSPORT_CONNECTED); i++)
    pump(wd, 20);
  cr_assert(sfu_peer_connected(wd->a) && sfu_peer_connected(wd->b), "peers not connected");
  cr_assert_eq(wd->state_a, SFU_TRANSPORT_CONNECTED);
  cr_assert_eq(wd->state_b, SFU_TRANSPORT_CONNECTED);
}

static void connect_world(world_t *wd) { connect_world_cfg(wd, "127.0.0.1", 0); }

static void on_worker_closed(void *arg) { ((world_t *)arg)->closed = 1; }

static void close_world(world_t *wd) {
  sfu_worker_close(wd->w, on_worker_closed, wd);
  for (int i = 0; i < 100 && !wd->closed; i++) uv_run(&wd->loop, UV_RUN_NOWAIT);
  cr_assert(wd->closed, "worker close callback never ran");
  cr_assert_eq(uv_loop_close(&wd->loop), 0, "handles left open after close");
  sfu_peer_free(wd->a);
  sfu_peer_free(wd->b);
}

/* ---------------------------------------------------------------------------------------
 * Room set-up: every step must succeed, so a scenario never runs on a half-built room.
 */
static sfu_track_t *publish(sfu_participant_t *pub, const sfu_track_params_t *tp) {
  sfu_track_t *t;
  cr_assert_eq(sfu_track_publish(pub, tp, &t), 0, "publish %s", tp->track_id);
  return t;
}

static sfu_subscription_t *subscribe(sfu_participant_t *sub, sfu_track_t *t) {
  sfu_subscription_t *s;
  cr_assert_eq(sfu_subscribe(sub, t, &s), 0);
  return s;
}

/* Alice publishes tp and bob subscribes to it. */
static sfu_subscription_t *bob_subscribes_to_alice(world_t *wd, const sfu_track_params_t *tp) {
  return subscribe(wd->pb, publish(wd->pa, tp));
}

static sfu_subscription_info_t subscription_info(const sfu_subscription_t *s) {
  sfu_subscription_info_t si;
  cr_assert_eq(sfu_subscription_info(s, &si), 0);
  return si;
}

static uint64_t srtp_errors(const sfu_participant_t *p) {
  sfu_participant_stats_t st;
  sfu_participant_stats(p, &st);
  return st.srtp_errors;
}

/* ---------------------------------------------------------------------------------------
 * Packets. Payload byte j of the packet tagged `tag` is tag * 31 + j, so a receiver can
 * tell which packet it holds and whether a byte of it changed.
 */
static void tagged_payload(uint8_t out[PAYLOAD_LEN], int tag) {
  for (int j = 0; j < PAYLOAD_LEN; j++) out[j] = (uint8_t)(tag * 31 + j);
}

static size_t make_rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint32_t ts, int tag) {
  veil_writer_t w;
  veil_writer_init(&w, buf, 256);
  uint8_t payload[PAYLOAD_LEN];
  tagged_payload(payload, tag);
  sfu_rtp_write_params_t p = {.marker = 1, .payload_type = 96, .seq = seq, .timestamp = ts,
                              .ssrc = ssrc, .payload = {payload, sizeof payload}};
  cr_assert_eq(sfu_rtp_write(&w, &p), 0);
  return w.len;
}

static size_t make_pli(uint8_t *buf, uint32_t sender, uint32_t media) {
  veil_writer_t w;
  veil_writer_init(&w, buf, 256);
  /* Reduced-size is fine for the SFU, but keep RFC 3550 compound: RR first. */
  cr_assert_eq(sfu_rtcp_write_rr(&w, sender, NULL, 0), 0);
  cr_assert_eq(sfu_rtcp_write_pli(&w, sender, media), 0);
  return w.len;
}

/* An SR without report blocks (RFC 3550 §6.4.1), written field by field. */
static size_t make_sr(uint8_t *buf, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts,
                      uint32_t packets, uint32_t octets) {
  veil_writer_t w;
  veil_writer_init(&w, buf, 256);
  veil_write_u8(&w, 0x80);
  veil_write_u8(&w, 200);
  veil_write_u16(&w, 6);
  veil_write_u32(&w, ssrc);
  veil_write_u64(&w, ntp);
  veil_write_u32(&w, rtp_ts);
  veil_write_u32(&w, packets);
  veil_write_u32(&w, octets);
  cr_assert_eq(w.err, 0);
  return w.len;
}

/* A run of RTP packets alice sends through her SRTP session: packet i has sequence number
 * seq0 + i * seq_step, timestamp ts0 + i * ts_step and payload tag i. */
typedef struct rtp_run {
  uint32_t ssrc;
  uint16_t seq0, seq_step;
  uint32_t ts0, ts_step;
  int count;
} rtp_run_t;

static void alice_sends(world_t *wd, rtp_run_t r) {
  uint8_t buf[256];
  for (int i = 0; i < r.count; i++) {
    size_t n = make_rtp(buf, r.ssrc, (uint16_t)(r.seq0 + i * r.seq_step),
                        r.ts0 + r.ts_step * (uint32_t)i, i);
    cr_assert_eq(sfu_peer_send_rtp(wd->a, buf, n), 0, "alice's packet %d not sent", i);
  }
}

/* The single packet a scenario needs to show that nothing is forwarded. */
static void alice_sends_one(world_t *wd, uint32_t ssrc) {
  uint8_t buf[256];
  cr_assert_eq(sfu_peer_send_rtp(wd->a, buf, make_rtp(buf, ssrc, 1, 1, 1)), 0);
}

static void bob_sends_rtcp(world_t *wd, const uint8_t *pkt, size_t n) {
  cr_assert_eq(sfu_peer_send_rtcp(wd->b, pkt, n), 0);
}

/* Sends bytes from alice's socket as they are, bypassing her SRTP session: what anyone
 * who can spoof her address can send. */
static void alice_sends_raw(world_t *wd, const uint8_t *d, size_t n) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(sfu_worker_port(wd->w)),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert_eq(sendto(sfu_peer_fd(wd->a), d, n, 0, (struct sockaddr *)&to, sizeof to),
               (ssize_t)n);
}

/* Plain RTP on ssrc with SRTP_TAG_LEN zero bytes where the tag belongs: shaped like SRTP,
 * never authentic. */
static void alice_sends_forged_srtp(world_t *wd, uint32_t ssrc, int times) {
  uint8_t buf[256] = {0};
  size_t n = make_rtp(buf, ssrc, 1, 1, 1);
  for (int i = 0; i < times; i++) alice_sends_raw(wd, buf, n + SRTP_TAG_LEN);
}

/* ---------------------------------------------------------------------------------------
 * What bob received.
 */
static void assert_bob_received(const world_t *wd, int want) {
  cr_assert_eq(wd->rb.n_rtp, want, "B received %d of %d", wd->rb.n_rtp, want);
}

static void assert_payload_intact(const rx_t *r, int i, int tag) {
  uint8_t want[PAYLOAD_LEN];
  tagged_payload(want, tag);
  cr_assert_eq(r->payload_len[i], PAYLOAD_LEN);
  cr_assert_arr_eq(r->payload[i], want, PAYLOAD_LEN, "payload of packet %d altered", i);
}

Test(router, forwards_rtp_payload_intact_under_subscription_ssrc) {
  world_t wd;
  connect_world(&wd);
  sfu_subscription_info_t si = subscription_info(bob_subscribes_to_alice(&wd, &cam));
  cr_assert_neq(si.ssrc, cam.ssrc);
  alice_sends(&wd, (rtp_run_t){.ssrc = cam.ssrc, .seq0 = 500, .seq_step = 1, .ts_step = 9000,
                               .count = 20});
  pump(&wd, 100);
  assert_bob_received(&wd, 20);
  for (int i = 0; i < 20; i++) {
    cr_assert_eq(wd.rb.ssrc[i], si.ssrc);
    cr_assert_eq(wd.rb.seq[i], (uint16_t)(500 + i));
    assert_payload_intact(&wd.rb, i, i);
  }
  cr_assert_eq(wd.ra.n_rtp, 0, "publisher got its own media back");
  close_world(&wd);
}

Test(router, forwards_subscriber_pli_to_publisher_rate_limited) {
  world_t wd;
  connect_world(&wd);
  sfu_subscription_t *s = bob_subscribes_to_alice(&wd, &cam);
  pump(&wd, 50);
  cr_assert_eq(wd.ra.n_pli, 1, "no keyframe request when B subscribed");
  pump(&wd, 250); /* past the 200 ms limit */
  uint8_t buf[256];
  size_t n = make_pli(buf, 0xb0b, subscription_info(s).ssrc);
  for (int i = 0; i < 3; i++) bob_sends_rtcp(&wd, buf, n);
  pump(&wd, 60);
  cr_assert_eq(wd.ra.n_pli, 2, "expected exactly one more PLI, got %d total", wd.ra.n_pli);
  cr_assert_eq(wd.ra.pli_media[1], cam.ssrc, "PLI not translated to the publisher's SSRC");
  cr_assert_geq(wd.kf_events, 1);
  /* A PLI naming an SSRC B does not receive is ignored. */
  pump(&wd, 250);
  bob_sends_rtcp(&wd, buf, make_pli(buf, 0xb0b, 0xdeadbeef));
  pump(&wd, 60);
  cr_assert_eq(wd.ra.n_pli, 2);
  close_world(&wd);
}

Test(router, switch_keeps_subscriber_stream_continuous_and_translates_sr) {
  world_t wd;
  connect_world(&wd);
  sfu_track_params_t hi = cam, lo = cam;
  hi.track_id = "cam-hi";
  lo.track_id = "cam-lo";
  lo.ssrc = 0x2222;
  sfu_track_t *t1 = publish(wd.pa, &hi), *t2 = publish(wd.pa, &lo);
  sfu_subscription_t *s = subscribe(wd.pb, t1);
  alice_sends(&wd, (rtp_run_t){.ssrc = hi.ssrc, .seq0 = 100, .seq_step = 1, .ts0 = 1000,
                               .ts_step = 3000, .count = 5});
  pump(&wd, 50);
  cr_assert_eq(sfu_subscription_switch(s, t2), 0);
  alice_sends(&wd, (rtp_run_t){.ssrc = lo.ssrc, .seq0 = 40000, .seq_step = 1, .ts0 = 777777,
                               .ts_step = 3000, .count = 5});
  pump(&wd, 50);
  assert_bob_received(&wd, 10);
  for (int i = 1; i < 10; i++) {
    cr_assert_eq(wd.rb.ssrc[i], wd.rb.ssrc[0], "SSRC changed across the switch");
    cr_assert_eq(wd.rb.seq[i], (uint16_t)(wd.rb.seq[i - 1] + 1), "sequence gap at %d", i);
    cr_assert_gt((int32_t)(wd.rb.ts[i] - wd.rb.ts[i - 1]), 0, "timestamp went back at %d", i);
  }
  /* SR of the new source: B sees it under its own SSRC with the mapped timestamp. */
  uint8_t buf[256];
  size_t n = make_sr(buf, lo.ssrc, 0x1122334455667788ull, 777777u + 3000u * 4, 5, 200);
  cr_assert_eq(sfu_peer_send_rtcp(wd.a, buf, n), 0);
  pump(&wd, 50);
  cr_assert_eq(wd.rb.n_sr, 1);
  cr_assert_eq(wd.rb.sr_ssrc, wd.rb.ssrc[0]);
  cr_assert_eq(wd.rb.sr_ts, wd.rb.ts[9], "SR timestamp not mapped like the media");
  close_world(&wd);
}

Test(router, drops_forged_srtp_and_counts_it) {
  world_t wd;
  connect_world(&wd);
  bob_subscribes_to_alice(&wd, &cam);
  /* Plain RTP (no SRTP tag) from A's address: must not be forwarded. */
  alice_sends_forged_srtp(&wd, cam.ssrc, 5);
  pump(&wd, 50);
  assert_bob_received(&wd, 0);
  cr_assert_eq(srtp_errors(wd.pa), 5);
  close_world(&wd);
}

Test(router, sends_receiver_reports_to_publisher) {
  world_t wd;
  connect_world(&wd);
  sfu_track_params_t mic = {.track_id = "mic", .kind = SFU_MEDIA_AUDIO, .ssrc = 0x3333,
                            .payload_type = 111};
  publish(wd.pa, &mic);
  alice_sends(&wd, (rtp_run_t){.ssrc = mic.ssrc, .seq_step = 2, .ts_step = 960, .count = 10});
  pump(&wd, 1300);
  cr_assert_geq(wd.ra.n_rr, 1, "no RR from the SFU within 1.3 s");
  close_world(&wd);
}

Test(router, closing_participant_removes_its_subscriptions_and_tracks) {
  world_t wd;
  connect_world(&wd);
  bob_subscribes_to_alice(&wd, &cam);
  sfu_participant_close(wd.pa);
  cr_assert_null(sfu_track_find(wd.room, "cam"));
  cr_assert_null(sfu_participant_find(wd.room, "alice"));
  alice_sends_one(&wd, cam.ssrc);
  pump(&wd, 50);
  assert_bob_received(&wd, 0);
  close_world(&wd);
}

Test(router, rejects_duplicate_ids_ssrcs_and_self_subscription) {
  world_t wd;
  connect_world(&wd);
  sfu_track_params_t tp = {.track_id = "cam", .kind = SFU_MEDIA_VIDEO, .ssrc = 0x1111};
  sfu_track_t *t = publish(wd.pa, &tp), *t2;
  sfu_subscription_t *s;
  sfu_participant_t *dup;
  cr_assert_eq(sfu_track_publish(wd.pb, &tp, &t2), VEIL_EEXIST);
  tp.ssrc = 0x1112;
  cr_assert_eq(sfu_track_publish(wd.pb, &tp, &t2), VEIL_EEXIST, "track id reused in the room");
  tp.track_id = "cam2";
  tp.ssrc = 0x1111;
  cr_assert_eq(sfu_track_publish(wd.pb, &tp, &t2), VEIL_EEXIST, "SSRC reused in the room");
  cr_assert_eq(sfu_subscribe(wd.pa, t, &s), VEIL_EINVAL);
  cr_assert_eq(sfu_participant_create(wd.room, "alice", NULL, &dup), VEIL_EEXIST);
  close_world(&wd);
}

Test(router, blanks_publisher_mid_and_rid_but_keeps_other_extensions) {
  world_t wd;
  connect_world(&wd);
  sfu_track_params_t tp = cam;
  tp.ext = (sfu_ext_ids_t){.mid = 1, .rid = 2, .audio_level = 3};
  sfu_subscription_info_t si = subscription_info(bob_subscribes_to_alice(&wd, &tp));
  cr_assert_eq(si.ext.mid, 0);
  cr_assert_eq(si.ext.audio_level, 3);
  uint8_t payload[PAYLOAD_LEN], buf[256];
  for (int i = 0; i < PAYLOAD_LEN; i++) payload[i] = (uint8_t)(0xa0 + i);
  const uint8_t al = 0x55;
  sfu_rtp_ext_in_t ext[3] = {{1, "0", 1}, {2, "hi", 2}, {3, &al, 1}};
  sfu_rtp_write_params_t p = {.payload_type = 96, .seq = 7, .timestamp = 70, .ssrc = cam.ssrc,
                              .ext = ext, .n_ext = 3, .payload = {payload, sizeof payload}};
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(sfu_rtp_write(&w, &p), 0);
  cr_assert_eq(sfu_peer_send_rtp(wd.a, buf, w.len), 0);
  pump(&wd, 50);
  assert_bob_received(&wd, 1);
  cr_assert_arr_eq(wd.rb.payload[0], payload, PAYLOAD_LEN);
  cr_assert_eq(wd.rb.ext_found_mid, 0, "publisher MID leaked to the subscriber");
  cr_assert_eq(wd.rb.ext_found_rid, 0, "publisher RID leaked to the subscriber");
  cr_assert_eq(wd.rb.audio_level, 0x55, "other extensions must survive");
  close_world(&wd);
}

Test(router, reports_periodic_stats_with_forwarded_counts) {
  world_t wd;
  connect_world(&wd);
  bob_subscribes_to_alice(&wd, &cam);
  alice_sends(&wd, (rtp_run_t){.ssrc = cam.ssrc, .seq0 = 10, .seq_step = 1, .ts_step = 90,
                               .count = 7});
  int before = wd.stats_events;
  pump(&wd, 350);
  cr_assert_geq(wd.stats_events - before, 4, "expected ~3 events per participant in 350 ms");
  cr_assert_eq(wd.last_stats_b.rtp_out, 7);
  close_world(&wd);
}

Test(router, dual_stack_worker_serves_ipv4_clients) {
  world_t wd;
  connect_world_cfg(&wd, "::", 0); /* announced candidate defaults to 127.0.0.1 */
  bob_subscribes_to_alice(&wd, &cam);
  alice_sends(&wd, (rtp_run_t){.ssrc = cam.ssrc, .seq0 = 1, .seq_step = 1, .ts_step = 90,
                               .count = 5});
  pump(&wd, 80);
  assert_bob_received(&wd, 5);
  close_world(&wd);
}

Test(router, fails_transport_when_ice_consent_expires) {
  world_t wd;
  /* The in-tree peer sends no consent checks after connecting (RFC 7675 requires them):
   * with a 1 s consent window both transports must fail, and media must stop. */
  connect_world_cfg(&wd, "127.0.0.1", 1000);
  pump(&wd, 1300);
  cr_assert_eq(wd.state_a, SFU_TRANSPORT_FAILED);
  cr_assert_eq(wd.state_b, SFU_TRANSPORT_FAILED);
  bob_subscribes_to_alice(&wd, &cam);
  alice_sends_one(&wd, cam.ssrc);
  pump(&wd, 50);
  cr_assert_eq(wd.rb.n_rtp, 0, "media forwarded over a transport without consent");
  close_world(&wd);
}

Test(router, drops_unpublished_ssrc_before_srtp) {
  /* libsrtp would allocate a stream per new authenticated SSRC; unknown SSRCs must not
   * reach it. Unauthenticated packets show where the drop happened: a known SSRC fails
   * SRTP authentication (counted), an unknown one never gets that far. */
  world_t wd;
  connect_world(&wd);
  publish(wd.pa, &cam);
  alice_sends_forged_srtp(&wd, 0x9999, 4);
  alice_sends_forged_srtp(&wd, cam.ssrc, 1);
  pump(&wd, 50);
  cr_assert_eq(srtp_errors(wd.pa), 1, "unknown SSRC reached SRTP (%llu errors)",
               (unsigned long long)srtp_errors(wd.pa));
  /* RTCP: at most SFU_MAX_RTCP_SSRCS (16) distinct sender SSRCs reach SRTP. */
  for (uint32_t i = 0; i < 40; i++) {
    uint8_t rr[8 + 16] = {0x80, 201, 0, 1, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
    alice_sends_raw(&wd, rr, sizeof rr);
  }
  pump(&wd, 50);
  cr_assert_eq(srtp_errors(wd.pa), 1 + 16, "%llu", (unsigned long long)srtp_errors(wd.pa));
  close_world(&wd);
}

Test(router, caps_subscription_and_track_churn_over_a_lifetime) {
  /* Each new SSRC leaves per-SSRC state in libsrtp for the session's lifetime; endless
   * subscribe/unsubscribe or publish/unpublish must hit a limit, not exhaust memory. */
  world_t wd;
  connect_world(&wd);
  sfu_track_params_t tp = {.track_id = "cam", .kind = SFU_MEDIA_AUDIO, .ssrc = 0x1111};
  sfu_track_t *t = publish(wd.pa, &tp);
  sfu_subscription_t *s;
  int rc = 0, n = 0;
  while ((rc = sfu_subscribe(wd.pb, t, &s)) == 0 && n < SFU_MAX_SUBS_LIFETIME + 10) {
    sfu_unsubscribe(s);
    n++;
  }
  cr_assert_eq(rc, VEIL_ESFU_LIMIT);
  cr_assert_eq(n, SFU_MAX_SUBS_LIFETIME);
  sfu_track_unpublish(t);
  n = 0;
  char id[16];
  for (;; n++) {
    snprintf(id, sizeof id, "t%d", n);
    sfu_track_params_t p2 = {.track_id = id, .kind = SFU_MEDIA_AUDIO, .ssrc = 0x2000u + (uint32_t)n};
    if ((rc = sfu_track_publish(wd.pa, &p2, &t)) != 0 || n > SFU_MAX_TRACKS_LIFETIME + 10) break;
    sfu_track_unpublish(t);
  }
  cr_assert_eq(rc, VEIL_ESFU_LIMIT);
  cr_assert_eq(n, SFU_MAX_TRACKS_LIFETIME - 1, "published %d after the first", n);
  close_world(&wd);
}
