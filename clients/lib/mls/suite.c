/*
 * veil MLS — ciphersuites and the labelled crypto helpers (RFC 9420 §5, §8).
 *
 * Every labelled structure (KDFLabel, SignContent, EncryptContext, RefHashInput) is written
 * with the common writer. Small ones (the secret tree derives thousands of KDFLabels) go
 * into a stack buffer; anything larger uses a heap buffer sized exactly up front. Both are
 * wiped afterwards: a KDFLabel's context can be a GroupContext, a SignContent can carry a
 * GroupSecrets-bearing structure, and wiping is cheaper than reasoning about which is which.
 */
#include "clients/lib/mls/suite.h"

#include <string.h>

#include "common/bytes.h"

static const char MLS_LABEL_PREFIX[] = "MLS 1.0 ";
#define PREFIX_LEN (sizeof(MLS_LABEL_PREFIX) - 1)

/* §5.1 and §17.1. Nh, Nk, key sizes are fixed by the algorithms chosen. */
static const mls_suite_t SUITES[] = {
    {
        .id = MLS_SUITE_X25519_AES128GCM_SHA256_ED25519,
        .hash = VC_SHA256, .nh = 32,
        .aead = VC_AES_128_GCM, .nk = 16, .nn = 12,
        .hpke = {HPKE_KEM_X25519_SHA256, HPKE_KDF_SHA256, HPKE_AEAD_AES128GCM},
        .hpke_sk_len = 32, .hpke_pk_len = 32,
        .sig = VC_ED25519, .sig_priv_len = 32, .sig_pub_len = 32,
    },
    {
        .id = MLS_SUITE_P256_AES128GCM_SHA256_P256,
        .hash = VC_SHA256, .nh = 32,
        .aead = VC_AES_128_GCM, .nk = 16, .nn = 12,
        .hpke = {HPKE_KEM_P256_SHA256, HPKE_KDF_SHA256, HPKE_AEAD_AES128GCM},
        .hpke_sk_len = 32, .hpke_pk_len = 65,
        .sig = VC_ECDSA_P256_SHA256, .sig_priv_len = 32, .sig_pub_len = 65,
    },
    {
        .id = MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519,
        .hash = VC_SHA256, .nh = 32,
        .aead = VC_CHACHA20_POLY1305, .nk = 32, .nn = 12,
        .hpke = {HPKE_KEM_X25519_SHA256, HPKE_KDF_SHA256, HPKE_AEAD_CHACHA20POLY1305},
        .hpke_sk_len = 32, .hpke_pk_len = 32,
        .sig = VC_ED25519, .sig_priv_len = 32, .sig_pub_len = 32,
    },
};

const mls_suite_t *mls_suite_get(uint16_t id) {
  for (size_t i = 0; i < sizeof(SUITES) / sizeof(SUITES[0]); i++)
    if (SUITES[i].id == id)
      return &SUITES[i];
  return NULL;
}

/* ---- a scratch writer: stack buffer when it fits, exact heap buffer otherwise ------- */

#define SCRATCH_STACK 256

typedef struct scratch {
  uint8_t stack[SCRATCH_STACK];
  veil_writer_t w;
} scratch_t;

static void scratch_init(scratch_t *s, size_t need) {
  if (need <= SCRATCH_STACK)
    veil_writer_init(&s->w, s->stack, sizeof(s->stack));
  else
    veil_writer_init_growable(&s->w, need);
}

static void scratch_free(scratch_t *s) {
  if (s->w.growable)
    veil_writer_free(&s->w); /* wipes */
  else
    vc_wipe(s->stack, s->w.len);
}

/* Encoded size of an opaque<V> of `len` bytes; 0 when len exceeds the MLS varint range. */
static size_t vsize(size_t len) {
  size_t v = veil_varint_size(len);
  return v ? v + len : 0;
}

/* Writes `"MLS 1.0 " + label` as opaque<V>. */
static int write_label(veil_writer_t *w, const char *label, size_t label_len) {
  if (veil_write_varint(w, PREFIX_LEN + label_len) != 0)
    return w->err;
  veil_write_bytes(w, MLS_LABEL_PREFIX, PREFIX_LEN);
  return veil_write_bytes(w, label, label_len);
}

