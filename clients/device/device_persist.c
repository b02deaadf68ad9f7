/*
 * veil — saving and loading a room device's state (contract in device_state.h).
 *
 * The state file is JSON: {"version":2, "has_secret", "salt", "kek_check", "sealed_k"
 * (only with a secret), "mode", "preferred_domain", "certs":[{"chain":[DER...], "key": sealed
 * key}], "active":{purpose: SHA-1}, "internal":[DER]} with bytes in base64url. Nothing in it
 * is secret without the KEK, which is never in it: K and the private keys are sealed under
 * keys derived from the KEK (device_state.h), and kek_check = HKDF-SHA256(no salt, IKM =
 * KEK, info = "veil device kek check v2", 16 bytes) only tells a wrong KEK apart from a
 * tampered file (it is checked even when nothing is sealed yet). Version 1 kept K in clear
 * and sealed the keys under K; such a file is refused, not migrated: whoever read it holds
 * K and the keys, so the device needs a new secret and new keys anyway.
 *
 * Loading validates everything into a fresh device first — K and every key must open — and
 * swaps only on success.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "clients/device/device_internal.h"
#include "common/hex.h"

static json_t *b64(const uint8_t *p, size_t n) {
  char *s = malloc(veil_b64url_encoded_len(n) + 1);
  if (!s)
    return NULL;
  veil_b64url_encode(p, n, s);
  json_t *j = json_string(s);
  vc_wipe(s, strlen(s));
  free(s);
  return j;
}

static const char kek_check_info[] = "veil device kek check v2";
#define KEK_CHECK_LEN 16

static int kek_check(const uint8_t kek[DEVICE_KEK_LEN], uint8_t out[KEK_CHECK_LEN]) {
  uint8_t prk[32];
  int rc = vc_hkdf_extract(VC_SHA256, NULL, 0, kek, DEVICE_KEK_LEN, prk);
  if (!rc)
    rc = vc_hkdf_expand(VC_SHA256, prk, sizeof prk, (const uint8_t *)kek_check_info,
                        sizeof kek_check_info - 1, out, KEK_CHECK_LEN);
  vc_wipe(prk, sizeof prk);
  return rc;
}

static json_t *chain_json(uint8_t *const *der, const size_t *len, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    if (json_array_append_new(a, b64(der[i], len[i]))) {
      json_decref(a);
      return NULL;
    }
  return a;
}

int device_save(const device_t *d, char **out, size_t *out_len) {
  json_t *o = json_object(), *certs = json_array(), *active = json_object();
  uint8_t check[KEK_CHECK_LEN];
  int bad = !o || !certs || !active || kek_check(d->kek, check);
  if (!bad) {
    bad |= json_object_set_new(o, "version", json_integer(2));
    bad |= json_object_set_new(o, "has_secret", json_boolean(d->has_secret));
    bad |= json_object_set_new(o, "salt", b64(d->salt, sizeof d->salt));
    bad |= json_object_set_new(o, "kek_check", b64(check, sizeof check));
    if (d->has_secret)
      bad |= json_object_set_new(o, "sealed_k", b64(d->k_blob, sizeof d->k_blob));
    bad |= json_object_set_new(o, "mode", json_string(d->mode_on ? "On" : "Off"));
    bad |= json_object_set_new(o, "preferred_domain", json_string(d->preferred_domain));
    for (size_t i = 0; i < d->ncerts; i++) {
      const dev_cert_t *c = d->certs[i];
      json_t *e = json_object();
      bad |= !e || json_object_set_new(e, "chain", chain_json(c->der, c->der_len, c->n)) ||
             json_object_set_new(e, "key", b64(c->key_blob, sizeof c->key_blob)) ||
             json_array_append_new(certs, e);
    }
    for (int p = 0; p < DEV_PURPOSE_COUNT; p++)
      if (d->active[p] >= 0)
        bad |= json_object_set_new(active, dev_purpose_name((dev_purpose_t)p),
                                   json_string(d->certs[d->active[p]]->info.sha1_hex));
    bad |= json_object_set_new(o, "internal",
                               chain_json(d->internal_der, d->internal_len, d->ninternal));
  }
  bad |= json_object_set(o, "certs", certs) || json_object_set(o, "active", active);
  char *s = bad ? NULL : json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
  json_decref(certs);
  json_decref(active);
  json_decref(o);
  if (!s)
    return VEIL_ENOMEM;
  *out = s;
  *out_len = strlen(s);
  return 0;
}

/* Decodes a base64url member of exactly `n` bytes (n == 0: up to `cap`). */
static long get_b64(json_t *j, uint8_t *out, size_t cap, size_t n) {
  const char *s = json_string_value(j);
  if (!s)
    return VEIL_EDEV_STATEFILE;
  long got = veil_b64url_decode(s, strlen(s), out, cap);
  if (got < 0 || (n && (size_t)got != n))
    return VEIL_EDEV_STATEFILE;
  return got;
}

