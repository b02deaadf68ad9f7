/*
 * Known-answer run of the relay's framing peek over the mlswg interop vectors
 * (mls/messages.json, read in place from $VEIL_VECTORS): every serialized MLSMessage must
 * peek with the wire format and content type its field name states. TAP output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mls-relay/peek.h"
#include "vjson.h"

struct field {
  const char *key;
  uint16_t wire_format;
  uint8_t content_type; /* 0: not checked */
};

static const struct field fields[] = {
    {"mls_welcome", RELAY_WF_WELCOME, 0},
    {"mls_group_info", RELAY_WF_GROUP_INFO, 0},
    {"mls_key_package", RELAY_WF_KEY_PACKAGE, 0},
    {"public_message_application", RELAY_WF_PUBLIC_MESSAGE, RELAY_CT_APPLICATION},
    {"public_message_proposal", RELAY_WF_PUBLIC_MESSAGE, RELAY_CT_PROPOSAL},
    {"public_message_commit", RELAY_WF_PUBLIC_MESSAGE, RELAY_CT_COMMIT},
    {"private_message", RELAY_WF_PRIVATE_MESSAGE, 0},
};

int main(void) {
  char path[4096];
  if (!vj_vector_path("mls/messages.json", path, sizeof path))
    return tap_skip_all("vectors folder absent");
  vj_t *root = vj_parse_file(path);
  if (!root)
    return tap_skip_all("mls/messages.json unreadable");
  size_t n = vj_size(root), checked = 0, welcome_refs = 0;
  for (size_t i = 0; i < n; i++) {
    const vj_t *e = vj_at(root, i);
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
      size_t len;
      uint8_t *msg = vj_hex(e, fields[f].key, &len);
      relay_peek_t pk;
      if (!msg) {
        tap_ok(0, "entry %zu: %s missing", i, fields[f].key);
        continue;
      }
      int rc = relay_peek(msg, len, &pk);
      int ok = rc == 0 && pk.wire_format == fields[f].wire_format &&
               (!fields[f].content_type || pk.content_type == fields[f].content_type);
      if (ok && fields[f].wire_format == RELAY_WF_WELCOME) {
        /* Each new_member ref is a RefHash output: 32..64 bytes for suites 1..7. */
        ok = pk.n_new_members >= 1;
        for (size_t k = 0; ok && k < pk.n_new_members; k++)
          ok = pk.new_members[k].len >= 32 && pk.new_members[k].len <= 64;
        welcome_refs += pk.n_new_members;
      }
      if (ok && fields[f].wire_format == RELAY_WF_PUBLIC_MESSAGE)
        ok = pk.sender_type >= RELAY_SENDER_MEMBER &&
             pk.sender_type <= RELAY_SENDER_NEW_MEMBER_COMMIT;
      /* Report failures individually, successes once per entry set (keeps TAP short). */
      if (!ok)
        tap_ok(0, "entry %zu %s: rc=%d wf=%u ct=%u", i, fields[f].key, rc, pk.wire_format,
               pk.content_type);
      else
        checked++;
      free(msg);
    }
  }
  tap_ok(checked == n * (sizeof fields / sizeof fields[0]) && n > 0,
         "%zu entries, %zu messages peeked, %zu Welcome refs", n, checked, welcome_refs);
  tap_diag("messages.json: %zu entries, %zu MLSMessages peeked", n, checked);
  vj_free(root);
  return tap_done();
}
