/* Unit tests of the relay's MLSMessage framing peek (RFC 9420 §6, §10, §12.4.3.1). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mls-relay/peek.h"
#include "synth.h"

static relay_peek_t pk;

/* Peeks at `m`, expecting `rc`, and frees it: only pk's scalar fields stay readable. */
static void expect_peek(synth_buf_t m, int rc) {
  int got = relay_peek(m.p, m.len, &pk);
  cr_assert_eq(got, rc, "peek gave %d, want %d", got, rc);
  free(m.p);
}

Test(relay_peek, reads_public_commit_framing_prefix) {
  synth_buf_t m = synth_public("room-1", 7, RELAY_SENDER_MEMBER, 3, 5, RELAY_CT_COMMIT, 50);
  cr_assert_eq(relay_peek(m.p, m.len, &pk), 0);
  cr_assert_eq(pk.wire_format, RELAY_WF_PUBLIC_MESSAGE);
  cr_assert_eq(pk.group_id.len, 6);
  cr_assert_eq(memcmp(pk.group_id.ptr, "room-1", 6), 0);
  cr_assert_eq(pk.epoch, 7);
  cr_assert_eq(pk.sender_type, RELAY_SENDER_MEMBER);
  cr_assert_eq(pk.sender_index, 3);
  cr_assert_eq(pk.content_type, RELAY_CT_COMMIT);
  free(m.p);
}

Test(relay_peek, skips_authenticated_data_before_content_type) {
  /* content_type follows authenticated_data inside FramedContent (RFC 9420 §6): a long
   * aad (2-byte varint length) must be skipped, not mistaken for the content type. */
  expect_peek(synth_public("g", 1, RELAY_SENDER_MEMBER, 0, 300, RELAY_CT_PROPOSAL, 10), 0);
  cr_assert_eq(pk.content_type, RELAY_CT_PROPOSAL);
}

Test(relay_peek, does_not_parse_public_content_past_content_type) {
  /* Nothing after content_type is examined: the commit body is opaque to the relay. */
  expect_peek(synth_public("g", 1, RELAY_SENDER_MEMBER, 0, 0, RELAY_CT_COMMIT, 0), 0);
  cr_assert_eq(pk.content_type, RELAY_CT_COMMIT);
}

Test(relay_peek, reads_new_member_commit_sender_without_index) {
  expect_peek(synth_public("g", 2, RELAY_SENDER_NEW_MEMBER_COMMIT, 0, 0, RELAY_CT_COMMIT, 4), 0);
  cr_assert_eq(pk.sender_type, RELAY_SENDER_NEW_MEMBER_COMMIT);
  cr_assert_eq(pk.content_type, RELAY_CT_COMMIT);
}

Test(relay_peek, reads_private_message_framing) {
  expect_peek(synth_private("grp", UINT64_C(0x0102030405060708), RELAY_CT_APPLICATION, 3, 90), 0);
  cr_assert_eq(pk.wire_format, RELAY_WF_PRIVATE_MESSAGE);
  cr_assert_eq(pk.epoch, UINT64_C(0x0102030405060708));
  cr_assert_eq(pk.content_type, RELAY_CT_APPLICATION);
  cr_assert_eq(pk.sender_type, RELAY_SENDER_NONE);
}

Test(relay_peek, reads_welcome_new_member_refs) {
  const uint8_t refs[] = {0x11, 0x22, 0x33};
  synth_buf_t m = synth_welcome(2, refs, 3);
  cr_assert_eq(relay_peek(m.p, m.len, &pk), 0);
  cr_assert_eq(pk.wire_format, RELAY_WF_WELCOME);
  cr_assert_eq(pk.cipher_suite, 2);
  cr_assert_eq(pk.n_new_members, 3);
  for (size_t i = 0; i < 3; i++) {
    cr_assert_eq(pk.new_members[i].len, 32);
    cr_assert_eq(pk.new_members[i].ptr[0], refs[i]);
    cr_assert_eq(pk.new_members[i].ptr[31], refs[i]);
  }
  free(m.p);
}

