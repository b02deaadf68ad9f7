/* veil client session — security code. Contract in vs_seccode.h. */
#include "clients/lib/session/vs_seccode.h"

#include <stdio.h>

#include "clients/lib/crypto/provider.h"
#include "common/bytes.h"
#include "common/err.h"

#define LABEL "veil security code v1"

int vs_seccode(const uint8_t *group_id, size_t gid_len, const uint8_t *epoch_auth, size_t ea_len,
               char out[VS_SECCODE_LEN]) {
  if (!ea_len || gid_len > 255 || ea_len > 64)
    return VEIL_EINVAL;
  uint8_t in[sizeof LABEL + 2 + 255 + 2 + 64];
  veil_writer_t w;
  veil_writer_init(&w, in, sizeof in);
  veil_write_bytes(&w, LABEL, sizeof LABEL - 1);
  veil_write_vec(&w, VEIL_LEN_VARINT, group_id, gid_len);
  veil_write_vec(&w, VEIL_LEN_VARINT, epoch_auth, ea_len);
  if (w.err)
    return w.err;
  uint8_t d[64];
  int rc = vc_hash(VC_SHA512, in, w.len, d);
  if (rc)
    return rc;
  /* 5 bytes per group: 2^40 / 10^5 leaves a modulo bias below 10^-7 (as Signal's
   * safety numbers do with 5-byte chunks). 12 groups use 60 of the 64 bytes. */
  for (int g = 0; g < VS_SECCODE_GROUPS; g++) {
    uint64_t v = 0;
    for (int k = 0; k < 5; k++)
      v = v << 8 | d[5 * g + k];
    snprintf(out + 6 * g, 7, "%05u%s", (unsigned)(v % 100000u), g + 1 < VS_SECCODE_GROUPS ? " " : "");
  }
  vc_wipe(d, sizeof d);
  return 0;
}
