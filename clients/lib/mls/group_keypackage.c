/*
 * veil MLS group — LeafNodes and KeyPackages of this member (RFC 9420 §7.2, §10).
 */
#include "clients/lib/mls/group_internal.h"

#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/credential.h"

/* What this implementation supports, announced in every LeafNode (§7.2): protocol
 * version mls10, the group's suite, both credential types. Default extension and
 * proposal types need no listing (§7.2). */
static void own_capabilities(const mls_suite_t *s, uint8_t buf[8], mls_capabilities_t *c) {
  buf[0] = 0, buf[1] = MLS_VERSION_10;
  buf[2] = (uint8_t)(s->id >> 8), buf[3] = (uint8_t)s->id;
  buf[4] = 0, buf[5] = MLS_CRED_BASIC;
  buf[6] = 0, buf[7] = MLS_CRED_X509;
  *c = (mls_capabilities_t){
      .versions = {{buf, 2}, 1},
      .cipher_suites = {{buf + 2, 2}, 1},
      .credentials = {{buf + 4, 4}, 2},
  };
}

/* Builds and signs a LeafNode (§7.2). group_id/leaf_index only enter the signature of the
 * update and commit sources. Writes the encoding to `out`. */
int grp_make_leaf_node(const mls_suite_t *s, const mls_credential_t *cred, veil_view_t sig_pub,
                       veil_view_t enc_pub, uint8_t source, mls_lifetime_t lifetime,
                       veil_view_t parent_hash, veil_view_t group_id, uint32_t leaf_index,
                       const uint8_t *sig_priv, veil_writer_t *out) {
  uint8_t capbuf[8], sig[MLS_SIG_MAX];
  size_t sig_len = 0;
  mls_leaf_node_t ln = {
      .encryption_key = enc_pub,
      .signature_key = sig_pub,
      .credential = *cred,
      .source = source,
      .lifetime = lifetime,
      .parent_hash = parent_hash,
  };
  own_capabilities(s, capbuf, &ln.capabilities);
  int rc = mls_credential_check_key(s->id, cred, sig_pub);
  if (rc)
    return rc;
  veil_writer_t tbs;
  veil_writer_init_growable(&tbs, 0);
  rc = mls_leaf_node_encode_tbs(&tbs, &ln, group_id, leaf_index);
  if (rc == 0)
    rc = mls_sign_with_label(s, sig_priv, "LeafNodeTBS", tbs.buf, tbs.len, sig, &sig_len);
  veil_writer_free(&tbs);
  if (rc)
    return rc;
  ln.signature = (veil_view_t){sig, sig_len};
  return mls_leaf_node_encode(out, &ln);
}

/* The new LeafNode of a Commit or Update sent by this member: its current leaf with a new
 * encryption key and source (§12.1.2, §12.4.2), keeping its credential, capabilities and
 * extensions as they were (they may carry values this client does not interpret, such as
 * GREASE, §13.5), signed over the group id and leaf index. */
int grp_remake_own_leaf(const mls_group_t *g, const mls_tree_t *tree, veil_view_t enc_pub,
                        uint8_t source, veil_view_t parent_hash, veil_writer_t *out) {
  const mls_leaf_node_t *old = mls_tree_leaf(tree, g->priv.leaf_index);
  if (!old)
    return VEIL_EMLS_OWN_LEAF;
  mls_leaf_node_t ln = *old;
  ln.encryption_key = enc_pub;
  ln.source = source;
  ln.lifetime = (mls_lifetime_t){0, 0};
  ln.parent_hash = parent_hash;
  uint8_t sig[MLS_SIG_MAX];
  size_t sig_len = 0;
  veil_writer_t tbs;
  veil_writer_init_growable(&tbs, 0);
  int rc = mls_leaf_node_encode_tbs(&tbs, &ln, (veil_view_t){g->group_id, g->group_id_len},
                                    g->priv.leaf_index);
  if (rc == 0)
    rc = mls_sign_with_label(g->suite, g->sig_priv, "LeafNodeTBS", tbs.buf, tbs.len, sig,
                             &sig_len);
  veil_writer_free(&tbs);
  if (rc)
    return rc;
  ln.signature = (veil_view_t){sig, sig_len};
  return mls_leaf_node_encode(out, &ln);
}

static int kp_sign_and_encode(const mls_suite_t *s, mls_key_package_t *kp, const uint8_t *priv,
                              veil_writer_t *out) {
  uint8_t sig[MLS_SIG_MAX];
  size_t sig_len = 0;
  veil_writer_t tbs;
  veil_writer_init_growable(&tbs, 0);
  int rc = mls_key_package_encode_tbs(&tbs, kp);
  if (rc == 0)
    rc = mls_sign_with_label(s, priv, "KeyPackageTBS", tbs.buf, tbs.len, sig, &sig_len);
  veil_writer_free(&tbs);
  if (rc)
    return rc;
  kp->signature = (veil_view_t){sig, sig_len};
  return mls_key_package_encode(out, kp);
}

