/* Unit tests of the relay's WebSocket envelope codec (docs/relay.md). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mls-relay/envelope.h"
#include "mls-relay/peek.h"
#include "synth.h"

static relay_env_t env;

/* `v` holds exactly the `n` bytes at `p`. */
static void expect_bytes(veil_view_t v, const void *p, size_t n) {
  cr_assert_eq(v.len, n, "%zu bytes, want %zu", v.len, n);
  cr_assert_eq(memcmp(v.ptr, p, n), 0);
}

/* Decodes the control message in `w` into env, then empties `w` for the next one. */
static void decode_control(veil_writer_t *w, uint8_t ctl_type) {
  cr_assert_eq(w->err, 0);
  cr_assert_eq(relay_env_decode(w->buf, w->len, 100, &env), 0);
  cr_assert_eq(env.kind, RELAY_ENV_CONTROL);
  cr_assert_eq(env.ctl_type, ctl_type);
  w->len = 0;
}

Test(relay_envelope, round_trips_key_package) {
  synth_buf_t kp = synth_key_package(1, 20);
  synth_buf_t e = synth_env_kp(0x42, &kp);
  cr_assert_eq(relay_env_decode(e.p, e.len, 1 << 20, &env), 0);
  cr_assert_eq(env.kind, RELAY_ENV_KEY_PACKAGE);
  uint8_t ref[32];
  memset(ref, 0x42, sizeof ref);
  expect_bytes(env.ref, ref, sizeof ref);
  expect_bytes(env.mls, kp.p, kp.len);
  free(kp.p);
  free(e.p);
}

Test(relay_envelope, round_trips_commit_with_and_without_welcome) {
  synth_buf_t c = synth_private("g", 4, 3, 0, 30);
  const uint8_t refs[] = {5};
  synth_buf_t w = synth_welcome(1, refs, 1);
  synth_buf_t e = synth_env_commit(0x01020304, &c, &w);
  cr_assert_eq(relay_env_decode(e.p, e.len, 1 << 20, &env), 0);
  cr_assert_eq(env.kind, RELAY_ENV_COMMIT);
  cr_assert_eq(env.batch_id, 0x01020304);
  expect_bytes(env.mls, c.p, c.len);
  expect_bytes(env.welcome, w.p, w.len);
  free(e.p);
  e = synth_env_commit(0, &c, NULL);
  cr_assert_eq(relay_env_decode(e.p, e.len, 1 << 20, &env), 0);
  cr_assert_eq(env.kind, RELAY_ENV_COMMIT);
  cr_assert_eq(env.batch_id, 0);
  expect_bytes(env.mls, c.p, c.len);
  cr_assert_eq(env.welcome.len, 0);
  free(e.p);
  free(c.p);
  free(w.p);
}

Test(relay_envelope, round_trips_control_messages) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  cr_assert_eq(relay_env_put_error(&w, VEIL_ERELAY_STALE_EPOCH, 12, RELAY_ENV_COMMIT), 0);
  decode_control(&w, RELAY_CTL_ERROR);
  cr_assert_eq(env.code, 10706);
  cr_assert_eq(env.epoch, 12);
  cr_assert_eq(env.rejected_kind, RELAY_ENV_COMMIT);
  cr_assert_eq(relay_env_put_leader(&w, 99, 3, RELAY_LEADER_FLAG_CREATE), 0);
  decode_control(&w, RELAY_CTL_LEADER);
  cr_assert_eq(env.member, 99);
  cr_assert_eq(env.epoch, 3);
  cr_assert_eq(env.flags, RELAY_LEADER_FLAG_CREATE);
  cr_assert_eq(relay_env_put_rejoin(&w, 8), 0);
  decode_control(&w, RELAY_CTL_REJOIN);
  cr_assert_eq(env.epoch, 8);
  veil_writer_free(&w);
}

