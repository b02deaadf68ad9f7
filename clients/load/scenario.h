/*
 * veil-load — the scenario model: what a load run does, how big it may get, and when it
 * counts as failed.
 *
 * A scenario comes from a small text file (`key = value` lines, `#` comments) and/or from
 * command-line flags (`--key value` or `--key=value`); both feed one table of keys, so a
 * file and the flags accept exactly the same names. Flags are applied after the file, so
 * a flag overrides the file's value.
 *
 * Four kinds (docs/load.md):
 *   meeting  N participants, each publishing (audio, optionally video) and subscribing to
 *            every other participant;
 *   webinar  P publishers seen by S subscribers that publish nothing;
 *   churn    a steady room of N participants in which joins and leaves happen at a rate,
 *            so that every join and leave is an MLS commit and, when the leaving member is
 *            the leader, a leader failover (docs/relay.md);
 *   ramp     start with ramp_start participants and add ramp_step every ramp_interval
 *            until a threshold is crossed (loss, p99 latency, decrypt failures) or
 *            ramp_max is reached; the report says where it broke.
 *
 * Everything is bounded by hard caps (LOAD_MAX_*) checked when the value is parsed, so a
 * typo cannot start ten thousand clients against a production server.
 */
#ifndef VEIL_CLIENTS_LOAD_SCENARIO_H
#define VEIL_CLIENTS_LOAD_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

/* Hard caps. Participants: the MLS benchmarks stop at 1000 members, and one load process
 * holding more MLS trees than that says more about the load box than the server. */
#define LOAD_MAX_PARTICIPANTS 1000u
#define LOAD_MAX_DURATION_S 3600u
#define LOAD_MAX_THREADS 64u
#define LOAD_MAX_CHURN_PER_S 20u       /* joins + leaves per second; each one is a commit */
#define LOAD_MAX_VIDEO_KBPS 20000u
#define LOAD_MAX_VIDEO_FPS 60u
#define LOAD_MAX_VIDEO_WIDTH 3840u
#define LOAD_MAX_VIDEO_HEIGHT 2160u
#define LOAD_MAX_FILE_BYTES 16384u     /* scenario file */
#define LOAD_URL_MAX 512u
#define LOAD_PATH_MAX 512u
#define LOAD_ROOM_MAX 64u              /* docs/protocol.md: room identifier 1..64 */

typedef enum load_kind {
  LOAD_KIND_NONE = 0,
  LOAD_KIND_MEETING,
  LOAD_KIND_WEBINAR,
  LOAD_KIND_CHURN,
  LOAD_KIND_RAMP,
} load_kind_t;

typedef struct load_video_params {
  uint32_t kbps;                /* target bitrate */
  uint32_t fps;
  uint32_t width, height;       /* shape the keyframe size (see media.h) */
  uint32_t keyframe_interval_ms;
} load_video_params_t;

/* A run fails when any of these is exceeded over the whole run (meeting, webinar, churn)
 * or, for ramp, marks the step where it broke. */
typedef struct load_thresholds {
  double max_loss_pct;          /* frames lost / frames expected, percent */
  uint32_t max_p99_ms;          /* end-to-end frame latency p99 */
  uint64_t max_decrypt_failures;
  uint32_t max_join_p99_ms;     /* join (token sent -> first epoch) p99; 0 = not checked */
} load_thresholds_t;

typedef struct load_scenario {
  load_kind_t kind;
  char url[LOAD_URL_MAX];       /* the only server veil-load talks to */
  char room[LOAD_ROOM_MAX + 1];
  uint32_t participants;        /* meeting, churn (steady size) */
  uint32_t publishers, subscribers; /* webinar */
  uint32_t duration_s;
  uint32_t churn_per_min;       /* churn: joins + leaves per minute */
  int churn_leader;             /* churn: the leaving member is the leader every other time */
  uint32_t ramp_start, ramp_step, ramp_interval_s, ramp_max;
  int audio, video;             /* booleans */
  load_video_params_t vp;
  uint32_t verify_every;        /* decrypt every frame; compare bit-exact 1 in N per stream */
  uint32_t threads;             /* 0 = one per core */
  uint32_t join_spacing_ms;     /* pause between two initial joins */
  load_thresholds_t th;
  char token_key[LOAD_PATH_MAX];  /* signing key file (the server's token key) */
  char token_file[LOAD_PATH_MAX]; /* or: one token per line, one per participant */
  char ca_file[LOAD_PATH_MAX];    /* wss: trust anchors */
  char pin_sha256[96];            /* wss: server certificate pin */
  char report[LOAD_PATH_MAX];     /* output prefix: <report>.json and <report>.html */
  int server_pid;                 /* 0 = none; server CPU and RSS from /proc/<pid> */
  uint64_t seed;
} load_scenario_t;

/* Defaults: kind NONE, audio on, video off (1000 kbps, 30 fps, 1280x720, keyframe every
 * 2 s), verify every frame, 10 s, thresholds 1% loss, p99 400 ms, 0 decrypt failures. */
void load_scenario_defaults(load_scenario_t *sc);

/* Sets one key. VEIL_ENOTFOUND for an unknown key, VEIL_EINVAL for a malformed value,
 * VEIL_ELIMIT for a value over its hard cap. err (may be NULL) gets a sentence. */
int load_scenario_set(load_scenario_t *sc, const char *key, const char *value, char *err,
                      size_t errlen);

/* Parses a scenario file's text (need not be NUL-terminated; at most LOAD_MAX_FILE_BYTES):
 * `key = value` per line, blank lines and `#` comments ignored. */
int load_scenario_parse_text(load_scenario_t *sc, const char *text, size_t len, char *err,
                             size_t errlen);

/* Parses argv[1..argc-1]: `--scenario FILE` is read first wherever it appears, then every
 * other `--key value` / `--key=value` in order. A bare word is the kind (`meeting`...). */
int load_scenario_parse_args(load_scenario_t *sc, int argc, char **argv, char *err,
                             size_t errlen);

/* Cross-field checks once everything is set: the kind is chosen, counts fit the kind and
 * the caps, a URL is given, exactly one token source. */
int load_scenario_validate(const load_scenario_t *sc, char *err, size_t errlen);

/* The largest number of participants the run can have at once. */
uint32_t load_scenario_peak(const load_scenario_t *sc);

const char *load_kind_name(load_kind_t k);
/* Help text listing every key. */
const char *load_scenario_usage(void);

/* Parses "10" (seconds), "10s", "2m", "1h", "500ms" into milliseconds. As a key's value,
 * a bare number is in the key's unit: seconds for durations, ms for latencies. */
int load_parse_duration_ms(const char *s, uint64_t *ms);

#endif
