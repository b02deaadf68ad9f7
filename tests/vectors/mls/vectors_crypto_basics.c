/*
 * RFC 9420 crypto-basics vectors (mlswg test-vectors.md, "Crypto Basics"): RefHash,
 * ExpandWithLabel, DeriveSecret, DeriveTreeSecret, SignWithLabel/VerifyWithLabel and
 * EncryptWithLabel/DecryptWithLabel, on the configured crypto backend.
 */
#include <string.h>

#include "mls_vec.h"

static void check_ref_hash(mv_t *m, const mls_suite_t *s, const vj_t *o, size_t i) {
  size_t vl, ol;
  const char *label = vj_str(o, "label");
  uint8_t *value = mv_hex(m, o, "value", &vl), *want = mv_hex(m, o, "out", &ol);
  uint8_t out[MLS_HASH_MAX];
  int ok = label && value && want && mls_ref_hash(s, label, value, vl, out) == 0 &&
           tap_bytes_eq("ref_hash", out, s->nh, want, ol);
  tap_ok(ok, "crypto-basics[%zu] suite %u ref_hash", i, s->id);
}

static void check_expand(mv_t *m, const mls_suite_t *s, const vj_t *o, size_t i) {
  size_t sl, cl, ol;
  int okn = 0;
  const char *label = vj_str(o, "label");
  uint64_t length = vj_u64(o, "length", &okn);
  uint8_t *secret = mv_hex(m, o, "secret", &sl), *ctx = mv_hex(m, o, "context", &cl);
  uint8_t *want = mv_hex(m, o, "out", &ol);
  uint8_t *out = mv_keep(m, malloc(length + 1));
  int ok = okn && label && secret && ctx && want && out &&
           mls_expand_with_label(s, secret, sl, label, ctx, cl, out, length) == 0 &&
           tap_bytes_eq("expand_with_label", out, length, want, ol);
  tap_ok(ok, "crypto-basics[%zu] suite %u expand_with_label", i, s->id);
}

static void check_derive_secret(mv_t *m, const mls_suite_t *s, const vj_t *o, size_t i) {
  size_t sl, ol;
  const char *label = vj_str(o, "label");
  uint8_t *secret = mv_hex(m, o, "secret", &sl), *want = mv_hex(m, o, "out", &ol);
  uint8_t out[MLS_HASH_MAX];
  int ok = label && secret && want && mls_derive_secret(s, secret, sl, label, out) == 0 &&
           tap_bytes_eq("derive_secret", out, s->nh, want, ol);
  tap_ok(ok, "crypto-basics[%zu] suite %u derive_secret", i, s->id);
}

static void check_tree_secret(mv_t *m, const mls_suite_t *s, const vj_t *o, size_t i) {
  size_t sl, ol;
  int ok1 = 0, ok2 = 0;
  const char *label = vj_str(o, "label");
  uint64_t gen = vj_u64(o, "generation", &ok1), length = vj_u64(o, "length", &ok2);
  uint8_t *secret = mv_hex(m, o, "secret", &sl), *want = mv_hex(m, o, "out", &ol);
  uint8_t *out = mv_keep(m, malloc(length + 1));
  int ok = ok1 && ok2 && gen <= UINT32_MAX && label && secret && want && out &&
           mls_derive_tree_secret(s, secret, sl, label, (uint32_t)gen, out, length) == 0 &&
           tap_bytes_eq("derive_tree_secret", out, length, want, ol);
  tap_ok(ok, "crypto-basics[%zu] suite %u derive_tree_secret", i, s->id);
}

