/* veil-load JSON report (jansson). Every figure of the run, names in docs/load.md. */
#include <jansson.h>
#include <string.h>

#include "clients/load/report.h"
#include "common/err.h"

static json_t *hist_json(const load_hist_t *h) {
  return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count, "min_ms",
                   (double)(h->count ? h->min : 0) / 1000.0, "mean_ms", load_hist_mean(h) / 1000.0, "p50_ms",
                   (double)load_hist_quantile(h, 0.50) / 1000.0, "p90_ms", (double)load_hist_quantile(h, 0.90) / 1000.0,
                   "p99_ms", (double)load_hist_quantile(h, 0.99) / 1000.0, "max_ms", (double)h->max / 1000.0);
}

static json_t *scenario_json(const load_scenario_t *sc) {
  json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:b, s:b, s:i}", "kind", load_kind_name(sc->kind), "url",
                        sc->url, "room", sc->room, "participants", (int)sc->participants, "publishers",
                        (int)sc->publishers, "subscribers", (int)sc->subscribers, "duration_s", (int)sc->duration_s,
                        "audio", sc->audio, "video", sc->video, "verify_every", (int)sc->verify_every);
  if (!o) return NULL;
  json_object_set_new(o, "video_params",
                      json_pack("{s:i, s:i, s:i, s:i, s:i}", "kbps", (int)sc->vp.kbps, "fps", (int)sc->vp.fps, "width",
                                (int)sc->vp.width, "height", (int)sc->vp.height, "keyframe_interval_ms",
                                (int)sc->vp.keyframe_interval_ms));
  json_object_set_new(o, "churn", json_pack("{s:i, s:b}", "per_min", (int)sc->churn_per_min, "leader", sc->churn_leader));
  json_object_set_new(o, "ramp", json_pack("{s:i, s:i, s:i, s:i}", "start", (int)sc->ramp_start, "step",
                                           (int)sc->ramp_step, "interval_s", (int)sc->ramp_interval_s, "max",
                                           (int)sc->ramp_max));
  json_object_set_new(o, "thresholds",
                      json_pack("{s:f, s:i, s:I, s:i}", "max_loss_pct", sc->th.max_loss_pct, "max_p99_ms",
                                (int)sc->th.max_p99_ms, "max_decrypt_failures", (json_int_t)sc->th.max_decrypt_failures,
                                "max_join_p99_ms", (int)sc->th.max_join_p99_ms));
  return o;
}

static json_t *series_json(const load_series_t *s) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < s->n; i++) {
    const load_sample_t *v = &s->v[i];
    json_t *o = json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "t_s", (int)v->t_s,
                          "participants", (int)v->participants, "epoch", (json_int_t)v->epoch, "commits",
                          (json_int_t)v->commits, "sent", (json_int_t)v->sent, "recv", (json_int_t)v->recv, "lost",
                          (json_int_t)v->lost, "expected", (json_int_t)v->expected, "decrypt_failures",
                          (json_int_t)v->decrypt_failures, "verify_failures", (json_int_t)v->verify_failures,
                          "p50_ms", (double)v->p50_us / 1000.0, "p99_ms", (double)v->p99_us / 1000.0);
    if (o) {
      json_object_set_new(o, "decrypted", json_integer((json_int_t)v->decrypted));
      json_object_set_new(o, "verified", json_integer((json_int_t)v->verified));
      json_object_set_new(o, "prejoin_undecryptable", json_integer((json_int_t)v->prejoin_undecryptable));
      json_object_set_new(o, "epoch_change_drops", json_integer((json_int_t)v->early_epoch_drops));
    }
    if (o && v->server_cpu_pct >= 0) {
      json_object_set_new(o, "server_cpu_pct", json_real(v->server_cpu_pct));
      json_object_set_new(o, "server_rss_kb", json_integer((json_int_t)v->server_rss_kb));
    }
    if (!o || json_array_append_new(a, o)) {
      json_decref(a);
      return NULL;
    }
  }
  return a;
}

