/*
 * Synthetic MLS framing for the relay tests, written with the common writer in the field
 * order of RFC 9420 §6 (MLSMessage, FramedContent, PrivateMessage), §12.4.3.1 (Welcome)
 * and §10 (KeyPackage). Only the framing is real; contents are filler bytes, which is all
 * the relay may look at. Every builder returns a malloc'd buffer (free it) and its length.
 */
#ifndef VEIL_TESTS_RELAY_SYNTH_H
#define VEIL_TESTS_RELAY_SYNTH_H

#include <stddef.h>
#include <stdint.h>

typedef struct synth_buf {
  uint8_t *p;
  size_t len;
} synth_buf_t;

/* PublicMessage: group_id, epoch, sender, authenticated_data, content_type, then `tail`
 * filler bytes standing for the content, auth data and membership tag. */
synth_buf_t synth_public(const char *group, uint64_t epoch, uint8_t sender_type,
                         uint32_t leaf, size_t aad_len, uint8_t content_type, size_t tail);
/* PrivateMessage: group_id, epoch, content_type, authenticated_data, encrypted_sender_data,
 * ciphertext (filler of the given lengths). */
synth_buf_t synth_private(const char *group, uint64_t epoch, uint8_t content_type,
                          size_t aad_len, size_t ct_len);
/* Welcome for `n` refs; ref i is 32 bytes of value refs[i]. */
synth_buf_t synth_welcome(uint16_t suite, const uint8_t *refs, size_t n);
/* KeyPackage: version, cipher_suite, then `tail` filler bytes. */
synth_buf_t synth_key_package(uint16_t suite, size_t tail);
/* GroupInfo prefix: GroupContext version, suite, group_id, epoch, then filler. */
synth_buf_t synth_group_info(uint16_t suite, const char *group, uint64_t epoch);

/* Envelopes around them (envelope.h). */
synth_buf_t synth_env_kp(uint8_t ref, const synth_buf_t *kp);
synth_buf_t synth_env_commit(uint32_t batch, const synth_buf_t *commit, const synth_buf_t *welcome);
synth_buf_t synth_env_mls(uint8_t kind, const synth_buf_t *mls);

#endif
