/*
 * RFC 9180 known-answer tests over ../shared/vectors/hpke (the upstream test-vectors.json
 * filtered to KEMs 0x0010/0x0020, README.md there). Per entry: DeriveKeyPair for every
 * ikm, Encap/AuthEncap with the vector's ephemeral ikm, Decap/AuthDecap, setup on both
 * sides (enc, key, base_nonce, exporter_secret), every encryption sealed AND opened in
 * sequence (nonce = base_nonce XOR seq, seq advancing by one per message), and every
 * export from both contexts. Entries of other KEMs are skipped and counted.
 *
 * Links the configured backend (veilclient_dep), so the same runner checks both providers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/hpke.h"
#include "vjson.h"

#define REL "hpke/rfc9180-test-vectors-filtered.json"

typedef struct buf {
  uint8_t *p;
  size_t n;
} buf_t;

static buf_t hexf(const vj_t *o, const char *k) {
  buf_t b = {NULL, 0};
  b.p = vj_hex(o, k, &b.n);
  return b;
}

static const char *mode_name(uint64_t m) {
  static const char *names[] = {"base", "psk", "auth", "auth_psk"};
  return m < 4 ? names[m] : "?";
}

static unsigned n_enc_checked, n_exp_checked;

/* DeriveKeyPair(ikm) must give the vector's sk and pk. */
static int check_dkp(uint16_t kem, const vj_t *e, const char *ikm_k, const char *sk_k,
                     const char *pk_k, uint8_t *sk, uint8_t *pk) {
  buf_t ikm = hexf(e, ikm_k), wsk = hexf(e, sk_k), wpk = hexf(e, pk_k);
  int ok = ikm.p && wsk.p && wpk.p;
  if (ok) {
    int rc = hpke_derive_key_pair(kem, ikm.p, ikm.n, sk, pk);
    if (rc) tap_diag("DeriveKeyPair(%s): %s", ikm_k, veil_strerror(rc));
    ok = rc == 0 && tap_bytes_eq(sk_k, sk, hpke_kem_nsk(kem), wsk.p, wsk.n) &&
         tap_bytes_eq(pk_k, pk, hpke_kem_npk(kem), wpk.p, wpk.n);
  }
  free(ikm.p);
  free(wsk.p);
  free(wpk.p);
  return ok;
}

static int ctx_matches(const hpke_ctx_t *c, const buf_t *key, const buf_t *nonce,
                       const buf_t *exp) {
  /* export-only suites have no key/base_nonce in the vectors (not in this filtered file). */
  return tap_bytes_eq("key", c->key, c->key_len, key->p, key->n) &&
         tap_bytes_eq("base_nonce", c->base_nonce, VC_AEAD_NONCE_LEN, nonce->p, nonce->n) &&
         tap_bytes_eq("exporter_secret", c->exporter_secret, c->exporter_len, exp->p, exp->n);
}

/* Every encryption in order: the expected nonce is recomputed independently, the sender
 * seals to exactly ct, the receiver opens to exactly pt, and both seq counters advance by
 * one per message. The first message is also opened once tampered: EAUTH, seq unchanged. */
static int check_encryptions(const vj_t *e, hpke_ctx_t *s, hpke_ctx_t *r, const buf_t *base) {
  const vj_t *arr = vj_get(e, "encryptions");
  size_t n = vj_size(arr);
  int ok = n > 0;
  for (size_t i = 0; ok && i < n; i++) {
    const vj_t *x = vj_at(arr, i);
    buf_t aad = hexf(x, "aad"), ct = hexf(x, "ct"), pt = hexf(x, "pt"), nonce = hexf(x, "nonce");
    uint8_t *out = malloc(ct.n + pt.n + VC_AEAD_TAG_LEN + 1);
    ok = aad.p && ct.p && pt.p && nonce.p && out && ct.n == pt.n + VC_AEAD_TAG_LEN;
    if (ok) {
      uint8_t want_nonce[VC_AEAD_NONCE_LEN];
      memcpy(want_nonce, base->p, VC_AEAD_NONCE_LEN);
      for (int b = 0; b < 8; b++) want_nonce[VC_AEAD_NONCE_LEN - 1 - b] ^= (uint8_t)(i >> (8 * b));
      ok = tap_bytes_eq("nonce (base_nonce ^ seq)", want_nonce, sizeof(want_nonce), nonce.p,
                        nonce.n) &&
           s->seq == i && r->seq == i;
      if (!ok) tap_diag("encryption %zu: seq %llu/%llu", i, (unsigned long long)s->seq,
                        (unsigned long long)r->seq);
    }
    if (ok) {
      int rc = hpke_seal(s, aad.p, aad.n, pt.p, pt.n, out);
      ok = rc == 0 && s->seq == i + 1 && tap_bytes_eq("ct", out, ct.n, ct.p, ct.n);
      if (rc) tap_diag("seal %zu: %s", i, veil_strerror(rc));
    }
    if (ok && i == 0) {
      ct.p[0] ^= 0x01;
      int rc = hpke_open(r, aad.p, aad.n, ct.p, ct.n, out);
      ct.p[0] ^= 0x01;
      ok = rc == VEIL_EAUTH && r->seq == 0;
      if (!ok) tap_diag("tampered open: %s, seq %llu", veil_strerror(rc),
                        (unsigned long long)r->seq);
    }
    if (ok) {
      int rc = hpke_open(r, aad.p, aad.n, ct.p, ct.n, out);
      ok = rc == 0 && r->seq == i + 1 && tap_bytes_eq("pt", out, pt.n, pt.p, pt.n);
      if (rc) tap_diag("open %zu: %s", i, veil_strerror(rc));
    }
    if (ok) n_enc_checked++;
    else tap_diag("encryption %zu failed", i);
    free(aad.p);
    free(ct.p);
    free(pt.p);
    free(nonce.p);
    free(out);
  }
  return ok;
}

