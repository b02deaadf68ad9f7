/*
 * veil — a room device in a meeting: joins as a participant through the client session
 * library (clients/lib/session) with its activated external identity, and feeds the call
 * and roster interface of device_state.h, so that `xStatus Conference Call N ...` and the
 * `xEvent Conference ParticipantList Participant Added/Updated/Deleted` events follow the
 * real meeting.
 *
 * The identity's private key is unsealed from the device's at-rest blob only into the
 * session identity (memory), and wiped there when the meeting ends (vs_identity_free).
 *
 * Participants are keyed by MLS leaf ("leaf-N"): a leaf whose identity changes is a
 * departure followed by an arrival; a change of status, display name or certificate is an
 * update. Ownership: the meeting owns its session and identity; the device, the trust store
 * and the loop are borrowed and must outlive it.
 */
#ifndef VEIL_CLIENTS_DEVICE_MEETING_H
#define VEIL_CLIENTS_DEVICE_MEETING_H

#include <stdint.h>
#include <uv.h>

#include "clients/device/device_state.h"

typedef struct device_meeting device_meeting_t;

typedef struct device_meeting_config {
  uv_loop_t *loop;           /* borrowed */
  device_t *dev;             /* borrowed */
  const x509_trust_t *trust; /* borrowed: how the device judges the others (may be NULL) */
  const char *url;           /* ws(s)://127.0.0.1:port/ */
  const char *pin_sha256;    /* wss: server certificate pin, or */
  const char *ca_file;       /* wss: a CA file */
  const char *token;         /* join token (its identity must be the certificate's) */
  const char *room;
  const char *display_name;  /* the device's name */
  uint32_t call_id;          /* the xAPI call number (1) */
  /* Called once when the meeting is over (left, removed or signaling lost). */
  void (*on_end)(void *arg, int rc);
  void *arg;
} device_meeting_config_t;

/* Unseals the active identity and starts joining. VEIL_ENOTFOUND when the device has no
 * active identity certificate (nothing started). Strings in cfg are copied. When starting
 * fails after the session opened handles, *out is still set (a closed meeting): run the
 * loop, then free it. */
int device_meeting_start(const device_meeting_config_t *cfg, device_meeting_t **out);
/* Closes the session's handles (run the loop afterwards), ends the call. */
void device_meeting_close(device_meeting_t *m);
void device_meeting_free(device_meeting_t *m);

#endif
