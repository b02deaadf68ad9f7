/* veil client session — synthetic media over SFrame/RTP. Contract in vs_media.h. */
#include "clients/lib/session/vs_media.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/lib/crypto/provider.h"
#include "common/bytes.h"
#include "common/err.h"
#include "sfu/rtp.h"
#include "sfu/srtp.h"

#define MAGIC "VEIL"
#define HDR_LEN (4 + 1 + 1 + 4 + 4 + 8 + 2)
#define CHECK_LEN 8
#define MAX_PAYLOAD 1100 /* RTP payload bytes: fits a 1200-byte path MTU with headers */
#define MAX_PKTS 64
#define PKT_CAP (1500 + SFU_SRTP_MAX_OVERHEAD)

uint64_t vs_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- pattern --------------------------------------------------------------------------- */

static void body_fill(uint32_t origin, uint32_t seq, uint8_t *p, size_t n) {
  uint64_t x = ((uint64_t)origin << 32 | seq) ^ 0x9E3779B97F4A7C15ull;
  if (!x)
    x = 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27; /* xorshift64* */
    p[i] = (uint8_t)((x * 0x2545F4914F6CDD1Dull) >> 56);
  }
}

size_t vs_pattern_make(uint32_t ssrc, uint8_t track, uint32_t seq, int key, uint64_t now_us, size_t body_len,
                       uint8_t *out, size_t cap) {
  size_t len = HDR_LEN + body_len + CHECK_LEN;
  if (len > cap || body_len > 0xffff)
    return 0;
  veil_writer_t w;
  veil_writer_init(&w, out, cap);
  veil_write_bytes(&w, MAGIC, 4);
  veil_write_u8(&w, track);
  veil_write_u8(&w, key ? 1 : 0);
  veil_write_u32(&w, ssrc);
  veil_write_u32(&w, seq);
  veil_write_u64(&w, now_us);
  veil_write_u16(&w, (uint16_t)body_len);
  uint8_t *b = veil_writer_reserve(&w, body_len);
  if (!b)
    return 0;
  body_fill(ssrc, seq, b, body_len);
  veil_writer_advance(&w, body_len);
  uint8_t h[32];
  vc_hash(VC_SHA256, out, w.len, h);
  veil_write_bytes(&w, h, CHECK_LEN);
  return w.err ? 0 : w.len;
}

int vs_pattern_check(const uint8_t *f, size_t len, uint32_t *seq, uint64_t *sent_us) {
  veil_reader_t r;
  veil_reader_init(&r, f, len);
  veil_view_t magic, body, check;
  uint8_t track, flags;
  uint32_t origin;
  uint16_t blen;
  veil_read_bytes(&r, 4, &magic);
  veil_read_u8(&r, &track);
  veil_read_u8(&r, &flags);
  veil_read_u32(&r, &origin);
  veil_read_u32(&r, seq);
  veil_read_u64(&r, sent_us);
  veil_read_u16(&r, &blen);
  veil_read_bytes(&r, blen, &body);
  veil_read_bytes(&r, CHECK_LEN, &check);
  if (veil_reader_finish(&r) || memcmp(magic.ptr, MAGIC, 4) != 0)
    return VEIL_EDECODE;
  uint8_t h[32];
  vc_hash(VC_SHA256, f, len - CHECK_LEN, h);
  if (vc_ct_equal(h, check.ptr, CHECK_LEN) != 1)
    return VEIL_EDECODE;
  uint8_t expect[0xffff]; /* any u16 body length */
  body_fill(origin, *seq, expect, blen);
  return memcmp(expect, body.ptr, blen) == 0 ? 0 : VEIL_EDECODE;
}

/* ---- send ------------------------------------------------------------------------------ */

struct vs_sender {
  vs_kind_t kind;
  uint32_t ssrc;
  uint16_t rtp_seq;
  uint32_t ts;
  uint32_t frame_seq;
  uint16_t dd_frame;
  int force_key;
  uint64_t frames;
  uint32_t ts_step;       /* RTP timestamp units per frame */
  vs_frame_source_cb src; /* NULL: pattern frames */
  void *src_arg;
};

