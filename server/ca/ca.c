/* veil — certificate authority (contract in ca.h). The only file of veil-ca that touches
 * OpenSSL's X509 API. */
#include "server/ca/ca.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct ca {
  char dir[4096];
  X509 *cert;    /* owned */
  EVP_PKEY *key; /* owned */
  char *cert_pem;
};

typedef struct entry {
  char status; /* 'V' valid, 'R' revoked */
  char serial[41];
  long long not_after, revoked_at;
  char kind[8];
  char identity[CA_NAME_MAX + 1];
  char cn[CA_NAME_MAX + 1];
} entry_t;

static void path_of(const char *dir, const char *name, char *out, size_t cap) {
  snprintf(out, cap, "%s/%s", dir, name);
}

/* Names go into certificates and a tab-separated index: printable ASCII only, no tabs. */
static int printable(const char *s) {
  if (!s || !*s || strlen(s) > CA_NAME_MAX)
    return 0;
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
      return 0;
  return 1;
}

static int write_file(const char *path, const char *data, size_t len, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0)
    return VEIL_EIO;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w <= 0) {
      close(fd);
      return VEIL_EIO;
    }
    off += (size_t)w;
  }
  return close(fd) ? VEIL_EIO : 0;
}

static char *bio_text(BIO *b) {
  char *p = NULL;
  long n = BIO_get_mem_data(b, &p);
  char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (s) {
    memcpy(s, p, (size_t)n);
    s[n] = '\0';
  }
  return s;
}

static char *cert_to_pem(X509 *x) {
  BIO *b = BIO_new(BIO_s_mem());
  char *s = b && PEM_write_bio_X509(b, x) ? bio_text(b) : NULL;
  BIO_free(b);
  return s;
}

static char *key_to_pem(EVP_PKEY *k) {
  BIO *b = BIO_new(BIO_s_mem());
  char *s = b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) ? bio_text(b) : NULL;
  if (b) {
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (n > 0)
      OPENSSL_cleanse(p, (size_t)n);
  }
  BIO_free(b);
  return s;
}

static EVP_PKEY *keygen(ca_key_type_t t) {
  return t == CA_KEY_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                             : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* Ed25519 signs the whole message (no digest, RFC 8410 §6); ECDSA with SHA-256. */
static const EVP_MD *md_for(EVP_PKEY *k) {
  return EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

static int supported_key(EVP_PKEY *k) {
  if (EVP_PKEY_get_id(k) == EVP_PKEY_ED25519)
    return 1;
  char group[64];
  size_t gl = 0;
  return EVP_PKEY_get_id(k) == EVP_PKEY_EC &&
         EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &gl) == 1 &&
         strcmp(group, "prime256v1") == 0;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  int ok = e && X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  return ok ? 0 : VEIL_ECRYPTO;
}

static int random_serial(X509 *x, char hex[41]) {
  unsigned char s[16];
  if (RAND_bytes(s, sizeof s) != 1)
    return VEIL_ECRYPTO;
  s[0] &= 0x7f; /* positive (RFC 5280 §4.1.2.2) */
  s[0] |= 0x40; /* and a fixed length, so the hex form is stable */
  BIGNUM *bn = BN_bin2bn(s, sizeof s, NULL);
  ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
  char *h = bn ? BN_bn2hex(bn) : NULL;
  int ok = ai && h && X509_set_serialNumber(x, ai);
  if (ok)
    snprintf(hex, 41, "%s", h);
  OPENSSL_free(h);
  ASN1_INTEGER_free(ai);
  BN_free(bn);
  return ok ? 0 : VEIL_ECRYPTO;
}

/* A certificate skeleton: version 3, serial, validity, subject CN, public key. */
static X509 *skeleton(const char *cn, EVP_PKEY *pub, int64_t secs, int64_t now, char serial[41]) {
  X509 *x = X509_new();
  X509_NAME *name = x ? X509_get_subject_name(x) : NULL;
  if (!x || !X509_set_version(x, 2) || random_serial(x, serial) ||
      !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)now - 60) ||
      !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + secs)) ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                  0) ||
      !X509_set_pubkey(x, pub)) {
    X509_free(x);
    return NULL;
  }
  return x;
}

