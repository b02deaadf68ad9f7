/*
 * veil — MLS (RFC 9420) wire structures: strict decoders and mirroring encoders.
 *
 * Model: decoding never allocates. Every opaque field is a veil_view_t into the caller's
 * input (borrowed: the input must outlive the decoded struct), and every vector of
 * structures is an mls_list_t: a view of the vector's content plus its element count,
 * each element already decoded and validated once. Walk a list again with its element
 * decoder (mls_list_reader + mls_<elem>_decode) — re-parsing a validated list is cheap
 * and keeps decoded structs fixed-size, allocation-free and fuzz-friendly.
 *
 * Encoders write the fields back; a list is written from its raw content (build one
 * with a growable veil_writer_t and the element encoders, then mls_list_from_writer).
 *
 * Strictness (RFC 9420 §2.1): minimal varints only (bytes.h), optional<T> presence
 * octets other than 0/1 rejected, every length-prefixed block consumed exactly, trailing
 * bytes rejected by the top-level *_parse functions, unknown values rejected for every
 * enum whose value selects a structure (wire format, content type, sender type, proposal
 * type, credential type, leaf-node source, node type, PSK type, protocol version).
 * Values that GREASE (§13.5) requires receivers to ignore are accepted as plain
 * numbers: extension types inside Extension lists and every u16 inside Capabilities.
 *
 * All functions return 0 or a negative VEIL_E* code (common/err.h, errdefs/mls.def).
 * decode functions read from a reader that may hold more data; parse functions take a
 * whole buffer and reject trailing bytes.
 */
#ifndef VEIL_CLIENTS_MLS_CODEC_H
#define VEIL_CLIENTS_MLS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"

/* ---- limits (checked before any allocation made from a decoded count) ----------- */
#define MLS_MAX_LEAVES (1u << 16)                /* ratchet trees larger are rejected */
#define MLS_MAX_NODES (2u * MLS_MAX_LEAVES - 1u)
#define MLS_MAX_PATH 17                          /* direct path length for 2^16 leaves + 1 */
#define MLS_MAX_OPAQUE (1u << 20)                /* any single opaque field */

/* ---- RFC 9420 §17 registry values --------------------------------------------------- */
#define MLS_VERSION_10 1

typedef enum mls_wire_format {
  MLS_WF_PUBLIC_MESSAGE = 1,
  MLS_WF_PRIVATE_MESSAGE = 2,
  MLS_WF_WELCOME = 3,
  MLS_WF_GROUP_INFO = 4,
  MLS_WF_KEY_PACKAGE = 5,
} mls_wire_format_t;

typedef enum mls_content_type {
  MLS_CT_APPLICATION = 1,
  MLS_CT_PROPOSAL = 2,
  MLS_CT_COMMIT = 3,
} mls_content_type_t;

typedef enum mls_sender_type {
  MLS_SENDER_MEMBER = 1,
  MLS_SENDER_EXTERNAL = 2,
  MLS_SENDER_NEW_MEMBER_PROPOSAL = 3,
  MLS_SENDER_NEW_MEMBER_COMMIT = 4,
} mls_sender_type_t;

typedef enum mls_leaf_source {
  MLS_LEAF_SRC_KEY_PACKAGE = 1,
  MLS_LEAF_SRC_UPDATE = 2,
  MLS_LEAF_SRC_COMMIT = 3,
} mls_leaf_source_t;

typedef enum mls_credential_type {
  MLS_CRED_BASIC = 1,
  MLS_CRED_X509 = 2,
} mls_credential_type_t;

typedef enum mls_proposal_type {
  MLS_PROP_ADD = 1,
  MLS_PROP_UPDATE = 2,
  MLS_PROP_REMOVE = 3,
  MLS_PROP_PSK = 4,
  MLS_PROP_REINIT = 5,
  MLS_PROP_EXTERNAL_INIT = 6,
  MLS_PROP_GROUP_CONTEXT_EXTENSIONS = 7,
} mls_proposal_type_t;

typedef enum mls_extension_type {
  MLS_EXT_APPLICATION_ID = 1,
  MLS_EXT_RATCHET_TREE = 2,
  MLS_EXT_REQUIRED_CAPABILITIES = 3,
  MLS_EXT_EXTERNAL_PUB = 4,
  MLS_EXT_EXTERNAL_SENDERS = 5,
} mls_extension_type_t;