Test(relay_peek, reads_key_package_and_group_info_prefix) {
  expect_peek(synth_key_package(3, 100), 0);
  cr_assert_eq(pk.wire_format, RELAY_WF_KEY_PACKAGE);
  cr_assert_eq(pk.cipher_suite, 3);
  expect_peek(synth_group_info(1, "abc", 9), 0);
  cr_assert_eq(pk.wire_format, RELAY_WF_GROUP_INFO);
  cr_assert_eq(pk.epoch, 9);
  cr_assert_eq(pk.group_id.len, 3);
}

/* Every strict prefix of a fully framed message (which itself peeks) must fail, never read
 * past the end (each prefix is its own allocation, so ASan sees an overread); frees `m`. */
static void assert_every_truncation_fails(synth_buf_t m) {
  cr_assert_eq(relay_peek(m.p, m.len, &pk), 0, "the whole message peeks");
  for (size_t n = 0; n < m.len; n++) {
    uint8_t *cut = malloc(n ? n : 1);
    memcpy(cut, m.p, n);
    cr_assert_neq(relay_peek(cut, n, &pk), 0, "prefix of %zu/%zu bytes accepted", n, m.len);
    free(cut);
  }
  free(m.p);
}

/* `m` followed by `extra` zero bytes is refused as trailing data; frees `m`. */
static void assert_trailing_refused(synth_buf_t m, size_t extra) {
  uint8_t *longer = calloc(1, m.len + extra);
  cr_assert_not_null(longer);
  memcpy(longer, m.p, m.len);
  cr_assert_eq(relay_peek(longer, m.len + extra, &pk), VEIL_ETRAILING);
  free(longer);
  free(m.p);
}

Test(relay_peek, rejects_truncated_private_message) {
  assert_every_truncation_fails(synth_private("grp", 5, RELAY_CT_COMMIT, 2, 20));
}

Test(relay_peek, rejects_truncated_welcome) {
  const uint8_t refs[] = {1, 2};
  assert_every_truncation_fails(synth_welcome(1, refs, 2));
}

Test(relay_peek, rejects_truncated_public_prefix) {
  /* Up to and including content_type the public framing is required. */
  assert_every_truncation_fails(
      synth_public("grp", 5, RELAY_SENDER_MEMBER, 1, 4, RELAY_CT_COMMIT, 0));
}

Test(relay_peek, rejects_trailing_bytes_after_private_message) {
  assert_trailing_refused(synth_private("grp", 5, RELAY_CT_PROPOSAL, 0, 8), 1);
}

Test(relay_peek, rejects_trailing_bytes_after_welcome) {
  const uint8_t refs[] = {9};
  assert_trailing_refused(synth_welcome(1, refs, 1), 2);
}

Test(relay_peek, rejects_non_minimal_group_id_length) {
  /* group_id length 3 encoded in two bytes (0x40 0x03): RFC 9420 §2.1.2 forbids it. */
  const uint8_t m[] = {0, 1, 0, 2, 0x40, 0x03, 'a', 'b', 'c', 0, 0, 0, 0, 0, 0, 0, 1, 1,
                       0, 0, 0};
  cr_assert_eq(relay_peek(m, sizeof m, &pk), VEIL_ENONMINIMAL);
}

Test(relay_peek, rejects_non_minimal_authenticated_data_length) {
  /* PublicMessage, group "g", epoch 1, member sender 0, aad length 0 as 0x80000000. */
  const uint8_t m[] = {0, 1, 0, 1, 0x01, 'g', 0, 0, 0, 0, 0, 0, 0, 1,
                       1, 0, 0, 0, 0, 0x80, 0, 0, 0, 3};
  cr_assert_eq(relay_peek(m, sizeof m, &pk), VEIL_ENONMINIMAL);
}

Test(relay_peek, rejects_eight_byte_varint) {
  const uint8_t m[] = {0, 1, 0, 2, 0xc0, 0, 0, 0, 0, 0, 0, 1, 'g'};
  cr_assert_eq(relay_peek(m, sizeof m, &pk), VEIL_EDECODE);
}

