/* Fuzz target: load_procstat_parse (clients/load/procstat.c), the /proc/<pid>/stat text of
 * --server-pid (proc(5)). Invariants: an accepted text has fields 14, 15 and 24 after the
 * last ')' made of digits only, and the result equals an independent re-derivation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/load/procstat.h"

/* Field n (3-based after the last ')') as a digit string; 0 if absent or not digits. */
static int field_value(const char *t, size_t len, int want, uint64_t *out) {
  size_t i = len, start;
  while (i > 0 && t[i - 1] != ')') i--;
  if (i == 0) return 0;
  int field = 2;
  while (i < len) {
    while (i < len && t[i] == ' ') i++;
    if (i >= len || t[i] == '\n') return 0;
    field++;
    start = i;
    while (i < len && t[i] != ' ' && t[i] != '\n') i++;
    if (field == want) {
      uint64_t v = 0;
      if (i == start) return 0;
      for (size_t k = start; k < i; k++) {
        if (t[k] < '0' || t[k] > '9') return 0;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(t[k] - '0'), &v)) return 0;
      }
      *out = v;
      return 1;
    }
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* exactly-sized copy: the parser must not read past len (no NUL is promised) */
  char *t = malloc(size ? size : 1);
  if (!t) return 0;
  memcpy(t, data, size);
  load_procstat_t s = {0};
  int rc = load_procstat_parse(t, size, &s);
  if (rc == 0) {
    uint64_t u, st, rss;
    if (!field_value(t, size, 14, &u) || !field_value(t, size, 15, &st) || !field_value(t, size, 24, &rss))
      abort(); /* accepted a text whose fields 14/15/24 are not all numbers */
    if (s.rss_pages != rss || s.cpu_ticks != u + st) abort();
    /* the derived figures never wrap below zero */
    load_procstat_t zero = {0};
    if (load_procstat_cpu_seconds(&s, &zero) != 0) abort();
    (void)load_procstat_rss_kb(&s);
  }
  free(t);
  return 0;
}
