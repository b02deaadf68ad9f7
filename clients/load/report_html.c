/* veil-load HTML report: inline SVG plots, no scripts, no external references (the file
 * must open anywhere, offline, and be safe to attach to a ticket). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clients/load/report.h"
#include "common/err.h"

#define W 720
#define H 240
#define ML 64 /* left margin: y labels */
#define MR 16
#define MT 28
#define MB 34

static const char *colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};

/* Escapes text for HTML/SVG content and attribute values. */
static void esc(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
  }
}

/* A "nice" axis end: 1, 2 or 5 times a power of ten, >= v. */
static double nice_ceil(double v) {
  if (!(v > 0) || !isfinite(v)) return 1;
  double p = pow(10, floor(log10(v)));
  for (int i = 0; i < 3; i++) {
    double m = (double[]){1, 2, 5}[i] * p;
    if (m >= v) return m;
  }
  return 10 * p;
}

int load_svg_line_chart(FILE *f, const char *title, const char *y_unit, const double *x, size_t n,
                        const load_chart_series_t *s, size_t ns) {
  if (ns > 4) return VEIL_EINVAL;
  double xmin = n ? x[0] : 0, xmax = n ? x[n - 1] : 1, ymax = 0;
  for (size_t k = 0; k < ns; k++)
    for (size_t i = 0; i < n; i++)
      if (isfinite(s[k].y[i]) && s[k].y[i] > ymax) ymax = s[k].y[i];
  ymax = nice_ceil(ymax);
  if (xmax <= xmin) xmax = xmin + 1;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", W, H, W, H);
  fputs("<text x=\"8\" y=\"18\" font-size=\"14\" font-family=\"sans-serif\">", f);
  esc(f, title);
  fputs("</text>\n", f);
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", ML, MT, W - ML - MR,
          H - MT - MB);
  for (int g = 0; g <= 4; g++) {
    double yv = ymax * g / 4;
    double py = H - MB - (double)(H - MT - MB) * g / 4;
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\" font-family=\"sans-serif\">%g ", ML - 4,
            py + 3, yv);
    esc(f, y_unit);
    fputs("</text>\n", f);
  }
  fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" font-family=\"sans-serif\">%g s</text>\n", ML, H - 8, xmin);
  fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\" font-family=\"sans-serif\">%g s</text>\n",
          W - MR, H - 8, xmax);
  for (size_t k = 0; k < ns; k++) {
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", colors[k]);
    for (size_t i = 0; i < n; i++) {
      double yv = isfinite(s[k].y[i]) ? s[k].y[i] : 0;
      double px = ML + (x[i] - xmin) / (xmax - xmin) * (W - ML - MR);
      double py = H - MB - yv / ymax * (H - MT - MB);
      fprintf(f, "%s%.1f,%.1f", i ? " " : "", px, py);
    }
    fputs("\"/>\n", f);
    fprintf(f, "<text x=\"%zu\" y=\"%d\" font-size=\"11\" fill=\"%s\" font-family=\"sans-serif\">", (size_t)W - 320 + k * 80,
            18, colors[k]);
    esc(f, s[k].label);
    fputs("</text>\n", f);
  }
  return fputs("</svg>\n", f) == EOF ? VEIL_EIO : 0;
}

int load_svg_hist_chart(FILE *f, const char *title, const load_hist_t *h) {
  uint32_t first = LOAD_HIST_BUCKETS, last = 0;
  uint64_t top = 1;
  for (uint32_t i = 0; i < LOAD_HIST_BUCKETS; i++)
    if (h->b[i]) {
      if (first == LOAD_HIST_BUCKETS) first = i;
      last = i;
      if (h->b[i] > top) top = h->b[i];
    }
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", W, H, W, H);
  fputs("<text x=\"8\" y=\"18\" font-size=\"14\" font-family=\"sans-serif\">", f);
  esc(f, title);
  fputs("</text>\n", f);
  fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", ML, MT, W - ML - MR,
          H - MT - MB);
  if (first < LOAD_HIST_BUCKETS) {
    uint32_t nb = last - first + 1;
    double bw = (double)(W - ML - MR) / nb;
    for (uint32_t i = first; i <= last; i++) {
      double bh = (double)h->b[i] / (double)top * (H - MT - MB);
      fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", ML + (i - first) * bw,
              H - MB - bh, bw > 1.5 ? bw - 0.5 : bw, bh, colors[0]);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" font-family=\"sans-serif\">%.1f ms</text>\n", ML, H - 8,
            (double)load_hist_bucket_low(first) / 1000.0);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\" font-family=\"sans-serif\">%.1f ms</text>\n",
            W - MR, H - 8, (double)(h->max) / 1000.0);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\" font-family=\"sans-serif\">%llu</text>\n",
            ML - 4, MT + 8, (unsigned long long)top);
  }
  return fputs("</svg>\n", f) == EOF ? VEIL_EIO : 0;
}

static void row(FILE *f, const char *k, const char *fmt, double v) {
  fputs("<tr><th>", f);
  esc(f, k);
  fputs("</th><td>", f);
  fprintf(f, fmt, v);
  fputs("</td></tr>\n", f);
}