int ca_create(const char *dir, const char *name, ca_key_type_t key_type, int days, int64_t now) {
  char path[4200], serial[41];
  if (!printable(name) || days <= 0)
    return VEIL_ECA_NAME;
  if (mkdir(dir, 0700) && errno != EEXIST)
    return VEIL_EIO;
  path_of(dir, "ca.pem", path, sizeof path);
  if (access(path, F_OK) == 0)
    return VEIL_ECA_DIR;
  path_of(dir, "issued", path, sizeof path);
  if (mkdir(path, 0700) && errno != EEXIST)
    return VEIL_EIO;
  int rc = VEIL_ECRYPTO;
  EVP_PKEY *k = keygen(key_type);
  X509 *x = k ? skeleton(name, k, (int64_t)days * 86400, now, serial) : NULL;
  char *cp = NULL, *kp = NULL;
  if (!x || !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
      add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
      add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      add_ext(x, x, NID_subject_key_identifier, "hash") || !X509_sign(x, k, md_for(k)) ||
      !(cp = cert_to_pem(x)) || !(kp = key_to_pem(k)))
    goto done;
  path_of(dir, "ca.key", path, sizeof path);
  if ((rc = write_file(path, kp, strlen(kp), 0600)))
    goto done;
  path_of(dir, "index.txt", path, sizeof path);
  if ((rc = write_file(path, "", 0, 0644)))
    goto done;
  path_of(dir, "ca.pem", path, sizeof path);
  rc = write_file(path, cp, strlen(cp), 0644);
done:
  if (kp) {
    OPENSSL_cleanse(kp, strlen(kp));
    free(kp);
  }
  free(cp);
  X509_free(x);
  EVP_PKEY_free(k);
  ERR_clear_error();
  return rc;
}

int ca_open(const char *dir, ca_t **out) {
  char path[4200];
  ca_t *ca = calloc(1, sizeof *ca);
  if (!ca)
    return VEIL_ENOMEM;
  snprintf(ca->dir, sizeof ca->dir, "%s", dir);
  path_of(dir, "ca.pem", path, sizeof path);
  FILE *f = fopen(path, "r");
  ca->cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f)
    fclose(f);
  path_of(dir, "ca.key", path, sizeof path);
  f = fopen(path, "r");
  ca->key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
  if (f)
    fclose(f);
  ERR_clear_error();
  if (!ca->cert || !ca->key || X509_check_private_key(ca->cert, ca->key) != 1 ||
      !(ca->cert_pem = cert_to_pem(ca->cert))) {
    ca_close(ca);
    ERR_clear_error();
    return VEIL_ECA_DIR;
  }
  *out = ca;
  return 0;
}

void ca_close(ca_t *ca) {
  if (!ca)
    return;
  X509_free(ca->cert);
  EVP_PKEY_free(ca->key);
  free(ca->cert_pem);
  free(ca);
}

const char *ca_cert_pem(const ca_t *ca) { return ca->cert_pem; }

/* ---- index ---------------------------------------------------------------------------- */

/* Issuing and revoking read, change and rewrite the index: an exclusive lock on
 * <dir>/index.lock serialises concurrent veil-ca runs (and server threads, if any). */
static int lock_index(const ca_t *ca) {
  char path[4200];
  path_of(ca->dir, "index.lock", path, sizeof path);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return VEIL_EIO;
  if (flock(fd, LOCK_EX) != 0) {
    close(fd);
    return VEIL_EIO;
  }
  return fd;
}

static void unlock_index(int fd) {
  if (fd >= 0)
    close(fd); /* releases the lock */
}

static int parse_entry(char *line, entry_t *e) {
  char *f[7];
  size_t n = 0;
  for (char *p = line; n < 7; n++) {
    f[n] = p;
    char *t = strchr(p, '\t');
    if (!t) {
      n++;
      break;
    }
    *t = '\0';
    p = t + 1;
  }
  if (n != 7 || strlen(f[0]) != 1 || (f[0][0] != 'V' && f[0][0] != 'R') ||
      strlen(f[1]) == 0 || strlen(f[1]) > 40 || strlen(f[4]) >= sizeof e->kind ||
      !printable(f[5]) || !printable(f[6]))
    return VEIL_ECA_INDEX;
  char *end;
  e->not_after = strtoll(f[2], &end, 10);
  if (*end)
    return VEIL_ECA_INDEX;
  e->revoked_at = strtoll(f[3], &end, 10);
  if (*end)
    return VEIL_ECA_INDEX;
  e->status = f[0][0];
  snprintf(e->serial, sizeof e->serial, "%s", f[1]);
  snprintf(e->kind, sizeof e->kind, "%s", f[4]);
  snprintf(e->identity, sizeof e->identity, "%s", f[5]);
  snprintf(e->cn, sizeof e->cn, "%s", f[6]);
  return 0;
}

