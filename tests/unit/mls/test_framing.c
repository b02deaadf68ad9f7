/* Unit tests of MLS message protection (RFC 9420 §6): what an attacker on the wire or a
 * confused caller can change, and that each change is refused. Known answers are in the
 * message-protection vectors. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/framing.h"

/* One epoch of a group seen by a sender (ctx_tx) and a receiver (ctx_rx), each with its own
 * secret tree over the same encryption secret, and a sender's signature key pair. `out`
 * (a message), `copy` (a second one) and `plain` are scratch writers for one test. */
typedef struct fx {
  const mls_suite_t *s;
  uint8_t gid[8], th[32], cth[32], mk[32], sds[32], enc[32];
  uint8_t sig_priv[32], sig_pub[32];
  veil_writer_t gc, out, copy, plain;
  mls_secret_tree_t *tx, *rx;
  mls_framing_ctx_t ctx_tx, ctx_rx;
} fx_t;

/* Gives both sides fresh secret trees: every generation unused again. */
static void fx_fresh_trees(fx_t *f) {
  mls_secret_tree_free(f->tx);
  mls_secret_tree_free(f->rx);
  f->tx = f->ctx_tx.secret_tree = mls_secret_tree_new(f->s, f->enc, 4, NULL);
  f->rx = f->ctx_rx.secret_tree = mls_secret_tree_new(f->s, f->enc, 4, NULL);
}

static void fx_init(fx_t *f, uint64_t epoch) {
  memset(f, 0, sizeof(*f));
  f->s = mls_suite_get(1);
  memcpy(f->gid, "group-id", 8);
  memset(f->th, 1, 32);
  memset(f->cth, 2, 32);
  memset(f->mk, 3, 32);
  memset(f->sds, 4, 32);
  memset(f->enc, 5, 32);
  cr_assert_eq(vc_sig_generate(VC_ED25519, f->sig_priv, f->sig_pub), 0);
  mls_group_context_t gc = {.version = MLS_VERSION_10, .cipher_suite = 1,
                            .group_id = {f->gid, 8}, .epoch = epoch, .tree_hash = {f->th, 32},
                            .confirmed_transcript_hash = {f->cth, 32}};
  veil_writer_init_growable(&f->gc, 0);
  cr_assert_eq(mls_group_context_encode(&f->gc, &gc), 0);
  f->tx = mls_secret_tree_new(f->s, f->enc, 4, NULL);
  f->rx = mls_secret_tree_new(f->s, f->enc, 4, NULL);
  cr_assert_eq(mls_framing_ctx_init(&f->ctx_tx, f->s, f->gc.buf, f->gc.len, f->mk, f->sds, f->tx), 0);
  cr_assert_eq(mls_framing_ctx_init(&f->ctx_rx, f->s, f->gc.buf, f->gc.len, f->mk, f->sds, f->rx), 0);
  veil_writer_init_growable(&f->out, 0);
  veil_writer_init_growable(&f->copy, 0);
  veil_writer_init_growable(&f->plain, 0);
}

/* Empties f->out for the next message. */
static void fx_reset_out(fx_t *f) {
  veil_writer_free(&f->out);
  veil_writer_init_growable(&f->out, 0);
}

static void fx_free(fx_t *f) {
  mls_secret_tree_free(f->tx);
  mls_secret_tree_free(f->rx);
  veil_writer_free(&f->gc);
  veil_writer_free(&f->out);
  veil_writer_free(&f->copy);
  veil_writer_free(&f->plain);
}
static mls_framed_content_t app(const fx_t *f, const char *text) {
  mls_framed_content_t c;
  memset(&c, 0, sizeof c);
  c.group_id = (veil_view_t){f->gid, 8};
  c.epoch = f->ctx_tx.epoch;
  c.sender = (mls_sender_t){MLS_SENDER_MEMBER, 2};
  c.content_type = MLS_CT_APPLICATION;
  c.application_data = (veil_view_t){(const uint8_t *)text, strlen(text)};
  return c;
}

static mls_framed_content_t remove_proposal(const fx_t *f) {
  mls_framed_content_t c = app(f, "");
  c.content_type = MLS_CT_PROPOSAL;
  c.application_data = (veil_view_t){NULL, 0};
  c.proposal.type = MLS_PROP_REMOVE;
  c.proposal.u.remove = 3;
  return c;
}

/* Protects `c` as a PrivateMessage (no confirmation tag) into `out`. */
static int seal_private(fx_t *f, const mls_framed_content_t *c, veil_writer_t *out) {
  return mls_private_protect(&f->ctx_tx, c, f->sig_priv, (veil_view_t){0}, out);
}

