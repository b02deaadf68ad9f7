/*
 * veil client session — the meeting's security code (docs/protocol.md, "Security code").
 *
 *   digest = SHA-512("veil security code v1" || group_id<V> || epoch_authenticator<V>)
 *   code   = 12 groups of 5 decimal digits; group i = uint40(digest[5i .. 5i+5]) mod 100000
 *
 * computed from the epoch_authenticator (RFC 9420 §8.7) of the last epoch that added a
 * member: every member who holds that epoch derives the same value, an attacker who
 * joins (or splits the group) changes it, and an epoch that only removes members or
 * updates keys keeps it (the caller decides which epochs add; vs_member reports it).
 */
#ifndef VEIL_CLIENTS_SESSION_VS_SECCODE_H
#define VEIL_CLIENTS_SESSION_VS_SECCODE_H

#include <stddef.h>
#include <stdint.h>

#define VS_SECCODE_GROUPS 12
#define VS_SECCODE_LEN (VS_SECCODE_GROUPS * 6) /* "12345 " x 12, last space is the NUL */

/* out: VS_SECCODE_LEN bytes, "ddddd ddddd ... ddddd". */
int vs_seccode(const uint8_t *group_id, size_t gid_len, const uint8_t *epoch_auth, size_t ea_len,
               char out[VS_SECCODE_LEN]);

#endif