Test(relay_envelope, round_trips_batch) {
  veil_writer_t w;
  veil_wblock_t b;
  veil_writer_init_growable(&w, 0);
  relay_env_batch_begin(&w, 7, 2, &b);
  relay_env_batch_add_join(&w, 10, (const uint8_t *)"kp-ten", 6);
  relay_env_batch_add_join(&w, 11, (const uint8_t *)"kp-eleven", 9);
  relay_env_batch_mid(&w, &b);
  relay_env_batch_add_leave(&w, 3);
  cr_assert_eq(relay_env_batch_end(&w, &b), 0);
  cr_assert_eq(relay_env_decode(w.buf, w.len, 100, &env), 0);
  cr_assert_eq(env.kind, RELAY_ENV_CONTROL);
  cr_assert_eq(env.ctl_type, RELAY_CTL_BATCH);
  cr_assert_eq(env.batch_id, 7);
  cr_assert_eq(env.epoch, 2);
  expect_bytes(env.leaves, (const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 3}, 8); /* member 3 */
  veil_reader_t r;
  uint64_t m;
  veil_view_t kp;
  veil_reader_init(&r, env.joins.ptr, env.joins.len);
  cr_assert_eq(relay_env_next_join(&r, &m, &kp), 1);
  cr_assert_eq(m, 10);
  expect_bytes(kp, "kp-ten", 6);
  cr_assert_eq(relay_env_next_join(&r, &m, &kp), 1);
  cr_assert_eq(m, 11);
  expect_bytes(kp, "kp-eleven", 9);
  cr_assert_eq(relay_env_next_join(&r, &m, &kp), 0);
  veil_writer_free(&w);
}

Test(relay_envelope, rejects_unknown_kind_and_version) {
  const uint8_t kind0[] = {1, 0, 1, 0};
  const uint8_t kind7[] = {1, 7, 1, 0};
  const uint8_t v2[] = {2, 4, 1, 0};
  cr_assert_eq(relay_env_decode(kind0, sizeof kind0, 100, &env), VEIL_ERELAY_ENVELOPE);
  cr_assert_eq(relay_env_decode(kind7, sizeof kind7, 100, &env), VEIL_ERELAY_ENVELOPE);
  cr_assert_eq(relay_env_decode(v2, sizeof v2, 100, &env), VEIL_ERELAY_VERSION);
}

Test(relay_envelope, rejects_trailing_and_truncated_envelopes) {
  const uint8_t trailing[] = {1, RELAY_ENV_APPLICATION, 1, 0xaa, 0};
  const uint8_t truncated[] = {1, RELAY_ENV_APPLICATION, 3, 0xaa};
  const uint8_t header_only[] = {1};
  cr_assert_eq(relay_env_decode(trailing, sizeof trailing, 100, &env), VEIL_ETRAILING);
  cr_assert_eq(relay_env_decode(truncated, sizeof truncated, 100, &env), VEIL_ETRUNC);
  cr_assert_eq(relay_env_decode(header_only, sizeof header_only, 100, &env), VEIL_ETRUNC);
}

Test(relay_envelope, rejects_empty_mls_message_and_empty_ref) {
  const uint8_t empty_app[] = {1, RELAY_ENV_APPLICATION, 0};
  const uint8_t empty_ref[] = {1, RELAY_ENV_KEY_PACKAGE, 0, 1, 0xaa};
  cr_assert_eq(relay_env_decode(empty_app, sizeof empty_app, 100, &env), VEIL_ERELAY_ENVELOPE);
  cr_assert_eq(relay_env_decode(empty_ref, sizeof empty_ref, 100, &env), VEIL_ERELAY_ENVELOPE);
}

Test(relay_envelope, rejects_mls_message_above_limit_before_reading_it) {
  /* Declares 16000 bytes (2-byte varint 0x7e80) with a limit of 1000: refused on the
   * declared length, even though the bytes are not there. */
  const uint8_t big[] = {1, RELAY_ENV_PROPOSAL, 0x7e, 0x80, 0};
  cr_assert_eq(relay_env_decode(big, sizeof big, 1000, &env), VEIL_ELIMIT);
}

Test(relay_envelope, rejects_non_minimal_length) {
  const uint8_t nm[] = {1, RELAY_ENV_PROPOSAL, 0x40, 0x01, 0xaa};
  cr_assert_eq(relay_env_decode(nm, sizeof nm, 100, &env), VEIL_ENONMINIMAL);
}

Test(relay_envelope, rejects_batch_with_ragged_leaves_or_bad_join) {
  /* control, batch, id 1, epoch 0, joins<V> empty, leaves<V> 3 bytes. */
  const uint8_t ragged[] = {1, 6, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3};
  cr_assert_eq(relay_env_decode(ragged, sizeof ragged, 100, &env), VEIL_ERELAY_ENVELOPE);
  /* joins<V> of 4 bytes: too short for a uint64 member. */
  const uint8_t badjoin[] = {1, 6, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0};
  cr_assert_eq(relay_env_decode(badjoin, sizeof badjoin, 100, &env), VEIL_ERELAY_ENVELOPE);
}
