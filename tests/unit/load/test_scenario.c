#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/load/scenario.h"
#include "common/err.h"

static load_scenario_t sc;
static char err[256];

static void setup(void) { load_scenario_defaults(&sc); }
TestSuite(load_scenario, .init = setup);

static int args(int n, char **v) { return load_scenario_parse_args(&sc, n, v, err, sizeof err); }

Test(load_scenario, flags_and_bare_kind_fill_a_meeting) {
  char *v[] = {"veil-load", "meeting", "--participants", "8", "--duration=10s", "--url", "ws://127.0.0.1:8443/",
               "--token-key", "/tmp/k"};
  cr_assert_eq(args(9, v), 0, "%s", err);
  cr_assert_eq(sc.kind, LOAD_KIND_MEETING);
  cr_assert_eq(sc.participants, 8);
  cr_assert_eq(sc.duration_s, 10);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), 0, "%s", err);
  cr_assert_eq(load_scenario_peak(&sc), 8);
}

Test(load_scenario, rejects_participants_over_the_hard_cap) {
  char *v[] = {"x", "--participants", "1001"};
  cr_assert_eq(args(3, v), VEIL_ELIMIT);
  cr_assert_eq(sc.participants, 0, "the value must not be stored");
}

Test(load_scenario, rejects_negative_hex_and_spaced_numbers) {
  const char *bad[] = {"-1", "0x10", " 5", "5 ", "", "18446744073709551616", "1e3"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_neq(load_scenario_set(&sc, "participants", bad[i], err, sizeof err), 0, "'%s' accepted", bad[i]);
}

Test(load_scenario, rejects_webinar_whose_sum_exceeds_the_cap) {
  load_scenario_set(&sc, "scenario", "webinar", NULL, 0);
  load_scenario_set(&sc, "publishers", "10", NULL, 0);
  load_scenario_set(&sc, "subscribers", "995", NULL, 0);
  load_scenario_set(&sc, "url", "ws://h/", NULL, 0);
  load_scenario_set(&sc, "token-key", "k", NULL, 0);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), VEIL_ELIMIT);
  load_scenario_set(&sc, "subscribers", "990", NULL, 0);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), 0, "%s", err);
}

Test(load_scenario, rejects_duration_over_one_hour_and_fractional_seconds) {
  cr_assert_eq(load_scenario_set(&sc, "duration", "2h", err, sizeof err), VEIL_ELIMIT);
  cr_assert_eq(load_scenario_set(&sc, "duration", "1500ms", err, sizeof err), VEIL_EINVAL);
  cr_assert_eq(load_scenario_set(&sc, "duration", "2m", err, sizeof err), 0);
  cr_assert_eq(sc.duration_s, 120);
}

Test(load_scenario, rejects_ramp_that_would_outlast_the_duration_cap) {
  const char *t = "scenario = ramp\nurl = ws://h/\ntoken-file = t\nramp-start = 2\nramp-step = 1\n"
                  "ramp-interval = 600\nramp-max = 1000\n";
  cr_assert_eq(load_scenario_parse_text(&sc, t, strlen(t), err, sizeof err), 0, "%s", err);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), VEIL_ELIMIT);
}

Test(load_scenario, file_lines_with_comments_and_spaces_parse) {
  const char *t = "# churn run\n\n  scenario = churn   # kind\nparticipants=6\nchurn-per-min = 60\n"
                  "video = on\nvideo-resolution = 360p\nmax-loss = 0.5\nurl = wss://veil.example:443/ws\n"
                  "token-key = /k\n";
  cr_assert_eq(load_scenario_parse_text(&sc, t, strlen(t), err, sizeof err), 0, "%s", err);
  cr_assert_eq(sc.kind, LOAD_KIND_CHURN);
  cr_assert_eq(sc.churn_per_min, 60);
  cr_assert_eq(sc.video, 1);
  cr_assert_eq(sc.vp.width, 640);
  cr_assert_eq(sc.vp.height, 360);
  cr_assert_float_eq(sc.th.max_loss_pct, 0.5, 1e-9);
  cr_assert_str_eq(sc.url, "wss://veil.example:443/ws");
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), 0, "%s", err);
}

