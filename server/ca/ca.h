/*
 * veil — a small certificate authority for operators and organisations (DESIGN.md,
 * "Identity"). The library behind `veil-ca`, and the issuing function the server will call
 * to act as the operator CA (it depends only on OpenSSL and common/, holds no E2EE code,
 * and so may be linked server-side without breaking the blindness rule).
 *
 * A CA is a directory:
 *   ca.pem        the CA certificate (self-signed)
 *   ca.key        its private key, PKCS #8 PEM, mode 0600
 *   index.txt     one line per issued certificate (tab-separated):
 *                 V|R  serial-hex  not-after  revoked-at  user|device  identity  common-name
 *   crl.pem       the CRL (RFC 5280 §5), regenerated at every revocation
 *   issued/<serial>.pem  every issued certificate
 *   index.lock    held (flock) while the index is read and rewritten
 * Identities: users carry SAN rfc822Name (email), devices SAN dNSName with a readable device
 * name as CN. Keys are ECDSA P-256, or Ed25519 for the MLS suites that sign with it
 * (RFC 9420 §17.1, suites 1 and 3). With a CSR the CA takes only the requester's public key
 * (after checking the CSR's signature); the names are the CA's decision, never the CSR's.
 */
#ifndef VEIL_CLIENTS_CA_H
#define VEIL_CLIENTS_CA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

#define CA_NAME_MAX 128
#define CA_CSR_MAX (16 * 1024)
#define CA_INDEX_MAX 100000 /* lines read from index.txt */

typedef enum ca_key_type {
  CA_KEY_P256 = 1,
  CA_KEY_ED25519 = 2,
} ca_key_type_t;

typedef enum ca_kind {
  CA_CERT_USER = 1,   /* SAN email */
  CA_CERT_DEVICE = 2, /* SAN DNS, CN a readable device name */
} ca_kind_t;

typedef struct ca ca_t;

/* Creates a CA in `dir` (created if missing; VEIL_ECA_DIR if it already holds a CA). */
int ca_create(const char *dir, const char *name, ca_key_type_t key_type, int days, int64_t now);
/* Opens an existing CA (loads its certificate and key). */
int ca_open(const char *dir, ca_t **out);
void ca_close(ca_t *ca);

typedef struct ca_issue_req {
  ca_kind_t kind;
  const char *identity;    /* email (user) or DNS name (device) */
  const char *common_name; /* device name, or the user's name; NULL: the identity */
  ca_key_type_t key_type;  /* for a fresh key */
  int days;                /* validity */
  int64_t validity_s;      /* when > 0, the validity in seconds instead of `days` (the
                              server's short-lived operator certificates) */
  const char *csr_pem;     /* optional: certify this CSR's key instead of a fresh one */
  size_t csr_len;
} ca_issue_req_t;

typedef struct ca_issued {
  char *cert_pem; /* owned */
  char *key_pem;  /* owned, NULL when issued from a CSR; wiped by ca_issued_free */
  char serial_hex[41];
} ca_issued_t;

/* Issues a certificate, records it in the index and issued/. */
int ca_issue(ca_t *ca, const ca_issue_req_t *req, int64_t now, ca_issued_t *out);
void ca_issued_free(ca_issued_t *c);

/* Writes the index in readable form. */
int ca_list(ca_t *ca, FILE *out);
/* Marks `serial_hex` revoked and regenerates crl.pem. */
int ca_revoke(ca_t *ca, const char *serial_hex, int64_t now);
/* Regenerates crl.pem from the index (thisUpdate `now`, nextUpdate 30 days on) without
 * revoking anything: clients refuse an expired CRL, so it must be re-signed before then,
 * and a CA that never revoked anything gets one to hand out. */
int ca_crl(ca_t *ca, int64_t now);
/* The CA certificate, PEM (borrowed). */
const char *ca_cert_pem(const ca_t *ca);

#endif
