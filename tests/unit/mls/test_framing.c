/* Unit tests of MLS message protection (RFC 9420 §6): what an attacker on the wire or a
 * confused caller can change, and that each change is refused. Known answers are in the
 * message-protection vectors. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/framing.h"

typedef struct fx {
  const mls_suite_t *s;
  uint8_t gid[8], th[32], cth[32], mk[32], sds[32], enc[32];
  uint8_t sig_priv[32], sig_pub[32];
  veil_writer_t gc;
  mls_secret_tree_t *tx, *rx;
  mls_framing_ctx_t ctx_tx, ctx_rx;
} fx_t;

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
}

static void fx_free(fx_t *f) {
  mls_secret_tree_free(f->tx);
  mls_secret_tree_free(f->rx);
  veil_writer_free(&f->gc);
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

static int private_open(fx_t *f, const uint8_t *msg, size_t len, mls_authenticated_content_t *ac,
                        veil_writer_t *plain) {
  mls_message_t m;
  int rc = mls_message_parse(msg, len, &m);
  if (rc)
    return rc;
  return mls_private_unprotect(&f->ctx_rx, &m.u.private_message, plain, ac);
}

Test(mls_framing, private_message_round_trip_and_replay_refused) {
  fx_t f;
  fx_init(&f, 7);
  mls_framed_content_t c = app(&f, "hello");
  veil_writer_t out, plain;
  veil_writer_init_growable(&out, 0);
  veil_writer_init_growable(&plain, 0);
  cr_assert_eq(mls_private_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out), 0);
  mls_authenticated_content_t ac;
  cr_assert_eq(private_open(&f, out.buf, out.len, &ac, &plain), 0);
  cr_assert_eq(mls_framing_verify(&f.ctx_rx, &ac, f.sig_pub, 32), 0);
  cr_assert_eq(ac.content.sender.index, 2);
  cr_assert_eq(ac.content.application_data.len, 5);
  cr_assert_eq(memcmp(ac.content.application_data.ptr, "hello", 5), 0);
  /* The same message again: its key was consumed (§9.2). */
  cr_assert_eq(private_open(&f, out.buf, out.len, &ac, &plain), VEIL_EMLS_GENERATION_USED);
  veil_writer_free(&out);
  veil_writer_free(&plain);
  fx_free(&f);
}

Test(mls_framing, private_message_tampering_refused) {
  fx_t f;
  fx_init(&f, 7);
  mls_framed_content_t c = app(&f, "hello");
  veil_writer_t out, plain;
  veil_writer_init_growable(&plain, 0);
  mls_authenticated_content_t ac;
  /* Every byte after the 4-byte MLSMessage header, flipped in turn, must be refused. */
  for (size_t i = 4;; i++) {
    mls_secret_tree_free(f.tx);
    mls_secret_tree_free(f.rx);
    f.tx = f.ctx_tx.secret_tree = mls_secret_tree_new(f.s, f.enc, 4, NULL);
    f.rx = f.ctx_rx.secret_tree = mls_secret_tree_new(f.s, f.enc, 4, NULL);
    veil_writer_init_growable(&out, 0);
    cr_assert_eq(mls_private_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out), 0);
    if (i >= out.len) {
      veil_writer_free(&out);
      break;
    }
    out.buf[i] ^= 0x01;
    cr_assert_neq(private_open(&f, out.buf, out.len, &ac, &plain), 0, "byte %zu", i);
    veil_writer_free(&out);
  }
  veil_writer_free(&plain);
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
    veil_writer_t out;
    veil_writer_init_growable(&out, 0);
    cr_assert_eq(mls_private_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out), 0);
    mls_message_t m;
    cr_assert_eq(mls_message_parse(out.buf, out.len, &m), 0);
    cr_assert_eq((m.u.private_message.ciphertext.len - MLS_AEAD_TAG_LEN) % 32, 0, "n=%zu", n);
    veil_writer_free(&out);
  }
  fx_free(&f);
}

Test(mls_framing, reuse_guard_makes_same_generation_ciphertexts_differ) {
  fx_t f;
  fx_init(&f, 1);
  mls_framed_content_t c = app(&f, "same");
  veil_writer_t a, b;
  veil_writer_init_growable(&a, 0);
  veil_writer_init_growable(&b, 0);
  cr_assert_eq(mls_private_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &a), 0);
  /* A second sender state at the same generation (e.g. restored from a backup). */
  f.ctx_tx.secret_tree = f.rx;
  cr_assert_eq(mls_private_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &b), 0);
  cr_assert_eq(a.len, b.len);
  cr_assert_neq(memcmp(a.buf, b.buf, a.len), 0);
  veil_writer_free(&a);
  veil_writer_free(&b);
  fx_free(&f);
}

