/*
 * veil client session — synthetic media, SFrame-encrypted end to end, on RTP.
 *
 * Test pattern (what a reference client publishes instead of a camera and microphone):
 * every frame is
 *
 *   "VEIL" | track (u8) | flags (u8, bit 0: keyframe) | origin (u32, the publisher's
 *   SSRC: the SFU rewrites SSRCs per subscriber) | frame_seq (u32) |
 *   send_time_us (u64, CLOCK_REALTIME) | body_len (u16) | body | check (8 bytes)
 *
 * where body is a deterministic byte stream of (origin, frame_seq) (xorshift64*) and check
 * the first 8 bytes of SHA-256 over everything before it. A receiver regenerates the body
 * and compares bit for bit: a frame is "verified" only when all of it matches.
 *
 * Tracks: audio (context 0, 20 ms frames, per-packet SFrame mode, RFC 6464 audio level
 * extension) and video (context 1, 15 fps, a keyframe every 2 s and after each epoch
 * change (docs/protocol.md), per-frame SFrame mode, AV1 dependency descriptor with the
 * mandatory fields, plus an L1T1 template structure on keyframes).
 *
 * Receive side fails closed (docs/protocol.md "SFrame ciphertext"): a payload that is not
 * SFrame, names an unknown KID, fails authentication, is a replay, or was sent under a
 * leaf that is not the publisher's identity is dropped and counted, never handed on.
 * Decrypted frames that do not verify are counted as `corrupt` (must stay 0).
 */
#ifndef VEIL_CLIENTS_SESSION_VS_MEDIA_H
#define VEIL_CLIENTS_SESSION_VS_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/sframe/sframe.h"

#define VS_EXT_MID 1
#define VS_EXT_AUDIO_LEVEL 2
#define VS_EXT_DD 3
#define VS_PT_AUDIO 111
#define VS_PT_VIDEO 96
#define VS_URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define VS_URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define VS_URI_DD "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"

typedef enum vs_kind { VS_AUDIO = 0, VS_VIDEO = 1 } vs_kind_t;

/* ---- test pattern -------------------------------------------------------------------- */
#define VS_FRAME_MAX 65536 /* largest frame sent or received (64 RTP payloads of 1100 bytes) */
size_t vs_pattern_make(uint32_t ssrc, uint8_t track, uint32_t seq, int key, uint64_t now_us, size_t body_len,
                       uint8_t *out, size_t cap);
/* 0 when `f` is a whole, bit-exact pattern frame; fills its seq and send time. */
int vs_pattern_check(const uint8_t *f, size_t len, uint32_t *seq, uint64_t *sent_us);

/* ---- send ---------------------------------------------------------------------------- */
typedef struct vs_sender vs_sender_t;
/* Writes one RTP packet (buffer has SFU_SRTP_MAX_OVERHEAD spare bytes past len). */
typedef int (*vs_rtp_out_cb)(void *arg, uint8_t *pkt, size_t len, size_t cap);
int vs_sender_new(vs_kind_t kind, uint32_t ssrc, vs_sender_t **out);
void vs_sender_free(vs_sender_t *s);
uint32_t vs_sender_ssrc(const vs_sender_t *s);
/* Sends the next frame under `m`'s newest epoch. tamper: flip one bit of the SFrame
 * ciphertext (test-only malicious sender). */
int vs_sender_frame(vs_sender_t *s, sframe_mls_t *m, int tamper, vs_rtp_out_cb out, void *arg);
void vs_sender_force_key(vs_sender_t *s);
/* A frame source (issue 11's hook for veil-load's media model): writes the next frame of
 * `kind` into out (cap = VS_FRAME_MAX bytes) and sets *len and *keyframe; key_wanted asks
 * for a keyframe (first frame, epoch change). A nonzero return skips the frame (counted
 * by the caller as a send failure). Without a source the sender makes pattern frames. */
typedef int (*vs_frame_source_cb)(void *arg, vs_kind_t kind, int key_wanted, uint8_t *out, size_t cap,
                                  size_t *len, int *keyframe);
void vs_sender_set_source(vs_sender_t *s, vs_frame_source_cb src, void *arg); /* arg borrowed */
/* Frame rate for the RTP timestamp step (default: audio 50, video 15 frames/s). */
void vs_sender_set_fps(vs_sender_t *s, uint32_t fps);
uint64_t vs_sender_frames(const vs_sender_t *s);

/* ---- receive ------------------------------------------------------------------------- */
typedef struct vs_rx_stats {
  uint64_t packets, frames, decrypted, verified;
  uint64_t auth_failed, unknown_kid, replayed, not_sframe, wrong_sender, corrupt;
  uint64_t latency_sum_us, latency_max_us, latency_n;
  uint64_t max_epoch; /* newest epoch a frame decrypted under */
} vs_rx_stats_t;

typedef struct vs_receiver vs_receiver_t;
/* expected_leaf_ok: asked, after decryption, whether MLS leaf `leaf` may publish on this
 * track (its credential names the track's publisher); NULL accepts any member. */
typedef int (*vs_leaf_check_cb)(void *arg, uint32_t leaf);
int vs_receiver_new(vs_kind_t kind, uint32_t ssrc, vs_receiver_t **out);
void vs_receiver_free(vs_receiver_t *r);
/* One RTP packet (SRTP already removed). Returns the number of frames verified. */
int vs_receiver_packet(vs_receiver_t *r, sframe_mls_t *m, const uint8_t *pkt, size_t len,
                       vs_leaf_check_cb check, void *check_arg, uint64_t now_us);
/* Per decrypted frame from a member owning the track. */
typedef struct vs_frame {
  vs_kind_t kind;
  const uint8_t *data; /* plaintext, borrowed for the call (wiped afterwards) */
  size_t len;
  uint32_t sender_leaf;
  uint64_t epoch;
  uint64_t recv_us;    /* vs_now_us() when the frame completed */
  uint64_t sent_us;    /* on_frame only: the sender's clock at encryption, 0 if unknown */
  int verified;        /* on_frame only: the check passed */
} vs_frame_t;
/* Replaces the pattern check (for frames of a vs_frame_source_cb): returns 1 when the
 * frame is exactly what was sent, 0 when not, and its send time in *sent_us (0: unknown). */
typedef int (*vs_frame_check_cb)(void *arg, const vs_frame_t *f, uint64_t *sent_us);
/* After the check, every decrypted frame (e.g. for exact per-frame latency percentiles). */
typedef void (*vs_frame_cb)(void *arg, const vs_frame_t *f);
void vs_receiver_set_hooks(vs_receiver_t *r, vs_frame_check_cb check, vs_frame_cb on_frame,
                           void *arg); /* arg borrowed */
const vs_rx_stats_t *vs_receiver_stats(const vs_receiver_t *r);
uint32_t vs_receiver_ssrc(const vs_receiver_t *r);
vs_kind_t vs_receiver_kind(const vs_receiver_t *r);

uint64_t vs_now_us(void); /* CLOCK_REALTIME: latency across processes of one host */

#endif
