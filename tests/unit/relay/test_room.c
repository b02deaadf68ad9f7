/* Unit tests of the relay room state machine: creation, joins, commits, epochs. */
#include "harness.h"

TestSuite(relay_room, .init = setup_default, .fini = teardown_room);

Test(relay_room, first_participant_creates_group_and_leads) {
  cr_assert_eq(join(1), 0);
  const relay_action_t *a = find_act(RELAY_ACT_LEADER, 1);
  cr_assert_not_null(a);
  cr_assert_eq(a->leader, 1);
  cr_assert(a->create);
  relay_env_t e = decode_act(a);
  cr_assert_eq(e.ctl_type, RELAY_CTL_LEADER);
  cr_assert_eq(e.member, 1);
  cr_assert_eq(e.flags & RELAY_LEADER_FLAG_CREATE, RELAY_LEADER_FLAG_CREATE);
  cr_assert_eq(relay_room_leader(room), 1);
  cr_assert_eq(relay_room_group_size(room), 1);
  /* The second participant is a joiner, not a second creator: it is told, alone, who
   * leads, so it knows to send a KeyPackage. */
  cr_assert_eq(join(2), 0);
  a = find_act(RELAY_ACT_LEADER, 2);
  cr_assert_not_null(a);
  cr_assert_eq(a->leader, 1);
  cr_assert(!a->create);
  cr_assert_eq(a->n_to, 1);
  cr_assert_eq(count_act(RELAY_ACT_LEADER), 1);
  relay_metrics_t mt = metrics();
  cr_assert_eq(mt.leader_changes, 0, "greeting a joiner is not a leader change");
}

Test(relay_room, joiner_key_package_goes_to_leader_after_batch_window) {
  join(1);
  join(2);
  cr_assert_eq(send_kp(2), 0);
  cr_assert_null(find_act(RELAY_ACT_BATCH, 1), "batch handed before its window closed");
  cr_assert_eq(acts.next_deadline, now_ms + cfg.batch_delay_ms);
  batch_window_passes();
  size_t joins, leaves;
  uint32_t b = batch_of(1, &joins, &leaves);
  cr_assert_neq(b, 0);
  cr_assert_eq(joins, 1);
  cr_assert_eq(leaves, 0);
  /* The KeyPackage bytes reach the leader untouched. */
  relay_env_t e = decode_act(find_act(RELAY_ACT_BATCH, 1));
  veil_reader_t r;
  uint64_t m;
  veil_view_t kp;
  veil_reader_init(&r, e.joins.ptr, e.joins.len);
  cr_assert_eq(relay_env_next_join(&r, &m, &kp), 1);
  synth_buf_t want = synth_key_package(SUITE, 40);
  cr_assert_eq(m, 2);
  cr_assert_eq(kp.len, want.len);
  cr_assert_eq(memcmp(kp.ptr, want.p, want.len), 0);
  free(want.p);
  cr_assert_eq(acts.next_deadline, now_ms + cfg.commit_timeout_ms);
}

Test(relay_room, commit_is_broadcast_and_welcome_delivered_to_joiner) {
  join(1);
  join(2);
  send_kp(2);
  now_ms += 250;
  tick_at(now_ms);
  uint32_t b = batch_of(1, NULL, NULL);
  uint8_t ref = 2;
  now_ms += 100;
  cr_assert_eq(send_commit(1, b, 0, &ref, 1), 0);
  const relay_action_t *bc = find_act(RELAY_ACT_BROADCAST, 1);
  cr_assert_not_null(bc, "the leader gets its commit echoed as acknowledgement");
  cr_assert(!has_to(bc, 2), "the joiner gets the Welcome, not the commit");
  relay_env_t c = decode_act(bc);
  cr_assert_eq(c.kind, RELAY_ENV_COMMIT);
  cr_assert_eq(c.batch_id, b);
  cr_assert_eq(c.welcome.len, 0);
  const relay_action_t *w = find_act(RELAY_ACT_SEND, 2);
  cr_assert_not_null(w);
  cr_assert_eq(decode_act(w).kind, RELAY_ENV_WELCOME);
  cr_assert_eq(relay_room_epoch(room), 1);
  cr_assert_eq(relay_room_group_size(room), 2);
  relay_metrics_t mt = metrics();
  cr_assert_eq(mt.commits_accepted, 1);
  cr_assert_eq(mt.joins_completed, 1);
  cr_assert_eq(mt.join_latency_last_ms, 350);
  cr_assert_eq(mt.epoch, 1);
  cr_assert_eq(acts.next_deadline, RELAY_NEVER);
}

