/* MLS membership driven by the relay (clients/lib/session/vs_member.h), against the real
 * relay core (mls-relay/relay.h) in-process: every envelope a member sends goes through
 * relay_room_handle, every action comes back to the members it names. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/session/vs_identity.h"
#include "clients/lib/session/vs_member.h"
#include "clients/lib/session/vs_seccode.h"
#include "common/err.h"
#include "mls-relay/envelope.h"
#include "mls-relay/relay.h"

#define N 5
#define QMAX 256

typedef struct msg {
  uint64_t from;
  uint8_t *data;
  size_t len;
} msg_t;

typedef struct peer {
  uint64_t id; /* relay member id: index + 1 */
  vs_identity_t ident;
  vs_member_t *m;
  int joined, epochs, added_epochs, removed, chats;
  char last_chat[64];
  int tamper_kp; /* corrupt the signature of the next KeyPackage it sends */
  char sig_name[64]; /* the identity signaling admitted it as (its token's subject) */
  int mute;          /* a stalled client: receives and sends nothing */
  /* the last commit and application envelopes it sent, as a tap would copy them */
  uint8_t sent[RELAY_ENV_APPLICATION + 1][8192];
  size_t sent_len[RELAY_ENV_APPLICATION + 1];
} peer_t;

static peer_t P[N];
static relay_room_t *room;
static relay_actions_t acts;
static msg_t q[QMAX];
static size_t qn;
static uint64_t now_ms = 1000;

static int resolve(void *arg, uint64_t member, char *out, size_t cap) {
  (void)arg;
  if (member < 1 || member > N)
    return VEIL_ENOTFOUND;
  snprintf(out, cap, "%s", P[member - 1].sig_name);
  return 0;
}

static int send_cb(void *arg, const uint8_t *env, size_t len) {
  peer_t *p = arg;
  if (p->mute)
    return 0;
  cr_assert_lt(qn, QMAX);
  q[qn].from = p->id;
  q[qn].data = malloc(len);
  memcpy(q[qn].data, env, len);
  q[qn].len = len;
  if (len > 2 && (env[1] == RELAY_ENV_COMMIT || env[1] == RELAY_ENV_APPLICATION) && len <= sizeof p->sent[0]) {
    memcpy(p->sent[env[1]], env, len);
    p->sent_len[env[1]] = len;
  }
  if (p->tamper_kp && len > 2 && env[1] == RELAY_ENV_KEY_PACKAGE) {
    q[qn].data[len - 1] ^= 0x01; /* the KeyPackage signature is last */
    p->tamper_kp = 0;
  }
  qn++;
  return 0;
}

static void on_epoch(void *arg, mls_group_t *g, int added) {
  (void)g;
  peer_t *p = arg;
  p->epochs++;
  p->added_epochs += added;
}

static void on_chat(void *arg, uint32_t leaf, const uint8_t *text, size_t len) {
  (void)leaf;
  peer_t *p = arg;
  p->chats++;
  snprintf(p->last_chat, sizeof p->last_chat, "%.*s", (int)len, (const char *)text);
}

static void on_removed(void *arg) { ((peer_t *)arg)->removed = 1; }

static void deliver(void) {
  for (size_t i = 0; i < acts.n; i++) {
    const relay_action_t *a = &acts.items[i];
    if (a->type == RELAY_ACT_BROADCAST || a->type == RELAY_ACT_LEADER) {
      for (size_t k = 0; k < a->n_to; k++)
        if (P[a->to[k] - 1].joined && !P[a->to[k] - 1].mute)
          (void)vs_member_handle(P[a->to[k] - 1].m, a->bytes, a->len);
    } else if (P[a->member - 1].joined && !P[a->member - 1].mute) {
      (void)vs_member_handle(P[a->member - 1].m, a->bytes, a->len);
    }
  }
}

static void feed(relay_event_t *ev) {
  (void)relay_room_handle(room, ev, now_ms, &acts);
  deliver();
}

