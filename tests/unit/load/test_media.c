#include <criterion/criterion.h>
#include <string.h>

#include "clients/load/media.h"
#include "common/err.h"

static uint8_t buf[LOAD_FRAME_MAX];

Test(load_media, audio_is_50_frames_per_second_of_80_to_160_bytes) {
  load_source_t s;
  load_source_init_audio(&s, 7, 42, 1000000);
  uint64_t now = 1000000;
  uint32_t lo = 1000, hi = 0, n = 0;
  while (now < 11000000) {
    if (load_source_due(&s) <= now) {
      size_t len;
      load_frame_info_t fi;
      cr_assert_eq(load_source_emit(&s, now, buf, sizeof buf, &len, &fi), 0);
      cr_assert_eq(fi.seq, n);
      if (len < lo) lo = (uint32_t)len;
      if (len > hi) hi = (uint32_t)len;
      n++;
    }
    now += 1000;
  }
  cr_assert_eq(n, 500, "10 s of audio gave %u frames", n);
  cr_assert(lo >= 80 && hi <= 160 && hi - lo > 60, "sizes %u..%u", lo, hi);
}

Test(load_media, video_long_run_bitrate_matches_configuration) {
  load_video_params_t vp = {1500, 30, 1280, 720, 2000};
  load_source_t s;
  cr_assert_eq(load_source_init_video(&s, 3, 9, 0, &vp), 0);
  uint64_t bytes = 0;
  uint32_t keys = 0;
  for (int i = 0; i < 30 * 20; i++) {
    size_t len;
    load_frame_info_t fi;
    cr_assert_eq(load_source_emit(&s, load_source_due(&s), buf, sizeof buf, &len, &fi), 0);
    bytes += len;
    keys += fi.keyframe;
  }
  double kbps = (double)bytes * 8 / 20 / 1000;
  cr_assert(kbps > 1500 * 0.95 && kbps < 1500 * 1.05, "kbps %.1f", kbps);
  cr_assert_eq(keys, 10, "a keyframe every 2 s over 20 s");
}

Test(load_media, keyframe_size_grows_with_resolution) {
  load_video_params_t small = {2000, 30, 320, 180, 2000}, big = {2000, 30, 1920, 1080, 2000};
  uint32_t g1, k1, d1, g2, k2, d2;
  cr_assert_eq(load_video_sizes(&small, &g1, &k1, &d1), 0);
  cr_assert_eq(load_video_sizes(&big, &g2, &k2, &d2), 0);
  cr_assert_gt(k2, k1);
  cr_assert_lt(d2, d1, "a bigger keyframe leaves less for the deltas at the same bitrate");
  cr_assert_geq(k1, 3 * (2000 * 1000 / 8 / 30));
}

Test(load_media, rejects_zero_fps_and_oversized_video) {
  load_video_params_t a = {1000, 0, 640, 360, 2000}, b = {1000, 30, 8000, 360, 2000};
  uint32_t g, k, d;
  cr_assert_eq(load_video_sizes(&a, &g, &k, &d), VEIL_EINVAL);
  cr_assert_eq(load_video_sizes(&b, &g, &k, &d), VEIL_EINVAL);
}

Test(load_media, max_bitrate_frames_stay_within_frame_max) {
  load_video_params_t vp = {LOAD_MAX_VIDEO_KBPS, 1, 3840, 2160, 60000};
  load_source_t s;
  cr_assert_eq(load_source_init_video(&s, 1, 1, 0, &vp), 0);
  for (int i = 0; i < 200; i++) {
    size_t len;
    cr_assert_eq(load_source_emit(&s, load_source_due(&s), buf, sizeof buf, &len, NULL), 0);
    cr_assert_leq(len, LOAD_FRAME_MAX);
  }
}

Test(load_media, emitted_frame_verifies_and_reports_its_header) {
  load_source_t s;
  load_source_init_audio(&s, 11, 5, 100);
  size_t len;
  load_frame_info_t fi, got;
  cr_assert_eq(load_source_emit(&s, 123456, buf, sizeof buf, &len, &fi), 0);
  cr_assert_eq(load_frame_verify(buf, len, 5, &got), 0);
  cr_assert_eq(got.sender, 11);
  cr_assert_eq(got.sent_us, 123456);
  cr_assert_eq(got.len, len);
}

Test(load_media, verify_rejects_every_single_bit_flip) {
  load_source_t s;
  load_source_init_audio(&s, 2, 77, 0);
  size_t len;
  cr_assert_eq(load_source_emit(&s, 0, buf, sizeof buf, &len, NULL), 0);
  for (size_t i = 0; i < len; i++)
    for (int b = 0; b < 8; b++) {
      buf[i] ^= (uint8_t)(1u << b);
      cr_assert_neq(load_frame_verify(buf, len, 77, NULL), 0, "flip byte %zu bit %d accepted", i, b);
      buf[i] ^= (uint8_t)(1u << b);
    }
  cr_assert_eq(load_frame_verify(buf, len, 77, NULL), 0);
}

Test(load_media, verify_rejects_truncation_and_wrong_seed) {
  load_source_t s;
  load_source_init_audio(&s, 2, 77, 0);
  size_t len;
  cr_assert_eq(load_source_emit(&s, 0, buf, sizeof buf, &len, NULL), 0);
  for (size_t n = 0; n < len; n++) cr_assert_eq(load_frame_verify(buf, n, 77, NULL), VEIL_EDECODE);
  cr_assert_eq(load_frame_verify(buf, len, 78, NULL), VEIL_EDECODE);
}

