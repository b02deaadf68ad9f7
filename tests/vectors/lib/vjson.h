/*
 * veil tests — a small JSON reader for the vector runners, and a TAP reporter.
 *
 * Why not jansson: the SFrame vectors hold integers up to 2^64-1, which jansson rejects
 * and doubles would round. Numbers are kept as their raw token text; vj_u64 parses it
 * exactly. Built for trusted test files (it still checks every bound): it is not a
 * general-purpose or untrusted-input parser and nothing outside tests/ uses it.
 *
 * The vector runners are plain executables speaking TAP (no Criterion), so the same
 * runner links against either crypto backend (DESIGN.md, "Why two crypto libraries").
 */
#ifndef VEIL_TESTS_VJSON_H
#define VEIL_TESTS_VJSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { VJ_NULL, VJ_BOOL, VJ_NUM, VJ_STR, VJ_ARR, VJ_OBJ } vj_type_t;

typedef struct vj {
  vj_type_t type;
  const char *text;  /* VJ_NUM: raw token; VJ_STR: decoded NUL-terminated string */
  size_t len;        /* VJ_STR/VJ_NUM: text length; VJ_ARR/VJ_OBJ: number of children */
  int boolean;
  struct vj **items; /* VJ_ARR: elements; VJ_OBJ: values */
  char **keys;       /* VJ_OBJ: keys */
} vj_t;

/* Parses a whole file; NULL (with a message on stderr) on error. Free with vj_free. */
vj_t *vj_parse_file(const char *path);
vj_t *vj_parse(const char *text, size_t len);
void vj_free(vj_t *v);

/* Member of an object, or NULL. */
const vj_t *vj_get(const vj_t *obj, const char *key);
/* Element i of an array, or NULL. */
const vj_t *vj_at(const vj_t *arr, size_t i);
size_t vj_size(const vj_t *v);
/* Member as string / exact unsigned integer / bool; defaults when absent or of another type. */
const char *vj_str(const vj_t *obj, const char *key);
uint64_t vj_u64(const vj_t *obj, const char *key, int *ok);
int vj_is_null(const vj_t *v);
/* Decodes a hex string member into a malloc'd buffer (*len set; "" gives a non-NULL
 * empty buffer). NULL when absent or not hex. The caller frees. */
uint8_t *vj_hex(const vj_t *obj, const char *key, size_t *len);

/* Path of a vector file: $VEIL_VECTORS/<rel>, or the built-in default folder. Returns
 * NULL when the vectors folder is absent (the runner then skips, exit 77). */
const char *vj_vector_path(const char *rel, char *buf, size_t cap);

/* ---- TAP ------------------------------------------------------------------------- */
void tap_ok(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the plan and returns the exit status (0 if all passed, 1 otherwise). */
int tap_done(void);
/* Whole-runner skip: prints "1..0 # SKIP reason" and returns 77 (meson's skip code). */
int tap_skip_all(const char *reason);
/* 1 when buffers are equal; on mismatch prints both in hex as a diagnostic. */
int tap_bytes_eq(const char *what, const uint8_t *got, size_t got_len, const uint8_t *want,
                 size_t want_len);

#endif
