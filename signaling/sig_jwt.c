/* veil — join tokens (JWT, ES256/HS256) on OpenSSL. Contract in sig_jwt.h. */
#include "signaling/sig_jwt.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/hex.h"
#include "signaling/sig_text.h"

#define HS_MIN_SECRET 32
#define HS_MAX_SECRET 128
#define MAX_HEADER_JSON 512
#define MAX_PAYLOAD_JSON 2048
#define ES256_SIG_LEN 64 /* R || S, 32 bytes each (RFC 7518 §3.4) */
#define KEY_FILE_MAX 8192

struct sig_jwt_key {
  sig_jwt_alg_t alg;
  uint8_t secret[HS_MAX_SECRET]; /* HS256; wiped on free */
  size_t secret_len;
  EVP_PKEY *pkey; /* ES256; owned */
  bool can_sign;
};

static const char *alg_name(sig_jwt_alg_t alg) { return alg == SIG_JWT_ES256 ? "ES256" : "HS256"; }

sig_jwt_alg_t sig_jwt_key_alg(const sig_jwt_key_t *key) { return key->alg; }

void sig_jwt_key_free(sig_jwt_key_t *key) {
  if (!key)
    return;
  EVP_PKEY_free(key->pkey);
  OPENSSL_cleanse(key, sizeof *key);
  free(key);
}

int sig_jwt_key_generate(sig_jwt_alg_t alg, sig_jwt_key_t **out) {
  sig_jwt_key_t *k = calloc(1, sizeof *k);
  if (!k)
    return VEIL_ENOMEM;
  k->alg = alg;
  k->can_sign = true;
  if (alg == SIG_JWT_HS256) {
    k->secret_len = HS_MIN_SECRET;
    if (RAND_bytes(k->secret, (int)k->secret_len) != 1)
      goto fail;
  } else if (alg == SIG_JWT_ES256) {
    k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!k->pkey)
      goto fail;
  } else {
    goto fail;
  }
  *out = k;
  return 0;
fail:
  sig_jwt_key_free(k);
  return VEIL_EINVAL;
}

/* ES256 keys must be P-256: a P-384 key would silently produce ES384-sized signatures. */
static bool is_p256(EVP_PKEY *pkey) {
  char group[32];
  size_t glen = 0;
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
    return false;
  if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen))
    return false;
  return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

int sig_jwt_key_from_text(sig_jwt_alg_t alg, const char *text, size_t len, sig_jwt_key_t **out) {
  if (len > KEY_FILE_MAX)
    return VEIL_ELIMIT;
  sig_jwt_key_t *k = calloc(1, sizeof *k);
  if (!k)
    return VEIL_ENOMEM;
  k->alg = alg;
  if (alg == SIG_JWT_HS256) {
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
      len--;
    long n = veil_b64url_decode(text, len, k->secret, sizeof k->secret);
    if (n < HS_MIN_SECRET)
      goto fail;
    k->secret_len = (size_t)n;
    k->can_sign = true;
  } else if (alg == SIG_JWT_ES256) {
    BIO *bio = BIO_new_mem_buf(text, (int)len);
    if (!bio)
      goto fail;
    k->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    k->can_sign = k->pkey != NULL;
    if (!k->pkey) {
      (void)BIO_reset(bio);
      k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }
    BIO_free(bio);
    if (!k->pkey || !is_p256(k->pkey))
      goto fail;
  } else {
    goto fail;
  }
  *out = k;
  return 0;
fail:
  sig_jwt_key_free(k);
  return VEIL_EINVAL;
}

int sig_jwt_key_load(sig_jwt_alg_t alg, const char *path, sig_jwt_key_t **out) {
  char buf[KEY_FILE_MAX + 1];
  FILE *f = fopen(path, "rb");
  if (!f)
    return -errno;
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  int rc = n > KEY_FILE_MAX ? VEIL_ELIMIT : sig_jwt_key_from_text(alg, buf, n, out);
  OPENSSL_cleanse(buf, sizeof buf);
  return rc;
}

