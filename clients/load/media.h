/*
 * veil-load — the synthetic media model and the bit-exact frame check.
 *
 * Sources (sans-I/O: `now` in, a frame and the next deadline out):
 *   audio  50 frames/s (20 ms, an Opus-like packetization), each 80..160 bytes drawn
 *          uniformly from the source's own PRNG.
 *   video  `fps` frames/s averaging kbps*1000/8/fps bytes. Every keyframe_interval a
 *          keyframe whose size is shaped by the resolution: 0.15 bit per pixel (an intra
 *          frame at moderate quality), never below 3x the mean frame and never above half
 *          the bytes of its group of pictures. The delta frames of the group share what
 *          is left, +-20% jitter, so the long-run bitrate is the configured one.
 *
 * Frame plaintext (what SFrame encrypts; big-endian, written and read through
 * common/bytes.h):
 *     "VLF1" | sender u32 | track u8 | flags u8 (bit 0 keyframe) | seq u32 |
 *     sent_us u64 | len u32 | filler (len - 26 bytes)
 * The filler is a keyed stream of (sender, track, seq, seed), so a receiver can rebuild
 * the whole frame from its header and compare it bit for bit: any alteration, truncation
 * or mix-up of frames between senders fails the check, not just the AEAD tag.
 */
#ifndef VEIL_CLIENTS_LOAD_MEDIA_H
#define VEIL_CLIENTS_LOAD_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "clients/load/scenario.h"

#define LOAD_FRAME_HEADER 26u
#define LOAD_FRAME_MAX (256u * 1024u) /* the largest frame any source emits */
#define LOAD_AUDIO_PERIOD_US 20000u
#define LOAD_AUDIO_MIN 80u
#define LOAD_AUDIO_MAX 160u

typedef enum load_track { LOAD_TRACK_AUDIO = 0, LOAD_TRACK_VIDEO = 1 } load_track_t;

typedef struct load_frame_info {
  uint32_t sender;
  uint8_t track;
  uint8_t keyframe;
  uint32_t seq;
  uint64_t sent_us;
  uint32_t len;
} load_frame_info_t;

/* One media source. Plain struct (no allocation), owned by its participant. */
typedef struct load_source {
  load_track_t track;
  uint32_t sender;
  uint64_t seed;
  uint64_t rng;
  uint32_t seq;            /* next frame's seq */
  uint64_t next_us;        /* when the next frame is due */
  uint64_t period_us;
  /* video only */
  uint32_t gop;            /* frames per group of pictures (keyframe period) */
  uint32_t key_bytes, delta_bytes;
} load_source_t;

/* start_us: when the first frame is due. VEIL_EINVAL for bad video parameters. */
int load_source_init_audio(load_source_t *s, uint32_t sender, uint64_t seed, uint64_t start_us);
int load_source_init_video(load_source_t *s, uint32_t sender, uint64_t seed, uint64_t start_us,
                           const load_video_params_t *vp);

/* The keyframe and mean delta-frame sizes a video configuration yields. */
int load_video_sizes(const load_video_params_t *vp, uint32_t *gop, uint32_t *key_bytes,
                     uint32_t *delta_bytes);

/* Deadline of the next frame. */
static inline uint64_t load_source_due(const load_source_t *s) { return s->next_us; }

/* Writes the frame that is due into out (cap bytes) and advances the schedule by one
 * period (frames are never bunched up to catch up with a late caller: a late loop shows
 * as latency, not as a burst). VEIL_EOVERFLOW if cap is too small (nothing advanced). */
int load_source_emit(load_source_t *s, uint64_t now_us, uint8_t *out, size_t cap, size_t *len,
                     load_frame_info_t *info);

/* Writes a whole frame for (info, seed): header then filler. */
int load_frame_write(const load_frame_info_t *info, uint64_t seed, uint8_t *out, size_t cap);

/* Reads the header and rebuilds the filler: 0 if the frame is exactly what the sender
 * wrote; VEIL_EDECODE otherwise (malformed header, length mismatch, or any filler byte
 * different: one failure class, "not bit-exact"). */
int load_frame_verify(const uint8_t *frame, size_t len, uint64_t seed, load_frame_info_t *info);

/* Reads the header only: 0 and *info (may be NULL) when the magic, the track and flag
 * values and the declared length (equal to len) are right; VEIL_EDECODE otherwise. The
 * filler is not looked at. */
int load_frame_peek(const uint8_t *frame, size_t len, load_frame_info_t *info);

/* The receive check with sampling (`verify-every`): every frame's header is read
 * (load_frame_peek); a frame whose seq is a multiple of `every` is also rebuilt and
 * compared bit for bit (load_frame_verify) and *sampled set to 1, else 0. The sample is
 * chosen by the sender's seq, not by arrival, so every receiver checks the same frames of a
 * stream, one in `every` of them whatever was lost. every = 1 checks every frame; 0 is
 * VEIL_EINVAL. 0 when what was checked matched, else VEIL_EDECODE. */
int load_frame_check(const uint8_t *frame, size_t len, uint64_t seed, uint32_t every, load_frame_info_t *info,
                     int *sampled);

/* Receive-side sequence tracking for one (sender, track): loss is the gaps that never
 * filled, duplicates are counted apart. Plain struct, zero-initialise. */
typedef struct load_seqtrack {
  int started;
  uint32_t first, highest;
  uint64_t received, duplicates;
  uint64_t window;         /* bit i: highest - i seen (duplicate detection) */
} load_seqtrack_t;

void load_seqtrack_add(load_seqtrack_t *t, uint32_t seq);
/* Frames expected so far (first..highest) and not received. */
uint64_t load_seqtrack_expected(const load_seqtrack_t *t);
uint64_t load_seqtrack_lost(const load_seqtrack_t *t);

/* splitmix64: the PRNG of every source (fast, statistically fine, reproducible by seed). */
uint64_t load_rng_next(uint64_t *state);

#endif
