/* veil client session — own identity. Contract in vs_identity.h. */
#include "clients/lib/session/vs_identity.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/identity/x509.h"
#include "clients/lib/mls/suite.h"
#include "common/err.h"

/* Raw private key bytes in provider.h's encoding, and the suite for the key type. */
static int key_bytes(EVP_PKEY *pk, vs_identity_t *id) {
  if (EVP_PKEY_is_a(pk, "ED25519")) {
    size_t n = sizeof id->sig_priv;
    if (EVP_PKEY_get_raw_private_key(pk, id->sig_priv, &n) != 1 || n != 32)
      return VEIL_EINVAL;
    id->suite = MLS_SUITE_X25519_AES128GCM_SHA256_ED25519;
    return 0;
  }
  if (EVP_PKEY_is_a(pk, "EC")) {
    char curve[32];
    BIGNUM *d = NULL;
    if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, NULL) ||
        strcmp(curve, "prime256v1") != 0 || !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d))
      return VEIL_EUNSUPPORTED;
    int ok = BN_bn2binpad(d, id->sig_priv, 32) == 32;
    BN_clear_free(d);
    if (!ok)
      return VEIL_EINVAL;
    id->suite = MLS_SUITE_P256_AES128GCM_SHA256_P256;
    return 0;
  }
  return VEIL_EUNSUPPORTED;
}

/* `rest`: the issuing certificates after the leaf (may be NULL), carried in the credential
 * so that viewers can build the chain to their anchors (RFC 9420 §5.3.1: leaf first). */
static int finish(vs_identity_t *id, X509 *cert, EVP_PKEY *pk, STACK_OF(X509) *rest) {
  int rc = key_bytes(pk, id);
  if (rc)
    return rc;
  if (X509_check_private_key(cert, pk) != 1)
    return VEIL_EINVAL;
  int n = i2d_X509(cert, NULL);
  if (n <= 0)
    return VEIL_EDECODE;
  id->cert_der = malloc((size_t)n);
  if (!id->cert_der)
    return VEIL_ENOMEM;
  uint8_t *p = id->cert_der;
  i2d_X509(cert, &p);
  id->cert_len = (size_t)n;
  veil_writer_init_growable(&id->cert_list, 0);
  veil_write_vec(&id->cert_list, VEIL_LEN_VARINT, id->cert_der, id->cert_len);
  size_t count = 1;
  for (int i = 0; rest && i < sk_X509_num(rest) && count < X509_CHAIN_MAX; i++, count++) {
    uint8_t *der = NULL;
    int len = i2d_X509(sk_X509_value(rest, i), &der);
    if (len <= 0)
      return VEIL_EDECODE;
    veil_write_vec(&id->cert_list, VEIL_LEN_VARINT, der, (size_t)len);
    OPENSSL_free(der);
  }
  if (id->cert_list.err)
    return id->cert_list.err;
  id->mls.credential.type = MLS_CRED_X509;
  id->mls.credential.certificates = mls_list_from_writer(&id->cert_list, (uint32_t)count);
  id->mls.sig_priv = id->sig_priv;
  if (!id->name[0]) {
    /* The identity viewers will see (verify.h): SAN email, else SAN DNS, else CN. */
    x509_info_t info;
    if ((rc = x509_parse_info(id->cert_der, id->cert_len, &info)))
      return rc;
    snprintf(id->name, sizeof id->name, "%s",
             info.email[0] ? info.email : info.dns[0] ? info.dns : info.common_name);
  }
  return 0;
}

int vs_identity_generate(const char *identity, vc_sig_t type, vs_identity_t *out) {
  memset(out, 0, sizeof *out);
  if (!identity || !*identity || strlen(identity) >= sizeof out->name)
    return VEIL_EINVAL;
  if (type != VC_ECDSA_P256_SHA256 && type != VC_ED25519)
    return VEIL_EUNSUPPORTED;
  snprintf(out->name, sizeof out->name, "%s", identity);
  int rc = VEIL_ENOMEM;
  EVP_PKEY *pk = type == VC_ECDSA_P256_SHA256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                                              : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  X509 *x = X509_new();
  if (!pk || !x)
    goto done;
  uint8_t serial[16];
  vc_random(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
    BN_free(bn);
    goto done;
  }
  BN_free(bn);
  X509_set_version(x, 2);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)identity, -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, pk);
  if (strchr(identity, '@')) {
    char san[300];
    snprintf(san, sizeof san, "email:%s", identity);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
    if (ext) {
      X509_add_ext(x, ext, -1);
      X509_EXTENSION_free(ext);
    }
  }
  rc = VEIL_EINVAL;
  /* ECDSA signs with SHA-256; Ed25519 takes no separate digest. */
  if (X509_sign(x, pk, type == VC_ECDSA_P256_SHA256 ? EVP_sha256() : NULL) <= 0)
    goto done;
  rc = finish(out, x, pk, NULL);
done:
  X509_free(x);
  EVP_PKEY_free(pk);
  if (rc)
    vs_identity_free(out);
  return rc;
}

int vs_identity_load(const char *cert_file, const char *key_file, vs_identity_t *out) {
  memset(out, 0, sizeof *out);
  int rc = VEIL_EIO;
  X509 *x = NULL;
  EVP_PKEY *pk = NULL;
  FILE *f = fopen(cert_file, "r");
  if (!f)
    return rc;
  x = PEM_read_X509(f, NULL, NULL, NULL);
  STACK_OF(X509) *rest = sk_X509_new_null();
  for (X509 *c; rest && sk_X509_num(rest) < X509_CHAIN_MAX - 1 && (c = PEM_read_X509(f, NULL, NULL, NULL));)
    if (!sk_X509_push(rest, c))
      X509_free(c);
  ERR_clear_error(); /* the end of the file ends the loop with a "no start line" error */
  fclose(f);
  if (!(f = fopen(key_file, "r")))
    goto done;
  pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  rc = VEIL_EDECODE;
  if (!x || !pk)
    goto done;
  rc = finish(out, x, pk, rest);
done:
  sk_X509_pop_free(rest, X509_free);
  X509_free(x);
  EVP_PKEY_free(pk);
  if (rc)
    vs_identity_free(out);
  return rc;
}

void vs_identity_free(vs_identity_t *id) {
  vc_wipe(id->sig_priv, sizeof id->sig_priv);
  free(id->cert_der);
  id->cert_der = NULL;
  if (id->cert_list.growable)
    veil_writer_free(&id->cert_list);
  memset(&id->mls, 0, sizeof id->mls);
}
