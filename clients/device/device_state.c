/* veil — room device state: client secret, certificates, identities, persistence
 * (contract in device_state.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clients/device/device_internal.h"
#include "clients/lib/identity/pemkey.h"
#include "clients/lib/jwe/jwe.h"
#include "common/hex.h"

static const char *const purpose_names[DEV_PURPOSE_COUNT] = {"WebexIdentity", "HTTPS", "SIP",
                                                              "Dot1x"};
/* HKDF labels of the two sealing keys (device_state.h, "Keys at rest"). v1 derived the key
 * sealing key from K, which the v1 state file held in clear. */
static const char key_info[] = "veil device key at rest v2";
static const char k_info[] = "veil device client secret at rest v2";

int64_t dev_now(const device_t *d) {
  return d->cfg.now ? d->cfg.now(d->cfg.clock_ctx) : (int64_t)time(NULL);
}

const char *dev_purpose_name(dev_purpose_t p) {
  return p < DEV_PURPOSE_COUNT ? purpose_names[p] : "?";
}

int dev_purpose_parse(const char *s, dev_purpose_t *p) {
  for (int i = 0; i < DEV_PURPOSE_COUNT; i++)
    if (strcasecmp(s, purpose_names[i]) == 0) {
      *p = (dev_purpose_t)i;
      return 0;
    }
  return VEIL_EDEV_PURPOSE;
}

device_t *device_new(const device_config_t *cfg) {
  if (!cfg->kek)
    return NULL; /* no device without somewhere to seal its keys */
  device_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->cfg = *cfg;
  snprintf(d->name, sizeof d->name, "%s", cfg->name ? cfg->name : "veil-device");
  d->cfg.name = d->name;
  memcpy(d->kek, cfg->kek, DEVICE_KEK_LEN);
  d->cfg.kek = d->kek; /* device_load's scratch device copies it from here */
  for (int i = 0; i < DEV_PURPOSE_COUNT; i++)
    d->active[i] = -1;
  d->mode_on = 1;
  return d;
}

static void cert_free(dev_cert_t *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n; i++)
    free(c->der[i]);
  vc_wipe(c->key_blob, sizeof c->key_blob);
  free(c);
}

static void internal_clear(device_t *d) {
  for (size_t i = 0; i < d->ninternal; i++)
    free(d->internal_der[i]);
  d->ninternal = 0;
}

static void calls_clear(device_t *d) {
  for (size_t i = 0; i < DEVICE_CALLS_MAX; i++) {
    dev_call_t *c = &d->calls[i];
    for (size_t j = 0; c->roster && j < c->n; j++)
      free(c->roster[j].certinfo);
    free(c->roster);
    memset(c, 0, sizeof *c);
  }
}

void device_free(device_t *d) {
  if (!d)
    return;
  for (size_t i = 0; i < d->ncerts; i++)
    cert_free(d->certs[i]);
  internal_clear(d);
  calls_clear(d);
  vc_wipe(d, sizeof *d);
  free(d);
}

uint64_t device_generation(const device_t *d) { return d->gen; }

/* ---- keys at rest ------------------------------------------------------------------ */

/* HKDF-SHA256(salt = device salt, IKM = KEK, info). The salt changes with every rotation of
 * the client secret, so a rotation re-seals everything under fresh keys. */
static int at_rest_key(const device_t *d, const uint8_t salt[DEVICE_SALT_LEN], const char *info,
                       uint8_t out[32]) {
  uint8_t prk[32];
  int rc = vc_hkdf_extract(VC_SHA256, salt, DEVICE_SALT_LEN, d->kek, DEVICE_KEK_LEN, prk);
  if (!rc)
    rc = vc_hkdf_expand(VC_SHA256, prk, 32, (const uint8_t *)info, strlen(info), out, 32);
  vc_wipe(prk, sizeof prk);
  return rc;
}

