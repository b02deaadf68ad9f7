/*
 * veil MLS — group operations (RFC 9420 §10–§13): KeyPackages, creating a group,
 * proposals and Commits (Add / Update / Remove / PreSharedKey / GroupContextExtensions),
 * Welcome and GroupInfo, joining by Welcome or by external Commit, processing received
 * messages, application data, exporter, roster, persistence.
 *
 * Built on the MLS core: codec.h (wire), tree.h (ratchet tree), treekem.h (UpdatePath),
 * key_schedule.h, secret_tree.h, transcript.h, framing.h and welcome.h. Nothing here
 * re-implements their parts: this module orders them and does the checks of §12–§13.
 *
 * Sans-I/O: bytes in, bytes out (RFC 9420 wire format MLSMessage in every buffer), and
 * the time for lifetime checks comes from the config (0: not checked).
 *
 * Atomicity: every operation that changes the group works on a staged copy (tree clone,
 * new key schedule, new secret tree) and swaps it in only when every check passed; a
 * rejected message returns a distinct error and leaves the state exactly as it was
 * (mls_group_serialize gives the same bytes before and after).
 *
 * Handshake messages are sent as PublicMessage (the relay fences Commits by epoch, which
 * needs the plaintext framing); Commits and Proposals received as PrivateMessage are
 * processed too. Application data is always a PrivateMessage (§6.2).
 *
 * Ownership: an mls_group_t owns all its state; key material is wiped when freed. Views
 * returned by accessors stay valid until the next call that changes the group.
 * Not thread-safe.
 */
#ifndef VEIL_CLIENTS_MLS_GROUP_H
#define VEIL_CLIENTS_MLS_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/welcome.h"

typedef struct mls_group mls_group_t;
typedef struct mls_keypackage_priv mls_keypackage_priv_t;

/* Judges a member's credential for the signature key its LeafNode carries: 0 to accept,
 * a negative code to reject (the group returns VEIL_EMLS_CREDENTIAL). Called for every
 * LeafNode the group takes in (KeyPackages of Adds, Updates, Commit paths, every leaf of
 * a tree a joiner receives). x509 credentials are first checked by the group itself:
 * the leaf certificate's public key must equal the signature key (credential.h). */
typedef int (*mls_credential_cb)(void *arg, const mls_credential_t *cred,
                                 veil_view_t signature_key);

typedef struct mls_group_config {
  mls_credential_cb validate_credential; /* NULL: any credential passing the key check */
  void *validate_arg;
  mls_psk_lookup_cb external_psk;        /* external PSKs (§8.4); NULL: none known */
  void *external_psk_arg;
  uint64_t now;                          /* seconds since the epoch; 0: no lifetime check */
} mls_group_config_t;

/* A member's own signing identity. Borrowed for the call. */
typedef struct mls_identity {
  mls_credential_t credential;  /* basic identity or x509 chain (leaf first) */
  const uint8_t *sig_priv;      /* suite->sig_priv_len bytes; NULL: generate a fresh key */
} mls_identity_t;

/* ---- KeyPackages (§10) --------------------------------------------------------------- */
/* Makes a KeyPackage (lifetime [now - 1h, now + 90 days], or [0, 2^64-1] when now is 0)
 * and writes MLSMessage(KeyPackage) to `out`; *priv receives its private keys (owned by
 * the caller, free with mls_keypackage_priv_free). */
int mls_keypackage_create(uint16_t cipher_suite, const mls_identity_t *id, uint64_t now,
                          veil_writer_t *out, mls_keypackage_priv_t **priv);
/* Private keys from known values (test vectors): checks that the private keys match the
 * public keys of `kp` (an MLSMessage(KeyPackage) or a bare KeyPackage) and that its
 * signature is valid. */
int mls_keypackage_priv_from_keys(const uint8_t *kp, size_t kp_len, const uint8_t *sig_priv,
                                  const uint8_t *enc_priv, const uint8_t *init_priv,
                                  mls_keypackage_priv_t **priv);