/* Protects `c` as a PublicMessage with confirmation tag `tag` into f->out. */
static int seal_public(fx_t *f, const mls_framed_content_t *c, veil_view_t tag) {
  return mls_public_protect(&f->ctx_tx, c, f->sig_priv, tag, &f->out);
}

/* Parses `msg` and unprotects it as the receiver; the plaintext goes to f->plain. */
static int private_open(fx_t *f, const uint8_t *msg, size_t len, mls_authenticated_content_t *ac) {
  mls_message_t m;
  int rc = mls_message_parse(msg, len, &m);
  if (rc)
    return rc;
  return mls_private_unprotect(&f->ctx_rx, &m.u.private_message, &f->plain, ac);
}

/* Parses f->out, which must parse, and unprotects it as a PublicMessage. */
static int public_open(fx_t *f, mls_authenticated_content_t *ac) {
  mls_message_t m;
  cr_assert_eq(mls_message_parse(f->out.buf, f->out.len, &m), 0);
  return mls_public_unprotect(&f->ctx_rx, &m.u.public_message, ac);
}

Test(mls_framing, private_message_round_trip_and_replay_refused) {
  fx_t f;
  fx_init(&f, 7);
  mls_framed_content_t c = app(&f, "hello");
  cr_assert_eq(seal_private(&f, &c, &f.out), 0);
  mls_authenticated_content_t ac;
  cr_assert_eq(private_open(&f, f.out.buf, f.out.len, &ac), 0);
  cr_assert_eq(mls_framing_verify(&f.ctx_rx, &ac, f.sig_pub, 32), 0);
  cr_assert_eq(ac.content.sender.index, 2);
  cr_assert_eq(ac.content.application_data.len, 5);
  cr_assert_eq(memcmp(ac.content.application_data.ptr, "hello", 5), 0);
  /* The same message again: its key was consumed (§9.2). */
  cr_assert_eq(private_open(&f, f.out.buf, f.out.len, &ac), VEIL_EMLS_GENERATION_USED);
  fx_free(&f);
}

Test(mls_framing, private_message_tampering_refused) {
  fx_t f;
  fx_init(&f, 7);
  mls_framed_content_t c = app(&f, "hello");
  mls_authenticated_content_t ac;
  /* Every byte after the 4-byte MLSMessage header, flipped in turn, must be refused. */
  size_t flipped = 0;
  for (size_t i = 4;; i++) {
    fx_fresh_trees(&f);
    fx_reset_out(&f);
    cr_assert_eq(seal_private(&f, &c, &f.out), 0);
    if (i >= f.out.len)
      break;
    f.out.buf[i] ^= 0x01;
    cr_assert_neq(private_open(&f, f.out.buf, f.out.len, &ac), 0, "byte %zu", i);
    flipped++;
  }
  cr_assert_gt(flipped, 0, "no byte was flipped");
  fx_free(&f);
}

Test(mls_framing, private_content_is_padded_to_the_block) {
  fx_t f;
  fx_init(&f, 1);
  for (size_t n = 0; n < 70; n += 7) {
    char text[80];
    memset(text, 'a', n);
    text[n] = 0;
    mls_framed_content_t c = app(&f, text);
    fx_reset_out(&f);
    cr_assert_eq(seal_private(&f, &c, &f.out), 0);
    mls_message_t m;
    cr_assert_eq(mls_message_parse(f.out.buf, f.out.len, &m), 0);
    cr_assert_eq((m.u.private_message.ciphertext.len - MLS_AEAD_TAG_LEN) % 32, 0, "n=%zu", n);
  }
  fx_free(&f);
}

Test(mls_framing, reuse_guard_makes_same_generation_ciphertexts_differ) {
  fx_t f;
  fx_init(&f, 1);
  mls_framed_content_t c = app(&f, "same");
  cr_assert_eq(seal_private(&f, &c, &f.out), 0);
  /* A second sender state at the same generation (e.g. restored from a backup). */
  f.ctx_tx.secret_tree = f.rx;
  cr_assert_eq(seal_private(&f, &c, &f.copy), 0);
  cr_assert_eq(f.out.len, f.copy.len);
  cr_assert_neq(memcmp(f.out.buf, f.copy.buf, f.copy.len), 0);
  fx_free(&f);
}

