/* sfu/srtp_gcm — see srtp_gcm.h. */
#include "sfu/srtp_gcm.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <srtp2/cipher.h>
#include <srtp2/srtp.h>

#include "common/err.h"

#define KEY_LEN 16  /* AES-128 */
#define SALT_LEN 12 /* RFC 7714 §12: the salt is consumed by libsrtp's IV computation */
#define IV_LEN 12

typedef struct gcm_state {
  EVP_CIPHER_CTX *ctx; /* owned */
  int tag_len;         /* 16 (or 8 for the _8_auth policies) */
  int encrypt;         /* direction of the current packet */
} gcm_state_t;

static const srtp_cipher_type_t gcm_type;

static srtp_err_status_t gcm_alloc(srtp_cipher_t **c, int key_len, int tag_len) {
  *c = NULL;
  if (key_len != KEY_LEN + SALT_LEN || (tag_len != 16 && tag_len != 8))
    return srtp_err_status_bad_param;
  srtp_cipher_t *cp = calloc(1, sizeof *cp);
  gcm_state_t *st = calloc(1, sizeof *st);
  if (!cp || !st || !(st->ctx = EVP_CIPHER_CTX_new())) {
    free(cp);
    free(st);
    return srtp_err_status_alloc_fail;
  }
  st->tag_len = tag_len;
  cp->type = &gcm_type;
  cp->state = st;
  cp->key_len = key_len;
  cp->algorithm = SRTP_AES_GCM_128;
  *c = cp;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_dealloc(srtp_cipher_t *c) {
  gcm_state_t *st = c->state;
  EVP_CIPHER_CTX_free(st->ctx); /* wipes the key schedule */
  OPENSSL_cleanse(st, sizeof *st);
  free(st);
  free(c);
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_init(void *state, const uint8_t *key) {
  gcm_state_t *st = state;
  /* Only the 16 key bytes: libsrtp mixes the salt into the IV itself (RFC 7714 §8.1). */
  if (EVP_CipherInit_ex(st->ctx, EVP_aes_128_gcm(), NULL, NULL, NULL, 1) != 1 ||
      EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
      EVP_CipherInit_ex(st->ctx, NULL, NULL, key, NULL, -1) != 1)
    return srtp_err_status_init_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir) {
  gcm_state_t *st = state;
  if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
    return srtp_err_status_bad_param;
  st->encrypt = dir == srtp_direction_encrypt;
  /* A new IV restarts GCM without a new key schedule. */
  if (EVP_CipherInit_ex(st->ctx, NULL, NULL, NULL, iv, st->encrypt) != 1)
    return srtp_err_status_init_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad, uint32_t len) {
  gcm_state_t *st = state;
  int outl = 0;
  if (len > 0x7fffffff || EVP_CipherUpdate(st->ctx, NULL, &outl, aad, (int)len) != 1)
    return srtp_err_status_algo_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf, unsigned int *len) {
  gcm_state_t *st = state;
  int outl = 0;
  if (!st->encrypt || *len > 0x7fffffff) return srtp_err_status_bad_param;
  if (*len && EVP_CipherUpdate(st->ctx, buf, &outl, buf, (int)*len) != 1)
    return srtp_err_status_algo_fail;
  return srtp_err_status_ok;
}

static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len) {
  gcm_state_t *st = state;
  uint8_t none[16];
  int outl = 0;
  if (!st->encrypt) return srtp_err_status_bad_param;
  if (EVP_CipherFinal_ex(st->ctx, none, &outl) != 1 ||
      EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_GCM_GET_TAG, st->tag_len, tag) != 1)
    return srtp_err_status_algo_fail;
  *len = (uint32_t)st->tag_len;
  return srtp_err_status_ok;
}

/* In place over ciphertext||tag; on success *len loses the tag. The plaintext written
 * before the tag check fails is garbage the caller discards with the error. */
