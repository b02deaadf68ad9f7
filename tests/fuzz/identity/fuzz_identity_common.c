/* Fixtures and framing of the X.509 fuzz targets (see fuzz_identity_common.h). */
#include "fuzz_identity_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VEIL_FUZZ_FIXTURES
#error "VEIL_FUZZ_FIXTURES (the fixtures folder) is set by tests/fuzz/identity/meson.build"
#endif

int64_t fuzz_identity_now(uint8_t flags) {
  static const int64_t at[4] = {FUZZ_NOW, INT64_C(1600000000) /* 2020 */,
                                INT64_C(3500000000) /* 2080 */, INT64_C(6000000000) /* 2160 */};
  return at[(flags >> 1) & 3];
}

/* The few fixtures the targets use, each read on first use and kept for the process. */
typedef struct fixture {
  const char *name;
  char *text;
  size_t len;
} fixture_t;

static fixture_t fixtures[] = {{"org-ca.pem", NULL, 0},
                               {"operator-ca.pem", NULL, 0},
                               {"crl-org-alice.pem", NULL, 0},
                               {"alice-org.pem", NULL, 0},
                               {"bob-operator.pem", NULL, 0},
                               {"erin-int.pem", NULL, 0}};

static void free_fixtures(void) {
  for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
    free(fixtures[i].text);
    fixtures[i].text = NULL;
  }
}

static void read_fixture(fixture_t *fx) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", VEIL_FUZZ_FIXTURES, fx->name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "fuzz: cannot open fixture %s\n", path);
    abort();
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = n > 0 ? malloc((size_t)n + 1) : NULL;
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "fuzz: cannot read fixture %s\n", path);
    abort();
  }
  fclose(f);
  buf[n] = '\0';
  fx->text = buf;
  fx->len = (size_t)n;
}

const char *fuzz_fixture(const char *name, size_t *len) {
  static int registered;
  for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
    fixture_t *fx = &fixtures[i];
    if (strcmp(fx->name, name) != 0)
      continue;
    if (!fx->text) {
      if (!registered++)
        atexit(free_fixtures);
      read_fixture(fx);
    }
    *len = fx->len;
    return fx->text;
  }
  fprintf(stderr, "fuzz: fixture %s is not in the list\n", name);
  abort();
}

static void add_anchor(x509_trust_t *t, const char *name, x509_anchor_class_t cls,
                       const char *label) {
  size_t len;
  const char *pem = fuzz_fixture(name, &len);
  if (x509_trust_add_pem(t, pem, len, cls, label) != 0)
    abort();
}

x509_trust_t *fuzz_trust_new(int with_crl) {
  x509_trust_t *t = x509_trust_new();
  if (!t)
    abort();
  add_anchor(t, "org-ca.pem", X509_ANCHOR_ORGANISATION, FUZZ_LABEL_ORG);
  add_anchor(t, "operator-ca.pem", X509_ANCHOR_OPERATOR, FUZZ_LABEL_OPERATOR);
  if (with_crl) {
    size_t len;
    const char *pem = fuzz_fixture("crl-org-alice.pem", &len);
    if (x509_trust_add_crl_pem(t, pem, len, FUZZ_NOW) != 0)
      abort();
  }
  return t;
}

size_t fuzz_split_u16(const uint8_t *data, size_t size, veil_view_t *out, size_t max) {
  veil_reader_t r;
  veil_reader_init(&r, data, size);
  size_t n = 0;
  uint16_t len;
  while (n < max && veil_read_u16(&r, &len) == 0) {
    size_t take = len < veil_reader_remaining(&r) ? len : veil_reader_remaining(&r);
    out[n++] = (veil_view_t){.ptr = r.p, .len = take};
    veil_skip(&r, take);
  }
  return n;
}
