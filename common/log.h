/*
 * veil — structured logging to stderr: one line per event,
 *   ts=2026-11-22T04:20:00.123Z level=info comp=sfu event=transport_connected k=v ...
 * The caller passes key=value pairs as a printf format. Not for per-packet use (STYLE 9).
 */
#ifndef VEIL_COMMON_LOG_H
#define VEIL_COMMON_LOG_H

#include <stdio.h>

typedef enum veil_log_level {
  VEIL_LOG_DEBUG = 0,
  VEIL_LOG_INFO = 1,
  VEIL_LOG_WARN = 2,
  VEIL_LOG_ERROR = 3,
  VEIL_LOG_OFF = 4,
} veil_log_level_t;

void veil_log_set_level(veil_log_level_t level);
veil_log_level_t veil_log_get_level(void);
/* Parses "debug|info|warn|error|off"; returns 0 or VEIL_EINVAL. */
int veil_log_parse_level(const char *s, veil_log_level_t *out);
/* Redirects output (default stderr); the stream is borrowed. */
void veil_log_set_stream(FILE *f);

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void veil_log(veil_log_level_t level, const char *component, const char *event,
              const char *kv_fmt, ...);

#define VEIL_LOG_ENABLED(level) ((level) >= veil_log_get_level())

#endif
