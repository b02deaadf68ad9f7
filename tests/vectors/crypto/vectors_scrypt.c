/*
 * RFC 7914 known-answer tests over ../shared/vectors/scrypt (README.md there).
 *
 * §12 (scrypt): every vector through vc_scrypt, including test 4 (N = 2^20, r = 8: 1 GiB of
 * working memory, a few seconds). §11 (PBKDF2-HMAC-SHA256): computed here as RFC 8018 §5.2
 * over vc_hmac, which checks the provider's HMAC on the exact inputs scrypt's outer layers
 * use. §8–§10 (Salsa20/8 core, BlockMix, ROMix) are internal to the backend's scrypt and
 * have no provider API: they are reported as skipped (their effect is covered by §12).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "vjson.h"

#define REL "scrypt/rfc7914-test-vectors.json"

/* PBKDF2 (RFC 8018 §5.2) with HMAC-SHA256 from the provider. */
static int pbkdf2_sha256(const uint8_t *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
                         uint64_t c, uint8_t *out, size_t dk_len) {
  uint8_t *blk = malloc(salt_len + 4);
  if (!blk) return VEIL_ENOMEM;
  if (salt_len) memcpy(blk, salt, salt_len);
  int rc = 0;
  for (uint32_t i = 1; dk_len > 0 && rc == 0; i++) {
    uint8_t u[32], t[32];
    blk[salt_len] = (uint8_t)(i >> 24);
    blk[salt_len + 1] = (uint8_t)(i >> 16);
    blk[salt_len + 2] = (uint8_t)(i >> 8);
    blk[salt_len + 3] = (uint8_t)i;
    rc = vc_hmac(VC_SHA256, pw, pw_len, blk, salt_len + 4, u);
    memcpy(t, u, 32);
    for (uint64_t j = 1; j < c && rc == 0; j++) {
      rc = vc_hmac(VC_SHA256, pw, pw_len, u, 32, u);
      for (int k = 0; k < 32; k++) t[k] ^= u[k];
    }
    size_t n = dk_len < 32 ? dk_len : 32;
    memcpy(out, t, n);
    out += n;
    dk_len -= n;
  }
  free(blk);
  return rc;
}

int main(void) {
  char path[4096];
  if (!vj_vector_path(REL, path, sizeof(path))) return tap_skip_all("vectors folder absent");
  vj_t *root = vj_parse_file(path);
  if (!root || root->type != VJ_OBJ) {
    tap_ok(0, "parse %s", path);
    vj_free(root);
    return tap_done();
  }
  tap_diag("backend: %s", vc_backend_name());
  size_t ran = 0, skipped = 0;

  const char *internal[] = {"salsa20_8_core", "scrypt_block_mix", "scrypt_ro_mix"};
  for (size_t i = 0; i < 3; i++) {
    if (vj_get(root, internal[i])) {
      tap_skip("%s: internal to the backend's scrypt, no provider API", internal[i]);
      skipped++;
    }
  }

  const vj_t *pb = vj_get(vj_get(root, "pbkdf2_hmac_sha256"), "vectors");
  for (size_t i = 0; i < vj_size(pb); i++) {
    const vj_t *v = vj_at(pb, i);
    int ok1, ok2;
    uint64_t c = vj_u64(v, "c", &ok1), dk = vj_u64(v, "dkLen", &ok2);
    const char *P = vj_str(v, "P"), *S = vj_str(v, "S");
    size_t wl = 0;
    uint8_t *want = vj_hex(v, "expected", &wl);
    uint8_t *got = malloc(dk + 1);
    int ok = ok1 && ok2 && P && S && want && got &&
             pbkdf2_sha256((const uint8_t *)P, strlen(P), (const uint8_t *)S, strlen(S), c, got,
                           dk) == 0 &&
             tap_bytes_eq("PBKDF2", got, dk, want, wl);
    tap_ok(ok, "§11 PBKDF2-HMAC-SHA256 (P=\"%s\", S=\"%s\", c=%llu) via vc_hmac", P ? P : "?",
           S ? S : "?", (unsigned long long)c);
    ran++;
    free(want);
    free(got);
  }

  const vj_t *sc = vj_get(vj_get(root, "scrypt"), "vectors");
  for (size_t i = 0; i < vj_size(sc); i++) {
    const vj_t *v = vj_at(sc, i);
    int o1, o2, o3, o4, o5;
    uint64_t test = vj_u64(v, "test", &o1), N = vj_u64(v, "N", &o2), r = vj_u64(v, "r", &o3);
    uint64_t p = vj_u64(v, "p", &o4), dk = vj_u64(v, "dkLen", &o5);
    const char *P = vj_str(v, "P"), *S = vj_str(v, "S");
    size_t wl = 0;
    uint8_t *want = vj_hex(v, "expected", &wl);
    uint8_t *got = malloc(dk + 1);
    int rc = VEIL_EINVAL;
    int ok = o1 && o2 && o3 && o4 && o5 && P && S && want && got && r <= UINT32_MAX &&
             p <= UINT32_MAX;
    if (ok) {
      rc = vc_scrypt((const uint8_t *)P, strlen(P), (const uint8_t *)S, strlen(S), N,
                     (uint32_t)r, (uint32_t)p, got, dk);
      if (rc) tap_diag("vc_scrypt: %s", veil_strerror(rc));
      ok = rc == 0 && tap_bytes_eq("scrypt", got, dk, want, wl);
    }
    tap_ok(ok, "§12 scrypt test %llu (N=%llu, r=%llu, p=%llu, dkLen=%llu)",
           (unsigned long long)test, (unsigned long long)N, (unsigned long long)r,
           (unsigned long long)p, (unsigned long long)dk);
    ran++;
    free(want);
    free(got);
  }
  tap_diag("%s: %zu vectors ran, %zu skipped (Salsa20/8, BlockMix, ROMix internals)", REL, ran,
           skipped);
  tap_ok(ran == vj_size(pb) + vj_size(sc) && vj_size(sc) > 0, "every PBKDF2 and scrypt vector ran");
  vj_free(root);
  return tap_done();
}