static int check_exports(const vj_t *e, const hpke_ctx_t *s, const hpke_ctx_t *r) {
  const vj_t *arr = vj_get(e, "exports");
  size_t n = vj_size(arr);
  int ok = n > 0;
  for (size_t i = 0; ok && i < n; i++) {
    const vj_t *x = vj_at(arr, i);
    int lok = 0;
    uint64_t L = vj_u64(x, "L", &lok);
    buf_t c = hexf(x, "exporter_context"), v = hexf(x, "exported_value");
    uint8_t *o1 = malloc(L + 1), *o2 = malloc(L + 1);
    ok = lok && c.p && v.p && o1 && o2 && hpke_export(s, c.p, c.n, o1, L) == 0 &&
         hpke_export(r, c.p, c.n, o2, L) == 0 && tap_bytes_eq("export (sender)", o1, L, v.p, v.n) &&
         tap_bytes_eq("export (receiver)", o2, L, v.p, v.n);
    if (ok) n_exp_checked++;
    free(c.p);
    free(v.p);
    free(o1);
    free(o2);
  }
  return ok;
}

static void run_entry(const vj_t *e, size_t idx) {
  int ok_m, ok_k, ok_d, ok_a;
  uint64_t mode = vj_u64(e, "mode", &ok_m);
  hpke_suite_t su = {(uint16_t)vj_u64(e, "kem_id", &ok_k), (uint16_t)vj_u64(e, "kdf_id", &ok_d),
                     (uint16_t)vj_u64(e, "aead_id", &ok_a)};
  char name[96];
  snprintf(name, sizeof(name), "entry %zu: mode %s kem 0x%04x kdf 0x%04x aead 0x%04x", idx,
           mode_name(mode), su.kem_id, su.kdf_id, su.aead_id);
  int auth = mode == HPKE_MODE_AUTH || mode == HPKE_MODE_AUTH_PSK;
  int psk = mode == HPKE_MODE_PSK || mode == HPKE_MODE_AUTH_PSK;

  uint8_t skR[HPKE_SK_MAX], pkR[HPKE_PK_MAX], skE[HPKE_SK_MAX], pkE[HPKE_PK_MAX];
  uint8_t skS[HPKE_SK_MAX], pkS[HPKE_PK_MAX];
  size_t npk = hpke_kem_npk(su.kem_id);
  tap_ok(check_dkp(su.kem_id, e, "ikmR", "skRm", "pkRm", skR, pkR) &&
             check_dkp(su.kem_id, e, "ikmE", "skEm", "pkEm", skE, pkE) &&
             (!auth || check_dkp(su.kem_id, e, "ikmS", "skSm", "pkSm", skS, pkS)),
         "%s: DeriveKeyPair(ikmR, ikmE%s)", name, auth ? ", ikmS" : "");

  buf_t ikmE = hexf(e, "ikmE"), enc_w = hexf(e, "enc"), ss_w = hexf(e, "shared_secret");
  buf_t info = hexf(e, "info"), key = hexf(e, "key"), base = hexf(e, "base_nonce");
  buf_t exps = hexf(e, "exporter_secret");
  buf_t psk_b = {NULL, 0}, psk_id = {NULL, 0};
  if (psk) {
    psk_b = hexf(e, "psk");
    psk_id = hexf(e, "psk_id");
  }

  /* KEM alone: Encap with the vector's ephemeral ikm, then Decap. */
  uint8_t ss[HPKE_SECRET_MAX], enc[HPKE_ENC_MAX];
  size_t enc_len = 0;
  int rc = hpke_encap(su.kem_id, pkR, npk, auth ? skS : NULL, ikmE.p, ikmE.n, ss, enc, &enc_len);
  tap_ok(rc == 0 && tap_bytes_eq("enc", enc, enc_len, enc_w.p, enc_w.n) &&
             tap_bytes_eq("shared_secret", ss, sizeof(ss), ss_w.p, ss_w.n),
         "%s: %s -> enc, shared_secret", name, auth ? "AuthEncap" : "Encap");
  memset(ss, 0, sizeof(ss));
  rc = hpke_decap(su.kem_id, enc_w.p, enc_w.n, skR, auth ? pkS : NULL, auth ? npk : 0, ss);
  tap_ok(rc == 0 && tap_bytes_eq("shared_secret", ss, sizeof(ss), ss_w.p, ss_w.n),
         "%s: %s -> shared_secret", name, auth ? "AuthDecap" : "Decap");

  /* Full setup on both sides. */
  hpke_mode_params_t ps = {0}, pr = {0};
  if (psk) {
    ps.psk = pr.psk = psk_b.p;
    ps.psk_len = pr.psk_len = psk_b.n;
    ps.psk_id = pr.psk_id = psk_id.p;
    ps.psk_id_len = pr.psk_id_len = psk_id.n;
  }
  if (auth) {
    ps.sender_sk = skS;
    pr.sender_pk = pkS;
    pr.sender_pk_len = npk;
  }
  hpke_ctx_t s, r;
  memset(&s, 0, sizeof(s));
  memset(&r, 0, sizeof(r));
  int rs = hpke_setup_sender(&s, su, (hpke_mode_t)mode, pkR, npk, info.p, info.n, &ps, ikmE.p,
                             ikmE.n, enc, &enc_len);
  if (rs) tap_diag("setup_sender: %s", veil_strerror(rs));
  tap_ok(rs == 0 && tap_bytes_eq("enc", enc, enc_len, enc_w.p, enc_w.n) &&
             ctx_matches(&s, &key, &base, &exps),
         "%s: SetupS -> enc, key, base_nonce, exporter_secret", name);
  int rr = hpke_setup_receiver(&r, su, (hpke_mode_t)mode, enc_w.p, enc_w.n, skR, info.p, info.n,
                               &pr);
  if (rr) tap_diag("setup_receiver: %s", veil_strerror(rr));
  tap_ok(rr == 0 && ctx_matches(&r, &key, &base, &exps),
         "%s: SetupR -> key, base_nonce, exporter_secret", name);

  unsigned before = n_enc_checked;
  int enc_ok = rs == 0 && rr == 0 && base.p && base.n == VC_AEAD_NONCE_LEN &&
               check_encryptions(e, &s, &r, &base);
  tap_ok(enc_ok, "%s: %zu encryptions sealed and opened in sequence (%u ok)", name,
         vj_size(vj_get(e, "encryptions")), n_enc_checked - before);
  tap_ok(rs == 0 && rr == 0 && check_exports(e, &s, &r), "%s: %zu exports (both sides)", name,
         vj_size(vj_get(e, "exports")));

  hpke_ctx_wipe(&s);
  hpke_ctx_wipe(&r);
  buf_t *all[] = {&ikmE, &enc_w, &ss_w, &info, &key, &base, &exps, &psk_b, &psk_id};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) free(all[i]->p);
}