int sig_jwt_key_save(const sig_jwt_key_t *key, const char *path) {
  if (!key->can_sign)
    return VEIL_EINVAL;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    close(fd);
    return -errno;
  }
  int ok;
  if (key->alg == SIG_JWT_HS256) {
    char text[HS_MAX_SECRET * 2];
    veil_b64url_encode(key->secret, key->secret_len, text);
    ok = fprintf(f, "%s\n", text) > 0;
    OPENSSL_cleanse(text, sizeof text);
  } else {
    ok = PEM_write_PrivateKey(f, key->pkey, NULL, NULL, 0, NULL, NULL) == 1;
  }
  if (fclose(f) != 0)
    ok = 0;
  return ok ? 0 : VEIL_EIO;
}

int sig_role_parse(const char *s, sig_role_t *out) {
  if (strcmp(s, "host") == 0)
    *out = SIG_ROLE_HOST;
  else if (strcmp(s, "member") == 0)
    *out = SIG_ROLE_MEMBER;
  else if (strcmp(s, "device") == 0)
    *out = SIG_ROLE_DEVICE;
  else
    return VEIL_EINVAL;
  return 0;
}

const char *sig_role_name(sig_role_t role) {
  switch (role) {
  case SIG_ROLE_HOST:
    return "host";
  case SIG_ROLE_MEMBER:
    return "member";
  case SIG_ROLE_DEVICE:
    return "device";
  }
  return "unknown";
}

/* ---- signature primitives over the JWS signing input (RFC 7515 §5.1) ---- */

static int hs256(const sig_jwt_key_t *key, const char *input, size_t len, uint8_t mac[32]) {
  unsigned int maclen = 0;
  if (!HMAC(EVP_sha256(), key->secret, (int)key->secret_len, (const uint8_t *)input, len, mac, &maclen) ||
      maclen != 32)
    return VEIL_EIO;
  return 0;
}

static int es256_sign(const sig_jwt_key_t *key, const char *input, size_t len, uint8_t sig[64]) {
  int rc = VEIL_EIO;
  uint8_t der[80];
  size_t derlen = sizeof der;
  ECDSA_SIG *es = NULL;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!md)
    return VEIL_ENOMEM;
  if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
      EVP_DigestSign(md, der, &derlen, (const uint8_t *)input, len) != 1)
    goto fail;
  const uint8_t *p = der;
  es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
  if (!es)
    goto fail;
  /* JWS wants fixed-width big-endian R || S, not DER (RFC 7518 §3.4). */
  if (BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) != 32 || BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) != 32)
    goto fail;
  rc = 0;
fail:
  ECDSA_SIG_free(es);
  EVP_MD_CTX_free(md);
  return rc;
}

static bool es256_verify(const sig_jwt_key_t *key, const char *input, size_t len, const uint8_t sig[64]) {
  bool ok = false;
  uint8_t *der = NULL;
  EVP_MD_CTX *md = NULL;
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
  if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    goto done;
  }
  int derlen = i2d_ECDSA_SIG(es, &der);
  md = EVP_MD_CTX_new();
  if (derlen <= 0 || !md || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) != 1)
    goto done;
  ok = EVP_DigestVerify(md, der, (size_t)derlen, (const uint8_t *)input, len) == 1;
done:
  OPENSSL_free(der);
  EVP_MD_CTX_free(md);
  ECDSA_SIG_free(es);
  return ok;
}

/* ---- signing ---- */

static char *b64_dup(const uint8_t *in, size_t len) {
  char *s = malloc(veil_b64url_encoded_len(len) + 1);
  if (s)
    veil_b64url_encode(in, len, s);
  return s;
}

