/*
 * veil — X.509 validation on the crypto library (contract in x509.h).
 *
 * This file is compiled twice: into the OpenSSL provider library and into the BoringSSL
 * one. The X509/X509_STORE calls used here exist with the same meaning in both, so one
 * source serves both backends (the alternative, two near-identical copies, would drift).
 * Only the public-key extraction differs between the libraries' EC APIs, so it avoids them:
 * the SubjectPublicKeyInfo of the two accepted key types has a fixed DER prefix (RFC 5480
 * for P-256 with the named curve, RFC 8410 for Ed25519), which identifies the curve exactly.
 */
#include "clients/lib/identity/x509.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

#define ANCHORS_MAX 64
#define CRLS_MAX 64

typedef struct anchor {
  X509 *cert; /* owned */
  x509_anchor_class_t cls;
  char label[X509_LABEL_MAX];
} anchor_t;

/* A CRL as added to one store: the verifier asks for a CRL only where one of these names
 * the issuer (see crl_cb). */
typedef struct crl_entry {
  X509_CRL *crl;     /* owned reference (the store took its own) */
  X509_STORE *store; /* borrowed: org or op, the store of the anchor that issued it */
} crl_entry_t;

struct x509_trust {
  X509_STORE *org; /* owned: organisation anchors and their CRLs */
  X509_STORE *op;  /* owned: operator anchors and their CRLs */
  anchor_t anchors[ANCHORS_MAX];
  size_t n;
  crl_entry_t crls[CRLS_MAX];
  size_t ncrl;
};

/* RFC 5480 SubjectPublicKeyInfo prefix of an uncompressed P-256 key (65 bytes follow). */
static const uint8_t spki_p256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
/* RFC 8410 SubjectPublicKeyInfo prefix of an Ed25519 key (32 bytes follow). */
static const uint8_t spki_ed25519[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                       0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

x509_trust_t *x509_trust_new(void) {
  x509_trust_t *t = calloc(1, sizeof *t);
  if (!t)
    return NULL;
  t->org = X509_STORE_new();
  t->op = X509_STORE_new();
  if (!t->org || !t->op) {
    x509_trust_free(t);
    return NULL;
  }
  return t;
}

void x509_trust_free(x509_trust_t *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++)
    X509_free(t->anchors[i].cert);
  for (size_t i = 0; i < t->ncrl; i++)
    X509_CRL_free(t->crls[i].crl);
  X509_STORE_free(t->org);
  X509_STORE_free(t->op);
  free(t);
}

static int add_cert(x509_trust_t *t, X509 *x, x509_anchor_class_t cls, const char *label) {
  if (t->n == ANCHORS_MAX)
    return VEIL_ELIMIT;
  if (cls != X509_ANCHOR_ORGANISATION && cls != X509_ANCHOR_OPERATOR)
    return VEIL_EINVAL;
  X509_STORE *store = cls == X509_ANCHOR_ORGANISATION ? t->org : t->op;
  if (X509_STORE_add_cert(store, x) != 1) {
    ERR_clear_error();
    return VEIL_ECRYPTO;
  }
  anchor_t *a = &t->anchors[t->n++];
  a->cert = x; /* the store took its own reference; this one is ours */
  a->cls = cls;
  snprintf(a->label, sizeof a->label, "%s", label ? label : "");
  return 0;
}

int x509_trust_add_pem(x509_trust_t *t, const char *pem, size_t len, x509_anchor_class_t cls,
                       const char *label) {
  if (len > INT32_MAX)
    return VEIL_EINVAL;
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (!bio)
    return VEIL_ENOMEM;
  int added = 0, rc = 0;
  X509 *x;
  while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    if ((rc = add_cert(t, x, cls, label)) != 0) {
      X509_free(x);
      break;
    }
    added++;
  }
  ERR_clear_error(); /* the loop ends on "no start line" */
  BIO_free(bio);
  if (rc)
    return rc;
  return added ? 0 : VEIL_EDECODE;
}

/* Parses exactly one DER certificate: trailing bytes are an error. */
static X509 *parse_der(const uint8_t *der, size_t len) {
  if (len == 0 || len > X509_CERT_MAX)
    return NULL;
  const unsigned char *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  if (x && p != der + len) {
    X509_free(x);
    x = NULL;
  }
  if (!x)
    ERR_clear_error();
  return x;
}

