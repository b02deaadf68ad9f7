/* Unit tests of the relay room: leader failover, batching, reconnect and replay. */
#include "harness.h"

TestSuite(relay_failover, .init = setup_default, .fini = teardown_room);

static int batch_has_leave(relay_member_id_t leader, relay_member_id_t who) {
  size_t leaves;
  batch_of(leader, NULL, &leaves);
  for (size_t i = 0; i < leaves; i++)
    if (batch_leave(leader, i) == who)
      return 1;
  return 0;
}

Test(relay_failover, leader_leaving_mid_commit_hands_batch_to_next_leader) {
  grow_group(3); /* 1 leads; 2 joined before 3 */
  uint32_t b1 = joiner_batch(4, 1);
  cr_assert_eq(leave(1), 0);
  /* Everyone learns the new leader, the longest-present member: 2. */
  const relay_action_t *l = find_act(RELAY_ACT_LEADER, 0);
  cr_assert_not_null(l);
  cr_assert_eq(l->leader, 2);
  cr_assert(!l->create);
  cr_assert(has_to(l, 2) && has_to(l, 3) && has_to(l, 4));
  cr_assert_eq(relay_room_leader(room), 2);
  /* The batch goes to 2 again, now with 1's removal in it. */
  size_t joins, leaves;
  uint32_t b2 = batch_of(2, &joins, &leaves);
  cr_assert_neq(b2, b1);
  cr_assert_eq(joins, 1);
  cr_assert_eq(leaves, 1);
  cr_assert(batch_has_leave(2, 1));
  uint8_t ref = 4;
  cr_assert_eq(send_commit(2, b2, 2, &ref, 1), 0);
  cr_assert_not_null(find_act(RELAY_ACT_SEND, 4));
  cr_assert_eq(relay_room_group_size(room), 3);
  relay_metrics_t mt = metrics();
  cr_assert_eq(mt.leader_changes, 1);
}

Test(relay_failover, leader_never_answering_fails_over_at_deadline) {
  grow_group(3);
  joiner_batch(4, 1);
  uint64_t t0 = now_ms;
  cr_assert_eq(acts.next_deadline, t0 + cfg.commit_timeout_ms);
  cr_assert_eq(tick_at(t0 + cfg.commit_timeout_ms - 1), 0);
  cr_assert_null(find_act(RELAY_ACT_LEADER, 0), "failover before the deadline");
  cr_assert_eq(tick_at(t0 + cfg.commit_timeout_ms), 0);
  cr_assert_eq(relay_room_leader(room), 2);
  cr_assert_not_null(find_act(RELAY_ACT_LEADER, 2));
  /* The silent leader is still connected: it is told to rejoin, and 2 removes it. */
  const relay_action_t *rj = find_act(RELAY_ACT_REJOIN, 1);
  cr_assert_not_null(rj);
  cr_assert_eq(decode_act(rj).ctl_type, RELAY_CTL_REJOIN);
  cr_assert(batch_has_leave(2, 1));
  /* Its late commit loses. */
  uint8_t ref = 4;
  cr_assert_eq(send_commit(1, 0, 2, &ref, 1), VEIL_ERELAY_NOT_LEADER);
}

/* Member 1 leads a group of 3 and holds 4's batch until its commit times out: 2 now leads
 * and holds the batch again. *old_b and *new_b: the batch ids 1 and 2 were handed. */
static void racing_leaders(uint32_t *old_b, uint32_t *new_b) {
  grow_group(3);
  *old_b = joiner_batch(4, 1);
  cr_assert_eq(tick_at(now_ms + cfg.commit_timeout_ms), 0);
  cr_assert_eq(relay_room_leader(room), 2);
  *new_b = batch_of(2, NULL, NULL);
}

Test(relay_failover, two_leaders_racing_only_current_leader_commits) {
  uint32_t old_b, new_b;
  racing_leaders(&old_b, &new_b);
  uint8_t ref = 4;
  /* Both believe they lead epoch 2; the new leader's commit arrives first. */
  cr_assert_eq(send_commit(2, new_b, 2, &ref, 1), 0);
  cr_assert_eq(send_commit(1, old_b, 2, &ref, 1), VEIL_ERELAY_NOT_LEADER);
  cr_assert_eq(relay_room_epoch(room), 3);
  relay_metrics_t mt = metrics();
  cr_assert_eq(mt.commits_accepted, 3);
  cr_assert_eq(mt.commits_rejected, 1);
}

