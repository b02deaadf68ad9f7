/* Test fixtures for the device and identity tests: real certificates from the real CA
 * library (server/ca), in a temporary directory per test process, the trust store that
 * knows the "org" and "operator" CAs, and the verification of an issued credential. */
#ifndef VEIL_TESTS_DEVICE_FIXTURES_H
#define VEIL_TESTS_DEVICE_FIXTURES_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clients/lib/identity/verify.h"
#include "server/ca/ca.h"

typedef struct fx_cert {
  char *cert_pem;
  char *key_pem;
} fx_cert_t;

static char fx_root[256];

static inline int fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Each test process makes its own folder and removes it when it exits. */
static inline void fx_cleanup(void) {
  if (fx_root[0])
    nftw(fx_root, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void fx_dir(char *out, size_t cap, const char *name) {
  if (!fx_root[0]) {
    snprintf(fx_root, sizeof fx_root, "/tmp/veil-devtest-XXXXXX");
    cr_assert_not_null(mkdtemp(fx_root));
    atexit(fx_cleanup);
  }
  snprintf(out, cap, "%s/%s", fx_root, name);
}

/* Opens (creating on first use) the CA called `name`. */
static inline ca_t *fx_ca(const char *name, ca_key_type_t kt) {
  char dir[512];
  fx_dir(dir, sizeof dir, name);
  ca_t *ca = NULL;
  if (ca_open(dir, &ca) != 0) {
    cr_assert_eq(ca_create(dir, name, kt, 30, (int64_t)time(NULL)), 0);
    cr_assert_eq(ca_open(dir, &ca), 0);
  }
  return ca;
}

static inline fx_cert_t fx_issue(const char *ca_name, ca_kind_t kind, const char *identity,
                          const char *cn, ca_key_type_t kt, int64_t now) {
  ca_t *ca = fx_ca(ca_name, CA_KEY_P256);
  ca_issue_req_t req = {.kind = kind, .identity = identity, .common_name = cn, .key_type = kt,
                        .days = 30};
  ca_issued_t is;
  cr_assert_eq(ca_issue(ca, &req, now, &is), 0);
  fx_cert_t c = {strdup(is.cert_pem), is.key_pem ? strdup(is.key_pem) : NULL};
  ca_issued_free(&is);
  ca_close(ca);
  return c;
}

static inline char *fx_ca_pem(const char *ca_name) {
  ca_t *ca = fx_ca(ca_name, CA_KEY_P256);
  char *s = strdup(ca_cert_pem(ca));
  ca_close(ca);
  return s;
}

static inline void fx_free(fx_cert_t *c) {
  free(c->cert_pem);
  free(c->key_pem);
}

/* Trust in the "org" CA as organisation anchor "acme" and the "operator" CA as operator. */
static inline x509_trust_t *fx_trust(void) {
  x509_trust_t *t = x509_trust_new();
  char *org = fx_ca_pem("org"), *op = fx_ca_pem("operator");
  cr_assert_eq(x509_trust_add_pem(t, org, strlen(org), X509_ANCHOR_ORGANISATION, "acme"), 0);
  cr_assert_eq(x509_trust_add_pem(t, op, strlen(op), X509_ANCHOR_OPERATOR, "operator"), 0);
  free(org);
  free(op);
  return t;
}

/* An issued certificate as a one-certificate chain (DER) with its parsed fields. */
typedef struct fx_cred {
  veil_view_t der[2];
  x509_info_t info;
  fx_cert_t c;
} fx_cred_t;

static inline fx_cred_t fx_cred(const char *ca, ca_kind_t kind, const char *id, const char *cn,
                                ca_key_type_t kt) {
  fx_cred_t r;
  r.c = fx_issue(ca, kind, id, cn, kt, (int64_t)time(NULL));
  cr_assert_eq(x509_pem_to_der(r.c.cert_pem, strlen(r.c.cert_pem), r.der, 2), 1);
  cr_assert_eq(x509_parse_info(r.der[0].ptr, r.der[0].len, &r.info), 0);
  return r;
}

static inline void fx_cred_free(fx_cred_t *r) {
  free((void *)r->der[0].ptr);
  fx_free(&r->c);
}

/* Verifies `r` at `now` as a member whose signature key is (key_type, key); the call itself
 * must succeed, whatever status it gives. */
static inline verify_status_t fx_verify_key(const x509_trust_t *t, const fx_cred_t *r,
                                            vc_sig_t key_type, const uint8_t *key,
                                            size_t key_len, const char *dn, int64_t now) {
  verify_status_t st;
  cr_assert_eq(verify_x509_credential(t, r->der, 1, key_type, key, key_len, dn, now, &st), 0);
  return st;
}

/* Verifies `r` now as a member signing with the certificate's own key. */
static inline verify_status_t fx_judge(const x509_trust_t *t, const fx_cred_t *r,
                                       const char *dn) {
  return fx_verify_key(t, r, r->info.key_type, r->info.public_key, r->info.public_key_len, dn,
                       (int64_t)time(NULL));
}

/* Asserts that the JSON object `json` has the string member `key` equal to `want`. */
static inline void fx_json_str_eq(const char *json, const char *key, const char *want) {
  json_t *o = json_loads(json, 0, NULL);
  cr_assert_not_null(o, "not JSON: %s", json);
  const char *v = json_string_value(json_object_get(o, key));
  cr_assert_not_null(v, "no string \"%s\" in %s", key, json);
  cr_assert_str_eq(v, want, "\"%s\" in %s", key, json);
  json_decref(o);
}

#endif
