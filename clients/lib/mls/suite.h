/*
 * veil MLS — ciphersuites and the labelled crypto helpers of RFC 9420 §5.
 *
 * A ciphersuite (§5.1, §17.1) maps to the crypto provider (provider.h) and HPKE (hpke.h):
 *   1  MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
 *   2  MLS_128_DHKEMP256_AES128GCM_SHA256_P256
 *   3  MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519
 * Other suites (4–7: X448, P-521, P-384) are not supported: mls_suite_get returns NULL.
 *
 * The suite descriptor is a small read-only public struct (static storage, never freed):
 * callers read the sizes they need (Nh, Nk, Nn, key lengths) directly.
 *
 * Labels are NUL-terminated strings WITHOUT the "MLS 1.0 " prefix; the helpers add it
 * where the RFC says so (every labelled function except RefHash, whose label is used as
 * given, §5.2). Every buffer argument is borrowed for the duration of the call; outputs
 * are caller-owned, sized as documented. Functions return 0 or a negative VEIL_E* code.
 */
#ifndef VEIL_CLIENTS_MLS_SUITE_H
#define VEIL_CLIENTS_MLS_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/crypto/hpke.h"
#include "clients/lib/crypto/provider.h"

#define MLS_SUITE_X25519_AES128GCM_SHA256_ED25519 0x0001
#define MLS_SUITE_P256_AES128GCM_SHA256_P256 0x0002
#define MLS_SUITE_X25519_CHACHA20POLY1305_SHA256_ED25519 0x0003

/* Largest sizes over the supported suites (buffers on the stack). */
#define MLS_HASH_MAX VC_HASH_MAX        /* Nh; 32 for every supported suite */
#define MLS_AEAD_KEY_MAX VC_AEAD_KEY_MAX
#define MLS_AEAD_NONCE_LEN VC_AEAD_NONCE_LEN
#define MLS_AEAD_TAG_LEN VC_AEAD_TAG_LEN
#define MLS_HPKE_SK_MAX HPKE_SK_MAX
#define MLS_HPKE_PK_MAX HPKE_PK_MAX
#define MLS_KEM_OUTPUT_MAX HPKE_ENC_MAX
#define MLS_SIG_PRIV_MAX VC_SIG_PRIV_MAX
#define MLS_SIG_PUB_MAX VC_SIG_PUB_MAX
#define MLS_SIG_MAX VC_SIG_MAX

typedef struct mls_suite {
  uint16_t id;          /* the CipherSuite value on the wire */
  vc_hash_t hash;       /* Hash, KDF (HKDF) and MAC (HMAC) hash */
  size_t nh;            /* KDF.Nh = hash output length */
  vc_aead_t aead;       /* AEAD for PrivateMessage and the secret tree */
  size_t nk;            /* AEAD.Nk */
  size_t nn;            /* AEAD.Nn (12 for all) */
  hpke_suite_t hpke;    /* HPKE (KEM, KDF, AEAD) for EncryptWithLabel and TreeKEM */
  size_t hpke_sk_len;   /* HPKE private key length (Nsk) */
  size_t hpke_pk_len;   /* HPKE public key length (Npk = Nenc) */
  vc_sig_t sig;         /* signature scheme */
  size_t sig_priv_len;  /* signature private key length */
  size_t sig_pub_len;   /* signature public key length */
} mls_suite_t;

/* The descriptor of a supported suite, or NULL (unsupported or unknown id). Static. */
const mls_suite_t *mls_suite_get(uint16_t id);

/* ---- hashes and MACs ------------------------------------------------------------- */
/* Hash(in): writes s->nh bytes. */
int mls_hash(const mls_suite_t *s, const uint8_t *in, size_t len, uint8_t *out);
/* MAC(key, in) = HMAC with the suite hash (§5.1): writes s->nh bytes. */
int mls_mac(const mls_suite_t *s, const uint8_t *key, size_t key_len, const uint8_t *in,
            size_t len, uint8_t *out);
/* Constant-time check of a received MAC against MAC(key, in): 0, or VEIL_EAUTH (also for
 * a tag of the wrong length). */
int mls_mac_verify(const mls_suite_t *s, const uint8_t *key, size_t key_len,
                   const uint8_t *in, size_t len, const uint8_t *tag, size_t tag_len);

/* RefHash(label, value) = Hash(RefHashInput{label<V>, value<V>}) (§5.2); out: s->nh. */
int mls_ref_hash(const mls_suite_t *s, const char *label, const uint8_t *value, size_t len,
                 uint8_t *out);
