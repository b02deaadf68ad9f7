/* Fuzz target: JWE compact parsing and (with a fixed key) decryption. */
#include <stddef.h>
#include <stdint.h>

#include "clients/lib/jwe/jwe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t key[32] = {0x42};
  jwe_parsed_t p;
  if (jwe_parse((const char *)data, size, &p) != 0)
    return 0;
  uint8_t *pt = NULL;
  size_t n = 0;
  if (jwe_decrypt(&p, key, (size_t)p.enc, &pt, &n) == 0)
    jwe_free_plaintext(pt, n);
  return 0;
}
