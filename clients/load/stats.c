/* veil-load metrics, samples and verdicts. Contract in stats.h. */
#include "clients/load/stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

void load_stats_reset(load_stats_t *s) { memset(s, 0, sizeof *s); }

void load_stats_merge(load_stats_t *d, const load_stats_t *s) {
  d->frames_sent += s->frames_sent;
  d->frames_recv += s->frames_recv;
  d->packets_sent += s->packets_sent;
  d->packets_recv += s->packets_recv;
  d->frames_decrypted += s->frames_decrypted;
  d->frames_verified += s->frames_verified;
  d->rtp_expected += s->rtp_expected;
  d->rtp_lost += s->rtp_lost;
  d->decrypt_failures += s->decrypt_failures;
  d->fail_auth += s->fail_auth;
  d->prejoin_undecryptable += s->prejoin_undecryptable;
  d->early_epoch_drops += s->early_epoch_drops;
  d->fail_unknown_kid += s->fail_unknown_kid;
  d->fail_not_sframe += s->fail_not_sframe;
  d->fail_wrong_sender += s->fail_wrong_sender;
  d->verify_failures += s->verify_failures;
  d->replayed += s->replayed;
  d->session_errors += s->session_errors;
  if (s->latency_max_us > d->latency_max_us) d->latency_max_us = s->latency_max_us;
  d->joins += s->joins;
  d->leaves += s->leaves;
  d->commits += s->commits;
  d->failovers += s->failovers;
  if (s->max_epoch > d->max_epoch) d->max_epoch = s->max_epoch;
  load_hist_merge(&d->frame_latency, &s->frame_latency);
  load_hist_merge(&d->join_latency, &s->join_latency);
  load_hist_merge(&d->rekey_latency, &s->rekey_latency);
}

double load_stats_loss_pct(const load_stats_t *s) {
  return s->rtp_expected ? 100.0 * (double)s->rtp_lost / (double)s->rtp_expected : 0.0;
}

int load_series_init(load_series_t *s, size_t cap) {
  memset(s, 0, sizeof *s);
  if (!cap) return VEIL_EINVAL;
  s->v = calloc(cap, sizeof *s->v);
  if (!s->v) return VEIL_ENOMEM;
  s->cap = cap;
  return 0;
}

void load_series_free(load_series_t *s) {
  free(s->v);
  memset(s, 0, sizeof *s);
}

int load_series_push(load_series_t *s, const load_sample_t *smp) {
  if (s->n >= s->cap) return VEIL_ELIMIT;
  s->v[s->n++] = *smp;
  return 0;
}

void load_sample_from_stats(load_sample_t *o, uint32_t t_s, uint32_t participants, uint64_t epoch, uint64_t commits,
                            const load_stats_t *sec) {
  memset(o, 0, sizeof *o);
  o->t_s = t_s;
  o->participants = participants;
  o->epoch = epoch;
  o->commits = commits;
  o->sent = sec->frames_sent;
  o->recv = sec->frames_recv;
  /* Per-second loss deltas can be negative (a late packet fills an earlier gap); the
   * modular sums stay exact over the run, a sample shows 0. */
  o->lost = (int64_t)sec->rtp_lost < 0 ? 0 : sec->rtp_lost;
  o->expected = (int64_t)sec->rtp_expected < 0 ? 0 : sec->rtp_expected;
  o->decrypt_failures = sec->decrypt_failures;
  o->verify_failures = sec->verify_failures;
  o->decrypted = sec->frames_decrypted;
  o->verified = sec->frames_verified;
  o->prejoin_undecryptable = sec->prejoin_undecryptable;
  o->early_epoch_drops = sec->early_epoch_drops;
  o->p50_us = load_hist_quantile(&sec->frame_latency, 0.50);
  o->p99_us = load_hist_quantile(&sec->frame_latency, 0.99);
  o->server_cpu_pct = -1;
}

