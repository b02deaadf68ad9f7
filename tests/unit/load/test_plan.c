#include <criterion/criterion.h>

#include "clients/load/plan.h"
#include "common/err.h"

static load_scenario_t sc;
static load_plan_t p;

static void setup(void) {
  load_scenario_defaults(&sc);
  sc.join_spacing_ms = 100;
}
static void teardown(void) { load_plan_free(&p); }
TestSuite(load_plan, .init = setup, .fini = teardown);

Test(load_plan, meeting_everyone_publishes_and_stays) {
  sc.kind = LOAD_KIND_MEETING;
  sc.participants = 8;
  sc.duration_s = 10;
  cr_assert_eq(load_plan_build(&sc, &p), 0);
  cr_assert_eq(p.n, 8);
  for (uint32_t i = 0; i < 8; i++) {
    cr_assert_eq(p.slots[i].join_ms, i * 100u);
    cr_assert_eq(p.slots[i].leave_ms, LOAD_NEVER);
    cr_assert(p.slots[i].publish_audio);
  }
  cr_assert_eq(p.measure_start_ms, 700 + LOAD_SETTLE_MS);
  cr_assert_eq(p.end_ms, p.measure_start_ms + 10000);
  cr_assert_eq(load_plan_present_at(&p, p.end_ms), 8);
}

Test(load_plan, webinar_subscribers_publish_nothing) {
  sc.kind = LOAD_KIND_WEBINAR;
  sc.publishers = 2;
  sc.subscribers = 5;
  sc.video = 1;
  cr_assert_eq(load_plan_build(&sc, &p), 0);
  cr_assert_eq(p.n, 7);
  for (uint32_t i = 0; i < 7; i++) {
    cr_assert_eq(p.slots[i].publish_audio, i < 2);
    cr_assert_eq(p.slots[i].publish_video, i < 2);
  }
}

Test(load_plan, churn_alternates_leaves_and_joins_and_keeps_two_members) {
  sc.kind = LOAD_KIND_CHURN;
  sc.participants = 3;
  sc.churn_per_min = 120; /* one event every 500 ms */
  sc.duration_s = 20;
  cr_assert_eq(load_plan_build(&sc, &p), 0);
  cr_assert_gt(p.leaves, 10);
  cr_assert_gt(p.n, 10);
  for (uint64_t t = 0; t < p.end_ms; t += 50)
    if (t >= p.measure_start_ms) cr_assert_geq(load_plan_present_at(&p, t), 2, "t=%llu", (unsigned long long)t);
  for (uint32_t i = 0; i < p.n; i++) {
    if (p.slots[i].leave_ms != LOAD_NEVER) {
      cr_assert_gt(p.slots[i].leave_ms, p.slots[i].join_ms);
      cr_assert_lt(p.slots[i].leave_ms, p.quiet_ms, "no event in the quiet time before the end");
    }
    cr_assert_lt(p.slots[i].join_ms, p.quiet_ms);
  }
}

Test(load_plan, churn_leader_leaves_are_the_longest_present_member) {
  sc.kind = LOAD_KIND_CHURN;
  sc.participants = 4;
  sc.churn_per_min = 60;
  sc.duration_s = 20;
  cr_assert_eq(load_plan_build(&sc, &p), 0);
  cr_assert_gt(p.leader_leaves, 2);
  cr_assert_lt(p.leader_leaves, p.leaves, "every other leave is an ordinary member's");
  for (uint32_t i = 0; i < p.n; i++) {
    const load_slot_t *s = &p.slots[i];
    if (!s->leader_leave) continue;
    /* nobody still present at that moment joined earlier */
    for (uint32_t j = 0; j < p.n; j++) {
      const load_slot_t *o = &p.slots[j];
      int present = o->join_ms < s->leave_ms && (o->leave_ms == LOAD_NEVER || o->leave_ms >= s->leave_ms);
      if (present && j != i) cr_assert_gt(o->idx, s->idx, "slot %u was present longer than leader %u", j, i);
    }
  }
}

Test(load_plan, churn_without_leader_never_removes_the_oldest) {
  sc.kind = LOAD_KIND_CHURN;
  sc.participants = 4;
  sc.churn_per_min = 60;
  sc.churn_leader = 0;
  sc.duration_s = 20;
  cr_assert_eq(load_plan_build(&sc, &p), 0);
  cr_assert_eq(p.leader_leaves, 0);
  cr_assert_eq(p.slots[0].leave_ms, LOAD_NEVER);
}

Test(load_plan, ramp_holds_back_slots_beyond_the_start) {
  sc.kind = LOAD_KIND_RAMP;
  sc.ramp_start = 4;
  sc.ramp_step = 4;
  sc.ramp_max = 20;
  sc.ramp_interval_s = 5;
  cr_assert_eq(load_plan_build(&sc, &p), 0);
  cr_assert_eq(p.n, 20);
  cr_assert_eq(p.slots[3].join_ms, 300);
  cr_assert_eq(p.slots[4].join_ms, LOAD_NEVER);
  cr_assert_eq(p.end_ms, p.measure_start_ms + 5 * 5000u, "5 steps: 4, 8, 12, 16, 20");
}