int vs_sender_new(vs_kind_t kind, uint32_t ssrc, vs_sender_t **out) {
  vs_sender_t *s = calloc(1, sizeof *s);
  if (!s)
    return VEIL_ENOMEM;
  s->kind = kind;
  s->ssrc = ssrc;
  uint8_t r[6];
  vc_random(r, sizeof r);
  s->rtp_seq = (uint16_t)(r[0] << 8 | r[1]);
  s->ts = (uint32_t)r[2] << 24 | (uint32_t)r[3] << 16 | (uint32_t)r[4] << 8 | r[5];
  s->force_key = 1;
  s->ts_step = kind == VS_AUDIO ? 960 : 6000; /* 20 ms at 48 kHz; 1/15 s at 90 kHz */
  *out = s;
  return 0;
}

void vs_sender_free(vs_sender_t *s) { free(s); }
void vs_sender_set_fps(vs_sender_t *s, uint32_t fps) {
  if (fps)
    s->ts_step = (s->kind == VS_AUDIO ? 48000u : 90000u) / fps;
}
void vs_sender_set_source(vs_sender_t *s, vs_frame_source_cb src, void *arg) {
  s->src = src;
  s->src_arg = arg;
}
uint32_t vs_sender_ssrc(const vs_sender_t *s) { return s->ssrc; }
void vs_sender_force_key(vs_sender_t *s) { s->force_key = 1; }
uint64_t vs_sender_frames(const vs_sender_t *s) { return s->frames; }

/* AV1 dependency descriptor (AV1 RTP spec, Appendix A): start/end of frame, template 0,
 * frame number; on a keyframe's first packet also the template structure of one decode
 * target with one template (L1T1), so that a forwarding SFU can read the stream. */
static size_t dd_write(uint8_t *out, int start, int end, uint16_t frame, int key) {
  out[0] = (uint8_t)((start ? 0x80 : 0) | (end ? 0x40 : 0) | 0 /* template id 0 */);
  out[1] = (uint8_t)(frame >> 8);
  out[2] = (uint8_t)frame;
  if (!(key && start))
    return 3;
  /* structure present=1, 4 more flags 0 | template_id_offset=0 (6) | dt_cnt_minus_one=0 (5)
   * | next_layer_idc=3 (2) | dti=2 "switch" (2) | fdiff_follows=0 | chain_cnt=ns(2)=0 |
   * resolutions_present=0 | pad: 10000 000000 00000 11 10 0 0 0 0 */
  out[3] = 0x80;
  out[4] = 0x00;
  out[5] = 0xE0;
  return 6;
}

