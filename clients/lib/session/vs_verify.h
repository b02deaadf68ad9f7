/*
 * veil client session — how this participant sees each member's identity: the verify.h
 * status of an MLS leaf (its credential judged against the viewer's trust configuration,
 * and the LeafNode signature key matched to the certificate's, RFC 9420 §5.3.1), and its
 * roster JSON form.
 */
#ifndef VEIL_CLIENTS_SESSION_VS_VERIFY_H
#define VEIL_CLIENTS_SESSION_VS_VERIFY_H

#include <jansson.h>
#include <stdint.h>

#include "clients/lib/identity/verify.h"
#include "clients/lib/mls/group.h"

/* `trust` may be NULL (nothing is verified); `suite` is the group's cipher suite (its
 * signature scheme is the leaf key's); `display_name` the name signaling shows (NULL or ""
 * to use the certificate's CN). Always fills *out (a leaf that cannot be judged is
 * unverified with a reason); returns VEIL_ENOMEM only when memory fails. Clear *out with
 * verify_status_clear. */
int vs_verify_leaf(const x509_trust_t *trust, uint16_t suite, const mls_leaf_node_t *leaf,
                   const char *display_name, int64_t now, verify_status_t *out);

/* Sets on the roster entry `member`: "verification" (x509_level_name), "display_name", "reason" ("" when verified) and "certificate" (the details object, or
 * null for a basic credential). */
void vs_verify_to_json(const verify_status_t *st, json_t *member);

#endif