Test(relay_failover, two_leaders_racing_old_leader_first_still_loses) {
  uint32_t old_b, new_b;
  racing_leaders(&old_b, &new_b);
  uint8_t ref = 4;
  cr_assert_eq(send_commit(1, old_b, 2, &ref, 1), VEIL_ERELAY_NOT_LEADER);
  cr_assert_eq(relay_room_epoch(room), 2);
  cr_assert_eq(send_commit(2, new_b, 2, &ref, 1), 0);
  cr_assert_eq(relay_room_epoch(room), 3);
}

Test(relay_failover, leader_disconnect_fails_over_at_once) {
  grow_group(3);
  cr_assert_eq(disconnect(1), 0);
  cr_assert_eq(relay_room_leader(room), 2);
  cr_assert(batch_has_leave(2, 1));
  /* It comes back with its state: its place is gone, it must rejoin. */
  cr_assert_eq(reconnect(1, 2), 0);
  cr_assert_not_null(find_act(RELAY_ACT_REJOIN, 1));
}

Test(relay_failover, joins_and_leaves_arriving_together_form_one_batch) {
  grow_group(3);
  join(4);
  join(5);
  cr_assert_eq(send_kp(4), 0);
  now_ms += 5;
  cr_assert_eq(leave(3), 0);
  now_ms += 5;
  cr_assert_eq(send_kp(5), 0);
  cr_assert_null(find_act(RELAY_ACT_BATCH, 0));
  batch_window_passes();
  cr_assert_eq(count_act(RELAY_ACT_BATCH), 1);
  size_t joins, leaves;
  uint32_t b = batch_of(1, &joins, &leaves);
  cr_assert_eq(joins, 2);
  cr_assert_eq(leaves, 1);
  cr_assert(batch_has_leave(1, 3));
  const uint8_t refs[] = {4, 5};
  cr_assert_eq(send_commit(1, b, 2, refs, 2), 0);
  cr_assert_not_null(find_act(RELAY_ACT_SEND, 4));
  cr_assert_not_null(find_act(RELAY_ACT_SEND, 5));
  cr_assert_eq(relay_room_group_size(room), 4);
  cr_assert_null(find_act(RELAY_ACT_BATCH, 0), "nothing left to batch");
}

Test(relay_failover, items_arriving_during_a_commit_wait_for_the_next_batch) {
  grow_group(2);
  join(3);
  join(4);
  send_kp(3);
  batch_window_passes();
  uint32_t b = batch_of(1, NULL, NULL);
  send_kp(4); /* arrives while batch b is with the leader */
  batch_window_passes();
  cr_assert_null(find_act(RELAY_ACT_BATCH, 0), "only one batch outstanding at a time");
  uint8_t ref = 3;
  cr_assert_eq(send_commit(1, b, 1, &ref, 1), 0);
  size_t joins;
  uint32_t b2 = batch_of(1, &joins, NULL);
  cr_assert_neq(b2, b);
  cr_assert_eq(joins, 1);
}

Test(relay_failover, member_reconnect_replays_missed_commits) {
  grow_group(3); /* epoch 2 */
  cr_assert_eq(disconnect(3), 0);
  cr_assert_eq(acts.next_deadline, now_ms + cfg.reconnect_grace_ms);
  cr_assert_eq(send_commit(1, 0, 2, NULL, 0), 0);
  cr_assert(!has_to(find_act(RELAY_ACT_BROADCAST, 0), 3), "sent to a disconnected member");
  cr_assert_eq(send_commit(1, 0, 3, NULL, 0), 0);
  cr_assert_eq(relay_room_epoch(room), 4);
  cr_assert_eq(reconnect(3, 2), 0);
  cr_assert_eq(count_act(RELAY_ACT_SEND), 2);
  /* In order: the commit for epoch 2, then for epoch 3. */
  relay_peek_t p;
  for (size_t i = 0, k = 0; i < acts.n; i++) {
    if (acts.items[i].type != RELAY_ACT_SEND)
      continue;
    cr_assert_eq(acts.items[i].member, 3);
    relay_env_t e = decode_act(&acts.items[i]);
    cr_assert_eq(e.kind, RELAY_ENV_COMMIT);
    cr_assert_eq(relay_peek(e.mls.ptr, e.mls.len, &p), 0);
    cr_assert_eq(p.epoch, 2 + k++);
  }
  cr_assert_null(find_act(RELAY_ACT_REJOIN, 3));
  cr_assert_eq(relay_room_group_size(room), 3);
  relay_metrics_t mt = metrics();
  cr_assert_eq(mt.replayed_commits, 2);
  /* Back in the fan-out. */
  cr_assert_eq(send_app(2, 4), 0);
  cr_assert(has_to(find_act(RELAY_ACT_BROADCAST, 0), 3));
}

