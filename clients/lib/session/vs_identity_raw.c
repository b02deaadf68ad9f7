/* veil client session — an identity from a raw key and a DER chain (room devices, whose
 * keys never exist as PEM outside the provisioning JWE). Contract in vs_identity.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/identity/x509.h"
#include "clients/lib/mls/suite.h"
#include "clients/lib/session/vs_identity.h"
#include "common/err.h"

int vs_identity_from_key(vc_sig_t type, const uint8_t *priv, const veil_view_t *chain, size_t n,
                         vs_identity_t *out) {
  memset(out, 0, sizeof *out);
  if (!priv || !chain || n == 0 || n > X509_CHAIN_MAX)
    return VEIL_EINVAL;
  if (type == VC_ED25519)
    out->suite = MLS_SUITE_X25519_AES128GCM_SHA256_ED25519;
  else if (type == VC_ECDSA_P256_SHA256)
    out->suite = MLS_SUITE_P256_AES128GCM_SHA256_P256;
  else
    return VEIL_EUNSUPPORTED;
  x509_info_t info;
  uint8_t pub[VC_SIG_PUB_MAX];
  int rc = x509_parse_info(chain[0].ptr, chain[0].len, &info);
  if (rc)
    goto fail;
  /* RFC 9420 §5.3.1: the signature key must be the leaf certificate's key. */
  rc = VEIL_EINVAL;
  if (info.key_type != type || vc_sig_public(type, priv, pub) ||
      info.public_key_len != vc_sig_pub_len(type) || memcmp(pub, info.public_key, info.public_key_len))
    goto fail;
  memcpy(out->sig_priv, priv, vc_sig_priv_len(type));
  rc = VEIL_ENOMEM;
  if (!(out->cert_der = malloc(chain[0].len)))
    goto fail;
  memcpy(out->cert_der, chain[0].ptr, chain[0].len);
  out->cert_len = chain[0].len;
  veil_writer_init_growable(&out->cert_list, 0);
  for (size_t i = 0; i < n; i++)
    veil_write_vec(&out->cert_list, VEIL_LEN_VARINT, chain[i].ptr, chain[i].len);
  if ((rc = out->cert_list.err))
    goto fail;
  out->mls.credential.type = MLS_CRED_X509;
  out->mls.credential.certificates = mls_list_from_writer(&out->cert_list, (uint32_t)n);
  out->mls.sig_priv = out->sig_priv;
  snprintf(out->name, sizeof out->name, "%s",
           info.email[0] ? info.email : info.dns[0] ? info.dns : info.common_name);
  return 0;
fail:
  vs_identity_free(out);
  return rc;
}
