/* Unit tests: the /metrics page (server/metrics.c) in the Prometheus text format. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "server/metrics.h"

static char *render(const sig_stats_t *st, const srv_media_stats_t *media) {
  sig_relay_totals_t rt = {.commits_accepted = 3};
  size_t len = 0;
  char *page = srv_metrics_render(st, &rt, 2, false, media, &len);
  cr_assert(page);
  cr_assert_eq(strlen(page), len);
  return page;
}

Test(metrics, histogram_buckets_are_cumulative_and_end_in_inf_equal_to_count) {
  sig_stats_t st;
  memset(&st, 0, sizeof st);
  st.lat_buckets[0] = 2;                /* <= 1 ms */
  st.lat_buckets[3] = 1;                /* <= 10 ms */
  st.lat_buckets[SIG_LAT_NBUCKETS] = 1; /* > 2.5 s */
  st.lat_count = 4;
  st.lat_sum_ms = 3002.5;
  char *page = render(&st, NULL);
  cr_assert(strstr(page, "veil_join_latency_seconds_bucket{le=\"0.001\"} 2\n"), "%s", page);
  cr_assert(strstr(page, "veil_join_latency_seconds_bucket{le=\"0.005\"} 2\n"));
  cr_assert(strstr(page, "veil_join_latency_seconds_bucket{le=\"0.01\"} 3\n"));
  cr_assert(strstr(page, "veil_join_latency_seconds_bucket{le=\"2.5\"} 3\n"));
  cr_assert(strstr(page, "veil_join_latency_seconds_bucket{le=\"+Inf\"} 4\n"));
  cr_assert(strstr(page, "veil_join_latency_seconds_count 4\n"));
  cr_assert(strstr(page, "veil_join_latency_seconds_sum 3.002500\n"));
  cr_assert(strstr(page, "# TYPE veil_join_latency_seconds histogram\n"));
  free(page);
}

Test(metrics, errors_are_labelled_by_wire_code_and_only_nonzero_shown) {
  sig_stats_t st;
  memset(&st, 0, sizeof st);
  st.errors[-VEIL_ESIG_TOKEN_EXPIRED - 10600] = 7;
  char *page = render(&st, NULL);
  cr_assert(strstr(page, "veil_signaling_errors_total{code=\"token_expired\"} 7\n"), "%s", page);
  cr_assert(!strstr(page, "code=\"malformed\""));
  free(page);
}

Test(metrics, media_families_only_with_a_media_plane) {
  sig_stats_t st;
  memset(&st, 0, sizeof st);
  char *page = render(&st, NULL);
  cr_assert(!strstr(page, "veil_packets_in_total"));
  free(page);
  srv_media_stats_t ms = {.packets_in = 10, .bytes_out = 99, .srtp_errors = 1, .dtls_failures = 2};
  page = render(&st, &ms);
  cr_assert(strstr(page, "# TYPE veil_packets_in_total counter\nveil_packets_in_total 10\n"));
  cr_assert(strstr(page, "veil_bytes_out_total 99\n"));
  cr_assert(strstr(page, "veil_srtp_errors_total 1\n"));
  cr_assert(strstr(page, "veil_dtls_failures_total 2\n"));
  cr_assert(strstr(page, "veil_mls_commits_accepted_total 3\n"));
  cr_assert(strstr(page, "veil_signaling_connections 2\n"));
  free(page);
}

Test(metrics, every_sample_line_has_a_declared_family) {
  sig_stats_t st;
  memset(&st, 0, sizeof st);
  st.errors[1] = 1;
  srv_media_stats_t ms = {0};
  char *page = render(&st, &ms);
  char *save = NULL;
  char declared[64][64];
  int nd = 0;
  for (char *line = strtok_r(page, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char name[64];
    if (sscanf(line, "# TYPE %63s", name) == 1) {
      cr_assert(nd < 64);
      strcpy(declared[nd++], name);
      continue;
    }
    if (line[0] == '#')
      continue;
    size_t n = strcspn(line, "{ ");
    int ok = 0;
    for (int i = 0; i < nd && !ok; i++) {
      size_t dl = strlen(declared[i]);
      ok = (n == dl || (n > dl && line[dl] == '_')) && strncmp(line, declared[i], dl) == 0;
    }
    cr_assert(ok, "sample without # TYPE: %s", line);
  }
  free(page);
}

Test(metrics, mls_join_latency_summary_counts_delivered_welcomes_and_keeps_millisecond_precision) {
  sig_stats_t st;
  memset(&st, 0, sizeof st);
  sig_relay_totals_t rt = {.welcomes_delivered = 4, .join_latency_sum_ms = 1250, .join_latency_max_ms = 905,
                           .epoch_max = 7};
  size_t len = 0;
  char *page = srv_metrics_render(&st, &rt, 0, false, NULL, &len);
  cr_assert(page);
  cr_assert(strstr(page, "# TYPE veil_mls_join_latency_seconds summary\n"), "%s", page);
  cr_assert(strstr(page, "veil_mls_join_latency_seconds_sum 1.250\n"));
  cr_assert(strstr(page, "veil_mls_join_latency_seconds_count 4\n"));
  cr_assert(strstr(page, "veil_mls_join_latency_max_seconds 0.905\n"));
  cr_assert(strstr(page, "# TYPE veil_mls_epoch_max gauge\nveil_mls_epoch_max 7\n"));
  free(page);
}
