/*
 * veil — JWE compact serialization (RFC 7516 §7.1) for direct AES-GCM encryption
 * (`alg: dir`, `enc: A128GCM | A256GCM`), and the room-device profile of it: the key is
 * scrypt(secret, salt, N=32768, r=8, p=1) and the salt travels in the protected header as
 * `"cisco-kdf": {"salt": <base64url>, "version": "1"}` (DESIGN.md, "Identity").
 *
 * Parsing is strict, since blobs come from outside: five segments, empty encrypted key,
 * canonical unpadded base64url, a protected header that is a JSON object without duplicate
 * or unknown members, alg exactly "dir", enc one of the two, a 12-byte IV, a 16-byte tag,
 * a salt of at least 4 bytes and kdf version "1". Every failure is a distinct error and
 * decryption writes nothing the caller can mistake for plaintext.
 *
 * The AAD is the ASCII of the encoded protected header (RFC 7516 §5.1 step 14).
 */
#ifndef VEIL_CLIENTS_JWE_H
#define VEIL_CLIENTS_JWE_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"

#define JWE_MAX_COMPACT (256 * 1024) /* a PEM certificate chain + key fits many times */
#define JWE_IV_LEN 12
#define JWE_TAG_LEN 16
#define JWE_SALT_MIN 4
#define JWE_SALT_MAX 64
#define JWE_ACTION_MAX 32
#define JWE_KID_MAX 128

/* scrypt parameters of the device profile. */
#define JWE_SCRYPT_N 32768
#define JWE_SCRYPT_R 8
#define JWE_SCRYPT_P 1

typedef enum jwe_enc {
  JWE_A128GCM = 16, /* value = key length */
  JWE_A256GCM = 32,
} jwe_enc_t;

/* A parsed blob: views into the caller's compact string, decoded fields copied. */
typedef struct jwe_parsed {
  jwe_enc_t enc;
  char action[JWE_ACTION_MAX + 1]; /* "cisco-action", "" when absent */
  char kid[JWE_KID_MAX + 1];       /* "kid", "" when absent */
  int has_kdf;                     /* 1 when "cisco-kdf" is present (device profile) */
  uint8_t salt[JWE_SALT_MAX];
  size_t salt_len;
  uint8_t iv[JWE_IV_LEN];
  uint8_t tag[JWE_TAG_LEN];
  veil_view_t header_b64; /* the AAD: the encoded protected header as sent */
  veil_view_t ciphertext_b64;
  size_t ciphertext_len; /* decoded length */
} jwe_parsed_t;

/* Parses and validates a compact blob (no key needed). */
int jwe_parse(const char *compact, size_t len, jwe_parsed_t *out);
/* Decrypts a parsed blob with a key of the enc's length. *pt receives a malloc'd buffer
 * (free with jwe_free_plaintext, which wipes it) and *pt_len its length; on failure
 * nothing is allocated and VEIL_EAUTH tells a wrong key or tampered blob. */
int jwe_decrypt(const jwe_parsed_t *p, const uint8_t *key, size_t key_len, uint8_t **pt,
                size_t *pt_len);
void jwe_free_plaintext(uint8_t *pt, size_t len);

/* The device profile's key: scrypt(secret, salt, 32768, 8, 1, key_len). */
int jwe_derive_key(const uint8_t *secret, size_t secret_len, const uint8_t *salt,
                   size_t salt_len, jwe_enc_t enc, uint8_t *key);

/* Encrypts in the device profile: header {"alg":"dir","cisco-action":<action>,
 * "cisco-kdf":{"salt":<salt>,"version":"1"},"enc":<enc>} with members in that order and no
 * whitespace (the vendor format). `iv` NULL draws a random one (it is only for known-answer
 * tests). `action` is [a-z0-9-]{1,32}. *compact receives a malloc'd NUL-terminated string. */
int jwe_encrypt_device(const uint8_t *key, jwe_enc_t enc, const char *action,
                       const uint8_t *salt, size_t salt_len, const uint8_t *iv,
                       const uint8_t *pt, size_t pt_len, char **compact);

/* Convenience: derive the key from the secret and the blob's own salt, then decrypt. Fails
 * with VEIL_EJWE_KDF when the blob has no cisco-kdf member. */
int jwe_decrypt_with_secret(const jwe_parsed_t *p, const uint8_t *secret, size_t secret_len,
                            uint8_t **pt, size_t *pt_len);

#endif
