/* veil-load run: worker threads (one libuv loop each), the clock, aggregation, ramp
 * control and the end-of-run agreement check. Contract in runner.h. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/load/procstat.h"
#include "clients/load/runner_int.h"
#include "common/err.h"
#include "common/vtime.h"

#define TICK_MS 10u
#define CLOSE_GRACE_US 2000000u /* a closed session is freed after its handles closed */

uint64_t load_run_now_ms(const load_runctx_t *r) { return (veil_now_us() - r->t0_us) / 1000u; }

/* ---- worker ------------------------------------------------------------------------- */

static int slot_due(const load_runctx_t *r, const load_slot_t *s, uint64_t now_ms) {
  if (s->join_ms != LOAD_NEVER) return s->join_ms <= now_ms;
  return s->idx < atomic_load(&r->ramp_target);
}

static void tick_cb(uv_timer_t *t) {
  load_worker_t *w = t->data;
  load_runctx_t *r = w->run;
  if (w->stopping) return;
  uint64_t now = load_run_now_ms(r);
  /* wss handshakes run in parallel: the session library gives each connection its own
   * SSL_CTX and verifier, independent of lws's process-wide ex-data index (issue 11). */
  while (w->next_slot < r->plan.n && slot_due(r, &r->plan.slots[w->next_slot], now)) {
    (void)lp_start(w, &r->plan.slots[w->next_slot]);
    w->next_slot += r->nthreads;
  }
  for (lp_t *p = w->active, *next; p; p = next) {
    next = p->next;
    if (p->slot->leave_ms <= now) lp_leave(p);
  }
  uint64_t us = veil_now_us();
  for (lp_t **pp = &w->closed; *pp;) {
    lp_t *p = *pp;
    if (us - p->closed_us >= CLOSE_GRACE_US) {
      *pp = p->next;
      lp_free(p);
    } else {
      pp = &p->next;
    }
  }
}

static void flush_sec(load_worker_t *w) {
  uv_mutex_lock(&w->run->mu);
  load_stats_merge(&w->run->cur, &w->sec);
  uv_mutex_unlock(&w->run->mu);
  load_stats_reset(&w->sec);
}

static void stats_cb(uv_timer_t *t) {
  load_worker_t *w = t->data;
  for (lp_t *p = w->active; p; p = p->next) lp_poll(p);
  flush_sec(w);
}

static void handle_closed(uv_handle_t *h) { (void)h; }

static void stop_cb(uv_async_t *a) {
  load_worker_t *w = a->data;
  w->stopping = 1;
  for (lp_t *p = w->active; p; p = p->next) {
    lp_poll(p);
    lp_record_final(p);
  }
  flush_sec(w);
  for (lp_t *p = w->active; p; p = p->next) {
    p->leaving = 1;
    lp_close(p);
  }
  uv_close((uv_handle_t *)&w->tick, handle_closed);
  uv_close((uv_handle_t *)&w->stats, handle_closed);
  uv_close((uv_handle_t *)&w->stop, handle_closed);
}

static void worker_main(void *arg) {
  load_worker_t *w = arg;
  uv_run(&w->loop, UV_RUN_DEFAULT);
  /* every handle closed: the sessions' WebSocket contexts can go now (vs_ws.h) */
  while (w->active) {
    lp_t *p = w->active;
    w->active = p->next;
    lp_free(p);
  }
  while (w->closed) {
    lp_t *p = w->closed;
    w->closed = p->next;
    lp_free(p);
  }
  /* lws finishes destroying a context (vhosts, SSL_CTX) from close callbacks */
  uv_run(&w->loop, UV_RUN_DEFAULT);
  uv_loop_close(&w->loop);
}

static int worker_init(load_runctx_t *r, load_worker_t *w, uint32_t id) {
  memset(w, 0, sizeof *w);
  w->run = r;
  w->id = id;
  w->next_slot = id;
  int rc = uv_loop_init(&w->loop);
  if (rc) return rc;
  uv_timer_init(&w->loop, &w->tick);
  uv_timer_init(&w->loop, &w->stats);
  uv_async_init(&w->loop, &w->stop, stop_cb);
  w->tick.data = w->stats.data = w->stop.data = w;
  uv_timer_start(&w->tick, tick_cb, 0, TICK_MS);
  uv_timer_start(&w->stats, stats_cb, 1000, 1000);
  return 0;
}

