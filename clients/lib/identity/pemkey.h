/*
 * veil — private keys from PEM text (RFC 7468) without the crypto library's decoders.
 *
 * Room devices receive their identity key as PEM inside a JWE (DESIGN.md, "Identity"); the
 * device must know the key's type and raw value to refuse anything but ECDSA P-256 and to
 * keep the scalar encrypted at rest. Two encodings are read:
 *   "PRIVATE KEY"     PKCS #8 PrivateKeyInfo / OneAsymmetricKey (RFC 5208, RFC 5958) holding
 *                     an id-ecPublicKey P-256 key (RFC 5915 inside) or an Ed25519 key (RFC 8410)
 *   "EC PRIVATE KEY"  SEC1 ECPrivateKey (RFC 5915) whose parameters name P-256
 * Encrypted PEM is refused. The DER is read through common/bytes.h with definite lengths
 * of at most two bytes (keys are far smaller), so nothing here trusts a declared length.
 */
#ifndef VEIL_CLIENTS_IDENTITY_PEMKEY_H
#define VEIL_CLIENTS_IDENTITY_PEMKEY_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/crypto/provider.h"

#define PEMKEY_MAX_TEXT (64 * 1024)

/* Finds the first private-key block of `pem` and writes its type and raw private key
 * (provider.h encoding, 32 bytes) to *type / priv. VEIL_EID_PEMKEY when there is no
 * supported key (the caller decides what a missing key means to it). The
 * caller wipes priv. */
int pemkey_decode(const char *pem, size_t len, vc_sig_t *type, uint8_t priv[VC_SIG_PRIV_MAX]);


#endif