int x509_trust_add_der(x509_trust_t *t, const uint8_t *der, size_t len, x509_anchor_class_t cls,
                       const char *label) {
  X509 *x = parse_der(der, len);
  if (!x)
    return VEIL_EDECODE;
  int rc = add_cert(t, x, cls, label);
  if (rc)
    X509_free(x);
  return rc;
}

/* Which stores hold an anchor that issued `crl` (a bit per anchor class), after checking
 * its signature with that anchor's key. 0 when no anchor did. */
static unsigned crl_issuers(const x509_trust_t *t, X509_CRL *crl) {
  unsigned classes = 0;
  for (size_t i = 0; i < t->n; i++) {
    X509 *a = t->anchors[i].cert;
    if (X509_NAME_cmp(X509_get_subject_name(a), X509_CRL_get_issuer(crl)) != 0 ||
        !(X509_get_key_usage(a) & KU_CRL_SIGN))
      continue;
    EVP_PKEY *pk = X509_get_pubkey(a);
    if (pk && X509_CRL_verify(crl, pk) == 1)
      classes |= 1u << t->anchors[i].cls;
    EVP_PKEY_free(pk);
  }
  ERR_clear_error();
  return classes;
}

/* RFC 5280 §5.1.2.4-5: current when thisUpdate <= now < nextUpdate (an absent nextUpdate
 * never expires, as both libraries treat it). X509_cmp_time returns 0 on a malformed time. */
static int crl_current(X509_CRL *crl, int64_t now) {
  time_t tt = (time_t)now;
  int last = X509_cmp_time(X509_CRL_get0_lastUpdate(crl), &tt);
  const ASN1_TIME *next_t = X509_CRL_get0_nextUpdate(crl);
  int next = next_t ? X509_cmp_time(next_t, &tt) : 1;
  if (last == 0 || next == 0)
    return VEIL_EDECODE;
  return last < 0 && next > 0 ? 0 : VEIL_EX509_EXPIRED;
}

