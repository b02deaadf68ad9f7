/*
 * veil client session — the participant's own MLS identity: an x509 credential
 * (RFC 9420 §5.3.1) from a certificate + private key PEM, or a freshly generated
 * self-signed certificate ("unverified" to everyone, DESIGN.md) naming the participant
 * in CN and, when it looks like an email address, in an rfc822Name SAN.
 *
 * The key type picks the MLS cipher suite: Ed25519 → suite 1
 * (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519), P-256 → suite 2.
 *
 * OpenSSL only (this library links libwebsockets, hence OpenSSL, DESIGN.md).
 * The private key is wiped in vs_identity_free.
 */
#ifndef VEIL_CLIENTS_SESSION_VS_IDENTITY_H
#define VEIL_CLIENTS_SESSION_VS_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/mls/group.h"

typedef struct vs_identity {
  uint16_t suite;               /* MLS cipher suite for this key */
  uint8_t sig_priv[32];         /* provider.h encoding (Ed25519 seed / P-256 scalar) */
  uint8_t *cert_der;            /* owned */
  size_t cert_len;
  veil_writer_t cert_list;      /* owned: the Certificate list content */
  mls_identity_t mls;           /* views into the above */
  char name[256];               /* the identity the certificate names */
} vs_identity_t;

/* Self-signed, valid from one hour ago for 30 days, with a fresh key of `type`: VC_ECDSA_P256_SHA256
 * for meetings (suite 2, the one organisations' ECDSA device certificates imply, so such
 * an identity can share a group with room devices), VC_ED25519 for suite-1 groups. */
int vs_identity_generate(const char *identity, vc_sig_t type, vs_identity_t *out);
/* Leaf certificate (first PEM certificate of cert_pem) + private key PEM. */
int vs_identity_load(const char *cert_file, const char *key_file, vs_identity_t *out);
/* From a raw private key (provider.h encoding, e.g. a room device's unsealed key: copied,
 * the caller wipes its copy) and a DER chain, leaf first (copied). The key must be the
 * leaf's key (VEIL_EINVAL) and Ed25519 or P-256 (VEIL_EUNSUPPORTED). vs_identity_raw.c. */
int vs_identity_from_key(vc_sig_t type, const uint8_t *priv, const veil_view_t *chain, size_t n,
                         vs_identity_t *out);
void vs_identity_free(vs_identity_t *id);

#endif
