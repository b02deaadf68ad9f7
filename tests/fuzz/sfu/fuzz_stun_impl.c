/*
 * STUN parse + integrity/fingerprint checks + the ICE-lite core on arbitrary datagrams.
 * Seeds carry valid MESSAGE-INTEGRITY under FUZZ_PWD so replay reaches the answer and
 * nomination paths.
 */
#include <string.h>

#include "fuzz_sfu_common.h"
#include "sfu/ice.h"
#include "sfu/stun.h"

#define FUZZ_UFRAG "SfUu"
#define FUZZ_PWD "fuzzPassword0123456789+/"
#define FUZZ_REMOTE "cLiE"

void fuzz_sfu_stun(const uint8_t *data, size_t size) {
  sfu_stun_msg_t m;
  if (sfu_stun_parse(data, size, &m) == 0) {
    fuzz_check_view(m.username, data, size);
    fuzz_check_view(m.software, data, size);
    fuzz_check_view(m.error_reason, data, size);
    if ((m.present & SFU_STUN_HAS_MI) && m.mi_offset + 24 > size)
      abort();
    if ((m.present & SFU_STUN_HAS_FINGERPRINT) && m.fp_offset + 8 != size)
      abort(); /* FINGERPRINT is always the last attribute */
    (void)sfu_stun_verify_integrity(&m, (const uint8_t *)FUZZ_PWD, strlen(FUZZ_PWD));
    (void)sfu_stun_verify_integrity_sha256(&m, (const uint8_t *)FUZZ_PWD, strlen(FUZZ_PWD));
    (void)sfu_stun_verify_fingerprint(&m);
  }
  sfu_ice_t *ice = NULL;
  sfu_ice_config_t cfg = {.local_ufrag = FUZZ_UFRAG, .local_pwd = FUZZ_PWD,
                          .remote_ufrag = FUZZ_REMOTE, .consent_timeout_ms = 1000};
  if (sfu_ice_new(&cfg, &ice) != 0)
    abort();
  sfu_stun_addr_t from = {.family = 4, .port = 5000, .addr = {10, 0, 0, 1}};
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  int rc = sfu_ice_handle_stun(ice, data, size, &from, 10, out, sizeof(out), &res);
  if (rc == 0) {
    /* Only an authenticated request gets here: the answer must parse and verify. */
    sfu_stun_msg_t r;
    if (res.response_len == 0 || sfu_stun_parse(out, res.response_len, &r) != 0 ||
        sfu_stun_verify_integrity(&r, (const uint8_t *)FUZZ_PWD, strlen(FUZZ_PWD)) != 0 ||
        sfu_stun_verify_fingerprint(&r) != 0)
      abort();
  } else if (res.response_len != 0 || sfu_ice_state(ice) != SFU_ICE_WAITING) {
    abort(); /* a dropped datagram sends nothing and changes nothing */
  }
  (void)sfu_ice_on_timeout(ice, 2000, &res);
  sfu_ice_free(ice);
}
