/* veil-load log-linear histogram. Layout in hist.h. */
#include "clients/load/hist.h"

#include <string.h>

void load_hist_reset(load_hist_t *h) { memset(h, 0, sizeof *h); }

uint32_t load_hist_bucket(uint64_t v) {
  if (v < 2 * LOAD_HIST_SUB) return (uint32_t)v;
  if (v >> LOAD_HIST_MAX_BITS) return LOAD_HIST_BUCKETS - 1;
  unsigned msb = 63u - (unsigned)__builtin_clzll(v);
  unsigned shift = msb - LOAD_HIST_SUB_BITS; /* v >> shift is in [32, 63] */
  return (shift + 1) * LOAD_HIST_SUB + (uint32_t)((v >> shift) - LOAD_HIST_SUB);
}

uint64_t load_hist_bucket_low(uint32_t b) {
  if (b < 2 * LOAD_HIST_SUB) return b;
  if (b >= LOAD_HIST_BUCKETS - 1) return (uint64_t)1 << LOAD_HIST_MAX_BITS;
  unsigned shift = b / LOAD_HIST_SUB - 1;
  return (uint64_t)(LOAD_HIST_SUB + b % LOAD_HIST_SUB) << shift;
}

uint64_t load_hist_bucket_high(uint32_t b) {
  if (b < 2 * LOAD_HIST_SUB) return b;
  if (b >= LOAD_HIST_BUCKETS - 1) return UINT64_MAX;
  unsigned shift = b / LOAD_HIST_SUB - 1;
  return load_hist_bucket_low(b) + ((uint64_t)1 << shift) - 1;
}

void load_hist_add_n(load_hist_t *h, uint64_t v, uint64_t n) {
  if (!n) return;
  if (h->count == 0 || v < h->min) h->min = v;
  if (v > h->max) h->max = v;
  h->count += n;
  uint64_t add = v && n > UINT64_MAX / v ? UINT64_MAX : v * n;
  h->sum = h->sum + add < h->sum ? UINT64_MAX : h->sum + add;
  h->b[load_hist_bucket(v)] += n;
}

void load_hist_add(load_hist_t *h, uint64_t v) { load_hist_add_n(h, v, 1); }

void load_hist_merge(load_hist_t *d, const load_hist_t *s) {
  if (!s->count) return;
  if (d->count == 0 || s->min < d->min) d->min = s->min;
  if (s->max > d->max) d->max = s->max;
  d->count += s->count;
  d->sum = d->sum + s->sum < d->sum ? UINT64_MAX : d->sum + s->sum;
  for (uint32_t i = 0; i < LOAD_HIST_BUCKETS; i++) d->b[i] += s->b[i];
}

uint64_t load_hist_quantile(const load_hist_t *h, double q) {
  if (!h->count) return 0;
  if (q <= 0) return h->min;
  if (q >= 1) return h->max;
  uint64_t rank = (uint64_t)(q * (double)h->count);
  if ((double)rank < q * (double)h->count) rank++;
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (uint32_t i = 0; i < LOAD_HIST_BUCKETS; i++) {
    seen += h->b[i];
    if (seen >= rank) {
      uint64_t lo = load_hist_bucket_low(i), hi = load_hist_bucket_high(i);
      if (hi > h->max) hi = h->max;
      if (lo < h->min) lo = h->min;
      return lo + (hi - lo) / 2;
    }
  }
  return h->max;
}

double load_hist_mean(const load_hist_t *h) { return h->count ? (double)h->sum / (double)h->count : 0.0; }
