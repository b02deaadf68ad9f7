/*
 * veil MLS — credential key checks. Contract in credential.h.
 */
#include "clients/lib/mls/credential.h"

#include <string.h>

#include "clients/lib/identity/x509.h"
#include "clients/lib/mls/suite.h"

int mls_credential_check_key(uint16_t cipher_suite, const mls_credential_t *cred,
                             veil_view_t signature_key) {
  const mls_suite_t *s = mls_suite_get(cipher_suite);
  if (!s || !cred)
    return VEIL_EINVAL;
  if (cred->type == MLS_CRED_BASIC)
    return cred->identity.len ? 0 : VEIL_EMLS_CREDENTIAL;
  if (cred->type != MLS_CRED_X509 || cred->certificates.count == 0)
    return VEIL_EMLS_CREDENTIAL;
  /* Certificate{opaque cert_data<V>}: the first element is the leaf certificate. */
  veil_reader_t r;
  veil_view_t der;
  mls_list_reader(&cred->certificates, &r);
  int rc = mls_read_opaque(&r, &der);
  if (rc)
    return VEIL_EMLS_CREDENTIAL;
  x509_info_t info;
  if (x509_parse_info(der.ptr, der.len, &info) != 0)
    return VEIL_EMLS_CREDENTIAL;
  if (info.key_type != s->sig)
    return VEIL_EMLS_X509_KEY;
  /* Public values: a plain comparison is fine. */
  if (info.public_key_len != signature_key.len ||
      memcmp(info.public_key, signature_key.ptr, signature_key.len) != 0)
    return VEIL_EMLS_X509_KEY;
  return 0;
}
