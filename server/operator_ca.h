/*
 * veil-server as the operator CA (DESIGN.md "Identity", the "operator verified" level;
 * docs/identity.md). A client that holds a valid join token sends a CSR and gets back a
 * short-lived certificate whose names come from the token, never from the CSR:
 *
 *   SAN  rfc822Name = token `sub` when it looks like an email address, else dNSName = `sub`
 *        (refused when it is neither);
 *   CN   the token's `name` (the display name the token issuer granted);
 *   key  the CSR's public key, after its signature is checked (proof of possession);
 *        ECDSA P-256 or Ed25519 only.
 *
 * The token is checked exactly as for a join (sig_jwt_verify: algorithm fixed by the key,
 * signature, exp/nbf/iat with the configured leeway), except that any room is accepted.
 *
 * Order of the checks, cheapest first, so that unauthenticated requests cost little
 * (STYLE 10): CSR size, the global rate (a token bucket over every request), the token, the
 * identity's own rate, then the CSR's parse, signature and key type, then signing. Every
 * outcome is counted by reason for /metrics and logged.
 *
 * Issuing goes through server/ca (ca_issue: OpenSSL + common only, no E2EE code, so the
 * blindness rule holds): the CA directory keeps index.txt and issued/ like `veil-ca`'s, and
 * `veil-ca list` / `veil-ca revoke` work on it. ca_issue does synchronous file I/O on the
 * loop; the rate limit bounds how often.
 */
#ifndef VEIL_SERVER_OPERATOR_CA_H
#define VEIL_SERVER_OPERATOR_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signaling/sig_jwt.h"

#define SRV_OPCA_CSR_MAX (16 * 1024) /* = CA_CSR_MAX; a P-256 CSR in PEM is ~500 bytes */
#define SRV_OPCA_AUTH_MAX (SIG_JWT_MAX_TOKEN + 16) /* "Bearer " + a token */
#define SRV_OPCA_IDENTITIES 256 /* per-identity rate slots (oldest reused) */
#define SRV_OPCA_CA_NAME "veil operator CA"
#define SRV_OPCA_CA_DAYS 3650
#define SRV_OPCA_ISSUE_PATH "/v1/operator-ca/issue" /* POST, docs/protocol.md */
#define SRV_OPCA_CERT_PATH "/v1/operator-ca/cert"   /* GET */

/* Why a request ended. The names (srv_opca_reason_name) are the /metrics labels and the
 * `error` of the HTTP answer (docs/protocol.md). */
typedef enum srv_opca_reason {
  SRV_OPCA_ISSUED = 0,
  SRV_OPCA_R_CSR_TOO_LARGE,
  SRV_OPCA_R_RATE_LIMITED,          /* the global bucket */
  SRV_OPCA_R_TOKEN_MISSING,         /* no "Authorization: Bearer <token>" */
  SRV_OPCA_R_TOKEN_MALFORMED,
  SRV_OPCA_R_TOKEN_ALG,
  SRV_OPCA_R_TOKEN_SIGNATURE,
  SRV_OPCA_R_TOKEN_EXPIRED,
  SRV_OPCA_R_TOKEN_NOT_YET_VALID,
  SRV_OPCA_R_TOKEN_CLAIMS,
  SRV_OPCA_R_IDENTITY,              /* `sub` is neither an email address nor a DNS name */
  SRV_OPCA_R_NAME,                  /* `name` is not printable ASCII (server/ca's rule) */
  SRV_OPCA_R_IDENTITY_RATE_LIMITED, /* this identity's own bucket */
  SRV_OPCA_R_CSR_MALFORMED,
  SRV_OPCA_R_CSR_SIGNATURE,
  SRV_OPCA_R_CSR_KEY_TYPE,          /* not P-256 or Ed25519 (RSA, other curves, ...) */
  SRV_OPCA_R_INTERNAL,
  SRV_OPCA_NREASONS
} srv_opca_reason_t;

typedef struct srv_opca_config {
  const char *dir;              /* the CA directory (ca.pem, ca.key, index.txt, issued/) */
  const sig_jwt_key_t *key;     /* borrowed; the join-token key; must outlive the CA */
  int64_t token_leeway_s;       /* as for joins */
  int64_t validity_s;           /* issued certificates' lifetime */
  uint32_t issue_per_minute;    /* global token bucket: rate and burst */
  uint32_t identity_per_hour;   /* per identity: rate and burst */
} srv_opca_config_t;

typedef struct srv_opca srv_opca_t;

/* Makes sure `dir` holds a CA: when it has no ca.pem and `create` is true, a new one is
 * created (ECDSA P-256, CN SRV_OPCA_CA_NAME, SRV_OPCA_CA_DAYS days); when `create` is false
 * (a configured directory) its absence is an error. `err` gets a sentence naming the key. */
int srv_opca_prepare(const char *dir, bool create, int64_t now, char *err, size_t errlen);
/* Opens the CA in cfg->dir. The caller owns *out (srv_opca_free). */
int srv_opca_open(const srv_opca_config_t *cfg, srv_opca_t **out);
void srv_opca_free(srv_opca_t *ca);

typedef struct srv_opca_result {
  srv_opca_reason_t reason;
  int http_status;        /* 200, 400, 401, 403, 413, 429 or 500 */
  char *cert_pem;         /* owned by the caller when issued (free()); NULL otherwise */
  char serial_hex[41];
  char identity[SIG_IDENTITY_MAX + 1]; /* the token's, when it verified */
} srv_opca_result_t;

/* One issuance request. `authorization` is the Authorization header's value (NULL or
 * empty when absent); `csr` the request body, a PEM CSR, `csr_len` its length (the
 * declared length when the body was too large to be read: csr is then NULL). `now_s` is
 * wall-clock Unix seconds (token times, certificate validity), `now_ms` a monotonic clock
 * (rate buckets). Returns 0 when issued, else a negative VEIL_ESRV_OPCA_* code; *out
 * always says why. */
int srv_opca_issue(srv_opca_t *ca, const char *authorization, const uint8_t *csr, size_t csr_len, int64_t now_s,
                   uint64_t now_ms, srv_opca_result_t *out);

/* The CA certificate, PEM (borrowed; lives as long as `ca`). */
const char *srv_opca_cert_pem(const srv_opca_t *ca);
const char *srv_opca_reason_name(srv_opca_reason_t r);
uint64_t srv_opca_count(const srv_opca_t *ca, srv_opca_reason_t r);
/* Appends the operator CA's metric families (Prometheus text 0.0.4) to a malloc'd page:
 * veil_operator_ca_issued_total and veil_operator_ca_refused_total{reason}. On success
 * the page and its length describe the longer page; on failure the length is unchanged. */
int srv_opca_metrics_append(const srv_opca_t *ca, char **page, size_t *len);

#endif
