/* Unit tests: join tokens (signaling/sig_jwt.c) — every refusal case of sig_jwt_verify. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/hex.h"
#include "signaling/sig_jwt.h"

#define NOW 1700000000LL

static sig_jwt_key_t *hs, *es;

static void setup(void) {
  cr_assert_eq(sig_jwt_key_generate(SIG_JWT_HS256, &hs), 0);
  cr_assert_eq(sig_jwt_key_generate(SIG_JWT_ES256, &es), 0);
}
static void teardown(void) {
  sig_jwt_key_free(hs);
  sig_jwt_key_free(es);
}
TestSuite(jwt, .init = setup, .fini = teardown);

static sig_claims_t claims(void) {
  sig_claims_t c;
  memset(&c, 0, sizeof c);
  strcpy(c.room, "room-1");
  strcpy(c.sub, "alice@example.org");
  strcpy(c.name, "Alice");
  c.role = SIG_ROLE_MEMBER;
  c.iat = NOW - 10;
  c.exp = NOW + 600;
  c.can_publish = true;
  c.can_subscribe = false;
  return c;
}

static int verify(const sig_jwt_key_t *k, const char *tok, const char *room, sig_claims_t *out) {
  return sig_jwt_verify(k, tok, strlen(tok), room, NOW, 0, out);
}

/* Builds header.payload.signature by hand, HS256-signing with `key` (NULL: signature "AAAA"). */
static char *craft(const char *header, const char *payload, const sig_jwt_key_t *key_for_secret,
                   const uint8_t *secret, size_t secret_len) {
  (void)key_for_secret;
  size_t hl = strlen(header), pl = strlen(payload);
  char *out = malloc(2 * (hl + pl) + 200);
  veil_b64url_encode((const uint8_t *)header, hl, out);
  size_t n = strlen(out);
  out[n++] = '.';
  veil_b64url_encode((const uint8_t *)payload, pl, out + n);
  n = strlen(out);
  uint8_t mac[32];
  unsigned int ml = 32;
  if (secret)
    HMAC(EVP_sha256(), secret, (int)secret_len, (const uint8_t *)out, n, mac, &ml);
  else
    memset(mac, 0x41, sizeof mac);
  out[n++] = '.';
  veil_b64url_encode(mac, 32, out + n);
  return out;
}

/* The HS256 test key's secret, read back through its saved file. */
static size_t hs_secret(uint8_t *buf) {
  char path[] = "/tmp/veil-jwt-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  cr_assert_eq(sig_jwt_key_save(hs, path), 0);
  char text[256] = {0};
  FILE *f = fopen(path, "r");
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  unlink(path);
  while (n && text[n - 1] == '\n')
    n--;
  long m = veil_b64url_decode(text, n, buf, 128);
  cr_assert(m >= 32);
  return (size_t)m;
}

static char *payload_json(const char *extra_kv, const char *drop) {
  json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "room", "room-1", "sub", "alice@example.org", "name", "Alice",
                        "role", "member", "iat", (json_int_t)(NOW - 10), "exp", (json_int_t)(NOW + 600));
  if (drop)
    json_object_del(o, drop);
  char *s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (extra_kv) {
    char *t = malloc(strlen(s) + strlen(extra_kv) + 2);
    sprintf(t, "%.*s,%s}", (int)strlen(s) - 1, s, extra_kv);
    free(s);
    s = t;
  }
  return s;
}

static int verify_crafted_hs(const char *header, const char *payload) {
  uint8_t secret[128];
  size_t sl = hs_secret(secret);
  char *tok = craft(header, payload, hs, secret, sl);
  sig_claims_t c;
  int rc = verify(hs, tok, "room-1", &c);
  free(tok);
  return rc;
}

Test(jwt, hs256_round_trip_keeps_every_claim) {
  sig_claims_t in = claims(), out;
  char *tok = NULL;
  cr_assert_eq(sig_jwt_sign(hs, &in, &tok), 0);
  cr_assert_eq(verify(hs, tok, "room-1", &out), 0);
  cr_assert_str_eq(out.room, "room-1");
  cr_assert_str_eq(out.sub, "alice@example.org");
  cr_assert_str_eq(out.name, "Alice");
  cr_assert_eq(out.role, SIG_ROLE_MEMBER);
  cr_assert_eq(out.exp, NOW + 600);
  cr_assert(out.can_publish);
  cr_assert(!out.can_subscribe);
  free(tok);
}