int x509_trust_add_crl_pem(x509_trust_t *t, const char *pem, size_t len, int64_t now) {
  if (len > INT32_MAX)
    return VEIL_EINVAL;
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (!bio)
    return VEIL_ENOMEM;
  X509_CRL *got[CRLS_MAX];
  unsigned classes[CRLS_MAX];
  size_t n = 0, adds = 0;
  int rc = 0;
  X509_CRL *c;
  ERR_clear_error();
  while ((c = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
    if (n == CRLS_MAX) {
      X509_CRL_free(c);
      rc = VEIL_ELIMIT;
      break;
    }
    got[n++] = c;
  }
  /* The loop ends at the end of the text ("no start line") or at a CRL that does not parse:
   * the second must not pass for the first, or a damaged file would silently lose CRLs. */
  unsigned long e = ERR_peek_last_error();
  if (!rc && (n == 0 || (e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE)))
    rc = VEIL_EDECODE;
  ERR_clear_error();
  BIO_free(bio);
  /* All checked before any is added, so a refused file leaves the configuration as it was. */
  for (size_t i = 0; !rc && i < n; i++) {
    classes[i] = crl_issuers(t, got[i]);
    rc = !classes[i] ? VEIL_EX509_UNTRUSTED : crl_current(got[i], now);
    adds += !!(classes[i] & (1u << X509_ANCHOR_ORGANISATION)) +
            !!(classes[i] & (1u << X509_ANCHOR_OPERATOR));
  }
  if (!rc && t->ncrl + adds > CRLS_MAX)
    rc = VEIL_ELIMIT;
  for (size_t i = 0; !rc && i < n; i++) {
    for (int cls = X509_ANCHOR_ORGANISATION; !rc && cls <= X509_ANCHOR_OPERATOR; cls++) {
      if (!(classes[i] & (1u << cls)))
        continue;
      X509_STORE *store = cls == X509_ANCHOR_ORGANISATION ? t->org : t->op;
      if (X509_STORE_add_crl(store, got[i]) != 1 || !X509_CRL_up_ref(got[i])) {
        rc = VEIL_ECRYPTO; /* only on allocation failure, after the checks above */
        break;
      }
      t->crls[t->ncrl++] = (crl_entry_t){.crl = got[i], .store = store};
    }
  }
  for (size_t i = 0; i < n; i++)
    X509_CRL_free(got[i]);
  ERR_clear_error();
  return rc;
}

const char *x509_crl_strerror(int rc) {
  switch (rc) {
  case VEIL_EDECODE:
    return "no CRL, or a CRL that does not parse";
  case VEIL_EX509_UNTRUSTED:
    return "not issued by a configured trust anchor (or its signature is wrong)";
  case VEIL_EX509_EXPIRED:
    return "expired (nextUpdate passed) or not yet valid";
  case VEIL_ELIMIT:
    return "too many CRLs";
  }
  return veil_strerror(rc);
}

static int store_has_crl(const x509_trust_t *t, const X509_STORE *store, const X509_NAME *issuer) {
  for (size_t i = 0; i < t->ncrl; i++)
    if (t->crls[i].store == store &&
        (!issuer || X509_NAME_cmp(X509_CRL_get_issuer(t->crls[i].crl), issuer) == 0))
      return 1;
  return 0;
}

/* X509_V_FLAG_CRL_CHECK_ALL asks for a CRL for every certificate of the chain. veil asks
 * for one only where the certificate's issuer has a CRL in this store, so that anchors
 * configured without CRLs (and intermediates, which cannot have one here) keep working;
 * where the issuer has one, not finding a usable CRL stays an error. Every other verdict
 * of the library stands. */
static int crl_cb(int ok, X509_STORE_CTX *ctx) {
  if (ok || X509_STORE_CTX_get_error(ctx) != X509_V_ERR_UNABLE_TO_GET_CRL)
    return ok;
  const x509_trust_t *t = X509_STORE_CTX_get_app_data(ctx);
  X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
  if (!t || !cur)
    return 0;
  return !store_has_crl(t, X509_STORE_CTX_get0_store(ctx), X509_get_issuer_name(cur));
}

static void name_line(X509_NAME *name, char *out, size_t cap) {
  out[0] = '\0';
  BIO *bio = BIO_new(BIO_s_mem());
  if (!bio)
    return;
  if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
    int n = BIO_read(bio, out, (int)cap - 1);
    out[n > 0 ? n : 0] = '\0';
  }
  BIO_free(bio);
}

/* Copies an IA5/UTF8 string, refusing embedded NULs (a classic name-spoofing trick). */
static void copy_asn1(const ASN1_STRING *s, char *out, size_t cap) {
  out[0] = '\0';
  const unsigned char *d = ASN1_STRING_get0_data(s);
  int n = ASN1_STRING_length(s);
  if (!d || n <= 0 || (size_t)n >= cap || memchr(d, '\0', (size_t)n))
    return;
  memcpy(out, d, (size_t)n);
  out[n] = '\0';
}

static int64_t asn1_time_posix(const ASN1_TIME *t) {
  ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
  int days = 0, secs = 0;
  int ok = epoch && ASN1_TIME_diff(&days, &secs, epoch, t);
  ASN1_TIME_free(epoch);
  return ok ? (int64_t)days * 86400 + secs : 0;
}

