/* veil-load scenario model and parsing. Contract in scenario.h. */
#include "clients/load/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

typedef enum key_type {
  T_KIND,
  T_U32,       /* plain count, min..max */
  T_DUR_S,     /* duration into seconds ("10", "10s", "2m") */
  T_DUR_MS,    /* duration into milliseconds ("500ms", "2s") */
  T_BOOL,
  T_STR,       /* into a char array of `max` bytes (incl. NUL) */
  T_PCT,       /* percent, 0..100, decimals allowed */
  T_RES,       /* "1280x720" or "720p" */
  T_PID,
  T_U64,
} key_type_t;

typedef struct key_def {
  const char *name;
  key_type_t type;
  size_t off;
  uint64_t min, max;
  const char *help;
} key_def_t;

#define F(m) offsetof(load_scenario_t, m)
static const key_def_t keys[] = {
    {"scenario", T_KIND, F(kind), 0, 0, "meeting | webinar | churn | ramp"},
    {"url", T_STR, F(url), 1, LOAD_URL_MAX, "ws:// or wss:// URL of the veil-server (the only target)"},
    {"room", T_STR, F(room), 1, LOAD_ROOM_MAX + 1, "room name (default: load-<seed>)"},
    {"participants", T_U32, F(participants), 1, LOAD_MAX_PARTICIPANTS, "meeting/churn: participants"},
    {"publishers", T_U32, F(publishers), 1, LOAD_MAX_PARTICIPANTS, "webinar: publishers"},
    {"subscribers", T_U32, F(subscribers), 1, LOAD_MAX_PARTICIPANTS, "webinar: subscribers"},
    {"duration", T_DUR_S, F(duration_s), 1, LOAD_MAX_DURATION_S, "run time after the initial joins (10s, 2m)"},
    {"churn-per-min", T_U32, F(churn_per_min), 1, LOAD_MAX_CHURN_PER_S * 60, "churn: joins+leaves per minute"},
    {"churn-leader", T_BOOL, F(churn_leader), 0, 1, "churn: every other leave is the leader's (failover)"},
    {"ramp-start", T_U32, F(ramp_start), 1, LOAD_MAX_PARTICIPANTS, "ramp: initial participants"},
    {"ramp-step", T_U32, F(ramp_step), 1, LOAD_MAX_PARTICIPANTS, "ramp: participants added per step"},
    {"ramp-interval", T_DUR_S, F(ramp_interval_s), 1, 600, "ramp: time per step"},
    {"ramp-max", T_U32, F(ramp_max), 1, LOAD_MAX_PARTICIPANTS, "ramp: stop here even without a break"},
    {"audio", T_BOOL, F(audio), 0, 1, "publish audio (50 frames/s, 80-160 B)"},
    {"video", T_BOOL, F(video), 0, 1, "publish video"},
    {"video-kbps", T_U32, F(vp.kbps), 16, LOAD_MAX_VIDEO_KBPS, "video bitrate of the media model (media.h) each publisher sends"},
    {"video-fps", T_U32, F(vp.fps), 1, LOAD_MAX_VIDEO_FPS, "video frame rate"},
    {"video-resolution", T_RES, F(vp.width), 0, 0, "WxH or 180p/360p/720p/1080p"},
    {"keyframe-interval", T_DUR_MS, F(vp.keyframe_interval_ms), 100, 60000, "video keyframe period"},
    {"verify-every", T_U32, F(verify_every), 1, 1000, "rebuild and compare 1 frame in N of each stream bit-exact (all are decrypted)"},
    {"threads", T_U32, F(threads), 0, LOAD_MAX_THREADS, "worker threads, one libuv loop each (0 = cores)"},
    {"join-spacing", T_DUR_MS, F(join_spacing_ms), 0, 10000, "pause between initial joins"},
    {"max-loss", T_PCT, F(th.max_loss_pct), 0, 100, "threshold: frame loss percent"},
    {"max-p99", T_DUR_MS, F(th.max_p99_ms), 1, 60000, "threshold: frame latency p99"},
    {"max-decrypt-failures", T_U64, F(th.max_decrypt_failures), 0, UINT32_MAX, "threshold: decrypt failures"},
    {"max-join-p99", T_DUR_MS, F(th.max_join_p99_ms), 0, 600000, "threshold: join latency p99 (0 = off)"},
    {"token-key", T_STR, F(token_key), 1, LOAD_PATH_MAX, "token signing key file (mint one token per participant)"},
    {"token-file", T_STR, F(token_file), 1, LOAD_PATH_MAX, "file of tokens, one per line"},
    {"ca-file", T_STR, F(ca_file), 1, LOAD_PATH_MAX, "wss: PEM trust anchors"},
    {"pin-sha256", T_STR, F(pin_sha256), 1, 96, "wss: SHA-256 of the server certificate"},
    {"report", T_STR, F(report), 1, LOAD_PATH_MAX - 8, "report prefix: writes PREFIX.json and PREFIX.html"},
    {"server-pid", T_PID, F(server_pid), 1, 4194304, "server pid: CPU and RSS from /proc"},
    {"seed", T_U64, F(seed), 0, UINT64_MAX, "seed of the media model: frame sizes and filler (receivers check with it)"},
};
#undef F

