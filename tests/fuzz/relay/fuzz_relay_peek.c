/*
 * Fuzz target: the relay's parsers of untrusted bytes — the MLSMessage framing peek and
 * the envelope decoder (and the peek of whatever MLS message an envelope carries). Checks
 * beyond "no crash": every view the parsers return lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mls-relay/envelope.h"
#include "mls-relay/peek.h"

static void inside(const uint8_t *data, size_t size, veil_view_t v) {
  if (v.len == 0)
    return;
  if (v.ptr < data || v.ptr + v.len > data + size || v.ptr + v.len < v.ptr)
    abort();
}

static void peek_checked(const uint8_t *data, size_t size, const uint8_t *m, size_t len) {
  relay_peek_t pk;
  if (relay_peek(m, len, &pk) != 0)
    return;
  if (pk.version != RELAY_MLS10 || pk.wire_format < 1 || pk.wire_format > 5)
    abort();
  inside(data, size, pk.group_id);
  if (pk.group_id.len > RELAY_GROUP_ID_MAX || pk.n_new_members > RELAY_PEEK_MAX_NEW_MEMBERS)
    abort();
  for (size_t i = 0; i < pk.n_new_members; i++) {
    inside(data, size, pk.new_members[i]);
    if (pk.new_members[i].len == 0 || pk.new_members[i].len > RELAY_REF_MAX)
      abort();
  }
  if ((pk.wire_format == RELAY_WF_PUBLIC_MESSAGE || pk.wire_format == RELAY_WF_PRIVATE_MESSAGE) &&
      (pk.content_type < 1 || pk.content_type > 3))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  relay_env_t env;
  peek_checked(data, size, data, size);
  if (relay_env_decode(data, size, 1 << 20, &env) != 0)
    return 0;
  inside(data, size, env.mls);
  inside(data, size, env.welcome);
  inside(data, size, env.ref);
  if (env.mls.len)
    peek_checked(data, size, env.mls.ptr, env.mls.len);
  if (env.welcome.len)
    peek_checked(data, size, env.welcome.ptr, env.welcome.len);
  if (env.kind == RELAY_ENV_CONTROL && env.ctl_type == RELAY_CTL_BATCH) {
    veil_reader_t r;
    uint64_t m;
    veil_view_t kp;
    veil_reader_init(&r, env.joins.ptr, env.joins.len);
    while (relay_env_next_join(&r, &m, &kp) == 1)
      inside(data, size, kp);
    if (r.err)
      abort(); /* decode validated the joins already */
  }
  return 0;
}