/* ---- main thread -------------------------------------------------------------------- */

typedef struct mainctx {
  load_runctx_t *r;
  load_result_t *res;
  FILE *progress;
  uv_loop_t loop;
  uv_timer_t timer;
  uv_signal_t sigint, sigterm;
  int have_server, server_gone;
  load_procstat_t ps_start, ps_last;
  uint64_t last_us;
  load_stats_t step;             /* ramp: the current step's stats */
  uint64_t step_end_ms;
  int stopped;
  uint32_t expected_final;       /* participants the plan expects at the end */
  size_t ramp_cap;               /* rows allocated in res->ramp_rows */
} mainctx_t;

static void main_stop(mainctx_t *m) {
  if (m->stopped) return;
  m->stopped = 1;
  for (uint32_t i = 0; i < m->r->nthreads; i++) uv_async_send(&m->r->workers[i].stop);
  uv_timer_stop(&m->timer);
  uv_close((uv_handle_t *)&m->timer, NULL);
  uv_close((uv_handle_t *)&m->sigint, NULL);
  uv_close((uv_handle_t *)&m->sigterm, NULL);
}

static void sample_cb(uv_timer_t *t) {
  mainctx_t *m = t->data;
  load_runctx_t *r = m->r;
  load_stats_t sec;
  uv_mutex_lock(&r->mu);
  sec = r->cur;
  load_stats_reset(&r->cur);
  uv_mutex_unlock(&r->mu);
  load_stats_merge(&m->res->totals, &sec);
  uint64_t now_ms = load_run_now_ms(r), us = veil_now_us();
  uint64_t epoch = atomic_load(&r->max_epoch);
  load_sample_t smp;
  load_sample_from_stats(&smp, (uint32_t)(now_ms / 1000u), atomic_load(&r->members), epoch, epoch, &sec);
  if (m->have_server && !m->server_gone) {
    load_procstat_t ps;
    if (load_procstat_read(r->sc->server_pid, &ps) == 0) {
      double dt = (double)(us - m->last_us) / 1e6;
      smp.server_cpu_pct = dt > 0 ? 100.0 * load_procstat_cpu_seconds(&m->ps_last, &ps) / dt : 0;
      smp.server_rss_kb = load_procstat_rss_kb(&ps);
      if (smp.server_rss_kb > m->res->report.server_rss_peak_kb) m->res->report.server_rss_peak_kb = smp.server_rss_kb;
      m->ps_last = ps;
    } else {
      m->server_gone = 1;
      fprintf(stderr, "veil-load: server pid %d is gone\n", r->sc->server_pid);
    }
  }
  m->last_us = us;
  (void)load_series_push(&m->res->series, &smp);
  if (m->progress) {
    char line[320];
    uint32_t target = r->sc->kind == LOAD_KIND_RAMP ? atomic_load(&r->ramp_target)
                                                    : load_plan_present_at(&r->plan, now_ms);
    if (load_progress_line(line, sizeof line, &smp, target) == 0)
      fprintf(m->progress, "%s\n", line);
    fflush(m->progress);
  }
  if (r->sc->kind == LOAD_KIND_RAMP && now_ms >= r->plan.measure_start_ms) {
    load_stats_merge(&m->step, &sec);
    if (now_ms >= m->step_end_ms) {
      uint32_t target = atomic_load(&r->ramp_target);
      int stop = load_ramp_step(&m->res->report.ramp, &r->sc->th, target, &m->step);
      if (m->res->ramp_rows && m->res->report.ramp_nrows < m->ramp_cap) {
        load_ramp_row_t *w = &m->res->ramp_rows[m->res->report.ramp_nrows++];
        w->participants = target;
        w->loss_pct = load_stats_loss_pct(&m->step);
        w->p50_ms = (double)load_hist_quantile(&m->step.frame_latency, 0.5) / 1000.0;
        w->p99_ms = (double)load_hist_quantile(&m->step.frame_latency, 0.99) / 1000.0;
        w->verified = m->step.frames_verified;
        w->decrypt_failures = m->step.decrypt_failures;
        w->passed = !stop;
      }
      if (stop || target >= r->sc->ramp_max) {
        m->expected_final = target;
        main_stop(m);
        return;
      }
      uint32_t next = target + r->sc->ramp_step;
      atomic_store(&r->ramp_target, next > r->sc->ramp_max ? r->sc->ramp_max : next);
      load_stats_reset(&m->step);
      m->step_end_ms = now_ms + (uint64_t)r->sc->ramp_interval_s * 1000u;
    }
    return;
  }
  if (now_ms >= r->plan.end_ms) main_stop(m);
}

