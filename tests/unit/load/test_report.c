#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "clients/load/report.h"

static load_scenario_t sc;
static load_stats_t tot;
static load_series_t se;
static load_report_t r;

static void setup(void) {
  load_scenario_defaults(&sc);
  sc.kind = LOAD_KIND_RAMP;
  snprintf(sc.url, sizeof sc.url, "ws://127.0.0.1:1/<script>");
  load_stats_reset(&tot);
  tot.frames_sent = 1000, tot.frames_recv = 990, tot.frames_decrypted = 980, tot.frames_verified = 98;
  tot.rtp_expected = 1000, tot.prejoin_undecryptable = 4, tot.early_epoch_drops = 6;
  tot.rtp_lost = 10, tot.packets_recv = 2000, tot.commits = 4;
  for (int i = 0; i < 100; i++) load_hist_add(&tot.join_latency, 20000 + i * 100);
  load_series_init(&se, 16);
  for (uint32_t i = 0; i < 10; i++) {
    load_sample_t s;
    load_sample_from_stats(&s, i, 4, i / 3, i / 2, &tot);
    s.server_cpu_pct = 10.0 * i;
    load_series_push(&se, &s);
  }
  memset(&r, 0, sizeof r);
  r.sc = &sc, r.totals = &tot, r.series = &se, r.elapsed_s = 10;
  r.have_server = 1, r.server_cpu_s = 0.5;
  r.ramp.broke = 1, r.ramp.last_good = 8, r.ramp.broke_at = 10;
  static load_ramp_row_t rows[2] = {{8, 0.1, 1, 5, 100, 0, 1}, {10, 3.5, 2, 250, 90, 0, 0}};
  r.ramp_rows = rows, r.ramp_nrows = 2;
  load_verdict_eval(&sc.th, &tot, &r.verdict);
}
static void teardown(void) { load_series_free(&se); }
TestSuite(load_report, .init = setup, .fini = teardown);

static char *render(int html, size_t *len) {
  char *buf = NULL;
  FILE *f = open_memstream(&buf, len);
  int rc = html ? load_report_write_html(&r, f) : load_report_write_json(&r, f);
  fclose(f);
  cr_assert_eq(rc, 0);
  return buf;
}

Test(load_report, json_carries_every_figure_and_the_series) {
  size_t len;
  char *s = render(0, &len);
  json_error_t e;
  json_t *j = json_loadb(s, len, 0, &e);
  cr_assert_not_null(j, "%s", e.text);
  cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "frames"), "rtp_lost")), 10);
  cr_assert_float_eq(json_real_value(json_object_get(json_object_get(j, "frames"), "loss_pct")), 1.0, 1e-9);
  json_t *fr = json_object_get(j, "frames");
  cr_assert_eq(json_integer_value(json_object_get(fr, "decrypted")), 980);
  cr_assert_eq(json_integer_value(json_object_get(fr, "verified")), 98);
  cr_assert_eq(json_integer_value(json_object_get(fr, "epoch_change_drops")), 6);
  cr_assert_eq(json_array_size(json_object_get(j, "series")), 10);
  /* each second carries what the integration test checks once the room settled */
  json_t *s9 = json_array_get(json_object_get(j, "series"), 9);
  cr_assert_eq(json_integer_value(json_object_get(s9, "recv")), 990);
  cr_assert_eq(json_integer_value(json_object_get(s9, "decrypted")), 980);
  cr_assert_eq(json_integer_value(json_object_get(s9, "verified")), 98);
  cr_assert_eq(json_integer_value(json_object_get(s9, "prejoin_undecryptable")), 4);
  cr_assert_eq(json_integer_value(json_object_get(s9, "epoch_change_drops")), 6);
  cr_assert_float_eq(json_real_value(json_object_get(json_object_get(j, "server"), "cpu_s_per_million_forwarded_packets")),
                     250.0, 1e-6);
  cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "ramp"), "broke_at")), 10);
  json_t *steps = json_object_get(json_object_get(j, "ramp"), "steps");
  cr_assert_eq(json_array_size(steps), 2);
  cr_assert_eq(json_integer_value(json_object_get(json_array_get(steps, 1), "participants")), 10);
  cr_assert(json_is_false(json_object_get(json_array_get(steps, 1), "passed")));
  cr_assert(json_is_boolean(json_object_get(j, "passed")));
  json_t *jl = json_object_get(j, "join_latency");
  cr_assert_eq(json_integer_value(json_object_get(jl, "count")), 100);
  cr_assert(json_real_value(json_object_get(jl, "p99_ms")) > 25.0);
  json_decref(j);
  free(s);
}

Test(load_report, html_is_self_contained_and_escapes_the_url) {
  size_t len;
  char *s = render(1, &len);
  cr_assert(strstr(s, "<svg") != NULL);
  cr_assert_null(strstr(s, "<script"), "URL text must be escaped");
  cr_assert_not_null(strstr(s, "&lt;script&gt;"));
  /* the only URL allowed is the SVG namespace: nothing is fetched when it opens */
  for (const char *p = s; (p = strstr(p, "http")) != NULL; p++)
    cr_assert(!strncmp(p, "http://www.w3.org/2000/svg", 26), "external reference at %.40s", p);
  cr_assert_null(strstr(s, "src="));
  cr_assert_not_null(strstr(s, "server CPU"));
  cr_assert_not_null(strstr(s, "join latency distribution"));
  cr_assert_not_null(strstr(s, "commits and epoch"));
  cr_assert_not_null(strstr(s, "ramp steps"));
  cr_assert_not_null(strstr(s, "broke"));
  free(s);
}

Test(load_report, line_chart_plots_every_point) {
  double x[] = {0, 1, 2, 3}, y[] = {1, 5, 2, 8};
  char *buf = NULL;
  size_t len;
  FILE *f = open_memstream(&buf, &len);
  cr_assert_eq(load_svg_line_chart(f, "t", "ms", x, 4, (load_chart_series_t[]){{"a", y}}, 1), 0);
  fclose(f);
  const char *pts = strstr(buf, "points=\"");
  cr_assert_not_null(pts);
  int commas = 0;
  for (const char *p = pts + 8; *p && *p != '"'; p++) commas += *p == ',';
  cr_assert_eq(commas, 4);
  /* the largest y (8, axis end 10) must be inside the plot area, not above it */
  cr_assert_null(strstr(buf, ",-"), "a point was drawn above the chart");
  free(buf);
}

Test(load_report, line_chart_refuses_more_series_than_colours) {
  double x[] = {0}, y[] = {0};
  load_chart_series_t s[5] = {{"a", y}, {"b", y}, {"c", y}, {"d", y}, {"e", y}};
  FILE *f = fopen("/dev/null", "w");
  cr_assert_neq(load_svg_line_chart(f, "t", "", x, 1, s, 5), 0);
  fclose(f);
}
