/*
 * veil — saving and loading a room device's state (contract in device_state.h).
 *
 * The state file is JSON: {"version":1, "salt", "k", "mode", "preferred_domain",
 * "certs":[{"chain":[DER...], "key": sealed key}], "active":{purpose: SHA-1}, "internal":[DER]}
 * with bytes in base64url. K stands in for what a real device keeps in its secure element;
 * the private keys in the file are sealed under a key derived from it (never in clear).
 * Loading validates everything into a fresh device first and swaps only on success.
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
  int bad = !o || !certs || !active;
  if (!bad) {
    bad |= json_object_set_new(o, "version", json_integer(1));
    bad |= json_object_set_new(o, "has_secret", json_boolean(d->has_secret));
    bad |= json_object_set_new(o, "salt", b64(d->salt, sizeof d->salt));
    bad |= json_object_set_new(o, "k", b64(d->k, sizeof d->k));
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
  json_decref(o); /* jansson does not wipe; K's text lives only in freed heap from here */
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
  if (!json_is_object(o) || json_integer_value(json_object_get(o, "version")) != 1)
    goto done;
  json_t *hs = json_object_get(o, "has_secret"), *mode = json_object_get(o, "mode");
  const char *dom = json_string_value(json_object_get(o, "preferred_domain"));
  if (!json_is_boolean(hs) || !json_is_string(mode) || !dom ||
      strlen(dom) >= sizeof n->preferred_domain)
    goto done;
  n->has_secret = json_is_true(hs);
  if (get_b64(json_object_get(o, "salt"), n->salt, sizeof n->salt, sizeof n->salt) < 0 ||
      get_b64(json_object_get(o, "k"), n->k, sizeof n->k, sizeof n->k) < 0)
    goto done;
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
