/*
 * Fuzz target: the operator CA's request path (srv_opca_issue: Authorization header, join
 * token, CSR parse, key type, proof of possession, naming, issuance) on a real CA in a
 * temporary directory.
 *
 * Random bytes almost never carry a valid token, which would keep the CSR parser out of
 * reach; so the first byte picks the mode:
 *   0x00..0x7f  the rest is the request body (a CSR) sent with a valid token minted at
 *               start (HS256, identity fuzz@example.org, name Fuzz);
 *   0x80..0xff  the rest is "<Authorization header value>\n<body>" as the client sent it.
 * Whatever the input, the call must not crash or leak, a refusal carries no certificate,
 * and an issued certificate parses and is named from the token only. The clock moves an
 * hour per input so the rate limits never hide the parser.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/hex.h"
#include "common/log.h"
#include "server/operator_ca.h"

#define NOW 1800000000LL

static srv_opca_t *opca;
static sig_jwt_key_t *key;
static char *auth; /* "Bearer <valid token>" */
static uint64_t now_ms;
static char dir[] = "/tmp/veil-fuzz-opca-XXXXXX";

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
  (void)st, (void)flag, (void)f;
  return remove(p);
}

/* The temporary CA goes away with the process (the seed replay runs in every meson test). */
static void cleanup(void) {
  srv_opca_free(opca);
  sig_jwt_key_free(key);
  free(auth);
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void init(void) {
  static const uint8_t secret[32] = "veil-fuzz-operator-ca-secret-012";
  char text[64], cadir[64], err[256];
  veil_log_set_level(VEIL_LOG_OFF);
  veil_b64url_encode(secret, sizeof secret, text);
  if (sig_jwt_key_from_text(SIG_JWT_HS256, text, strlen(text), &key) || !mkdtemp(dir))
    abort();
  snprintf(cadir, sizeof cadir, "%s/ca", dir);
  if (srv_opca_prepare(cadir, true, NOW, err, sizeof err))
    abort();
  srv_opca_config_t c = {.dir = cadir, .key = key, .token_leeway_s = 30, .validity_s = 3600,
                         .issue_per_minute = 100000, .identity_per_hour = 10000};
  if (srv_opca_open(&c, &opca))
    abort();
  atexit(cleanup);
  sig_claims_t cl;
  memset(&cl, 0, sizeof cl);
  snprintf(cl.room, sizeof cl.room, "fuzz");
  snprintf(cl.sub, sizeof cl.sub, "fuzz@example.org");
  snprintf(cl.name, sizeof cl.name, "Fuzz");
  cl.role = SIG_ROLE_MEMBER;
  cl.iat = NOW;
  cl.exp = NOW + 3600;
  cl.can_publish = cl.can_subscribe = true;
  char *tok = NULL;
  if (sig_jwt_sign(key, &cl, &tok) || !(auth = malloc(strlen(tok) + 8)))
    abort();
  sprintf(auth, "Bearer %s", tok);
  free(tok);
}

/* An issued certificate must be named from the token whatever the CSR asked for. */
static void check_issued(const srv_opca_result_t *r, const char *want_identity) {
  BIO *b = BIO_new_mem_buf(r->cert_pem, -1);
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  if (!x)
    abort();
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  if (!gens || sk_GENERAL_NAME_num(gens) != 1)
    abort();
  GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, 0);
  ASN1_IA5STRING *s = g->type == GEN_EMAIL ? g->d.rfc822Name : g->type == GEN_DNS ? g->d.dNSName : NULL;
  if (!s || strcmp((const char *)ASN1_STRING_get0_data(s), r->identity) != 0 ||
      (want_identity && strcmp(r->identity, want_identity) != 0))
    abort();
  GENERAL_NAMES_free(gens);
  X509_free(x);
  BIO_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!opca)
    init();
  if (size < 1 || size > 2 * SRV_OPCA_CSR_MAX)
    return 0;
  now_ms += 3600000;
  const uint8_t *body = data + 1;
  size_t blen = size - 1;
  char *hdr = NULL;
  const char *a = auth;
  if (data[0] & 0x80) {
    const uint8_t *nl = memchr(body, '\n', blen);
    size_t hl = nl ? (size_t)(nl - body) : blen;
    if (!(hdr = malloc(hl + 1)))
      abort();
    memcpy(hdr, body, hl);
    hdr[hl] = '\0';
    a = hdr;
    body = nl ? nl + 1 : body + blen;
    blen = nl ? blen - hl - 1 : 0;
  }
  /* The body in its own allocation of exactly its size, so that ASan sees any over-read. */
  uint8_t *copy = malloc(blen ? blen : 1);
  if (!copy)
    abort();
  memcpy(copy, body, blen);
  srv_opca_result_t r;
  int rc = srv_opca_issue(opca, a, copy, blen, NOW, now_ms, &r);
  if (rc == 0) {
    if (!r.cert_pem || r.reason != SRV_OPCA_ISSUED || r.http_status != 200)
      abort();
    check_issued(&r, a == auth ? "fuzz@example.org" : NULL);
    free(r.cert_pem);
  } else if (r.cert_pem || r.reason == SRV_OPCA_ISSUED || r.http_status < 400) {
    abort();
  }
  free(copy);
  free(hdr);
  return 0;
}
