/*
 * veil client session — MLS membership driven by the relay (docs/relay.md).
 *
 * Sans-I/O: relay envelopes in (vs_member_handle), envelopes out through the `send`
 * callback, group changes reported through `on_epoch`. The rules it follows:
 *
 *  - `leader(create)` naming us while we hold no group: create the group (random 16-byte
 *    group id) at epoch 0. `leader` naming someone else while we hold no group: send one
 *    KeyPackage with its KeyPackageRef (RFC 9420 §5.2), once per attempt.
 *  - `batch` (we are the leader, at the batch's epoch): one Commit with an Add per join
 *    and a Remove for every leaf already in the group whose credential names a member
 *    listed in `leaves` (the relay's member ids are mapped to identities by the caller's
 *    resolve callback, identities to leaves by the credentials); sent as
 *    commit(batch_id, commit, welcome). The group merges it when the relay echoes it.
 *    A KeyPackage that fails validation is left out of the Commit (the relay then tells
 *    that joiner KP_REJECTED), so one bad joiner cannot block the batch.
 *  - `commit` from the relay: our own echo merges the pending commit; others are
 *    processed. A Commit that removes us ends membership (on_removed).
 *  - `welcome`: join with the KeyPackage's private state.
 *  - `rejoin`, or `error(KP_REJECTED)` while waiting: discard state, send a new KeyPackage.
 *  - `application`: MLS application data = E2EE chat (on_chat).
 *
 * Ownership: the member owns its mls_group_t and KeyPackage private state; the identity
 * and callbacks are borrowed for its lifetime.
 */
#ifndef VEIL_CLIENTS_SESSION_VS_MEMBER_H
#define VEIL_CLIENTS_SESSION_VS_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/mls/group.h"

typedef struct vs_member vs_member_t;

typedef struct vs_member_callbacks {
  /* One envelope for the relay (binary WebSocket message). */
  int (*send)(void *arg, const uint8_t *env, size_t len);
  /* The group is at a new epoch (created, joined, or a Commit merged). `added`: some
   * leaf of this epoch was not in the previous one (always 1 for create and join). */
  void (*on_epoch)(void *arg, mls_group_t *g, int added);
  void (*on_chat)(void *arg, uint32_t sender_leaf, const uint8_t *text, size_t len);
  /* A Commit removed us (the group is gone). */
  void (*on_removed)(void *arg);
  /* The identity of relay member `member` (the signaling roster's participant), copied
   * into out; 0, or VEIL_ENOTFOUND. */
  int (*resolve)(void *arg, uint64_t member, char *out, size_t cap);
  void *arg;
} vs_member_callbacks_t;

typedef struct vs_member_config {
  uint64_t self;                   /* our relay member id */
  const mls_identity_t *identity;  /* borrowed */
  uint16_t cipher_suite;
  mls_group_config_t group;
  vs_member_callbacks_t cb;
} vs_member_config_t;

typedef struct vs_member_stats {
  uint64_t commits_sent, commits_merged, commits_processed, welcomes, keypackages_sent;
  uint64_t errors_from_relay, process_failures, chats_in;
  uint64_t leader_changes;
} vs_member_stats_t;

int vs_member_new(const vs_member_config_t *cfg, vs_member_t **out);
void vs_member_free(vs_member_t *m);
/* One envelope from the relay. Protocol failures are counted and logged, not fatal. */
int vs_member_handle(vs_member_t *m, const uint8_t *env, size_t len);
/* E2EE chat: an MLS application message of the current epoch. VEIL_ESTATE without a group. */
int vs_member_send_chat(vs_member_t *m, const uint8_t *text, size_t len);
/* Test taps: one MLSMessage another member copied to us after we left, tried against the
 * group state we kept (stale: the Commit removing us never reached us). Nothing is
 * reported: no on_chat, no stats, the plaintext (if any) wiped and dropped. Only a
 * PrivateMessage of content type application is tried, as a tapped Commit would move the
 * kept state on. *epoch gets the epoch its clear header names (UINT64_MAX if none: not an
 * application PrivateMessage).
 * Returns 0 when it decrypted, else why not: VEIL_EMLS_FUTURE_EPOCH (an epoch we do not
 * hold), VEIL_EAUTH (no key of ours opens it), another mls_group_process error,
 * VEIL_EINVAL (not application data), VEIL_ESTATE (no group), or a codec error. */
int vs_member_tap_application(vs_member_t *m, const uint8_t *msg, size_t len, uint64_t *epoch);
mls_group_t *vs_member_group(vs_member_t *m); /* NULL until created/joined */
uint64_t vs_member_leader(const vs_member_t *m);
void vs_member_get_stats(const vs_member_t *m, vs_member_stats_t *out);
/* The identity a leaf's credential names (x509: SAN email, else CN; basic: the
 * identity bytes), into out. */
int vs_member_leaf_identity(const mls_leaf_node_t *leaf, char *out, size_t cap);

#endif
