/*
 * veil mls-relay — building a relay_actions_t (internal to mls-relay/).
 *
 * Envelopes are encoded straight into the list's growable byte buffer; an action records
 * its offset while the buffer may still move, and relay_act_finish turns offsets into the
 * pointers the caller reads. Recipient lists live in a second array for alignment.
 */
#ifndef VEIL_RELAY_ACTIONS_H
#define VEIL_RELAY_ACTIONS_H

#include "mls-relay/relay.h"

/* Empties the list, keeping its storage for reuse. */
void relay_act_reset(relay_actions_t *a);
/* Starts an action; envelope bytes written to a->bytes until relay_act_end belong to it.
 * Returns the action index or a negative code. */
int relay_act_begin(relay_actions_t *a, relay_action_type_t type, relay_member_id_t member);
/* Ends action `idx` (length = bytes written since begin); the writer's error if any. */
int relay_act_end(relay_actions_t *a, int idx);
/* Adds a recipient to action `idx` (BROADCAST, LEADER); recipients must be added
 * contiguously for one action before the next action adds any. */
int relay_act_add_to(relay_actions_t *a, int idx, relay_member_id_t id);
/* Drops action `idx` if it is the last one (a broadcast that found no recipient). */
void relay_act_drop_last(relay_actions_t *a, int idx);
/* Turns offsets into pointers; called once when relay_room_handle returns. */
void relay_act_finish(relay_actions_t *a);

#endif
