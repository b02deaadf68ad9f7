/* veil — JWE compact serialization, direct AES-GCM, device profile. Contract in jwe.h. */
#include "clients/lib/jwe/jwe.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "common/hex.h"

/* Decodes one base64url segment into a fixed buffer of exactly `want` bytes. */
static int decode_exact(veil_view_t seg, uint8_t *out, size_t want, int short_err) {
  uint8_t tmp[64];
  if (veil_b64url_encoded_len(want) != seg.len)
    return short_err;
  long n = veil_b64url_decode((const char *)seg.ptr, seg.len, tmp, sizeof tmp);
  if (n < 0)
    return VEIL_EJWE_BASE64;
  if ((size_t)n != want)
    return short_err;
  memcpy(out, tmp, want);
  return 0;
}

/* Copies a JSON string member into buf (cap includes the NUL); error if too long. */
static int copy_string(json_t *v, char *buf, size_t cap) {
  if (!json_is_string(v))
    return VEIL_EJWE_HEADER;
  size_t n = json_string_length(v);
  const char *s = json_string_value(v);
  if (n >= cap || memchr(s, '\0', n))
    return VEIL_EJWE_HEADER;
  memcpy(buf, s, n + 1);
  return 0;
}

static int parse_kdf(json_t *kdf, jwe_parsed_t *out) {
  if (!json_is_object(kdf) || json_object_size(kdf) != 2)
    return VEIL_EJWE_KDF;
  json_t *salt = json_object_get(kdf, "salt"), *version = json_object_get(kdf, "version");
  if (!json_is_string(salt) || !json_is_string(version) ||
      strcmp(json_string_value(version), "1") != 0)
    return VEIL_EJWE_KDF;
  long n = veil_b64url_decode(json_string_value(salt), json_string_length(salt), out->salt,
                              sizeof out->salt);
  if (n == VEIL_EOVERFLOW)
    return VEIL_EJWE_KDF;
  if (n < 0)
    return VEIL_EJWE_BASE64;
  if (n < JWE_SALT_MIN)
    return VEIL_EJWE_KDF;
  out->salt_len = (size_t)n;
  out->has_kdf = 1;
  return 0;
}

