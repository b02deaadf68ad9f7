#include <criterion/criterion.h>
#include <string.h>

#include "clients/load/stats.h"
#include "common/err.h"

static load_stats_t t;
static load_thresholds_t th = {1.0, 400, 0, 0};

static void good(void) {
  load_stats_reset(&t);
  t.frames_sent = t.frames_recv = t.frames_decrypted = t.frames_verified = t.rtp_expected = 1000;
  for (int i = 0; i < 1000; i++) load_hist_add(&t.frame_latency, 2000);
}
TestSuite(load_stats, .init = good);

Test(load_stats, clean_run_passes) {
  load_verdict_t v;
  load_verdict_eval(&th, &t, &v);
  cr_assert(v.passed, "%s", v.reasons);
  cr_assert_str_eq(v.reasons, "");
}

Test(load_stats, one_decrypt_failure_fails_a_zero_threshold) {
  t.decrypt_failures = 1;
  load_verdict_t v;
  load_verdict_eval(&th, &t, &v);
  cr_assert_not(v.passed);
  cr_assert(v.decrypt_exceeded);
  cr_assert(strstr(v.reasons, "decrypt failures 1 > 0"), "%s", v.reasons);
}

Test(load_stats, loss_just_over_threshold_fails) {
  t.rtp_lost = 11; /* 1.1% */
  load_verdict_t v;
  load_verdict_eval(&th, &t, &v);
  cr_assert(v.loss_exceeded && !v.passed);
  t.rtp_lost = 10; /* exactly 1%: allowed */
  load_verdict_eval(&th, &t, &v);
  cr_assert(v.passed, "%s", v.reasons);
}

Test(load_stats, latency_tail_fails_p99) {
  for (int i = 0; i < 50; i++) load_hist_add(&t.frame_latency, 900000);
  load_verdict_t v;
  load_verdict_eval(&th, &t, &v);
  cr_assert(v.p99_exceeded && !v.passed);
}

Test(load_stats, altered_frame_fails_regardless_of_thresholds) {
  load_thresholds_t lax = {100, 60000, 1000000, 0};
  t.verify_failures = 1;
  load_verdict_t v;
  load_verdict_eval(&lax, &t, &v);
  cr_assert(v.verify_failed && !v.passed);
}

Test(load_stats, run_without_verified_frames_fails) {
  load_stats_reset(&t);
  load_verdict_t v;
  load_verdict_eval(&th, &t, &v);
  cr_assert_not(v.passed);
  cr_assert(strstr(v.reasons, "no frame verified"));
}

Test(load_stats, join_p99_checked_only_when_set) {
  for (int i = 0; i < 10; i++) load_hist_add(&t.join_latency, 5000000);
  load_verdict_t v;
  load_verdict_eval(&th, &t, &v);
  cr_assert(v.passed);
  load_thresholds_t j = th;
  j.max_join_p99_ms = 1000;
  load_verdict_eval(&j, &t, &v);
  cr_assert(v.join_exceeded && !v.passed);
}

Test(load_stats, ramp_reports_last_good_step_and_break_point) {
  load_ramp_result_t r = {0};
  cr_assert_eq(load_ramp_step(&r, &th, 10, &t), 0);
  cr_assert_eq(load_ramp_step(&r, &th, 20, &t), 0);
  load_stats_t bad = t;
  bad.rtp_lost = 100;
  cr_assert_eq(load_ramp_step(&r, &th, 30, &bad), 1);
  cr_assert(r.broke);
  cr_assert_eq(r.last_good, 20);
  cr_assert_eq(r.broke_at, 30);
  cr_assert(strstr(r.reason, "loss"), "%s", r.reason);
}

Test(load_stats, ramp_step_is_judged_on_decrypted_frames) {
  load_ramp_result_t r = {0};
  t.frames_verified = 0; /* verify-every N: no frame of this step fell in the sample */
  cr_assert_eq(load_ramp_step(&r, &th, 10, &t), 0);
  cr_assert_eq(r.last_good, 10);
  t.frames_decrypted = 0;
  cr_assert_eq(load_ramp_step(&r, &th, 12, &t), 1);
  cr_assert_eq(r.broke_at, 12);
  cr_assert(strstr(r.reason, "no frame decrypted"), "%s", r.reason);
}

Test(load_stats, merge_adds_counters_and_keeps_max_epoch) {
  load_stats_t a, b;
  load_stats_reset(&a);
  load_stats_reset(&b);
  a.frames_sent = 3, a.max_epoch = 7, a.packets_recv = 4, a.frames_decrypted = 2;
  b.frames_sent = 4, b.max_epoch = 5, b.packets_recv = 6, b.frames_decrypted = 5;
  load_hist_add(&b.join_latency, 10);
  load_stats_merge(&a, &b);
  cr_assert_eq(a.frames_sent, 7);
  cr_assert_eq(a.packets_recv, 10);
  cr_assert_eq(a.frames_decrypted, 7);
  cr_assert_eq(a.max_epoch, 7);
  cr_assert_eq(a.join_latency.count, 1);
}

Test(load_stats, series_refuses_push_past_capacity) {
  load_series_t s;
  cr_assert_eq(load_series_init(&s, 2), 0);
  load_sample_t x = {0};
  cr_assert_eq(load_series_push(&s, &x), 0);
  cr_assert_eq(load_series_push(&s, &x), 0);
  cr_assert_eq(load_series_push(&s, &x), VEIL_ELIMIT);
  load_series_free(&s);
}

Test(load_stats, progress_line_shows_every_figure) {
  load_sample_t s;
  t.rtp_lost = 5;
  load_sample_from_stats(&s, 12, 8, 3, 9, &t);
  char line[256];
  cr_assert_eq(load_progress_line(line, sizeof line, &s, 8), 0);
  cr_assert(strstr(line, "joined 8/8") && strstr(line, "epoch 3") && strstr(line, "loss 0.50%") &&
                strstr(line, "p99 2.0 ms") && strstr(line, "decrypt-fail 0"),
            "%s", line);
  cr_assert_eq(load_progress_line(line, 10, &s, 8), VEIL_EOVERFLOW);
}