int load_progress_line(char *buf, size_t cap, const load_sample_t *s, uint32_t target) {
  double loss = s->expected ? 100.0 * (double)s->lost / (double)s->expected : 0.0;
  int n = snprintf(buf, cap,
                   "[%4us] joined %u/%u  epoch %llu  tx %llu/s rx %llu/s  loss %.2f%%  p50 %.1f ms p99 %.1f ms"
                   "  decrypt-fail %llu",
                   s->t_s, s->participants, target, (unsigned long long)s->epoch, (unsigned long long)s->sent,
                   (unsigned long long)s->recv, loss, (double)s->p50_us / 1000.0, (double)s->p99_us / 1000.0,
                   (unsigned long long)s->decrypt_failures);
  if (n >= 0 && s->server_cpu_pct >= 0 && (size_t)n < cap)
    n += snprintf(buf + n, cap - (size_t)n, "  server %.0f%% cpu %llu MiB", s->server_cpu_pct,
                  (unsigned long long)(s->server_rss_kb / 1024));
  return n < 0 || (size_t)n >= cap ? VEIL_EOVERFLOW : 0;
}

__attribute__((format(printf, 3, 4))) static void add_reason(char *r, size_t cap, const char *fmt, ...) {
  size_t o = strlen(r);
  if (o && o + 2 < cap) {
    memcpy(r + o, "; ", 3);
    o += 2;
  }
  if (o < cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r + o, cap - o, fmt, ap);
    va_end(ap);
  }
}

/* The checks shared by the run verdict and the ramp steps. */
static void check(const load_thresholds_t *th, const load_stats_t *t, load_verdict_t *v) {
  memset(v, 0, sizeof *v);
  double loss = load_stats_loss_pct(t);
  double p99 = (double)load_hist_quantile(&t->frame_latency, 0.99) / 1000.0;
  double jp99 = (double)load_hist_quantile(&t->join_latency, 0.99) / 1000.0;
  if (loss > th->max_loss_pct) {
    v->loss_exceeded = 1;
    add_reason(v->reasons, sizeof v->reasons, "loss %.2f%% > %.2f%%", loss, th->max_loss_pct);
  }
  if (p99 > (double)th->max_p99_ms) {
    v->p99_exceeded = 1;
    add_reason(v->reasons, sizeof v->reasons, "frame p99 %.1f ms > %u ms", p99, th->max_p99_ms);
  }
  if (t->decrypt_failures > th->max_decrypt_failures) {
    v->decrypt_exceeded = 1;
    add_reason(v->reasons, sizeof v->reasons, "decrypt failures %llu > %llu", (unsigned long long)t->decrypt_failures,
               (unsigned long long)th->max_decrypt_failures);
  }
  if (th->max_join_p99_ms && jp99 > (double)th->max_join_p99_ms) {
    v->join_exceeded = 1;
    add_reason(v->reasons, sizeof v->reasons, "join p99 %.1f ms > %u ms", jp99, th->max_join_p99_ms);
  }
  /* A frame that decrypts but is not what was sent is never acceptable, whatever the
   * thresholds say: it would mean the E2EE layer let an alteration through. */
  if (t->verify_failures) {
    v->verify_failed = 1;
    add_reason(v->reasons, sizeof v->reasons, "%llu frames not bit-exact", (unsigned long long)t->verify_failures);
  }
  v->passed = !(v->loss_exceeded || v->p99_exceeded || v->decrypt_exceeded || v->join_exceeded || v->verify_failed);
}

void load_verdict_eval(const load_thresholds_t *th, const load_stats_t *totals, load_verdict_t *out) {
  check(th, totals, out);
  if (totals->session_errors) {
    out->passed = 0;
    add_reason(out->reasons, sizeof out->reasons, "%llu session errors", (unsigned long long)totals->session_errors);
  }
  /* A run in which no frame was verified proves nothing: fail it. */
  if (totals->frames_verified == 0) {
    out->passed = 0;
    add_reason(out->reasons, sizeof out->reasons, "no frame verified");
  }
}

int load_ramp_step(load_ramp_result_t *r, const load_thresholds_t *th, uint32_t participants, const load_stats_t *step) {
  load_verdict_t v;
  check(th, step, &v);
  /* A step is judged on decrypted frames: with verify-every N a short step of a few
   * streams may hold no frame of the sample, and every frame of it was decrypted. */
  if (v.passed && step->frames_decrypted > 0) {
    r->last_good = participants;
    return 0;
  }
  r->broke = 1;
  r->broke_at = participants;
  snprintf(r->reason, sizeof r->reason, "%s", v.passed ? "no frame decrypted in the step" : v.reasons);
  return 1;
}

void load_verdict_fail(load_verdict_t *v, const char *fmt, ...) {
  char tmp[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  v->passed = 0;
  add_reason(v->reasons, sizeof v->reasons, "%s", tmp);
}
