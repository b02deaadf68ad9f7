/*
 * veil — the verification status of one MLS member (DESIGN.md, "Identity and the security
 * code"), from its credential and its LeafNode signature key.
 *
 * An x509 credential (RFC 9420 §5.3) is judged with x509_verify_chain against the client's
 * trust configuration (organisation anchors → externally verified, operator anchor →
 * operator verified). The chain proves who holds the *certificate's* key; the member signs
 * with the LeafNode's signature_key, so the two must be the same key (RFC 9420 §5.3.1: "the
 * signature_key ... MUST match the public key in the first certificate"). A mismatch, an
 * unsupported key or a basic credential make the member unverified, with a reason.
 *
 * The status record is what clients and room devices show: level, identity, display name
 * and the certificate details as a JSON object.
 */
#ifndef VEIL_CLIENTS_IDENTITY_VERIFY_H
#define VEIL_CLIENTS_IDENTITY_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/identity/x509.h"

typedef struct verify_status {
  x509_level_t level;
  int reason;            /* 0, or why unverified: VEIL_EX509_*, VEIL_EID_KEY_MISMATCH, VEIL_EID_BASIC */
  char reason_text[128]; /* "" when verified */
  char identity[X509_NAME_MAX];     /* SAN email, else SAN DNS, else CN; basic: its identity */
  char display_name[X509_NAME_MAX]; /* the caller's signed display name, else CN, else identity */
  char *details_json;    /* owned (malloc'd), NUL-terminated; free with verify_status_clear */
} verify_status_t;

/* Judges an x509 credential: `chain` DER views leaf first (borrowed), `sig_key` the
 * LeafNode signature key in provider.h encoding, `scheme` its signature scheme,
 * `display_name` an optional name the member signed (NULL: use the certificate's CN), `now`
 * seconds since the epoch. Returns 0 with a filled status whenever the leaf parses (the
 * level says how far it is trusted; a key of an unsupported type is unverified with
 * VEIL_EX509_KEY); a negative code (status cleared) only when the leaf is unreadable, the
 * chain is empty or too long, or memory fails. */
int verify_x509_credential(const x509_trust_t *trust, const veil_view_t *chain, size_t n,
                           vc_sig_t scheme, const uint8_t *sig_key, size_t sig_key_len,
                           const char *display_name, int64_t now, verify_status_t *out);

/* A basic credential (RFC 9420 §5.3): an identity string nobody vouches for. Non-printable
 * bytes are shown as '?'. Always unverified. */
int verify_basic_credential(const uint8_t *identity, size_t len, const char *display_name,
                            verify_status_t *out);

/* The certificate details JSON of one leaf: {"subject","issuer","serial","not_before",
 * "not_after","sha256","sha1","key_type","anchor","level","reason"} (times in RFC 3339 UTC).
 * *json receives a malloc'd string. */
int verify_details_json(const x509_info_t *leaf, const char *anchor, x509_level_t level,
                        const char *reason, char **json);

void verify_status_clear(verify_status_t *s);

#endif