/* Reads the whole index; *out receives a malloc'd array. */
static int read_index(const ca_t *ca, entry_t **out, size_t *count) {
  char path[4200], line[1024];
  path_of(ca->dir, "index.txt", path, sizeof path);
  FILE *f = fopen(path, "r");
  if (!f)
    return VEIL_ECA_INDEX;
  entry_t *v = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  while (fgets(line, sizeof line, f)) {
    size_t l = strlen(line);
    if (l == 0 || line[l - 1] != '\n' || n == CA_INDEX_MAX) {
      rc = VEIL_ECA_INDEX;
      break;
    }
    line[l - 1] = '\0';
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      entry_t *nv = realloc(v, cap * sizeof *v);
      if (!nv) {
        rc = VEIL_ENOMEM;
        break;
      }
      v = nv;
    }
    if ((rc = parse_entry(line, &v[n])))
      break;
    n++;
  }
  fclose(f);
  if (rc) {
    free(v);
    return rc;
  }
  *out = v;
  *count = n;
  return 0;
}

static int write_index(const ca_t *ca, const entry_t *v, size_t n) {
  char path[4200], tmp[4300];
  path_of(ca->dir, "index.txt", path, sizeof path);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return VEIL_EIO;
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%c\t%s\t%lld\t%lld\t%s\t%s\t%s\n", v[i].status, v[i].serial, v[i].not_after,
            v[i].revoked_at, v[i].kind, v[i].identity, v[i].cn);
  int bad = ferror(f);
  bad |= fclose(f) != 0;
  return bad || rename(tmp, path) ? VEIL_EIO : 0;
}

/* ---- issuing -------------------------------------------------------------------------- */

static EVP_PKEY *csr_key(const char *pem, size_t len) {
  if (len > CA_CSR_MAX)
    return NULL;
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
  EVP_PKEY *k = req ? X509_REQ_get_pubkey(req) : NULL;
  /* Proof of possession: the CSR must be signed by the key it asks to certify. */
  if (k && (X509_REQ_verify(req, k) != 1 || !supported_key(k))) {
    EVP_PKEY_free(k);
    k = NULL;
  }
  X509_REQ_free(req);
  BIO_free(b);
  ERR_clear_error();
  return k;
}

int ca_issue(ca_t *ca, const ca_issue_req_t *req, int64_t now, ca_issued_t *out) {
  memset(out, 0, sizeof *out);
  const char *cn = req->common_name ? req->common_name : req->identity;
  int64_t secs = req->validity_s > 0 ? req->validity_s : (int64_t)req->days * 86400;
  if (!printable(req->identity) || !printable(cn) || strpbrk(req->identity, " ,/\\") ||
      (req->kind == CA_CERT_USER) != (strchr(req->identity, '@') != NULL) ||
      (req->validity_s <= 0 && req->days <= 0) ||
      (req->kind != CA_CERT_USER && req->kind != CA_CERT_DEVICE))
    return VEIL_ECA_NAME;
  int lock = lock_index(ca);
  if (lock < 0)
    return lock;
  entry_t *idx = NULL;
  size_t n = 0;
  int rc = read_index(ca, &idx, &n);
  if (rc) {
    unlock_index(lock);
    return rc;
  }
  EVP_PKEY *k = req->csr_pem ? csr_key(req->csr_pem, req->csr_len) : keygen(req->key_type);
  char san[CA_NAME_MAX + 16], path[4200];
  snprintf(san, sizeof san, "%s:%s", req->kind == CA_CERT_USER ? "email" : "DNS", req->identity);
  X509 *x = NULL;
  rc = req->csr_pem ? VEIL_ECA_CSR : VEIL_ECRYPTO;
  if (!k)
    goto done;
  rc = VEIL_ECRYPTO;
  if (!(x = skeleton(cn, k, secs, now, out->serial_hex)) ||
      !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) ||
      add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
      add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature") ||
      add_ext(x, ca->cert, NID_ext_key_usage, "clientAuth") ||
      add_ext(x, ca->cert, NID_subject_alt_name, san) ||
      add_ext(x, ca->cert, NID_subject_key_identifier, "hash") ||
      add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") ||
      !X509_sign(x, ca->key, md_for(ca->key)) || !(out->cert_pem = cert_to_pem(x)) ||
      (!req->csr_pem && !(out->key_pem = key_to_pem(k))))
    goto done;
  snprintf(path, sizeof path, "%s/issued/%s.pem", ca->dir, out->serial_hex);
  if ((rc = write_file(path, out->cert_pem, strlen(out->cert_pem), 0644)))
    goto done;
  entry_t *nv = realloc(idx, (n + 1) * sizeof *idx);
  rc = VEIL_ENOMEM;
  if (!nv)
    goto done;
  idx = nv;
  entry_t *e = &idx[n++];
  memset(e, 0, sizeof *e);
  e->status = 'V';
  snprintf(e->serial, sizeof e->serial, "%s", out->serial_hex);
  e->not_after = (long long)(now + secs);
  snprintf(e->kind, sizeof e->kind, "%s", req->kind == CA_CERT_USER ? "user" : "device");
  snprintf(e->identity, sizeof e->identity, "%s", req->identity);
  snprintf(e->cn, sizeof e->cn, "%s", cn);
  rc = write_index(ca, idx, n);
