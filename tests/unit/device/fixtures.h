/* Test fixtures for the device and identity tests: real certificates from the real CA
 * library (server/ca), in a temporary directory per test process. */
#ifndef VEIL_TESTS_DEVICE_FIXTURES_H
#define VEIL_TESTS_DEVICE_FIXTURES_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#endif
