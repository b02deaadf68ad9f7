/*
 * veil-load — the schedule of a run, computed before it starts (sans-I/O): who joins
 * when, who leaves when, who publishes. Times are milliseconds since the run started.
 *
 *   meeting  N slots joining join_spacing apart, all publishing.
 *   webinar  P publishing slots, then S slots that publish nothing.
 *   churn    N slots as in a meeting; from measure_start to quiet, one event every
 *            60000 / churn_per_min ms, alternating a leave and a join of a new slot.
 *            A leave takes the member present longest -- the leader, since the relay
 *            appoints the longest-present member (docs/relay.md, "Leader failover") --
 *            every other time when churn_leader is set, otherwise the second-longest
 *            present (an ordinary member). A room never drops below two members.
 *   ramp     ramp_max slots; the first ramp_start join at start, the others are released
 *            at run time step by step (their join_ms stays LOAD_NEVER here).
 *
 * Phases: initial joins, a settle time (SETTLE_MS) so that every initial member is in the
 * group before measuring, then `duration`; joins and leaves stop at `quiet` (QUIET_MS
 * before the end) so that every member can reach the final epoch before the agreement
 * check.
 */
#ifndef VEIL_CLIENTS_LOAD_PLAN_H
#define VEIL_CLIENTS_LOAD_PLAN_H

#include <stdint.h>

#include "clients/load/scenario.h"

#define LOAD_NEVER UINT64_MAX
#define LOAD_SETTLE_MS 2000u
#define LOAD_QUIET_MS 3000u

typedef struct load_slot {
  uint32_t idx;
  uint64_t join_ms;        /* LOAD_NEVER: released at run time (ramp) */
  uint64_t leave_ms;       /* LOAD_NEVER: stays to the end */
  uint8_t publish_audio, publish_video;
  uint8_t leader_leave;    /* the plan expects this slot to be the leader when it leaves */
} load_slot_t;

typedef struct load_plan {
  load_slot_t *slots;      /* owned; ordered by idx, which is also join order */
  uint32_t n;
  uint32_t initial;        /* slots joining in the initial phase */
  uint32_t leaves, leader_leaves;
  uint64_t measure_start_ms;
  uint64_t quiet_ms;       /* no plan event at or after this */
  uint64_t end_ms;
} load_plan_t;

/* The scenario must have passed load_scenario_validate. */
int load_plan_build(const load_scenario_t *sc, load_plan_t *p);
void load_plan_free(load_plan_t *p);
/* How many slots are present (joined and not left) at time t, by the plan. */
uint32_t load_plan_present_at(const load_plan_t *p, uint64_t t_ms);

#endif