Test(mls_framing, public_message_membership_tag_and_signature_checked) {
  fx_t f;
  fx_init(&f, 3);
  mls_framed_content_t c = remove_proposal(&f);
  cr_assert_eq(seal_public(&f, &c, (veil_view_t){0}), 0);
  mls_authenticated_content_t ac;
  cr_assert_eq(public_open(&f, &ac), 0);
  cr_assert_eq(mls_framing_verify(&f.ctx_rx, &ac, f.sig_pub, 32), 0);
  /* Another key's signature check fails. */
  uint8_t other_priv[32], other_pub[32];
  cr_assert_eq(vc_sig_generate(VC_ED25519, other_priv, other_pub), 0);
  cr_assert_eq(mls_framing_verify(&f.ctx_rx, &ac, other_pub, 32), VEIL_EVERIFY);
  /* The last byte is in the membership tag. */
  f.out.buf[f.out.len - 1] ^= 1;
  cr_assert_eq(public_open(&f, &ac), VEIL_EMLS_MEMBERSHIP_TAG);
  /* A non-member of the epoch (another membership key) cannot make a valid tag. */
  f.out.buf[f.out.len - 1] ^= 1;
  uint8_t mk2[32];
  memset(mk2, 9, 32);
  f.ctx_rx.membership_key = mk2;
  cr_assert_eq(public_open(&f, &ac), VEIL_EMLS_MEMBERSHIP_TAG);
  fx_free(&f);
}

Test(mls_framing, refuses_application_data_as_public_message) {
  fx_t f;
  fx_init(&f, 3);
  mls_framed_content_t c = app(&f, "secret");
  cr_assert_eq(seal_public(&f, &c, (veil_view_t){0}), VEIL_EMLS_PUBLIC_APPLICATION);
  cr_assert_eq(f.out.len, 0);
  fx_free(&f);
}

Test(mls_framing, refuses_other_group_or_epoch) {
  fx_t f, g;
  fx_init(&f, 3);
  fx_init(&g, 4);
  mls_framed_content_t c = app(&f, "x");
  cr_assert_eq(seal_private(&f, &c, &f.out), 0);
  mls_message_t m;
  mls_authenticated_content_t ac;
  cr_assert_eq(mls_message_parse(f.out.buf, f.out.len, &m), 0);
  cr_assert_eq(mls_private_unprotect(&g.ctx_rx, &m.u.private_message, &g.plain, &ac),
               VEIL_EMLS_WRONG_EPOCH);
  c.group_id = (veil_view_t){(const uint8_t *)"other-id", 8};
  cr_assert_eq(seal_private(&f, &c, &f.out), VEIL_EMLS_WRONG_GROUP);
  fx_free(&f);
  fx_free(&g);
}

Test(mls_framing, commit_needs_confirmation_tag_and_others_refuse_one) {
  fx_t f;
  fx_init(&f, 3);
  mls_framed_content_t c = remove_proposal(&f);
  uint8_t tag[32] = {0};
  cr_assert_eq(seal_public(&f, &c, (veil_view_t){tag, 32}), VEIL_EINVAL);
  c.content_type = MLS_CT_COMMIT;
  memset(&c.commit, 0, sizeof c.commit);
  cr_assert_eq(seal_public(&f, &c, (veil_view_t){0}), VEIL_EINVAL);
  cr_assert_eq(seal_public(&f, &c, (veil_view_t){tag, 32}), 0);
  fx_free(&f);
}

Test(mls_framing, private_message_refuses_non_member_sender) {
  fx_t f;
  fx_init(&f, 3);
  mls_framed_content_t c = remove_proposal(&f);
  cr_assert_eq(seal_private(&f, &c, &f.out), 0, "a member's proposal is sealed");
  c.sender = (mls_sender_t){MLS_SENDER_EXTERNAL, 0};
  cr_assert_eq(seal_private(&f, &c, &f.out), VEIL_EMLS_SENDER);
  fx_free(&f);
}

Test(mls_framing, altered_copy_does_not_burn_the_genuine_messages_key) {
  fx_t f;
  fx_init(&f, 7);
  mls_framed_content_t c = app(&f, "a message long enough to reach past the 32-byte sample");
  cr_assert_eq(seal_private(&f, &c, &f.out), 0);
  veil_write_bytes(&f.copy, f.out.buf, f.out.len);
  /* The last byte is in the content's AEAD tag, well past the sender-data sample. */
  f.copy.buf[f.copy.len - 1] ^= 1;
  mls_authenticated_content_t ac;
  cr_assert_eq(private_open(&f, f.copy.buf, f.copy.len, &ac), VEIL_EAUTH);
  cr_assert_eq(private_open(&f, f.out.buf, f.out.len, &ac), 0);
  cr_assert_eq(mls_framing_verify(&f.ctx_rx, &ac, f.sig_pub, 32), 0);
  cr_assert_eq(private_open(&f, f.out.buf, f.out.len, &ac), VEIL_EMLS_GENERATION_USED);
  fx_free(&f);
}
