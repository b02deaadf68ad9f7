/*
 * veil-load — log-linear latency histogram (HDR-style).
 *
 * Values are microseconds. Below 64 every value has its own bucket; above, each power of
 * two is split into 32 linear sub-buckets, so a reported percentile is within 1/32
 * (3.1%) of the true value. The range ends at 2^40 us (~12.7 days); larger values land in
 * the last bucket. Fixed size (no allocation): 1153 buckets of 64-bit counts, ~9 KiB,
 * so a histogram per thread per metric is cheap and merging is a vector add.
 *
 * Why not a fixed linear bucket width: join latency spans 1 ms..seconds and frame latency
 * 100 us..hundreds of ms; a log-linear layout keeps relative precision over both.
 */
#ifndef VEIL_CLIENTS_LOAD_HIST_H
#define VEIL_CLIENTS_LOAD_HIST_H

#include <stdint.h>

#define LOAD_HIST_SUB_BITS 5u
#define LOAD_HIST_SUB (1u << LOAD_HIST_SUB_BITS)       /* 32 */
#define LOAD_HIST_MAX_BITS 40u
/* 36 ranges of 32 buckets cover 0..2^40-1; one more bucket takes everything above */
#define LOAD_HIST_BUCKETS ((LOAD_HIST_MAX_BITS - LOAD_HIST_SUB_BITS + 1u) * LOAD_HIST_SUB + 1u)

typedef struct load_hist {
  uint64_t count;
  uint64_t sum;            /* saturating */
  uint64_t min, max;
  uint64_t b[LOAD_HIST_BUCKETS];
} load_hist_t;

void load_hist_reset(load_hist_t *h);
void load_hist_add(load_hist_t *h, uint64_t v_us);
/* n observations of the same value (n may be 0). */
void load_hist_add_n(load_hist_t *h, uint64_t v_us, uint64_t n);
void load_hist_merge(load_hist_t *dst, const load_hist_t *src);
/* The value at quantile q in [0, 1] (0 when empty): the midpoint of the bucket holding the
 * ceil(q*count)-th smallest value, clamped to the recorded min and max. */
uint64_t load_hist_quantile(const load_hist_t *h, double q);
double load_hist_mean(const load_hist_t *h);

/* Bucket layout, exposed for the report's distribution plot and for tests. */
uint32_t load_hist_bucket(uint64_t v);
uint64_t load_hist_bucket_low(uint32_t b);   /* smallest value in bucket b */
uint64_t load_hist_bucket_high(uint32_t b);  /* largest value in bucket b */

#endif