done:
  if (rc)
    ca_issued_free(out);
  free(idx);
  X509_free(x);
  EVP_PKEY_free(k);
  ERR_clear_error();
  unlock_index(lock);
  return rc;
}

void ca_issued_free(ca_issued_t *c) {
  free(c->cert_pem);
  if (c->key_pem) {
    OPENSSL_cleanse(c->key_pem, strlen(c->key_pem));
    free(c->key_pem);
  }
  memset(c, 0, sizeof *c);
}

int ca_list(ca_t *ca, FILE *out) {
  entry_t *idx = NULL;
  size_t n = 0;
  int rc = read_index(ca, &idx, &n);
  if (rc)
    return rc;
  fprintf(out, "%-7s %-32s %-6s %-20s %-32s %s\n", "status", "serial", "kind", "not after",
          "identity", "name");
  for (size_t i = 0; i < n; i++) {
    char when[32];
    time_t t = (time_t)idx[i].not_after;
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    fprintf(out, "%-7s %-32s %-6s %-20s %-32s %s\n", idx[i].status == 'V' ? "valid" : "revoked",
            idx[i].serial, idx[i].kind, when, idx[i].identity, idx[i].cn);
  }
  free(idx);
  return 0;
}

static int write_crl(ca_t *ca, const entry_t *idx, size_t n, int64_t now) {
  X509_CRL *crl = X509_CRL_new();
  ASN1_TIME *last = ASN1_TIME_set(NULL, (time_t)now);
  ASN1_TIME *next = ASN1_TIME_set(NULL, (time_t)now + 30 * 86400);
  int rc = VEIL_ECRYPTO;
  if (!crl || !last || !next || !X509_CRL_set_version(crl, 1) ||
      !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) ||
      !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next))
    goto done;
  for (size_t i = 0; i < n; i++) {
    if (idx[i].status != 'R')
      continue;
    X509_REVOKED *r = X509_REVOKED_new();
    BIGNUM *bn = NULL;
    ASN1_INTEGER *ai = NULL;
    ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)idx[i].revoked_at);
    int ok = r && when && BN_hex2bn(&bn, idx[i].serial) && (ai = BN_to_ASN1_INTEGER(bn, NULL)) &&
             X509_REVOKED_set_serialNumber(r, ai) && X509_REVOKED_set_revocationDate(r, when) &&
             X509_CRL_add0_revoked(crl, r);
    ASN1_INTEGER_free(ai);
    ASN1_TIME_free(when);
    BN_free(bn);
    if (!ok) {
      X509_REVOKED_free(r);
      goto done;
    }
  }
  X509_CRL_sort(crl);
  if (!X509_CRL_sign(crl, ca->key, md_for(ca->key)))
    goto done;
  BIO *b = BIO_new(BIO_s_mem());
  char *pem = b && PEM_write_bio_X509_CRL(b, crl) ? bio_text(b) : NULL;
  BIO_free(b);
  if (pem) {
    char path[4200];
    path_of(ca->dir, "crl.pem", path, sizeof path);
    rc = write_file(path, pem, strlen(pem), 0644);
    free(pem);
  }
done:
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
  ERR_clear_error();
  return rc;
}

int ca_crl(ca_t *ca, int64_t now) {
  int lock = lock_index(ca);
  if (lock < 0)
    return lock;
  entry_t *idx = NULL;
  size_t n = 0;
  int rc = read_index(ca, &idx, &n);
  if (!rc)
    rc = write_crl(ca, idx, n, now);
  free(idx);
  unlock_index(lock);
  return rc;
}

int ca_revoke(ca_t *ca, const char *serial_hex, int64_t now) {
  int lock = lock_index(ca);
  if (lock < 0)
    return lock;
  entry_t *idx = NULL;
  size_t n = 0;
  int rc = read_index(ca, &idx, &n);
  if (rc) {
    unlock_index(lock);
    return rc;
  }
  rc = VEIL_ECA_SERIAL;
  for (size_t i = 0; i < n; i++) {
    if (strcasecmp(idx[i].serial, serial_hex) != 0)
      continue;
    if (idx[i].status == 'R') {
      rc = VEIL_ECA_REVOKED;
      break;
    }
    idx[i].status = 'R';
    idx[i].revoked_at = (long long)now;
    /* The CRL first: if it cannot be written the index still says "valid", and a retry
     * revokes again; the reverse order could leave a revoked entry missing from the CRL. */
    rc = write_crl(ca, idx, n, now);
    if (!rc)
      rc = write_index(ca, idx, n);
    break;
  }
  free(idx);
  unlock_index(lock);
  return rc;
}