typedef enum mls_node_type {
  MLS_NODE_LEAF = 1,
  MLS_NODE_PARENT = 2,
} mls_node_type_t;

typedef enum mls_psk_type {
  MLS_PSK_EXTERNAL = 1,
  MLS_PSK_RESUMPTION = 2,
} mls_psk_type_t;

typedef enum mls_resumption_usage {
  MLS_RESUMPTION_APPLICATION = 1,
  MLS_RESUMPTION_REINIT = 2,
  MLS_RESUMPTION_BRANCH = 3,
} mls_resumption_usage_t;

typedef enum mls_proposal_or_ref_type {
  MLS_POR_PROPOSAL = 1,
  MLS_POR_REFERENCE = 2,
} mls_proposal_or_ref_type_t;

/* ---- lists ---------------------------------------------------------------------------- */
/* The validated content of a vector<V> and its number of elements. Borrowed view. */
typedef struct mls_list {
  veil_view_t raw;
  uint32_t count;
} mls_list_t;

/* A reader over a list's content: decode `count` elements from it with the element's
 * decoder (they were validated when the list was decoded). */
static inline void mls_list_reader(const mls_list_t *l, veil_reader_t *r) {
  static const uint8_t empty[1] = {0}; /* a built empty list may carry a NULL pointer */
  veil_reader_init(r, l->raw.ptr ? l->raw.ptr : empty, l->raw.ptr ? l->raw.len : 0);
}
/* Element i of a uint16 / uint32 list (Capabilities, unmerged_leaves); i < count. */
uint16_t mls_list_u16(const mls_list_t *l, uint32_t i);
uint32_t mls_list_u32(const mls_list_t *l, uint32_t i);
/* 1 when the uint16 list holds v. */
int mls_list_has_u16(const mls_list_t *l, uint16_t v);
/* A list over what a writer holds (`count` elements written with the element encoders).
 * Borrowed: valid while the writer's buffer lives and is not written to again. */
static inline mls_list_t mls_list_from_writer(const veil_writer_t *w, uint32_t count) {
  mls_list_t l = {{w->buf, w->len}, count};
  return l;
}
/* Writes a list as vector<V>. */
int mls_list_encode(veil_writer_t *w, const mls_list_t *l);

/* ---- small structures (§5.3, §7.2, §12.1, §5.1.3) --------------------------------------- */
typedef struct mls_credential {
  uint16_t type;             /* mls_credential_type_t */
  veil_view_t identity;      /* basic: identity<V> */
  mls_list_t certificates;   /* x509: Certificate{opaque cert_data<V>} list, leaf first */
} mls_credential_t;

typedef struct mls_capabilities {
  mls_list_t versions;       /* uint16 lists; values not interpreted (GREASE, §13.5) */
  mls_list_t cipher_suites;
  mls_list_t extensions;
  mls_list_t proposals;
  mls_list_t credentials;
} mls_capabilities_t;

typedef struct mls_lifetime {
  uint64_t not_before;
  uint64_t not_after;
} mls_lifetime_t;

typedef struct mls_extension {
  uint16_t type;    /* any value (unknown types are carried, §13.4) */
  veil_view_t data;
} mls_extension_t;

typedef struct mls_hpke_ciphertext {
  veil_view_t kem_output;
  veil_view_t ciphertext;
} mls_hpke_ciphertext_t;

int mls_credential_decode(veil_reader_t *r, mls_credential_t *out);
int mls_credential_encode(veil_writer_t *w, const mls_credential_t *in);
int mls_capabilities_decode(veil_reader_t *r, mls_capabilities_t *out);
int mls_capabilities_encode(veil_writer_t *w, const mls_capabilities_t *in);
int mls_extension_decode(veil_reader_t *r, mls_extension_t *out);
int mls_extension_encode(veil_writer_t *w, const mls_extension_t *in);
/* An Extension list: rejects duplicate types (§13.4: "MUST NOT contain duplicates"). */
int mls_extensions_decode(veil_reader_t *r, mls_list_t *out);
/* Finds an extension by type: 0 and *out filled, or VEIL_ENOTFOUND. */
int mls_extensions_find(const mls_list_t *exts, uint16_t type, veil_view_t *out);
int mls_hpke_ciphertext_decode(veil_reader_t *r, mls_hpke_ciphertext_t *out);
int mls_hpke_ciphertext_encode(veil_writer_t *w, const mls_hpke_ciphertext_t *in);