Test(mls_framing, public_message_membership_tag_and_signature_checked) {
  fx_t f;
  fx_init(&f, 3);
  mls_framed_content_t c = remove_proposal(&f);
  veil_writer_t out;
  veil_writer_init_growable(&out, 0);
  cr_assert_eq(mls_public_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out), 0);
  mls_message_t m;
  mls_authenticated_content_t ac;
  cr_assert_eq(mls_message_parse(out.buf, out.len, &m), 0);
  cr_assert_eq(mls_public_unprotect(&f.ctx_rx, &m.u.public_message, &ac), 0);
  cr_assert_eq(mls_framing_verify(&f.ctx_rx, &ac, f.sig_pub, 32), 0);
  /* Another key's signature check fails. */
  uint8_t other_priv[32], other_pub[32];
  cr_assert_eq(vc_sig_generate(VC_ED25519, other_priv, other_pub), 0);
  cr_assert_eq(mls_framing_verify(&f.ctx_rx, &ac, other_pub, 32), VEIL_EVERIFY);
  /* The last byte is in the membership tag. */
  out.buf[out.len - 1] ^= 1;
  cr_assert_eq(mls_message_parse(out.buf, out.len, &m), 0);
  cr_assert_eq(mls_public_unprotect(&f.ctx_rx, &m.u.public_message, &ac), VEIL_EMLS_MEMBERSHIP_TAG);
  /* A non-member of the epoch (another membership key) cannot make a valid tag. */
  out.buf[out.len - 1] ^= 1;
  uint8_t mk2[32];
  memset(mk2, 9, 32);
  f.ctx_rx.membership_key = mk2;
  cr_assert_eq(mls_message_parse(out.buf, out.len, &m), 0);
  cr_assert_eq(mls_public_unprotect(&f.ctx_rx, &m.u.public_message, &ac), VEIL_EMLS_MEMBERSHIP_TAG);
  veil_writer_free(&out);
  fx_free(&f);
}

Test(mls_framing, refuses_application_data_as_public_message) {
  fx_t f;
  fx_init(&f, 3);
  mls_framed_content_t c = app(&f, "secret");
  veil_writer_t out;
  veil_writer_init_growable(&out, 0);
  cr_assert_eq(mls_public_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out),
               VEIL_EMLS_PUBLIC_APPLICATION);
  cr_assert_eq(out.len, 0);
  veil_writer_free(&out);
  fx_free(&f);
}

Test(mls_framing, refuses_other_group_or_epoch) {
  fx_t f, g;
  fx_init(&f, 3);
  fx_init(&g, 4);
  mls_framed_content_t c = app(&f, "x");
  veil_writer_t out, plain;
  veil_writer_init_growable(&out, 0);
  veil_writer_init_growable(&plain, 0);
  cr_assert_eq(mls_private_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out), 0);
  mls_message_t m;
  mls_authenticated_content_t ac;
  cr_assert_eq(mls_message_parse(out.buf, out.len, &m), 0);
  cr_assert_eq(mls_private_unprotect(&g.ctx_rx, &m.u.private_message, &plain, &ac),
               VEIL_EMLS_WRONG_EPOCH);
  c.group_id = (veil_view_t){(const uint8_t *)"other-id", 8};
  cr_assert_eq(mls_private_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out),
               VEIL_EMLS_WRONG_GROUP);
  veil_writer_free(&out);
  veil_writer_free(&plain);
  fx_free(&f);
  fx_free(&g);
}

Test(mls_framing, commit_needs_confirmation_tag_and_others_refuse_one) {
  fx_t f;
  fx_init(&f, 3);
  mls_framed_content_t c = remove_proposal(&f);
  uint8_t tag[32] = {0};
  veil_writer_t out;
  veil_writer_init_growable(&out, 0);
  cr_assert_eq(mls_public_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){tag, 32}, &out),
               VEIL_EINVAL);
  c.content_type = MLS_CT_COMMIT;
  memset(&c.commit, 0, sizeof c.commit);
  cr_assert_eq(mls_public_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out), VEIL_EINVAL);
  cr_assert_eq(mls_public_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){tag, 32}, &out), 0);
  veil_writer_free(&out);
  fx_free(&f);
}

Test(mls_framing, private_message_refuses_non_member_sender) {
  fx_t f;
  fx_init(&f, 3);
  mls_framed_content_t c = remove_proposal(&f);
  c.sender = (mls_sender_t){MLS_SENDER_EXTERNAL, 0};
  veil_writer_t out;
  veil_writer_init_growable(&out, 0);
  cr_assert_eq(mls_private_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out),
               VEIL_EMLS_SENDER);
  veil_writer_free(&out);
  fx_free(&f);
}

Test(mls_framing, altered_copy_does_not_burn_the_genuine_messages_key) {
  fx_t f;
  fx_init(&f, 7);
  mls_framed_content_t c = app(&f, "a message long enough to reach past the 32-byte sample");
  veil_writer_t out, bad, plain;
  veil_writer_init_growable(&out, 0);
  veil_writer_init_growable(&bad, 0);
  veil_writer_init_growable(&plain, 0);
  cr_assert_eq(mls_private_protect(&f.ctx_tx, &c, f.sig_priv, (veil_view_t){0}, &out), 0);
  veil_write_bytes(&bad, out.buf, out.len);
  /* The last byte is in the content's AEAD tag, well past the sender-data sample. */
  bad.buf[bad.len - 1] ^= 1;
  mls_authenticated_content_t ac;
  cr_assert_eq(private_open(&f, bad.buf, bad.len, &ac, &plain), VEIL_EAUTH);
  cr_assert_eq(private_open(&f, out.buf, out.len, &ac, &plain), 0);
  cr_assert_eq(mls_framing_verify(&f.ctx_rx, &ac, f.sig_pub, 32), 0);
  cr_assert_eq(private_open(&f, out.buf, out.len, &ac, &plain), VEIL_EMLS_GENERATION_USED);
  veil_writer_free(&out);
  veil_writer_free(&bad);
  veil_writer_free(&plain);
  fx_free(&f);
}