static int fail(char *err, size_t el, int rc, const char *fmt, ...) {
  if (err && el) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, el, fmt, ap);
    va_end(ap);
  }
  return rc;
}

void load_scenario_defaults(load_scenario_t *sc) {
  memset(sc, 0, sizeof *sc);
  sc->duration_s = 10;
  sc->churn_per_min = 30;
  sc->churn_leader = 1;
  sc->ramp_start = 2;
  sc->ramp_step = 2;
  sc->ramp_interval_s = 5;
  sc->ramp_max = 100;
  sc->audio = 1;
  sc->vp = (load_video_params_t){1000, 30, 1280, 720, 2000};
  sc->verify_every = 1;
  sc->join_spacing_ms = 50;
  sc->th = (load_thresholds_t){1.0, 400, 0, 0};
  sc->seed = 1;
}

const char *load_kind_name(load_kind_t k) {
  switch (k) {
  case LOAD_KIND_MEETING: return "meeting";
  case LOAD_KIND_WEBINAR: return "webinar";
  case LOAD_KIND_CHURN: return "churn";
  case LOAD_KIND_RAMP: return "ramp";
  case LOAD_KIND_NONE: break;
  }
  return "none";
}

static int parse_kind(const char *v, load_kind_t *k) {
  static const load_kind_t all[] = {LOAD_KIND_MEETING, LOAD_KIND_WEBINAR, LOAD_KIND_CHURN, LOAD_KIND_RAMP};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (!strcmp(v, load_kind_name(all[i]))) {
      *k = all[i];
      return 0;
    }
  return VEIL_EINVAL;
}

