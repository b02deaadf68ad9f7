/* veil-load synthetic media and frame check. Model and frame format in media.h. */
#include "clients/load/media.h"

#include <string.h>

#include "common/bytes.h"
#include "common/err.h"

static const uint8_t magic[4] = {'V', 'L', 'F', '1'};

uint64_t load_rng_next(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Uniform in lo..hi inclusive; the modulo bias over a 64-bit draw is below 2^-50. */
static uint32_t uniform(uint64_t *rng, uint32_t lo, uint32_t hi) {
  return lo + (uint32_t)(load_rng_next(rng) % ((uint64_t)hi - lo + 1));
}

int load_source_init_audio(load_source_t *s, uint32_t sender, uint64_t seed, uint64_t start_us) {
  memset(s, 0, sizeof *s);
  s->track = LOAD_TRACK_AUDIO;
  s->sender = sender;
  s->seed = seed;
  s->rng = seed ^ ((uint64_t)sender << 32) ^ 0xa0d10;
  s->next_us = start_us;
  s->period_us = LOAD_AUDIO_PERIOD_US;
  return 0;
}

int load_video_sizes(const load_video_params_t *vp, uint32_t *gop, uint32_t *key_bytes, uint32_t *delta_bytes) {
  if (!vp->fps || vp->fps > LOAD_MAX_VIDEO_FPS || !vp->kbps || vp->kbps > LOAD_MAX_VIDEO_KBPS || !vp->width ||
      !vp->height || vp->width > LOAD_MAX_VIDEO_WIDTH || vp->height > LOAD_MAX_VIDEO_HEIGHT || vp->keyframe_interval_ms < 100)
    return VEIL_EINVAL;
  uint64_t g = (uint64_t)vp->keyframe_interval_ms * vp->fps / 1000;
  if (g < 2) g = 2;
  uint64_t mean = (uint64_t)vp->kbps * 1000 / 8 / vp->fps;
  if (mean < LOAD_FRAME_HEADER) mean = LOAD_FRAME_HEADER;
  uint64_t budget = mean * g;
  uint64_t key = (uint64_t)vp->width * vp->height * 15 / 100 / 8;
  if (key < 3 * mean) key = 3 * mean;
  if (key > budget / 2) key = budget / 2;
  if (key > LOAD_FRAME_MAX) key = LOAD_FRAME_MAX;
  uint64_t delta = (budget - key) / (g - 1);
  if (delta < LOAD_FRAME_HEADER) delta = LOAD_FRAME_HEADER;
  /* +20% jitter must still fit */
  if (delta * 6 / 5 > LOAD_FRAME_MAX) delta = LOAD_FRAME_MAX * 5 / 6;
  *gop = (uint32_t)g, *key_bytes = (uint32_t)key, *delta_bytes = (uint32_t)delta;
  return 0;
}

int load_source_init_video(load_source_t *s, uint32_t sender, uint64_t seed, uint64_t start_us,
                           const load_video_params_t *vp) {
  memset(s, 0, sizeof *s);
  int rc = load_video_sizes(vp, &s->gop, &s->key_bytes, &s->delta_bytes);
  if (rc) return rc;
  s->track = LOAD_TRACK_VIDEO;
  s->sender = sender;
  s->seed = seed;
  s->rng = seed ^ ((uint64_t)sender << 32) ^ 0x51de0;
  s->next_us = start_us;
  s->period_us = 1000000u / vp->fps;
  return 0;
}

/* The filler stream of one frame: keyed by everything that identifies it, so that a
 * frame moved to another sender, track or seq no longer verifies. */
static uint64_t filler_key(const load_frame_info_t *in, uint64_t seed) {
  /* (sender, seq) fill one 64-bit word exactly; track and keyframe flag enter a second
   * round and the send time a third, so every header field but len (checked against the
   * real length) changes the filler. */
  uint64_t st = ((uint64_t)in->sender << 32) | in->seq;
  uint64_t k = seed ^ UINT64_C(0x766c6f6164) ^ load_rng_next(&st);
  st = k ^ in->track ^ ((uint64_t)in->keyframe << 8);
  k = load_rng_next(&st);
  st = k ^ in->sent_us;
  return load_rng_next(&st);
}

static void filler(uint8_t *p, size_t n, uint64_t key) {
  while (n >= 8) {
    uint64_t v = load_rng_next(&key);
    memcpy(p, &v, 8);
    p += 8, n -= 8;
  }
  if (n) {
    uint64_t v = load_rng_next(&key);
    memcpy(p, &v, n);
  }
}

int load_frame_write(const load_frame_info_t *info, uint64_t seed, uint8_t *out, size_t cap) {
  if (info->len < LOAD_FRAME_HEADER || info->len > LOAD_FRAME_MAX) return VEIL_EINVAL;
  if (cap < info->len) return VEIL_EOVERFLOW;
  veil_writer_t w;
  veil_writer_init(&w, out, cap);
  veil_write_bytes(&w, magic, sizeof magic);
  veil_write_u32(&w, info->sender);
  veil_write_u8(&w, info->track);
  veil_write_u8(&w, info->keyframe ? 1 : 0);
  veil_write_u32(&w, info->seq);
  veil_write_u64(&w, info->sent_us);
  int rc = veil_write_u32(&w, info->len);
  if (rc) return rc;
  filler(out + LOAD_FRAME_HEADER, info->len - LOAD_FRAME_HEADER, filler_key(info, seed));
  return 0;
}

int load_source_emit(load_source_t *s, uint64_t now_us, uint8_t *out, size_t cap, size_t *len,
                     load_frame_info_t *info) {
  uint64_t rng = s->rng;
  load_frame_info_t fi = {.sender = s->sender, .track = (uint8_t)s->track, .seq = s->seq, .sent_us = now_us};
  if (s->track == LOAD_TRACK_AUDIO) {
    fi.len = uniform(&rng, LOAD_AUDIO_MIN, LOAD_AUDIO_MAX);
  } else {
    fi.keyframe = (s->seq % s->gop) == 0;
    if (fi.keyframe) fi.len = s->key_bytes;
    else fi.len = uniform(&rng, s->delta_bytes * 4 / 5, s->delta_bytes * 6 / 5);
    if (fi.len < LOAD_FRAME_HEADER) fi.len = LOAD_FRAME_HEADER;
  }
  int rc = load_frame_write(&fi, s->seed, out, cap);
  if (rc) return rc;
  s->rng = rng;
  s->seq++;
  s->next_us += s->period_us;
  /* A loop that fell behind by more than one period skips the missed slots. */
  if (s->next_us + s->period_us < now_us) s->next_us = now_us + s->period_us;
  *len = fi.len;
  if (info) *info = fi;
  return 0;
}

int load_frame_peek(const uint8_t *frame, size_t len, load_frame_info_t *info) {
  veil_reader_t r;
  veil_reader_init(&r, frame, len);
  uint8_t m[4];
  load_frame_info_t fi;
  veil_read_copy(&r, m, sizeof m);
  veil_read_u32(&r, &fi.sender);
  veil_read_u8(&r, &fi.track);
  veil_read_u8(&r, &fi.keyframe);
  veil_read_u32(&r, &fi.seq);
  veil_read_u64(&r, &fi.sent_us);
  if (veil_read_u32(&r, &fi.len)) return VEIL_EDECODE;
  if (memcmp(m, magic, sizeof m) || fi.track > LOAD_TRACK_VIDEO || fi.keyframe > 1 || fi.len != len ||
      fi.len > LOAD_FRAME_MAX)
    return VEIL_EDECODE;
  if (info) *info = fi;
  return 0;
}

int load_frame_check(const uint8_t *frame, size_t len, uint64_t seed, uint32_t every, load_frame_info_t *info,
                     int *sampled) {
  load_frame_info_t fi;
  *sampled = 0;
  if (!every) return VEIL_EINVAL;
  if (load_frame_peek(frame, len, &fi)) return VEIL_EDECODE;
  if (fi.seq % every == 0) {
    if (load_frame_verify(frame, len, seed, NULL)) return VEIL_EDECODE;
    *sampled = 1;
  }
  if (info) *info = fi;
  return 0;
}

int load_frame_verify(const uint8_t *frame, size_t len, uint64_t seed, load_frame_info_t *info) {
  load_frame_info_t fi;
  if (load_frame_peek(frame, len, &fi)) return VEIL_EDECODE;
  /* Compare the filler block by block against the rebuilt stream. */
  uint64_t key = filler_key(&fi, seed);
  const uint8_t *p = frame + LOAD_FRAME_HEADER;
  size_t n = len - LOAD_FRAME_HEADER;
  uint64_t diff = 0;
  while (n) {
    uint64_t v = load_rng_next(&key);
    size_t k = n < 8 ? n : 8;
    uint64_t got = 0, want = 0;
    memcpy(&got, p, k);
    memcpy(&want, &v, k);
    diff |= got ^ want;
    p += k, n -= k;
  }
  if (diff) return VEIL_EDECODE;
  if (info) *info = fi;
  return 0;
}

void load_seqtrack_add(load_seqtrack_t *t, uint32_t seq) {
  if (!t->started) {
    t->started = 1;
    t->first = t->highest = seq;
    t->window = 1;
    t->received = 1;
    return;
  }
  /* Sequence numbers are 32-bit and a run never wraps them (50 fps for 2^32 frames is
   * over two years), so plain comparison is right. */
  if (seq > t->highest) {
    uint64_t shift = (uint64_t)seq - t->highest;
    t->window = shift >= 64 ? 1 : (t->window << shift) | 1;
    t->highest = seq;
    t->received++;
    return;
  }
  if (seq < t->first) {
    /* late arrival from before the first frame we saw: extend the start */
    t->first = seq;
    t->received++;
    return;
  }
  uint64_t back = (uint64_t)t->highest - seq;
  if (back < 64) {
    if (t->window & (UINT64_C(1) << back)) {
      t->duplicates++;
      return;
    }
    t->window |= UINT64_C(1) << back;
  }
  /* older than the window: counted as received (a duplicate that old is not
   * distinguishable without unbounded state; the window is 64 frames, > 1 s of audio) */
  t->received++;
}

uint64_t load_seqtrack_expected(const load_seqtrack_t *t) {
  return t->started ? (uint64_t)t->highest - t->first + 1 : 0;
}

uint64_t load_seqtrack_lost(const load_seqtrack_t *t) {
  uint64_t e = load_seqtrack_expected(t);
  return e > t->received ? e - t->received : 0;
}
