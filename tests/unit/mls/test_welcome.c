/* Unit tests of Welcome creation and joining (RFC 9420 §12.4.3.1): PSK resolution, the
 * confirmation-tag check, suite binding, and the transcript step a joiner and members
 * share. Known answers are in the welcome and transcript-hashes vectors. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/transcript.h"
#include "clients/lib/mls/welcome.h"

typedef struct fx {
  const mls_suite_t *s;
  uint8_t gid[4], th[32], cth[32], joiner[32], psk_secret[32], tag[32], ref[32];
  uint8_t init_sk[32], init_pk[32], sig_priv[32], sig_pub[32], sig[64];
  veil_writer_t gc, gi;
  mls_group_info_t info;
} fx_t;

/* A GroupInfo for the epoch that joiner_secret (+ psk_secret) and the GroupContext give,
 * with a correct confirmation tag unless `bad_tag`. */
static void fx_init(fx_t *f, const uint8_t *psk_secret, int bad_tag) {
  memset(f, 0, sizeof(*f));
  f->s = mls_suite_get(1);
  memcpy(f->gid, "gid!", 4);
  memset(f->th, 1, 32);
  memset(f->cth, 2, 32);
  memset(f->joiner, 3, 32);
  memset(f->ref, 4, 32);
  cr_assert_eq(hpke_generate_key_pair(HPKE_KEM_X25519_SHA256, f->init_sk, f->init_pk), 0);
  cr_assert_eq(vc_sig_generate(VC_ED25519, f->sig_priv, f->sig_pub), 0);
  mls_group_context_t gc = {.version = MLS_VERSION_10, .cipher_suite = 1,
                            .group_id = {f->gid, 4}, .epoch = 5, .tree_hash = {f->th, 32},
                            .confirmed_transcript_hash = {f->cth, 32}};
  veil_writer_init_growable(&f->gc, 0);
  cr_assert_eq(mls_group_context_encode(&f->gc, &gc), 0);
  mls_epoch_secrets_t e;
  cr_assert_eq(mls_ks_from_joiner(f->s, f->joiner, psk_secret, f->gc.buf, f->gc.len, &e), 0);
  cr_assert_eq(mls_ks_confirmation_tag(&e, f->cth, 32, f->tag), 0);
  mls_epoch_secrets_wipe(&e);
  if (bad_tag)
    f->tag[0] ^= 1;
  f->info = (mls_group_info_t){.group_context = gc, .confirmation_tag = {f->tag, 32}, .signer = 0};
  size_t sl = 0;
  cr_assert_eq(mls_group_info_sign(f->s, &f->info, f->sig_priv, f->sig, &sl), 0);
  f->info.signature = (veil_view_t){f->sig, sl};
  veil_writer_init_growable(&f->gi, 0);
  cr_assert_eq(mls_group_info_encode(&f->gi, &f->info), 0);
}

static void fx_free(fx_t *f) {
  veil_writer_free(&f->gc);
  veil_writer_free(&f->gi);
}

static int create_and_join(fx_t *f, const uint8_t *psk_secret, const mls_list_t *psks,
                           mls_psk_lookup_cb cb, void *arg, mls_welcome_join_t *j) {
  mls_welcome_member_t mem = {.key_package_ref = {f->ref, 32}, .init_key = {f->init_pk, 32}};
  veil_writer_t out;
  veil_writer_init_growable(&out, 0);
  mls_message_t m;
  int rc = mls_welcome_create(f->s, f->gi.buf, f->gi.len, f->joiner, psk_secret, psks, &mem, 1,
                              &out);
  if (rc == 0)
    rc = mls_message_parse(out.buf, out.len, &m);
  if (rc == 0)
    rc = mls_welcome_join(f->s, &m.u.welcome, f->ref, 32, f->init_sk, cb, arg, j);
  veil_writer_free(&out);
  return rc;
}

Test(mls_welcome, join_yields_the_epoch_and_a_verifiable_group_info) {
  fx_t f;
  fx_init(&f, NULL, 0);
  mls_welcome_join_t j;
  cr_assert_eq(create_and_join(&f, NULL, NULL, NULL, NULL, &j), 0);
  cr_assert_eq(mls_group_info_verify(f.s, &j.group_info, f.sig_pub, 32), 0);
  cr_assert_eq(j.group_context.len, f.gc.len);
  cr_assert_eq(memcmp(j.group_context.buf, f.gc.buf, f.gc.len), 0);
  cr_assert_eq(j.group_info.group_context.epoch, 5);
  mls_welcome_join_free(&j);
  fx_free(&f);
}

