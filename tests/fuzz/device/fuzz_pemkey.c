/* Fuzz target: PEM private keys (clients/lib/identity/pemkey.h) — the DER walk over
 * PKCS #8 / SEC1 that room devices run on the key inside a certificate bundle. The first
 * input byte picks raw DER (wrapped in PEM armour here) or PEM text as given. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/identity/pemkey.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vc_sig_t type;
  uint8_t priv[VC_SIG_PRIV_MAX];
  if (size == 0)
    return 0;
  if (data[0] & 1) {
    pemkey_decode((const char *)data + 1, size - 1, &type, priv);
    return 0;
  }
  /* Armour the bytes so the DER parser sees them directly. */
  static const char head[] = "-----BEGIN PRIVATE KEY-----\n", tail[] = "\n-----END PRIVATE KEY-----\n";
  size_t n = size - 1, out_len = (n + 2) / 3 * 4;
  char *pem = malloc(sizeof head + out_len + sizeof tail);
  if (!pem)
    return 0;
  char *p = pem;
  memcpy(p, head, sizeof head - 1);
  p += sizeof head - 1;
  const uint8_t *in = data + 1;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    *p++ = b64[v >> 18];
    *p++ = b64[(v >> 12) & 63];
    *p++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
    *p++ = i + 2 < n ? b64[v & 63] : '=';
  }
  memcpy(p, tail, sizeof tail - 1);
  p += sizeof tail - 1;
  if (pemkey_decode(pem, (size_t)(p - pem), &type, priv) == 0)
    vc_wipe(priv, sizeof priv);
  free(pem);
  return 0;
}
