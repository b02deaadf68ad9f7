/*
 * RFC 9420 message-protection vectors (§6): with the GroupContext of the vector, a
 * 2-leaf secret tree and sender leaf 1, for the proposal, commit and application data:
 *  - the given PublicMessage (not for application data) passes the membership tag and
 *    signature checks and carries the raw value;
 *  - the given PrivateMessage decrypts, verifies and carries the raw value;
 *  - fresh protection of the raw value round-trips in both forms (the Commit with the
 *    confirmation tag of the given message), and application data is refused as a
 *    PublicMessage.
 * Fresh secret trees are used for each direction so that no check relies on a key
 * another check consumed.
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/framing.h"
#include "mls_vec.h"

typedef struct tcase {
  const mls_suite_t *s;
  veil_writer_t gc;
  uint8_t *enc_secret, *sd_secret, *mk, *sig_priv, *sig_pub;
  size_t sig_pub_len;
} tcase_t;

/* Encodes the body of `ac` for comparison with the raw vector value. */
static int body_eq(const mls_authenticated_content_t *ac, uint8_t ct, const uint8_t *raw,
                   size_t raw_len) {
  if (ac->content.content_type != ct || ac->content.sender.type != MLS_SENDER_MEMBER ||
      ac->content.sender.index != 1)
    return 0;
  if (ct == MLS_CT_APPLICATION)
    return tap_bytes_eq("application_data", ac->content.application_data.ptr,
                        ac->content.application_data.len, raw, raw_len);
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int rc = ct == MLS_CT_PROPOSAL ? mls_proposal_encode(&w, &ac->content.proposal)
                                 : mls_commit_encode(&w, &ac->content.commit);
  int ok = rc == 0 && tap_bytes_eq("content body", w.buf, w.len, raw, raw_len);
  veil_writer_free(&w);
  return ok;
}

static int ctx_for(const tcase_t *t, mls_framing_ctx_t *ctx, mls_secret_tree_t **tree) {
  *tree = mls_secret_tree_new(t->s, t->enc_secret, 2, NULL);
  return *tree && mls_framing_ctx_init(ctx, t->s, t->gc.buf, t->gc.len, t->mk, t->sd_secret,
                                       *tree) == 0;
}

/* Unprotects an encoded MLSMessage (either form) with a fresh receiver tree and checks
 * signature and body. */
static int unprotect_check(const tcase_t *t, const uint8_t *msg, size_t len, uint16_t want_wf,
                           uint8_t ct, const uint8_t *raw, size_t raw_len) {
  mls_message_t m;
  mls_framing_ctx_t ctx;
  mls_secret_tree_t *tree = NULL;
  veil_writer_t plain;
  veil_writer_init_growable(&plain, 0);
  mls_authenticated_content_t ac;
  int ok = mls_message_parse(msg, len, &m) == 0 && m.wire_format == want_wf &&
           ctx_for(t, &ctx, &tree);
  if (ok && want_wf == MLS_WF_PUBLIC_MESSAGE)
    ok = mls_public_unprotect(&ctx, &m.u.public_message, &ac) == 0;
  else if (ok)
    ok = mls_private_unprotect(&ctx, &m.u.private_message, &plain, &ac) == 0;
  ok = ok && mls_framing_verify(&ctx, &ac, t->sig_pub, t->sig_pub_len) == 0 &&
       body_eq(&ac, ct, raw, raw_len);
  veil_writer_free(&plain);
  mls_secret_tree_free(tree);
  return ok;
}

/* Protects the raw value afresh in form `wf` and unprotects the result. */
static int roundtrip(const tcase_t *t, uint16_t wf, uint8_t ct, const uint8_t *raw,
                     size_t raw_len, veil_view_t conf_tag, int *refused) {
  mls_framing_ctx_t ctx;
  mls_secret_tree_t *tree = NULL;
  veil_writer_t out;
  veil_writer_init_growable(&out, 0);
  int ok = ctx_for(t, &ctx, &tree);
  mls_framed_content_t c;
  memset(&c, 0, sizeof(c));
  c.group_id = ctx.group_id;
  c.epoch = ctx.epoch;
  c.sender = (mls_sender_t){MLS_SENDER_MEMBER, 1};
  c.authenticated_data = (veil_view_t){(const uint8_t *)"aad", 3};
  c.content_type = ct;
  veil_reader_t r;
  veil_reader_init(&r, raw, raw_len);
  if (ct == MLS_CT_APPLICATION)
    c.application_data = (veil_view_t){raw, raw_len};
  else if (ct == MLS_CT_PROPOSAL)
    mls_proposal_decode(&r, &c.proposal);
  else
    mls_commit_decode(&r, &c.commit);
  if (ct != MLS_CT_APPLICATION)
    ok = ok && veil_reader_finish(&r) == 0;
  int rc = -1;
  if (ok)
    rc = wf == MLS_WF_PUBLIC_MESSAGE ? mls_public_protect(&ctx, &c, t->sig_priv, conf_tag, &out)
                                     : mls_private_protect(&ctx, &c, t->sig_priv, conf_tag, &out);
  if (refused)
    *refused = rc == VEIL_EMLS_PUBLIC_APPLICATION;
  ok = ok && rc == 0 && unprotect_check(t, out.buf, out.len, wf, ct, raw, raw_len);
  veil_writer_free(&out);
  mls_secret_tree_free(tree);
  return ok;
}