/* Persistence of a KeyPackage's private state (wire bytes + the three private keys). */
int mls_keypackage_priv_serialize(const mls_keypackage_priv_t *p, veil_writer_t *out);
int mls_keypackage_priv_deserialize(const uint8_t *buf, size_t len, mls_keypackage_priv_t **out);
/* The KeyPackage itself (encoded, not wrapped in an MLSMessage). Borrowed. */
veil_view_t mls_keypackage_priv_public(const mls_keypackage_priv_t *p);
void mls_keypackage_priv_free(mls_keypackage_priv_t *p);

/* ---- creating and joining -------------------------------------------------------------- */
/* A one-member group at epoch 0 (§11). cfg is copied. */
int mls_group_create(uint16_t cipher_suite, const uint8_t *group_id, size_t group_id_len,
                     const mls_identity_t *id, const mls_group_config_t *cfg,
                     mls_group_t **out);
/* Joins from MLSMessage(Welcome) (§12.4.3.1) with the KeyPackage's private state (which
 * stays the caller's). ratchet_tree: the tree body when the Welcome's GroupInfo carries
 * no ratchet_tree extension (NULL otherwise). */
int mls_group_join(const uint8_t *welcome, size_t welcome_len, const mls_keypackage_priv_t *kp,
                   const uint8_t *ratchet_tree, size_t ratchet_tree_len,
                   const mls_group_config_t *cfg, mls_group_t **out);
/* External join (§12.4.3.2): from MLSMessage(GroupInfo) carrying external_pub (and the
 * ratchet tree, in its extension or given), writes the external Commit (sender
 * new_member_commit, ExternalInit proposal, path) to `commit` and returns the joined
 * group at the next epoch. The Commit must then be accepted by the group. */
int mls_group_join_external(const uint8_t *group_info, size_t group_info_len,
                            const uint8_t *ratchet_tree, size_t ratchet_tree_len,
                            uint16_t cipher_suite, const mls_identity_t *id,
                            const mls_group_config_t *cfg, veil_writer_t *commit,
                            mls_group_t **out);
void mls_group_free(mls_group_t *g);

/* ---- proposals and Commits (§12) ------------------------------------------------------- */
/* Writes a Proposal as MLSMessage(PublicMessage) and caches it (a later Commit of this
 * member, or of another one, may include it by reference). */
int mls_group_propose_add(mls_group_t *g, const uint8_t *key_package, size_t len,
                          veil_writer_t *out);
int mls_group_propose_remove(mls_group_t *g, uint32_t leaf_index, veil_writer_t *out);
/* An Update proposal with a fresh leaf encryption key (kept until a Commit covers it). */
int mls_group_propose_update(mls_group_t *g, veil_writer_t *out);

/* What one Commit of this member covers, beside every cached proposal it may include. */
typedef struct mls_commit_opts {
  const veil_view_t *add_key_packages; /* MLSMessage(KeyPackage) or bare KeyPackages */
  size_t n_add;
  const uint32_t *remove_leaves;
  size_t n_remove;
  int force_path;          /* include an UpdatePath even when not required (a self update) */
  int inline_tree;         /* Welcome's GroupInfo carries the ratchet_tree extension */
} mls_commit_opts_t;

/* Builds a Commit over every cached proposal still valid plus `opts` (§12.4): writes
 * MLSMessage(PublicMessage) to `commit` and, when members are added, MLSMessage(Welcome)
 * to `welcome` (may be NULL when nothing is added). The group moves to the next epoch
 * only with mls_group_merge_pending (after the delivery service accepted the Commit), or
 * when the Commit comes back through mls_group_process; mls_group_discard_pending drops
 * it (the epoch stays). A Commit of another member for this epoch wins: processing it
 * drops the pending one. The pending state is part of mls_group_serialize. */
int mls_group_commit(mls_group_t *g, const mls_commit_opts_t *opts, veil_writer_t *commit,
                     veil_writer_t *welcome);