/* blob = fresh nonce || AES-256-GCM(key, nonce, aad, pt) || tag, for 32-byte plaintexts. */
static int seal32(const uint8_t key[32], const char *aad, const uint8_t pt[32],
                  uint8_t blob[DEV_KEYBLOB_LEN]) {
  int rc = vc_random(blob, VC_AEAD_NONCE_LEN);
  if (!rc)
    rc = vc_aead_seal(VC_AES_256_GCM, key, blob, (const uint8_t *)aad, strlen(aad), pt, 32,
                      blob + VC_AEAD_NONCE_LEN);
  return rc;
}

static int open32(const uint8_t key[32], const char *aad, const uint8_t blob[DEV_KEYBLOB_LEN],
                  uint8_t pt[32]) {
  return vc_aead_open(VC_AES_256_GCM, key, blob, (const uint8_t *)aad, strlen(aad),
                      blob + VC_AEAD_NONCE_LEN, 32 + VC_AEAD_TAG_LEN, pt);
}

/* Opens the sealed blob of `info`'s key under d's KEK and salt. */
static int open_at_rest(const device_t *d, const char *info, const char *aad,
                        const uint8_t blob[DEV_KEYBLOB_LEN], uint8_t pt[32]) {
  uint8_t key[32];
  int rc = at_rest_key(d, d->salt, info, key);
  if (!rc)
    rc = open32(key, aad, blob, pt);
  vc_wipe(key, sizeof key);
  return rc;
}

int dev_open_k(const device_t *d, uint8_t k[DEVICE_K_LEN]) {
  return open_at_rest(d, k_info, "", d->k_blob, k);
}

/* The certificate's SHA-256 fingerprint is the AAD: a sealed key cannot be moved to another
 * certificate. */
int dev_open_cert_key(const device_t *d, const dev_cert_t *c, uint8_t priv[32]) {
  return open_at_rest(d, key_info, c->info.sha256_hex, c->key_blob, priv);
}

/* ---- secret ----------------------------------------------------------------------- */

/* Decrypts a device-profile JWE made for `action` under the device's K. */
static int open_blob(const device_t *d, const char *text, size_t len, const char *action,
                     uint8_t **pt, size_t *pt_len) {
  if (!d->has_secret)
    return VEIL_EDEV_NOSECRET;
  jwe_parsed_t p;
  int rc = jwe_parse(text, len, &p);
  if (rc)
    return rc;
  if (!p.has_kdf)
    return VEIL_EJWE_KDF;
  /* The salt is public, but comparing in constant time costs nothing and keeps the rule
   * simple: nothing derived from the secret is compared any other way. */
  if (p.salt_len != DEVICE_SALT_LEN || !vc_ct_equal(p.salt, d->salt, DEVICE_SALT_LEN))
    return VEIL_EDEV_SALT;
  rc = jwe_decrypt(&p, d->k, (size_t)p.enc, pt, pt_len);
  if (rc)
    return rc;
  /* The action is inside the authenticated header: checked after the tag, so a tampered
   * header reports as tampering rather than as a wrong command. */
  if (strcmp(p.action, action) != 0) {
    jwe_free_plaintext(*pt, *pt_len);
    *pt = NULL;
    return VEIL_EDEV_ACTION;
  }
  return 0;
}

static int derive_k(const char *secret_b64, size_t len, uint8_t salt[DEVICE_SALT_LEN],
                    uint8_t k[DEVICE_K_LEN]) {
  uint8_t secret[DEVICE_SECRET_MAX];
  if (len > veil_b64url_encoded_len(DEVICE_SECRET_MAX))
    return VEIL_EDEV_SECRET;
  long n = veil_b64url_decode(secret_b64, len, secret, sizeof secret);
  if (n < DEVICE_SECRET_MIN || n > DEVICE_SECRET_MAX) {
    vc_wipe(secret, sizeof secret);
    return VEIL_EDEV_SECRET;
  }
  int rc = vc_random(salt, DEVICE_SALT_LEN);
  if (!rc)
    rc = vc_scrypt(secret, (size_t)n, salt, DEVICE_SALT_LEN, JWE_SCRYPT_N, JWE_SCRYPT_R,
                   JWE_SCRYPT_P, k, DEVICE_K_LEN);
  vc_wipe(secret, sizeof secret);
  return rc;
}

