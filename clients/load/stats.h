/*
 * veil-load — run metrics: counters and histograms, per-second samples, and the verdict.
 *
 * Each worker thread owns a load_stats_t it updates without locks; once per second it
 * merges that into the run's aggregator (one mutex, taken once per thread per second) and
 * resets its own. The aggregator closes a sample per second (load_series_t) and keeps
 * run totals. Nothing here does I/O.
 */
#ifndef VEIL_CLIENTS_LOAD_STATS_H
#define VEIL_CLIENTS_LOAD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "clients/load/hist.h"
#include "clients/load/scenario.h"

typedef struct load_stats {
  uint64_t frames_sent, frames_recv;
  uint64_t packets_sent, packets_recv; /* RTP packets (a video frame spans several) */
  /* Every frame that decrypted under the group's keys from the track's publisher is
   * decrypted (the E2EE check); the verify-every sample of them is also rebuilt and
   * compared bit for bit: verified (all of them when verify-every is 1). */
  uint64_t frames_decrypted;
  uint64_t frames_verified;      /* decrypted and checked bit-exact */
  /* Loss is counted on RTP packets per received stream (sequence gaps, rxtrack.h): a
   * frame split over several packets is lost if any of them is. */
  uint64_t rtp_expected;
  uint64_t rtp_lost;
  uint64_t decrypt_failures;     /* SFrame refused a frame: the sum of the four below */
  uint64_t fail_auth, fail_unknown_kid, fail_not_sframe, fail_wrong_sender;
  uint64_t prejoin_undecryptable; /* refused before the receiver was in the group */
  uint64_t early_epoch_drops;    /* sent under an epoch the receiver did not hold (not yet,
                                  * not since its Welcome, or dropped): participant.c */
  uint64_t verify_failures;      /* decrypted, but not the bytes the sender wrote */
  uint64_t replayed;             /* refused by the SFrame replay window (duplicates) */
  uint64_t session_errors;       /* error events, unexpected closes, failed transports */
  uint64_t latency_max_us;       /* exact largest frame latency */
  uint64_t joins, leaves, commits, failovers;
  uint64_t max_epoch;            /* highest MLS epoch any participant reached */
  load_hist_t frame_latency;     /* send -> verified, us */
  load_hist_t join_latency;      /* join sent -> member of the group, us */
  load_hist_t rekey_latency;     /* leave -> every remaining member in the next epoch, us */
} load_stats_t;

void load_stats_reset(load_stats_t *s);
void load_stats_merge(load_stats_t *dst, const load_stats_t *src);
/* Loss in percent of expected RTP packets (0 when nothing was expected). */
double load_stats_loss_pct(const load_stats_t *s);

/* One second of the run. Latencies in microseconds. */
typedef struct load_sample {
  uint32_t t_s;                  /* seconds since start */
  uint32_t participants;         /* joined (members of the group) */
  uint64_t epoch;
  uint64_t commits;              /* cumulative */
  uint64_t sent, recv, lost, expected, decrypt_failures, verify_failures; /* this second */
  uint64_t decrypted, verified, prejoin_undecryptable, early_epoch_drops;  /* this second */
  uint64_t p50_us, p99_us;       /* frame latency this second */
  double server_cpu_pct;         /* -1 when no --server-pid */
  uint64_t server_rss_kb;        /* 0 when no --server-pid */
} load_sample_t;

typedef struct load_series {
  load_sample_t *v;              /* owned */
  size_t n, cap;
} load_series_t;

/* cap: most samples kept (duration cap + slack); allocated once. */
int load_series_init(load_series_t *s, size_t cap);
void load_series_free(load_series_t *s);
/* VEIL_ELIMIT when full (the run is bounded, so this means a bug, not a long run). */
int load_series_push(load_series_t *s, const load_sample_t *smp);

/* Builds a sample from one second's stats. */
void load_sample_from_stats(load_sample_t *out, uint32_t t_s, uint32_t participants, uint64_t epoch,
                            uint64_t commits, const load_stats_t *sec);

/* The progress line (no newline): joined, epoch, packets/s, loss, p50/p99, failures. */
int load_progress_line(char *buf, size_t cap, const load_sample_t *smp, uint32_t target);

/* Verdict: which thresholds a set of totals misses. `reasons` gets a '; '-joined list. */
typedef struct load_verdict {
  int passed;
  int loss_exceeded, p99_exceeded, decrypt_exceeded, join_exceeded, verify_failed;
  char reasons[256];
} load_verdict_t;

void load_verdict_eval(const load_thresholds_t *th, const load_stats_t *totals, load_verdict_t *out);
/* Fails the verdict for a reason found outside the totals (group disagreement...). */
__attribute__((format(printf, 2, 3))) void load_verdict_fail(load_verdict_t *v, const char *fmt, ...);

/* Ramp: the first step whose window misses a threshold. Steps are evaluated on the stats
 * of that step's interval only (a bad second early on must not condemn a later step). */
typedef struct load_ramp_result {
  int broke;                     /* a threshold was crossed before ramp_max */
  uint32_t last_good;            /* participants at the last step that passed (0: none) */
  uint32_t broke_at;             /* participants at the step that failed */
  char reason[256];
} load_ramp_result_t;

/* Called at the end of each ramp step with its stats; returns 1 when the ramp must stop. */
int load_ramp_step(load_ramp_result_t *r, const load_thresholds_t *th, uint32_t participants,
                   const load_stats_t *step);

#endif
