/*
 * A minimal stand-in for <criterion/criterion.h> that runs the crypto unit tests as a plain
 * TAP executable, so the same test sources also check the BoringSSL backend: Criterion
 * itself loads OpenSSL's libcrypto and must never share a process with BoringSSL (DESIGN.md,
 * "Why two crypto libraries"). Only the macros the crypto tests use are provided.
 *
 * One test file per executable: this header defines the registry and main(). A failed
 * assertion prints a diagnostic and longjmps out of the test (resources a failing test held
 * are leaked; Criterion would have killed the process instead).
 */
#ifndef VEIL_TESTS_TAPSHIM_CRITERION_H
#define VEIL_TESTS_TAPSHIM_CRITERION_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct shim_test {
  const char *suite, *name;
  void (*fn)(void);
} shim_test_t;

#define SHIM_MAX_TESTS 256
static shim_test_t shim_tests[SHIM_MAX_TESTS];
static int shim_count, shim_i, shim_failed;
static jmp_buf shim_jmp;

#define Test(s, n)                                                                     \
  static void s##_##n(void);                                                           \
  __attribute__((constructor)) static void s##_##n##_register(void) {                  \
    if (shim_count < SHIM_MAX_TESTS) shim_tests[shim_count++] = (shim_test_t){#s, #n, s##_##n}; \
  }                                                                                    \
  static void s##_##n(void)

/* The optional message of a cr_assert_* (a printf format and its arguments, or nothing). */
static void shim_msg(const char *fmt, ...) {
  if (!fmt[0]) return;
  va_list ap;
  va_start(ap, fmt);
  printf("#   ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
}

#define SHIM_CHECK(ok, text, ...)                                                       \
  do {                                                                                  \
    if (!(ok)) {                                                                        \
      printf("# %s:%d: assertion failed: %s\n", __FILE__, __LINE__, text);              \
      shim_msg(__VA_ARGS__);                                                            \
      longjmp(shim_jmp, 1);                                                             \
    }                                                                                   \
  } while (0)

#define cr_assert(c, ...) SHIM_CHECK((c), #c, "" __VA_ARGS__)
#define cr_assert_not(c, ...) SHIM_CHECK(!(c), "!(" #c ")", "" __VA_ARGS__)
#define cr_assert_eq(a, b, ...) SHIM_CHECK((a) == (b), #a " == " #b, "" __VA_ARGS__)
#define cr_assert_neq(a, b, ...) SHIM_CHECK((a) != (b), #a " != " #b, "" __VA_ARGS__)
#define cr_assert_geq(a, b, ...) SHIM_CHECK((a) >= (b), #a " >= " #b, "" __VA_ARGS__)
#define cr_assert_leq(a, b, ...) SHIM_CHECK((a) <= (b), #a " <= " #b, "" __VA_ARGS__)
#define cr_assert_null(p, ...) SHIM_CHECK((p) == NULL, #p " == NULL", "" __VA_ARGS__)
#define cr_assert_not_null(p, ...) SHIM_CHECK((p) != NULL, #p " != NULL", "" __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) \
  SHIM_CHECK(strcmp((a), (b)) == 0, #a " equals " #b, "" __VA_ARGS__)
#define cr_assert_arr_eq(a, b, n, ...) \
  SHIM_CHECK(memcmp((a), (b), (n)) == 0, #a " == " #b " (" #n " bytes)", "" __VA_ARGS__)

int main(void) {
  for (shim_i = 0; shim_i < shim_count; shim_i++) {
    if (setjmp(shim_jmp) == 0) {
      shim_tests[shim_i].fn();
      printf("ok %d - %s::%s\n", shim_i + 1, shim_tests[shim_i].suite, shim_tests[shim_i].name);
    } else {
      shim_failed++;
      printf("not ok %d - %s::%s\n", shim_i + 1, shim_tests[shim_i].suite,
             shim_tests[shim_i].name);
    }
    fflush(stdout);
  }
  printf("1..%d\n", shim_count);
  return shim_failed ? 1 : 0;
}

#endif