/* Feeds every queued envelope to the relay, without advancing time. */
static void drain(void) {
  while (qn) {
    msg_t m = q[0];
    memmove(q, q + 1, (qn - 1) * sizeof q[0]);
    qn--;
    relay_event_t ev = {.type = RELAY_EV_MESSAGE, .member = m.from, .data = m.data, .len = m.len};
    feed(&ev);
    free(m.data);
  }
}

/* Runs the relay until nothing is queued and no deadline is due within 100 ms. */
static void pump(void) {
  for (int rounds = 0; rounds < 1000; rounds++) {
    if (qn) {
      msg_t m = q[0];
      memmove(q, q + 1, (qn - 1) * sizeof q[0]);
      qn--;
      relay_event_t ev = {.type = RELAY_EV_MESSAGE, .member = m.from, .data = m.data, .len = m.len};
      feed(&ev);
      free(m.data);
      continue;
    }
    if (acts.next_deadline == RELAY_NEVER || acts.next_deadline > now_ms + 100)
      return;
    now_ms = acts.next_deadline;
    relay_event_t ev = {.type = RELAY_EV_TICK};
    feed(&ev);
  }
  cr_assert_fail("relay did not settle");
}

static void join(int i) {
  P[i].joined = 1;
  relay_event_t ev = {.type = RELAY_EV_JOINED, .member = P[i].id};
  feed(&ev);
}

static void leave(int i) {
  P[i].joined = 0;
  relay_event_t ev = {.type = RELAY_EV_LEFT, .member = P[i].id};
  feed(&ev);
}

static void setup(void) {
  relay_config_t rc;
  relay_config_default(&rc);
  cr_assert_eq(relay_room_new(&rc, &room), 0);
  relay_actions_init(&acts);
  for (int i = 0; i < N; i++) {
    memset(&P[i], 0, sizeof P[i]);
    P[i].id = (uint64_t)i + 1;
    char name[64];
    snprintf(name, sizeof name, "member%d@example.org", i);
    snprintf(P[i].sig_name, sizeof P[i].sig_name, "%s", name);
    cr_assert_eq(vs_identity_generate(name, VC_ED25519, &P[i].ident), 0);
    vs_member_config_t mc = {
        .self = P[i].id,
        .identity = &P[i].ident.mls,
        .cipher_suite = P[i].ident.suite,
        .cb = {.send = send_cb, .on_epoch = on_epoch, .on_chat = on_chat, .on_removed = on_removed,
               .resolve = resolve, .arg = &P[i]},
    };
    cr_assert_eq(vs_member_new(&mc, &P[i].m), 0);
  }
}

static void teardown(void) {
  for (int i = 0; i < N; i++) {
    vs_member_free(P[i].m);
    vs_identity_free(&P[i].ident);
  }
  for (size_t i = 0; i < qn; i++)
    free(q[i].data);
  qn = 0;
  relay_actions_free(&acts);
  relay_room_free(room);
}

static mls_group_t *G(int i) { return vs_member_group(P[i].m); }

static void assert_same_group(const int *idx, size_t n, uint32_t members) {
  veil_view_t ea0 = mls_group_epoch_authenticator(G(idx[0]));
  for (size_t k = 0; k < n; k++) {
    mls_group_t *g = G(idx[k]);
    cr_assert_not_null(g, "member %d has a group", idx[k]);
    cr_assert_eq(mls_group_member_count(g), members, "member %d count", idx[k]);
    cr_assert_eq(mls_group_epoch(g), mls_group_epoch(G(idx[0])));
    veil_view_t ea = mls_group_epoch_authenticator(g);
    cr_assert(ea.len == ea0.len && memcmp(ea.ptr, ea0.ptr, ea.len) == 0, "member %d authenticator", idx[k]);
  }
}

static void three_members(void) {
  join(0);
  pump();
  cr_assert_not_null(G(0), "the first participant creates the group");
  cr_assert_eq(mls_group_epoch(G(0)), 0);
  join(1);
  join(2); /* within the batch delay: one batch, one commit */
  pump();
  int idx[] = {0, 1, 2};
  assert_same_group(idx, 3, 3);
}