int dev_populate(device_t *d, const char *secret, size_t len) {
  uint8_t *pt = NULL;
  size_t pt_len = 0;
  uint8_t salt[DEVICE_SALT_LEN], k[DEVICE_K_LEN], k_blob[DEV_KEYBLOB_LEN];
  uint8_t new_kk[32], new_ak[32];
  uint8_t blobs[DEVICE_CERTS_MAX][DEV_KEYBLOB_LEN];
  int rc;
  if (!d->has_secret) {
    rc = derive_k(secret, len, salt, k);
  } else {
    /* Rotation: the new secret arrives encrypted under the old one. */
    rc = open_blob(d, secret, len, "populate", &pt, &pt_len);
    if (!rc)
      rc = derive_k((const char *)pt, pt_len, salt, k);
  }
  if (rc)
    goto done;
  /* Seal the new K, and re-encrypt every stored key under the new salt's key, before
   * committing anything. */
  rc = at_rest_key(d, salt, k_info, new_kk);
  if (!rc)
    rc = seal32(new_kk, "", k, k_blob);
  if (!rc && d->ncerts)
    rc = at_rest_key(d, salt, key_info, new_ak);
  for (size_t i = 0; !rc && i < d->ncerts; i++) {
    uint8_t priv[32];
    rc = dev_open_cert_key(d, d->certs[i], priv);
    if (!rc)
      rc = seal32(new_ak, d->certs[i]->info.sha256_hex, priv, blobs[i]);
    vc_wipe(priv, sizeof priv);
  }
  if (rc)
    goto done;
  for (size_t i = 0; i < d->ncerts; i++)
    memcpy(d->certs[i]->key_blob, blobs[i], DEV_KEYBLOB_LEN);
  memcpy(d->salt, salt, sizeof salt);
  memcpy(d->k, k, sizeof k);
  memcpy(d->k_blob, k_blob, sizeof k_blob);
  d->has_secret = 1;
  d->gen++;
done:
  if (pt)
    jwe_free_plaintext(pt, pt_len);
  vc_wipe(k, sizeof k);
  vc_wipe(k_blob, sizeof k_blob);
  vc_wipe(new_kk, sizeof new_kk);
  vc_wipe(new_ak, sizeof new_ak);
  vc_wipe(blobs, sizeof blobs);
  return rc;
}

/* ---- certificates ------------------------------------------------------------------- */

static int find_sha1(const device_t *d, const uint8_t *hex, size_t len) {
  if (len != 40)
    return -1;
  for (size_t i = 0; i < d->ncerts; i++)
    if (strncasecmp(d->certs[i]->info.sha1_hex, (const char *)hex, 40) == 0)
      return (int)i;
  return -1;
}