Test(relay_peek, rejects_unknown_wire_formats) {
  const uint16_t bad[] = {0, 6, 0x0a0a, 0xf000, 0xffff};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t m[] = {0, 1, (uint8_t)(bad[i] >> 8), (uint8_t)bad[i], 0, 0, 0, 0};
    cr_assert_eq(relay_peek(m, sizeof m, &pk), VEIL_ERELAY_WIRE_FORMAT, "wf %u", bad[i]);
  }
}

Test(relay_peek, rejects_other_protocol_versions) {
  synth_buf_t m = synth_private("g", 1, RELAY_CT_APPLICATION, 0, 4);
  m.p[1] = 2;
  expect_peek(m, VEIL_ERELAY_VERSION);
  synth_buf_t kp = synth_key_package(1, 4);
  kp.p[5] = 0; /* KeyPackage.version = 0 */
  expect_peek(kp, VEIL_ERELAY_VERSION);
}

Test(relay_peek, rejects_reserved_and_unknown_content_types) {
  expect_peek(synth_private("g", 1, 0, 0, 4), VEIL_ERELAY_CONTENT_TYPE);
  expect_peek(synth_public("g", 1, RELAY_SENDER_MEMBER, 0, 0, 4, 4), VEIL_ERELAY_CONTENT_TYPE);
}

Test(relay_peek, rejects_reserved_and_unknown_sender_types) {
  expect_peek(synth_public("g", 1, 0, 0, 0, RELAY_CT_COMMIT, 4), VEIL_ERELAY_SENDER_TYPE);
  expect_peek(synth_public("g", 1, 5, 0, 0, RELAY_CT_COMMIT, 4), VEIL_ERELAY_SENDER_TYPE);
}

Test(relay_peek, rejects_oversized_group_id) {
  char big[RELAY_GROUP_ID_MAX + 2];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  expect_peek(synth_private(big, 1, RELAY_CT_APPLICATION, 0, 4), VEIL_ELIMIT);
  big[RELAY_GROUP_ID_MAX] = 0; /* exactly the limit is fine */
  expect_peek(synth_private(big, 1, RELAY_CT_APPLICATION, 0, 4), 0);
}

Test(relay_peek, rejects_welcome_with_too_many_joiners) {
  uint8_t refs[RELAY_PEEK_MAX_NEW_MEMBERS + 1];
  for (size_t i = 0; i < sizeof refs; i++)
    refs[i] = (uint8_t)i;
  expect_peek(synth_welcome(1, refs, sizeof refs), VEIL_ELIMIT);
  expect_peek(synth_welcome(1, refs, RELAY_PEEK_MAX_NEW_MEMBERS), 0);
  cr_assert_eq(pk.n_new_members, RELAY_PEEK_MAX_NEW_MEMBERS);
}

Test(relay_peek, rejects_welcome_with_empty_or_oversized_ref) {
  /* suite 1; secrets<V> = { ref<V>=empty, kem<V>=empty, ct<V>=empty }; egi empty. */
  const uint8_t empty_ref[] = {0, 1, 0, 3, 0, 1, 3, 0, 0, 0, 0};
  cr_assert_eq(relay_peek(empty_ref, sizeof empty_ref, &pk), VEIL_EDECODE);
  uint8_t big[6 + 2 + 1 + 65 + 2 + 1];
  size_t n = 0;
  big[n++] = 0, big[n++] = 1, big[n++] = 0, big[n++] = 3, big[n++] = 0, big[n++] = 1;
  big[n++] = 0x40, big[n++] = 68; /* secrets<V> of 68 bytes (2-byte varint) */
  big[n++] = 65;                  /* a 65-byte ref: above any hash size */
  memset(big + n, 7, 65), n += 65;
  big[n++] = 0, big[n++] = 0, big[n++] = 0;
  cr_assert_eq(relay_peek(big, n, &pk), VEIL_ELIMIT);
}

Test(relay_peek, rejects_welcome_entry_spilling_out_of_its_vector) {
  /* secrets<V> declares 3 bytes but its entry needs more: the block must hold it all. */
  const uint8_t m[] = {0, 1, 0, 3, 0, 1, 3, 1, 0xaa, 2, 0, 0, 0};
  cr_assert_neq(relay_peek(m, sizeof m, &pk), 0);
}
