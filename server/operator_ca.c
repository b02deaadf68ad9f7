/* veil-server as the operator CA. Contract in operator_ca.h; wire form in docs/protocol.md. */
#include "server/operator_ca.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/ca/ca.h"
#include "common/err.h"
#include "common/log.h"

/* A token bucket in integer arithmetic: one token is `period_ms` units, refilled at `rate`
 * units per millisecond, so exactly `rate` tokens per period with a burst of `rate`. */
typedef struct bucket {
  uint64_t level;
  uint64_t last_ms;
} bucket_t;

typedef struct id_slot {
  char id[SIG_IDENTITY_MAX + 1]; /* empty: free */
  bucket_t b;
  uint64_t used_ms; /* last request, for reuse of the oldest slot */
} id_slot_t;

struct srv_opca {
  srv_opca_config_t cfg; /* cfg.dir copied below; cfg.key borrowed */
  char dir[1024];
  ca_t *ca; /* owned */
  bucket_t global;
  id_slot_t ids[SRV_OPCA_IDENTITIES];
  uint64_t counts[SRV_OPCA_NREASONS];
};

static const char *const reason_names[SRV_OPCA_NREASONS] = {
    [SRV_OPCA_ISSUED] = "issued",
    [SRV_OPCA_R_CSR_TOO_LARGE] = "csr_too_large",
    [SRV_OPCA_R_RATE_LIMITED] = "rate_limited",
    [SRV_OPCA_R_TOKEN_MISSING] = "token_missing",
    [SRV_OPCA_R_TOKEN_MALFORMED] = "token_malformed",
    [SRV_OPCA_R_TOKEN_ALG] = "token_alg",
    [SRV_OPCA_R_TOKEN_SIGNATURE] = "token_signature",
    [SRV_OPCA_R_TOKEN_EXPIRED] = "token_expired",
    [SRV_OPCA_R_TOKEN_NOT_YET_VALID] = "token_not_yet_valid",
    [SRV_OPCA_R_TOKEN_CLAIMS] = "token_claims",
    [SRV_OPCA_R_IDENTITY] = "identity",
    [SRV_OPCA_R_NAME] = "name",
    [SRV_OPCA_R_IDENTITY_RATE_LIMITED] = "identity_rate_limited",
    [SRV_OPCA_R_CSR_MALFORMED] = "csr_malformed",
    [SRV_OPCA_R_CSR_SIGNATURE] = "csr_signature",
    [SRV_OPCA_R_CSR_KEY_TYPE] = "csr_key_type",
    [SRV_OPCA_R_INTERNAL] = "internal",
};

const char *srv_opca_reason_name(srv_opca_reason_t r) {
  return (unsigned)r < SRV_OPCA_NREASONS ? reason_names[r] : "unknown";
}

uint64_t srv_opca_count(const srv_opca_t *ca, srv_opca_reason_t r) {
  return (unsigned)r < SRV_OPCA_NREASONS ? ca->counts[r] : 0;
}

const char *srv_opca_cert_pem(const srv_opca_t *ca) { return ca_cert_pem(ca->ca); }

int srv_opca_prepare(const char *dir, bool create, int64_t now, char *err, size_t el) {
  char path[1100];
  snprintf(path, sizeof path, "%.1000s/ca.pem", dir);
  if (access(path, R_OK) == 0)
    return 0;
  if (!create) {
    snprintf(err, el, "operator_ca_dir: %.400s holds no CA (ca.pem); create one with veil-ca init", dir);
    return VEIL_ESRV_OPCA_CA;
  }
  int rc = ca_create(dir, SRV_OPCA_CA_NAME, CA_KEY_P256, SRV_OPCA_CA_DAYS, now);
  if (rc) {
    snprintf(err, el, "operator_ca_dir: cannot create a CA in %.400s (%s)", dir, veil_strerror(rc));
    return VEIL_ESRV_OPCA_CA;
  }
  veil_log(VEIL_LOG_INFO, "operator_ca", "ca_created", "dir=%s", dir);
  return 0;
}

