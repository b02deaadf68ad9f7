/*
 * Fuzz target (part B): PrivateMessage protection (RFC 9420 §6.3) as a property. The input
 * chooses application data, a sender leaf and a generation gap, and one alteration of
 * the protected message. Properties:
 *  - the unaltered message unprotects, verifies and yields the same data, exactly once
 *    (a second copy is refused as a reused generation);
 *  - any one-byte change or truncation is refused (never a crash, never a success);
 *  - a refused altered copy does not cost the genuine message its key (§9.2).
 * The keys are fixed (built from constants at start), so every run is deterministic up to
 * the random reuse guard, which the receiver takes from the sender data.
 *
 * Input: [0] flags, [1] sender leaf (mod 8), [2] generation gap (mod 40), [3..4] offset,
 * [5] xor mask, [6..] application data (at most 2048 bytes used).
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/framing.h"

static void must(int cond) {
  if (!cond)
    abort();
}

static const mls_suite_t *S;
static uint8_t GID[8] = "fuzz-grp", TH[32], CTH[32], MK[32], SDS[32], ENC[32];
static uint8_t SIG_PRIV[32], SIG_PUB[32];
static veil_writer_t GC;

static void setup(void) {
  if (S)
    return;
  S = mls_suite_get(1);
  memset(TH, 1, 32);
  memset(CTH, 2, 32);
  memset(MK, 3, 32);
  memset(SDS, 4, 32);
  memset(ENC, 5, 32);
  memset(SIG_PRIV, 6, 32);
  must(vc_sig_public(S->sig, SIG_PRIV, SIG_PUB) == 0);
  mls_group_context_t gc = {.version = MLS_VERSION_10, .cipher_suite = S->id,
                            .group_id = {GID, 8}, .epoch = 42, .tree_hash = {TH, 32},
                            .confirmed_transcript_hash = {CTH, 32}};
  veil_writer_init_growable(&GC, 0);
  must(mls_group_context_encode(&GC, &gc) == 0);
}

/* Unprotects and checks the signature; 0 and *ac filled on success. */
static int open_msg(mls_framing_ctx_t *rx, const uint8_t *msg, size_t len, veil_writer_t *plain,
                    mls_authenticated_content_t *ac) {
  mls_message_t m;
  int rc = mls_message_parse(msg, len, &m);
  if (rc == 0 && m.wire_format != MLS_WF_PRIVATE_MESSAGE)
    rc = VEIL_EDECODE;
  if (rc == 0)
    rc = mls_private_unprotect(rx, &m.u.private_message, plain, ac);
  if (rc == 0)
    rc = mls_framing_verify(rx, ac, SIG_PUB, sizeof SIG_PUB);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  if (size < 6)
    return 0;
  uint8_t flags = data[0];
  uint32_t leaf = data[1] % 8, gap = data[2] % 40;
  size_t offset = (size_t)data[3] << 8 | data[4];
  uint8_t mask = data[5] ? data[5] : 1;
  const uint8_t *app = data + 6;
  size_t app_len = size - 6 > 2048 ? 2048 : size - 6;

  mls_secret_tree_t *tx = mls_secret_tree_new(S, ENC, 8, NULL);
  mls_secret_tree_t *rxt = mls_secret_tree_new(S, ENC, 8, NULL);
  must(tx && rxt);
  mls_framing_ctx_t ctx_tx, ctx_rx;
  must(mls_framing_ctx_init(&ctx_tx, S, GC.buf, GC.len, MK, SDS, tx) == 0);
  must(mls_framing_ctx_init(&ctx_rx, S, GC.buf, GC.len, MK, SDS, rxt) == 0);
  ctx_tx.pad_to = flags & 0x10 ? 0 : 32;
  /* The sender skips `gap` generations first (messages the receiver never sees). */
  for (uint32_t i = 0; i < gap; i++) {
    mls_ratchet_key_t k;
    must(mls_secret_tree_next(tx, leaf, MLS_RATCHET_APPLICATION, &k) == 0);
    mls_ratchet_key_wipe(&k);
  }
  mls_framed_content_t c;
  memset(&c, 0, sizeof c);
  c.group_id = (veil_view_t){GID, 8};
  c.epoch = 42;
  c.sender = (mls_sender_t){MLS_SENDER_MEMBER, leaf};
  c.authenticated_data = (veil_view_t){data, flags & 0x20 ? 6 : 0};
  c.content_type = MLS_CT_APPLICATION;
  c.application_data = (veil_view_t){app, app_len};
  veil_writer_t msg, bad, plain;
  veil_writer_init_growable(&msg, 0);
  veil_writer_init_growable(&bad, 0);
  veil_writer_init_growable(&plain, 0);
  must(mls_private_protect(&ctx_tx, &c, SIG_PRIV, (veil_view_t){NULL, 0}, &msg) == 0);

  mls_authenticated_content_t ac;
  if (flags & 0x03) {
    /* One alteration: a flipped byte (1), a truncation (2), or both (3). */
    veil_write_bytes(&bad, msg.buf, msg.len);
    size_t at = offset % msg.len;
    if (flags & 0x01)
      bad.buf[at] ^= mask;
    if (flags & 0x02)
      bad.len = at;
    must(open_msg(&ctx_rx, bad.buf, bad.len, &plain, &ac) != 0);
  }
  /* The genuine message still opens, to the same data, exactly once. */
  must(open_msg(&ctx_rx, msg.buf, msg.len, &plain, &ac) == 0);
  must(ac.content.sender.type == MLS_SENDER_MEMBER && ac.content.sender.index == leaf);
  must(ac.content.application_data.len == app_len);
  must(app_len == 0 || memcmp(ac.content.application_data.ptr, app, app_len) == 0);
  must(open_msg(&ctx_rx, msg.buf, msg.len, &plain, &ac) == VEIL_EMLS_GENERATION_USED);

  veil_writer_free(&msg);
  veil_writer_free(&bad);
  veil_writer_free(&plain);
  mls_secret_tree_free(tx);
  mls_secret_tree_free(rxt);
  return 0;
}