static int read_info(X509 *x, const uint8_t *der, size_t der_len, x509_info_t *out) {
  memset(out, 0, sizeof *out);
  name_line(X509_get_subject_name(x), out->subject, sizeof out->subject);
  name_line(X509_get_issuer_name(x), out->issuer, sizeof out->issuer);

  X509_NAME *subj = X509_get_subject_name(x);
  int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
  if (idx >= 0)
    copy_asn1(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)), out->common_name,
              sizeof out->common_name);

  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  for (size_t i = 0; gens && i < (size_t)sk_GENERAL_NAME_num(gens); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    if (g->type == GEN_EMAIL && !out->email[0])
      copy_asn1(g->d.rfc822Name, out->email, sizeof out->email);
    else if (g->type == GEN_DNS && !out->dns[0])
      copy_asn1(g->d.dNSName, out->dns, sizeof out->dns);
  }
  GENERAL_NAMES_free(gens);

  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  if (hex)
    snprintf(out->serial_hex, sizeof out->serial_hex, "%s", hex);
  OPENSSL_free(hex);
  BN_free(bn);

  out->not_before = asn1_time_posix(X509_get0_notBefore(x));
  out->not_after = asn1_time_posix(X509_get0_notAfter(x));
  out->self_signed = X509_check_issued(x, x) == X509_V_OK;

  uint8_t h[32];
  if (vc_hash(VC_SHA256, der, der_len, h) == 0)
    veil_hex_encode(h, 32, out->sha256_hex);
  if (vc_hash(VC_SHA1, der, der_len, h) == 0)
    veil_hex_encode(h, 20, out->sha1_hex);

  EVP_PKEY *pk = X509_get_pubkey(x);
  unsigned char *spki = NULL;
  int spki_len = pk ? i2d_PUBKEY(pk, &spki) : -1;
  EVP_PKEY_free(pk);
  int rc = VEIL_EX509_KEY;
  if (spki_len == (int)sizeof spki_p256 + 65 && memcmp(spki, spki_p256, sizeof spki_p256) == 0) {
    out->key_type = VC_ECDSA_P256_SHA256;
    out->public_key_len = 65;
    memcpy(out->public_key, spki + sizeof spki_p256, 65);
    rc = 0;
  } else if (spki_len == (int)sizeof spki_ed25519 + 32 &&
             memcmp(spki, spki_ed25519, sizeof spki_ed25519) == 0) {
    out->key_type = VC_ED25519;
    out->public_key_len = 32;
    memcpy(out->public_key, spki + sizeof spki_ed25519, 32);
    rc = 0;
  }
  OPENSSL_free(spki);
  ERR_clear_error();
  return rc;
}

int x509_parse_info(const uint8_t *der, size_t len, x509_info_t *out) {
  X509 *x = parse_der(der, len);
  if (!x) {
    memset(out, 0, sizeof *out);
    return VEIL_EX509_PARSE;
  }
  int rc = read_info(x, der, len, out);
  X509_free(x);
  return rc;
}

static int map_verify_error(int e) {
  switch (e) {
  case X509_V_ERR_CERT_HAS_EXPIRED:
  case X509_V_ERR_CERT_NOT_YET_VALID:
  case X509_V_ERR_CRL_HAS_EXPIRED:
  case X509_V_ERR_CRL_NOT_YET_VALID:
    return VEIL_EX509_EXPIRED;
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    return VEIL_EX509_SELF_SIGNED;
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    return VEIL_EX509_UNTRUSTED;
  case X509_V_ERR_CERT_REVOKED:
    return VEIL_EX509_REVOKED;
  default:
    return VEIL_EX509_CHAIN;
  }
}

/* Verifies against one store; on success names the anchor the chain ended at. */
static int verify_in(const x509_trust_t *t, X509_STORE *store, X509 *leaf,
                     STACK_OF(X509) *untrusted, int64_t now, x509_verdict_t *out) {
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  if (!ctx)
    return VEIL_ENOMEM;
  int rc = VEIL_ECRYPTO;
  if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1)
    goto done;
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_time(param, (time_t)now);
  X509_VERIFY_PARAM_set_depth(param, X509_CHAIN_MAX);
  /* RFC 5280 §6.3; without a CRL in this store nothing changes from plain path validation. */
  if (store_has_crl(t, store, NULL)) {
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    X509_STORE_CTX_set_app_data(ctx, (void *)t);
    X509_STORE_CTX_set_verify_cb(ctx, crl_cb);
  }
  if (X509_verify_cert(ctx) == 1) {
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    X509 *top = sk_X509_value(chain, sk_X509_num(chain) - 1);
    for (size_t i = 0; i < t->n; i++) {
      if (X509_cmp(top, t->anchors[i].cert) == 0) {
        snprintf(out->anchor, sizeof out->anchor, "%s", t->anchors[i].label);
        break;
      }
    }
    rc = 0;
  } else {
    int e = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    /* Revocation (VEIL_EX509_REVOKED): the text, the same on both backends, is what viewers
     * show and says which certificate of the chain it was. */
    if (e == X509_V_ERR_CERT_REVOKED && depth == 0)
      snprintf(out->reason_text, sizeof out->reason_text, "certificate revoked");
    else if (e == X509_V_ERR_CERT_REVOKED)
      snprintf(out->reason_text, sizeof out->reason_text,
               "issuing CA certificate revoked (chain depth %d)", depth);
    else
      snprintf(out->reason_text, sizeof out->reason_text, "%s", X509_verify_cert_error_string(e));
    rc = map_verify_error(e);
  }