int main(void) {
  char path[4096];
  if (!vj_vector_path(REL, path, sizeof(path))) return tap_skip_all("vectors folder absent");
  vj_t *root = vj_parse_file(path);
  if (!root || root->type != VJ_ARR) {
    tap_ok(0, "parse %s", path);
    vj_free(root);
    return tap_done();
  }
  tap_diag("backend: %s", vc_backend_name());
  size_t ran = 0, skipped = 0;
  for (size_t i = 0; i < vj_size(root); i++) {
    const vj_t *e = vj_at(root, i);
    int ok = 0;
    uint64_t kem = vj_u64(e, "kem_id", &ok);
    if (!ok || (kem != HPKE_KEM_P256_SHA256 && kem != HPKE_KEM_X25519_SHA256)) {
      tap_skip("entry %zu: kem_id %llu is not one of veil's KEMs (0x0010, 0x0020)", i,
               (unsigned long long)kem);
      skipped++;
      continue;
    }
    run_entry(e, i);
    ran++;
  }
  tap_diag("%s: %zu entries ran, %zu skipped (other KEMs); %u encryptions and %u exports "
           "checked",
           REL, ran, skipped, n_enc_checked, n_exp_checked);
  tap_ok(ran > 0, "at least one entry ran");
  vj_free(root);
  return tap_done();
}