static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf, unsigned int *len) {
  gcm_state_t *st = state;
  int outl = 0;
  uint8_t none[16];
  if (st->encrypt || *len < (unsigned)st->tag_len || *len > 0x7fffffff)
    return srtp_err_status_bad_param;
  unsigned int ct_len = *len - (unsigned)st->tag_len;
  if (EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_GCM_SET_TAG, st->tag_len, buf + ct_len) != 1)
    return srtp_err_status_algo_fail;
  if (ct_len && EVP_CipherUpdate(st->ctx, buf, &outl, buf, (int)ct_len) != 1)
    return srtp_err_status_algo_fail;
  if (EVP_CipherFinal_ex(st->ctx, none, &outl) != 1) return srtp_err_status_auth_fail;
  *len = ct_len;
  return srtp_err_status_ok;
}

/* libsrtp's loader insists on at least one known-answer case before it accepts a cipher
 * type. The case is computed at install time with OpenSSL's one-shot GCM, so it checks
 * this adapter's plumbing (IV restart, AAD, in-place update, tag handling) against the
 * plain EVP call sequence; the RFC 7714 known answers for the whole SRTP path are in
 * tests/vectors/sfu/vectors_srtp.c, which runs through this adapter. */
static uint8_t tc_key[KEY_LEN + SALT_LEN], tc_iv[IV_LEN], tc_aad[20], tc_pt[60], tc_ct[60 + 16];
static srtp_cipher_test_case_t tc = {
    .key_length_octets = KEY_LEN + SALT_LEN,
    .key = tc_key,
    .idx = tc_iv,
    .plaintext_length_octets = sizeof tc_pt,
    .plaintext = tc_pt,
    .ciphertext_length_octets = sizeof tc_ct,
    .ciphertext = tc_ct,
    .aad_length_octets = sizeof tc_aad,
    .aad = tc_aad,
    .tag_length_octets = 16,
    .next_test_case = NULL,
};

static const srtp_cipher_type_t gcm_type = {
    .alloc = gcm_alloc,
    .dealloc = gcm_dealloc,
    .init = gcm_init,
    .set_aad = gcm_set_aad,
    .encrypt = gcm_encrypt,
    .decrypt = gcm_decrypt,
    .set_iv = gcm_set_iv,
    .get_tag = gcm_get_tag,
    .description = "veil AES-128-GCM on OpenSSL EVP",
    .test_data = &tc,
    .id = SRTP_AES_GCM_128,
};

static int make_test_case(void) {
  for (size_t i = 0; i < sizeof tc_key; i++) tc_key[i] = (uint8_t)(0x40 + i);
  for (size_t i = 0; i < sizeof tc_iv; i++) tc_iv[i] = (uint8_t)(0xc0 ^ i);
  for (size_t i = 0; i < sizeof tc_aad; i++) tc_aad[i] = (uint8_t)(3 * i);
  for (size_t i = 0; i < sizeof tc_pt; i++) tc_pt[i] = (uint8_t)(7 * i + 1);
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int l = 0, ok = c != NULL;
  ok = ok && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, tc_key, tc_iv) == 1;
  ok = ok && EVP_EncryptUpdate(c, NULL, &l, tc_aad, sizeof tc_aad) == 1;
  ok = ok && EVP_EncryptUpdate(c, tc_ct, &l, tc_pt, sizeof tc_pt) == 1;
  ok = ok && EVP_EncryptFinal_ex(c, tc_ct + sizeof tc_pt, &l) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tc_ct + sizeof tc_pt) == 1;
  EVP_CIPHER_CTX_free(c);
  return ok ? 0 : VEIL_ESFU_SRTP;
}

int sfu_srtp_gcm_install(void) {
  if (make_test_case()) return VEIL_ESFU_SRTP;
  return srtp_replace_cipher_type(&gcm_type, SRTP_AES_GCM_128) == srtp_err_status_ok
             ? 0
             : VEIL_ESFU_SRTP;
}
