/*
 * veil MLS group — internals shared by group.c, group_commit.c, group_process.c,
 * group_join.c, group_keypackage.c and state.c. Not a public header.
 */
#ifndef VEIL_CLIENTS_MLS_GROUP_INTERNAL_H
#define VEIL_CLIENTS_MLS_GROUP_INTERNAL_H

#include "clients/lib/mls/framing.h"
#include "clients/lib/mls/group.h"
#include "clients/lib/mls/key_schedule.h"
#include "clients/lib/mls/secret_tree.h"
#include "clients/lib/mls/transcript.h"
#include "clients/lib/mls/tree.h"
#include "clients/lib/mls/treekem.h"

#define GRP_MAX_PROPOSALS 1024   /* cached proposals per epoch (bounded before growing) */
#define GRP_PSK_HISTORY 16       /* resumption PSKs of the last epochs kept (§8.6) */
#define GRP_MAX_COMMIT_PROPOSALS 4096

/* A proposal received (or sent) this epoch, kept for Commits that reference it. */
typedef struct grp_proposal {
  uint8_t ref[MLS_HASH_MAX];     /* ProposalRef (§5.2) */
  uint8_t *enc;                  /* owned: the encoded Proposal */
  size_t enc_len;
  mls_sender_t sender;
  uint8_t *upd_priv;             /* owned: own Update's leaf HPKE private key, or NULL */
} grp_proposal_t;

typedef struct grp_psk {
  uint64_t epoch;
  uint8_t psk[MLS_HASH_MAX];     /* resumption_psk of that epoch */
} grp_psk_t;

struct mls_keypackage_priv {
  const mls_suite_t *suite;      /* static */
  uint8_t *kp;                   /* owned: the encoded KeyPackage */
  size_t kp_len;
  uint8_t sig_priv[MLS_SIG_PRIV_MAX];
  uint8_t enc_priv[MLS_HPKE_SK_MAX];
  uint8_t init_priv[MLS_HPKE_SK_MAX];
};

struct mls_group {
  const mls_suite_t *suite;      /* static */
  mls_group_config_t cfg;        /* copied; callbacks borrowed */
  uint8_t *group_id;             /* owned */
  size_t group_id_len;
  uint64_t epoch;
  veil_writer_t gc_ext;          /* owned: content of GroupContext.extensions */
  uint32_t gc_ext_count;
  mls_tree_t *tree;              /* owned */
  mls_tree_priv_t priv;          /* own leaf index and HPKE keys (wiped on free) */
  uint8_t sig_priv[MLS_SIG_PRIV_MAX];
  mls_transcript_t transcript;
  veil_writer_t gc;              /* owned: the encoded GroupContext of this epoch */
  mls_epoch_secrets_t secrets;   /* encryption_secret consumed into st */
  mls_secret_tree_t *st;         /* owned */
  grp_proposal_t *props;         /* owned array */
  size_t n_props, cap_props;
  grp_psk_t psk_hist[GRP_PSK_HISTORY];
  uint32_t n_hist;
  uint8_t last_commit[MLS_HASH_MAX]; /* hash of the Commit message that made this epoch */
  int has_last_commit;
  int active;                    /* 0 once removed */
  mls_group_t *pending;          /* owned: the next state of an own Commit not yet merged */
  uint8_t pending_hash[MLS_HASH_MAX];
};

/* group.c */
mls_group_t *grp_alloc(const mls_suite_t *s, const mls_group_config_t *cfg);
int grp_set_group_id(mls_group_t *g, const uint8_t *id, size_t len);
/* The member's signature key pair: the identity's private key when it brings one, else a
 * fresh one. sig_priv gets s->sig_priv_len bytes, sig_pub s->sig_pub_len. */
int grp_signature_key(const mls_suite_t *s, const mls_identity_t *id, uint8_t *sig_priv,
                      uint8_t *sig_pub);
int grp_framing(const mls_group_t *g, mls_framing_ctx_t *ctx);
/* Encodes a GroupContext from the parts given into `out` (reset first). */
int grp_encode_gc(const mls_group_t *g, uint64_t epoch, const uint8_t *tree_hash,
                  const mls_transcript_t *tr, veil_writer_t *out);
void grp_props_clear(mls_group_t *g);
int grp_props_add(mls_group_t *g, const uint8_t *ref, const uint8_t *enc, size_t enc_len,
                  mls_sender_t sender, const uint8_t *upd_priv);
const grp_proposal_t *grp_props_find(const mls_group_t *g, const uint8_t *ref, size_t len);
void grp_psk_push(mls_group_t *g, uint64_t epoch, const uint8_t *psk);
/* Credential key check (x509) then the caller's validator: 0 or VEIL_EMLS_CREDENTIAL. */
int grp_check_credential(const mls_group_t *g, const mls_leaf_node_t *leaf);
/* Required capabilities of the group (its extension), or NULL. *body set. */
const mls_list_t *grp_required_caps(const mls_group_t *g, mls_list_t *body);
/* Installs epoch secrets and a fresh secret tree (consuming encryption_secret). */
int grp_install_epoch(mls_group_t *g, const mls_epoch_secrets_t *e);
/* Epoch-independent copy of g for staging (tree cloned; no secrets, no cache). */
int grp_stage_copy(const mls_group_t *g, mls_group_t **out);
/* Moves `next` into `g` (g's old content freed); `next` is consumed. */
void grp_swap_in(mls_group_t *g, mls_group_t *next);
void grp_clear(mls_group_t *g);
/* PSK lookup over the config's external PSKs and this group's resumption history. */
int grp_psk_lookup(void *arg, const mls_psk_id_t *id, const uint8_t **psk, size_t *psk_len);
/* Hash of a whole message (replay detection). */
int grp_msg_hash(const mls_group_t *g, const uint8_t *msg, size_t len, uint8_t *out);

/* group_commit.c: the shared Commit engine. */
typedef struct grp_resolved {
  mls_proposal_t p;              /* views into a message or the proposal cache */
  uint32_t sender;               /* proposer's leaf (member senders) */
  uint8_t sender_type;
  const grp_proposal_t *cached;  /* by reference: the cache entry, else NULL */
} grp_resolved_t;

typedef struct grp_commit_in {
  uint8_t sender_type;           /* member or new_member_commit */
  uint32_t committer;            /* member: its leaf; external: filled when placed */
  grp_resolved_t *props;
  size_t n_props;
  const mls_update_path_t *path; /* received path, or NULL */
  int make_path;                 /* build a path (own Commit) */
  const uint8_t *init_secret;    /* external commit: the exported init secret, else NULL */
} grp_commit_in_t;

/* Validates the proposal list (§12.2, §12.4) for a Commit by `in->committer`. */
int grp_validate_proposals(const mls_group_t *g, const grp_commit_in_t *in);
/* 1 when the proposal list requires an UpdatePath (§12.4). */
int grp_path_required(const grp_resolved_t *p, size_t n);
/* Decodes a Commit's proposal list, resolving references from the cache. *out malloc'd. */
int grp_resolve_commit(const mls_group_t *g, const mls_commit_t *c, uint8_t sender_type,
                       uint32_t sender, grp_resolved_t **out, size_t *n);

#endif
