/*
 * veil-load — the run: simulated participants on worker threads, one libuv loop per
 * thread, each participant a full client session of clients/lib/session (its own MLS
 * member, SFrame keys, DTLS-SRTP transport, synthetic media verified bit-exact by every
 * receiver).
 *
 * The main thread keeps the clock: once per second it collects what the workers merged,
 * makes a sample, prints the progress line, reads the server's /proc figures, drives the
 * ramp, and ends the run. Workers follow the plan (plan.h) on their own loops; they share
 * only the aggregator (one mutex, taken once per worker per second) and a few atomics.
 */
#ifndef VEIL_CLIENTS_LOAD_RUNNER_H
#define VEIL_CLIENTS_LOAD_RUNNER_H

#include <stdio.h>

#include "clients/load/report.h"
#include "clients/load/scenario.h"
#include "clients/load/stats.h"

typedef struct load_result {
  load_stats_t totals;
  load_series_t series;          /* owned: load_result_free */
  load_ramp_row_t *ramp_rows;    /* owned: load_result_free */
  load_report_t report;          /* figures for the report writers (borrows the above) */
} load_result_t;

/* Runs the validated scenario to its end (or SIGINT/SIGTERM). progress: where the
 * progress line goes (NULL: none). Returns 0 when the run happened (pass or fail is in
 * result->report.verdict), a negative code when it could not start. */
int load_run(const load_scenario_t *sc, FILE *progress, load_result_t *result, char *err, size_t errlen);
void load_result_free(load_result_t *r);

#endif
