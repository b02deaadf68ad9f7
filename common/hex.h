/* veil — hex and base64url (RFC 4648 §5, no padding) codecs over caller buffers. */
#ifndef VEIL_COMMON_HEX_H
#define VEIL_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len lowercase hex digits and a NUL to out (size >= 2*len+1). */
void veil_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly `hexlen` hex digits (even, upper or lower case) into out (cap bytes).
 * Returns the number of bytes written, or a negative VEIL_E* code. */
long veil_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap);

/* Length of the unpadded base64url encoding of `len` bytes (without the NUL). */
size_t veil_b64url_encoded_len(size_t len);
/* Writes the unpadded base64url encoding and a NUL (out size >= encoded_len + 1). */
void veil_b64url_encode(const uint8_t *in, size_t len, char *out);
/* Strict decoding: alphabet [A-Za-z0-9_-] only, no padding, no whitespace, and the unused
 * low bits of the last character must be zero (one text per byte string). Returns bytes
 * written or a negative VEIL_E* code (VEIL_EDECODE, VEIL_EOVERFLOW). */
long veil_b64url_decode(const char *in, size_t inlen, uint8_t *out, size_t cap);

/* Standard-alphabet base64 (RFC 4648 §4) as PEM bodies carry it: whitespace and line breaks
 * are skipped, '=' padding is allowed only at the end. Returns bytes written or a negative
 * VEIL_E* code. */
long veil_b64_decode_pem(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