int load_report_write_json(const load_report_t *r, FILE *f) {
  const load_stats_t *t = r->totals;
  json_t *root = json_object();
  if (!root) return VEIL_ENOMEM;
  json_object_set_new(root, "tool", json_string("veil-load"));
  json_object_set_new(root, "scenario", scenario_json(r->sc));
  json_object_set_new(root, "elapsed_s", json_real(r->elapsed_s));
  json_t *fr = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "sent", (json_int_t)t->frames_sent,
                         "received", (json_int_t)t->frames_recv, "decrypted", (json_int_t)t->frames_decrypted,
                         "verified", (json_int_t)t->frames_verified,
                         "rtp_expected", (json_int_t)t->rtp_expected, "rtp_lost", (json_int_t)t->rtp_lost,
                         "decrypt_failures", (json_int_t)t->decrypt_failures, "verify_failures",
                         (json_int_t)t->verify_failures, "replayed", (json_int_t)t->replayed, "loss_pct",
                         load_stats_loss_pct(t));
  if (fr && r->elapsed_s > 0) {
    json_object_set_new(fr, "sent_per_s", json_real((double)t->frames_sent / r->elapsed_s));
    json_object_set_new(fr, "received_per_s", json_real((double)t->frames_recv / r->elapsed_s));
  }
  if (fr)
    json_object_set_new(fr, "decrypt_failures_by_cause",
                        json_pack("{s:I, s:I, s:I, s:I}", "auth_failed", (json_int_t)t->fail_auth, "unknown_kid",
                                  (json_int_t)t->fail_unknown_kid, "not_sframe", (json_int_t)t->fail_not_sframe,
                                  "wrong_sender", (json_int_t)t->fail_wrong_sender));
  if (fr) {
    json_object_set_new(fr, "prejoin_undecryptable", json_integer((json_int_t)t->prejoin_undecryptable));
    json_object_set_new(fr, "epoch_change_drops", json_integer((json_int_t)t->early_epoch_drops));
  }
  json_object_set_new(root, "frames", fr);
  json_object_set_new(root, "packets", json_pack("{s:I, s:I}", "sent", (json_int_t)t->packets_sent, "received",
                                                 (json_int_t)t->packets_recv));
  json_t *fl = hist_json(&t->frame_latency);
  if (fl) {
    /* vs_session reports latency per receiver as a sum and a maximum: the distribution is
     * over one-second means per participant, the maximum is exact (docs/load.md). */
    json_object_set_new(fl, "basis", json_string("per frame (vs_session on_frame); exact"));
    json_object_set_new(fl, "max_ms", json_real((double)t->latency_max_us / 1000.0));
  }
  json_object_set_new(root, "frame_latency", fl);
  json_object_set_new(root, "session_errors", json_integer((json_int_t)t->session_errors));
  json_object_set_new(root, "join_latency", hist_json(&t->join_latency));
  json_object_set_new(root, "rekey_latency", hist_json(&t->rekey_latency));
  json_object_set_new(root, "group",
                      json_pack("{s:I, s:I, s:I, s:I, s:I, s:i, s:I, s:b, s:b, s:s}", "joins", (json_int_t)t->joins,
                                "leaves", (json_int_t)t->leaves, "commits", (json_int_t)t->commits, "failovers",
                                (json_int_t)t->failovers, "max_epoch", (json_int_t)t->max_epoch, "members_final",
                                (int)r->members_final, "epoch_final", (json_int_t)r->epoch_final, "epochs_agree",
                                r->epochs_agree, "security_codes_agree", r->codes_agree, "security_code",
                                r->security_code));
  if (r->have_server) {
    json_t *s = json_pack("{s:f, s:I, s:I}", "cpu_s", r->server_cpu_s, "rss_start_kb",
                          (json_int_t)r->server_rss_start_kb, "rss_peak_kb", (json_int_t)r->server_rss_peak_kb);
    /* every packet a subscriber received is one the server forwarded */
    if (s && t->packets_recv)
      json_object_set_new(s, "cpu_s_per_million_forwarded_packets",
                          json_real(r->server_cpu_s * 1e6 / (double)t->packets_recv));
    json_object_set_new(root, "server", s);
  }
  if (r->sc->kind == LOAD_KIND_RAMP) {
    json_t *rp = json_pack("{s:b, s:i, s:i, s:s}", "broke", r->ramp.broke, "last_good", (int)r->ramp.last_good,
                           "broke_at", (int)r->ramp.broke_at, "reason", r->ramp.reason);
    json_t *steps = json_array();
    for (size_t i = 0; steps && i < r->ramp_nrows; i++) {
      const load_ramp_row_t *w = &r->ramp_rows[i];
      json_array_append_new(steps, json_pack("{s:i, s:f, s:f, s:f, s:I, s:I, s:b}", "participants", (int)w->participants,
                                             "loss_pct", w->loss_pct, "p50_ms", w->p50_ms, "p99_ms", w->p99_ms,
                                             "verified", (json_int_t)w->verified, "decrypt_failures",
                                             (json_int_t)w->decrypt_failures, "passed", w->passed));
    }
    if (rp) json_object_set_new(rp, "steps", steps);
    else json_decref(steps);
    json_object_set_new(root, "ramp", rp);
  }
  json_object_set_new(root, "passed", json_boolean(r->verdict.passed));
  json_object_set_new(root, "failures", json_string(r->verdict.reasons));
  json_object_set_new(root, "series", series_json(r->series));
  int rc = json_dumpf(root, f, JSON_INDENT(1) | JSON_REAL_PRECISION(6)) ? VEIL_EIO : 0;
  json_decref(root);
  if (!rc && fputc('\n', f) == EOF) rc = VEIL_EIO;
  return rc;
}
