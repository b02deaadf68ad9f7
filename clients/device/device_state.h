/*
 * veil — the state of an emulated room device and the xAPI commands that read and change it.
 *
 * Secret. The organisation admin populates a client secret; the device keeps only
 * (salt, K) with a fresh random 16-byte salt and K = scrypt(secret, salt, N=32768, r=8,
 * p=1, 32 bytes), and wipes the secret. Every later secret-bearing argument is a JWE of the
 * device profile (clients/lib/jwe/jwe.h) whose cisco-kdf salt must equal that salt
 * (compared in constant time) and whose key is K, or its first 16 bytes for A128GCM: scrypt's
 * last step is PBKDF2-HMAC-SHA256 with one block, so a 16-byte output is the prefix of the
 * 32-byte one (RFC 7914 §6, RFC 8018 §5.2). The salt is published in the Populate result and
 * in `xStatus Security ClientSecret Salt`; the provisioning tool builds its blobs with it.
 * A blob's cisco-action must name its command ("populate", "add", "activate",
 * "deactivate", "delete"), so a blob made for one command cannot be replayed as another.
 *
 * Keys at rest. Every device holds a key-encryption key (KEK, 32 bytes, given at creation):
 * what a real device keeps in its secure element, here read from a key file that is never
 * the state file (device_kek.h). Private keys are kept only encrypted: AES-256-GCM under
 * HKDF-SHA256(salt = device salt, IKM = KEK, info = "veil device key at rest v2"), the
 * certificate's SHA-256 fingerprint as AAD; rotating the secret (a new salt) re-encrypts
 * them. K is kept in memory for the JWEs and, for the state file, sealed the same way under
 * info "veil device client secret at rest v2" (no AAD), so the saved state holds sealed
 * material and public data only. Sealing happens when K or a key arrives, never at save
 * time: a save is deterministic, so saving twice gives the same bytes.
 * External (WebexIdentity) certificates must carry an ECDSA P-256 key matching the key in
 * the bundle.
 *
 * Atomicity. Every command validates completely before it changes anything: a refused
 * command leaves the device exactly as it was (the unit tests compare the saved state).
 *
 * The meeting code (a later step) feeds calls and rosters through device_call_* and
 * device_roster_*; roster changes are emitted as xEvents through the event sink.
 */
#ifndef VEIL_CLIENTS_DEVICE_STATE_H
#define VEIL_CLIENTS_DEVICE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "clients/device/xapi.h"
#include "clients/lib/identity/verify.h"
#include "common/bytes.h"

#define DEVICE_SALT_LEN 16
#define DEVICE_K_LEN 32
#define DEVICE_KEK_LEN 32
#define DEVICE_SECRET_MIN 16
#define DEVICE_SECRET_MAX 128
#define DEVICE_CERTS_MAX 8
#define DEVICE_CALLS_MAX 4
#define DEVICE_ROSTER_MAX 256
#define DEVICE_ID_MAX 128
#define DEVICE_CODE_MAX 96
#define DEVICE_STATE_MAX (512 * 1024) /* bytes of a saved state */

typedef struct device device_t;

typedef struct device_config {
  const char *name;                    /* readable device name (xStatus SystemUnit Name) */
  int64_t (*now)(void *clock_ctx);     /* seconds since the epoch; NULL: time(NULL) */
  void *clock_ctx;
  /* Receives xEvent text (complete "*e ... ** end" blocks). May be NULL. */
  void (*emit)(void *emit_ctx, const char *text, size_t len);
  void *emit_ctx;
  const x509_trust_t *trust; /* borrowed, may be NULL: when set, the external identity is
                                valid only if its chain ends at an organisation anchor */
  const uint8_t *kek;        /* required, DEVICE_KEK_LEN bytes, copied by device_new: the
                                key-encryption key everything secret is sealed under */
} device_config_t;

/* The E2EE facts of one call, as the meeting code knows them. */
typedef struct device_call_info {
  int e2ee;                              /* 1 when the call is end-to-end encrypted */
  char security_code[DEVICE_CODE_MAX];   /* from the MLS epoch_authenticator */
  char media_encryption[32];             /* e.g. "SFrame AES_128_GCM_SHA256_128" */
  char group_encryption[48];             /* e.g. "MLS_128_DHKEMP256_AES128GCM_SHA256_P256" */
} device_call_info_t;

/* NULL when out of memory or without cfg->kek. */
device_t *device_new(const device_config_t *cfg);
void device_free(device_t *d);

/* ---- the shell ------------------------------------------------------------------- */
/* 1 when `cmd` takes a multi-line body (xapi_stream's body callback). */
int device_takes_body(void *d, const xapi_cmd_t *cmd);
/* Runs one command and appends its response (result, status or configuration lines and a
 * closing "** end") to `out`.
 * Returns 0 or the negative code the response reports. */
int device_execute(device_t *d, const xapi_cmd_t *cmd, veil_writer_t *out);
/* The response to a line the parser refused. */
void device_report_parse_error(int rc, veil_writer_t *out);
/* Increments on every change worth saving. */
uint64_t device_generation(const device_t *d);

/* ---- persistence ----------------------------------------------------------------- */
/* The state as a JSON text (malloc'd, free it): public data, K and the private keys sealed
 * under the KEK, and a check value of the KEK (device_persist.c has the format). */
int device_save(const device_t *d, char **json, size_t *len);
/* Replaces the state with a saved one, validating all of it first — K and every private key
 * must open under this device's KEK. On any error the device is unchanged:
 * VEIL_EDEV_KEK when the state was saved under another KEK, VEIL_EDEV_STATEVERSION for a
 * version 1 file (K in clear: not migrated, the device must be re-provisioned),
 * VEIL_EDEV_STATEFILE when malformed or tampered with. */
int device_load(device_t *d, const char *json, size_t len);
/* Only the version rule of device_load, for telling an old file apart before its key is at
 * hand: 0 for this version, VEIL_EDEV_STATEVERSION or VEIL_EDEV_STATEFILE. */
int device_state_version(const char *json, size_t len);

/* ---- the identity, for the meeting code -------------------------------------------- */
/* The active external identity: its private key (decrypted into priv, caller wipes) and its
 * chain (views into the device's storage, valid until the next command). VEIL_ENOTFOUND
 * when no certificate is active. */
int device_identity_key(device_t *d, uint8_t priv[32], veil_view_t *chain, size_t *n);
/* Sets the operator-issued (internal) identity chain, DER leaf first (copied). */
int device_set_internal_identity(device_t *d, const veil_view_t *chain, size_t n);

/* ---- calls and rosters ------------------------------------------------------------- */
int device_call_begin(device_t *d, uint32_t call_id, const device_call_info_t *info);
int device_call_update(device_t *d, uint32_t call_id, const device_call_info_t *info);
int device_call_end(device_t *d, uint32_t call_id);
/* Adds or updates a participant (emits ParticipantAdded or ParticipantUpdated). `st` is
 * copied. */
int device_roster_upsert(device_t *d, uint32_t call_id, const char *participant_id,
                         const verify_status_t *st);
int device_roster_remove(device_t *d, uint32_t call_id, const char *participant_id);

#endif