TestSuite(member, .init = setup, .fini = teardown, .timeout = 60);

Test(member, joiners_arriving_together_are_added_by_one_commit) {
  three_members();
  cr_assert_eq(mls_group_epoch(G(0)), 1, "two joiners, one epoch");
  vs_member_stats_t st;
  vs_member_get_stats(P[0].m, &st);
  cr_assert_eq(st.commits_sent, 1);
  cr_assert_eq(P[1].added_epochs, 1);
}

Test(member, leaving_member_is_removed_and_the_code_epoch_stays) {
  three_members();
  int added_before = P[0].added_epochs;
  uint64_t e = mls_group_epoch(G(0));
  leave(2);
  pump();
  int idx[] = {0, 1};
  assert_same_group(idx, 2, 2);
  cr_assert_eq(mls_group_epoch(G(0)), e + 1);
  cr_assert_eq(P[0].added_epochs, added_before, "a removal is not an adding epoch: the code stays");
  cr_assert_eq(P[1].added_epochs, 1);
  cr_assert_eq(mls_group_epoch(G(2)), e, "the departed member never sees the next epoch");
}

Test(member, next_leader_removes_the_departed_leader) {
  three_members();
  uint64_t e = mls_group_epoch(G(1));
  leave(0);
  pump();
  cr_assert_eq(vs_member_leader(P[1].m), P[1].id, "the longest-present member leads");
  int idx[] = {1, 2};
  assert_same_group(idx, 2, 2);
  cr_assert_eq(mls_group_epoch(G(1)), e + 1);
  for (uint32_t i = 0; i < mls_group_leaf_count(G(1)); i++) {
    const mls_leaf_node_t *l = mls_group_member(G(1), i);
    char who[256];
    if (l && vs_member_leaf_identity(l, who, sizeof who) == 0)
      cr_assert_str_neq(who, P[0].ident.name, "old leader's leaf is gone");
  }
  /* and the new leader admits a newcomer */
  join(3);
  pump();
  int idx2[] = {1, 2, 3};
  assert_same_group(idx2, 3, 3);
}

Test(member, chat_reaches_every_other_member) {
  three_members();
  cr_assert_eq(vs_member_send_chat(P[1].m, (const uint8_t *)"hello", 5), 0);
  pump();
  cr_assert_eq(P[0].chats, 1);
  cr_assert_str_eq(P[0].last_chat, "hello");
  cr_assert_eq(P[2].chats, 1);
  cr_assert_eq(P[1].chats, 0);
}

Test(member, chat_refused_as_stale_is_sent_again_in_the_new_epoch) {
  three_members();
  /* member 1 sends at epoch 1, but the leader's commit for a joiner reaches the relay
   * first: the relay refuses the chat as stale, member 1 resends after the commit */
  join(3);
  drain();
  now_ms += 50;
  relay_event_t tick = {.type = RELAY_EV_TICK};
  feed(&tick); /* hands the batch to the leader: its commit is queued */
  cr_assert_eq(qn, 1, "the leader's commit waits in the queue");
  cr_assert_eq(vs_member_send_chat(P[1].m, (const uint8_t *)"late", 4), 0);
  pump();
  vs_member_stats_t st;
  vs_member_get_stats(P[1].m, &st);
  cr_assert_eq(st.errors_from_relay, 1, "the relay refused the first copy as stale");
  cr_assert_eq(P[0].chats, 1, "delivered once, in the new epoch");
  cr_assert_eq(P[3].chats, 1, "even the joiner of that epoch reads it");
  cr_assert_str_eq(P[0].last_chat, "late");
  cr_assert_eq(P[2].chats, 1);
}