/* Digits only: strtoull alone would take "-1" (as 2^64-1), " 5" and "0x10". */
static int parse_u64(const char *s, size_t n, uint64_t *out) {
  if (n == 0 || n > 20) return VEIL_EINVAL;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return VEIL_EINVAL;
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return VEIL_ELIMIT;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

int load_parse_duration_ms(const char *s, uint64_t *ms) {
  size_t n = strlen(s), digits = 0;
  while (digits < n && isdigit((unsigned char)s[digits])) digits++;
  uint64_t v, mul;
  int rc = parse_u64(s, digits, &v);
  if (rc) return rc;
  const char *unit = s + digits;
  if (!strcmp(unit, "ms")) mul = 1;
  else if (!strcmp(unit, "") || !strcmp(unit, "s")) mul = 1000;
  else if (!strcmp(unit, "m")) mul = 60000;
  else if (!strcmp(unit, "h")) mul = 3600000;
  else return VEIL_EINVAL;
  if (v > UINT64_MAX / mul) return VEIL_ELIMIT;
  *ms = v * mul;
  return 0;
}

static int parse_bool(const char *v, int *out) {
  if (!strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) *out = 1;
  else if (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) *out = 0;
  else return VEIL_EINVAL;
  return 0;
}

static int parse_res(const char *v, uint32_t *w, uint32_t *h) {
  static const struct { const char *name; uint32_t w, h; } named[] = {
      {"180p", 320, 180}, {"360p", 640, 360}, {"540p", 960, 540},
      {"720p", 1280, 720}, {"1080p", 1920, 1080}, {"2160p", 3840, 2160},
  };
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
    if (!strcmp(v, named[i].name)) {
      *w = named[i].w, *h = named[i].h;
      return 0;
    }
  const char *x = strchr(v, 'x');
  uint64_t a, b;
  if (!x || parse_u64(v, (size_t)(x - v), &a) || parse_u64(x + 1, strlen(x + 1), &b)) return VEIL_EINVAL;
  if (a < 16 || b < 16 || a > LOAD_MAX_VIDEO_WIDTH || b > LOAD_MAX_VIDEO_HEIGHT) return VEIL_ELIMIT;
  *w = (uint32_t)a, *h = (uint32_t)b;
  return 0;
}

/* Percent with up to two decimals, "1", "0.5", "12.25"; no exponent, no sign. */
static int parse_pct(const char *v, double *out) {
  size_t n = strlen(v), dot = strcspn(v, ".");
  uint64_t ip, fp = 0;
  if (parse_u64(v, dot, &ip)) return VEIL_EINVAL;
  size_t fl = dot < n ? n - dot - 1 : 0;
  if (dot < n && (fl == 0 || fl > 2 || parse_u64(v + dot + 1, fl, &fp))) return VEIL_EINVAL;
  double d = (double)ip + (double)fp / (fl == 1 ? 10.0 : 100.0);
  if (d > 100.0) return VEIL_ELIMIT;
  *out = d;
  return 0;
}

int load_scenario_set(load_scenario_t *sc, const char *key, const char *value, char *err, size_t el) {
  const key_def_t *k = NULL;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (!strcmp(keys[i].name, key)) k = &keys[i];
  if (!k) return fail(err, el, VEIL_ENOTFOUND, "unknown key '%.64s'", key);
  char *base = (char *)sc + k->off;
  uint64_t v = 0;
  int rc = 0;
  switch (k->type) {
  case T_KIND:
    rc = parse_kind(value, (load_kind_t *)(void *)base);
    break;
  case T_STR: {
    size_t n = strlen(value);
    if (n < k->min) return fail(err, el, VEIL_EINVAL, "%s: empty", k->name);
    if (n >= k->max) return fail(err, el, VEIL_ELIMIT, "%s: longer than %zu bytes", k->name, (size_t)k->max - 1);
    memcpy(base, value, n + 1);
    return 0;
  }
  case T_BOOL:
    rc = parse_bool(value, (int *)(void *)base);
    break;
  case T_RES:
    rc = parse_res(value, &sc->vp.width, &sc->vp.height);
    break;
  case T_PCT:
    rc = parse_pct(value, (double *)(void *)base);
    break;
  case T_U32: case T_U64: case T_PID:
    rc = parse_u64(value, strlen(value), &v);
    break;
  case T_DUR_S: case T_DUR_MS:
    /* a bare number is in the key's own unit: seconds for durations, milliseconds for
     * latencies and intervals ("max-p99 = 400") */
    if (k->type == T_DUR_MS && value[0] && strspn(value, "0123456789") == strlen(value))
      rc = parse_u64(value, strlen(value), &v);
    else
      rc = load_parse_duration_ms(value, &v);
    if (!rc && k->type == T_DUR_S) {
      if (v % 1000) return fail(err, el, VEIL_EINVAL, "%s: whole seconds only", k->name);
      v /= 1000;
    }
    break;
  }
  if (rc == VEIL_ELIMIT) return fail(err, el, rc, "%s: '%.32s' over the limit", k->name, value);
  if (rc) return fail(err, el, VEIL_EINVAL, "%s: cannot parse '%.32s' (%s)", k->name, value, k->help);
  switch (k->type) {
  case T_U32: case T_U64: case T_PID: case T_DUR_S: case T_DUR_MS:
    if (v < k->min || v > k->max)
      return fail(err, el, v > k->max ? VEIL_ELIMIT : VEIL_EINVAL, "%s: %llu outside %llu..%llu", k->name,
                  (unsigned long long)v, (unsigned long long)k->min, (unsigned long long)k->max);
    if (k->type == T_U64) *(uint64_t *)(void *)base = v;
    else if (k->type == T_PID) *(int *)(void *)base = (int)v;
    else *(uint32_t *)(void *)base = (uint32_t)v;
    break;
  default:
    break;
  }
  return 0;
}

static void trim(const char **s, const char **e) {
  while (*s < *e && isspace((unsigned char)**s)) (*s)++;
  while (*e > *s && isspace((unsigned char)(*e)[-1])) (*e)--;
}

int load_scenario_parse_text(load_scenario_t *sc, const char *text, size_t len, char *err, size_t el) {
  if (len > LOAD_MAX_FILE_BYTES) return fail(err, el, VEIL_ELIMIT, "scenario file over %u bytes", LOAD_MAX_FILE_BYTES);
  const char *p = text, *end = text + len;
  unsigned lineno = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    lineno++;
    const char *s = p, *e = le;
    const char *hash = memchr(s, '#', (size_t)(e - s));
    if (hash) e = hash;
    trim(&s, &e);
    if (s < e) {
      const char *eq = memchr(s, '=', (size_t)(e - s));
      if (!eq) return fail(err, el, VEIL_EINVAL, "line %u: expected key = value", lineno);
      const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
      trim(&ks, &ke);
      trim(&vs, &ve);
      char key[64], val[LOAD_URL_MAX + 8];
      if ((size_t)(ke - ks) >= sizeof key || (size_t)(ve - vs) >= sizeof val || ke == ks || memchr(s, '\0', (size_t)(e - s)))
        return fail(err, el, VEIL_EINVAL, "line %u: key or value malformed or too long", lineno);
      memcpy(key, ks, (size_t)(ke - ks));
      key[ke - ks] = 0;
      memcpy(val, vs, (size_t)(ve - vs));
      val[ve - vs] = 0;
      char sub[200];
      int rc = load_scenario_set(sc, key, val, sub, sizeof sub);
      if (rc) return fail(err, el, rc, "line %u: %s", lineno, sub);
    }
    p = nl ? nl + 1 : end;
  }
  return 0;
}