/* The {label<V>, content<V>} pair that SignContent and EncryptContext share (§5.1.2-3). */
static int build_labelled(scratch_t *sc, const char *label, const uint8_t *content,
                          size_t content_len) {
  size_t label_len = strlen(label);
  size_t a = vsize(PREFIX_LEN + label_len), b = vsize(content_len);
  if (!a || !b)
    return VEIL_ERANGE;
  scratch_init(sc, a + b);
  write_label(&sc->w, label, label_len);
  veil_write_vec(&sc->w, VEIL_LEN_VARINT, content, content_len);
  return sc->w.err;
}

/* ---- hashes and MACs ------------------------------------------------------------- */

int mls_hash(const mls_suite_t *s, const uint8_t *in, size_t len, uint8_t *out) {
  if (!s)
    return VEIL_EINVAL;
  return vc_hash(s->hash, in, len, out);
}

int mls_mac(const mls_suite_t *s, const uint8_t *key, size_t key_len, const uint8_t *in,
            size_t len, uint8_t *out) {
  if (!s)
    return VEIL_EINVAL;
  return vc_hmac(s->hash, key, key_len, in, len, out);
}

int mls_mac_verify(const mls_suite_t *s, const uint8_t *key, size_t key_len,
                   const uint8_t *in, size_t len, const uint8_t *tag, size_t tag_len) {
  uint8_t want[MLS_HASH_MAX];
  int rc = mls_mac(s, key, key_len, in, len, want);
  if (rc == 0 && (tag_len != s->nh || !vc_ct_equal(want, tag, s->nh)))
    rc = VEIL_EAUTH;
  vc_wipe(want, sizeof(want));
  return rc;
}

int mls_ref_hash(const mls_suite_t *s, const char *label, const uint8_t *value, size_t len,
                 uint8_t *out) {
  if (!s || !label)
    return VEIL_EINVAL;
  /* RefHashInput: the label is used as given, without the "MLS 1.0 " prefix (§5.2). */
  size_t label_len = strlen(label);
  size_t a = vsize(label_len), b = vsize(len);
  if (!a || !b)
    return VEIL_ERANGE;
  scratch_t sc;
  scratch_init(&sc, a + b);
  veil_write_vec(&sc.w, VEIL_LEN_VARINT, label, label_len);
  veil_write_vec(&sc.w, VEIL_LEN_VARINT, value, len);
  int rc = sc.w.err;
  if (rc == 0)
    rc = vc_hash(s->hash, sc.w.buf, sc.w.len, out);
  scratch_free(&sc);
  return rc;
}

int mls_make_key_package_ref(const mls_suite_t *s, const uint8_t *key_package, size_t len,
                             uint8_t *out) {
  return mls_ref_hash(s, "MLS 1.0 KeyPackage Reference", key_package, len, out);
}

int mls_make_proposal_ref(const mls_suite_t *s, const uint8_t *authenticated_content,
                          size_t len, uint8_t *out) {
  return mls_ref_hash(s, "MLS 1.0 Proposal Reference", authenticated_content, len, out);
}

/* ---- key derivation ----------------------------------------------------------------- */

int mls_extract(const mls_suite_t *s, const uint8_t *salt, size_t salt_len,
                const uint8_t *ikm, size_t ikm_len, uint8_t *out) {
  if (!s)
    return VEIL_EINVAL;
  return vc_hkdf_extract(s->hash, salt, salt_len, ikm, ikm_len, out);
}

int mls_expand_with_label_n(const mls_suite_t *s, const uint8_t *secret, size_t secret_len,
                            const uint8_t *label, size_t label_len, const uint8_t *context,
                            size_t context_len, uint8_t *out, size_t out_len) {
  if (!s || (!label && label_len) || out_len > 0xFFFF || out_len > 255 * s->nh)
    return VEIL_EINVAL;
  size_t a = vsize(PREFIX_LEN + label_len), b = vsize(context_len);
  if (!a || !b)
    return VEIL_ERANGE;
  /* KDFLabel (§8): uint16 length; opaque label<V> = "MLS 1.0 " + Label; context<V>. */
  scratch_t sc;
  scratch_init(&sc, 2 + a + b);
  veil_write_u16(&sc.w, (uint16_t)out_len);
  write_label(&sc.w, (const char *)label, label_len);
  veil_write_vec(&sc.w, VEIL_LEN_VARINT, context, context_len);
  int rc = sc.w.err;
  if (rc == 0)
    rc = vc_hkdf_expand(s->hash, secret, secret_len, sc.w.buf, sc.w.len, out, out_len);
  scratch_free(&sc);
  return rc;
}

