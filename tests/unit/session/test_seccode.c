/* Security code derivation (clients/lib/session/vs_seccode.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/session/vs_seccode.h"
#include "common/err.h"

static const uint8_t gid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Test(seccode, is_twelve_groups_of_five_digits_and_deterministic) {
  uint8_t ea[32];
  memset(ea, 0x42, sizeof ea);
  char a[VS_SECCODE_LEN], b[VS_SECCODE_LEN];
  cr_assert_eq(vs_seccode(gid, sizeof gid, ea, sizeof ea, a), 0);
  cr_assert_eq(vs_seccode(gid, sizeof gid, ea, sizeof ea, b), 0);
  cr_assert_str_eq(a, b);
  cr_assert_eq(strlen(a), 71);
  for (int i = 0; i < 71; i++)
    cr_assert(i % 6 == 5 ? a[i] == ' ' : (a[i] >= '0' && a[i] <= '9'), "position %d: %c", i, a[i]);
}

Test(seccode, one_bit_of_the_epoch_authenticator_changes_it) {
  uint8_t ea[32] = {0};
  char base[VS_SECCODE_LEN], other[VS_SECCODE_LEN];
  cr_assert_eq(vs_seccode(gid, sizeof gid, ea, sizeof ea, base), 0);
  for (size_t bit = 0; bit < sizeof ea * 8; bit++) {
    ea[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    cr_assert_eq(vs_seccode(gid, sizeof gid, ea, sizeof ea, other), 0);
    cr_assert_str_neq(base, other, "bit %zu", bit);
    ea[bit / 8] ^= (uint8_t)(1u << (bit % 8));
  }
}

Test(seccode, binds_the_group_id) {
  uint8_t ea[32] = {7};
  uint8_t gid2[16];
  memcpy(gid2, gid, sizeof gid2);
  gid2[15] ^= 1;
  char a[VS_SECCODE_LEN], b[VS_SECCODE_LEN];
  cr_assert_eq(vs_seccode(gid, sizeof gid, ea, sizeof ea, a), 0);
  cr_assert_eq(vs_seccode(gid2, sizeof gid2, ea, sizeof ea, b), 0);
  cr_assert_str_neq(a, b);
}

Test(seccode, rejects_an_empty_or_oversized_authenticator) {
  uint8_t ea[65] = {0};
  char out[VS_SECCODE_LEN];
  cr_assert_eq(vs_seccode(gid, sizeof gid, ea, 0, out), VEIL_EINVAL);
  cr_assert_eq(vs_seccode(gid, sizeof gid, ea, 65, out), VEIL_EINVAL);
}