Test(member, keypackage_failing_validation_is_left_out_of_the_batch) {
  join(0);
  pump();
  P[2].tamper_kp = 1;
  join(1);
  join(2);
  pump();
  /* the group of two went on without the forged KeyPackage; its sender was told and
   * sent a fresh one, which the next batch added */
  int idx[] = {0, 1, 2};
  assert_same_group(idx, 3, 3);
  vs_member_stats_t st;
  vs_member_get_stats(P[2].m, &st);
  cr_assert_eq(st.keypackages_sent, 2);
}

Test(member, lone_forged_keypackage_does_not_cost_the_leader_its_role) {
  three_members();
  uint64_t e = mls_group_epoch(G(0));
  int added = P[0].added_epochs;
  P[3].tamper_kp = 1;
  join(3);
  drain(); /* the forged KeyPackage reaches the relay */
  now_ms += 50;
  relay_event_t tick = {.type = RELAY_EV_TICK};
  feed(&tick); /* batch handed to the leader */
  drain();     /* the leader's answer, well before the 5 s commit timeout */
  cr_assert_eq(mls_group_epoch(G(1)), e + 1, "the batch was answered");
  cr_assert_eq(P[0].added_epochs, added, "nobody was added: the code stays");
  cr_assert_eq(vs_member_leader(P[1].m), P[0].id, "no failover");
  pump(); /* the fresh KeyPackage the refused joiner sent gets in */
  int idx[] = {0, 1, 2, 3};
  assert_same_group(idx, 4, 4);
}

Test(member, keypackage_naming_someone_else_is_not_added) {
  three_members();
  /* member 3's credential says member4@..., but signaling admitted it as member3@... */
  vs_identity_free(&P[3].ident);
  cr_assert_eq(vs_identity_generate("member4@example.org", VC_ED25519, &P[3].ident), 0);
  vs_member_free(P[3].m);
  vs_member_config_t mc = {
      .self = P[3].id, .identity = &P[3].ident.mls, .cipher_suite = P[3].ident.suite,
      .cb = {.send = send_cb, .on_epoch = on_epoch, .on_chat = on_chat, .on_removed = on_removed,
             .resolve = resolve, .arg = &P[3]},
  };
  cr_assert_eq(vs_member_new(&mc, &P[3].m), 0);
  join(3);
  drain();
  now_ms += 50;
  relay_event_t tick = {.type = RELAY_EV_TICK};
  feed(&tick);
  drain();
  cr_assert_null(G(3), "not added");
  int idx[] = {0, 1, 2};
  assert_same_group(idx, 3, 3);
}

Test(member, stalled_leader_is_replaced_removed_and_rejoins_with_a_fresh_keypackage) {
  three_members();
  P[0].mute = 1; /* the leader stops answering */
  join(3);
  pump();
  cr_assert_null(G(3));
  now_ms += 5100; /* past the relay's commit timeout */
  relay_event_t tick = {.type = RELAY_EV_TICK};
  P[0].mute = 0; /* it comes back just as the relay gives up on it */
  feed(&tick);
  pump();
  cr_assert_eq(vs_member_leader(P[1].m), P[1].id, "the next member leads");
  /* the new leader removed the old leaf and added the newcomer; the old leader was told
   * to rejoin and came back with a new KeyPackage */
  int idx[] = {0, 1, 2, 3};
  assert_same_group(idx, 4, 4);
  vs_member_stats_t st;
  vs_member_get_stats(P[0].m, &st);
  cr_assert_eq(st.keypackages_sent, 1, "member 0 rejoined by KeyPackage");
  int seen = 0;
  for (uint32_t i = 0; i < mls_group_leaf_count(G(1)); i++) {
    const mls_leaf_node_t *l = mls_group_member(G(1), i);
    char who[256];
    if (l && vs_member_leaf_identity(l, who, sizeof who) == 0 && strcmp(who, P[0].ident.name) == 0)
      seen++;
  }
  cr_assert_eq(seen, 1, "the old leaf went, the new one came: one leaf for member 0");
}