done:
  X509_STORE_CTX_free(ctx);
  ERR_clear_error();
  return rc;
}

int x509_verify_chain(const x509_trust_t *t, const veil_view_t *chain, size_t n, int64_t now,
                      x509_verdict_t *out) {
  memset(out, 0, sizeof *out);
  if (n == 0 || n > X509_CHAIN_MAX)
    return VEIL_EINVAL;
  X509 *leaf = parse_der(chain[0].ptr, chain[0].len);
  if (!leaf)
    return VEIL_EX509_PARSE;
  int rc = read_info(leaf, chain[0].ptr, chain[0].len, &out->leaf);
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  if (rc)
    goto done;
  rc = VEIL_ENOMEM;
  if (!untrusted)
    goto done;
  out->level = X509_UNVERIFIED;
  out->reason = 0;
  for (size_t i = 1; i < n; i++) {
    X509 *x = parse_der(chain[i].ptr, chain[i].len);
    if (!x || !sk_X509_push(untrusted, x)) {
      X509_free(x);
      /* A malformed intermediate makes the chain unverifiable, not the leaf unreadable. */
      out->reason = VEIL_EX509_CHAIN;
      snprintf(out->reason_text, sizeof out->reason_text, "certificate %zu does not parse", i);
      rc = 0;
      goto done;
    }
  }
  int vr = verify_in(t, t->org, leaf, untrusted, now, out);
  if (vr == 0) {
    out->level = X509_EXTERNALLY_VERIFIED;
  } else {
    int first = vr;
    char first_text[sizeof out->reason_text];
    memcpy(first_text, out->reason_text, sizeof first_text);
    vr = verify_in(t, t->op, leaf, untrusted, now, out);
    if (vr == 0) {
      out->level = X509_OPERATOR_VERIFIED;
      out->reason_text[0] = '\0';
    } else {
      /* Report the more telling of the two failures: an expired or forged chain beats
       * "unknown issuer". */
      out->reason = first != VEIL_EX509_UNTRUSTED ? first : vr;
      if (first != VEIL_EX509_UNTRUSTED)
        memcpy(out->reason_text, first_text, sizeof first_text);
      if (out->reason == VEIL_EX509_UNTRUSTED && out->leaf.self_signed && n == 1)
        out->reason = VEIL_EX509_SELF_SIGNED;
    }
  }
  rc = 0;
done:
  sk_X509_pop_free(untrusted, X509_free);
  X509_free(leaf);
  return rc;
}

const char *x509_level_name(x509_level_t level) {
  switch (level) {
  case X509_EXTERNALLY_VERIFIED:
    return "externally verified";
  case X509_OPERATOR_VERIFIED:
    return "operator verified";
  case X509_UNVERIFIED:
    break;
  }
  return "unverified";
}

int x509_pem_to_der(const char *pem, size_t len, veil_view_t *out, size_t max) {
  if (len > INT32_MAX)
    return VEIL_EINVAL;
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (!bio)
    return VEIL_ENOMEM;
  size_t n = 0;
  X509 *x;
  int rc = 0;
  while (n < max && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    unsigned char *der = NULL;
    int dl = i2d_X509(x, &der);
    X509_free(x);
    if (dl <= 0) {
      rc = VEIL_ECRYPTO;
      break;
    }
    uint8_t *copy = malloc((size_t)dl);
    if (!copy) {
      OPENSSL_free(der);
      rc = VEIL_ENOMEM;
      break;
    }
    memcpy(copy, der, (size_t)dl);
    OPENSSL_free(der);
    out[n].ptr = copy;
    out[n].len = (size_t)dl;
    n++;
  }
  ERR_clear_error();
  BIO_free(bio);
  if (rc) {
    for (size_t i = 0; i < n; i++)
      free((void *)out[i].ptr);
    return rc;
  }
  return n ? (int)n : VEIL_EDECODE;
}
