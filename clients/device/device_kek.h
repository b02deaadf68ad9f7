/*
 * veil — where an emulated room device keeps its key-encryption key (KEK).
 *
 * A real room device keeps the key its state is sealed under in a secure element or TPM,
 * which seals and opens but never lets the key out. The emulated one keeps it in a key file
 * of its own: one line, the base64url of 32 random bytes, mode 0600, created on the first
 * start (when neither the key file nor the state file exists) and only then. The state
 * file holds only what the KEK seals and public data (device_persist.c), so reading the
 * state file alone gives nothing secret; reading both gives everything, as the key file is
 * the secure element's stand-in. An environment variable was the rejected alternative: it
 * leaks into child processes and /proc/PID/environ, and has no mode bits to check.
 */
#ifndef VEIL_CLIENTS_DEVICE_KEK_H
#define VEIL_CLIENTS_DEVICE_KEK_H

#include <stddef.h>
#include <stdint.h>

#include "clients/device/device_state.h"

/* Reads the KEK from `key_path`, or creates that file with a fresh KEK when neither it nor
 * `state_path` exists (*created = 1). Refuses — with a sentence in `why` saying what to do —
 * a missing key file beside an existing state file (a new key could not open it), a key
 * file that is the state file, is not a regular file, is open to group or others, or does
 * not hold exactly one line of base64url of DEVICE_KEK_LEN bytes. Never changes an existing
 * file. Returns 0 or a negative code; the caller wipes `kek`. */
int device_kek_file(const char *key_path, const char *state_path, uint8_t kek[DEVICE_KEK_LEN],
                    int *created, char *why, size_t why_cap);

#endif