int load_report_write_html(const load_report_t *r, FILE *f) {
  const load_stats_t *t = r->totals;
  const load_series_t *se = r->series;
  size_t n = se->n;
  int rc = VEIL_ENOMEM;
  double *buf = calloc(n ? n * 7 : 1, sizeof *buf);
  if (!buf) return rc;
  double *x = buf, *p50 = buf + n, *p99 = buf + 2 * n, *loss = buf + 3 * n, *cpu = buf + 4 * n, *ep = buf + 5 * n,
         *cm = buf + 6 * n;
  int have_cpu = 0;
  for (size_t i = 0; i < n; i++) {
    const load_sample_t *v = &se->v[i];
    x[i] = v->t_s;
    p50[i] = (double)v->p50_us / 1000.0;
    p99[i] = (double)v->p99_us / 1000.0;
    loss[i] = v->expected ? 100.0 * (double)v->lost / (double)v->expected : 0;
    cpu[i] = v->server_cpu_pct < 0 ? 0 : v->server_cpu_pct;
    have_cpu |= v->server_cpu_pct >= 0;
    ep[i] = (double)v->epoch;
    cm[i] = (double)v->commits;
  }
  fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>veil-load report</title>\n"
        "<style>body{font-family:sans-serif;max-width:760px;margin:1em auto}td,th{text-align:left;padding:2px 8px}"
        ".pass{color:#2ca02c}.fail{color:#d62728}</style></head><body>\n",
        f);
  fprintf(f, "<h1>veil-load: %s</h1>\n", load_kind_name(r->sc->kind));
  fputs("<p>target <code>", f);
  esc(f, r->sc->url);
  fprintf(f, "</code>, %.1f s, E2EE on (MLS + SFrame)</p>\n", r->elapsed_s);
  fprintf(f, "<p class=\"%s\"><b>%s</b> ", r->verdict.passed ? "pass" : "fail", r->verdict.passed ? "PASSED" : "FAILED");
  esc(f, r->verdict.reasons);
  fputs("</p>\n<table>\n", f);
  row(f, "frames sent", "%.0f", (double)t->frames_sent);
  row(f, "frames received", "%.0f", (double)t->frames_recv);
  row(f, "frames decrypted (E2EE)", "%.0f", (double)t->frames_decrypted);
  row(f, "frames verified bit-exact", "%.0f", (double)t->frames_verified);
  row(f, "verify-every (1 frame in N per stream)", "%.0f", (double)r->sc->verify_every);
  row(f, "loss", "%.3f %%", load_stats_loss_pct(t));
  row(f, "decrypt failures", "%.0f", (double)t->decrypt_failures);
  row(f, "frame latency p50 (ms)", "%.2f", (double)load_hist_quantile(&t->frame_latency, 0.5) / 1000.0);
  row(f, "frame latency p99 (ms)", "%.2f", (double)load_hist_quantile(&t->frame_latency, 0.99) / 1000.0);
  row(f, "join latency p50 (ms)", "%.1f", (double)load_hist_quantile(&t->join_latency, 0.5) / 1000.0);
  row(f, "join latency p99 (ms)", "%.1f", (double)load_hist_quantile(&t->join_latency, 0.99) / 1000.0);
  row(f, "rekey latency p50 (ms)", "%.1f", (double)load_hist_quantile(&t->rekey_latency, 0.5) / 1000.0);
  row(f, "rekey latency p99 (ms)", "%.1f", (double)load_hist_quantile(&t->rekey_latency, 0.99) / 1000.0);
  row(f, "commits", "%.0f", (double)t->commits);
  row(f, "final epoch", "%.0f", (double)r->epoch_final);
  row(f, "members agree on epoch and security code", "%.0f", (double)(r->epochs_agree && r->codes_agree));
  if (r->have_server) {
    row(f, "server CPU (s)", "%.2f", r->server_cpu_s);
    row(f, "server RSS growth (KiB)", "%.0f",
        (double)(r->server_rss_peak_kb > r->server_rss_start_kb ? r->server_rss_peak_kb - r->server_rss_start_kb : 0));
  }
  if (r->sc->kind == LOAD_KIND_RAMP) {
    row(f, "ramp: last good participants", "%.0f", (double)r->ramp.last_good);
    row(f, "ramp: broke at", "%.0f", (double)r->ramp.broke_at);
  }
  fputs("</table>\n", f);
  if (r->ramp_nrows) {
    fputs("<h2>ramp steps</h2>\n<table><tr><th>participants</th><th>loss %</th><th>p50 ms</th><th>p99 ms</th>"
          "<th>decrypt failures</th><th></th></tr>\n", f);
    for (size_t i = 0; i < r->ramp_nrows; i++) {
      const load_ramp_row_t *w = &r->ramp_rows[i];
      fprintf(f, "<tr><td>%u</td><td>%.2f</td><td>%.1f</td><td>%.1f</td><td>%llu</td><td class=\"%s\">%s</td></tr>\n",
              w->participants, w->loss_pct, w->p50_ms, w->p99_ms, (unsigned long long)w->decrypt_failures,
              w->passed ? "pass" : "fail", w->passed ? "ok" : "broke");
    }
    fputs("</table>\n", f);
  }
  load_svg_hist_chart(f, "join latency distribution", &t->join_latency);
  load_svg_line_chart(f, "frame latency percentiles", "ms", x, n,
                      (load_chart_series_t[]){{"p50", p50}, {"p99", p99}}, 2);
  load_svg_line_chart(f, "frame loss", "%", x, n, (load_chart_series_t[]){{"loss", loss}}, 1);
  if (have_cpu) load_svg_line_chart(f, "server CPU", "%", x, n, (load_chart_series_t[]){{"cpu", cpu}}, 1);
  load_svg_line_chart(f, "MLS commits and epoch", "", x, n,
                      (load_chart_series_t[]){{"commits", cm}, {"epoch", ep}}, 2);
  rc = fputs("</body></html>\n", f) == EOF || ferror(f) ? VEIL_EIO : 0;
  free(buf);
  return rc;
}