Test(mls_welcome, rejects_group_info_with_wrong_confirmation_tag) {
  fx_t f;
  fx_init(&f, NULL, 1);
  mls_welcome_join_t j;
  cr_assert_eq(create_and_join(&f, NULL, NULL, NULL, NULL, &j), VEIL_EMLS_CONFIRMATION_TAG);
  fx_free(&f);
}

Test(mls_welcome, rejects_welcome_for_another_key_package) {
  fx_t f;
  fx_init(&f, NULL, 0);
  mls_welcome_member_t mem = {.key_package_ref = {f.ref, 32}, .init_key = {f.init_pk, 32}};
  veil_writer_t out;
  veil_writer_init_growable(&out, 0);
  mls_message_t m;
  mls_welcome_join_t j;
  cr_assert_eq(mls_welcome_create(f.s, f.gi.buf, f.gi.len, f.joiner, NULL, NULL, &mem, 1, &out), 0);
  cr_assert_eq(mls_message_parse(out.buf, out.len, &m), 0);
  uint8_t other[32];
  memset(other, 0x44, 32);
  cr_assert_eq(mls_welcome_join(f.s, &m.u.welcome, other, 32, f.init_sk, NULL, NULL, &j),
               VEIL_ENOTFOUND);
  /* Another init key cannot open the secrets meant for this one. */
  uint8_t sk2[32], pk2[32];
  cr_assert_eq(hpke_generate_key_pair(HPKE_KEM_X25519_SHA256, sk2, pk2), 0);
  cr_assert_eq(mls_welcome_join(f.s, &m.u.welcome, f.ref, 32, sk2, NULL, NULL, &j), VEIL_EAUTH);
  /* A suite-3 joiner refuses a suite-1 Welcome. */
  cr_assert_eq(mls_welcome_join(mls_suite_get(3), &m.u.welcome, f.ref, 32, f.init_sk, NULL, NULL,
                                &j), VEIL_EMLS_SUITE);
  veil_writer_free(&out);
  fx_free(&f);
}

typedef struct psk_store {
  const uint8_t *psk;
  int calls;
} psk_store_t;

static int lookup(void *arg, const mls_psk_id_t *id, const uint8_t **psk, size_t *len) {
  psk_store_t *st = arg;
  st->calls++;
  if (id->psktype != MLS_PSK_EXTERNAL || id->psk_id.len != 3 || memcmp(id->psk_id.ptr, "ext", 3))
    return VEIL_ENOTFOUND;
  *psk = st->psk;
  *len = 32;
  return 0;
}

Test(mls_welcome, join_resolves_every_listed_psk) {
  uint8_t psk[32], nonce[32], psk_secret[32];
  memset(psk, 0x77, 32);
  memset(nonce, 0x66, 32);
  mls_psk_id_t id = {.psktype = MLS_PSK_EXTERNAL, .psk_id = {(const uint8_t *)"ext", 3},
                     .psk_nonce = {nonce, 32}};
  mls_ks_psk_t kp = {&id, psk, 32};
  cr_assert_eq(mls_ks_psk_secret(mls_suite_get(1), &kp, 1, psk_secret), 0);
  veil_writer_t lw;
  veil_writer_init_growable(&lw, 0);
  cr_assert_eq(mls_psk_id_encode(&lw, &id), 0);
  mls_list_t psks = {.raw = {lw.buf, lw.len}, .count = 1};

  fx_t f;
  fx_init(&f, psk_secret, 0);
  mls_welcome_join_t j;
  /* No PSK store: the joiner cannot proceed. */
  cr_assert_eq(create_and_join(&f, psk_secret, &psks, NULL, NULL, &j), VEIL_ENOTFOUND);
  /* The right PSK. */
  psk_store_t st = {psk, 0};
  cr_assert_eq(create_and_join(&f, psk_secret, &psks, lookup, &st, &j), 0);
  cr_assert_eq(st.calls, 1);
  cr_assert_eq(j.group_secrets.psks.count, 1);
  mls_welcome_join_free(&j);
  /* A different PSK value gives another welcome key: the GroupInfo does not open. */
  uint8_t wrong[32];
  memset(wrong, 0x78, 32);
  psk_store_t bad = {wrong, 0};
  cr_assert_eq(create_and_join(&f, psk_secret, &psks, lookup, &bad, &j), VEIL_EAUTH);
  veil_writer_free(&lw);
  fx_free(&f);
}