static void check_kind(mv_t *m, const tcase_t *t, const vj_t *tc, size_t i, const char *name,
                       uint8_t ct) {
  char key[64];
  size_t rl, pl, vl;
  uint8_t *raw = mv_hex(m, tc, name, &rl);
  snprintf(key, sizeof key, "%s_priv", name);
  uint8_t *priv = mv_hex(m, tc, key, &vl);
  veil_view_t conf_tag = {NULL, 0};
  if (ct != MLS_CT_APPLICATION) {
    snprintf(key, sizeof key, "%s_pub", name);
    uint8_t *pub = mv_hex(m, tc, key, &pl);
    int ok = raw && pub && unprotect_check(t, pub, pl, MLS_WF_PUBLIC_MESSAGE, ct, raw, rl);
    tap_ok(ok, "message-protection[%zu] suite %u %s: given PublicMessage", i, t->s->id, name);
    mls_message_t msg;
    if (ct == MLS_CT_COMMIT && pub && mls_message_parse(pub, pl, &msg) == 0)
      conf_tag = msg.u.public_message.auth.confirmation_tag;
    ok = raw && roundtrip(t, MLS_WF_PUBLIC_MESSAGE, ct, raw, rl, conf_tag, NULL);
    tap_ok(ok, "message-protection[%zu] suite %u %s: fresh PublicMessage", i, t->s->id, name);
  } else {
    int refused = 0;
    roundtrip(t, MLS_WF_PUBLIC_MESSAGE, ct, raw, rl, conf_tag, &refused);
    tap_ok(raw && refused, "message-protection[%zu] suite %u %s refused as PublicMessage", i,
           t->s->id, name);
  }
  int ok = raw && priv && unprotect_check(t, priv, vl, MLS_WF_PRIVATE_MESSAGE, ct, raw, rl);
  tap_ok(ok, "message-protection[%zu] suite %u %s: given PrivateMessage", i, t->s->id, name);
  ok = raw && roundtrip(t, MLS_WF_PRIVATE_MESSAGE, ct, raw, rl, conf_tag, NULL);
  tap_ok(ok, "message-protection[%zu] suite %u %s: fresh PrivateMessage", i, t->s->id, name);
}

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "message-protection.json");
  if (rc)
    return rc;
  for (size_t i = 0; i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    tcase_t t = {.s = s};
    size_t gl, thl, cl, l1, l2, l3, l4;
    int okn = 0;
    uint8_t *gid = mv_hex(&m, tc, "group_id", &gl), *th = mv_hex(&m, tc, "tree_hash", &thl);
    uint8_t *cth = mv_hex(&m, tc, "confirmed_transcript_hash", &cl);
    uint64_t epoch = vj_u64(tc, "epoch", &okn);
    t.enc_secret = mv_hex(&m, tc, "encryption_secret", &l1);
    t.sd_secret = mv_hex(&m, tc, "sender_data_secret", &l2);
    t.mk = mv_hex(&m, tc, "membership_key", &l3);
    t.sig_priv = mv_hex(&m, tc, "signature_priv", &l4);
    t.sig_pub = mv_hex(&m, tc, "signature_pub", &t.sig_pub_len);
    mls_group_context_t gc = {.version = MLS_VERSION_10, .cipher_suite = s->id,
                              .group_id = {gid, gl}, .epoch = epoch, .tree_hash = {th, thl},
                              .confirmed_transcript_hash = {cth, cl}};
    veil_writer_init_growable(&t.gc, 0);
    int ok = gid && th && cth && okn && t.enc_secret && t.sd_secret && t.mk && t.sig_priv &&
             t.sig_pub && l1 == s->nh && l2 == s->nh && l3 == s->nh &&
             mls_group_context_encode(&t.gc, &gc) == 0;
    tap_ok(ok, "message-protection[%zu] suite %u inputs", i, s->id);
    if (ok) {
      check_kind(&m, &t, tc, i, "proposal", MLS_CT_PROPOSAL);
      check_kind(&m, &t, tc, i, "commit", MLS_CT_COMMIT);
      check_kind(&m, &t, tc, i, "application", MLS_CT_APPLICATION);
    }
    veil_writer_free(&t.gc);
    mv_release(&m);
    mv_ran(&m, s);
  }
  return mv_finish(&m);
}