int sig_jwt_sign(const sig_jwt_key_t *key, const sig_claims_t *c, char **out) {
  int rc = VEIL_ENOMEM;
  char *hdr_b64 = NULL, *pl_b64 = NULL, *pl = NULL, *input = NULL, *tok = NULL;
  json_t *claims = NULL;
  if (!key->can_sign)
    return VEIL_EINVAL;
  char hdr[64];
  snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg_name(key->alg));
  claims = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b,s:b}", "room", c->room, "sub", c->sub, "name", c->name,
                     "role", sig_role_name(c->role), "iat", (json_int_t)c->iat, "exp", (json_int_t)c->exp,
                     "can_publish", c->can_publish, "can_subscribe", c->can_subscribe);
  if (!claims)
    goto fail;
  if (c->nbf && json_object_set_new(claims, "nbf", json_integer(c->nbf)) != 0)
    goto fail;
  pl = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
  hdr_b64 = b64_dup((const uint8_t *)hdr, strlen(hdr));
  if (!pl || !hdr_b64 || !(pl_b64 = b64_dup((const uint8_t *)pl, strlen(pl))))
    goto fail;
  size_t ilen = strlen(hdr_b64) + 1 + strlen(pl_b64);
  if (!(input = malloc(ilen + 1)))
    goto fail;
  snprintf(input, ilen + 1, "%s.%s", hdr_b64, pl_b64);
  uint8_t sig[64];
  size_t siglen = key->alg == SIG_JWT_ES256 ? 64 : 32;
  rc = key->alg == SIG_JWT_ES256 ? es256_sign(key, input, ilen, sig) : hs256(key, input, ilen, sig);
  if (rc)
    goto fail;
  rc = VEIL_ENOMEM;
  size_t tlen = ilen + 1 + veil_b64url_encoded_len(siglen);
  if (!(tok = malloc(tlen + 1)))
    goto fail;
  memcpy(tok, input, ilen);
  tok[ilen] = '.';
  veil_b64url_encode(sig, siglen, tok + ilen + 1);
  *out = tok;
  tok = NULL;
  rc = 0;
fail:
  free(tok);
  free(input);
  free(pl_b64);
  free(hdr_b64);
  free(pl);
  json_decref(claims);
  return rc;
}

/* ---- verification ---- */

/* Decodes one base64url segment and parses it as a JSON object (duplicate keys refused:
 * two `alg` or two `exp` members could be read differently by different parsers). */
static json_t *decode_json_segment(const char *seg, size_t len, size_t max) {
  uint8_t buf[MAX_PAYLOAD_JSON];
  if (len == 0 || max > sizeof buf)
    return NULL;
  long n = veil_b64url_decode(seg, len, buf, max);
  if (n <= 0)
    return NULL;
  if (sig_json_depth_exceeds((const char *)buf, (size_t)n, 4))
    return NULL;
  json_t *j = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
  if (j && !json_is_object(j)) {
    json_decref(j);
    return NULL;
  }
  return j;
}

static int copy_claim_str(json_t *claims, const char *name, char *dst, size_t max, bool room_charset) {
  json_t *v = json_object_get(claims, name);
  if (!json_is_string(v))
    return VEIL_ESIG_TOKEN_CLAIMS;
  size_t len = json_string_length(v);
  const char *s = json_string_value(v);
  if (len == 0 || len > max || !sig_text_ok(s, len, room_charset))
    return VEIL_ESIG_TOKEN_CLAIMS;
  memcpy(dst, s, len);
  dst[len] = '\0';
  return 0;
}

static int claim_time(json_t *claims, const char *name, bool required, int64_t *out) {
  json_t *v = json_object_get(claims, name);
  if (!v) {
    *out = 0;
    return required ? VEIL_ESIG_TOKEN_CLAIMS : 0;
  }
  /* NumericDate (RFC 7519 §2); we accept integers only, in a sane range. */
  if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > INT64_C(1) << 40)
    return VEIL_ESIG_TOKEN_CLAIMS;
  *out = json_integer_value(v);
  return 0;
}

static int claim_bool(json_t *claims, const char *name, bool *out) {
  json_t *v = json_object_get(claims, name);
  if (!v) {
    *out = true;
    return 0;
  }
  if (!json_is_boolean(v))
    return VEIL_ESIG_TOKEN_CLAIMS;
  *out = json_is_true(v);
  return 0;
}

static int parse_claims(json_t *j, sig_claims_t *c) {
  int rc;
  json_t *role = json_object_get(j, "role");
  if ((rc = copy_claim_str(j, "room", c->room, SIG_ROOM_MAX, true)) ||
      (rc = copy_claim_str(j, "sub", c->sub, SIG_IDENTITY_MAX, false)) ||
      (rc = copy_claim_str(j, "name", c->name, SIG_NAME_MAX, false)) ||
      (rc = claim_time(j, "exp", true, &c->exp)) || (rc = claim_time(j, "iat", true, &c->iat)) ||
      (rc = claim_time(j, "nbf", false, &c->nbf)) || (rc = claim_bool(j, "can_publish", &c->can_publish)) ||
      (rc = claim_bool(j, "can_subscribe", &c->can_subscribe)))
    return rc;
  if (!json_is_string(role) || sig_role_parse(json_string_value(role), &c->role) != 0)
    return VEIL_ESIG_TOKEN_CLAIMS;
  return 0;
}

