/*
 * veil-load — simulated participants doing real E2EE against one veil-server.
 *
 *   veil-load meeting --participants 8 --duration 10s --url ws://127.0.0.1:8443/ \
 *             --token-key STATE/token-ES256.key --report out/meeting
 *
 * Exit status: 0 when every threshold held, 1 when one was missed (the report says
 * which), 2 when the run could not start (usage, target, token source). docs/load.md.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clients/load/report.h"
#include "clients/load/runner.h"
#include "clients/load/scenario.h"
#include "common/log.h"

static int write_reports(const load_report_t *rep, const char *prefix) {
  char path[LOAD_PATH_MAX + 8];
  int rc = 0;
  if (!prefix[0]) return load_report_write_json(rep, stdout);
  const char *ext[] = {".json", ".html"};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s%s", prefix, ext[i]);
    FILE *f = fopen(path, "w");
    if (!f) {
      fprintf(stderr, "veil-load: cannot write %s\n", path);
      return -1;
    }
    rc |= i == 0 ? load_report_write_json(rep, f) : load_report_write_html(rep, f);
    rc |= fclose(f);
    fprintf(stderr, "veil-load: wrote %s\n", path);
  }
  return rc;
}

int main(int argc, char **argv) {
  load_scenario_t sc;
  char err[256] = "";
  int quiet = 0;
  load_scenario_defaults(&sc);
  /* Flags of the program itself, taken out before the scenario parser sees argv. */
  int n = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(load_scenario_usage(), stdout);
      puts("  --quiet                  no progress line");
      return 0;
    }
    if (!strcmp(argv[i], "--quiet")) quiet = 1;
    else argv[n++] = argv[i];
  }
  if (load_scenario_parse_args(&sc, n, argv, err, sizeof err) || load_scenario_validate(&sc, err, sizeof err)) {
    fprintf(stderr, "veil-load: %s\n%s", err, load_scenario_usage());
    return 2;
  }
  if (!sc.room[0]) snprintf(sc.room, sizeof sc.room, "load-%ld-%d", (long)time(NULL), (int)getpid());
  veil_log_set_level(VEIL_LOG_ERROR);
  load_result_t res;
  if (load_run(&sc, quiet ? NULL : stderr, &res, err, sizeof err)) {
    fprintf(stderr, "veil-load: %s\n", err);
    return 2;
  }
  int wrc = write_reports(&res.report, sc.report);
  const load_report_t *rep = &res.report;
  fprintf(stderr, "veil-load: %s: %s%s%s\n", load_kind_name(sc.kind), rep->verdict.passed ? "PASSED" : "FAILED",
          rep->verdict.reasons[0] ? " - " : "", rep->verdict.reasons);
  int pass = rep->verdict.passed && wrc == 0;
  load_result_free(&res);
  return pass ? 0 : 1;
}
