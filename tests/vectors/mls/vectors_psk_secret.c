/*
 * RFC 9420 psk_secret vectors (§8.4): the PSK chain over 0..n external PSKs, each
 * identified by its PreSharedKeyID (external psk_id + psk_nonce, encoded by the codec).
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/key_schedule.h"
#include "mls_vec.h"

#define MAX_PSKS 64

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "psk_secret.json");
  if (rc)
    return rc;
  for (size_t i = 0; i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    const vj_t *list = vj_get(tc, "psks");
    size_t n = vj_size(list), wl;
    mls_psk_id_t ids[MAX_PSKS];
    mls_ks_psk_t psks[MAX_PSKS];
    int ok = n <= MAX_PSKS;
    for (size_t k = 0; ok && k < n; k++) {
      const vj_t *p = vj_at(list, k);
      size_t il, nl, pl;
      uint8_t *id = mv_hex(&m, p, "psk_id", &il), *nonce = mv_hex(&m, p, "psk_nonce", &nl);
      uint8_t *psk = mv_hex(&m, p, "psk", &pl);
      ok = id && nonce && psk;
      ids[k] = (mls_psk_id_t){.psktype = MLS_PSK_EXTERNAL, .psk_id = {id, il},
                              .psk_nonce = {nonce, nl}};
      psks[k] = (mls_ks_psk_t){.id = &ids[k], .psk = psk, .psk_len = pl};
    }
    uint8_t *want = mv_hex(&m, tc, "psk_secret", &wl);
    uint8_t out[MLS_HASH_MAX];
    ok = ok && want && mls_ks_psk_secret(s, psks, n, out) == 0 &&
         tap_bytes_eq("psk_secret", out, s->nh, want, wl);
    tap_ok(ok, "psk_secret[%zu] suite %u, %zu PSKs", i, s->id, n);
    mv_release(&m);
    mv_ran(&m, s);
  }
  return mv_finish(&m);
}
