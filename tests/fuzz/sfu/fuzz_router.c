/*
 * Fuzz target: the router's media path after SRTP (sfu_router_on_rtp / _on_rtcp) — what an
 * authenticated but malicious participant controls. A worker with one publisher and two
 * subscribers is built once; their transports are marked CONNECTED with SRTP sessions
 * from fixed keys and a discard destination (127.0.0.1:9), so every forwarded copy goes
 * through rewrite, mid/rid blanking, SRTP protect and the send queue without a handshake.
 * This reaches into sfu/sfu_int.h on purpose (test-only wiring).
 *
 * Input: byte 0 selects the action, the rest is the packet.
 *   0 RTP from the publisher      1 RTCP from the publisher
 *   2 RTCP from subscriber 1      3 switch subscriber 1 between tracks A and B
 *   4 toggle pause of subscriber 2
 * Invariant checked after every input: once the queue is flushed, every pool buffer is
 * back (no leak, no double put — the pool asserts the latter).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sfu/sfu_int.h"

static uv_loop_t g_loop;
static sfu_worker_t *g_w;
static sfu_participant_t *g_pub, *g_s1, *g_s2;
static sfu_track_t *g_ta, *g_tb;
static sfu_subscription_t *g_sub1, *g_sub2;

static void fake_connect(sfu_participant_t *p) {
  static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  static const uint8_t salt[12] = {21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  if (sfu_srtp_new(SFU_SRTP_AEAD_AES_128_GCM, SFU_SRTP_OUTBOUND, key, 16, salt, 12,
                   &p->srtp_out) ||
      sfu_srtp_new(SFU_SRTP_AEAD_AES_128_GCM, SFU_SRTP_INBOUND, key, 16, salt, 12, &p->srtp_in))
    abort();
  struct sockaddr_in *a = (struct sockaddr_in *)&p->addr;
  a->sin_family = AF_INET;
  a->sin_port = htons(9);
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  p->state = SFU_TRANSPORT_CONNECTED;
}

static void setup(void) {
  veil_log_set_level(VEIL_LOG_ERROR);
  uv_loop_init(&g_loop);
  sfu_worker_config_t cfg = {.bind_ip = "127.0.0.1", .port = SFU_PORT_EPHEMERAL,
                             .pool_buffers = 256, .keyframe_min_interval_ms = 1};
  sfu_room_t *room;
  if (sfu_worker_init(&g_loop, &cfg, &g_w) || sfu_worker_start(g_w) ||
      sfu_room_create(g_w, "fuzz", &room) ||
      sfu_participant_create(room, "pub", NULL, &g_pub) ||
      sfu_participant_create(room, "s1", NULL, &g_s1) ||
      sfu_participant_create(room, "s2", NULL, &g_s2))
    abort();
  fake_connect(g_pub);
  fake_connect(g_s1);
  fake_connect(g_s2);
  sfu_track_params_t ta = {.track_id = "a", .kind = SFU_MEDIA_VIDEO, .ssrc = 0x11111111,
                           .payload_type = 96,
                           .ext = {.mid = 1, .rid = 2, .repaired_rid = 3, .audio_level = 4}};
  sfu_track_params_t tb = {.track_id = "b", .kind = SFU_MEDIA_VIDEO, .ssrc = 0x22222222,
                           .payload_type = 96, .ext = {.mid = 1}};
  if (sfu_track_publish(g_pub, &ta, &g_ta) || sfu_track_publish(g_pub, &tb, &g_tb) ||
      sfu_subscribe(g_s1, g_ta, &g_sub1) || sfu_subscribe(g_s2, g_ta, &g_sub2))
    abort();
  /* Fixed subscription SSRCs so seeds can name them in PLI/FIR. */
  g_sub1->out_ssrc = 0xaaaa0001;
  g_sub2->out_ssrc = 0xaaaa0002;
  uv_run(&g_loop, UV_RUN_NOWAIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_w) setup();
  if (size < 1) return 0;
  uint8_t op = data[0];
  data++;
  size--;
  uint64_t now = uv_now(&g_loop);
  if (op == 3) {
    sfu_subscription_switch(g_sub1, g_sub1->track == g_ta ? g_tb : g_ta);
  } else if (op == 4) {
    sfu_subscription_set_paused(g_sub2, !g_sub2->paused);
  } else if (op <= 2 && size <= SFU_PKT_CAP - 256) {
    sfu_pkt_t *pkt = sfu_pool_get(g_w->pool);
    if (!pkt) abort();
    memcpy(pkt->data, data, size);
    pkt->len = (uint32_t)size;
    if (op == 0)
      sfu_router_on_rtp(g_pub, pkt, now);
    else
      sfu_router_on_rtcp(op == 1 ? g_pub : g_s1, pkt, now);
  }
  sfu_udp_flush(g_w->udp);
  uv_run(&g_loop, UV_RUN_NOWAIT);
  if (sfu_pool_available(g_w->pool) != sfu_pool_capacity(g_w->pool)) abort();
  return 0;
}