int dev_cert_add(device_t *d, const char *jwe, size_t len) {
  uint8_t *pt = NULL;
  size_t pt_len = 0;
  uint8_t priv[32], pub[VC_SIG_PUB_MAX], ak[32];
  vc_sig_t type = 0;
  veil_view_t ders[X509_CHAIN_MAX];
  int n = 0;
  dev_cert_t *c = NULL;
  int rc = open_blob(d, jwe, len, "add", &pt, &pt_len);
  if (rc)
    goto done;
  rc = VEIL_ELIMIT;
  if (d->ncerts == DEVICE_CERTS_MAX)
    goto done;
  n = x509_pem_to_der((const char *)pt, pt_len, ders, X509_CHAIN_MAX);
  rc = n > 0 ? pemkey_decode((const char *)pt, pt_len, &type, priv) : VEIL_EDEV_PEM;
  if (rc == VEIL_EID_PEMKEY)
    rc = VEIL_EDEV_PEM;
  if (rc) {
    if (n < 0)
      n = 0;
    goto done;
  }
  rc = VEIL_ENOMEM;
  if (!(c = calloc(1, sizeof *c)))
    goto done;
  rc = x509_parse_info(ders[0].ptr, ders[0].len, &c->info);
  if (rc == VEIL_EX509_KEY || (!rc && c->info.key_type != VC_ECDSA_P256_SHA256) ||
      (!rc && type != VC_ECDSA_P256_SHA256))
    rc = VEIL_EDEV_CERTKEY; /* devices hold ECDSA P-256 identities only */
  if (rc)
    goto done;
  rc = vc_sig_public(VC_ECDSA_P256_SHA256, priv, pub);
  if (!rc && (c->info.public_key_len != 65 || memcmp(pub, c->info.public_key, 65) != 0))
    rc = VEIL_EDEV_KEYMISMATCH;
  if (rc)
    goto done;
  if (find_sha1(d, (const uint8_t *)c->info.sha1_hex, 40) >= 0) {
    rc = VEIL_EEXIST;
    goto done;
  }
  rc = at_rest_key(d, d->salt, key_info, ak);
  if (!rc)
    rc = seal32(ak, c->info.sha256_hex, priv, c->key_blob);
  if (rc)
    goto done;
  for (int i = 0; i < n; i++) {
    c->der[i] = (uint8_t *)ders[i].ptr; /* ownership moves to the certificate */
    c->der_len[i] = ders[i].len;
    ders[i].ptr = NULL;
  }
  c->n = (size_t)n;
  d->certs[d->ncerts++] = c;
  c = NULL;
  d->gen++;
done:
  for (int i = 0; i < n; i++)
    free((void *)ders[i].ptr);
  cert_free(c);
  if (pt)
    jwe_free_plaintext(pt, pt_len);
  vc_wipe(priv, sizeof priv);
  vc_wipe(ak, sizeof ak);
  return rc;
}

int dev_cert_activate(device_t *d, dev_purpose_t p, const char *jwe, size_t len, int on) {
  uint8_t *pt = NULL;
  size_t pt_len = 0;
  int rc = open_blob(d, jwe, len, on ? "activate" : "deactivate", &pt, &pt_len);
  if (rc)
    return rc;
  int idx = find_sha1(d, pt, pt_len);
  jwe_free_plaintext(pt, pt_len);
  if (idx < 0 || (!on && d->active[p] != idx))
    return VEIL_EDEV_FINGERPRINT;
  d->active[p] = on ? idx : -1;
  d->gen++;
  return 0;
}

int dev_cert_delete(device_t *d, const char *jwe, size_t len) {
  uint8_t *pt = NULL;
  size_t pt_len = 0;
  int rc = open_blob(d, jwe, len, "delete", &pt, &pt_len);
  if (rc)
    return rc;
  int idx = find_sha1(d, pt, pt_len);
  jwe_free_plaintext(pt, pt_len);
  if (idx < 0)
    return VEIL_EDEV_FINGERPRINT;
  cert_free(d->certs[idx]);
  memmove(&d->certs[idx], &d->certs[idx + 1], (d->ncerts - (size_t)idx - 1) * sizeof d->certs[0]);
  d->ncerts--;
  for (int i = 0; i < DEV_PURPOSE_COUNT; i++) {
    if (d->active[i] == idx)
      d->active[i] = -1;
    else if (d->active[i] > idx)
      d->active[i]--;
  }
  d->gen++;
  return 0;
}

/* ---- identities --------------------------------------------------------------------- */

static int domain_matches(const char *identity, const char *domain) {
  if (!domain[0])
    return 1;
  const char *at = strrchr(identity, '@');
  const char *host = at ? at + 1 : identity;
  size_t h = strlen(host), n = strlen(domain);
  if (h == n)
    return strcasecmp(host, domain) == 0;
  return h > n && host[h - n - 1] == '.' && strcasecmp(host + h - n, domain) == 0;
}

