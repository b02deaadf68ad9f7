/* veil-server state directory, TLS certificate and token key. Contract in state.h. */
#include "server/state.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/log.h"

static int mkdirs(const char *path) {
  char tmp[SRV_PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -errno;
      *p = '/';
    }
  }
  if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
    return -errno;
  return 0;
}

int srv_state_prepare(srv_config_t *cfg, char *err, size_t el) {
  if (!cfg->state_dir[0]) {
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg && xdg[0] == '/')
      snprintf(cfg->state_dir, sizeof cfg->state_dir, "%.400s/veil", xdg);
    else
      snprintf(cfg->state_dir, sizeof cfg->state_dir, "veil-data");
  }
  int rc = mkdirs(cfg->state_dir);
  if (rc) {
    snprintf(err, el, "state_dir: cannot create %s: %s", cfg->state_dir, strerror(-rc));
    return VEIL_ESRV_STATE_DIR;
  }
  return 0;
}

static bool exists(const char *p) { return access(p, R_OK) == 0; }

static FILE *open_private(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return NULL;
  FILE *f = fdopen(fd, "w");
  if (!f)
    close(fd);
  return f;
}

static int add_ext(X509 *crt, int nid, const char *value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, crt, crt, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
  if (!ext)
    return -1;
  int ok = X509_add_ext(crt, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? 0 : -1;
}

/* A self-signed certificate for local development only: browsers and clients must be
 * told to trust it (docs/operations.md). */
static int generate_cert(const char *cert_path, const char *key_path) {
  int rc = VEIL_ESRV_TLS;
  X509 *crt = NULL;
  FILE *f = NULL;
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  if (!key || !(crt = X509_new()))
    goto fail;
  X509_set_version(crt, 2);
  uint8_t serial[16];
  FILE *ur = fopen("/dev/urandom", "rb");
  if (!ur || fread(serial, 1, sizeof serial, ur) != sizeof serial) {
    if (ur)
      fclose(ur);
    goto fail;
  }
  fclose(ur);
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt))) {
    BN_free(bn);
    goto fail;
  }
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(crt), -3600);
  X509_gmtime_adj(X509_getm_notAfter(crt), 365L * 24 * 3600);
  X509_set_pubkey(crt, key);
  X509_NAME *name = X509_get_subject_name(crt);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const uint8_t *)"veil development", -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)"localhost", -1, -1, 0);
  X509_set_issuer_name(crt, name);
  if (add_ext(crt, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
      add_ext(crt, NID_basic_constraints, "critical,CA:FALSE") ||
      add_ext(crt, NID_ext_key_usage, "serverAuth") || !X509_sign(crt, key, EVP_sha256()))
    goto fail;
  if (!(f = open_private(key_path)) || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1)
    goto fail;
  fclose(f);
  if (!(f = fopen(cert_path, "w")) || PEM_write_X509(f, crt) != 1)
    goto fail;
  rc = 0;
fail:
  if (f)
    fclose(f);
  X509_free(crt);
  EVP_PKEY_free(key);
  return rc;
}

int srv_tls_prepare(srv_config_t *cfg, char *err, size_t el) {
  bool given = cfg->cert_file[0] || cfg->key_file[0];
  if (given) {
    if (!cfg->cert_file[0] || !cfg->key_file[0]) {
      snprintf(err, el, "%s: cert_file and key_file must be given together",
               cfg->cert_file[0] ? "key_file" : "cert_file");
      return VEIL_ESRV_CONFIG;
    }
    if (!exists(cfg->cert_file) || !exists(cfg->key_file)) {
      snprintf(err, el, "%s: cannot read %s", exists(cfg->cert_file) ? "key_file" : "cert_file",
               exists(cfg->cert_file) ? cfg->key_file : cfg->cert_file);
      return VEIL_ESRV_TLS;
    }
    return 0;
  }
  snprintf(cfg->cert_file, sizeof cfg->cert_file, "%.480s/tls-cert.pem", cfg->state_dir);
  snprintf(cfg->key_file, sizeof cfg->key_file, "%.480s/tls-key.pem", cfg->state_dir);
  if (exists(cfg->cert_file) && exists(cfg->key_file))
    return 0;
  if (generate_cert(cfg->cert_file, cfg->key_file)) {
    snprintf(err, el, "cert_file: cannot generate a self-signed certificate in %s", cfg->state_dir);
    return VEIL_ESRV_TLS;
  }
  veil_log(VEIL_LOG_INFO, "server", "tls_cert_generated", "cert=%s", cfg->cert_file);
  return 0;
}

/* Every certificate of a PEM file, in order; NULL when it holds none. */
static STACK_OF(X509) *read_chain(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  STACK_OF(X509) *chain = sk_X509_new_null();
  X509 *c;
  while (chain && (c = PEM_read_X509(f, NULL, NULL, NULL)))
    if (!sk_X509_push(chain, c)) {
      X509_free(c);
      break;
    }
  fclose(f);
  ERR_clear_error(); /* the read that found no further certificate queued an error */
  if (chain && sk_X509_num(chain) == 0) {
    sk_X509_free(chain);
    chain = NULL;
  }
  return chain;
}