int mls_keypackage_create(uint16_t cipher_suite, const mls_identity_t *id, uint64_t now,
                          veil_writer_t *out, mls_keypackage_priv_t **priv) {
  const mls_suite_t *s = mls_suite_get(cipher_suite);
  if (!s)
    return VEIL_EMLS_SUITE;
  if (!id || !out || !priv)
    return VEIL_EINVAL;
  mls_keypackage_priv_t *p = calloc(1, sizeof(*p));
  if (!p)
    return VEIL_ENOMEM;
  p->suite = s;
  uint8_t sig_pub[MLS_SIG_PUB_MAX], enc_pub[MLS_HPKE_PK_MAX], init_pub[MLS_HPKE_PK_MAX];
  veil_writer_t leaf, kpw;
  veil_writer_init_growable(&leaf, 0);
  veil_writer_init_growable(&kpw, 0);
  int rc = grp_signature_key(s, id, p->sig_priv, sig_pub);
  if (rc == 0)
    rc = hpke_generate_key_pair(s->hpke.kem_id, p->enc_priv, enc_pub);
  if (rc == 0)
    rc = hpke_generate_key_pair(s->hpke.kem_id, p->init_priv, init_pub);
  mls_lifetime_t lt = {now > 3600 ? now - 3600 : 0, now ? now + 90ull * 86400 : UINT64_MAX};
  if (rc == 0)
    rc = grp_make_leaf_node(s, &id->credential, (veil_view_t){sig_pub, s->sig_pub_len},
                            (veil_view_t){enc_pub, s->hpke_pk_len}, MLS_LEAF_SRC_KEY_PACKAGE,
                            lt, (veil_view_t){NULL, 0}, (veil_view_t){NULL, 0}, 0, p->sig_priv,
                            &leaf);
  mls_key_package_t kp = {.version = MLS_VERSION_10,
                          .cipher_suite = cipher_suite,
                          .init_key = {init_pub, s->hpke_pk_len}};
  if (rc == 0) {
    veil_reader_t r;
    veil_reader_init(&r, leaf.buf, leaf.len);
    rc = mls_leaf_node_decode(&r, &kp.leaf_node);
  }
  if (rc == 0)
    rc = kp_sign_and_encode(s, &kp, p->sig_priv, &kpw);
  if (rc)
    goto fail;
  p->kp = veil_writer_steal(&kpw, &p->kp_len);
  if (!p->kp) {
    rc = VEIL_ENOMEM;
    goto fail;
  }
  veil_write_u16(out, MLS_VERSION_10);
  veil_write_u16(out, MLS_WF_KEY_PACKAGE);
  rc = veil_write_bytes(out, p->kp, p->kp_len);
  if (rc)
    goto fail;
  *priv = p;
  p = NULL;
fail:
  veil_writer_free(&leaf);
  veil_writer_free(&kpw);
  mls_keypackage_priv_free(p);
  return rc;
}

/* A KeyPackage from either form: MLSMessage(KeyPackage) or a bare KeyPackage. `kp`
 * borrows `buf`; *bare receives the bare encoding. */
int grp_parse_key_package(const uint8_t *buf, size_t len, mls_key_package_t *kp,
                          veil_view_t *bare) {
  veil_reader_t r;
  if (len >= 4 && buf[0] == 0 && buf[1] == MLS_VERSION_10 && buf[2] == 0 &&
      buf[3] == MLS_WF_KEY_PACKAGE) {
    buf += 4;
    len -= 4;
  }
  veil_reader_init(&r, buf, len);
  mls_key_package_decode(&r, kp);
  int rc = veil_reader_finish(&r);
  if (rc == 0 && bare)
    *bare = (veil_view_t){buf, len};
  return rc;
}