static void assert_error(relay_member_id_t to, int code, uint64_t epoch) {
  const relay_action_t *a = find_act(RELAY_ACT_ERROR, to);
  cr_assert_not_null(a, "no error to %llu", (unsigned long long)to);
  cr_assert_eq(a->code, code, "code %d, want %d", a->code, code);
  relay_env_t e = decode_act(a);
  cr_assert_eq(e.ctl_type, RELAY_CTL_ERROR);
  cr_assert_eq(e.code, (uint32_t)-code);
  cr_assert_eq(e.epoch, epoch, "error must tell the current epoch");
}

Test(relay_room, rejects_stale_epoch_commit_telling_current_epoch) {
  grow_group(3); /* epoch 2 */
  cr_assert_eq(send_commit(1, 0, 1, NULL, 0), VEIL_ERELAY_STALE_EPOCH);
  assert_error(1, VEIL_ERELAY_STALE_EPOCH, 2);
  cr_assert_null(find_act(RELAY_ACT_BROADCAST, 0));
  cr_assert_eq(relay_room_epoch(room), 2);
}

Test(relay_room, rejects_future_epoch_commit_telling_current_epoch) {
  grow_group(2);
  cr_assert_eq(send_commit(1, 0, 5, NULL, 0), VEIL_ERELAY_FUTURE_EPOCH);
  assert_error(1, VEIL_ERELAY_FUTURE_EPOCH, 1);
  cr_assert_eq(relay_room_epoch(room), 1);
}

Test(relay_room, rejects_stale_and_future_application_messages) {
  grow_group(3);
  cr_assert_eq(send_app(2, 1), VEIL_ERELAY_STALE_EPOCH);
  assert_error(2, VEIL_ERELAY_STALE_EPOCH, 2);
  cr_assert_eq(send_app(2, 3), VEIL_ERELAY_FUTURE_EPOCH);
  assert_error(2, VEIL_ERELAY_FUTURE_EPOCH, 2);
  cr_assert_null(find_act(RELAY_ACT_BROADCAST, 0));
}

Test(relay_room, rejects_commit_from_non_leader) {
  grow_group(3);
  cr_assert_eq(send_commit(2, 0, 2, NULL, 0), VEIL_ERELAY_NOT_LEADER);
  assert_error(2, VEIL_ERELAY_NOT_LEADER, 2);
  cr_assert_eq(relay_room_epoch(room), 2);
  relay_metrics_t mt = metrics();
  cr_assert_eq(mt.commits_rejected, 1);
}

Test(relay_room, accepts_exactly_one_commit_per_epoch) {
  grow_group(2);
  cr_assert_eq(send_commit(1, 0, 1, NULL, 0), 0);
  cr_assert_eq(relay_room_epoch(room), 2);
  /* A second commit for epoch 1, even from the leader, is stale now. */
  cr_assert_eq(send_commit(1, 0, 1, NULL, 0), VEIL_ERELAY_STALE_EPOCH);
  cr_assert_eq(relay_room_epoch(room), 2);
}

Test(relay_room, fans_out_application_and_proposal_to_other_members) {
  grow_group(3);
  cr_assert_eq(send_app(2, 2), 0);
  const relay_action_t *a = find_act(RELAY_ACT_BROADCAST, 0);
  cr_assert_not_null(a);
  cr_assert_eq(a->n_to, 2);
  cr_assert(has_to(a, 1) && has_to(a, 3) && !has_to(a, 2));
  /* Forwarded byte for byte. */
  synth_buf_t m = synth_private(GROUP, 2, 1, 0, 32);
  synth_buf_t env = synth_env_mls(RELAY_ENV_APPLICATION, &m);
  cr_assert_eq(a->len, env.len);
  cr_assert_eq(memcmp(a->bytes, env.p, env.len), 0);
  free(m.p);
  free(env.p);
  synth_buf_t p = synth_public(GROUP, 2, RELAY_SENDER_MEMBER, 2, 0, 2, 30);
  cr_assert_eq(send_env(3, synth_env_mls(RELAY_ENV_PROPOSAL, &p)), 0);
  free(p.p);
  a = find_act(RELAY_ACT_BROADCAST, 0);
  cr_assert(a && has_to(a, 1) && has_to(a, 2) && !has_to(a, 3));
}

Test(relay_room, refuses_application_data_in_a_public_message) {
  grow_group(2);
  synth_buf_t p = synth_public(GROUP, 1, RELAY_SENDER_MEMBER, 0, 0, 1, 30);
  cr_assert_eq(send_env(2, synth_env_mls(RELAY_ENV_APPLICATION, &p)), VEIL_ERELAY_PLAINTEXT);
  free(p.p);
  cr_assert_null(find_act(RELAY_ACT_BROADCAST, 0));
}

