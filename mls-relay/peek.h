/*
 * veil mls-relay — a framing peek into an MLSMessage (RFC 9420 §6, §10, §12.4.3.1).
 *
 * The relay is a delivery service that must stay blind to group secrets (DESIGN.md,
 * "Signaling and the relay"). It still has to know a few public framing fields to route:
 * which group and epoch a handshake message is for, whether it is a commit, and which
 * KeyPackageRefs a Welcome is addressed to. relay_peek reads exactly those fields and
 * nothing past them:
 *
 *   MLSMessage      version (must be mls10), wire_format (1..5, anything else rejected)
 *   PublicMessage   FramedContent prefix: group_id, epoch, sender (type + leaf/sender
 *                   index), authenticated_data (skipped), content_type. The content
 *                   (Proposal / Commit / application_data), the auth data and the
 *                   membership tag are NOT parsed: the peek stops after content_type.
 *   PrivateMessage  group_id, epoch, content_type; authenticated_data, encrypted_sender_data
 *                   and ciphertext are length-checked and skipped, never read. The message
 *                   must end exactly there (the whole struct is framing).
 *   Welcome         cipher_suite, each secrets[i].new_member (a KeyPackageRef view),
 *                   HPKE ciphertexts and encrypted_group_info skipped; exact end.
 *   GroupInfo       GroupContext prefix: version, cipher_suite, group_id, epoch.
 *   KeyPackage      version (mls10) and cipher_suite only.
 *
 * Strictness: every read goes through common/bytes.h; vector lengths are minimal MLS
 * varints (RFC 9420 §2.1.2, the 0b11 prefix is invalid); group ids, refs and the number
 * of Welcome entries are bounded below; enum values outside the RFC's registry are
 * rejected (ContentType 1..3, SenderType 1..4). Where the peek does not read to the end
 * (PublicMessage, GroupInfo, KeyPackage) trailing bytes are, by design, not examined: the
 * MLS clients check the full structure.
 *
 * Output views borrow the input buffer: they are valid as long as the caller keeps it.
 */
#ifndef VEIL_RELAY_PEEK_H
#define VEIL_RELAY_PEEK_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"

/* RFC 9420 §17.2, MLS Wire Formats. */
typedef enum relay_wire_format {
  RELAY_WF_PUBLIC_MESSAGE = 1,
  RELAY_WF_PRIVATE_MESSAGE = 2,
  RELAY_WF_WELCOME = 3,
  RELAY_WF_GROUP_INFO = 4,
  RELAY_WF_KEY_PACKAGE = 5,
} relay_wire_format_t;

/* RFC 9420 §6, ContentType. */
typedef enum relay_content_type {
  RELAY_CT_NONE = 0, /* not a framed message (Welcome, GroupInfo, KeyPackage) */
  RELAY_CT_APPLICATION = 1,
  RELAY_CT_PROPOSAL = 2,
  RELAY_CT_COMMIT = 3,
} relay_content_type_t;

/* RFC 9420 §6, SenderType (PublicMessage only; a PrivateMessage hides its sender). */
typedef enum relay_sender_type {
  RELAY_SENDER_NONE = 0,
  RELAY_SENDER_MEMBER = 1,
  RELAY_SENDER_EXTERNAL = 2,
  RELAY_SENDER_NEW_MEMBER_PROPOSAL = 3,
  RELAY_SENDER_NEW_MEMBER_COMMIT = 4,
} relay_sender_type_t;

#define RELAY_MLS10 1
/* Group ids are opaque<V> in MLS; 255 bytes is far above what any client uses (UUIDs,
 * 32-byte random ids) and keeps the relay's per-room copy small. */
#define RELAY_GROUP_ID_MAX 255
/* A KeyPackageRef is a RefHash output (RFC 9420 §5.2): Nh of the suite's hash, at most
 * 64 bytes (SHA-512). */
#define RELAY_REF_MAX 64
/* Welcome entries the peek reports; a Welcome adding more joiners at once is refused
 * (the relay's own pending queue is smaller than this). */
#define RELAY_PEEK_MAX_NEW_MEMBERS 64

typedef struct relay_peek {
  uint16_t version;      /* always RELAY_MLS10 after a successful peek */
  uint16_t wire_format;  /* relay_wire_format_t */
  uint16_t cipher_suite; /* Welcome, GroupInfo, KeyPackage; 0 otherwise */
  veil_view_t group_id;  /* Public/PrivateMessage, GroupInfo (borrowed); empty otherwise */
  uint64_t epoch;        /* Public/PrivateMessage, GroupInfo */
  uint8_t content_type;  /* relay_content_type_t; Public/PrivateMessage */
  uint8_t sender_type;   /* relay_sender_type_t; PublicMessage only */
  uint32_t sender_index; /* leaf_index (member) or sender_index (external) */
  size_t n_new_members;  /* Welcome: number of secrets[] entries */
  veil_view_t new_members[RELAY_PEEK_MAX_NEW_MEMBERS]; /* Welcome: KeyPackageRefs (borrowed) */
} relay_peek_t;

/* Peeks the framing fields of one MLSMessage occupying exactly msg[0..len) (see above
 * for which formats must end exactly). Returns 0 or: VEIL_ETRUNC, VEIL_ETRAILING,
 * VEIL_ENONMINIMAL, VEIL_EDECODE (bad varint), VEIL_ELIMIT (a bound below exceeded),
 * VEIL_ERELAY_VERSION, VEIL_ERELAY_WIRE_FORMAT, VEIL_ERELAY_CONTENT_TYPE,
 * VEIL_ERELAY_SENDER_TYPE. On error *out is unspecified. */
int relay_peek(const uint8_t *msg, size_t len, relay_peek_t *out);

/* "public_message", "private_message", ... or "unknown". */
const char *relay_wire_format_name(uint16_t wf);

#endif
