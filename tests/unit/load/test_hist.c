#include <criterion/criterion.h>
#include <math.h>

#include "clients/load/hist.h"

static load_hist_t h;

Test(load_hist, buckets_are_contiguous_and_cover_their_values) {
  for (uint32_t b = 0; b + 1 < LOAD_HIST_BUCKETS - 1; b++)
    cr_assert_eq(load_hist_bucket_high(b) + 1, load_hist_bucket_low(b + 1), "gap after bucket %u", b);
  uint64_t vals[] = {0, 1, 63, 64, 65, 127, 128, 1000, 123456, (1ull << 40) - 1};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    uint32_t b = load_hist_bucket(vals[i]);
    cr_assert(load_hist_bucket_low(b) <= vals[i] && vals[i] <= load_hist_bucket_high(b), "v=%llu",
              (unsigned long long)vals[i]);
  }
}

Test(load_hist, huge_values_saturate_into_last_bucket) {
  cr_assert_eq(load_hist_bucket(UINT64_MAX), LOAD_HIST_BUCKETS - 1);
  cr_assert_eq(load_hist_bucket(1ull << 40), LOAD_HIST_BUCKETS - 1);
  load_hist_reset(&h);
  load_hist_add(&h, UINT64_MAX);
  load_hist_add(&h, UINT64_MAX);
  cr_assert_eq(h.sum, UINT64_MAX, "sum saturates instead of wrapping");
  cr_assert_eq(load_hist_quantile(&h, 0.5), UINT64_MAX);
}

Test(load_hist, percentiles_within_relative_error_on_uniform_data) {
  load_hist_reset(&h);
  for (uint64_t v = 1; v <= 100000; v++) load_hist_add(&h, v);
  double p50 = (double)load_hist_quantile(&h, 0.5), p99 = (double)load_hist_quantile(&h, 0.99);
  cr_assert(fabs(p50 - 50000) / 50000 < 1.0 / 32, "p50 %.0f", p50);
  cr_assert(fabs(p99 - 99000) / 99000 < 1.0 / 32, "p99 %.0f", p99);
  cr_assert_eq(h.min, 1);
  cr_assert_eq(h.max, 100000);
}

Test(load_hist, p99_sees_a_one_percent_tail) {
  load_hist_reset(&h);
  for (int i = 0; i < 980; i++) load_hist_add(&h, 1000);
  for (int i = 0; i < 20; i++) load_hist_add(&h, 500000);
  uint64_t p99 = load_hist_quantile(&h, 0.99);
  cr_assert(p99 > 480000, "p99 %llu hides the tail", (unsigned long long)p99);
  cr_assert(load_hist_quantile(&h, 0.5) < 1100);
}

Test(load_hist, empty_histogram_reports_zero) {
  load_hist_reset(&h);
  cr_assert_eq(load_hist_quantile(&h, 0.99), 0);
  cr_assert_eq(load_hist_mean(&h), 0.0);
}

Test(load_hist, merge_equals_recording_everything_in_one) {
  static load_hist_t a, b, all;
  load_hist_reset(&a);
  load_hist_reset(&b);
  load_hist_reset(&all);
  for (uint64_t v = 0; v < 5000; v++) {
    load_hist_add(v % 2 ? &a : &b, v * 37);
    load_hist_add(&all, v * 37);
  }
  load_hist_merge(&a, &b);
  cr_assert_eq(a.count, all.count);
  cr_assert_eq(a.min, all.min);
  cr_assert_eq(a.max, all.max);
  cr_assert_eq(a.sum, all.sum);
  cr_assert_eq(load_hist_quantile(&a, 0.99), load_hist_quantile(&all, 0.99));
}

Test(load_hist, quantile_is_clamped_to_recorded_range) {
  load_hist_reset(&h);
  load_hist_add(&h, 100000);
  cr_assert_eq(load_hist_quantile(&h, 0.5), 100000, "single value must come back exactly");
}
