/*
 * Shared helpers of the sfu codec fuzz targets: each target's checks are also exported
 * so fuzz_demux can drive them all from the packet-path entry point.
 */
#ifndef VEIL_FUZZ_SFU_COMMON_H
#define VEIL_FUZZ_SFU_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/bytes.h"

/* Aborts (a fuzzer finding) unless `v` lies inside [base, base + len). */
static inline void fuzz_check_view(veil_view_t v, const uint8_t *base, size_t len) {
  if (v.len == 0)
    return;
  if (v.ptr < base || v.len > len || (size_t)(v.ptr - base) > len - v.len)
    abort();
}

void fuzz_sfu_stun(const uint8_t *data, size_t size);
void fuzz_sfu_rtp(const uint8_t *data, size_t size);
void fuzz_sfu_rtcp(const uint8_t *data, size_t size);

#endif