int mls_expand_with_label(const mls_suite_t *s, const uint8_t *secret, size_t secret_len,
                          const char *label, const uint8_t *context, size_t context_len,
                          uint8_t *out, size_t out_len) {
  if (!label)
    return VEIL_EINVAL;
  return mls_expand_with_label_n(s, secret, secret_len, (const uint8_t *)label, strlen(label),
                                 context, context_len, out, out_len);
}

int mls_derive_secret(const mls_suite_t *s, const uint8_t *secret, size_t secret_len,
                      const char *label, uint8_t *out) {
  if (!s)
    return VEIL_EINVAL;
  return mls_expand_with_label(s, secret, secret_len, label, NULL, 0, out, s->nh);
}

int mls_derive_tree_secret(const mls_suite_t *s, const uint8_t *secret, size_t secret_len,
                           const char *label, uint32_t generation, uint8_t *out,
                           size_t out_len) {
  uint8_t ctx[4] = {(uint8_t)(generation >> 24), (uint8_t)(generation >> 16),
                    (uint8_t)(generation >> 8), (uint8_t)generation};
  return mls_expand_with_label(s, secret, secret_len, label, ctx, sizeof(ctx), out, out_len);
}

int mls_derive_key_pair(const mls_suite_t *s, const uint8_t *ikm, size_t ikm_len,
                        uint8_t *sk, uint8_t *pk) {
  if (!s)
    return VEIL_EINVAL;
  return hpke_derive_key_pair(s->hpke.kem_id, ikm, ikm_len, sk, pk);
}

/* ---- signatures ------------------------------------------------------------------- */

int mls_sign_with_label(const mls_suite_t *s, const uint8_t *priv, const char *label,
                        const uint8_t *content, size_t content_len, uint8_t *sig,
                        size_t *sig_len) {
  if (!s || !label)
    return VEIL_EINVAL;
  scratch_t sc;
  int rc = build_labelled(&sc, label, content, content_len);
  if (rc == 0)
    rc = vc_sign(s->sig, priv, sc.w.buf, sc.w.len, sig, sig_len);
  scratch_free(&sc);
  return rc;
}

int mls_verify_with_label(const mls_suite_t *s, const uint8_t *pub, size_t pub_len,
                          const char *label, const uint8_t *content, size_t content_len,
                          const uint8_t *sig, size_t sig_len) {
  if (!s || !label)
    return VEIL_EINVAL;
  if (pub_len != s->sig_pub_len)
    return VEIL_EBADKEY;
  scratch_t sc;
  int rc = build_labelled(&sc, label, content, content_len);
  if (rc == 0)
    rc = vc_verify(s->sig, pub, pub_len, sc.w.buf, sc.w.len, sig, sig_len);
  scratch_free(&sc);
  return rc;
}

/* ---- public-key encryption ----------------------------------------------------- */

int mls_encrypt_with_label(const mls_suite_t *s, const uint8_t *pub, size_t pub_len,
                           const char *label, const uint8_t *context, size_t context_len,
                           const uint8_t *pt, size_t pt_len, uint8_t *kem_output,
                           size_t *kem_output_len, uint8_t *ct) {
  if (!s || !label)
    return VEIL_EINVAL;
  if (pub_len != s->hpke_pk_len)
    return VEIL_EBADKEY;
  scratch_t sc;
  int rc = build_labelled(&sc, label, context, context_len);
  if (rc == 0)
    rc = hpke_seal_single(s->hpke, HPKE_MODE_BASE, NULL, pub, pub_len, sc.w.buf, sc.w.len,
                          NULL, 0, pt, pt_len, kem_output, kem_output_len, ct);
  scratch_free(&sc);
  return rc;
}

int mls_decrypt_with_label(const mls_suite_t *s, const uint8_t *priv, const char *label,
                           const uint8_t *context, size_t context_len,
                           const uint8_t *kem_output, size_t kem_output_len,
                           const uint8_t *ct, size_t ct_len, uint8_t *pt) {
  if (!s || !label)
    return VEIL_EINVAL;
  if (ct_len < MLS_AEAD_TAG_LEN)
    return VEIL_EDECODE;
  if (kem_output_len != s->hpke_pk_len)
    return VEIL_EBADKEY;
  scratch_t sc;
  int rc = build_labelled(&sc, label, context, context_len);
  if (rc == 0)
    rc = hpke_open_single(s->hpke, HPKE_MODE_BASE, NULL, kem_output, kem_output_len, priv,
                          sc.w.buf, sc.w.len, NULL, 0, ct, ct_len, pt);
  scratch_free(&sc);
  return rc;
}