static int check_header(json_t *hdr, sig_jwt_alg_t alg) {
  json_t *a = json_object_get(hdr, "alg");
  if (!json_is_string(a) || strcmp(json_string_value(a), alg_name(alg)) != 0)
    return VEIL_ESIG_TOKEN_ALG;
  json_t *typ = json_object_get(hdr, "typ");
  if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0))
    return VEIL_ESIG_TOKEN_MALFORMED;
  /* We understand no JWS extensions, so any `crit` makes the token invalid (RFC 7515
   * §4.1.11); `jku`/`jwk`/`x5u` would let the token choose its own key: refused. */
  static const char *const refused[] = {"crit", "jku", "jwk", "x5u", "x5c", "b64"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    if (json_object_get(hdr, refused[i]))
      return VEIL_ESIG_TOKEN_MALFORMED;
  return 0;
}

int sig_jwt_verify(const sig_jwt_key_t *key, const char *token, size_t len, const char *room, int64_t now,
                   int64_t leeway, sig_claims_t *out) {
  int rc;
  json_t *hdr = NULL, *pl = NULL;
  if (len == 0 || len > SIG_JWT_MAX_TOKEN)
    return VEIL_ESIG_TOKEN_MALFORMED;
  const char *d1 = memchr(token, '.', len);
  const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
  if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
    return VEIL_ESIG_TOKEN_MALFORMED;
  size_t hlen = (size_t)(d1 - token), plen = (size_t)(d2 - d1 - 1), slen = len - (size_t)(d2 + 1 - token);
  hdr = decode_json_segment(token, hlen, MAX_HEADER_JSON);
  if (!hdr) {
    rc = VEIL_ESIG_TOKEN_MALFORMED;
    goto done;
  }
  /* The algorithm comes from our key; the header only has to agree with it. */
  if ((rc = check_header(hdr, key->alg)))
    goto done;
  uint8_t sig[ES256_SIG_LEN + 1];
  long n = veil_b64url_decode(d2 + 1, slen, sig, sizeof sig);
  size_t want = key->alg == SIG_JWT_ES256 ? ES256_SIG_LEN : 32;
  if (n < 0 || (size_t)n != want) {
    rc = VEIL_ESIG_TOKEN_SIG;
    goto done;
  }
  size_t ilen = (size_t)(d2 - token);
  if (key->alg == SIG_JWT_HS256) {
    uint8_t mac[32];
    if ((rc = hs256(key, token, ilen, mac)))
      goto done;
    bool eq = CRYPTO_memcmp(mac, sig, 32) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    if (!eq) {
      rc = VEIL_ESIG_TOKEN_SIG;
      goto done;
    }
  } else if (!es256_verify(key, token, ilen, sig)) {
    rc = VEIL_ESIG_TOKEN_SIG;
    goto done;
  }
  /* Only a payload whose signature verified is parsed. */
  pl = decode_json_segment(d1 + 1, plen, MAX_PAYLOAD_JSON);
  if (!pl) {
    rc = VEIL_ESIG_TOKEN_MALFORMED;
    goto done;
  }
  sig_claims_t c;
  memset(&c, 0, sizeof c);
  if ((rc = parse_claims(pl, &c)))
    goto done;
  if (now >= c.exp + leeway) {
    rc = VEIL_ESIG_TOKEN_EXPIRED;
    goto done;
  }
  if ((c.nbf && c.nbf > now + leeway) || c.iat > now + leeway) {
    rc = VEIL_ESIG_TOKEN_NOT_YET;
    goto done;
  }
  if (room && strcmp(room, c.room) != 0) {
    rc = VEIL_ESIG_TOKEN_ROOM;
    goto done;
  }
  *out = c;
  rc = 0;
done:
  json_decref(hdr);
  json_decref(pl);
  return rc;
}