Test(relay_room, refuses_external_commit_bypassing_the_leader) {
  grow_group(2);
  synth_buf_t c = synth_public(GROUP, 1, RELAY_SENDER_NEW_MEMBER_COMMIT, 0, 0, 3, 30);
  cr_assert_eq(send_env(1, synth_env_commit(0, &c, NULL)), VEIL_ERELAY_SENDER_TYPE);
  free(c.p);
  cr_assert_eq(relay_room_epoch(room), 1);
}

Test(relay_room, refuses_message_for_another_group) {
  grow_group(2);
  synth_buf_t m = synth_private("other-group", 1, 1, 0, 32);
  cr_assert_eq(send_env(2, synth_env_mls(RELAY_ENV_APPLICATION, &m)), VEIL_ERELAY_GROUP);
  free(m.p);
  synth_buf_t c = synth_private("other-group", 1, 3, 0, 32);
  cr_assert_eq(send_env(1, synth_env_commit(0, &c, NULL)), VEIL_ERELAY_GROUP);
  free(c.p);
  cr_assert_eq(relay_room_epoch(room), 1);
}

Test(relay_room, refuses_application_from_a_non_member) {
  grow_group(2);
  join(9);
  cr_assert_eq(send_app(9, 1), VEIL_ERELAY_NOT_MEMBER);
  cr_assert_null(find_act(RELAY_ACT_BROADCAST, 0));
}

Test(relay_room, refuses_welcome_naming_someone_not_in_the_batch) {
  join(1);
  uint32_t b = joiner_batch(2, 1);
  const uint8_t refs[] = {2, 7};
  cr_assert_eq(send_commit(1, b, 0, refs, 2), VEIL_ERELAY_WELCOME);
  cr_assert_eq(relay_room_epoch(room), 0, "a refused commit must not move the epoch");
  cr_assert_null(find_act(RELAY_ACT_SEND, 2));
  /* The same leader can still commit that epoch correctly. */
  cr_assert_eq(send_commit(1, b, 0, refs, 1), 0);
  cr_assert_eq(relay_room_epoch(room), 1);
}

Test(relay_room, refuses_commit_naming_a_batch_not_outstanding) {
  grow_group(2);
  cr_assert_eq(send_commit(1, 77, 1, NULL, 0), VEIL_ERELAY_BATCH);
  cr_assert_eq(relay_room_epoch(room), 1);
}

Test(relay_room, tells_joiner_left_out_of_the_welcome_its_key_package_was_refused) {
  join(1);
  join(2);
  join(3);
  send_kp(2);
  send_kp(3);
  batch_window_passes();
  size_t joins;
  uint32_t b = batch_of(1, &joins, NULL);
  cr_assert_eq(joins, 2);
  uint8_t ref = 2;
  cr_assert_eq(send_commit(1, b, 0, &ref, 1), 0);
  cr_assert_not_null(find_act(RELAY_ACT_SEND, 2));
  assert_error(3, VEIL_ERELAY_KP_REJECTED, 1);
  /* It may try again with a new KeyPackage. */
  cr_assert_eq(send_kp(3), 0);
}

Test(relay_room, refuses_duplicate_key_package_ref_and_second_key_package) {
  join(1);
  join(2);
  join(3);
  cr_assert_eq(send_kp(2), 0);
  cr_assert_eq(send_kp(2), VEIL_ERELAY_NOT_EXPECTED);
  synth_buf_t kp = synth_key_package(SUITE, 40);
  cr_assert_eq(send_env(3, synth_env_kp(2, &kp)), VEIL_EEXIST); /* member 2's ref */
  free(kp.p);
}

Test(relay_room, refuses_key_package_of_another_cipher_suite) {
  grow_group(2); /* suite learned from the first Welcome */
  join(3);
  synth_buf_t kp = synth_key_package(SUITE + 1, 40);
  cr_assert_eq(send_env(3, synth_env_kp(3, &kp)), VEIL_ERELAY_CIPHER_SUITE);
  free(kp.p);
}

Test(relay_room, refuses_oversized_and_malformed_envelopes) {
  grow_group(2);
  synth_buf_t big = {calloc(1, cfg.max_message + 1), cfg.max_message + 1};
  cr_assert_eq(send_env(2, big), VEIL_ELIMIT);
  synth_buf_t junk = {malloc(3), 3};
  memcpy(junk.p, "\x01\x09\x00", 3);
  cr_assert_eq(send_env(2, junk), VEIL_ERELAY_ENVELOPE);
  relay_metrics_t mt = metrics();
  cr_assert_eq(mt.messages_rejected, 2);
}

Test(relay_room, refuses_participants_beyond_room_size) {
  relay_config_t c = default_config();
  c.max_members = 2;
  room_restart(&c);
  cr_assert_eq(join(1), 0);
  cr_assert_eq(join(2), 0);
  cr_assert_eq(join(3), VEIL_ERELAY_FULL);
  cr_assert_not_null(find_act(RELAY_ACT_ERROR, 3));
  cr_assert_eq(join(2), VEIL_EEXIST);
}

