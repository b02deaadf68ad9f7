/*
 * veil MLS — credential checks the group applies to every LeafNode it takes in
 * (RFC 9420 §5.3.1, §7.3 "verify that the credential ... is valid").
 *
 * The chain itself (trust anchors, validity, which anchor) is the client's business,
 * plugged in through mls_credential_cb (group.h) with identity/x509.h. What every member
 * must check whatever the trust policy: an x509 credential's leaf certificate (the
 * first one) carries the very key the LeafNode signs with (§5.3.1: "The signature key
 * ... MUST be the public key of the first certificate"). A basic credential has no key
 * to compare.
 */
#ifndef VEIL_CLIENTS_MLS_CREDENTIAL_H
#define VEIL_CLIENTS_MLS_CREDENTIAL_H

#include <stdint.h>

#include "clients/lib/mls/codec.h"

/* 0 when the credential is usable with `signature_key` in `cipher_suite`:
 * basic: a non-empty identity; x509: at least one certificate, the first one parses,
 * its key type is the suite's signature scheme and its public key equals signature_key
 * (VEIL_EMLS_X509_KEY otherwise). Other types: VEIL_EMLS_CREDENTIAL. */
int mls_credential_check_key(uint16_t cipher_suite, const mls_credential_t *cred,
                             veil_view_t signature_key);

#endif