Test(load_scenario, file_error_names_the_line) {
  const char *t = "scenario = meeting\nparticipants = lots\n";
  cr_assert_eq(load_scenario_parse_text(&sc, t, strlen(t), err, sizeof err), VEIL_EINVAL);
  cr_assert(strstr(err, "line 2") != NULL, "%s", err);
}

Test(load_scenario, rejects_line_without_equals_and_unknown_key) {
  const char *t1 = "scenario meeting\n", *t2 = "participantz = 3\n";
  cr_assert_eq(load_scenario_parse_text(&sc, t1, strlen(t1), err, sizeof err), VEIL_EINVAL);
  cr_assert_eq(load_scenario_parse_text(&sc, t2, strlen(t2), err, sizeof err), VEIL_ENOTFOUND);
}

Test(load_scenario, rejects_file_over_size_limit) {
  static char big[LOAD_MAX_FILE_BYTES + 1];
  memset(big, '\n', sizeof big);
  cr_assert_eq(load_scenario_parse_text(&sc, big, sizeof big, err, sizeof err), VEIL_ELIMIT);
}

Test(load_scenario, rejects_overlong_string_values) {
  char url[LOAD_URL_MAX + 1];
  memset(url, 'a', sizeof url - 1);
  url[sizeof url - 1] = 0;
  cr_assert_eq(load_scenario_set(&sc, "url", url, err, sizeof err), VEIL_ELIMIT);
  char room[LOAD_ROOM_MAX + 2];
  memset(room, 'r', sizeof room - 1);
  room[sizeof room - 1] = 0;
  cr_assert_eq(load_scenario_set(&sc, "room", room, err, sizeof err), VEIL_ELIMIT);
}

Test(load_scenario, flags_override_the_scenario_file_wherever_given) {
  char path[] = "/tmp/veil-load-test-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("scenario = meeting\nparticipants = 4\n", f);
  fclose(f);
  char *v[] = {"x", "--participants", "6", "--scenario-file", path};
  int rc = args(5, v);
  remove(path);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_eq(sc.participants, 6);
  cr_assert_eq(sc.kind, LOAD_KIND_MEETING);
}

Test(load_scenario, validate_requires_exactly_one_token_source_and_a_url) {
  load_scenario_set(&sc, "scenario", "meeting", NULL, 0);
  load_scenario_set(&sc, "participants", "3", NULL, 0);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), VEIL_EINVAL, "no url");
  load_scenario_set(&sc, "url", "ws://h/", NULL, 0);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), VEIL_EINVAL, "no token source");
  load_scenario_set(&sc, "token-key", "k", NULL, 0);
  load_scenario_set(&sc, "token-file", "t", NULL, 0);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), VEIL_EINVAL, "two token sources");
}

Test(load_scenario, validate_rejects_meeting_of_one_and_no_media) {
  load_scenario_set(&sc, "scenario", "meeting", NULL, 0);
  load_scenario_set(&sc, "participants", "1", NULL, 0);
  load_scenario_set(&sc, "url", "ws://h/", NULL, 0);
  load_scenario_set(&sc, "token-key", "k", NULL, 0);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), VEIL_EINVAL);
  load_scenario_set(&sc, "participants", "2", NULL, 0);
  load_scenario_set(&sc, "audio", "off", NULL, 0);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), VEIL_EINVAL);
}

Test(load_scenario, rejects_resolution_over_4k_and_malformed) {
  cr_assert_eq(load_scenario_set(&sc, "video-resolution", "7680x4320", err, sizeof err), VEIL_ELIMIT);
  cr_assert_eq(load_scenario_set(&sc, "video-resolution", "1280*720", err, sizeof err), VEIL_EINVAL);
  cr_assert_eq(load_scenario_set(&sc, "video-resolution", "1920x1080", err, sizeof err), 0);
  cr_assert_eq(sc.vp.width, 1920);
}

Test(load_scenario, percent_thresholds_reject_over_100_and_three_decimals) {
  cr_assert_eq(load_scenario_set(&sc, "max-loss", "100.5", err, sizeof err), VEIL_ELIMIT);
  cr_assert_eq(load_scenario_set(&sc, "max-loss", "0.125", err, sizeof err), VEIL_EINVAL);
  cr_assert_eq(load_scenario_set(&sc, "max-loss", "2.", err, sizeof err), VEIL_EINVAL);
  cr_assert_eq(load_scenario_set(&sc, "max-loss", "2.5", err, sizeof err), 0);
  cr_assert_float_eq(sc.th.max_loss_pct, 2.5, 1e-9);
}