static void signal_cb(uv_signal_t *s, int signum) {
  mainctx_t *m = s->data;
  fprintf(stderr, "veil-load: signal %d, stopping\n", signum);
  main_stop(m);
}

/* ---- setup and result --------------------------------------------------------------- */

static void check_agreement(load_runctx_t *r, load_report_t *rep, uint32_t expected) {
  rep->epochs_agree = rep->codes_agree = 1;
  rep->members_final = 0;
  const char *code = NULL;
  for (uint32_t i = 0; i < r->nfinals; i++) {
    const load_final_t *f = &r->finals[i];
    if (!f->member) continue;
    if (!rep->members_final) {
      rep->epoch_final = f->epoch;
      code = f->code;
    } else {
      rep->epochs_agree &= f->epoch == rep->epoch_final;
      rep->codes_agree &= strcmp(f->code, code) == 0;
    }
    rep->members_final++;
  }
  snprintf(rep->security_code, sizeof rep->security_code, "%s", code ? code : "");
  if (!rep->members_final) rep->epochs_agree = rep->codes_agree = 0;
  if (rep->members_final < expected)
    load_verdict_fail(&rep->verdict, "%u of %u participants in the group at the end", rep->members_final, expected);
  if (!rep->epochs_agree) load_verdict_fail(&rep->verdict, "members end in different epochs");
  if (!rep->codes_agree) load_verdict_fail(&rep->verdict, "members show different security codes");
}

static void runctx_free(load_runctx_t *r) {
  load_plan_free(&r->plan);
  load_tokens_free(r->tokens);
  free(r->workers);
  free(r->finals);
  uv_mutex_destroy(&r->mu);
}

