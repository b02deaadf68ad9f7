/*
 * veil MLS — Welcome messages (RFC 9420 §12.4.3.1): creating them for new members and
 * joining a group from one.
 *
 * Joining decrypts the joiner's GroupSecrets (EncryptWithLabel "Welcome", context = the
 * encrypted GroupInfo), resolves the listed PSKs through a caller callback, derives the
 * welcome key, decrypts and decodes the GroupInfo, derives the epoch's key schedule from
 * joiner_secret and the GroupInfo's GroupContext, and checks the confirmation tag. The
 * GroupInfo signature is checked separately (mls_group_info_verify) because the signer's
 * key comes from the ratchet tree, which the group code loads and validates.
 *
 * The wire structures are the codec's (codec.h); this module only does the crypto and
 * the checks §12.4.3.1 lists for it.
 */
#ifndef VEIL_CLIENTS_MLS_WELCOME_H
#define VEIL_CLIENTS_MLS_WELCOME_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/key_schedule.h"
#include "clients/lib/mls/suite.h"

/* Resolves a PreSharedKeyID to its key (external PSK store, or a past epoch's
 * resumption_psk). *psk stays owned by the callee and must live until the call that
 * invoked the callback returns. Returns 0, or a negative code (VEIL_ENOTFOUND). */
typedef int (*mls_psk_lookup_cb)(void *arg, const mls_psk_id_t *id, const uint8_t **psk,
                                 size_t *psk_len);

#define MLS_WELCOME_MAX_PSKS 64 /* PSKs accepted in one GroupSecrets (bounded before use) */

/* What a joiner learns from a Welcome. Everything is owned by the struct (views point
 * into its own buffers); free with mls_welcome_join_free, which wipes the secrets. */
typedef struct mls_welcome_join {
  veil_writer_t secrets_plain;       /* owned: decrypted GroupSecrets */
  mls_group_secrets_t group_secrets; /* views into secrets_plain (joiner_secret,
                                        path_secret, psks) */
  veil_writer_t info_plain;          /* owned: decrypted GroupInfo */
  mls_group_info_t group_info;       /* views into info_plain; signature NOT yet checked */
  veil_writer_t group_context;       /* owned: the encoded GroupContext of the new epoch */
  mls_epoch_secrets_t epoch;         /* the joined epoch's secrets */
} mls_welcome_join_t;

/* Joins from `w` as the holder of the KeyPackage whose reference is kp_ref and whose
 * init private key is init_priv. Errors: VEIL_EMLS_SUITE (suite mismatch in the Welcome
 * or the GroupContext), VEIL_ENOTFOUND (no secrets for kp_ref, or an unknown PSK),
 * VEIL_EAUTH (either decryption), VEIL_ELIMIT (too many PSKs), VEIL_EMLS_PSK (more than
 * one resumption PSK for reinit or branch), codec errors,
 * VEIL_EMLS_CONFIRMATION_TAG. On error `out` holds nothing (already freed). */
int mls_welcome_join(const mls_suite_t *s, const mls_welcome_t *w, const uint8_t *kp_ref,
                     size_t kp_ref_len, const uint8_t *init_priv, mls_psk_lookup_cb lookup,
                     void *lookup_arg, mls_welcome_join_t *out);
void mls_welcome_join_free(mls_welcome_join_t *j);

/* GroupInfo signature (§12.4.3): SignWithLabel(., "GroupInfoTBS", GroupInfoTBS). */
int mls_group_info_sign(const mls_suite_t *s, const mls_group_info_t *gi,
                        const uint8_t *sig_priv, uint8_t *sig, size_t *sig_len);
int mls_group_info_verify(const mls_suite_t *s, const mls_group_info_t *gi,
                          const uint8_t *signer_pub, size_t signer_pub_len);

/* One new member of a Welcome. All borrowed. */
typedef struct mls_welcome_member {
  veil_view_t key_package_ref; /* MakeKeyPackageRef of its KeyPackage */
  veil_view_t init_key;        /* KeyPackage.init_key */
  veil_view_t path_secret;     /* the path secret for its common ancestor; empty: none */
} mls_welcome_member_t;

/* Writes MLSMessage(Welcome) to `out`: the signed, encoded GroupInfo sealed under the
 * welcome key derived from joiner_secret and psk_secret (NULL: zero), and one
 * EncryptedGroupSecrets per member carrying joiner_secret, its path secret and `psks`
 * (the PreSharedKeyID list, as the Commit's PSK proposals list them; NULL: none). */
int mls_welcome_create(const mls_suite_t *s, const uint8_t *group_info, size_t group_info_len,
                       const uint8_t *joiner_secret, const uint8_t *psk_secret,
                       const mls_list_t *psks, const mls_welcome_member_t *members, size_t n,
                       veil_writer_t *out);

#endif