Test(mls_transcript, refuses_non_commit_content) {
  mls_transcript_t t;
  mls_transcript_init(&t, mls_suite_get(1));
  mls_framed_content_t c;
  memset(&c, 0, sizeof c);
  c.content_type = MLS_CT_PROPOSAL;
  cr_assert_eq(mls_transcript_update_confirmed(&t, MLS_WF_PUBLIC_MESSAGE, &c, (veil_view_t){0}),
               VEIL_EINVAL);
  cr_assert_eq(t.confirmed_len, 0);
}

Test(mls_transcript, interim_hash_binds_the_confirmation_tag) {
  const mls_suite_t *s = mls_suite_get(1);
  mls_transcript_t a, b;
  uint8_t cth[32], tag[32];
  memset(cth, 1, 32);
  memset(tag, 2, 32);
  cr_assert_eq(mls_transcript_set(&a, s, cth, 32, NULL, 0), 0);
  cr_assert_eq(mls_transcript_set(&b, s, cth, 32, NULL, 0), 0);
  cr_assert_eq(mls_transcript_set_interim(&a, tag, 32), 0);
  tag[31] ^= 1;
  cr_assert_eq(mls_transcript_set_interim(&b, tag, 32), 0);
  cr_assert_neq(memcmp(a.interim, b.interim, 32), 0);
  cr_assert_eq(mls_transcript_set(&a, s, cth, 33, NULL, 0), VEIL_EINVAL);
}

static int any_psk(void *arg, const mls_psk_id_t *id, const uint8_t **psk, size_t *len) {
  (void)id;
  *psk = arg;
  *len = 32;
  return 0;
}

Test(mls_welcome, refuses_two_reinit_or_branch_resumption_psks) {
  uint8_t nonce[32], key[32], psk_secret[32];
  memset(nonce, 1, 32);
  memset(key, 2, 32);
  mls_psk_id_t ids[2] = {
      {.psktype = MLS_PSK_RESUMPTION, .usage = MLS_RESUMPTION_REINIT,
       .psk_group_id = {(const uint8_t *)"old", 3}, .psk_epoch = 9, .psk_nonce = {nonce, 32}},
      {.psktype = MLS_PSK_RESUMPTION, .usage = MLS_RESUMPTION_BRANCH,
       .psk_group_id = {(const uint8_t *)"old", 3}, .psk_epoch = 9, .psk_nonce = {nonce, 32}}};
  mls_ks_psk_t kp[2] = {{&ids[0], key, 32}, {&ids[1], key, 32}};
  veil_writer_t lw;
  veil_writer_init_growable(&lw, 0);
  cr_assert_eq(mls_psk_id_encode(&lw, &ids[0]), 0);
  cr_assert_eq(mls_psk_id_encode(&lw, &ids[1]), 0);
  mls_list_t two = {.raw = {lw.buf, lw.len}, .count = 2};
  cr_assert_eq(mls_ks_psk_secret(mls_suite_get(1), kp, 2, psk_secret), 0);
  fx_t f;
  fx_init(&f, psk_secret, 0);
  mls_welcome_join_t j;
  cr_assert_eq(create_and_join(&f, psk_secret, &two, any_psk, key, &j), VEIL_EMLS_PSK);
  fx_free(&f);
  /* One of them alone is accepted. */
  mls_list_t one = {.raw = {lw.buf, lw.len}, .count = 1};
  cr_assert_eq(mls_ks_psk_secret(mls_suite_get(1), kp, 1, psk_secret), 0);
  fx_init(&f, psk_secret, 0);
  one.raw.len = lw.len / 2;
  cr_assert_eq(create_and_join(&f, psk_secret, &one, any_psk, key, &j), 0);
  mls_welcome_join_free(&j);
  veil_writer_free(&lw);
  fx_free(&f);
}
