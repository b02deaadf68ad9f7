/* Fuzz target: the veil-load scenario file parser (load_scenario_parse_text) and the same key
 * table reached through flags (load_scenario_parse_args), clients/load/scenario.c.
 * Invariants:
 *  - whatever the text, accepted or not, every field stays inside its hard cap (a key is set
 *    whole or not at all) and every string stays NUL-terminated in its array;
 *  - an accepted scenario, written back as `key = value` lines, parses to the same scenario
 *    (parse -> serialise -> parse is stable);
 *  - a scenario that validates has at most LOAD_MAX_PARTICIPANTS at once and, for ramp,
 *    a whole run within LOAD_MAX_DURATION_S.
 * Input: the first byte picks the mode (even: file text; odd: flags, one per line). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/load/scenario.h"

#define STR_OK(a) (memchr((a), 0, sizeof(a)) != NULL)

static void check_caps(const load_scenario_t *sc) {
  if (sc->kind < LOAD_KIND_NONE || sc->kind > LOAD_KIND_RAMP) abort();
  if (!STR_OK(sc->url) || !STR_OK(sc->room) || !STR_OK(sc->token_key) || !STR_OK(sc->token_file) ||
      !STR_OK(sc->ca_file) || !STR_OK(sc->pin_sha256) || !STR_OK(sc->report))
    abort();
  if (strlen(sc->report) > LOAD_PATH_MAX - 9) abort(); /* room for ".html" and the NUL */
  if (sc->participants > LOAD_MAX_PARTICIPANTS || sc->publishers > LOAD_MAX_PARTICIPANTS ||
      sc->subscribers > LOAD_MAX_PARTICIPANTS || sc->ramp_start > LOAD_MAX_PARTICIPANTS ||
      sc->ramp_step > LOAD_MAX_PARTICIPANTS || sc->ramp_max > LOAD_MAX_PARTICIPANTS)
    abort();
  if (sc->duration_s < 1 || sc->duration_s > LOAD_MAX_DURATION_S) abort();
  if (sc->churn_per_min < 1 || sc->churn_per_min > LOAD_MAX_CHURN_PER_S * 60) abort();
  if (sc->ramp_interval_s < 1 || sc->ramp_interval_s > 600 || sc->ramp_step < 1) abort();
  if ((sc->audio != 0 && sc->audio != 1) || (sc->video != 0 && sc->video != 1) ||
      (sc->churn_leader != 0 && sc->churn_leader != 1))
    abort();
  if (sc->vp.kbps < 16 || sc->vp.kbps > LOAD_MAX_VIDEO_KBPS || sc->vp.fps < 1 || sc->vp.fps > LOAD_MAX_VIDEO_FPS)
    abort();
  if (sc->vp.width < 16 || sc->vp.width > LOAD_MAX_VIDEO_WIDTH || sc->vp.height < 16 ||
      sc->vp.height > LOAD_MAX_VIDEO_HEIGHT)
    abort();
  if (sc->vp.keyframe_interval_ms < 100 || sc->vp.keyframe_interval_ms > 60000) abort();
  if (sc->verify_every < 1 || sc->verify_every > 1000 || sc->threads > LOAD_MAX_THREADS) abort();
  if (sc->join_spacing_ms > 10000) abort();
  if (!(sc->th.max_loss_pct >= 0.0 && sc->th.max_loss_pct <= 100.0)) abort();
  if (sc->th.max_p99_ms < 1 || sc->th.max_p99_ms > 60000 || sc->th.max_join_p99_ms > 600000) abort();
  if (sc->th.max_decrypt_failures > UINT32_MAX) abort();
  if (sc->server_pid < 0 || sc->server_pid > 4194304) abort();
}

/* Every key with a value the parser accepts back; defaults-only fields (0 where the key's
 * minimum is 1, empty strings) are left out. */
static size_t serialise(const load_scenario_t *sc, char *b, size_t cap) {
  size_t o = 0;
#define P(...) o += (size_t)snprintf(b + o, o < cap ? cap - o : 0, __VA_ARGS__)
  if (sc->kind != LOAD_KIND_NONE) P("scenario = %s\n", load_kind_name(sc->kind));
  if (sc->url[0]) P("url = %s\n", sc->url);
  if (sc->room[0]) P("room = %s\n", sc->room);
  if (sc->participants) P("participants = %u\n", sc->participants);
  if (sc->publishers) P("publishers = %u\n", sc->publishers);
  if (sc->subscribers) P("subscribers = %u\n", sc->subscribers);
  P("duration = %us\nchurn-per-min = %u\nchurn-leader = %s\n", sc->duration_s, sc->churn_per_min,
    sc->churn_leader ? "on" : "off");
  P("ramp-start = %u\nramp-step = %u\nramp-interval = %us\nramp-max = %u\n", sc->ramp_start, sc->ramp_step,
    sc->ramp_interval_s, sc->ramp_max);
  P("audio = %d\nvideo = %s\n", sc->audio, sc->video ? "yes" : "no");
  P("video-kbps = %u\nvideo-fps = %u\nvideo-resolution = %ux%u\nkeyframe-interval = %ums\n", sc->vp.kbps,
    sc->vp.fps, sc->vp.width, sc->vp.height, sc->vp.keyframe_interval_ms);
  P("verify-every = %u\nthreads = %u\njoin-spacing = %u\n", sc->verify_every, sc->threads, sc->join_spacing_ms);
  P("max-loss = %.2f\nmax-p99 = %ums\nmax-decrypt-failures = %llu\nmax-join-p99 = %u\n", sc->th.max_loss_pct,
    sc->th.max_p99_ms, (unsigned long long)sc->th.max_decrypt_failures, sc->th.max_join_p99_ms);
  if (sc->token_key[0]) P("token-key = %s\n", sc->token_key);
  if (sc->token_file[0]) P("token-file = %s\n", sc->token_file);
  if (sc->ca_file[0]) P("ca-file = %s\n", sc->ca_file);
  if (sc->pin_sha256[0]) P("pin-sha256 = %s\n", sc->pin_sha256);
  if (sc->report[0]) P("report = %s\n", sc->report);
  if (sc->server_pid) P("server-pid = %d\n", sc->server_pid);
  P("seed = %llu\n", (unsigned long long)sc->seed);
#undef P
  return o;
}