Test(relay_failover, member_current_on_reconnect_gets_nothing_replayed) {
  grow_group(2);
  disconnect(2);
  cr_assert_eq(reconnect(2, 1), 0);
  cr_assert_eq(count_act(RELAY_ACT_SEND), 0);
  cr_assert_null(find_act(RELAY_ACT_REJOIN, 2));
  /* It is reminded who leads (it may have missed a change while away). */
  cr_assert_eq(find_act(RELAY_ACT_LEADER, 2)->leader, 1);
}

Test(relay_failover, member_too_far_behind_is_told_to_rejoin) {
  relay_config_t c = default_config();
  c.log_len = 2;
  room_restart(&c);
  grow_group(3); /* epoch 2 */
  disconnect(3);
  commit_updates(1, 2, 5);
  /* The log holds epochs 3 and 4 only: epoch 2 is gone. */
  cr_assert_eq(reconnect(3, 2), 0);
  const relay_action_t *rj = find_act(RELAY_ACT_REJOIN, 3);
  cr_assert_not_null(rj);
  cr_assert_eq(rj->epoch, 5);
  cr_assert_eq(count_act(RELAY_ACT_SEND), 0);
  cr_assert_eq(relay_room_group_size(room), 2);
  /* Its old leaf goes to the leader for removal; it may join again with a KeyPackage. */
  batch_window_passes();
  cr_assert(batch_has_leave(1, 3));
}

Test(relay_failover, member_with_future_or_no_state_is_told_to_rejoin) {
  grow_group(3);
  disconnect(2);
  cr_assert_eq(reconnect(2, 9), 0);
  cr_assert_not_null(find_act(RELAY_ACT_REJOIN, 2));
  disconnect(3);
  cr_assert_eq(reconnect(3, RELAY_NO_STATE), 0);
  cr_assert_not_null(find_act(RELAY_ACT_REJOIN, 3));
}

Test(relay_failover, disconnected_member_past_grace_is_batched_for_removal) {
  grow_group(3);
  uint64_t t = now_ms;
  disconnect(3);
  cr_assert_eq(tick_at(t + cfg.reconnect_grace_ms - 1), 0);
  cr_assert_null(find_act(RELAY_ACT_BATCH, 0));
  cr_assert_eq(tick_at(t + cfg.reconnect_grace_ms), 0);
  cr_assert_eq(relay_room_group_size(room), 2);
  batch_window_passes();
  cr_assert(batch_has_leave(1, 3));
  /* Coming back later with state: unknown here, so it rejoins. */
  cr_assert_eq(reconnect(3, 2), 0);
  cr_assert_not_null(find_act(RELAY_ACT_REJOIN, 3));
}

Test(relay_failover, last_member_leaving_lets_waiting_joiner_create_new_group) {
  join(1);
  joiner_batch(2, 1);
  cr_assert_eq(leave(1), 0);
  const relay_action_t *l = find_act(RELAY_ACT_LEADER, 2);
  cr_assert_not_null(l);
  cr_assert(l->create, "the only participant left must start a new group");
  cr_assert_eq(relay_room_epoch(room), 0);
  cr_assert_eq(relay_room_group_size(room), 1);
  /* A different group id is fine for the new group. */
  uint32_t b = joiner_batch(3, 2);
  synth_buf_t c = synth_private("group-H", 0, 3, 0, 16);
  uint8_t ref = 3;
  synth_buf_t w = synth_welcome(SUITE, &ref, 1);
  cr_assert_eq(send_env(2, synth_env_commit(b, &c, &w)), 0);
  free(c.p);
  free(w.p);
  cr_assert_eq(relay_room_epoch(room), 1);
}

Test(relay_failover, joiner_leaving_while_being_added_is_removed_again) {
  grow_group(2);
  uint32_t b = joiner_batch(3, 1);
  cr_assert_eq(leave(3), 0);
  uint8_t ref = 3;
  cr_assert_eq(send_commit(1, b, 1, &ref, 1), 0, "the Welcome still names a batch joiner");
  cr_assert_null(find_act(RELAY_ACT_SEND, 3));
  cr_assert_eq(relay_room_group_size(room), 2);
  size_t leaves;
  batch_of(1, NULL, &leaves);
  cr_assert_eq(leaves, 1);
  cr_assert(batch_has_leave(1, 3));
}

