/*
 * veil mls-relay — the binary envelope of MLS traffic on the WebSocket (docs/relay.md).
 *
 * One binary WebSocket message carries one envelope:
 *
 *   struct {
 *     uint8 version = 1;
 *     EnvelopeKind kind;                       // uint8
 *     select (kind) {
 *       case key_package:  opaque key_package_ref<V>;   // 1..64 bytes
 *                          opaque key_package<V>;       // MLSMessage(KeyPackage)
 *       case commit:       uint32 batch_id;             // 0: not answering a batch
 *                          opaque commit<V>;            // MLSMessage(Public/PrivateMessage)
 *                          opaque welcome<V>;           // MLSMessage(Welcome) or empty
 *       case welcome:      opaque welcome<V>;           // relay -> joiner
 *       case proposal:     opaque message<V>;           // MLSMessage(Public/PrivateMessage)
 *       case application:  opaque message<V>;           // MLSMessage(PrivateMessage)
 *       case control:      ControlType type;            // uint8, relay -> client only
 *                          select (type) { ... see relay_control_t ... };
 *     };
 *   } RelayEnvelope;
 *
 * Lengths are MLS varints (minimal, RFC 9420 §2.1.2), integers big-endian, the envelope
 * must be consumed exactly. The MLS bytes inside are carried untouched: the relay peeks
 * their framing (peek.h) and forwards them byte for byte.
 *
 * Decoding yields views into the caller's buffer; encoding appends to a veil_writer.
 */
#ifndef VEIL_RELAY_ENVELOPE_H
#define VEIL_RELAY_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"

#define RELAY_ENV_VERSION 1

typedef enum relay_env_kind {
  RELAY_ENV_KEY_PACKAGE = 1,
  RELAY_ENV_COMMIT = 2,
  RELAY_ENV_WELCOME = 3,
  RELAY_ENV_PROPOSAL = 4,
  RELAY_ENV_APPLICATION = 5,
  RELAY_ENV_CONTROL = 6,
} relay_env_kind_t;

typedef enum relay_control_type {
  /* uint32 code (the positive value of the VEIL_ERELAY_* code); uint64 epoch (the
   * group's current epoch); uint8 rejected_kind (relay_env_kind_t of the refused
   * envelope, 0 if it could not be decoded). */
  RELAY_CTL_ERROR = 1,
  /* uint64 leader (member id); uint64 epoch; uint8 flags (bit 0: create the group). */
  RELAY_CTL_LEADER = 2,
  /* uint32 batch_id; uint64 epoch; BatchJoin joins<V>; uint64 leaves<V>, where
   * BatchJoin = { uint64 member; opaque key_package<V>; } (KeyPackage as MLSMessage). */
  RELAY_CTL_BATCH = 3,
  /* uint64 epoch: discard MLS state, send a fresh KeyPackage. */
  RELAY_CTL_REJOIN = 4,
} relay_control_type_t;

#define RELAY_LEADER_FLAG_CREATE 0x01

/* A decoded envelope; views borrow the input. Only the fields of `kind` are set. */
typedef struct relay_env {
  uint8_t kind;     /* relay_env_kind_t */
  veil_view_t ref;  /* key_package: KeyPackageRef */
  veil_view_t mls;  /* key_package / commit / welcome / proposal / application */
  veil_view_t welcome; /* commit: the Welcome (len 0 if none) */
  uint32_t batch_id;   /* commit */
  /* control */
  uint8_t ctl_type;
  uint32_t code;
  uint64_t epoch;
  uint64_t member;  /* leader */
  uint8_t flags;    /* leader */
  uint8_t rejected_kind;
  veil_view_t joins;  /* batch: the raw joins<V> content (iterate with relay_env_next_join) */
  veil_view_t leaves; /* batch: the raw leaves<V> content (8 bytes per entry) */
} relay_env_t;

/* Decodes one envelope of exactly `len` bytes. `max_mls` bounds each MLS vector. Returns
 * 0, VEIL_ERELAY_VERSION, VEIL_ERELAY_ENVELOPE (unknown kind or control type, empty MLS
 * message, bad batch vectors) or a reader error (VEIL_ETRUNC, VEIL_ETRAILING,
 * VEIL_ENONMINIMAL, VEIL_EDECODE, VEIL_ELIMIT). */
int relay_env_decode(const uint8_t *buf, size_t len, size_t max_mls, relay_env_t *out);
/* Iterates a decoded batch's joins: *r starts over env->joins; returns 1 and fills
 * member/key_package while entries remain, 0 at the end, negative on a malformed entry. */
int relay_env_next_join(veil_reader_t *r, uint64_t *member, veil_view_t *key_package);

/* Encoders (append to w; the writer's sticky error is returned). */
int relay_env_put_key_package(veil_writer_t *w, const uint8_t *ref, size_t ref_len,
                              const uint8_t *kp, size_t kp_len);
int relay_env_put_commit(veil_writer_t *w, uint32_t batch_id, const uint8_t *commit,
                         size_t commit_len, const uint8_t *welcome, size_t welcome_len);
/* kind: RELAY_ENV_WELCOME, RELAY_ENV_PROPOSAL or RELAY_ENV_APPLICATION. */
int relay_env_put_mls(veil_writer_t *w, uint8_t kind, const uint8_t *mls, size_t len);
int relay_env_put_error(veil_writer_t *w, int code, uint64_t epoch, uint8_t rejected_kind);
int relay_env_put_leader(veil_writer_t *w, uint64_t leader, uint64_t epoch, uint8_t flags);
int relay_env_put_rejoin(veil_writer_t *w, uint64_t epoch);
/* A batch is written in three steps because its joins come from the relay's tables:
 * begin (header + opens joins<V>), add_join per join, mid (closes joins, opens leaves),
 * add_leave per leave, end (closes leaves). `blk` carries the open block between calls. */
int relay_env_batch_begin(veil_writer_t *w, uint32_t batch_id, uint64_t epoch,
                          veil_wblock_t *blk);
int relay_env_batch_add_join(veil_writer_t *w, uint64_t member, const uint8_t *kp,
                             size_t kp_len);
int relay_env_batch_mid(veil_writer_t *w, veil_wblock_t *blk);
int relay_env_batch_add_leave(veil_writer_t *w, uint64_t member);
int relay_env_batch_end(veil_writer_t *w, veil_wblock_t *blk);

#endif