static int read_file(const char *path, char **out, size_t *len, char *err, size_t el) {
  FILE *f = fopen(path, "rb");
  if (!f) return fail(err, el, VEIL_EIO, "cannot open %s: %s", path, strerror(errno));
  char *buf = malloc(LOAD_MAX_FILE_BYTES + 1);
  if (!buf) {
    fclose(f);
    return fail(err, el, VEIL_ENOMEM, "out of memory");
  }
  size_t n = fread(buf, 1, LOAD_MAX_FILE_BYTES + 1, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || n > LOAD_MAX_FILE_BYTES) {
    free(buf);
    return fail(err, el, bad ? VEIL_EIO : VEIL_ELIMIT, "%s: unreadable or over %u bytes", path, LOAD_MAX_FILE_BYTES);
  }
  *out = buf, *len = n;
  return 0;
}

int load_scenario_parse_args(load_scenario_t *sc, int argc, char **argv, char *err, size_t el) {
  /* Pass 1: the scenario file, so that flags given anywhere override it. */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *path = NULL;
    if (!strcmp(a, "--scenario-file") && i + 1 < argc) path = argv[++i];
    else if (!strncmp(a, "--scenario-file=", 16)) path = a + 16;
    if (!path) continue;
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, &text, &len, err, el);
    if (rc) return rc;
    rc = load_scenario_parse_text(sc, text, len, err, el);
    free(text);
    if (rc) return rc;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--scenario-file")) {
      i++;
      continue;
    }
    if (!strncmp(a, "--scenario-file=", 16)) continue;
    if (strncmp(a, "--", 2) != 0) {
      if (parse_kind(a, &sc->kind)) return fail(err, el, VEIL_EINVAL, "unexpected argument '%.64s'", a);
      continue;
    }
    char key[64];
    const char *val, *eq = strchr(a + 2, '=');
    size_t kl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (kl == 0 || kl >= sizeof key) return fail(err, el, VEIL_EINVAL, "malformed flag '%.64s'", a);
    memcpy(key, a + 2, kl);
    key[kl] = 0;
    if (eq) val = eq + 1;
    else if (i + 1 < argc) val = argv[++i];
    else return fail(err, el, VEIL_EINVAL, "--%s needs a value", key);
    int rc = load_scenario_set(sc, key, val, err, el);
    if (rc) return rc;
  }
  return 0;
}