static int parse_header(veil_view_t seg, jwe_parsed_t *out) {
  /* The header is small; bound it before decoding. */
  if (seg.len > 4096)
    return VEIL_EJWE_HEADER;
  uint8_t json_text[3072];
  long n = veil_b64url_decode((const char *)seg.ptr, seg.len, json_text, sizeof json_text);
  if (n < 0)
    return VEIL_EJWE_BASE64;
  json_error_t jerr;
  json_t *h = json_loadb((const char *)json_text, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
  int rc = VEIL_EJWE_HEADER;
  if (!h || !json_is_object(h))
    goto done;
  const char *key;
  json_t *v;
  int have_alg = 0, have_enc = 0;
  json_object_foreach(h, key, v) {
    if (strcmp(key, "alg") == 0) {
      if (!json_is_string(v) || strcmp(json_string_value(v), "dir") != 0) {
        rc = VEIL_EJWE_ALG;
        goto done;
      }
      have_alg = 1;
    } else if (strcmp(key, "enc") == 0) {
      const char *e = json_is_string(v) ? json_string_value(v) : "";
      if (strcmp(e, "A128GCM") == 0)
        out->enc = JWE_A128GCM;
      else if (strcmp(e, "A256GCM") == 0)
        out->enc = JWE_A256GCM;
      else {
        rc = VEIL_EJWE_ENC;
        goto done;
      }
      have_enc = 1;
    } else if (strcmp(key, "cisco-action") == 0) {
      if (copy_string(v, out->action, sizeof out->action))
        goto done;
    } else if (strcmp(key, "kid") == 0) {
      if (copy_string(v, out->kid, sizeof out->kid))
        goto done;
    } else if (strcmp(key, "cisco-kdf") == 0) {
      if ((rc = parse_kdf(v, out)) != 0)
        goto done;
      rc = VEIL_EJWE_HEADER;
    } else {
      /* Unknown members (including "crit" and "zip") are refused: this profile has none. */
      goto done;
    }
  }
  if (!have_alg) {
    rc = VEIL_EJWE_ALG;
    goto done;
  }
  if (!have_enc) {
    rc = VEIL_EJWE_ENC;
    goto done;
  }
  rc = 0;
done:
  json_decref(h);
  return rc;
}

int jwe_parse(const char *compact, size_t len, jwe_parsed_t *out) {
  memset(out, 0, sizeof *out);
  if (len > JWE_MAX_COMPACT)
    return VEIL_EJWE_SIZE;
  veil_view_t seg[5];
  size_t start = 0, k = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || compact[i] == '.') {
      if (k == 5)
        return VEIL_EJWE_FORMAT;
      seg[k].ptr = (const uint8_t *)compact + start;
      seg[k].len = i - start;
      k++;
      start = i + 1;
    }
  }
  if (k != 5 || seg[1].len != 0 || seg[0].len == 0)
    return VEIL_EJWE_FORMAT;
  int rc = parse_header(seg[0], out);
  if (rc)
    goto fail;
  if ((rc = decode_exact(seg[2], out->iv, JWE_IV_LEN, VEIL_EJWE_IV)) != 0)
    goto fail;
  if ((rc = decode_exact(seg[4], out->tag, JWE_TAG_LEN, VEIL_EJWE_TAG)) != 0)
    goto fail;
  /* Validate the ciphertext's encoding now so decryption cannot fail on format. */
  if (seg[3].len % 4 == 1) {
    rc = VEIL_EJWE_BASE64;
    goto fail;
  }
  out->ciphertext_len = seg[3].len / 4 * 3 + (seg[3].len % 4 ? seg[3].len % 4 - 1 : 0);
  uint8_t probe[3];
  for (size_t i = 0; i < seg[3].len; i += 4) {
    size_t n = seg[3].len - i < 4 ? seg[3].len - i : 4;
    if (veil_b64url_decode((const char *)seg[3].ptr + i, n, probe, sizeof probe) < 0) {
      rc = VEIL_EJWE_BASE64;
      goto fail;
    }
  }
  out->header_b64 = seg[0];
  out->ciphertext_b64 = seg[3];
  return 0;
fail:
  vc_wipe(out, sizeof *out);
  return rc;
}

int jwe_decrypt(const jwe_parsed_t *p, const uint8_t *key, size_t key_len, uint8_t **pt,
                size_t *pt_len) {
  *pt = NULL;
  *pt_len = 0;
  if (key_len != (size_t)p->enc)
    return VEIL_EBADKEY;
  size_t ct_len = p->ciphertext_len;
  /* ciphertext || tag, as the provider's AEAD expects */
  uint8_t *ct = malloc(ct_len + JWE_TAG_LEN);
  uint8_t *out = malloc(ct_len ? ct_len : 1);
  int rc = VEIL_ENOMEM;
  if (!ct || !out)
    goto fail;
  if (veil_b64url_decode((const char *)p->ciphertext_b64.ptr, p->ciphertext_b64.len, ct,
                         ct_len) != (long)ct_len) {
    rc = VEIL_EJWE_BASE64;
    goto fail;
  }
  memcpy(ct + ct_len, p->tag, JWE_TAG_LEN);
  vc_aead_t a = p->enc == JWE_A128GCM ? VC_AES_128_GCM : VC_AES_256_GCM;
  rc = vc_aead_open(a, key, p->iv, p->header_b64.ptr, p->header_b64.len, ct,
                    ct_len + JWE_TAG_LEN, out);
  if (rc)
    goto fail;
  free(ct);
  *pt = out;
  *pt_len = ct_len;
  return 0;
fail:
  free(ct);
  if (out) {
    vc_wipe(out, ct_len);
    free(out);
  }
  return rc;
}

void jwe_free_plaintext(uint8_t *pt, size_t len) {
  if (!pt)
    return;
  vc_wipe(pt, len);
  free(pt);
}

