/* Fuzz target: what a hostile server can send a client's MLS membership (vs_member.h).
 * The relay is not trusted: any sequence of envelopes must be handled without a crash,
 * leak or out-of-bounds access, and must never make a member send for a group it does
 * not hold. Input: envelopes framed as u16 length || bytes, fed in order to a member
 * that leads a fresh group (member 1) and to one waiting for a Welcome (member 2). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clients/lib/session/vs_identity.h"
#include "clients/lib/session/vs_member.h"
#include "common/bytes.h"
#include "mls-relay/envelope.h"

static vs_identity_t ids[2];
static int ready;

static int send_cb(void *arg, const uint8_t *env, size_t len) {
  (void)arg;
  relay_env_t e;
  /* whatever the member sends must be a well-formed envelope */
  if (relay_env_decode(env, len, 1u << 20, &e) != 0)
    __builtin_trap();
  return 0;
}
static void on_epoch(void *arg, mls_group_t *g, int added) { (void)arg, (void)g, (void)added; }
static void on_chat(void *arg, uint32_t leaf, const uint8_t *t, size_t n) { (void)arg, (void)leaf, (void)t, (void)n; }
static void on_removed(void *arg) { (void)arg; }
static int resolve(void *arg, uint64_t member, char *out, size_t cap) {
  (void)arg;
  if (member < 1 || member > 2)
    return -1;
  snprintf(out, cap, "%s", ids[member - 1].name);
  return 0;
}

static vs_member_t *member(int i) {
  vs_member_config_t mc = {
      .self = (uint64_t)i + 1, .identity = &ids[i].mls, .cipher_suite = ids[i].suite,
      .cb = {.send = send_cb, .on_epoch = on_epoch, .on_chat = on_chat, .on_removed = on_removed,
             .resolve = resolve},
  };
  vs_member_t *m = NULL;
  if (vs_member_new(&mc, &m))
    __builtin_trap();
  return m;
}

static void feed_leader(vs_member_t *a, vs_member_t *b) {
  uint8_t buf[32];
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof buf);
  relay_env_put_leader(&w, 1, 0, RELAY_LEADER_FLAG_CREATE);
  (void)vs_member_handle(a, buf, w.len); /* member 1 creates the group */
  veil_writer_init(&w, buf, sizeof buf);
  relay_env_put_leader(&w, 1, 0, 0);
  (void)vs_member_handle(b, buf, w.len); /* member 2 sends its KeyPackage, waits */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ready) {
    if (vs_identity_generate("one@example.org", VC_ED25519, &ids[0]) ||
        vs_identity_generate("two@example.org", VC_ED25519, &ids[1]))
      __builtin_trap();
    ready = 1;
  }
  vs_member_t *a = member(0), *b = member(1);
  feed_leader(a, b);
  veil_reader_t r;
  veil_reader_init(&r, data, size);
  veil_view_t env;
  for (int n = 0; n < 16 && veil_read_vec(&r, VEIL_LEN_U16, 1u << 16, &env) == 0; n++) {
    (void)vs_member_handle(a, env.ptr, env.len);
    (void)vs_member_handle(b, env.ptr, env.len);
  }
  vs_member_free(a);
  vs_member_free(b);
  return 0;
}
