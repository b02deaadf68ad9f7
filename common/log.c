/* veil — structured logging. Contract in log.h. */
#include "common/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

static veil_log_level_t current_level = VEIL_LOG_INFO;
static FILE *stream;

void veil_log_set_level(veil_log_level_t level) { current_level = level; }
veil_log_level_t veil_log_get_level(void) { return current_level; }
void veil_log_set_stream(FILE *f) { stream = f; }

int veil_log_parse_level(const char *s, veil_log_level_t *out) {
  static const char *const names[] = {"debug", "info", "warn", "error", "off"};
  for (int i = 0; i < 5; i++) {
    if (strcmp(s, names[i]) == 0) {
      *out = (veil_log_level_t)i;
      return 0;
    }
  }
  return VEIL_EINVAL;
}

void veil_log(veil_log_level_t level, const char *component, const char *event,
              const char *kv_fmt, ...) {
  static const char *const names[] = {"debug", "info", "warn", "error"};
  if (level < current_level || level >= VEIL_LOG_OFF)
    return;
  FILE *f = stream ? stream : stderr;
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char line[1024];
  int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s comp=%s event=%s",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ts.tv_nsec / 1000000L, names[level], component, event);
  if (n < 0)
    return;
  if ((size_t)n < sizeof line && kv_fmt && kv_fmt[0]) {
    line[n++] = ' ';
    va_list ap;
    va_start(ap, kv_fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, kv_fmt, ap);
    va_end(ap);
    if (m > 0)
      n += m;
  }
  if ((size_t)n >= sizeof line)
    n = (int)sizeof line - 1;
  /* One fputs per line so concurrent writers interleave by whole lines. */
  line[n] = '\0';
  fprintf(f, "%s\n", line);
}
