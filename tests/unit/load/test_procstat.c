#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "clients/load/procstat.h"
#include "common/err.h"

Test(load_procstat, command_name_with_parens_and_spaces_does_not_shift_fields) {
  const char *s = "1234 (evil) 1 2 3) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 999 123456789 777 "
                  "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  load_procstat_t p;
  cr_assert_eq(load_procstat_parse(s, strlen(s), &p), 0);
  cr_assert_eq(p.cpu_ticks, 300);
  cr_assert_eq(p.rss_pages, 777);
}

Test(load_procstat, rejects_truncated_stat) {
  const char *s = "1234 (veil-server) S 1 1234 1234 0 -1 4194560 100 0 0 0 250";
  load_procstat_t p;
  cr_assert_eq(load_procstat_parse(s, strlen(s), &p), VEIL_EDECODE);
  cr_assert_eq(load_procstat_parse("no parens", 9, &p), VEIL_EDECODE);
}

Test(load_procstat, rejects_non_numeric_cpu_field) {
  const char *s = "1 (x) S 1 1 1 0 -1 0 0 0 0 0 2x0 50 0 0 20 0 3 0 999 1 777 0\n";
  load_procstat_t p;
  cr_assert_eq(load_procstat_parse(s, strlen(s), &p), VEIL_EDECODE);
}

Test(load_procstat, reads_own_process_and_cpu_only_grows) {
  load_procstat_t a, b;
  cr_assert_eq(load_procstat_read(getpid(), &a), 0);
  volatile uint64_t x = 0;
  for (uint64_t i = 0; i < 200000000ull; i++) x += i;
  (void)x;
  cr_assert_eq(load_procstat_read(getpid(), &b), 0);
  cr_assert_geq(b.cpu_ticks, a.cpu_ticks);
  cr_assert_gt(load_procstat_rss_kb(&b), 0);
  cr_assert_gt(load_procstat_cpu_seconds(&a, &b), 0.0, "a busy loop used no CPU?");
}

Test(load_procstat, missing_process_is_an_error) {
  load_procstat_t p;
  cr_assert_lt(load_procstat_read(0, &p), 0);
  cr_assert_lt(load_procstat_read(4194305, &p), 0);
}