/* 1 when every member of `o` is one of `names` (NULL-terminated): a member this version does
 * not write — a stray "k" above all — makes the file malformed rather than ignored. */
static int only_members(json_t *o, const char *const *names) {
  const char *key;
  json_t *val;
  json_object_foreach(o, key, val) {
    size_t i = 0;
    while (names[i] && strcmp(names[i], key) != 0)
      i++;
    if (!names[i])
      return 0;
  }
  return 1;
}

static const char *const state_members[] = {
    "version", "has_secret", "salt",   "kek_check", "sealed_k", "mode", "preferred_domain",
    "certs",   "active",     "internal", NULL};
static const char *const cert_members[] = {"chain", "key", NULL};

static int get_chain(json_t *a, uint8_t **der, size_t *len, size_t *n) {
  *n = 0;
  if (!json_is_array(a) || json_array_size(a) > X509_CHAIN_MAX)
    return VEIL_EDEV_STATEFILE;
  for (size_t i = 0; i < json_array_size(a); i++) {
    uint8_t *buf = malloc(X509_CERT_MAX);
    if (!buf)
      return VEIL_ENOMEM;
    long got = get_b64(json_array_get(a, i), buf, X509_CERT_MAX, 0);
    if (got <= 0) {
      free(buf);
      return VEIL_EDEV_STATEFILE;
    }
    der[i] = buf;
    len[i] = (size_t)got;
    (*n)++;
  }
  return 0;
}

/* Version 1 is told apart whatever else the file holds: its K is in clear either way. */
static int check_version(json_t *o) {
  json_t *version = json_object_get(o, "version");
  if (json_is_integer(version) && json_integer_value(version) == 1)
    return VEIL_EDEV_STATEVERSION;
  if (!json_is_object(o) || !json_is_integer(version) || json_integer_value(version) != 2 ||
      !only_members(o, state_members))
    return VEIL_EDEV_STATEFILE;
  return 0;
}

int device_state_version(const char *text, size_t len) {
  if (len > DEVICE_STATE_MAX)
    return VEIL_ELIMIT;
  json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
  int rc = check_version(o);
  json_decref(o);
  return rc;
}

