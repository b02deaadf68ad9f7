/*
 * veil — X.509 credentials for MLS (RFC 9420 §5.3.1 x509 credentials) and the three
 * verification levels of DESIGN.md ("Identity and the security code"):
 *
 *   externally verified  the chain ends at one of the client's organisation trust anchors
 *   operator verified    it ends only at the operator CA (weaker: the operator could forge it)
 *   unverified           self-signed, unknown issuer, expired, not yet valid, bad chain,
 *                        revoked by a CRL of the trust configuration
 *
 * The validator is a backend-specific file (x509_backend.c, compiled once against OpenSSL
 * and once against BoringSSL, whose X509 APIs coincide here); nothing else in veil touches
 * X509 types. Certificates are DER, leaf first, as the MLS credential carries them.
 */
#ifndef VEIL_CLIENTS_IDENTITY_X509_H
#define VEIL_CLIENTS_IDENTITY_X509_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/crypto/provider.h"
#include "common/bytes.h"

#define X509_CHAIN_MAX 8       /* certificates in one credential */
#define X509_CERT_MAX 16384    /* bytes of one DER certificate */
#define X509_NAME_MAX 256
#define X509_LABEL_MAX 64

typedef enum x509_anchor_class {
  X509_ANCHOR_ORGANISATION = 1, /* an organisation's own CA: "externally verified" */
  X509_ANCHOR_OPERATOR = 2,     /* the operator's CA: "operator verified" */
} x509_anchor_class_t;

typedef enum x509_level {
  X509_UNVERIFIED = 0,
  X509_OPERATOR_VERIFIED = 1,
  X509_EXTERNALLY_VERIFIED = 2,
} x509_level_t;

/* What a certificate says, verified or not. */
typedef struct x509_info {
  char subject[X509_NAME_MAX]; /* one-line RFC 2253 form */
  char issuer[X509_NAME_MAX];
  char common_name[X509_NAME_MAX];
  char email[X509_NAME_MAX]; /* first SAN rfc822Name, "" if none */
  char dns[X509_NAME_MAX];   /* first SAN dNSName, "" if none */
  char serial_hex[80];
  int64_t not_before; /* seconds since the epoch */
  int64_t not_after;
  int self_signed;
  vc_sig_t key_type; /* 0 when the key is neither Ed25519 nor P-256 */
  uint8_t public_key[VC_SIG_PUB_MAX]; /* provider.h encoding */
  size_t public_key_len;
  char sha256_hex[65]; /* fingerprint of the DER */
  char sha1_hex[41];   /* legacy fingerprint (device activation uses it) */
} x509_info_t;

typedef struct x509_verdict {
  x509_level_t level;
  int reason;                  /* 0, or why it is unverified (VEIL_EX509_*) */
  char reason_text[128];       /* the library's words, for certificate details */
  char anchor[X509_LABEL_MAX]; /* label of the anchor the chain ends at, "" if none */
  x509_info_t leaf;
} x509_verdict_t;

typedef struct x509_trust x509_trust_t;

x509_trust_t *x509_trust_new(void);
void x509_trust_free(x509_trust_t *t);
/* Adds every certificate of a PEM text (or one DER certificate) as an anchor of `cls`
 * under `label`. VEIL_EDECODE when nothing parses. */
int x509_trust_add_pem(x509_trust_t *t, const char *pem, size_t len, x509_anchor_class_t cls,
                       const char *label);
int x509_trust_add_der(x509_trust_t *t, const uint8_t *der, size_t len, x509_anchor_class_t cls,
                       const char *label);

/* Adds every CRL (RFC 5280 §5) of a PEM text to the trust configuration, all or none.
 *
 * Each CRL must be issued by an anchor already added (same name, its signature verifies
 * with the anchor's key, and the anchor may sign CRLs) and be current at `now` (thisUpdate
 * not after `now`, nextUpdate, when present, after it); otherwise nothing is added and the
 * call fails: VEIL_EDECODE (no CRL, or one that does not parse), VEIL_EX509_UNTRUSTED (no
 * anchor issued it: a foreign or forged CRL), VEIL_EX509_EXPIRED, VEIL_ELIMIT.
 *
 * From then on every certificate of a chain whose issuer has a CRL here is checked against
 * it: a revoked one makes the chain unverified (reason_text says "revoked"), and so does a
 * CRL that has expired by the time of the check (VEIL_EX509_EXPIRED). Certificates whose
 * issuer has no CRL are not checked, so an anchor without a CRL behaves as before; CRLs of
 * intermediate CAs cannot be added (they are no anchors). Of several CRLs of one issuer, the
 * most recent current one applies (CRLs are complete lists). */
int x509_trust_add_crl_pem(x509_trust_t *t, const char *pem, size_t len, int64_t now);
/* What a code from x509_trust_add_crl_pem means for a CRL (veil_strerror's words are about
 * certificates), for the programs' messages. */
const char *x509_crl_strerror(int rc);

/* Reads one DER certificate without judging it. */
int x509_parse_info(const uint8_t *der, size_t len, x509_info_t *out);

/* Judges a chain (leaf first) at time `now` (seconds since the epoch). Returns 0 whenever
 * the leaf parsed — the verdict says how far it is trusted — or a negative code when the
 * leaf itself is malformed or its key type is unsupported. Organisation anchors are tried
 * before the operator's. */
int x509_verify_chain(const x509_trust_t *t, const veil_view_t *chain, size_t n, int64_t now,
                      x509_verdict_t *out);

const char *x509_level_name(x509_level_t level); /* "externally verified", ... */

/* Converts PEM certificates to DER: fills up to `max` views with malloc'd buffers (free
 * each .ptr). Returns the count, or a negative code. For tools and tests. */
int x509_pem_to_der(const char *pem, size_t len, veil_view_t *out, size_t max);

#endif
