/*
 * Fuzz target: join-token verification (sig_jwt_verify). Random bytes almost never carry
 * a valid signature, so the claims parser would stay out of reach; this target therefore
 * takes "header-json NUL payload-json" (or raw bytes without a NUL, used as the token
 * itself), base64url-encodes both parts and signs them with the HS256 test key, so that
 * arbitrary headers and payloads reach every check behind the signature. Whatever the
 * input, verification must not crash, and a token it accepts must carry claims within
 * their documented bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/hex.h"
#include "signaling/sig_jwt.h"

static sig_jwt_key_t *key;
static const uint8_t secret[32] = "veil-fuzz-secret-0123456789abcde";

static void check(const char *tok, size_t n) {
  sig_claims_t c;
  if (sig_jwt_verify(key, tok, n, NULL, 1700000000, 30, &c) == 0) {
    if (!c.room[0] || !c.sub[0] || !c.name[0] || c.exp <= 0 || c.iat <= 0)
      abort();
    if (c.role != SIG_ROLE_HOST && c.role != SIG_ROLE_MEMBER && c.role != SIG_ROLE_DEVICE)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!key) {
    char text[64];
    veil_b64url_encode(secret, sizeof secret, text);
    if (sig_jwt_key_from_text(SIG_JWT_HS256, text, strlen(text), &key))
      abort();
  }
  if (size > 6000)
    return 0;
  const uint8_t *nul = memchr(data, 0, size);
  if (!nul) {
    check((const char *)data, size);
    return 0;
  }
  size_t hl = (size_t)(nul - data), pl = size - hl - 1;
  char *tok = malloc(2 * size + 64);
  veil_b64url_encode(data, hl, tok);
  size_t n = strlen(tok);
  tok[n++] = '.';
  veil_b64url_encode(nul + 1, pl, tok + n);
  n = strlen(tok);
  uint8_t mac[32];
  unsigned int ml = 32;
  HMAC(EVP_sha256(), secret, sizeof secret, (const uint8_t *)tok, n, mac, &ml);
  tok[n++] = '.';
  veil_b64url_encode(mac, 32, tok + n);
  check(tok, strlen(tok));
  free(tok);
  return 0;
}