int srv_opca_open(const srv_opca_config_t *cfg, srv_opca_t **out) {
  if (!cfg->dir || strlen(cfg->dir) >= sizeof(((srv_opca_t *)0)->dir) || !cfg->key || cfg->validity_s <= 0 ||
      !cfg->issue_per_minute || !cfg->identity_per_hour)
    return VEIL_EINVAL;
  srv_opca_t *ca = calloc(1, sizeof *ca);
  if (!ca)
    return VEIL_ENOMEM;
  ca->cfg = *cfg;
  snprintf(ca->dir, sizeof ca->dir, "%s", cfg->dir);
  ca->cfg.dir = ca->dir;
  int rc = ca_open(ca->dir, &ca->ca);
  if (rc) {
    free(ca);
    return rc;
  }
  /* Buckets start full: a restart does not make the first clients wait. */
  ca->global.level = (uint64_t)cfg->issue_per_minute * 60000u;
  *out = ca;
  return 0;
}

void srv_opca_free(srv_opca_t *ca) {
  if (!ca)
    return;
  ca_close(ca->ca);
  free(ca);
}

static bool bucket_take(bucket_t *b, uint64_t rate, uint64_t period_ms, uint64_t now_ms) {
  uint64_t cap = rate * period_ms;
  if (now_ms > b->last_ms) {
    uint64_t add = (now_ms - b->last_ms) * rate;
    b->level = add >= cap - b->level ? cap : b->level + add;
  }
  b->last_ms = now_ms;
  if (b->level < period_ms)
    return false;
  b->level -= period_ms;
  return true;
}

/* The identity's slot: its own, else a free one, else the least recently used (an evicted
 * identity starts again with a full bucket; the global bucket still bounds the total). */
static id_slot_t *id_slot(srv_opca_t *ca, const char *id, uint64_t now_ms) {
  id_slot_t *oldest = &ca->ids[0];
  for (size_t i = 0; i < SRV_OPCA_IDENTITIES; i++) {
    id_slot_t *s = &ca->ids[i];
    if (s->id[0] && strcmp(s->id, id) == 0)
      return s;
    if (!s->id[0] || (oldest->id[0] && s->used_ms < oldest->used_ms))
      oldest = s;
  }
  memset(oldest, 0, sizeof *oldest);
  snprintf(oldest->id, sizeof oldest->id, "%s", id);
  oldest->b.level = (uint64_t)ca->cfg.identity_per_hour * 3600000u;
  oldest->b.last_ms = now_ms;
  return oldest;
}

static bool dns_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* A DNS name in preferred syntax (RFC 1035 §2.3.1, letters/digits/hyphens, RFC 1123 §2.1
 * allows a leading digit): labels of 1..63 characters, 253 in all, no edge hyphens. */
static bool valid_dns(const char *s, size_t n) {
  if (n == 0 || n > 253)
    return false;
  size_t label = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || s[i] == '.') {
      if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
        return false;
      label = 0;
    } else if (dns_char(s[i])) {
      label++;
    } else {
      return false;
    }
  }
  return true;
}

/* "Looks like an email address": a conservative subset of RFC 5322 §3.4.1 addr-spec
 * (dot-atom local part of letters, digits and . _ % + -, then a DNS domain), narrow enough
 * that it cannot smuggle separators into the SAN that server/ca writes. */
static bool valid_email(const char *s) {
  const char *at = strchr(s, '@');
  if (!at || at == s || at - s > 64 || strchr(at + 1, '@'))
    return false;
  for (const char *p = s; p < at; p++)
    if (!dns_char(*p) && *p != '.' && *p != '_' && *p != '%' && *p != '+')
      return false;
  if (s[0] == '.' || at[-1] == '.' || strstr(s, ".."))
    return false;
  return valid_dns(at + 1, strlen(at + 1));
}

static bool printable_ascii(const char *s) {
  if (!*s || strlen(s) > CA_NAME_MAX)
    return false;
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
      return false;
  return true;
}

static srv_opca_reason_t token_reason(int rc) {
  switch (rc) {
  case VEIL_ESIG_TOKEN_ALG:
    return SRV_OPCA_R_TOKEN_ALG;
  case VEIL_ESIG_TOKEN_SIG:
    return SRV_OPCA_R_TOKEN_SIGNATURE;
  case VEIL_ESIG_TOKEN_EXPIRED:
    return SRV_OPCA_R_TOKEN_EXPIRED;
  case VEIL_ESIG_TOKEN_NOT_YET:
    return SRV_OPCA_R_TOKEN_NOT_YET_VALID;
  case VEIL_ESIG_TOKEN_CLAIMS:
  case VEIL_ESIG_TOKEN_ROOM:
    return SRV_OPCA_R_TOKEN_CLAIMS;
  default:
    return SRV_OPCA_R_TOKEN_MALFORMED;
  }
}

