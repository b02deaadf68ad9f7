/* veil — hex and base64url codecs. Contract in hex.h. */
#include "common/hex.h"

#include "common/err.h"

void veil_hex_encode(const uint8_t *in, size_t len, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = '\0';
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

long veil_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap) {
  if (hexlen % 2)
    return VEIL_EDECODE;
  if (hexlen / 2 > cap)
    return VEIL_EOVERFLOW;
  for (size_t i = 0; i < hexlen / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return VEIL_EDECODE;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return (long)(hexlen / 2);
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t veil_b64url_encoded_len(size_t len) { return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0); }

void veil_b64url_encode(const uint8_t *in, size_t len, char *out) {
  size_t o = 0, i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = b64url[v >> 18];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
    out[o++] = b64url[v & 63];
  }
  if (len - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    out[o++] = b64url[v >> 18];
    out[o++] = b64url[(v >> 12) & 63];
  } else if (len - i == 2) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    out[o++] = b64url[v >> 18];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
  }
  out[o] = '\0';
}

/* Value of a base64 character in the URL-safe (RFC 4648 §5) or standard (§4) alphabet. */
static int b64val(char c, int url) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == (url ? '-' : '+'))
    return 62;
  if (c == (url ? '_' : '/'))
    return 63;
  return -1;
}

long veil_b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t cap) {
  if (inlen % 4 == 1)
    return VEIL_EDECODE;
  size_t outlen = inlen / 4 * 3 + (inlen % 4 ? inlen % 4 - 1 : 0);
  if (outlen > cap)
    return VEIL_EOVERFLOW;
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < inlen; i++) {
    int v = b64val(in[i], 1);
    if (v < 0)
      return VEIL_EDECODE;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
    }
  }
  /* Leftover bits must be zero: otherwise two texts would decode to the same bytes. */
  if (bits && (acc & ((1u << bits) - 1)))
    return VEIL_EDECODE;
  return (long)o;
}

long veil_b64_decode_pem(const char *in, size_t len, uint8_t *out, size_t cap) {
  uint32_t acc = 0;
  int bits = 0, pad = 0;
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    char c = in[i];
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
      continue;
    if (c == '=') {
      pad++;
      continue;
    }
    int v = b64val(c, 0);
    if (v < 0 || pad)
      return VEIL_EDECODE; /* data after padding, or outside the alphabet */
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == cap)
        return VEIL_EOVERFLOW;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  if (pad > 2 || bits >= 6)
    return VEIL_EDECODE;
  return (long)n;
}