int jwe_derive_key(const uint8_t *secret, size_t secret_len, const uint8_t *salt,
                   size_t salt_len, jwe_enc_t enc, uint8_t *key) {
  if (salt_len < JWE_SALT_MIN || (enc != JWE_A128GCM && enc != JWE_A256GCM))
    return VEIL_EINVAL;
  return vc_scrypt(secret, secret_len, salt, salt_len, JWE_SCRYPT_N, JWE_SCRYPT_R,
                   JWE_SCRYPT_P, key, (size_t)enc);
}

int jwe_decrypt_with_secret(const jwe_parsed_t *p, const uint8_t *secret, size_t secret_len,
                            uint8_t **pt, size_t *pt_len) {
  uint8_t key[32];
  if (!p->has_kdf)
    return VEIL_EJWE_KDF;
  int rc = jwe_derive_key(secret, secret_len, p->salt, p->salt_len, p->enc, key);
  if (rc == 0)
    rc = jwe_decrypt(p, key, (size_t)p->enc, pt, pt_len);
  vc_wipe(key, sizeof key);
  return rc;
}

static int valid_action(const char *a) {
  size_t n = strlen(a);
  if (n == 0 || n > JWE_ACTION_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9') || a[i] == '-'))
      return 0;
  return 1;
}

int jwe_encrypt_device(const uint8_t *key, jwe_enc_t enc, const char *action,
                       const uint8_t *salt, size_t salt_len, const uint8_t *iv,
                       const uint8_t *pt, size_t pt_len, char **compact) {
  *compact = NULL;
  if ((enc != JWE_A128GCM && enc != JWE_A256GCM) || !valid_action(action) ||
      salt_len < JWE_SALT_MIN || salt_len > JWE_SALT_MAX || pt_len > JWE_MAX_COMPACT / 2)
    return VEIL_EINVAL;
  char salt_b64[JWE_SALT_MAX * 2];
  veil_b64url_encode(salt, salt_len, salt_b64);
  char header[256];
  int hn = snprintf(header, sizeof header,
                    "{\"alg\":\"dir\",\"cisco-action\":\"%s\",\"cisco-kdf\":{\"salt\":\"%s\","
                    "\"version\":\"1\"},\"enc\":\"%s\"}",
                    action, salt_b64, enc == JWE_A128GCM ? "A128GCM" : "A256GCM");
  if (hn < 0 || (size_t)hn >= sizeof header)
    return VEIL_EINVAL;
  uint8_t ivbuf[JWE_IV_LEN];
  int rc;
  if (iv)
    memcpy(ivbuf, iv, JWE_IV_LEN);
  else if ((rc = vc_random(ivbuf, JWE_IV_LEN)) != 0)
    return rc;

  size_t h64 = veil_b64url_encoded_len((size_t)hn), iv64 = veil_b64url_encoded_len(JWE_IV_LEN);
  size_t ct64 = veil_b64url_encoded_len(pt_len), tag64 = veil_b64url_encoded_len(JWE_TAG_LEN);
  size_t total = h64 + 2 + iv64 + 1 + ct64 + 1 + tag64;
  char *out = malloc(total + 1);
  uint8_t *ct = malloc(pt_len + JWE_TAG_LEN);
  rc = VEIL_ENOMEM;
  if (!out || !ct)
    goto fail;
  veil_b64url_encode((const uint8_t *)header, (size_t)hn, out);
  vc_aead_t a = enc == JWE_A128GCM ? VC_AES_128_GCM : VC_AES_256_GCM;
  rc = vc_aead_seal(a, key, ivbuf, (const uint8_t *)out, h64, pt, pt_len, ct);
  if (rc)
    goto fail;
  char *p = out + h64;
  *p++ = '.';
  *p++ = '.';
  veil_b64url_encode(ivbuf, JWE_IV_LEN, p);
  p += iv64;
  *p++ = '.';
  veil_b64url_encode(ct, pt_len, p);
  p += ct64;
  *p++ = '.';
  veil_b64url_encode(ct + pt_len, JWE_TAG_LEN, p);
  free(ct);
  *compact = out;
  return 0;
fail:
  free(out);
  free(ct);
  return rc;
}