/* "Authorization: Bearer <token>" (RFC 6750 §2.1; the scheme is case-insensitive, RFC 9110
 * §11.1). Returns the token's start and length, or NULL. */
static const char *bearer(const char *h, size_t *len) {
  if (!h || strncasecmp(h, "Bearer ", 7) != 0)
    return NULL;
  h += 7;
  while (*h == ' ')
    h++;
  size_t n = strlen(h);
  while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
    n--;
  if (!n || n > SIG_JWT_MAX_TOKEN)
    return NULL;
  *len = n;
  return h;
}

static bool supported_key(EVP_PKEY *k) {
  if (EVP_PKEY_get_id(k) == EVP_PKEY_ED25519)
    return true;
  char group[64];
  size_t gl = 0;
  return EVP_PKEY_get_id(k) == EVP_PKEY_EC &&
         EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &gl) == 1 &&
         strcmp(group, "prime256v1") == 0;
}

/* Classifies the CSR before server/ca sees it (ca_issue repeats the checks but reports
 * them all as one code): PEM/DER parse, key type, then the self-signature (RFC 2986 §3:
 * the requester proves possession of the key). */
static srv_opca_reason_t check_csr(const uint8_t *pem, size_t len) {
  srv_opca_reason_t r = SRV_OPCA_R_CSR_MALFORMED;
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
  EVP_PKEY *k = req ? X509_REQ_get_pubkey(req) : NULL;
  if (!k)
    goto done;
  r = SRV_OPCA_R_CSR_KEY_TYPE;
  if (!supported_key(k))
    goto done;
  r = X509_REQ_verify(req, k) == 1 ? SRV_OPCA_ISSUED : SRV_OPCA_R_CSR_SIGNATURE;
done:
  EVP_PKEY_free(k);
  X509_REQ_free(req);
  BIO_free(b);
  ERR_clear_error();
  return r;
}

static int status_of(srv_opca_reason_t r) {
  switch (r) {
  case SRV_OPCA_ISSUED:
    return 200;
  case SRV_OPCA_R_CSR_TOO_LARGE:
    return 413;
  case SRV_OPCA_R_RATE_LIMITED:
  case SRV_OPCA_R_IDENTITY_RATE_LIMITED:
    return 429;
  case SRV_OPCA_R_TOKEN_MISSING:
  case SRV_OPCA_R_TOKEN_MALFORMED:
  case SRV_OPCA_R_TOKEN_ALG:
  case SRV_OPCA_R_TOKEN_SIGNATURE:
  case SRV_OPCA_R_TOKEN_EXPIRED:
  case SRV_OPCA_R_TOKEN_NOT_YET_VALID:
  case SRV_OPCA_R_TOKEN_CLAIMS:
    return 401;
  case SRV_OPCA_R_IDENTITY:
  case SRV_OPCA_R_NAME:
    return 403;
  case SRV_OPCA_R_CSR_MALFORMED:
  case SRV_OPCA_R_CSR_SIGNATURE:
  case SRV_OPCA_R_CSR_KEY_TYPE:
    return 400;
  default:
    return 500;
  }
}

static int code_of(srv_opca_reason_t r) {
  switch (status_of(r)) {
  case 200:
    return 0;
  case 413:
    return VEIL_ESRV_OPCA_TOO_LARGE;
  case 429:
    return VEIL_ESRV_OPCA_RATE;
  case 401:
    return VEIL_ESRV_OPCA_TOKEN;
  case 403:
    return VEIL_ESRV_OPCA_IDENTITY;
  case 400:
    return VEIL_ESRV_OPCA_CSR;
  default:
    return VEIL_ESRV_OPCA_CA;
  }
}

static int finish(srv_opca_t *ca, srv_opca_result_t *out, srv_opca_reason_t r) {
  out->reason = r;
  out->http_status = status_of(r);
  ca->counts[r]++;
  /* Only a verified, syntax-checked identity goes into the log line (out->identity is set
   * after those checks), so a token cannot inject fields into structured logs. */
  if (r == SRV_OPCA_ISSUED)
    veil_log(VEIL_LOG_INFO, "operator_ca", "issued", "identity=%s serial=%s validity_s=%lld", out->identity,
             out->serial_hex, (long long)ca->cfg.validity_s);
  else
    veil_log(VEIL_LOG_INFO, "operator_ca", "refused", "reason=%s identity=%s", reason_names[r],
             out->identity[0] ? out->identity : "-");
  return code_of(r);
}