/* ---- LeafNode (§7.2), KeyPackage (§10), ParentNode (§7.1) ------------------------------- */
typedef struct mls_leaf_node {
  veil_view_t encryption_key;
  veil_view_t signature_key;
  mls_credential_t credential;
  mls_capabilities_t capabilities;
  uint8_t source;             /* mls_leaf_source_t */
  mls_lifetime_t lifetime;    /* source == key_package */
  veil_view_t parent_hash;    /* source == commit */
  mls_list_t extensions;
  veil_view_t signature;
} mls_leaf_node_t;

typedef struct mls_key_package {
  uint16_t version;
  uint16_t cipher_suite;
  veil_view_t init_key;
  mls_leaf_node_t leaf_node;
  mls_list_t extensions;
  veil_view_t signature;
  veil_view_t tbs;            /* decoded only: the encoded KeyPackageTBS (all but signature) */
} mls_key_package_t;

typedef struct mls_parent_node {
  veil_view_t encryption_key;
  veil_view_t parent_hash;
  mls_list_t unmerged_leaves; /* uint32 list (leaf indices); no repeats */
} mls_parent_node_t;

int mls_leaf_node_decode(veil_reader_t *r, mls_leaf_node_t *out);
int mls_leaf_node_encode(veil_writer_t *w, const mls_leaf_node_t *in);
/* LeafNodeTBS (§7.2): group_id/leaf_index are used for the update and commit sources. */
int mls_leaf_node_encode_tbs(veil_writer_t *w, const mls_leaf_node_t *in, veil_view_t group_id,
                             uint32_t leaf_index);
int mls_key_package_decode(veil_reader_t *r, mls_key_package_t *out);
int mls_key_package_encode(veil_writer_t *w, const mls_key_package_t *in);
int mls_key_package_encode_tbs(veil_writer_t *w, const mls_key_package_t *in);
int mls_parent_node_decode(veil_reader_t *r, mls_parent_node_t *out);
int mls_parent_node_encode(veil_writer_t *w, const mls_parent_node_t *in);

/* ---- UpdatePath (§7.6) --------------------------------------------------------------- */
typedef struct mls_update_path_node {
  veil_view_t encryption_key;
  mls_list_t encrypted_path_secret; /* HPKECiphertext list */
} mls_update_path_node_t;

typedef struct mls_update_path {
  mls_leaf_node_t leaf_node;
  uint32_t n_nodes;                 /* <= MLS_MAX_PATH */
  mls_update_path_node_t nodes[MLS_MAX_PATH];
} mls_update_path_t;

int mls_update_path_node_decode(veil_reader_t *r, mls_update_path_node_t *out);
int mls_update_path_node_encode(veil_writer_t *w, const mls_update_path_node_t *in);
int mls_update_path_decode(veil_reader_t *r, mls_update_path_t *out);
int mls_update_path_encode(veil_writer_t *w, const mls_update_path_t *in);

/* ---- Proposals (§12.1), Commit (§12.4) ----------------------------------------------- */
typedef struct mls_psk_id {
  uint8_t psktype;           /* mls_psk_type_t */
  veil_view_t psk_id;        /* external */
  uint8_t usage;             /* resumption: mls_resumption_usage_t */
  veil_view_t psk_group_id;  /* resumption */
  uint64_t psk_epoch;        /* resumption */
  veil_view_t psk_nonce;
} mls_psk_id_t;

typedef struct mls_reinit {
  veil_view_t group_id;
  uint16_t version;
  uint16_t cipher_suite;
  mls_list_t extensions;
} mls_reinit_t;

typedef struct mls_proposal {
  uint16_t type; /* mls_proposal_type_t */
  union {
    mls_key_package_t add;
    mls_leaf_node_t update;
    uint32_t remove;             /* removed leaf index */
    mls_psk_id_t psk;
    mls_reinit_t reinit;
    veil_view_t external_init;   /* kem_output */
    mls_list_t group_context_extensions;
  } u;
} mls_proposal_t;

typedef struct mls_proposal_or_ref {
  uint8_t type;             /* mls_proposal_or_ref_type_t */
  mls_proposal_t proposal;  /* type == proposal */
  veil_view_t reference;    /* type == reference: ProposalRef (HashReference) */
} mls_proposal_or_ref_t;

typedef struct mls_commit {
  mls_list_t proposals;     /* ProposalOrRef list */
  int has_path;
  mls_update_path_t path;
} mls_commit_t;

