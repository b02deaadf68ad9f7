/* veil-load /proc/<pid>/stat reader. Field numbers from proc(5). */
#include "clients/load/procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"

int load_procstat_parse(const char *text, size_t len, load_procstat_t *out) {
  const char *close = NULL;
  for (size_t i = 0; i < len; i++)
    if (text[i] == ')') close = text + i;
  if (!close) return VEIL_EDECODE;
  const char *p = close + 1, *end = text + len;
  /* After ')' comes field 3 (state). Walk space-separated fields to 14, 15 and 24. */
  uint64_t utime = 0, stime = 0, rss = 0;
  int field = 2, got = 0;
  while (p < end) {
    while (p < end && *p == ' ') p++;
    if (p >= end || *p == '\n') break;
    field++;
    const char *s = p;
    while (p < end && *p != ' ' && *p != '\n') p++;
    if (field == 14 || field == 15 || field == 24) {
      uint64_t v = 0;
      if (s == p) return VEIL_EDECODE;
      for (const char *q = s; q < p; q++) {
        /* rss is signed in the kernel's format but never negative for a live process */
        if (*q < '0' || *q > '9' || v > (UINT64_MAX - 9) / 10) return VEIL_EDECODE;
        v = v * 10 + (uint64_t)(*q - '0');
      }
      if (field == 14) utime = v;
      else if (field == 15) stime = v;
      else rss = v;
      got++;
    }
  }
  if (got != 3) return VEIL_EDECODE;
  out->cpu_ticks = utime + stime;
  out->rss_pages = rss;
  return 0;
}

int load_procstat_read(int pid, load_procstat_t *out) {
  char path[64], buf[2048];
  if (pid <= 0) return VEIL_EINVAL;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = read(fd, buf, sizeof buf);
  int e = errno;
  close(fd);
  if (n < 0) return -e;
  if ((size_t)n == sizeof buf) return VEIL_ELIMIT;
  return load_procstat_parse(buf, (size_t)n, out);
}

double load_procstat_cpu_seconds(const load_procstat_t *a, const load_procstat_t *b) {
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0 || b->cpu_ticks < a->cpu_ticks) return 0;
  return (double)(b->cpu_ticks - a->cpu_ticks) / (double)hz;
}

uint64_t load_procstat_rss_kb(const load_procstat_t *s) {
  long ps = sysconf(_SC_PAGESIZE);
  return s->rss_pages * (uint64_t)(ps > 0 ? ps : 4096) / 1024;
}
