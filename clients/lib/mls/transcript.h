/*
 * veil MLS — transcript hashes (RFC 9420 §8.2).
 *
 *   confirmed_transcript_hash_[n] = Hash(interim_transcript_hash_[n-1] ||
 *                                        ConfirmedTranscriptHashInput_[n])
 *   interim_transcript_hash_[n]   = Hash(confirmed_transcript_hash_[n] ||
 *                                        InterimTranscriptHashInput_[n])
 *
 * ConfirmedTranscriptHashInput is {wire_format, FramedContent, signature<V>} of the
 * Commit's AuthenticatedContent and InterimTranscriptHashInput is {confirmation_tag<V>}.
 * Both are written with the codec's encoders (codec.h), never re-parsed here.
 *
 * mls_transcript_t is a plain value (stack or embedded in a group state); it holds no
 * secret. Both hashes are empty in epoch 0 (§8.2).
 */
#ifndef VEIL_CLIENTS_MLS_TRANSCRIPT_H
#define VEIL_CLIENTS_MLS_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/suite.h"

typedef struct mls_transcript {
  const mls_suite_t *suite; /* static, borrowed */
  uint8_t confirmed[MLS_HASH_MAX];
  size_t confirmed_len;     /* 0 (epoch 0) or suite->nh */
  uint8_t interim[MLS_HASH_MAX];
  size_t interim_len;       /* 0 (epoch 0) or suite->nh */
} mls_transcript_t;

/* Epoch 0: both hashes empty. */
void mls_transcript_init(mls_transcript_t *t, const mls_suite_t *s);
/* A state from known hashes (a joiner takes confirmed from the GroupContext and computes
 * interim from GroupInfo.confirmation_tag with mls_transcript_set_interim). */
int mls_transcript_set(mls_transcript_t *t, const mls_suite_t *s, const uint8_t *confirmed,
                       size_t confirmed_len, const uint8_t *interim, size_t interim_len);

/* Writes ConfirmedTranscriptHashInput {wire_format, content, signature<V>} (§8.2). */
int mls_transcript_confirmed_input_encode(veil_writer_t *w, uint16_t wire_format,
                                          const mls_framed_content_t *content,
                                          veil_view_t signature);

/* Step 1 of a Commit: confirmed = Hash(interim || ConfirmedTranscriptHashInput). The
 * interim hash is left as it was: the confirmation tag over the new confirmed hash comes
 * from the new epoch's key schedule, then mls_transcript_set_interim finishes the step.
 * VEIL_EINVAL unless content is a Commit. */
int mls_transcript_update_confirmed(mls_transcript_t *t, uint16_t wire_format,
                                    const mls_framed_content_t *content,
                                    veil_view_t signature);
/* Step 2: interim = Hash(confirmed || confirmation_tag<V>). */
int mls_transcript_set_interim(mls_transcript_t *t, const uint8_t *confirmation_tag,
                               size_t tag_len);
/* Both steps for a received Commit whose AuthenticatedContent carries its tag. */
int mls_transcript_update(mls_transcript_t *t, const mls_authenticated_content_t *ac);

#endif
