/* veil mls-relay — the action list. Contract in actions.h and relay.h. */
#include "mls-relay/actions.h"

#include <stdlib.h>
#include <string.h>

void relay_actions_init(relay_actions_t *a) {
  memset(a, 0, sizeof(*a));
  veil_writer_init_growable(&a->bytes, 0);
  a->next_deadline = RELAY_NEVER;
}

void relay_actions_free(relay_actions_t *a) {
  free(a->items);
  free(a->ids);
  veil_writer_free(&a->bytes);
  memset(a, 0, sizeof(*a));
  a->next_deadline = RELAY_NEVER;
}

void relay_act_reset(relay_actions_t *a) {
  a->n = 0;
  a->n_ids = 0;
  /* Keep the allocation; a failed writer is made fresh so one ENOMEM does not poison
   * every later call. */
  if (a->bytes.err || !a->bytes.growable) {
    veil_writer_free(&a->bytes);
    veil_writer_init_growable(&a->bytes, 0);
  }
  a->bytes.len = 0;
  a->next_deadline = RELAY_NEVER;
}

/* Doubles an array's capacity; the element count is bounded by the room's limits. */
static int grow(void **arr, size_t *cap, size_t elem) {
  size_t ncap = *cap ? *cap * 2 : 16;
  void *n = realloc(*arr, ncap * elem);
  if (!n)
    return VEIL_ENOMEM;
  *arr = n;
  *cap = ncap;
  return 0;
}

int relay_act_begin(relay_actions_t *a, relay_action_type_t type, relay_member_id_t member) {
  if (a->bytes.err)
    return a->bytes.err;
  if (a->n == a->cap && grow((void **)&a->items, &a->cap, sizeof(*a->items)))
    return VEIL_ENOMEM;
  relay_action_t *act = &a->items[a->n];
  memset(act, 0, sizeof(*act));
  act->type = type;
  act->member = member;
  act->off_ = a->bytes.len;
  act->to_off_ = a->n_ids;
  return (int)a->n++;
}

int relay_act_end(relay_actions_t *a, int idx) {
  relay_action_t *act = &a->items[idx];
  if (a->bytes.err)
    return a->bytes.err;
  act->len = a->bytes.len - act->off_;
  return 0;
}

int relay_act_add_to(relay_actions_t *a, int idx, relay_member_id_t id) {
  if (a->n_ids == a->cap_ids && grow((void **)&a->ids, &a->cap_ids, sizeof(*a->ids)))
    return VEIL_ENOMEM;
  a->ids[a->n_ids++] = id;
  a->items[idx].n_to++;
  return 0;
}

void relay_act_drop_last(relay_actions_t *a, int idx) {
  if (idx < 0 || (size_t)idx + 1 != a->n)
    return;
  relay_action_t *act = &a->items[idx];
  a->bytes.len = act->off_;
  a->n_ids = act->to_off_;
  a->n--;
}

void relay_act_finish(relay_actions_t *a) {
  for (size_t i = 0; i < a->n; i++) {
    relay_action_t *act = &a->items[i];
    act->bytes = a->bytes.buf ? a->bytes.buf + act->off_ : NULL;
    act->to = act->n_to ? a->ids + act->to_off_ : NULL;
  }
}
