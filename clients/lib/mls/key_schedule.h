/*
 * veil MLS — the key schedule (RFC 9420 §8): joiner, welcome and epoch secrets, every
 * epoch-derived secret, the exporter, confirmation and membership tags, and the §8.4 PSK
 * secret chain.
 *
 * The GroupContext enters as its serialized bytes (the codec owns its encoding): the key
 * schedule only ever feeds it to ExpandWithLabel as context.
 *
 * mls_epoch_secrets_t is a plain struct (stack or embedded), holding the secrets an epoch
 * keeps after the derivation. The intermediate values the RFC says are consumed by it
 * (§9.2: commit_secret's extract, joiner_secret once the epoch is derived, psk_secret,
 * epoch_secret) are wiped inside the derivation. Callers must mls_epoch_secrets_wipe()
 * the struct when done; encryption_secret is handed to the secret tree (which wipes its
 * own copy), and the caller should call mls_epoch_secrets_consume_encryption afterwards.
 */
#ifndef VEIL_CLIENTS_MLS_KEY_SCHEDULE_H
#define VEIL_CLIENTS_MLS_KEY_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/suite.h"

typedef struct mls_epoch_secrets {
  const mls_suite_t *suite; /* static, borrowed */
  size_t nh;                /* length of every secret below */
  uint8_t welcome_secret[MLS_HASH_MAX];
  uint8_t sender_data_secret[MLS_HASH_MAX];
  uint8_t encryption_secret[MLS_HASH_MAX];
  uint8_t exporter_secret[MLS_HASH_MAX];
  uint8_t external_secret[MLS_HASH_MAX];
  uint8_t confirmation_key[MLS_HASH_MAX];
  uint8_t membership_key[MLS_HASH_MAX];
  uint8_t resumption_psk[MLS_HASH_MAX];
  uint8_t epoch_authenticator[MLS_HASH_MAX];
  uint8_t init_secret[MLS_HASH_MAX]; /* the next epoch's init_secret_[n] */
} mls_epoch_secrets_t;

/* joiner_secret = ExpandWithLabel(Extract(init_secret_[n-1], commit_secret), "joiner",
 * GroupContext_[n], Nh). commit_secret NULL means the all-zero Nh string (a Commit
 * without a path). out: s->nh bytes. */
int mls_ks_joiner_secret(const mls_suite_t *s, const uint8_t *init_secret,
                         const uint8_t *commit_secret, const uint8_t *group_context,
                         size_t group_context_len, uint8_t *joiner_secret);

/* welcome_secret = DeriveSecret(Extract(joiner_secret, psk_secret), "welcome") alone: a
 * joiner needs it to decrypt the GroupInfo that carries GroupContext_[n]. out: s->nh. */
int mls_ks_welcome_secret(const mls_suite_t *s, const uint8_t *joiner_secret,
                          const uint8_t *psk_secret, uint8_t *welcome_secret);

/* Derives every epoch secret from joiner_secret (Welcome receivers start here, §12.4.3.1):
 * member = Extract(joiner_secret, psk_secret); welcome_secret = DeriveSecret(member,
 * "welcome"); epoch_secret = ExpandWithLabel(member, "epoch", GroupContext_[n], Nh); then
 * Table 4 and init_secret. psk_secret NULL means the all-zero Nh string. */
int mls_ks_from_joiner(const mls_suite_t *s, const uint8_t *joiner_secret,
                       const uint8_t *psk_secret, const uint8_t *group_context,
                       size_t group_context_len, mls_epoch_secrets_t *out);

/* The whole step of §8: init_secret_[n-1] + commit_secret + psk_secret + GroupContext_[n].
 * joiner_out (may be NULL) receives joiner_secret, which a committer needs for Welcome. */
int mls_ks_advance(const mls_suite_t *s, const uint8_t *init_secret,
                   const uint8_t *commit_secret, const uint8_t *psk_secret,
                   const uint8_t *group_context, size_t group_context_len,
                   mls_epoch_secrets_t *out, uint8_t *joiner_out);

/* Group creation (§11): the epoch-0 secrets from a fresh epoch_secret; welcome_secret is
 * left zero (nobody joins epoch 0 by Welcome). */
int mls_ks_from_epoch_secret(const mls_suite_t *s, const uint8_t *epoch_secret,
                             mls_epoch_secrets_t *out);

/* MLS-Exporter(label, context, length) (§8.5); label is opaque bytes. */
int mls_ks_export(const mls_epoch_secrets_t *e, const uint8_t *label, size_t label_len,
                  const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len);

/* external_priv, external_pub = KEM.DeriveKeyPair(external_secret) (§8). */
int mls_ks_external_key_pair(const mls_epoch_secrets_t *e, uint8_t *priv, uint8_t *pub);

/* §8.3 external initialization. The joiner: kem_output (s->hpke_pk_len bytes) and
 * init_secret = SetupBaseS(external_pub, "").export("MLS 1.0 external init secret", Nh).
 * Members: the same init_secret from kem_output and the epoch's external_priv. */
int mls_ks_external_init_encap(const mls_suite_t *s, const uint8_t *external_pub,
                               size_t external_pub_len, uint8_t *kem_output,
                               size_t *kem_output_len, uint8_t *init_secret);
int mls_ks_external_init_decap(const mls_epoch_secrets_t *e, const uint8_t *kem_output,
                               size_t kem_output_len, uint8_t *init_secret);

/* welcome_key / welcome_nonce from welcome_secret (§12.4.3.1): key s->nk, nonce s->nn. */
int mls_ks_welcome_key_nonce(const mls_suite_t *s, const uint8_t *welcome_secret,
                             uint8_t *key, uint8_t *nonce);

/* confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash) (§6.1); out s->nh.
 * Verify: 0 or VEIL_EAUTH, constant-time. */
int mls_ks_confirmation_tag(const mls_epoch_secrets_t *e, const uint8_t *cth, size_t cth_len,
                            uint8_t *out);
int mls_ks_verify_confirmation_tag(const mls_epoch_secrets_t *e, const uint8_t *cth,
                                   size_t cth_len, const uint8_t *tag, size_t tag_len);
/* membership_tag = MAC(membership_key, AuthenticatedContentTBM) (§6.2); out s->nh. */
int mls_ks_membership_tag(const mls_epoch_secrets_t *e, const uint8_t *tbm, size_t tbm_len,
                          uint8_t *out);

/* Wipes encryption_secret once the secret tree holds it (§9.2: consumed). */
void mls_epoch_secrets_consume_encryption(mls_epoch_secrets_t *e);
void mls_epoch_secrets_wipe(mls_epoch_secrets_t *e);

/* ---- §8.4 pre-shared keys -------------------------------------------------------- */
/* One PSK to inject: its PreSharedKeyID (the codec's struct, §8.4) and the key itself:
 * the external PSK's value, or the resumption_psk of the group and epoch it names. */
typedef struct mls_ks_psk {
  const mls_psk_id_t *id; /* borrowed */
  const uint8_t *psk;     /* borrowed */
  size_t psk_len;
} mls_ks_psk_t;

/* psk_secret over psks[0..n) in order (§8.4); n = 0 gives the all-zero string. n is at
 * most 65535 (PSKLabel.count is a uint16). out: s->nh bytes. */
int mls_ks_psk_secret(const mls_suite_t *s, const mls_ks_psk_t *psks, size_t n, uint8_t *out);

#endif