uint32_t load_scenario_peak(const load_scenario_t *sc) {
  switch (sc->kind) {
  case LOAD_KIND_MEETING: return sc->participants;
  case LOAD_KIND_WEBINAR: return sc->publishers + sc->subscribers;
  /* a join may land before the matching leave */
  case LOAD_KIND_CHURN: return sc->participants + 1;
  case LOAD_KIND_RAMP: return sc->ramp_max;
  case LOAD_KIND_NONE: break;
  }
  return 0;
}

int load_scenario_validate(const load_scenario_t *sc, char *err, size_t el) {
  switch (sc->kind) {
  case LOAD_KIND_NONE:
    return fail(err, el, VEIL_EINVAL, "no scenario: give meeting, webinar, churn or ramp");
  case LOAD_KIND_MEETING:
  case LOAD_KIND_CHURN:
    if (sc->participants < 2) return fail(err, el, VEIL_EINVAL, "%s needs participants >= 2", load_kind_name(sc->kind));
    break;
  case LOAD_KIND_WEBINAR:
    if (!sc->publishers || !sc->subscribers) return fail(err, el, VEIL_EINVAL, "webinar needs publishers and subscribers");
    break;
  case LOAD_KIND_RAMP:
    if (sc->ramp_start < 2 || sc->ramp_start > sc->ramp_max)
      return fail(err, el, VEIL_EINVAL, "ramp needs 2 <= ramp-start <= ramp-max");
    /* one step's interval per step plus the first: the duration cap applies to the whole run */
    if ((uint64_t)(sc->ramp_max - sc->ramp_start + sc->ramp_step - 1) / sc->ramp_step * sc->ramp_interval_s +
            sc->ramp_interval_s > LOAD_MAX_DURATION_S)
      return fail(err, el, VEIL_ELIMIT, "ramp would run longer than %u s", LOAD_MAX_DURATION_S);
    break;
  }
  if (load_scenario_peak(sc) > LOAD_MAX_PARTICIPANTS)
    return fail(err, el, VEIL_ELIMIT, "more than %u participants at once", LOAD_MAX_PARTICIPANTS);
  if (!sc->audio && !sc->video) return fail(err, el, VEIL_EINVAL, "audio and video both off: nothing to measure");
  if (!sc->url[0]) return fail(err, el, VEIL_EINVAL, "no --url");
  if (!!sc->token_key[0] == !!sc->token_file[0])
    return fail(err, el, VEIL_EINVAL, "give exactly one of --token-key and --token-file");
  return 0;
}

const char *load_scenario_usage(void) {
  static char buf[4096];
  if (!buf[0]) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, sizeof buf - o,
                          "usage: veil-load meeting|webinar|churn|ramp --url URL (--token-key F | --token-file F)"
                          " [--scenario-file F] [--key value]...\nkeys (also valid as 'key = value' in a scenario file):\n");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && o < sizeof buf; i++)
      o += (size_t)snprintf(buf + o, sizeof buf - o, "  --%-22s %s\n", keys[i].name, keys[i].help);
  }
  return buf;
}