Test(jwt, es256_round_trip) {
  sig_claims_t in = claims(), out;
  in.role = SIG_ROLE_HOST;
  char *tok = NULL;
  cr_assert_eq(sig_jwt_sign(es, &in, &tok), 0);
  cr_assert_eq(verify(es, tok, NULL, &out), 0);
  cr_assert_eq(out.role, SIG_ROLE_HOST);
  free(tok);
}

Test(jwt, refuses_wrong_room) {
  sig_claims_t in = claims(), out;
  char *tok = NULL;
  sig_jwt_sign(hs, &in, &tok);
  cr_assert_eq(verify(hs, tok, "room-2", &out), VEIL_ESIG_TOKEN_ROOM);
  free(tok);
}

Test(jwt, refuses_expired_and_honours_leeway) {
  sig_claims_t in = claims(), out;
  in.exp = NOW - 5;
  char *tok = NULL;
  sig_jwt_sign(hs, &in, &tok);
  cr_assert_eq(verify(hs, tok, "room-1", &out), VEIL_ESIG_TOKEN_EXPIRED);
  cr_assert_eq(sig_jwt_verify(hs, tok, strlen(tok), "room-1", NOW, 10, &out), 0);
  free(tok);
  in.exp = NOW; /* exp is exclusive: "on or after" is expired (RFC 7519 §4.1.4) */
  sig_jwt_sign(hs, &in, &tok);
  cr_assert_eq(verify(hs, tok, "room-1", &out), VEIL_ESIG_TOKEN_EXPIRED);
  free(tok);
}

Test(jwt, refuses_not_yet_valid) {
  sig_claims_t in = claims(), out;
  in.nbf = NOW + 100;
  char *tok = NULL;
  sig_jwt_sign(hs, &in, &tok);
  cr_assert_eq(verify(hs, tok, "room-1", &out), VEIL_ESIG_TOKEN_NOT_YET);
  free(tok);
  in = claims();
  in.iat = NOW + 100; /* issued in the future */
  sig_jwt_sign(hs, &in, &tok);
  cr_assert_eq(verify(hs, tok, "room-1", &out), VEIL_ESIG_TOKEN_NOT_YET);
  free(tok);
}

Test(jwt, refuses_tampered_payload_hs256) {
  sig_claims_t in = claims(), out;
  char *tok = NULL;
  sig_jwt_sign(hs, &in, &tok);
  char *dot = strchr(tok, '.');
  dot[3] = dot[3] == 'A' ? 'B' : 'A';
  int rc = verify(hs, tok, "room-1", &out);
  cr_assert(rc == VEIL_ESIG_TOKEN_SIG || rc == VEIL_ESIG_TOKEN_MALFORMED, "rc=%d", rc);
  free(tok);
}

Test(jwt, refuses_bad_signature_es256) {
  sig_claims_t in = claims(), out;
  char *tok = NULL;
  sig_jwt_sign(es, &in, &tok);
  char *sig = strrchr(tok, '.') + 1;
  sig[10] = sig[10] == 'A' ? 'B' : 'A';
  cr_assert_eq(verify(es, tok, "room-1", &out), VEIL_ESIG_TOKEN_SIG);
  free(tok);
}

Test(jwt, refuses_token_signed_by_another_key) {
  sig_jwt_key_t *other = NULL;
  sig_jwt_key_generate(SIG_JWT_ES256, &other);
  sig_claims_t in = claims(), out;
  char *tok = NULL;
  sig_jwt_sign(other, &in, &tok);
  cr_assert_eq(verify(es, tok, "room-1", &out), VEIL_ESIG_TOKEN_SIG);
  free(tok);
  sig_jwt_key_free(other);
}