static int same(const load_scenario_t *a, const load_scenario_t *b) {
  return a->kind == b->kind && !strcmp(a->url, b->url) && !strcmp(a->room, b->room) &&
         a->participants == b->participants && a->publishers == b->publishers && a->subscribers == b->subscribers &&
         a->duration_s == b->duration_s && a->churn_per_min == b->churn_per_min &&
         a->churn_leader == b->churn_leader && a->ramp_start == b->ramp_start && a->ramp_step == b->ramp_step &&
         a->ramp_interval_s == b->ramp_interval_s && a->ramp_max == b->ramp_max && a->audio == b->audio &&
         a->video == b->video && !memcmp(&a->vp, &b->vp, sizeof a->vp) && a->verify_every == b->verify_every &&
         a->threads == b->threads && a->join_spacing_ms == b->join_spacing_ms &&
         a->th.max_loss_pct == b->th.max_loss_pct && a->th.max_p99_ms == b->th.max_p99_ms &&
         a->th.max_decrypt_failures == b->th.max_decrypt_failures && a->th.max_join_p99_ms == b->th.max_join_p99_ms &&
         !strcmp(a->token_key, b->token_key) && !strcmp(a->token_file, b->token_file) &&
         !strcmp(a->ca_file, b->ca_file) && !strcmp(a->pin_sha256, b->pin_sha256) &&
         !strcmp(a->report, b->report) && a->server_pid == b->server_pid && a->seed == b->seed;
}

/* A string a file line can carry: flags can set values with a '#', surrounding blanks or a
 * NUL-free but line-breaking byte that the `key = value` form cannot express. */
static int file_safe(const char *v) {
  size_t n = strlen(v);
  return !strpbrk(v, "#\n") && (n == 0 || (!isspace((unsigned char)v[0]) && !isspace((unsigned char)v[n - 1])));
}

static int file_expressible(const load_scenario_t *sc) {
  return file_safe(sc->url) && file_safe(sc->room) && file_safe(sc->token_key) && file_safe(sc->token_file) &&
         file_safe(sc->ca_file) && file_safe(sc->pin_sha256) && file_safe(sc->report);
}

/* Flags mode: one argument per line. No --scenario-file (it would read a named file). */
static int parse_flags(load_scenario_t *sc, const char *t, size_t n, char *err, size_t el) {
  if (n > LOAD_MAX_FILE_BYTES || memmem(t, n, "scenario-file", 13)) return -1;
  char *buf = malloc(n + 1);
  char **argv = calloc(n + 2, sizeof *argv);
  int argc = 0, rc = -1;
  if (!buf || !argv) goto out;
  memcpy(buf, t, n);
  buf[n] = 0;
  argv[argc++] = "veil-load";
  for (char *p = buf, *e = buf + n; p <= e;) {
    char *nl = memchr(p, '\n', (size_t)(e - p));
    if (nl) *nl = 0;
    argv[argc++] = p;
    p = nl ? nl + 1 : e + 1;
  }
  rc = load_scenario_parse_args(sc, argc, argv, err, el);
out:
  free(argv);
  free(buf);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  int flags = data[0] & 1;
  const char *text = (const char *)data + 1;
  size_t n = size - 1;
  /* exactly-sized copy: parse_text must stay inside len (no NUL is promised) */
  char *t = malloc(n ? n : 1);
  if (!t) return 0;
  memcpy(t, text, n);
  static load_scenario_t sc, back;
  char err[256];
  load_scenario_defaults(&sc);
  int rc = flags ? parse_flags(&sc, t, n, err, sizeof err) : load_scenario_parse_text(&sc, t, n, err, sizeof err);
  check_caps(&sc);
  if (rc == 0 && file_expressible(&sc)) {
    static char out[LOAD_MAX_FILE_BYTES];
    size_t on = serialise(&sc, out, sizeof out);
    if (on >= sizeof out) abort();
    load_scenario_defaults(&back);
    if (load_scenario_parse_text(&back, out, on, err, sizeof err) != 0) abort();
    if (!same(&sc, &back)) abort();
  }
  if (rc == 0) {
    if (load_scenario_validate(&sc, err, sizeof err) == 0) {
      uint32_t peak = load_scenario_peak(&sc);
      if (peak < 1 || peak > LOAD_MAX_PARTICIPANTS) abort();
      if (sc.kind == LOAD_KIND_RAMP) {
        uint64_t steps = (sc.ramp_max - sc.ramp_start + sc.ramp_step - 1) / sc.ramp_step;
        if ((steps + 1) * sc.ramp_interval_s > LOAD_MAX_DURATION_S) abort();
      }
      if (!sc.url[0] || !!sc.token_key[0] == !!sc.token_file[0]) abort();
    }
  }
  free(t);
  return 0;
}