Test(load_scenario, flag_without_value_is_refused) {
  char *v[] = {"x", "--participants"};
  cr_assert_eq(args(2, v), VEIL_EINVAL);
  char *w[] = {"x", "stampede"};
  cr_assert_eq(args(2, w), VEIL_EINVAL);
}

Test(load_scenario, usage_lists_every_key) {
  const char *u = load_scenario_usage();
  cr_assert(strstr(u, "--churn-per-min") && strstr(u, "--server-pid") && strstr(u, "--token-key"));
}

Test(load_scenario, bare_number_is_in_the_keys_unit) {
  cr_assert_eq(load_scenario_set(&sc, "max-p99", "250", err, sizeof err), 0, "%s", err);
  cr_assert_eq(sc.th.max_p99_ms, 250);
  cr_assert_eq(load_scenario_set(&sc, "max-p99", "2s", err, sizeof err), 0);
  cr_assert_eq(sc.th.max_p99_ms, 2000);
  cr_assert_eq(load_scenario_set(&sc, "duration", "30", err, sizeof err), 0);
  cr_assert_eq(sc.duration_s, 30);
}

Test(load_scenario, verify_every_samples_one_in_1_to_1000) {
  load_scenario_set(&sc, "scenario", "meeting", NULL, 0);
  load_scenario_set(&sc, "participants", "2", NULL, 0);
  load_scenario_set(&sc, "url", "ws://h/", NULL, 0);
  load_scenario_set(&sc, "token-key", "k", NULL, 0);
  cr_assert_eq(sc.verify_every, 1, "every frame by default");
  cr_assert_eq(load_scenario_set(&sc, "verify-every", "10", err, sizeof err), 0, "%s", err);
  cr_assert_eq(sc.verify_every, 10);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), 0, "%s", err);
  cr_assert_eq(load_scenario_set(&sc, "verify-every", "1000", err, sizeof err), 0, "%s", err);
  cr_assert_eq(load_scenario_set(&sc, "verify-every", "0", err, sizeof err), VEIL_EINVAL);
  cr_assert_eq(load_scenario_set(&sc, "verify-every", "1001", err, sizeof err), VEIL_ELIMIT);
  cr_assert_eq(sc.verify_every, 1000, "a refused value is not stored");
}

/* The help once said the media model and sampling were not in use; both are. */
Test(load_scenario, usage_claims_no_unimplemented_feature) {
  const char *u = load_scenario_usage();
  cr_assert_null(strstr(u, "not on the wire"), "%s", u);
  cr_assert_null(strstr(u, "for now"), "%s", u);
  cr_assert(strstr(u, "--verify-every") && strstr(u, "--seed") && strstr(u, "--video-kbps"));
}

/* The example files in clients/load/scenarios must stay valid as keys change. */
static void example_ok(const char *name, load_kind_t kind) {
  char path[512];
  const char *src = getenv("VEIL_SOURCE_ROOT");
  cr_assert_not_null(src, "VEIL_SOURCE_ROOT not set");
  snprintf(path, sizeof path, "%s/clients/load/scenarios/%s", src, name);
  char *v[] = {"x", "--scenario-file", path, "--url", "ws://127.0.0.1:1/", "--token-key", "k"};
  cr_assert_eq(args(7, v), 0, "%s: %s", name, err);
  cr_assert_eq(sc.kind, kind);
  cr_assert_eq(load_scenario_validate(&sc, err, sizeof err), 0, "%s: %s", name, err);
}

Test(load_scenario, example_meeting_file_is_valid) { example_ok("meeting.scenario", LOAD_KIND_MEETING); }
Test(load_scenario, example_webinar_file_is_valid) { example_ok("webinar.scenario", LOAD_KIND_WEBINAR); }
Test(load_scenario, example_churn_file_is_valid) { example_ok("churn.scenario", LOAD_KIND_CHURN); }
Test(load_scenario, example_ramp_file_is_valid) { example_ok("ramp.scenario", LOAD_KIND_RAMP); }
