/* veil — monotonic time. */
#include "common/vtime.h"

#include <time.h>

uint64_t veil_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t veil_now_us(void) { return veil_now_ns() / 1000u; }
uint64_t veil_now_ms(void) { return veil_now_ns() / 1000000u; }

int64_t veil_wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec;
}