int vs_sender_frame(vs_sender_t *s, sframe_mls_t *m, int tamper, vs_rtp_out_cb out, void *arg) {
  int key = s->force_key || (!s->src && s->kind == VS_VIDEO && s->frame_seq % 30 == 0);
  uint8_t frame[VS_FRAME_MAX];
  size_t flen = 0;
  if (s->src) {
    int k = 0;
    int rc = s->src(s->src_arg, s->kind, key, frame, sizeof frame, &flen, &k);
    if (rc || flen > sizeof frame)
      return rc ? rc : VEIL_EOVERFLOW;
    key = k != 0;
  } else {
    size_t body = s->kind == VS_AUDIO ? 120 : key ? 3000 : 900 + (s->frame_seq % 7) * 50;
    flen = vs_pattern_make(s->ssrc, (uint8_t)s->kind, s->frame_seq, key, vs_now_us(), body, frame, sizeof frame);
    if (!flen)
      return VEIL_EOVERFLOW;
  }
  s->force_key = 0;
  uint64_t ctx = s->kind == VS_AUDIO ? 0 : 1, kid;
  int rc = sframe_mls_send_kid(m, ctx, &kid);
  if (rc)
    return rc;
  uint8_t ct[VS_FRAME_MAX + MAX_PKTS * SFRAME_OVERHEAD_MAX];
  sframe_rtp_payload_t pl[MAX_PKTS];
  size_t n = 0;
  rc = sframe_rtp_packetize(sframe_mls_ctx(m), s->kind == VS_AUDIO ? SFRAME_RTP_PER_PACKET : SFRAME_RTP_PER_FRAME,
                            kid, NULL, 0, frame, flen, MAX_PAYLOAD, ct, sizeof ct, pl, MAX_PKTS, &n);
  if (rc)
    return rc;
  if (tamper && n) {
    /* Flip a ciphertext bit well past the SFrame header (test-only malicious sender). */
    uint8_t *p = (uint8_t *)pl[0].ptr;
    p[pl[0].len / 2] ^= 0x10;
  }
  for (size_t i = 0; i < n; i++) {
    uint8_t pkt[PKT_CAP];
    uint8_t level = 0x80 | 30; /* RFC 6464: V=1 (voice), level -30 dBov */
    uint8_t dd[6];
    size_t ddl = dd_write(dd, i == 0, i + 1 == n, s->dd_frame, key);
    sfu_rtp_ext_in_t ext[2] = {
        {.id = VS_EXT_MID, .data = s->kind == VS_AUDIO ? "0" : "1", .len = 1},
        s->kind == VS_AUDIO ? (sfu_rtp_ext_in_t){.id = VS_EXT_AUDIO_LEVEL, .data = &level, .len = 1}
                            : (sfu_rtp_ext_in_t){.id = VS_EXT_DD, .data = dd, .len = ddl},
    };
    sfu_rtp_write_params_t wp = {
        .marker = (uint8_t)pl[i].marker,
        .payload_type = s->kind == VS_AUDIO ? VS_PT_AUDIO : VS_PT_VIDEO,
        .seq = s->rtp_seq++,
        .timestamp = s->ts,
        .ssrc = s->ssrc,
        .ext = ext,
        .n_ext = 2,
        .payload = {pl[i].ptr, pl[i].len},
    };
    veil_writer_t w;
    veil_writer_init(&w, pkt, sizeof pkt - SFU_SRTP_MAX_OVERHEAD);
    if ((rc = sfu_rtp_write(&w, &wp)))
      return rc;
    (void)out(arg, pkt, w.len, sizeof pkt);
  }
  s->ts += s->ts_step;
  s->frame_seq++;
  s->dd_frame++;
  s->frames++;
  return 0;
}

/* ---- receive --------------------------------------------------------------------------- */

struct vs_receiver {
  vs_kind_t kind;
  uint32_t ssrc;
  sframe_reasm_t *reasm; /* owned (video) */
  vs_rx_stats_t st;
  /* per pop: */
  sframe_mls_t *m;
  vs_leaf_check_cb check;
  void *check_arg;
  uint64_t now_us;
  int verified_now;
  vs_frame_check_cb fcheck; /* NULL: pattern check */
  vs_frame_cb on_frame;
  void *hook_arg;
};

int vs_receiver_new(vs_kind_t kind, uint32_t ssrc, vs_receiver_t **out) {
  vs_receiver_t *r = calloc(1, sizeof *r);
  if (!r)
    return VEIL_ENOMEM;
  r->kind = kind;
  r->ssrc = ssrc;
  if (kind == VS_VIDEO) {
    sframe_reasm_config_t rc = {0};
    int err = sframe_reasm_new(&r->reasm, &rc);
    if (err) {
      free(r);
      return err;
    }
  }
  *out = r;
  return 0;
}

void vs_receiver_free(vs_receiver_t *r) {
  if (!r)
    return;
  sframe_reasm_free(r->reasm);
  free(r);
}

void vs_receiver_set_hooks(vs_receiver_t *r, vs_frame_check_cb check, vs_frame_cb on_frame, void *arg) {
  r->fcheck = check;
  r->on_frame = on_frame;
  r->hook_arg = arg;
}

const vs_rx_stats_t *vs_receiver_stats(const vs_receiver_t *r) { return &r->st; }
uint32_t vs_receiver_ssrc(const vs_receiver_t *r) { return r->ssrc; }
vs_kind_t vs_receiver_kind(const vs_receiver_t *r) { return r->kind; }