int srv_opca_issue(srv_opca_t *ca, const char *authorization, const uint8_t *csr, size_t csr_len, int64_t now_s,
                   uint64_t now_ms, srv_opca_result_t *out) {
  memset(out, 0, sizeof *out);
  if (!csr || csr_len > SRV_OPCA_CSR_MAX)
    return finish(ca, out, SRV_OPCA_R_CSR_TOO_LARGE);
  if (!bucket_take(&ca->global, ca->cfg.issue_per_minute, 60000, now_ms))
    return finish(ca, out, SRV_OPCA_R_RATE_LIMITED);
  size_t tlen = 0;
  const char *tok = bearer(authorization, &tlen);
  if (!tok)
    return finish(ca, out, SRV_OPCA_R_TOKEN_MISSING);
  sig_claims_t claims;
  int rc = sig_jwt_verify(ca->cfg.key, tok, tlen, NULL, now_s, ca->cfg.token_leeway_s, &claims);
  if (rc)
    return finish(ca, out, token_reason(rc));
  bool email = strchr(claims.sub, '@') != NULL;
  if (email ? !valid_email(claims.sub) : !valid_dns(claims.sub, strlen(claims.sub)))
    return finish(ca, out, SRV_OPCA_R_IDENTITY);
  snprintf(out->identity, sizeof out->identity, "%s", claims.sub);
  if (!printable_ascii(claims.name))
    return finish(ca, out, SRV_OPCA_R_NAME);
  id_slot_t *slot = id_slot(ca, claims.sub, now_ms);
  slot->used_ms = now_ms;
  if (!bucket_take(&slot->b, ca->cfg.identity_per_hour, 3600000, now_ms))
    return finish(ca, out, SRV_OPCA_R_IDENTITY_RATE_LIMITED);
  srv_opca_reason_t r = check_csr(csr, csr_len);
  if (r != SRV_OPCA_ISSUED)
    return finish(ca, out, r);

  ca_issue_req_t req = {
      .kind = email ? CA_CERT_USER : CA_CERT_DEVICE,
      .identity = claims.sub,
      .common_name = claims.name,
      .validity_s = ca->cfg.validity_s,
      .csr_pem = (const char *)csr,
      .csr_len = csr_len,
  };
  ca_issued_t issued;
  rc = ca_issue(ca->ca, &req, now_s, &issued);
  if (rc) {
    veil_log(VEIL_LOG_ERROR, "operator_ca", "issue_failed", "identity=%s err=%s", out->identity,
             veil_strerror(rc));
    return finish(ca, out, rc == VEIL_ECA_NAME ? SRV_OPCA_R_NAME : SRV_OPCA_R_INTERNAL);
  }
  out->cert_pem = issued.cert_pem; /* taken over */
  issued.cert_pem = NULL;
  snprintf(out->serial_hex, sizeof out->serial_hex, "%s", issued.serial_hex);
  ca_issued_free(&issued);
  return finish(ca, out, SRV_OPCA_ISSUED);
}

int srv_opca_metrics_append(const srv_opca_t *ca, char **page, size_t *len) {
  size_t cap = *len + 4096;
  char *p = realloc(*page, cap);
  if (!p)
    return VEIL_ENOMEM;
  *page = p;
  size_t n = *len;
  int w = snprintf(p + n, cap - n,
                   "# HELP veil_operator_ca_issued_total Certificates issued by the operator CA.\n"
                   "# TYPE veil_operator_ca_issued_total counter\n"
                   "veil_operator_ca_issued_total %llu\n"
                   "# HELP veil_operator_ca_refused_total Operator CA issuance requests refused, by reason.\n"
                   "# TYPE veil_operator_ca_refused_total counter\n",
                   (unsigned long long)ca->counts[SRV_OPCA_ISSUED]);
  if (w < 0 || (size_t)w >= cap - n)
    return VEIL_ENOMEM;
  n += (size_t)w;
  for (int r = 1; r < SRV_OPCA_NREASONS; r++) {
    w = snprintf(p + n, cap - n, "veil_operator_ca_refused_total{reason=\"%s\"} %llu\n", reason_names[r],
                 (unsigned long long)ca->counts[r]);
    if (w < 0 || (size_t)w >= cap - n)
      return VEIL_ENOMEM;
    n += (size_t)w;
  }
  *len = n;
  return 0;
}
