/*
 * veil-load — server CPU and memory from /proc/<pid>/stat (proc(5)).
 *
 * Only for a server on the same machine (`--server-pid`). CPU is utime + stime in clock
 * ticks (fields 14 and 15), RSS is field 24 in pages. The command name (field 2) is in
 * parentheses and may itself contain spaces and ')', so parsing starts after the LAST ')'.
 */
#ifndef VEIL_CLIENTS_LOAD_PROCSTAT_H
#define VEIL_CLIENTS_LOAD_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>

typedef struct load_procstat {
  uint64_t cpu_ticks;      /* utime + stime */
  uint64_t rss_pages;
} load_procstat_t;

/* Parses the text of a stat file. VEIL_EDECODE when malformed. */
int load_procstat_parse(const char *text, size_t len, load_procstat_t *out);
/* Reads /proc/<pid>/stat. A negative errno-style code when the process is gone. */
int load_procstat_read(int pid, load_procstat_t *out);
/* Seconds of CPU between two readings (ticks / sysconf(_SC_CLK_TCK)). */
double load_procstat_cpu_seconds(const load_procstat_t *a, const load_procstat_t *b);
uint64_t load_procstat_rss_kb(const load_procstat_t *s);

#endif
