/* veil — monotonic time. Sans-I/O cores take `now` as an argument; only shells call these. */
#ifndef VEIL_COMMON_VTIME_H
#define VEIL_COMMON_VTIME_H

#include <stdint.h>

/* Monotonic clock (CLOCK_MONOTONIC), unaffected by wall-clock changes. */
uint64_t veil_now_ns(void);
uint64_t veil_now_us(void);
uint64_t veil_now_ms(void);
/* Wall clock, seconds since the Unix epoch (token expiry, certificate validity). */
int64_t veil_wall_seconds(void);

#endif