Test(load_media, verify_rejects_frame_relabelled_as_another_sender) {
  load_frame_info_t a = {.sender = 1, .track = 0, .seq = 9, .sent_us = 5, .len = 100};
  cr_assert_eq(load_frame_write(&a, 3, buf, sizeof buf), 0);
  buf[7] = 2; /* sender field, low byte: same length, other sender */
  cr_assert_eq(load_frame_verify(buf, 100, 3, NULL), VEIL_EDECODE);
}

/* Frames seq 0..n-1 of one audio source; returns the length of frame i in lens[i]. */
static void emit_frames(uint8_t frames[][LOAD_AUDIO_MAX], size_t *lens, int n, uint64_t seed) {
  load_source_t s;
  load_source_init_audio(&s, 4, seed, 0);
  for (int i = 0; i < n; i++)
    cr_assert_eq(load_source_emit(&s, load_source_due(&s), frames[i], LOAD_AUDIO_MAX, &lens[i], NULL), 0);
}

Test(load_media, check_samples_every_nth_seq_bit_exact) {
  uint8_t f[12][LOAD_AUDIO_MAX];
  size_t len[12];
  emit_frames(f, len, 12, 9);
  for (int i = 0; i < 12; i++) {
    load_frame_info_t fi;
    int sampled = -1;
    cr_assert_eq(load_frame_check(f[i], len[i], 9, 5, &fi, &sampled), 0, "frame %d", i);
    cr_assert_eq(sampled, i % 5 == 0, "frame %d", i);
    cr_assert_eq(fi.seq, (uint32_t)i);
    /* a wrong seed is only seen where the filler is rebuilt */
    cr_assert_eq(load_frame_check(f[i], len[i], 10, 5, NULL, &sampled), i % 5 == 0 ? VEIL_EDECODE : 0);
    /* every = 1 is the full check of every frame */
    cr_assert_eq(load_frame_check(f[i], len[i], 9, 1, NULL, &sampled), 0);
    cr_assert_eq(sampled, 1);
  }
  cr_assert_eq(load_frame_check(f[0], len[0], 9, 0, NULL, &(int){0}), VEIL_EINVAL);
}

Test(load_media, check_reads_every_header_but_compares_the_sample_only) {
  uint8_t f[2][LOAD_AUDIO_MAX];
  size_t len[2];
  int sampled;
  emit_frames(f, len, 2, 3);
  f[0][len[0] - 1] ^= 1; /* seq 0: in the sample */
  f[1][len[1] - 1] ^= 1; /* seq 1: not */
  cr_assert_eq(load_frame_check(f[0], len[0], 3, 2, NULL, &sampled), VEIL_EDECODE);
  cr_assert_eq(load_frame_check(f[1], len[1], 3, 2, NULL, &sampled), 0);
  cr_assert_eq(sampled, 0);
  /* a header that is wrong fails every frame: magic, length */
  f[1][0] ^= 1;
  cr_assert_eq(load_frame_check(f[1], len[1], 3, 2, NULL, &sampled), VEIL_EDECODE);
  f[1][0] ^= 1;
  cr_assert_eq(load_frame_check(f[1], len[1] - 1, 3, 2, NULL, &sampled), VEIL_EDECODE);
  cr_assert_eq(load_frame_peek(f[1], len[1], NULL), 0);
}

Test(load_media, emit_with_small_buffer_fails_without_advancing) {
  load_source_t s;
  load_source_init_audio(&s, 1, 1, 0);
  size_t len;
  cr_assert_eq(load_source_emit(&s, 0, buf, 20, &len, NULL), VEIL_EOVERFLOW);
  cr_assert_eq(s.seq, 0);
  cr_assert_eq(load_source_due(&s), 0);
}

Test(load_media, late_loop_skips_slots_instead_of_bursting) {
  load_source_t s;
  load_source_init_audio(&s, 1, 1, 0);
  size_t len;
  cr_assert_eq(load_source_emit(&s, 1000000, buf, sizeof buf, &len, NULL), 0);
  cr_assert_gt(load_source_due(&s), 1000000, "next frame is in the future, not 49 catch-up frames");
}

Test(load_media, seqtrack_counts_gaps_as_loss_and_refills_late_frames) {
  load_seqtrack_t t = {0};
  uint32_t seqs[] = {0, 1, 2, 5, 3, 7};
  for (size_t i = 0; i < 6; i++) load_seqtrack_add(&t, seqs[i]);
  cr_assert_eq(load_seqtrack_expected(&t), 8);
  cr_assert_eq(load_seqtrack_lost(&t), 2, "4 and 6 missing");
  load_seqtrack_add(&t, 4);
  cr_assert_eq(load_seqtrack_lost(&t), 1);
}

Test(load_media, seqtrack_duplicates_do_not_hide_loss) {
  load_seqtrack_t t = {0};
  load_seqtrack_add(&t, 10);
  load_seqtrack_add(&t, 12);
  load_seqtrack_add(&t, 12);
  load_seqtrack_add(&t, 12);
  cr_assert_eq(t.duplicates, 2);
  cr_assert_eq(load_seqtrack_lost(&t), 1, "11 is still missing");
}

Test(load_media, seqtrack_big_jump_clears_window) {
  load_seqtrack_t t = {0};
  load_seqtrack_add(&t, 0);
  load_seqtrack_add(&t, 1000);
  cr_assert_eq(load_seqtrack_lost(&t), 999);
  load_seqtrack_add(&t, 999);
  cr_assert_eq(t.duplicates, 0);
  cr_assert_eq(load_seqtrack_lost(&t), 998);
}