/* Whether the chain's leaf verifies against the CAs in ca_file, the rest of the chain
 * serving as intermediates: what an OpenSSL client given that file as its CA file decides
 * (SSL clients verify with the "ssl_server" defaults). Else OpenSSL's reason in why. */
static bool verifies_against(STACK_OF(X509) *chain, const char *ca_file, char *why, size_t wl) {
  bool ok = false;
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  if (!store || !ctx || X509_STORE_load_file(store, ca_file) != 1) {
    snprintf(why, wl, "cannot read %s", ca_file);
    goto done;
  }
  if (X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), chain) != 1 ||
      X509_STORE_CTX_set_default(ctx, "ssl_server") != 1)
    goto done;
  ok = X509_verify_cert(ctx) == 1;
  if (!ok)
    snprintf(why, wl, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
done:
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
  return ok;
}

/* The host a client verifying `leaf` by name must use: `host` when the certificate names
 * it (IP SAN for an address, DNS SAN otherwise), else the first DNS SAN without a wildcard;
 * "" when there is none. */
static void url_host_for(X509 *leaf, const char *host, char *out, size_t outlen) {
  out[0] = '\0';
  int is_ip = strchr(host, ':') || strspn(host, "0123456789.") == strlen(host);
  if (is_ip ? X509_check_ip_asc(leaf, host, 0) == 1
            : X509_check_host(leaf, host, strlen(host), X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1) {
    snprintf(out, outlen, "%s", host);
    return;
  }
  GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !out[0]; i++) {
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
    if (gn->type != GEN_DNS)
      continue;
    const unsigned char *d = ASN1_STRING_get0_data(gn->d.dNSName);
    int n = ASN1_STRING_length(gn->d.dNSName);
    if (n > 0 && (size_t)n < outlen && !memchr(d, '*', (size_t)n) && !memchr(d, '\0', (size_t)n)) {
      memcpy(out, d, (size_t)n);
      out[n] = '\0';
    }
  }
  GENERAL_NAMES_free(sans);
}

int srv_tls_trust(const char *cert_file, bool operator_cert, const char *host, srv_tls_trust_t *out) {
  memset(out, 0, sizeof *out);
  STACK_OF(X509) *chain = read_chain(cert_file);
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (!chain || X509_digest(sk_X509_value(chain, 0), EVP_sha256(), md, &n) != 1 || n != 32) {
    sk_X509_pop_free(chain, X509_free);
    return VEIL_ESRV_TLS;
  }
  veil_hex_encode(md, n, out->pin);
  if (operator_cert) {
    /* The system's CAs first: a publicly trusted certificate keeps verifying after renewal,
     * a pin would not. The reason kept is the system store's, the one worth reporting. */
    const char *sys = getenv(X509_get_default_cert_file_env());
    if (!sys || !*sys)
      sys = X509_get_default_cert_file();
    char ignored[sizeof out->why];
    if (verifies_against(chain, sys, out->why, sizeof out->why))
      snprintf(out->ca_file, sizeof out->ca_file, "%s", sys);
    else if (verifies_against(chain, cert_file, ignored, sizeof ignored))
      snprintf(out->ca_file, sizeof out->ca_file, "%s", cert_file);
    if (out->ca_file[0]) {
      out->why[0] = '\0';
      url_host_for(sk_X509_value(chain, 0), host, out->url_host, sizeof out->url_host);
    }
  }
  sk_X509_pop_free(chain, X509_free);
  return 0;
}

int srv_token_key_prepare(srv_config_t *cfg, sig_jwt_key_t **out, char *err, size_t el) {
  sig_jwt_alg_t alg = strcmp(cfg->token_alg, "HS256") == 0 ? SIG_JWT_HS256 : SIG_JWT_ES256;
  bool given = cfg->token_key_file[0] != '\0';
  if (!given)
    snprintf(cfg->token_key_file, sizeof cfg->token_key_file, "%.480s/token-%s.key", cfg->state_dir,
             alg == SIG_JWT_HS256 ? "hs256" : "es256");
  if (exists(cfg->token_key_file) || given) {
    int rc = sig_jwt_key_load(alg, cfg->token_key_file, out);
    if (rc) {
      snprintf(err, el, "token_key_file: cannot load a %s key from %s (%s)", cfg->token_alg, cfg->token_key_file,
               veil_strerror(rc));
      return VEIL_ESRV_CONFIG;
    }
    return 0;
  }
  int rc = sig_jwt_key_generate(alg, out);
  if (!rc && (rc = sig_jwt_key_save(*out, cfg->token_key_file))) {
    sig_jwt_key_free(*out);
    *out = NULL;
  }
  if (rc) {
    snprintf(err, el, "token_key_file: cannot create %s (%s)", cfg->token_key_file, veil_strerror(rc));
    return VEIL_ESRV_STATE_DIR;
  }
  veil_log(VEIL_LOG_INFO, "server", "token_key_generated", "alg=%s file=%s", cfg->token_alg, cfg->token_key_file);
  return 0;
}