static void check_sign(mv_t *m, const mls_suite_t *s, const vj_t *o, size_t i) {
  size_t pl, ql, cl, gl;
  const char *label = vj_str(o, "label");
  uint8_t *priv = mv_hex(m, o, "priv", &pl), *pub = mv_hex(m, o, "pub", &ql);
  uint8_t *content = mv_hex(m, o, "content", &cl), *sig = mv_hex(m, o, "signature", &gl);
  int ok = label && priv && pub && content && sig && pl == s->sig_priv_len;
  /* The given signature verifies, ... */
  ok = ok && mls_verify_with_label(s, pub, ql, label, content, cl, sig, gl) == 0;
  tap_ok(ok, "crypto-basics[%zu] suite %u verify_with_label(given)", i, s->id);
  /* ... a fresh one does too, ... */
  uint8_t fresh[MLS_SIG_MAX];
  size_t fl = 0;
  int ok2 = label && priv && content &&
            mls_sign_with_label(s, priv, label, content, cl, fresh, &fl) == 0 &&
            mls_verify_with_label(s, pub, ql, label, content, cl, fresh, fl) == 0;
  tap_ok(ok2, "crypto-basics[%zu] suite %u sign_with_label(fresh) verifies", i, s->id);
  /* ... and neither verifies under another label (the label is bound). */
  int ok3 = ok && mls_verify_with_label(s, pub, ql, "OtherLabel", content, cl, sig, gl) ==
                      VEIL_EVERIFY;
  tap_ok(ok3, "crypto-basics[%zu] suite %u signature rejected under another label", i, s->id);
}

static void check_encrypt(mv_t *m, const mls_suite_t *s, const vj_t *o, size_t i) {
  size_t pl, ql, cl, tl, kl, xl;
  const char *label = vj_str(o, "label");
  uint8_t *priv = mv_hex(m, o, "priv", &pl), *pub = mv_hex(m, o, "pub", &ql);
  uint8_t *ctx = mv_hex(m, o, "context", &cl), *pt = mv_hex(m, o, "plaintext", &tl);
  uint8_t *kem = mv_hex(m, o, "kem_output", &kl), *ct = mv_hex(m, o, "ciphertext", &xl);
  int have = label && priv && pub && ctx && pt && kem && ct && xl >= MLS_AEAD_TAG_LEN;
  uint8_t *out = mv_keep(m, malloc(xl + 1));
  int ok = have && out &&
           mls_decrypt_with_label(s, priv, label, ctx, cl, kem, kl, ct, xl, out) == 0 &&
           tap_bytes_eq("decrypt_with_label", out, xl - MLS_AEAD_TAG_LEN, pt, tl);
  tap_ok(ok, "crypto-basics[%zu] suite %u decrypt_with_label(given)", i, s->id);

  uint8_t fresh_kem[MLS_KEM_OUTPUT_MAX];
  size_t fkl = 0;
  uint8_t *fct = mv_keep(m, malloc(tl + MLS_AEAD_TAG_LEN)), *fpt = mv_keep(m, malloc(tl + 1));
  int ok2 = have && fct && fpt &&
            mls_encrypt_with_label(s, pub, ql, label, ctx, cl, pt, tl, fresh_kem, &fkl, fct) ==
                0 &&
            mls_decrypt_with_label(s, priv, label, ctx, cl, fresh_kem, fkl, fct,
                                   tl + MLS_AEAD_TAG_LEN, fpt) == 0 &&
            tap_bytes_eq("round trip", fpt, tl, pt, tl);
  tap_ok(ok2, "crypto-basics[%zu] suite %u encrypt_with_label(fresh) round trip", i, s->id);

  /* A different context must not open (EncryptContext binds it). */
  int ok3 = have && out && cl > 0;
  if (ok3) {
    ctx[0] ^= 1;
    ok3 = mls_decrypt_with_label(s, priv, label, ctx, cl, kem, kl, ct, xl, out) == VEIL_EAUTH;
    ctx[0] ^= 1;
  }
  tap_ok(ok3, "crypto-basics[%zu] suite %u decrypt fails under another context", i, s->id);
}

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "crypto-basics.json");
  if (rc)
    return rc;
  for (size_t i = 0; i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    check_ref_hash(&m, s, vj_get(tc, "ref_hash"), i);
    check_expand(&m, s, vj_get(tc, "expand_with_label"), i);
    check_derive_secret(&m, s, vj_get(tc, "derive_secret"), i);
    check_tree_secret(&m, s, vj_get(tc, "derive_tree_secret"), i);
    check_sign(&m, s, vj_get(tc, "sign_with_label"), i);
    check_encrypt(&m, s, vj_get(tc, "encrypt_with_label"), i);
    mv_release(&m);
    mv_ran(&m, s);
  }
  return mv_finish(&m);
}