int mls_keypackage_priv_from_keys(const uint8_t *buf, size_t len, const uint8_t *sig_priv,
                                  const uint8_t *enc_priv, const uint8_t *init_priv,
                                  mls_keypackage_priv_t **priv) {
  mls_key_package_t kp;
  veil_view_t bare;
  if (!buf || !sig_priv || !enc_priv || !init_priv || !priv)
    return VEIL_EINVAL;
  int rc = grp_parse_key_package(buf, len, &kp, &bare);
  if (rc)
    return rc;
  const mls_suite_t *s = mls_suite_get(kp.cipher_suite);
  if (!s)
    return VEIL_EMLS_SUITE;
  mls_leaf_check_t chk = {0};
  rc = mls_key_package_validate(&kp, &chk);
  if (rc)
    return rc;
  /* Each private key must produce the public key the KeyPackage carries. */
  uint8_t pub[MLS_HPKE_PK_MAX > MLS_SIG_PUB_MAX ? MLS_HPKE_PK_MAX : MLS_SIG_PUB_MAX];
  if (vc_sig_public(s->sig, sig_priv, pub) != 0 || kp.leaf_node.signature_key.len != s->sig_pub_len ||
      memcmp(pub, kp.leaf_node.signature_key.ptr, s->sig_pub_len) != 0)
    return VEIL_EMLS_KEY_MISMATCH;
  vc_group_t kg = s->hpke.kem_id == HPKE_KEM_P256_SHA256 ? VC_P256 : VC_X25519;
  if (vc_kex_public(kg, enc_priv, pub) != 0 || kp.leaf_node.encryption_key.len != s->hpke_pk_len ||
      memcmp(pub, kp.leaf_node.encryption_key.ptr, s->hpke_pk_len) != 0)
    return VEIL_EMLS_KEY_MISMATCH;
  if (vc_kex_public(kg, init_priv, pub) != 0 || kp.init_key.len != s->hpke_pk_len ||
      memcmp(pub, kp.init_key.ptr, s->hpke_pk_len) != 0)
    return VEIL_EMLS_KEY_MISMATCH;
  mls_keypackage_priv_t *p = calloc(1, sizeof(*p));
  if (!p)
    return VEIL_ENOMEM;
  p->suite = s;
  memcpy(p->sig_priv, sig_priv, s->sig_priv_len);
  memcpy(p->enc_priv, enc_priv, s->hpke_sk_len);
  memcpy(p->init_priv, init_priv, s->hpke_sk_len);
  p->kp = malloc(bare.len);
  if (!p->kp) {
    mls_keypackage_priv_free(p);
    return VEIL_ENOMEM;
  }
  memcpy(p->kp, bare.ptr, bare.len);
  p->kp_len = bare.len;
  *priv = p;
  return 0;
}

veil_view_t mls_keypackage_priv_public(const mls_keypackage_priv_t *p) {
  return (veil_view_t){p->kp, p->kp_len};
}

void mls_keypackage_priv_free(mls_keypackage_priv_t *p) {
  if (!p)
    return;
  free(p->kp);
  vc_wipe(p, sizeof(*p));
  free(p);
}

#define KP_STATE_MAGIC 0x564b5031u /* "VKP1" */

int mls_keypackage_priv_serialize(const mls_keypackage_priv_t *p, veil_writer_t *out) {
  if (!p || !out)
    return VEIL_EINVAL;
  const mls_suite_t *s = p->suite;
  veil_write_u32(out, KP_STATE_MAGIC);
  veil_write_u16(out, s->id);
  veil_write_vec(out, VEIL_LEN_U32, p->kp, p->kp_len);
  veil_write_bytes(out, p->sig_priv, s->sig_priv_len);
  veil_write_bytes(out, p->enc_priv, s->hpke_sk_len);
  return veil_write_bytes(out, p->init_priv, s->hpke_sk_len);
}

int mls_keypackage_priv_deserialize(const uint8_t *buf, size_t len, mls_keypackage_priv_t **out) {
  if (!buf || !out)
    return VEIL_EINVAL;
  veil_reader_t r;
  uint32_t magic = 0;
  uint16_t suite = 0;
  veil_view_t kp;
  uint8_t sig[MLS_SIG_PRIV_MAX], enc[MLS_HPKE_SK_MAX], init[MLS_HPKE_SK_MAX];
  veil_reader_init(&r, buf, len);
  veil_read_u32(&r, &magic);
  veil_read_u16(&r, &suite);
  const mls_suite_t *s = mls_suite_get(suite);
  if (r.err || magic != KP_STATE_MAGIC || !s)
    return VEIL_EMLS_STATE_BLOB;
  veil_read_vec(&r, VEIL_LEN_U32, MLS_MAX_OPAQUE, &kp);
  veil_read_copy(&r, sig, s->sig_priv_len);
  veil_read_copy(&r, enc, s->hpke_sk_len);
  veil_read_copy(&r, init, s->hpke_sk_len);
  int rc = veil_reader_finish(&r);
  if (rc == 0)
    rc = mls_keypackage_priv_from_keys(kp.ptr, kp.len, sig, enc, init, out);
  vc_wipe(sig, sizeof(sig));
  vc_wipe(enc, sizeof(enc));
  vc_wipe(init, sizeof(init));
  return rc ? (rc == VEIL_ENOMEM ? rc : VEIL_EMLS_STATE_BLOB) : 0;
}