int load_run(const load_scenario_t *sc, FILE *progress, load_result_t *res, char *err, size_t el) {
  memset(res, 0, sizeof *res);
  load_runctx_t r;
  memset(&r, 0, sizeof r);
  uv_mutex_init(&r.mu);
  r.sc = sc;
  int rc;
  if ((rc = load_target_parse(sc->url, &r.target))) {
    snprintf(err, el, "--url is not a ws:// or wss:// URL without userinfo, query or fragment");
    goto fail;
  }
  if ((rc = load_target_resolve(&r.target))) {
    snprintf(err, el, "cannot resolve %s", r.target.host);
    goto fail;
  }
  if ((rc = load_plan_build(sc, &r.plan))) {
    snprintf(err, el, "cannot plan the run: %s", veil_strerror(rc));
    goto fail;
  }
  if ((rc = load_tokens_open(sc->token_key[0] ? sc->token_key : NULL, sc->token_file[0] ? sc->token_file : NULL,
                             sc->room, &r.tokens))) {
    snprintf(err, el, "token source: %s", veil_strerror(rc));
    goto fail;
  }
  if (sc->token_file[0] && load_tokens_count(r.tokens) < r.plan.n) {
    snprintf(err, el, "token file has %u tokens, the run needs %u (one per participant)", load_tokens_count(r.tokens),
             r.plan.n);
    rc = VEIL_ELIMIT;
    goto fail;
  }
  uint32_t peak = load_scenario_peak(sc);
  r.nthreads = sc->threads ? sc->threads : (uint32_t)uv_available_parallelism();
  if (r.nthreads > peak) r.nthreads = peak;
  if (r.nthreads < 1) r.nthreads = 1;
  r.workers = calloc(r.nthreads, sizeof *r.workers);
  r.finals = calloc(r.plan.n, sizeof *r.finals);
  rc = VEIL_ENOMEM;
  if (!r.workers || !r.finals || load_series_init(&res->series, LOAD_MAX_DURATION_S * 2 + 120)) goto fail;
  atomic_init(&r.members, 0);
  atomic_init(&r.ramp_target, sc->kind == LOAD_KIND_RAMP ? sc->ramp_start : 0);
  atomic_init(&r.max_epoch, 0);
  atomic_init(&r.errors_printed, 0);

  mainctx_t m;
  memset(&m, 0, sizeof m);
  m.r = &r;
  m.res = res;
  m.progress = progress;
  m.expected_final = load_plan_present_at(&r.plan, r.plan.end_ms);
  res->report.sc = sc;
  if (sc->kind == LOAD_KIND_RAMP) {
    m.ramp_cap = (sc->ramp_max - sc->ramp_start) / sc->ramp_step + 2;
    res->ramp_rows = calloc(m.ramp_cap, sizeof *res->ramp_rows);
    if (!res->ramp_rows) {
      rc = VEIL_ENOMEM;
      goto fail;
    }
  }
  if (sc->server_pid > 0) {
    if (load_procstat_read(sc->server_pid, &m.ps_start)) {
      snprintf(err, el, "cannot read /proc/%d/stat", sc->server_pid);
      rc = VEIL_ENOTFOUND;
      goto fail;
    }
    m.have_server = 1;
    m.ps_last = m.ps_start;
    res->report.server_rss_start_kb = res->report.server_rss_peak_kb = load_procstat_rss_kb(&m.ps_start);
  }
  signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&m.loop);
  uv_timer_init(&m.loop, &m.timer);
  uv_signal_init(&m.loop, &m.sigint);
  uv_signal_init(&m.loop, &m.sigterm);
  m.timer.data = m.sigint.data = m.sigterm.data = &m;
  uv_signal_start(&m.sigint, signal_cb, SIGINT);
  uv_signal_start(&m.sigterm, signal_cb, SIGTERM);

  r.t0_us = m.last_us = veil_now_us();
  m.step_end_ms = r.plan.measure_start_ms + (uint64_t)sc->ramp_interval_s * 1000u;
  uint32_t started = 0;
  for (; started < r.nthreads; started++) {
    if ((rc = worker_init(&r, &r.workers[started], started))) break;
    if ((rc = uv_thread_create(&r.workers[started].thread, worker_main, &r.workers[started]))) {
      uv_loop_close(&r.workers[started].loop);
      break;
    }
  }
  if (started < r.nthreads) {
    snprintf(err, el, "cannot start worker threads: %s", veil_strerror(rc));
    m.stopped = 1;
    for (uint32_t i = 0; i < started; i++) uv_async_send(&r.workers[i].stop);
  } else {
    uv_timer_start(&m.timer, sample_cb, 1000, 1000);
    uv_run(&m.loop, UV_RUN_DEFAULT);
  }
  for (uint32_t i = 0; i < started; i++) uv_thread_join(&r.workers[i].thread);
  if (!m.stopped || started < r.nthreads) {
    /* startup failed: handles of the main loop still open */
    if (!uv_is_closing((uv_handle_t *)&m.timer)) uv_close((uv_handle_t *)&m.timer, NULL);
    if (!uv_is_closing((uv_handle_t *)&m.sigint)) uv_close((uv_handle_t *)&m.sigint, NULL);
    if (!uv_is_closing((uv_handle_t *)&m.sigterm)) uv_close((uv_handle_t *)&m.sigterm, NULL);
  }
  uv_run(&m.loop, UV_RUN_DEFAULT);
  uv_loop_close(&m.loop);
  if (started < r.nthreads) {
    rc = rc ? rc : VEIL_ESTATE;
    goto fail;
  }

  /* the workers' last flush (at stop) */
  load_stats_merge(&res->totals, &r.cur);
  load_report_t *rep = &res->report;
  rep->sc = sc;
  rep->totals = &res->totals;
  rep->series = &res->series;
  rep->ramp_rows = res->ramp_rows;
  rep->elapsed_s = (double)(veil_now_us() - r.t0_us) / 1e6;
  res->totals.commits = atomic_load(&r.max_epoch);
  res->totals.max_epoch = atomic_load(&r.max_epoch);
  if (m.have_server) {
    rep->have_server = 1;
    rep->server_cpu_s = load_procstat_cpu_seconds(&m.ps_start, &m.ps_last);
  }
  load_verdict_eval(&sc->th, &res->totals, &rep->verdict);
  check_agreement(&r, rep, m.expected_final);
  runctx_free(&r);
  return 0;
fail:
  runctx_free(&r);
  load_series_free(&res->series);
  free(res->ramp_rows);
  res->ramp_rows = NULL;
  return rc;
}

void load_result_free(load_result_t *r) {
  load_series_free(&r->series);
  free(r->ramp_rows);
  r->ramp_rows = NULL;
}