Test(jwt, refuses_alg_none) {
  char *p = payload_json(NULL, NULL);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"none\"}", p), VEIL_ESIG_TOKEN_ALG);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"None\"}", p), VEIL_ESIG_TOKEN_ALG);
  cr_assert_eq(verify_crafted_hs("{\"typ\":\"JWT\"}", p), VEIL_ESIG_TOKEN_ALG);
  cr_assert_eq(verify_crafted_hs("{\"alg\":7}", p), VEIL_ESIG_TOKEN_ALG);
  free(p);
}

Test(jwt, refuses_algorithm_other_than_configured) {
  /* ES256 key, HS256 token (the classic confusion: the public key as an HMAC secret). */
  sig_claims_t in = claims(), out;
  char *tok = NULL;
  sig_jwt_sign(hs, &in, &tok);
  cr_assert_eq(verify(es, tok, "room-1", &out), VEIL_ESIG_TOKEN_ALG);
  free(tok);
  sig_jwt_sign(es, &in, &tok);
  cr_assert_eq(verify(hs, tok, "room-1", &out), VEIL_ESIG_TOKEN_ALG);
  free(tok);
  char *p = payload_json(NULL, NULL);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS384\"}", p), VEIL_ESIG_TOKEN_ALG);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"RS256\"}", p), VEIL_ESIG_TOKEN_ALG);
  free(p);
}

Test(jwt, refuses_self_keyed_and_critical_headers) {
  char *p = payload_json(NULL, NULL);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", p), VEIL_ESIG_TOKEN_MALFORMED);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\",\"jku\":\"https://x\"}", p), VEIL_ESIG_TOKEN_MALFORMED);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\",\"jwk\":{}}", p), VEIL_ESIG_TOKEN_MALFORMED);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", p), VEIL_ESIG_TOKEN_MALFORMED);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\",\"kid\":\"k1\"}", p), 0);
  free(p);
}

Test(jwt, refuses_duplicate_keys) {
  char *p = payload_json(NULL, NULL);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\",\"alg\":\"none\"}", p), VEIL_ESIG_TOKEN_MALFORMED);
  free(p);
  p = payload_json("\"room\":\"room-1\"", NULL);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\"}", p), VEIL_ESIG_TOKEN_MALFORMED);
  free(p);
}

Test(jwt, refuses_malformed_shapes) {
  sig_claims_t out;
  const char *bad[] = {"", "abc", "a.b", "a.b.c.d", "..", "e30.e30.", "e30..AAAA", ".e30.AAAA", "e30.e30.A",
                       "e30=.e30.AAAA", "e30.e30.AA+A", "W10.e30.AAAA" /* header [] */};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = verify(hs, bad[i], "room-1", &out);
    cr_assert(rc == VEIL_ESIG_TOKEN_MALFORMED || rc == VEIL_ESIG_TOKEN_SIG || rc == VEIL_ESIG_TOKEN_ALG,
              "token '%s' rc=%d", bad[i], rc);
    cr_assert_neq(rc, 0);
  }
  char *huge = malloc(SIG_JWT_MAX_TOKEN + 2);
  memset(huge, 'a', SIG_JWT_MAX_TOKEN + 1);
  huge[SIG_JWT_MAX_TOKEN + 1] = '\0';
  cr_assert_eq(verify(hs, huge, "room-1", &out), VEIL_ESIG_TOKEN_MALFORMED);
  free(huge);
}

Test(jwt, refuses_signature_of_wrong_length) {
  sig_claims_t in = claims(), out;
  char *tok = NULL;
  sig_jwt_sign(hs, &in, &tok);
  size_t n = strlen(tok);
  tok[n - 4] = '\0'; /* 3 bytes shorter */
  cr_assert_eq(verify(hs, tok, "room-1", &out), VEIL_ESIG_TOKEN_SIG);
  free(tok);
}

