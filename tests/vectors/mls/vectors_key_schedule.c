/*
 * RFC 9420 key-schedule vectors (§8): for 5 consecutive epochs per suite, the
 * GroupContext (built with the codec: epoch i, empty extensions), joiner/welcome/init
 * secrets, every Table 4 secret, external_pub = DeriveKeyPair(external_secret).pk, and
 * one MLS-Exporter output. Each epoch starts from the init_secret this code derived for
 * the previous one, so an error anywhere propagates.
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/key_schedule.h"
#include "mls_vec.h"

static int eq_member(mv_t *m, const vj_t *o, const char *key, const uint8_t *got, size_t len) {
  size_t wl;
  uint8_t *want = mv_hex(m, o, key, &wl);
  return want && tap_bytes_eq(key, got, len, want, wl);
}

static int check_epoch(mv_t *m, const mls_suite_t *s, const vj_t *ep, uint64_t epoch,
                       veil_view_t group_id, uint8_t *init_secret) {
  size_t thl, csl, pl, cthl;
  uint8_t *th = mv_hex(m, ep, "tree_hash", &thl), *cs = mv_hex(m, ep, "commit_secret", &csl);
  uint8_t *psk = mv_hex(m, ep, "psk_secret", &pl);
  uint8_t *cth = mv_hex(m, ep, "confirmed_transcript_hash", &cthl);
  if (!th || !cs || !psk || !cth || csl != s->nh || pl != s->nh)
    return 0;
  mls_group_context_t gc = {
      .version = MLS_VERSION_10, .cipher_suite = s->id, .group_id = group_id, .epoch = epoch,
      .tree_hash = {th, thl}, .confirmed_transcript_hash = {cth, cthl},
      .extensions = {{NULL, 0}, 0}};
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int ok = mls_group_context_encode(&w, &gc) == 0 &&
           eq_member(m, ep, "group_context", w.buf, w.len);
  mls_epoch_secrets_t e;
  uint8_t joiner[MLS_HASH_MAX];
  ok = ok && mls_ks_advance(s, init_secret, cs, psk, w.buf, w.len, &e, joiner) == 0;
  veil_writer_free(&w);
  if (!ok)
    return 0;
  size_t nh = s->nh;
  ok = eq_member(m, ep, "joiner_secret", joiner, nh) &&
       eq_member(m, ep, "welcome_secret", e.welcome_secret, nh) &&
       eq_member(m, ep, "init_secret", e.init_secret, nh) &&
       eq_member(m, ep, "sender_data_secret", e.sender_data_secret, nh) &&
       eq_member(m, ep, "encryption_secret", e.encryption_secret, nh) &&
       eq_member(m, ep, "exporter_secret", e.exporter_secret, nh) &&
       eq_member(m, ep, "epoch_authenticator", e.epoch_authenticator, nh) &&
       eq_member(m, ep, "external_secret", e.external_secret, nh) &&
       eq_member(m, ep, "confirmation_key", e.confirmation_key, nh) &&
       eq_member(m, ep, "membership_key", e.membership_key, nh) &&
       eq_member(m, ep, "resumption_psk", e.resumption_psk, nh);
  uint8_t priv[MLS_HPKE_SK_MAX], pub[MLS_HPKE_PK_MAX];
  ok = ok && mls_ks_external_key_pair(&e, priv, pub) == 0 &&
       eq_member(m, ep, "external_pub", pub, s->hpke_pk_len);
  const vj_t *ex = vj_get(ep, "exporter");
  size_t cl;
  int okl = 0;
  /* The exporter label is used as the text of the JSON string (it happens to look like
   * hex): the upstream generator passes it as a string label; the context is hex. */
  const char *label = vj_str(ex, "label");
  size_t ll = label ? strlen(label) : 0;
  uint8_t *ctx = mv_hex(m, ex, "context", &cl);
  uint64_t length = vj_u64(ex, "length", &okl);
  uint8_t *out = mv_keep(m, malloc(length + 1));
  ok = ok && label && ctx && okl && out &&
       mls_ks_export(&e, (const uint8_t *)label, ll, ctx, cl, out, length) == 0 &&
       eq_member(m, ex, "secret", out, length);
  memcpy(init_secret, e.init_secret, nh);
  mls_epoch_secrets_wipe(&e);
  vc_wipe(priv, sizeof(priv));
  return ok;
}

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "key-schedule.json");
  if (rc)
    return rc;
  for (size_t i = 0; i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    size_t gl, il;
    uint8_t *gid = mv_hex(&m, tc, "group_id", &gl);
    uint8_t *init0 = mv_hex(&m, tc, "initial_init_secret", &il);
    uint8_t init[MLS_HASH_MAX];
    int ok = gid && init0 && il == s->nh;
    if (ok)
      memcpy(init, init0, il);
    const vj_t *epochs = vj_get(tc, "epochs");
    for (size_t ep = 0; ok && ep < vj_size(epochs); ep++) {
      int okep = check_epoch(&m, s, vj_at(epochs, ep), ep, (veil_view_t){gid, gl}, init);
      tap_ok(okep, "key-schedule[%zu] suite %u epoch %zu", i, s->id, ep);
      ok = okep;
    }
    if (!ok || vj_size(epochs) == 0)
      tap_ok(0, "key-schedule[%zu] suite %u: not every epoch checked", i, s->id);
    mv_release(&m);
    mv_ran(&m, s);
  }
  return mv_finish(&m);
}
