/*
 * veil tests — shared bits of the MLS vector runners (part B): loading a vector file,
 * per-suite ran/skipped bookkeeping, and the closing report.
 *
 * Every runner walks a JSON array of test cases carrying "cipher_suite". Suites the
 * library does not implement (4–7) are reported as skipped; suites 1–3 must all run:
 * mv_finish() fails the run (a TAP "not ok") when one of them was skipped or absent, so
 * a silently shrinking suite list cannot pass.
 */
#ifndef VEIL_TESTS_MLS_VEC_H
#define VEIL_TESTS_MLS_VEC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/mls/suite.h"
#include "common/hex.h"
#include "vjson.h"

#define MV_MAX_SUITE 8

typedef struct mv {
  const char *file;
  vj_t *root;
  unsigned ran[MV_MAX_SUITE];
  unsigned skipped[MV_MAX_SUITE];
  void *bag[1024]; /* buffers of the current test case, freed by mv_release */
  unsigned nbag;
} mv_t;

/* Loads mls/<file>. Returns 0, or 77 (whole-runner skip) when the vectors are absent. */
static inline int mv_open(mv_t *m, const char *file) {
  char rel[256], path[4096];
  *m = (mv_t){.file = file};
  snprintf(rel, sizeof(rel), "mls/%s", file);
  if (!vj_vector_path(rel, path, sizeof(path)))
    return tap_skip_all("MLS vectors folder absent");
  m->root = vj_parse_file(path);
  tap_diag("%s on the %s backend", file, vc_backend_name());
  return 0;
}

/* The suite of test case `tc`, or NULL (counted as skipped) when unsupported. */
static inline const mls_suite_t *mv_suite(mv_t *m, const vj_t *tc, size_t i) {
  int ok = 0;
  uint64_t id = vj_u64(tc, "cipher_suite", &ok);
  const mls_suite_t *s = ok ? mls_suite_get((uint16_t)id) : NULL;
  if (!s) {
    if (ok && id < MV_MAX_SUITE)
      m->skipped[id]++;
    tap_skip("%s[%zu]: cipher suite %llu not supported", m->file, i, (unsigned long long)id);
  }
  return s;
}

static inline void mv_ran(mv_t *m, const mls_suite_t *s) {
  if (s->id < MV_MAX_SUITE)
    m->ran[s->id]++;
}

/* Keeps `p` until mv_release (NULL is ignored). */
static inline void *mv_keep(mv_t *m, void *p) {
  if (p && m->nbag < sizeof(m->bag) / sizeof(m->bag[0]))
    m->bag[m->nbag++] = p;
  else if (p) {
    fprintf(stderr, "mv_keep: bag full\n");
    abort();
  }
  return p;
}

static inline void mv_release(mv_t *m) {
  for (unsigned i = 0; i < m->nbag; i++)
    free(m->bag[i]);
  m->nbag = 0;
}

/* A hex member kept until mv_release; NULL (with a diagnostic) when absent or not hex. */
static inline uint8_t *mv_hex(mv_t *m, const vj_t *o, const char *key, size_t *len) {
  uint8_t *b = vj_hex(o, key, len);
  if (!b)
    tap_diag("%s: missing or malformed hex member \"%s\"", m->file, key);
  return mv_keep(m, b);
}

/* A hex string value (an array element) kept until mv_release; NULL when not hex. */
static inline uint8_t *mv_hex_value(mv_t *m, const vj_t *v, size_t *len) {
  if (!v || v->type != VJ_STR)
    return NULL;
  uint8_t *out = malloc(v->len / 2 + 1);
  long n = out ? veil_hex_decode(v->text, v->len, out, v->len / 2) : -1;
  if (n < 0) {
    free(out);
    return NULL;
  }
  *len = (size_t)n;
  return mv_keep(m, out);
}

/* Prints ran/skipped per suite, checks suites 1–3 all ran, frees, returns the exit code. */
static inline int mv_finish(mv_t *m) {
  int all = 1;
  for (unsigned id = 1; id < MV_MAX_SUITE; id++) {
    if (!m->ran[id] && !m->skipped[id])
      continue;
    tap_diag("%s suite %u: ran %u, skipped %u", m->file, id, m->ran[id], m->skipped[id]);
  }
  for (unsigned id = 1; id <= 3; id++)
    if (!m->ran[id] || m->skipped[id])
      all = 0;
  tap_ok(m->root != NULL && all, "%s: every test case of suites 1-3 ran", m->file);
  mv_release(m);
  vj_free(m->root);
  return tap_done();
}

#endif