/* MakeKeyPackageRef / MakeProposalRef (§5.2) over the serialized KeyPackage /
 * AuthenticatedContent; out: s->nh bytes. */
int mls_make_key_package_ref(const mls_suite_t *s, const uint8_t *key_package, size_t len,
                             uint8_t *out);
int mls_make_proposal_ref(const mls_suite_t *s, const uint8_t *authenticated_content,
                          size_t len, uint8_t *out);

/* ---- key derivation (§8) ---------------------------------------------------------- */
/* KDF.Extract(salt, ikm): out s->nh bytes. An empty salt (salt_len 0) is Nh zero bytes. */
int mls_extract(const mls_suite_t *s, const uint8_t *salt, size_t salt_len,
                const uint8_t *ikm, size_t ikm_len, uint8_t *out);
/* ExpandWithLabel(secret, label, context, length) (§8): KDFLabel{uint16 length,
 * "MLS 1.0 "+label <V>, context<V>}; out_len <= 65535 and <= 255 * Nh. */
int mls_expand_with_label(const mls_suite_t *s, const uint8_t *secret, size_t secret_len,
                          const char *label, const uint8_t *context, size_t context_len,
                          uint8_t *out, size_t out_len);
/* The same with a label of arbitrary bytes (MLS-Exporter labels are opaque, §8.5). */
int mls_expand_with_label_n(const mls_suite_t *s, const uint8_t *secret, size_t secret_len,
                            const uint8_t *label, size_t label_len, const uint8_t *context,
                            size_t context_len, uint8_t *out, size_t out_len);
/* DeriveSecret(secret, label) = ExpandWithLabel(secret, label, "", Nh); out: s->nh. */
int mls_derive_secret(const mls_suite_t *s, const uint8_t *secret, size_t secret_len,
                      const char *label, uint8_t *out);
/* DeriveTreeSecret(secret, label, generation, length) (§9):
 * ExpandWithLabel(secret, label, uint32 generation, length). */
int mls_derive_tree_secret(const mls_suite_t *s, const uint8_t *secret, size_t secret_len,
                           const char *label, uint32_t generation, uint8_t *out,
                           size_t out_len);
/* HPKE DeriveKeyPair(ikm) for the suite's KEM (§7.4 "node_priv, node_pub =
 * KEM.DeriveKeyPair(node_secret)"): sk s->hpke_sk_len, pk s->hpke_pk_len bytes. */
int mls_derive_key_pair(const mls_suite_t *s, const uint8_t *ikm, size_t ikm_len,
                        uint8_t *sk, uint8_t *pk);

/* ---- signatures (§5.1.2) ---------------------------------------------------------- */
/* SignWithLabel: signs SignContent{"MLS 1.0 "+label <V>, content<V>}. sig: MLS_SIG_MAX
 * bytes of room; *sig_len receives the length. */
int mls_sign_with_label(const mls_suite_t *s, const uint8_t *priv, const char *label,
                        const uint8_t *content, size_t content_len, uint8_t *sig,
                        size_t *sig_len);
/* VerifyWithLabel: 0 when valid, VEIL_EVERIFY when not, VEIL_EBADKEY for a bad key. */
int mls_verify_with_label(const mls_suite_t *s, const uint8_t *pub, size_t pub_len,
                          const char *label, const uint8_t *content, size_t content_len,
                          const uint8_t *sig, size_t sig_len);

/* ---- public-key encryption (§5.1.3) --------------------------------------------- */
/* EncryptWithLabel(pub, label, context, pt) = SealBase(pub, EncryptContext{"MLS 1.0 "+
 * label <V>, context<V>}, "", pt). kem_output: s->hpke_pk_len bytes (*kem_output_len set);
 * ct: pt_len + MLS_AEAD_TAG_LEN bytes. */
int mls_encrypt_with_label(const mls_suite_t *s, const uint8_t *pub, size_t pub_len,
                           const char *label, const uint8_t *context, size_t context_len,
                           const uint8_t *pt, size_t pt_len, uint8_t *kem_output,
                           size_t *kem_output_len, uint8_t *ct);
/* DecryptWithLabel: pt receives ct_len - MLS_AEAD_TAG_LEN bytes; VEIL_EAUTH when the
 * ciphertext does not open, VEIL_EDECODE when ct_len < the tag length. */
int mls_decrypt_with_label(const mls_suite_t *s, const uint8_t *priv, const char *label,
                           const uint8_t *context, size_t context_len,
                           const uint8_t *kem_output, size_t kem_output_len,
                           const uint8_t *ct, size_t ct_len, uint8_t *pt);

#endif
