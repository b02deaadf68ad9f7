/*
 * Fuzz target: CRL files (x509_trust_add_crl_pem, RFC 5280 §5) as an operator or a member
 * configures them — PEM text, possibly several CRLs, possibly damaged or hostile — added
 * to a fresh copy of the fixed trust configuration (org CA, operator CA; see
 * fuzz_identity_common.h), which then judges three real chains (alice-org and bob-operator
 * alone, erin-int with its intermediate) so the revocation lookup runs on what was added.
 *
 * Input: one flags byte, then the PEM text. Flags:
 *   bit 0      ignored (the same framing as fuzz_x509_chain's seeds)
 *   bits 1..2  the clock (fuzz_identity_now), for the add and the judging
 *   bit 3      the configuration already holds the org CA's CRL revoking alice-org
 *
 * The contract checked: a refused file leaves the configuration as it was ("all or none":
 * every probe's verdict equals the one without the file), and an accepted one can only
 * lower a verdict, never raise it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/identity/x509.h"
#include "fuzz_identity_common.h"

#define PROBES 3

/* The probe chains, DER (owned), leaf first; and their verdicts without the input's CRLs,
 * per (fixture CRL present, clock). */
static struct {
  veil_view_t der[2];
  size_t n;
} probes[PROBES];
static x509_verdict_t baseline[2][4][PROBES];
static int ready;

static void free_probes(void) {
  for (size_t i = 0; i < PROBES; i++)
    for (size_t j = 0; j < probes[i].n; j++)
      free((void *)probes[i].der[j].ptr);
}

static void load_probe(size_t i, const char *name) {
  size_t len;
  const char *pem = fuzz_fixture(name, &len);
  int n = x509_pem_to_der(pem, len, probes[i].der, 2);
  if (n <= 0)
    abort();
  probes[i].n = (size_t)n;
}

static void judge(const x509_trust_t *t, int64_t now, x509_verdict_t out[PROBES]) {
  for (size_t i = 0; i < PROBES; i++)
    FUZZ_CHECK(x509_verify_chain(t, probes[i].der, probes[i].n, now, &out[i]) == 0);
}

static void setup(void) {
  load_probe(0, "alice-org.pem");
  load_probe(1, "bob-operator.pem");
  load_probe(2, "erin-int.pem");
  atexit(free_probes);
  for (int crl = 0; crl < 2; crl++) {
    x509_trust_t *t = fuzz_trust_new(crl);
    for (uint8_t clock = 0; clock < 4; clock++)
      judge(t, fuzz_identity_now((uint8_t)(clock << 1)), baseline[crl][clock]);
    x509_trust_free(t);
  }
  ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ready)
    setup();
  if (size == 0)
    return 0;
  uint8_t flags = data[0];
  int64_t now = fuzz_identity_now(flags);
  int crl = (flags >> 3) & 1;
  const x509_verdict_t *before = baseline[crl][(flags >> 1) & 3];

  x509_trust_t *t = fuzz_trust_new(crl);
  int rc = x509_trust_add_crl_pem(t, (const char *)data + 1, size - 1, now);
  FUZZ_CHECK(rc <= 0);
  (void)x509_crl_strerror(rc);
  x509_verdict_t after[PROBES];
  judge(t, now, after);
  for (size_t i = 0; i < PROBES; i++) {
    if (rc == 0) {
      FUZZ_CHECK(after[i].level <= before[i].level);
    } else {
      FUZZ_CHECK(after[i].level == before[i].level && after[i].reason == before[i].reason);
      FUZZ_CHECK(strcmp(after[i].reason_text, before[i].reason_text) == 0);
    }
  }
  x509_trust_free(t);
  return 0;
}