Test(jwt, refuses_missing_or_mistyped_claims) {
  const char *required[] = {"room", "sub", "name", "role", "exp", "iat"};
  for (size_t i = 0; i < 6; i++) {
    char *p = payload_json(NULL, required[i]);
    cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\"}", p), VEIL_ESIG_TOKEN_CLAIMS, "without %s", required[i]);
    free(p);
  }
  const char *bad_kv[] = {"\"can_publish\":\"yes\"", "\"nbf\":\"soon\"", "\"nbf\":1.5", "\"nbf\":-3"};
  for (size_t i = 0; i < 4; i++) {
    char *p = payload_json(bad_kv[i], NULL);
    cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\"}", p), VEIL_ESIG_TOKEN_CLAIMS, "%s", bad_kv[i]);
    free(p);
  }
  char *p = payload_json(NULL, "role");
  char *q = malloc(strlen(p) + 40);
  sprintf(q, "%.*s,\"role\":\"admin\"}", (int)strlen(p) - 1, p);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\"}", q), VEIL_ESIG_TOKEN_CLAIMS);
  free(p);
  free(q);
  p = payload_json(NULL, "exp");
  q = malloc(strlen(p) + 40);
  sprintf(q, "%.*s,\"exp\":\"%lld\"}", (int)strlen(p) - 1, p, NOW + 100);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\"}", q), VEIL_ESIG_TOKEN_CLAIMS);
  free(p);
  free(q);
}

Test(jwt, refuses_room_with_unsafe_characters_and_control_chars_in_name) {
  char *p = payload_json(NULL, "room");
  char *q = malloc(strlen(p) + 40);
  sprintf(q, "%.*s,\"room\":\"room 1\"}", (int)strlen(p) - 1, p);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\"}", q), VEIL_ESIG_TOKEN_CLAIMS);
  free(p);
  free(q);
  p = payload_json(NULL, "name");
  q = malloc(strlen(p) + 40);
  sprintf(q, "%.*s,\"name\":\"A\\nB\"}", (int)strlen(p) - 1, p);
  cr_assert_eq(verify_crafted_hs("{\"alg\":\"HS256\"}", q), VEIL_ESIG_TOKEN_CLAIMS);
  free(p);
  free(q);
}

Test(jwt, key_files_round_trip_and_public_key_verifies_only) {
  char path[] = "/tmp/veil-jwt-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  cr_assert_eq(sig_jwt_key_save(es, path), 0);
  sig_jwt_key_t *loaded = NULL;
  cr_assert_eq(sig_jwt_key_load(SIG_JWT_ES256, path, &loaded), 0);
  sig_claims_t in = claims(), out;
  char *tok = NULL;
  cr_assert_eq(sig_jwt_sign(loaded, &in, &tok), 0);
  cr_assert_eq(verify(es, tok, "room-1", &out), 0);
  /* an ES256 key file is not an HS256 secret */
  sig_jwt_key_t *wrong = NULL;
  cr_assert_neq(sig_jwt_key_load(SIG_JWT_HS256, path, &wrong), 0);
  /* public half only: verifies, cannot sign */
  EVP_PKEY *pk = NULL;
  FILE *f = fopen(path, "r");
  pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, pk);
  char *pem;
  long pl = BIO_get_mem_data(bio, &pem);
  sig_jwt_key_t *pub = NULL;
  cr_assert_eq(sig_jwt_key_from_text(SIG_JWT_ES256, pem, (size_t)pl, &pub), 0);
  cr_assert_eq(verify(pub, tok, "room-1", &out), 0);
  char *tok2 = NULL;
  cr_assert_neq(sig_jwt_sign(pub, &in, &tok2), 0);
  BIO_free(bio);
  EVP_PKEY_free(pk);
  sig_jwt_key_free(pub);
  sig_jwt_key_free(loaded);
  free(tok);
  unlink(path);
}

Test(jwt, refuses_p384_key_for_es256) {
  EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL);
  char *pem;
  long pl = BIO_get_mem_data(bio, &pem);
  sig_jwt_key_t *k = NULL;
  cr_assert_neq(sig_jwt_key_from_text(SIG_JWT_ES256, pem, (size_t)pl, &k), 0);
  BIO_free(bio);
  EVP_PKEY_free(pk);
}

Test(jwt, refuses_short_hs256_secret) {
  sig_jwt_key_t *k = NULL;
  cr_assert_neq(sig_jwt_key_from_text(SIG_JWT_HS256, "c2hvcnQ", 7, &k), 0); /* "short" */
}
