/* Packet pool: exhaustion, reuse, no aliasing between live buffers. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/err.h"
#include "sfu/pool.h"

Test(pool, returns_null_when_exhausted_instead_of_allocating) {
  sfu_pool_t *p;
  cr_assert_eq(sfu_pool_new(4, &p), 0);
  sfu_pkt_t *b[4];
  for (int i = 0; i < 4; i++) cr_assert_not_null(b[i] = sfu_pool_get(p));
  cr_assert_null(sfu_pool_get(p));
  cr_assert_eq(sfu_pool_available(p), 0);
  sfu_pool_put(p, b[2]);
  cr_assert_eq(sfu_pool_get(p), b[2]);
  for (int i = 0; i < 4; i++) sfu_pool_put(p, b[i]);
  cr_assert_eq(sfu_pool_available(p), 4);
  sfu_pool_free(p);
}

Test(pool, live_buffers_never_overlap) {
  sfu_pool_t *p;
  cr_assert_eq(sfu_pool_new(16, &p), 0);
  sfu_pkt_t *b[16];
  for (int i = 0; i < 16; i++) {
    b[i] = sfu_pool_get(p);
    memset(b[i]->data, i, SFU_PKT_CAP);
  }
  for (int i = 0; i < 16; i++)
    for (size_t j = 0; j < SFU_PKT_CAP; j++) cr_assert_eq(b[i]->data[j], i);
  for (int i = 0; i < 16; i++) sfu_pool_put(p, b[i]);
  sfu_pool_free(p);
}

Test(pool, resets_length_on_reuse) {
  sfu_pool_t *p;
  cr_assert_eq(sfu_pool_new(1, &p), 0);
  sfu_pkt_t *b = sfu_pool_get(p);
  b->len = 1234;
  sfu_pool_put(p, b);
  cr_assert_eq(sfu_pool_get(p)->len, 0);
  sfu_pool_put(p, b);
  sfu_pool_free(p);
}

Test(pool, rejects_zero_and_huge_counts) {
  sfu_pool_t *p;
  cr_assert_eq(sfu_pool_new(0, &p), VEIL_EINVAL);
  cr_assert_eq(sfu_pool_new((1u << 20) + 1, &p), VEIL_EINVAL);
  cr_assert_null(p);
}
