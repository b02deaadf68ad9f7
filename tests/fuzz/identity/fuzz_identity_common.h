/*
 * Shared by the X.509 fuzz targets: the fixed trust configuration built from the unit
 * tests' fixtures (tests/unit/client/fixtures: org CA, operator CA, org CA's CRL revoking
 * alice-org) and the clock an input picks.
 *
 * The fixtures are read once per process (their folder is compiled in as
 * VEIL_FUZZ_FIXTURES, so the targets run from any working directory, as scripts/fuzz and
 * meson test do); a missing fixture aborts rather than fuzzing an empty trust store.
 */
#ifndef VEIL_TESTS_FUZZ_IDENTITY_COMMON_H
#define VEIL_TESTS_FUZZ_IDENTITY_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "clients/lib/identity/x509.h"

/* A broken contract is a finding: abort so the fuzzer keeps the input. */
#define FUZZ_CHECK(c)                                                                        \
  do {                                                                                       \
    if (!(c))                                                                                \
      abort();                                                                               \
  } while (0)

#define FUZZ_LABEL_ORG "org"
#define FUZZ_LABEL_OPERATOR "operator"

/* Bits 1..2 of an input's flags byte pick one of four instants, FUZZ_NOW first (the
 * fixtures and their CRL current), then before the certificates' validity, after the
 * CRL's nextUpdate (2076) but inside the certificates' 100 years, and after those. */
#define FUZZ_NOW INT64_C(1800000000) /* 2027-01-15 */
int64_t fuzz_identity_now(uint8_t flags);

/* A fixture file's bytes (NUL-terminated, owned by this module, read once). */
const char *fuzz_fixture(const char *name, size_t *len);

/* A new trust configuration: org-ca.pem as an organisation anchor (FUZZ_LABEL_ORG),
 * operator-ca.pem as the operator's (FUZZ_LABEL_OPERATOR), and, when `with_crl`,
 * crl-org-alice.pem. Aborts on failure (the fixtures are known good). */
x509_trust_t *fuzz_trust_new(int with_crl);

/* Splits `data` into at most `max` views: each a 16-bit big-endian length and that many
 * bytes; a length running past the end takes what is left (a truncated certificate).
 * Returns the count. */
size_t fuzz_split_u16(const uint8_t *data, size_t size, veil_view_t *out, size_t max);

#endif