Test(relay_room, caps_pending_key_packages) {
  relay_config_t c = default_config();
  c.max_pending = 2;
  room_restart(&c);
  join(1);
  for (relay_member_id_t id = 2; id <= 4; id++)
    join(id);
  cr_assert_eq(send_kp(2), 0);
  cr_assert_eq(send_kp(3), 0);
  cr_assert_eq(send_kp(4), VEIL_ERELAY_FULL);
}

Test(relay_room, leader_update_commit_reissues_outstanding_batch_at_new_epoch) {
  grow_group(2);
  uint32_t b1 = joiner_batch(3, 1);
  /* The leader commits something else first (an update, batch 0): the batch it was
   * handed is for epoch 1 and is handed again for epoch 2. */
  cr_assert_eq(send_commit(1, 0, 1, NULL, 0), 0);
  uint32_t b2 = batch_of(1, NULL, NULL);
  cr_assert_neq(b2, b1);
  cr_assert_eq(decode_act(find_act(RELAY_ACT_BATCH, 1)).epoch, 2);
  uint8_t ref = 3;
  cr_assert_eq(send_commit(1, b1, 2, &ref, 1), VEIL_ERELAY_BATCH);
  cr_assert_eq(send_commit(1, b2, 2, &ref, 1), 0);
  cr_assert_eq(relay_room_group_size(room), 3);
}

Test(relay_room, refuses_welcome_on_a_commit_answering_no_batch) {
  grow_group(2);
  joiner_batch(3, 1);
  uint8_t ref = 3;
  /* The ref is a real pending joiner, but batch 0 adds nobody. */
  cr_assert_eq(send_commit(1, 0, 1, &ref, 1), VEIL_ERELAY_WELCOME);
  cr_assert_eq(relay_room_epoch(room), 1);
}

Test(relay_room, refuses_proposal_framed_as_commit_and_commit_framed_as_proposal) {
  grow_group(2);
  synth_buf_t p = synth_private(GROUP, 1, 2, 0, 16);
  cr_assert_eq(send_env(1, synth_env_commit(0, &p, NULL)), VEIL_ERELAY_CONTENT_TYPE);
  cr_assert_eq(send_env(2, synth_env_mls(RELAY_ENV_APPLICATION, &p)), VEIL_ERELAY_CONTENT_TYPE);
  free(p.p);
  synth_buf_t c = synth_private(GROUP, 1, 3, 0, 16);
  cr_assert_eq(send_env(2, synth_env_mls(RELAY_ENV_PROPOSAL, &c)), VEIL_ERELAY_CONTENT_TYPE);
  free(c.p);
  synth_buf_t kp = synth_key_package(SUITE, 8);
  cr_assert_eq(send_env(1, synth_env_commit(0, &kp, NULL)), VEIL_ERELAY_WIRE_FORMAT);
  free(kp.p);
  cr_assert_eq(relay_room_epoch(room), 1);
}

Test(relay_room, refuses_control_and_welcome_envelopes_from_clients) {
  grow_group(2);
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  relay_env_put_leader(&w, 2, 1, 0);
  synth_buf_t b = {0};
  b.p = veil_writer_steal(&w, &b.len);
  cr_assert_eq(send_env(2, b), VEIL_ERELAY_NOT_EXPECTED);
  cr_assert_eq(relay_room_leader(room), 1, "a client cannot appoint itself");
  const uint8_t ref = 9;
  synth_buf_t wm = synth_welcome(SUITE, &ref, 1);
  cr_assert_eq(send_env(2, synth_env_mls(RELAY_ENV_WELCOME, &wm)), VEIL_ERELAY_NOT_EXPECTED);
  free(wm.p);
}

Test(relay_room, refuses_key_package_from_a_group_member) {
  grow_group(2);
  cr_assert_eq(send_kp(1), VEIL_ERELAY_NOT_EXPECTED);
  cr_assert_eq(send_kp(2), VEIL_ERELAY_NOT_EXPECTED);
}

Test(relay_room, leave_arriving_during_a_commit_waits_for_the_next_batch) {
  grow_group(3);
  uint32_t b = joiner_batch(4, 1);
  cr_assert_eq(leave(3), 0); /* not in batch b */
  uint8_t ref = 4;
  cr_assert_eq(send_commit(1, b, 2, &ref, 1), 0);
  size_t joins, leaves;
  uint32_t b2 = batch_of(1, &joins, &leaves);
  cr_assert_neq(b2, b);
  cr_assert_eq(joins, 0);
  cr_assert_eq(leaves, 1);
}
