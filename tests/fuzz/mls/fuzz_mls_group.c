/*
 * Fuzz target: a member's saved group state and one received MLSMessage
 * (mls_group_deserialize, then mls_group_process). Input: uint32 L (big-endian), L bytes
 * of state, then the message.
 *
 * Property beyond memory safety: a message the group refuses leaves the state exactly as
 * it was (RFC 9420 processing is staged and swapped in only on success; group.h), checked
 * by comparing mls_group_serialize before and after — PrivateMessages included: one
 * refused after decryption gets its secret tree back.
 *
 * Seeds (seeds_group/) come from make_group_seeds.c: a member's state in a three-member
 * group with the next Commit, a Proposal and application data sent to it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/group.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  size_t l = (size_t)data[0] << 24 | (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3];
  if (l > size - 4)
    return 0;
  mls_group_t *g = NULL;
  if (mls_group_deserialize(data + 4, l, NULL, &g) != 0)
    return 0;
  veil_writer_t before, after;
  veil_writer_init_growable(&before, 0);
  veil_writer_init_growable(&after, 0);
  if (mls_group_serialize(g, &before) != 0)
    abort();
  mls_processed_t r;
  int rc = mls_group_process(g, data + 4 + l, size - 4 - l, &r);
  if (rc == 0) {
    mls_processed_free(&r);
  } else {
    if (mls_group_serialize(g, &after) != 0 || after.len != before.len ||
        memcmp(after.buf, before.buf, before.len) != 0)
      abort(); /* a refused message changed the state */
  }
  veil_writer_free(&before);
  veil_writer_free(&after);
  mls_group_free(g);
  return 0;
}
