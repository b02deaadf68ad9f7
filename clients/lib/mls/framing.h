/*
 * veil MLS — message protection (RFC 9420 §6): signing and verifying FramedContent,
 * PublicMessage membership tags, and PrivateMessage content and sender-data encryption.
 *
 * Sans-I/O and tree-agnostic: a framing context borrows what one epoch provides (the
 * encoded GroupContext, membership_key, sender_data_secret, the secret tree). Looking up
 * a sender's signature key and checking that the sender's leaf is a non-blank member are
 * the group's job; this module returns the AuthenticatedContent and the sender so that it
 * can, then mls_framing_verify checks the signature with the key it found.
 *
 * Wire structures come from the codec (codec.h); the functions here only compute
 * and check the cryptographic parts. Every decoded view borrows either the message bytes
 * or, for a PrivateMessage, the plaintext buffer the caller passes in.
 */
#ifndef VEIL_CLIENTS_MLS_FRAMING_H
#define VEIL_CLIENTS_MLS_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/secret_tree.h"
#include "clients/lib/mls/suite.h"

typedef struct mls_framing_ctx {
  const mls_suite_t *suite;          /* static */
  veil_view_t group_context;         /* borrowed: the encoded GroupContext of the epoch */
  veil_view_t group_id;              /* borrowed: decoded from group_context */
  uint64_t epoch;                    /* decoded from group_context */
  const uint8_t *membership_key;     /* borrowed, suite->nh bytes; NULL: no PublicMessage */
  const uint8_t *sender_data_secret; /* borrowed, suite->nh bytes; NULL: no PrivateMessage */
  mls_secret_tree_t *secret_tree;    /* borrowed; NULL: no PrivateMessage */
  uint32_t pad_to;                   /* PrivateMessageContent padded to a multiple (0: none) */
} mls_framing_ctx_t;

/* Fills group_id/epoch from the encoded GroupContext (which must outlive ctx) and the
 * rest from the arguments; pad_to defaults to 32. VEIL_EMLS_SUITE when the context's
 * suite is not `s`. */
int mls_framing_ctx_init(mls_framing_ctx_t *ctx, const mls_suite_t *s,
                         const uint8_t *group_context, size_t group_context_len,
                         const uint8_t *membership_key, const uint8_t *sender_data_secret,
                         mls_secret_tree_t *secret_tree);

/* SignWithLabel(., "FramedContentTBS", FramedContentTBS) (§6.1). sig: MLS_SIG_MAX. */
int mls_framing_sign(const mls_framing_ctx_t *ctx, uint16_t wire_format,
                     const mls_framed_content_t *content, const uint8_t *sig_priv,
                     uint8_t *sig, size_t *sig_len);
/* Verifies ac->auth.signature with the sender's key: 0 or VEIL_EVERIFY. */
int mls_framing_verify(const mls_framing_ctx_t *ctx, const mls_authenticated_content_t *ac,
                       const uint8_t *sig_pub, size_t sig_pub_len);

/* ---- PublicMessage (§6.2) ----------------------------------------------------------- */
/* Signs `content`, adds confirmation_tag (Commits: required, others: must be empty) and,
 * for member senders, the membership tag; writes the whole MLSMessage to `out`.
 * Application data is refused (VEIL_EMLS_PUBLIC_APPLICATION, §6.2). */
int mls_public_protect(const mls_framing_ctx_t *ctx, const mls_framed_content_t *content,
                       const uint8_t *sig_priv, veil_view_t confirmation_tag,
                       veil_writer_t *out);
/* The same for content whose FramedContentAuthData is already complete (signature made
 * with mls_framing_sign, confirmation tag per content type): adds the membership tag for
 * member senders and writes the MLSMessage. A committer needs this order because the
 * confirmation tag comes from the next epoch, whose confirmed transcript hash covers the
 * signature (§8.2); re-signing inside mls_public_protect would change an ECDSA signature.
 * (Additive, for the group layer.) */
int mls_public_encode_signed(const mls_framing_ctx_t *ctx, const mls_framed_content_t *content,
                             const mls_framed_content_auth_t *auth, veil_writer_t *out);
/* Checks group id and epoch (VEIL_EMLS_WRONG_GROUP / VEIL_EMLS_WRONG_EPOCH), refuses
 * application data, checks the membership tag of member senders in constant time
 * (VEIL_EMLS_MEMBERSHIP_TAG), and fills `out` (views into pm). The signature is NOT yet
 * checked: look up the sender's key, then call mls_framing_verify. */
int mls_public_unprotect(const mls_framing_ctx_t *ctx, const mls_public_message_t *pm,
                         mls_authenticated_content_t *out);

/* ---- PrivateMessage (§6.3) ---------------------------------------------------------- */
/* Signs `content` (sender must be a member: its leaf index picks the ratchet), takes the
 * next key of the matching ratchet (handshake for proposals/commits, application for
 * application data), encrypts the padded PrivateMessageContent and the SenderData, and
 * writes the MLSMessage to `out`. The ratchet key is wiped after use. */
int mls_private_protect(const mls_framing_ctx_t *ctx, const mls_framed_content_t *content,
                        const uint8_t *sig_priv, veil_view_t confirmation_tag,
                        veil_writer_t *out);
/* Decrypts the sender data and the content into `plain` (a writer the caller owns and
 * frees: `out` views into it), fills `out` with wire_format PrivateMessage and sender =
 * member(leaf_index). Errors: WRONG_GROUP/EPOCH, VEIL_EAUTH (either AEAD fails), the
 * secret tree's generation errors, VEIL_EMLS_PADDING, codec errors. When the content
 * does not open, its ratchet key goes back to the secret tree's window (§9.2: only a
 * successful decryption consumes it), so a copy altered on the way (past the sampled
 * bytes, which leaves the sender data intact) cannot burn the genuine message's key.
 * The signature is NOT yet checked (mls_framing_verify). */
int mls_private_unprotect(const mls_framing_ctx_t *ctx, const mls_private_message_t *pm,
                          veil_writer_t *plain, mls_authenticated_content_t *out);

#endif