static void count_failure(vs_receiver_t *r, int rc) {
  switch (rc) {
  case VEIL_EAUTH:
    r->st.auth_failed++;
    break;
  case VEIL_ESFRAME_KID:
  case VEIL_ESFRAME_EPOCH:
  case VEIL_ESFRAME_SENDER:
  case VEIL_ESFRAME_KEY_USAGE:
    r->st.unknown_kid++;
    break;
  case VEIL_ESFRAME_REPLAY:
  case VEIL_ESFRAME_TOO_OLD:
    r->st.replayed++;
    break;
  default:
    r->st.not_sframe++;
    break;
  }
}

/* Decrypts one SFrame ciphertext and checks the plaintext; counts every outcome. */
static int open_frame(vs_receiver_t *r, const uint8_t *ct, size_t len, int count_fail) {
  uint8_t pt[VS_FRAME_MAX + 64];
  size_t n = 0;
  sframe_mls_sender_t who;
  int rc = sframe_mls_decrypt(r->m, NULL, 0, ct, len, pt, sizeof pt, &n, &who);
  if (rc) {
    if (count_fail) {
      r->st.frames++;
      count_failure(r, rc);
    }
    return rc;
  }
  r->st.frames++;
  if (r->check && !r->check(r->check_arg, who.sender_index)) {
    r->st.wrong_sender++; /* authentic, but from a member who does not own this track */
    return 0;
  }
  r->st.decrypted++;
  if (who.epoch > r->st.max_epoch)
    r->st.max_epoch = who.epoch;
  uint32_t seq;
  uint64_t sent = 0;
  vs_frame_t fr = {.kind = r->kind, .data = pt, .len = n, .sender_leaf = who.sender_index, .epoch = who.epoch,
                   .recv_us = r->now_us};
  fr.verified = r->fcheck ? r->fcheck(r->hook_arg, &fr, &sent) == 1 : vs_pattern_check(pt, n, &seq, &sent) == 0;
  fr.sent_us = fr.verified ? sent : 0;
  if (r->on_frame)
    r->on_frame(r->hook_arg, &fr);
  if (!fr.verified) {
    r->st.corrupt++;
  } else {
    r->st.verified++;
    r->verified_now++;
    uint64_t lat = r->now_us > sent ? r->now_us - sent : 0;
    r->st.latency_sum_us += lat;
    r->st.latency_n++;
    if (lat > r->st.latency_max_us)
      r->st.latency_max_us = lat;
  }
  vc_wipe(pt, n);
  return 0;
}

static int accept_cb(void *arg, const uint8_t *frame, size_t len, uint32_t ts, int start_known) {
  (void)ts;
  /* A frame with an unknown start that fails is kept for a retry: count it only when the
   * start is known (then the reassembler drops it). */
  return open_frame(arg, frame, len, start_known);
}

int vs_receiver_packet(vs_receiver_t *r, sframe_mls_t *m, const uint8_t *pkt, size_t len, vs_leaf_check_cb check,
                       void *check_arg, uint64_t now_us) {
  sfu_rtp_hdr_t h;
  if (sfu_rtp_parse(pkt, len, &h) || h.ssrc != r->ssrc)
    return 0;
  r->st.packets++;
  r->m = m;
  r->check = check;
  r->check_arg = check_arg;
  r->now_us = now_us;
  r->verified_now = 0;
  if (!m) {
    r->st.frames++;
    r->st.unknown_kid++; /* no group yet: no key can be known */
    return 0;
  }
  if (r->kind == VS_AUDIO) {
    (void)open_frame(r, h.payload.ptr, h.payload.len, 1);
    return r->verified_now;
  }
  if (sframe_reasm_push(r->reasm, h.seq, h.timestamp, h.marker, h.payload.ptr, h.payload.len)) {
    r->st.not_sframe++;
    return 0;
  }
  while (sframe_reasm_pop(r->reasm, accept_cb, r) == 1)
    ;
  return r->verified_now;
}
