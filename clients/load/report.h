/*
 * veil-load — the final report: one JSON document with every figure, and one
 * self-contained HTML page (inline SVG, no scripts, no external references) with plots
 * over time. Both are written from the same load_report_t.
 */
#ifndef VEIL_CLIENTS_LOAD_REPORT_H
#define VEIL_CLIENTS_LOAD_REPORT_H

#include <stdio.h>

#include "clients/load/scenario.h"
#include "clients/load/stats.h"

/* One ramp step as evaluated (stats.h load_ramp_step). */
typedef struct load_ramp_row {
  uint32_t participants;
  double loss_pct, p50_ms, p99_ms;
  uint64_t verified, decrypt_failures;
  int passed;
} load_ramp_row_t;

typedef struct load_report {
  const load_scenario_t *sc;      /* borrowed */
  const load_stats_t *totals;     /* borrowed */
  const load_series_t *series;    /* borrowed */
  load_verdict_t verdict;
  load_ramp_result_t ramp;        /* ramp only */
  load_ramp_row_t *ramp_rows;     /* owned by the runner's result; ramp only */
  size_t ramp_nrows;
  double elapsed_s;
  /* the group at the end of the run */
  uint32_t members_final;
  uint64_t epoch_final;
  int epochs_agree;               /* every remaining member in the same epoch */
  int codes_agree;                /* ... with the same security code */
  char security_code[128];
  /* the server, when --server-pid was given */
  int have_server;
  double server_cpu_s;
  uint64_t server_rss_start_kb, server_rss_peak_kb;
} load_report_t;

/* Writes the JSON report. Returns 0 or VEIL_EIO / VEIL_ENOMEM. */
int load_report_write_json(const load_report_t *r, FILE *f);
/* Writes the HTML report. */
int load_report_write_html(const load_report_t *r, FILE *f);

/* One SVG line chart (exposed for tests): n points of up to 4 series over x, each series
 * with a label; the y axis starts at 0 and ends at the largest value (or 1). */
typedef struct load_chart_series {
  const char *label;
  const double *y;                /* n values, borrowed */
} load_chart_series_t;

int load_svg_line_chart(FILE *f, const char *title, const char *y_unit, const double *x, size_t n,
                        const load_chart_series_t *s, size_t ns);
/* A bar chart of a histogram's non-empty buckets (join latency distribution), in ms. */
int load_svg_hist_chart(FILE *f, const char *title, const load_hist_t *h);

#endif