int mls_psk_id_decode(veil_reader_t *r, mls_psk_id_t *out);
int mls_psk_id_encode(veil_writer_t *w, const mls_psk_id_t *in);
/* Proposal = uint16 type + body. The *_body functions handle the body only (the forms
 * messages.json uses for add_proposal, update_proposal, ...). */
int mls_proposal_decode(veil_reader_t *r, mls_proposal_t *out);
int mls_proposal_encode(veil_writer_t *w, const mls_proposal_t *in);
int mls_proposal_body_decode(veil_reader_t *r, uint16_t type, mls_proposal_t *out);
int mls_proposal_body_encode(veil_writer_t *w, const mls_proposal_t *in);
int mls_proposal_or_ref_decode(veil_reader_t *r, mls_proposal_or_ref_t *out);
int mls_proposal_or_ref_encode(veil_writer_t *w, const mls_proposal_or_ref_t *in);
int mls_commit_decode(veil_reader_t *r, mls_commit_t *out);
int mls_commit_encode(veil_writer_t *w, const mls_commit_t *in);

/* ---- Framing (§6) ---------------------------------------------------------------------- */
typedef struct mls_sender {
  uint8_t type;     /* mls_sender_type_t */
  uint32_t index;   /* member: leaf_index; external: sender_index */
} mls_sender_t;

typedef struct mls_framed_content {
  veil_view_t group_id;
  uint64_t epoch;
  mls_sender_t sender;
  veil_view_t authenticated_data;
  uint8_t content_type;           /* mls_content_type_t */
  veil_view_t application_data;   /* application */
  mls_proposal_t proposal;        /* proposal */
  mls_commit_t commit;            /* commit */
} mls_framed_content_t;

typedef struct mls_framed_content_auth {
  veil_view_t signature;
  veil_view_t confirmation_tag;   /* content_type == commit only */
} mls_framed_content_auth_t;

typedef struct mls_public_message {
  mls_framed_content_t content;
  mls_framed_content_auth_t auth;
  veil_view_t membership_tag;     /* sender.type == member only */
} mls_public_message_t;

typedef struct mls_private_message {
  veil_view_t group_id;
  uint64_t epoch;
  uint8_t content_type;
  veil_view_t authenticated_data;
  veil_view_t encrypted_sender_data;
  veil_view_t ciphertext;
} mls_private_message_t;

/* AuthenticatedContent (§6.1): the signed unit, input of the transcript hashes. */
typedef struct mls_authenticated_content {
  uint16_t wire_format;
  mls_framed_content_t content;
  mls_framed_content_auth_t auth;
} mls_authenticated_content_t;

/* SenderData (§6.3.2). */
typedef struct mls_sender_data {
  uint32_t leaf_index;
  uint32_t generation;
  uint8_t reuse_guard[4];
} mls_sender_data_t;

int mls_sender_decode(veil_reader_t *r, mls_sender_t *out);
int mls_sender_encode(veil_writer_t *w, const mls_sender_t *in);
int mls_framed_content_decode(veil_reader_t *r, mls_framed_content_t *out);
int mls_framed_content_encode(veil_writer_t *w, const mls_framed_content_t *in);
/* FramedContentAuthData: its shape depends on the content type. */
int mls_framed_content_auth_decode(veil_reader_t *r, uint8_t content_type,
                                   mls_framed_content_auth_t *out);
int mls_framed_content_auth_encode(veil_writer_t *w, uint8_t content_type,
                                   const mls_framed_content_auth_t *in);
int mls_public_message_decode(veil_reader_t *r, mls_public_message_t *out);
int mls_public_message_encode(veil_writer_t *w, const mls_public_message_t *in);
int mls_private_message_decode(veil_reader_t *r, mls_private_message_t *out);
int mls_private_message_encode(veil_writer_t *w, const mls_private_message_t *in);
int mls_authenticated_content_decode(veil_reader_t *r, mls_authenticated_content_t *out);
int mls_authenticated_content_encode(veil_writer_t *w, const mls_authenticated_content_t *in);
/* FramedContentTBS (§6.1): group_context is the encoded GroupContext, required (non-empty)
 * for member and new_member_commit senders and ignored for the others. */
int mls_framed_content_tbs_encode(veil_writer_t *w, uint16_t wire_format,
                                  const mls_framed_content_t *content, veil_view_t group_context);