Test(member, security_codes_agree_and_change_only_on_adds) {
  three_members();
  char c0[VS_SECCODE_LEN], c1[VS_SECCODE_LEN];
  veil_view_t gid = mls_group_id(G(0)), ea = mls_group_epoch_authenticator(G(0));
  cr_assert_eq(vs_seccode(gid.ptr, gid.len, ea.ptr, ea.len, c0), 0);
  gid = mls_group_id(G(2));
  ea = mls_group_epoch_authenticator(G(2));
  cr_assert_eq(vs_seccode(gid.ptr, gid.len, ea.ptr, ea.len, c1), 0);
  cr_assert_str_eq(c0, c1);
  join(3);
  pump();
  gid = mls_group_id(G(3));
  ea = mls_group_epoch_authenticator(G(3));
  cr_assert_eq(vs_seccode(gid.ptr, gid.len, ea.ptr, ea.len, c1), 0);
  cr_assert_str_neq(c0, c1, "a join gives a new code");
  cr_assert_eq(P[3].added_epochs, 1);
  cr_assert_eq(P[0].added_epochs, 3, "create, the batch of two, the join");
}

/* A copy of the MLSMessage in the last envelope of `kind` member i sent (what a tap
 * copies): its length; the bytes into out. */
static size_t sent_mls(int i, uint8_t kind, uint8_t *out, size_t cap) {
  relay_env_t e;
  cr_assert_gt(P[i].sent_len[kind], 0, "member %d sent a kind %u envelope", i, kind);
  cr_assert_eq(relay_env_decode(P[i].sent[kind], P[i].sent_len[kind], P[i].sent_len[kind], &e), 0);
  cr_assert_leq(e.mls.len, cap);
  memcpy(out, e.mls.ptr, e.mls.len);
  return e.mls.len;
}

Test(member, departed_member_opens_no_tapped_chat_of_a_later_epoch) {
  three_members();
  uint64_t e = mls_group_epoch(G(2));
  /* a chat of the epoch member 2 still holds, which the relay never gave it */
  P[2].mute = 1;
  cr_assert_eq(vs_member_send_chat(P[1].m, (const uint8_t *)"before", 6), 0);
  pump();
  uint8_t before[8192], removal[8192], after[8192];
  size_t before_len = sent_mls(1, RELAY_ENV_APPLICATION, before, sizeof before);
  P[2].mute = 0;
  leave(2);
  pump();
  cr_assert_eq(mls_group_epoch(G(0)), e + 1);
  size_t removal_len = sent_mls(0, RELAY_ENV_COMMIT, removal, sizeof removal);
  cr_assert_eq(vs_member_send_chat(P[1].m, (const uint8_t *)"after", 5), 0);
  pump();
  size_t after_len = sent_mls(1, RELAY_ENV_APPLICATION, after, sizeof after);
  cr_assert_eq(P[0].chats, 2);
  cr_assert_str_eq(P[0].last_chat, "after");

  uint64_t ep = 0;
  cr_assert_eq(vs_member_tap_application(P[2].m, after, after_len, &ep), VEIL_EMLS_FUTURE_EPOCH);
  cr_assert_eq(ep, e + 1, "the epoch its header names");
  /* the kept state is real: the chat of its own epoch opens, and is not reported either */
  cr_assert_eq(vs_member_tap_application(P[2].m, before, before_len, &ep), 0);
  cr_assert_eq(ep, e);
  cr_assert_eq(P[2].chats, 0, "a tapped message never becomes chat");
  vs_member_stats_t st;
  vs_member_get_stats(P[2].m, &st);
  cr_assert_eq(st.chats_in + st.process_failures, 0, "nor member statistics");
  /* the Commit that removed it is not tried: the kept state stays where it was */
  cr_assert_eq(vs_member_tap_application(P[2].m, removal, removal_len, &ep), VEIL_EINVAL);
  cr_assert_eq(ep, UINT64_MAX);
  cr_assert_eq(mls_group_epoch(G(2)), e);
  cr_assert_eq(vs_member_tap_application(P[2].m, after, after_len, &ep), VEIL_EMLS_FUTURE_EPOCH);
}