int device_load(device_t *d, const char *text, size_t len) {
  if (len > DEVICE_STATE_MAX)
    return VEIL_ELIMIT;
  json_error_t err;
  json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
  device_t *n = device_new(&d->cfg);
  int rc = VEIL_EDEV_STATEFILE;
  if (!n) {
    json_decref(o);
    return VEIL_ENOMEM;
  }
  snprintf(n->name, sizeof n->name, "%s", d->name);
  n->cfg.name = n->name;
  if ((rc = check_version(o)))
    goto done;
  /* The KEK first: a wrong key file is reported as such, not as a broken state file. */
  uint8_t want[KEK_CHECK_LEN], got[KEK_CHECK_LEN];
  rc = VEIL_EDEV_STATEFILE;
  if (get_b64(json_object_get(o, "kek_check"), got, sizeof got, sizeof got) < 0)
    goto done;
  if ((rc = kek_check(n->kek, want)))
    goto done;
  if (!vc_ct_equal(want, got, KEK_CHECK_LEN)) {
    rc = VEIL_EDEV_KEK;
    goto done;
  }
  rc = VEIL_EDEV_STATEFILE;
  json_t *hs = json_object_get(o, "has_secret"), *mode = json_object_get(o, "mode");
  json_t *sealed_k = json_object_get(o, "sealed_k");
  const char *dom = json_string_value(json_object_get(o, "preferred_domain"));
  if (!json_is_boolean(hs) || !json_is_string(mode) || !dom ||
      strlen(dom) >= sizeof n->preferred_domain)
    goto done;
  n->has_secret = json_is_true(hs);
  if (get_b64(json_object_get(o, "salt"), n->salt, sizeof n->salt, sizeof n->salt) < 0)
    goto done;
  if (n->has_secret) {
    if (get_b64(sealed_k, n->k_blob, sizeof n->k_blob, sizeof n->k_blob) < 0 ||
        dev_open_k(n, n->k))
      goto done; /* the KEK is right (checked above), so the blob was tampered with */
  } else if (sealed_k) {
    goto done;
  }
  if (strcmp(json_string_value(mode), "On") != 0 && strcmp(json_string_value(mode), "Off") != 0)
    goto done;
  n->mode_on = strcmp(json_string_value(mode), "On") == 0;
  snprintf(n->preferred_domain, sizeof n->preferred_domain, "%s", dom);

  json_t *certs = json_object_get(o, "certs");
  if (!json_is_array(certs) || json_array_size(certs) > DEVICE_CERTS_MAX ||
      (json_array_size(certs) && !n->has_secret))
    goto done;
  for (size_t i = 0; i < json_array_size(certs); i++) {
    json_t *e = json_array_get(certs, i);
    if (!json_is_object(e) || !only_members(e, cert_members))
      goto done;
    dev_cert_t *c = calloc(1, sizeof *c);
    if (!c) {
      rc = VEIL_ENOMEM;
      goto done;
    }
    n->certs[n->ncerts++] = c;
    if ((rc = get_chain(json_object_get(e, "chain"), c->der, c->der_len, &c->n)))
      goto done;
    rc = VEIL_EDEV_STATEFILE;
    if (c->n == 0 || x509_parse_info(c->der[0], c->der_len[0], &c->info) ||
        c->info.key_type != VC_ECDSA_P256_SHA256 ||
        get_b64(json_object_get(e, "key"), c->key_blob, sizeof c->key_blob,
                sizeof c->key_blob) < 0)
      goto done;
    uint8_t priv[32]; /* the key must open now, not when a meeting first needs it */
    int opened = dev_open_cert_key(n, c, priv);
    vc_wipe(priv, sizeof priv);
    if (opened)
      goto done;
  }
  json_t *active = json_object_get(o, "active");
  if (!json_is_object(active) || json_object_size(active) > DEV_PURPOSE_COUNT)
    goto done;
  const char *key;
  json_t *val;
  json_object_foreach(active, key, val) {
    dev_purpose_t p;
    const char *fp = json_string_value(val);
    if (dev_purpose_parse(key, &p) || !fp)
      goto done;
    for (size_t i = 0; i < n->ncerts; i++)
      if (strcmp(n->certs[i]->info.sha1_hex, fp) == 0)
        n->active[p] = (int)i;
    if (n->active[p] < 0)
      goto done;
  }
  if ((rc = get_chain(json_object_get(o, "internal"), n->internal_der, n->internal_len,
                      &n->ninternal)))
    goto done;
  rc = 0;
  /* Commit: exchange the persisted members; `n` then holds the old ones and frees them.
   * Calls, configuration and name stay as they are. */
  device_t tmp;
  memcpy(&tmp, d, sizeof tmp);
#define SWAP(m) memcpy(&d->m, &n->m, sizeof d->m), memcpy(&n->m, &tmp.m, sizeof d->m)
  SWAP(has_secret);
  SWAP(salt);
  SWAP(k);
  SWAP(k_blob);
  SWAP(certs);
  SWAP(ncerts);
  SWAP(active);
  SWAP(mode_on);
  SWAP(preferred_domain);
  SWAP(internal_der);
  SWAP(internal_len);
  SWAP(ninternal);
#undef SWAP
  vc_wipe(&tmp, sizeof tmp);
  d->gen++;
done:
  json_decref(o);
  device_free(n);
  return rc;
}
