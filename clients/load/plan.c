/* veil-load run schedule. Rules in plan.h. */
#include "clients/load/plan.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static void slot_init(load_slot_t *s, uint32_t idx, uint64_t join_ms, int publish, const load_scenario_t *sc) {
  memset(s, 0, sizeof *s);
  s->idx = idx;
  s->join_ms = join_ms;
  s->leave_ms = LOAD_NEVER;
  s->publish_audio = (uint8_t)(publish && sc->audio);
  s->publish_video = (uint8_t)(publish && sc->video);
}

int load_plan_build(const load_scenario_t *sc, load_plan_t *p) {
  memset(p, 0, sizeof *p);
  uint32_t initial, cap;
  uint64_t events = 0, period = 0;
  switch (sc->kind) {
  case LOAD_KIND_MEETING: initial = cap = sc->participants; break;
  case LOAD_KIND_WEBINAR: initial = cap = sc->publishers + sc->subscribers; break;
  case LOAD_KIND_RAMP:
    initial = sc->ramp_start;
    cap = sc->ramp_max;
    break;
  case LOAD_KIND_CHURN:
    initial = sc->participants;
    period = 60000u / sc->churn_per_min;
    events = (uint64_t)sc->duration_s * 1000u / period + 1;
    cap = initial + (uint32_t)(events / 2 + 1);
    break;
  default:
    return VEIL_EINVAL;
  }
  if (!initial || initial > LOAD_MAX_PARTICIPANTS || cap < initial) return VEIL_EINVAL;
  p->slots = calloc(cap, sizeof *p->slots);
  if (!p->slots) return VEIL_ENOMEM;
  for (uint32_t i = 0; i < initial; i++)
    slot_init(&p->slots[i], i, (uint64_t)i * sc->join_spacing_ms,
              sc->kind != LOAD_KIND_WEBINAR || i < sc->publishers, sc);
  p->n = p->initial = initial;
  if (sc->kind == LOAD_KIND_RAMP) {
    for (uint32_t i = initial; i < cap; i++) slot_init(&p->slots[i], i, LOAD_NEVER, 1, sc);
    p->n = cap;
  }
  p->measure_start_ms = (uint64_t)(initial ? initial - 1 : 0) * sc->join_spacing_ms + LOAD_SETTLE_MS;
  p->end_ms = p->measure_start_ms + (uint64_t)sc->duration_s * 1000u;
  if (sc->kind == LOAD_KIND_RAMP) {
    uint64_t steps = (sc->ramp_max - sc->ramp_start + sc->ramp_step - 1) / sc->ramp_step + 1;
    p->end_ms = p->measure_start_ms + steps * sc->ramp_interval_s * 1000u;
  }
  p->quiet_ms = p->end_ms > p->measure_start_ms + LOAD_QUIET_MS ? p->end_ms - LOAD_QUIET_MS : p->measure_start_ms;
  if (sc->kind != LOAD_KIND_CHURN) return 0;

  /* Churn: `order` holds present slots oldest first (join order == idx order). */
  uint32_t *order = malloc(cap * sizeof *order), present = initial;
  if (!order) {
    load_plan_free(p);
    return VEIL_ENOMEM;
  }
  for (uint32_t i = 0; i < initial; i++) order[i] = i;
  int leave_turn = 1, leader_turn = 1;
  for (uint64_t t = p->measure_start_ms + period; t < p->quiet_ms; t += period) {
    if (leave_turn && present > 2) {
      uint32_t pos = sc->churn_leader && leader_turn ? 0 : 1;
      load_slot_t *s = &p->slots[order[pos]];
      s->leave_ms = t;
      s->leader_leave = pos == 0;
      p->leaves++;
      p->leader_leaves += pos == 0;
      memmove(order + pos, order + pos + 1, (present - pos - 1) * sizeof *order);
      present--;
      leader_turn = !leader_turn;
    } else if (p->n < cap) {
      slot_init(&p->slots[p->n], p->n, t, 1, sc);
      order[present++] = p->n++;
    }
    leave_turn = !leave_turn;
  }
  free(order);
  return 0;
}

void load_plan_free(load_plan_t *p) {
  free(p->slots);
  memset(p, 0, sizeof *p);
}

uint32_t load_plan_present_at(const load_plan_t *p, uint64_t t) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < p->n; i++)
    n += p->slots[i].join_ms <= t && (p->slots[i].leave_ms == LOAD_NEVER || p->slots[i].leave_ms > t);
  return n;
}