Test(relay_failover, room_empties_when_everyone_leaves) {
  grow_group(2);
  leave(2);
  leave(1);
  cr_assert(relay_room_is_empty(room));
  cr_assert_eq(relay_room_leader(room), RELAY_NO_MEMBER);
  cr_assert_eq(join(5), 0);
  cr_assert(find_act(RELAY_ACT_LEADER, 5)->create);
}

Test(relay_failover, commit_log_is_bounded_in_bytes_not_only_entries) {
  relay_config_t c = default_config();
  c.max_message = 512;
  c.log_max_bytes = 512; /* four logged commits of 108 bytes fit, five do not */
  room_restart(&c);
  grow_group(3); /* epoch 2 */
  disconnect(3);
  commit_updates(1, 2, 7);
  /* log_len (64) would keep everything; the byte bound evicted epoch 2. */
  cr_assert_eq(reconnect(3, 2), 0);
  cr_assert_not_null(find_act(RELAY_ACT_REJOIN, 3));
  cr_assert_eq(count_act(RELAY_ACT_SEND), 0);
  disconnect(2);
  cr_assert_eq(reconnect(2, 3), 0); /* epochs 3..6 are still there */
  cr_assert_eq(count_act(RELAY_ACT_SEND), 4);
}

Test(relay_failover, rejects_config_out_of_range) {
  relay_config_t c;
  relay_room_t *r2 = NULL;
  relay_config_default(&c);
  c.max_members = 0;
  cr_assert_eq(relay_room_new(&c, &r2), VEIL_EINVAL);
  relay_config_default(&c);
  c.log_max_bytes = c.max_message - 1;
  cr_assert_eq(relay_room_new(&c, &r2), VEIL_EINVAL);
  relay_config_default(&c);
  c.commit_timeout_ms = UINT64_MAX;
  cr_assert_eq(relay_room_new(&c, &r2), VEIL_EINVAL);
  cr_assert_null(r2);
}

Test(relay_failover, group_waits_for_a_member_to_return_when_all_are_away) {
  grow_group(3);
  disconnect(2);
  disconnect(3);
  cr_assert_eq(leave(1), 0); /* the leader leaves; 2 and 3 are away within grace */
  cr_assert_eq(relay_room_leader(room), RELAY_NO_MEMBER);
  join(4);
  send_kp(4);
  batch_window_passes();
  cr_assert_null(find_act(RELAY_ACT_BATCH, 0), "a batch with no leader to take it");
  cr_assert_null(find_act(RELAY_ACT_LEADER, 4), "a joiner must not found a second group");
  /* 3 returns first: leadership goes to the longest-present *connected* member, and it
   * stays with 3 when 2 (present longer) comes back: no churn on reconnects. */
  cr_assert_eq(reconnect(3, 2), 0);
  cr_assert_eq(relay_room_leader(room), 3);
  size_t joins, leaves;
  batch_of(3, &joins, &leaves);
  cr_assert_eq(joins, 1);
  cr_assert(batch_has_leave(3, 1));
  cr_assert_eq(reconnect(2, 2), 0);
  cr_assert_eq(relay_room_leader(room), 3);
  const relay_action_t *l = find_act(RELAY_ACT_LEADER, 2);
  cr_assert(l && l->leader == 3 && l->n_to == 1, "2 learns that 3 leads, nobody else is told");
}

Test(relay_failover, member_rejoining_without_state_has_old_leaf_removed) {
  grow_group(3);
  disconnect(3);
  /* Signaling reports it as a fresh participant (it lost its state). */
  cr_assert_eq(join(3), 0);
  cr_assert_not_null(find_act(RELAY_ACT_REJOIN, 3));
  cr_assert_eq(send_kp(3), 0);
  batch_window_passes();
  size_t joins, leaves;
  uint32_t b = batch_of(1, &joins, &leaves);
  cr_assert_eq(joins, 1);
  cr_assert(batch_has_leave(1, 3), "the old leaf goes in the same batch as the new join");
  uint8_t ref = 3;
  cr_assert_eq(send_commit(1, b, 2, &ref, 1), 0);
  cr_assert_eq(relay_room_group_size(room), 3);
}

Test(relay_failover, joiner_back_before_its_batch_commits_still_gets_welcome) {
  grow_group(2);
  uint32_t b = joiner_batch(3, 1);
  disconnect(3);
  cr_assert_eq(reconnect(3, RELAY_NO_STATE), 0);
  uint8_t ref = 3;
  cr_assert_eq(send_commit(1, b, 1, &ref, 1), 0);
  cr_assert_not_null(find_act(RELAY_ACT_SEND, 3));
  cr_assert_eq(relay_room_group_size(room), 3);
}