int mls_group_merge_pending(mls_group_t *g);
void mls_group_discard_pending(mls_group_t *g);
int mls_group_has_pending(const mls_group_t *g);

/* ---- receiving -------------------------------------------------------------------------- */
typedef enum mls_processed_kind {
  MLS_PROCESSED_APPLICATION = 1, /* data holds the plaintext */
  MLS_PROCESSED_PROPOSAL = 2,    /* cached for a later Commit */
  MLS_PROCESSED_COMMIT = 3,      /* the group is now at the next epoch */
} mls_processed_kind_t;

typedef struct mls_processed {
  mls_processed_kind_t kind;
  uint32_t sender;             /* member leaf index (new members: their new leaf) */
  veil_writer_t data;          /* owned, application plaintext; free with mls_processed_free */
  int removed;                 /* Commit removed this member: the group is no longer usable */
} mls_processed_t;

/* Processes one MLSMessage (PublicMessage or PrivateMessage). Errors (state unchanged):
 * VEIL_EMLS_WRONG_GROUP, VEIL_EMLS_STALE_EPOCH (an older epoch), VEIL_EMLS_FUTURE_EPOCH,
 * VEIL_EMLS_COMMIT_REPLAY (the Commit that produced the current epoch, again),
 * VEIL_EMLS_NOT_MEMBER (sender leaf blank or outside the tree), VEIL_EMLS_MEMBERSHIP_TAG,
 * VEIL_EMLS_SIGNATURE, VEIL_EMLS_CONFIRMATION_TAG, VEIL_EMLS_PROPOSAL_LIST (§12.2),
 * VEIL_EMLS_PATH_REQUIRED, VEIL_EMLS_UNKNOWN_PROPOSAL, VEIL_EMLS_CREDENTIAL,
 * VEIL_EMLS_REMOVED_MEMBER (this member was removed earlier), codec and core errors. */
int mls_group_process(mls_group_t *g, const uint8_t *msg, size_t len, mls_processed_t *out);
void mls_processed_free(mls_processed_t *p);

/* Application data as MLSMessage(PrivateMessage) (§6.3). */
int mls_group_protect(mls_group_t *g, const uint8_t *data, size_t len, const uint8_t *aad,
                      size_t aad_len, veil_writer_t *out);

/* MLSMessage(GroupInfo) of the current epoch (signed by this member), with the
 * ratchet_tree extension when with_tree and always external_pub (§12.4.3.2). */
int mls_group_group_info(mls_group_t *g, int with_tree, veil_writer_t *out);
/* The ratchet_tree extension body of the current tree. */
int mls_group_ratchet_tree(const mls_group_t *g, veil_writer_t *out);

/* ---- state ------------------------------------------------------------------------------ */
uint16_t mls_group_cipher_suite(const mls_group_t *g);
veil_view_t mls_group_id(const mls_group_t *g);
uint64_t mls_group_epoch(const mls_group_t *g);
uint32_t mls_group_own_leaf(const mls_group_t *g);
int mls_group_active(const mls_group_t *g); /* 0 once removed */
veil_view_t mls_group_epoch_authenticator(const mls_group_t *g);
/* MLS-Exporter(label, context, length) (§8.5). */
int mls_group_export(const mls_group_t *g, const uint8_t *label, size_t label_len,
                     const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len);
/* Roster: leaves are 0 .. mls_group_leaf_count()-1; blank ones give NULL. */
uint32_t mls_group_leaf_count(const mls_group_t *g);
const mls_leaf_node_t *mls_group_member(const mls_group_t *g, uint32_t leaf_index);
uint32_t mls_group_member_count(const mls_group_t *g);

/* Persistence: the whole state of this member (keys included: store it like a private
 * key). The config is not stored: pass it again. */
int mls_group_serialize(const mls_group_t *g, veil_writer_t *out);
int mls_group_deserialize(const uint8_t *buf, size_t len, const mls_group_config_t *cfg,
                          mls_group_t **out);

#endif