int mls_sender_data_decode(veil_reader_t *r, mls_sender_data_t *out);
int mls_sender_data_encode(veil_writer_t *w, const mls_sender_data_t *in);
/* PrivateMessageContent (§6.3.1): content by type, auth, then zero padding (non-zero
 * padding is rejected). `out` is filled except group_id/epoch/sender/authenticated_data. */
int mls_private_content_parse(const uint8_t *buf, size_t len, uint8_t content_type,
                              mls_framed_content_t *out, mls_framed_content_auth_t *auth);
int mls_private_content_encode(veil_writer_t *w, const mls_framed_content_t *content,
                               const mls_framed_content_auth_t *auth, size_t padding);
/* PrivateContentAAD and SenderDataAAD (§6.3.1, §6.3.2). */
int mls_private_content_aad_encode(veil_writer_t *w, const mls_private_message_t *m);
int mls_sender_data_aad_encode(veil_writer_t *w, const mls_private_message_t *m);

/* ---- GroupContext (§8.1), GroupInfo, GroupSecrets, Welcome (§12.4.3) ------------------ */
typedef struct mls_group_context {
  uint16_t version;
  uint16_t cipher_suite;
  veil_view_t group_id;
  uint64_t epoch;
  veil_view_t tree_hash;
  veil_view_t confirmed_transcript_hash;
  mls_list_t extensions;
} mls_group_context_t;

typedef struct mls_group_info {
  mls_group_context_t group_context;
  mls_list_t extensions;
  veil_view_t confirmation_tag;
  uint32_t signer;
  veil_view_t signature;
  veil_view_t tbs;            /* decoded only: the encoded GroupInfoTBS */
} mls_group_info_t;

typedef struct mls_group_secrets {
  veil_view_t joiner_secret;
  int has_path_secret;
  veil_view_t path_secret;
  mls_list_t psks;            /* PreSharedKeyID list */
} mls_group_secrets_t;

typedef struct mls_encrypted_group_secrets {
  veil_view_t new_member;     /* KeyPackageRef */
  mls_hpke_ciphertext_t encrypted_group_secrets;
} mls_encrypted_group_secrets_t;

typedef struct mls_welcome {
  uint16_t cipher_suite;
  mls_list_t secrets;         /* EncryptedGroupSecrets list */
  veil_view_t encrypted_group_info;
} mls_welcome_t;

int mls_group_context_decode(veil_reader_t *r, mls_group_context_t *out);
int mls_group_context_encode(veil_writer_t *w, const mls_group_context_t *in);
int mls_group_info_decode(veil_reader_t *r, mls_group_info_t *out);
int mls_group_info_encode(veil_writer_t *w, const mls_group_info_t *in);
int mls_group_info_encode_tbs(veil_writer_t *w, const mls_group_info_t *in);
int mls_group_secrets_decode(veil_reader_t *r, mls_group_secrets_t *out);
int mls_group_secrets_encode(veil_writer_t *w, const mls_group_secrets_t *in);
int mls_encrypted_group_secrets_decode(veil_reader_t *r, mls_encrypted_group_secrets_t *out);
int mls_encrypted_group_secrets_encode(veil_writer_t *w, const mls_encrypted_group_secrets_t *in);
int mls_welcome_decode(veil_reader_t *r, mls_welcome_t *out);
int mls_welcome_encode(veil_writer_t *w, const mls_welcome_t *in);

/* ---- MLSMessage (§6) -------------------------------------------------------------------- */
typedef struct mls_message {
  uint16_t version;           /* must be mls10 */
  uint16_t wire_format;       /* mls_wire_format_t */
  union {
    mls_public_message_t public_message;
    mls_private_message_t private_message;
    mls_welcome_t welcome;
    mls_group_info_t group_info;
    mls_key_package_t key_package;
  } u;
} mls_message_t;

int mls_message_decode(veil_reader_t *r, mls_message_t *out);
int mls_message_encode(veil_writer_t *w, const mls_message_t *in);
/* Whole-buffer decode: trailing bytes are an error. */
int mls_message_parse(const uint8_t *buf, size_t len, mls_message_t *out);

/* ---- helpers for the codec_*.c files and tree code ------------------------------------ */
/* opaque<V> bounded by MLS_MAX_OPAQUE. */
int mls_read_opaque(veil_reader_t *r, veil_view_t *out);
int mls_write_opaque(veil_writer_t *w, veil_view_t v);
/* optional<T> presence octet: 0 or 1, anything else VEIL_EMLS_OPTIONAL. */
int mls_read_optional(veil_reader_t *r, int *present);

#endif