static int identity_view(const device_t *d, const veil_view_t *chain, size_t n, int external,
                         dev_identity_view_t *v) {
  memset(v, 0, sizeof *v);
  if (n == 0)
    return 0;
  v->present = 1;
  x509_verdict_t vd;
  x509_trust_t *empty = NULL;
  const x509_trust_t *t = d->cfg.trust;
  if (!t && !(t = empty = x509_trust_new()))
    return VEIL_ENOMEM;
  int64_t now = dev_now(d);
  int rc = x509_verify_chain(t, chain, n, now, &vd);
  x509_trust_free(empty);
  if (rc)
    return rc;
  const x509_info_t *leaf = &vd.leaf;
  const char *id = leaf->email[0] ? leaf->email : leaf->dns[0] ? leaf->dns : leaf->common_name;
  snprintf(v->identity, sizeof v->identity, "%s", id);
  int in_time = now >= leaf->not_before && now <= leaf->not_after;
  /* Without configured anchors the device can only check what it holds: the validity period
   * and (at Add) the key. With anchors, the chain must end at the expected class. */
  int chained = !d->cfg.trust ? 1
                : external    ? vd.level == X509_EXTERNALLY_VERIFIED
                              : vd.level != X509_UNVERIFIED;
  v->valid = in_time && chained && (!external || domain_matches(id, d->preferred_domain));
  const char *reason = !in_time ? "outside its validity period"
                       : !chained ? (vd.reason_text[0] ? vd.reason_text : "untrusted chain")
                       : !v->valid ? "identity is not in the preferred domain"
                                   : "";
  return verify_details_json(leaf, vd.anchor, vd.level, reason, &v->certinfo);
}

int dev_external_identity(const device_t *d, dev_identity_view_t *v) {
  int idx = d->active[DEV_PURPOSE_IDENTITY];
  if (idx < 0) {
    memset(v, 0, sizeof *v);
    return 0;
  }
  const dev_cert_t *c = d->certs[idx];
  veil_view_t chain[X509_CHAIN_MAX];
  for (size_t i = 0; i < c->n; i++)
    chain[i] = (veil_view_t){c->der[i], c->der_len[i]};
  return identity_view(d, chain, c->n, 1, v);
}

int dev_internal_identity(const device_t *d, dev_identity_view_t *v) {
  veil_view_t chain[X509_CHAIN_MAX];
  for (size_t i = 0; i < d->ninternal; i++)
    chain[i] = (veil_view_t){d->internal_der[i], d->internal_len[i]};
  return identity_view(d, chain, d->ninternal, 0, v);
}

int device_identity_key(device_t *d, uint8_t priv[32], veil_view_t *chain, size_t *n) {
  int idx = d->active[DEV_PURPOSE_IDENTITY];
  if (idx < 0 || !d->has_secret)
    return VEIL_ENOTFOUND;
  const dev_cert_t *c = d->certs[idx];
  int rc = dev_open_cert_key(d, c, priv);
  if (rc)
    return rc;
  for (size_t i = 0; i < c->n; i++)
    chain[i] = (veil_view_t){c->der[i], c->der_len[i]};
  *n = c->n;
  return 0;
}

int device_set_internal_identity(device_t *d, const veil_view_t *chain, size_t n) {
  if (n > X509_CHAIN_MAX)
    return VEIL_ELIMIT;
  x509_info_t info;
  int rc = n ? x509_parse_info(chain[0].ptr, chain[0].len, &info) : 0;
  if (rc)
    return rc;
  uint8_t *copies[X509_CHAIN_MAX] = {0};
  for (size_t i = 0; i < n; i++) {
    if (chain[i].len > X509_CERT_MAX || !(copies[i] = malloc(chain[i].len ? chain[i].len : 1))) {
      for (size_t j = 0; j < i; j++)
        free(copies[j]);
      return chain[i].len > X509_CERT_MAX ? VEIL_ELIMIT : VEIL_ENOMEM;
    }
    memcpy(copies[i], chain[i].ptr, chain[i].len);
  }
  internal_clear(d);
  for (size_t i = 0; i < n; i++) {
    d->internal_der[i] = copies[i];
    d->internal_len[i] = chain[i].len;
  }
  d->ninternal = n;
  d->gen++;
  return 0;
}
