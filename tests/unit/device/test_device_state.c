/* Unit tests: room device state and commands (clients/device/device_state.h). Every refusal
 * is checked to leave the saved state byte-for-byte unchanged. What is sealed in the saved
 * state is opened here by the documented construction, independently of the device code. */
#include <jansson.h>

#include "clients/lib/identity/pemkey.h"
#include "device_helpers.h"

static fx_cert_t dev_cert(void) {
  return fx_issue("org", CA_CERT_DEVICE, "room1.acme.example", "Room 1", CA_KEY_P256,
                  (int64_t)time(NULL));
}

/* A device with a populated secret and the certificate `c` (fingerprint `fp`) added; active
 * as the WebexIdentity when made by room_active(). */
typedef struct room {
  device_t *d;
  fx_cert_t c;
  char *fp;
} room_t;

static room_t room_with_cert(void) {
  room_t r = {.d = mk_device(NULL), .c = dev_cert()};
  populate(r.d);
  add_cert_ok(r.d, &r.c);
  r.fp = sha1_of(&r.c);
  return r;
}

static room_t room_active(void) {
  room_t r = room_with_cert();
  services_ok(r.d, "Activate", "WebexIdentity", r.fp, "activate");
  return r;
}

static void room_free(room_t *r) {
  free(r->fp);
  fx_free(&r->c);
  device_free(r->d);
}

/* The HKDF labels device_state.h documents for the two sealed kinds. */
#define INFO_KEY "veil device key at rest v2"
#define INFO_K "veil device client secret at rest v2"

/* Opens a sealed 32-byte member as device_state.h documents it: base64url of nonce ||
 * AES-256-GCM || tag under HKDF-SHA256(salt, IKM = kek, info), `aad` as AAD. */
static int open_documented(const uint8_t *kek, const uint8_t salt[16], const char *info,
                           const char *aad, const char *b64, uint8_t out[32]) {
  uint8_t blob[VC_AEAD_NONCE_LEN + 32 + VC_AEAD_TAG_LEN], prk[32], key[32];
  cr_assert_not_null(b64);
  cr_assert_eq(veil_b64url_decode(b64, strlen(b64), blob, sizeof blob), (long)sizeof blob);
  cr_assert_eq(vc_hkdf_extract(VC_SHA256, salt, 16, kek, DEVICE_KEK_LEN, prk), 0);
  cr_assert_eq(vc_hkdf_expand(VC_SHA256, prk, 32, (const uint8_t *)info, strlen(info), key, 32),
               0);
  return vc_aead_open(VC_AES_256_GCM, key, blob, (const uint8_t *)aad, strlen(aad),
                      blob + VC_AEAD_NONCE_LEN, 32 + VC_AEAD_TAG_LEN, out);
}

/* A saved state's member: top level, or of the first certificate when `cert`. */
static char *saved_member(const char *json, int cert, const char *name) {
  json_t *o = json_loads(json, 0, NULL);
  cr_assert_not_null(o);
  json_t *from = cert ? json_array_get(json_object_get(o, "certs"), 0) : o;
  const char *v = json_string_value(json_object_get(from, name));
  char *copy = v ? strdup(v) : NULL;
  json_decref(o);
  return copy;
}

/* Expects `bytes` nowhere in `text`: not raw, not in hex of either case, not in base64url
 * nor in standard base64. */
static void assert_absent(const char *text, const uint8_t *bytes, size_t n, const char *what) {
  char hex[2 * 64 + 1], b64[90];
  cr_assert_leq(n, 64);
  cr_assert_null(memmem(text, strlen(text), bytes, n), "%s in raw bytes", what);
  veil_hex_encode(bytes, n, hex);
  cr_assert_null(strcasestr(text, hex), "%s in hex", what);
  veil_b64url_encode(bytes, n, b64);
  b64[strlen(b64) - 1] = '\0'; /* the last character also carries the next byte's bits */
  cr_assert_null(strstr(text, b64), "%s in base64url", what);
  for (char *c = b64; *c; c++)
    *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
  cr_assert_null(strstr(text, b64), "%s in base64", what);
}

/* Expects Populate with the JWE `b` to be refused with `rc`; frees `b`. */
static void refused_populate(device_t *d, char *b, int rc) {
  refused_with(d, CMD_POPULATE, b, rc);
  free(b);
}

/* ---- client secret ------------------------------------------------------------------ */

Test(device_secret, populate_keeps_only_salt_and_scrypt_key) {
  device_t *d = mk_device(NULL);
  cr_assert_str_eq(status(d, "Security ClientSecret Populated", "Populated"), "False");
  populate(d);
  cr_assert_str_eq(status(d, "Security ClientSecret Populated", "Populated"), "True");
  uint8_t salt[16], sec[32], k[32];
  device_salt(d, salt);
  cr_assert_eq(veil_b64url_decode(SECRET1, strlen(SECRET1), sec, sizeof sec), 32);
  cr_assert_eq(jwe_derive_key(sec, 32, salt, 16, JWE_A256GCM, k), 0);
  char *json = snap(d);
  char *clear = saved_member(json, 0, "k"), *sealed = saved_member(json, 0, "sealed_k");
  cr_assert_null(clear, "K is not saved in clear");
  uint8_t stored[32];
  cr_assert_eq(open_documented(test_kek, salt, INFO_K, "", sealed, stored), 0);
  cr_assert_arr_eq(stored, k, 32, "K = scrypt(secret, salt), saved sealed under the KEK");
  assert_absent(json, k, 32, "K");
  cr_assert_null(strstr(json, SECRET1), "the secret itself is never stored");
  free(sealed);
  free(json);
  device_free(d);
}

Test(device_secret, salts_differ_between_devices) {
  device_t *a = mk_device(NULL), *b = mk_device(NULL);
  populate(a);
  populate(b);
  uint8_t sa[16], sb[16];
  device_salt(a, sa);
  device_salt(b, sb);
  cr_assert_arr_neq(sa, sb, 16);
  device_free(a);
  device_free(b);
}

Test(device_secret, refuses_short_long_or_malformed_plain_secret) {
  device_t *d = mk_device(NULL);
  refused(d, "xCommand Security ClientSecret Populate Secret: AAAAAAAAAAAAAAAAAAAA\n",
          VEIL_EDEV_SECRET); /* 15 bytes */
  refused(d, "xCommand Security ClientSecret Populate Secret: AAAA+AAAAAAAAAAAAAAAAAAAAA\n",
          VEIL_EDEV_SECRET);
  char text[512] = "xCommand Security ClientSecret Populate Secret: ";
  for (int i = 0; i < 172; i++)
    strcat(text, "A"); /* 129 bytes */
  strcat(text, "\n");
  refused(d, text, VEIL_EDEV_SECRET);
  refused(d, "xCommand Security ClientSecret Populate\n", VEIL_EXAPI_ARG);
  refused(d, "xCommand Security ClientSecret Populate Secret: " SECRET1 " Extra: 1\n",
          VEIL_EXAPI_ARG);
  device_free(d);
}

Test(device_secret, second_populate_must_be_a_jwe_under_the_old_secret) {
  device_t *d = mk_device(NULL);
  populate(d);
  refused(d, "xCommand Security ClientSecret Populate Secret: " SECRET2 "\n", VEIL_EJWE_FORMAT);
  /* A blob under a secret the device does not hold fails authentication. */
  refused_populate(d, blob(d, SECRET2, "populate", SECRET2), VEIL_EAUTH);
  device_free(d);
}

Test(device_secret, rotation_refuses_another_salt) {
  device_t *d = mk_device(NULL);
  populate(d);
  uint8_t salt[16];
  device_salt(d, salt);
  salt[0] ^= 1;
  refused_populate(d, blob_salt(SECRET1, salt, 16, JWE_A256GCM, "populate", SECRET2),
                   VEIL_EDEV_SALT);
  refused_populate(d, blob_salt(SECRET1, salt, 8, JWE_A256GCM, "populate", SECRET2),
                   VEIL_EDEV_SALT); /* shorter salt */
  device_free(d);
}

Test(device_secret, refuses_a_blob_made_for_another_command) {
  device_t *d = mk_device(NULL);
  populate(d);
  refused_populate(d, blob(d, SECRET1, "add", SECRET2), VEIL_EDEV_ACTION);
  device_free(d);
}

Test(device_secret, refuses_a_tampered_blob) {
  device_t *d = mk_device(NULL);
  populate(d);
  char *b = blob(d, SECRET1, "populate", SECRET2);
  char *last = strrchr(b, '.') + 1; /* flip a tag character (keeps canonical base64url) */
  last[0] = last[0] == 'A' ? 'B' : 'A';
  refused_populate(d, b, VEIL_EAUTH);
  device_free(d);
}

Test(device_secret, rotation_with_a128gcm_reseals_stored_keys) {
  room_t r = room_active();
  device_t *d = r.d;
  uint8_t old_salt[16], new_salt[16];
  device_salt(d, old_salt);
  char *sealed_before = snap(d);
  char *key_before = saved_member(sealed_before, 1, "key");
  char *k_before = saved_member(sealed_before, 0, "sealed_k");
  /* A128GCM uses the first 16 bytes of the stored 32-byte K (scrypt prefix property). */
  char *b = blob_salt(SECRET1, old_salt, 16, JWE_A128GCM, "populate", SECRET2);
  char *text = cmd_text(CMD_POPULATE, b), *out = run_out(d, text);
  device_salt(d, new_salt);
  cr_assert_arr_neq(old_salt, new_salt, 16);
  cr_assert_str_eq(field(out, "Salt"), status(d, "Security ClientSecret Salt", "Salt"));
  free(out);
  char *sealed_after = snap(d);
  cr_assert_str_neq(sealed_before, sealed_after);
  char *key_after = saved_member(sealed_after, 1, "key");
  char *k_after = saved_member(sealed_after, 0, "sealed_k");
  cr_assert_str_neq(key_before, key_after, "the private key was re-sealed");
  cr_assert_str_neq(k_before, k_after, "the new K was sealed");
  /* The key still opens after rotation and matches the certificate. */
  uint8_t priv[32], pub[65], resealed[32];
  veil_view_t chain[X509_CHAIN_MAX];
  size_t n;
  cr_assert_eq(device_identity_key(d, priv, chain, &n), 0);
  x509_info_t info;
  cr_assert_eq(x509_parse_info(chain[0].ptr, chain[0].len, &info), 0);
  cr_assert_eq(vc_sig_public(VC_ECDSA_P256_SHA256, priv, pub), 0);
  cr_assert_arr_eq(pub, info.public_key, 65);
  /* ... sealed under the new salt's key, which the old salt's no longer opens */
  cr_assert_eq(open_documented(test_kek, new_salt, INFO_KEY, info.sha256_hex, key_after, resealed),
               0);
  cr_assert_arr_eq(resealed, priv, 32);
  cr_assert_eq(open_documented(test_kek, old_salt, INFO_KEY, info.sha256_hex, key_after, resealed),
               VEIL_EAUTH);
  free(key_before);
  free(key_after);
  free(k_before);
  free(k_after);
  /* The old secret no longer works, the new one does. */
  refused(d, text, VEIL_EDEV_SALT);
  free(text);
  free(b);
  b = blob(d, SECRET2, "populate", SECRET1);
  text = cmd_text(CMD_POPULATE, b);
  run_ok(d, text);
  free(text);
  free(b);
  free(sealed_before);
  free(sealed_after);
  room_free(&r);
}

/* ---- certificates ------------------------------------------------------------------- */

Test(device_certs, add_requires_a_populated_secret) {
  device_t *d = mk_device(NULL);
  const char *fake = "xCommand Security Certificates Services Add\n"
                     "eyJhbGciOiJkaXIifQ..AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA\n.\n";
  refused(d, fake, VEIL_EDEV_NOSECRET);
  device_free(d);
}

Test(device_certs, add_keeps_the_private_key_only_sealed) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  char *out;
  int rc = add_cert(d, &c, &out);
  cr_assert_eq(rc, 0, "%s:\n%s", veil_errname(rc), out);
  char *fp = sha1_of(&c);
  cr_assert_str_eq(field(out, "Fingerprint"), fp);
  free(out);
  vc_sig_t type;
  uint8_t priv[32];
  cr_assert_eq(pemkey_decode(c.key_pem, strlen(c.key_pem), &type, priv), 0);
  char *json = snap(d);
  assert_absent(json, priv, 32, "the private key");
  cr_assert_null(strstr(json, "PRIVATE KEY"));
  /* What is there is the key, sealed under the KEK with the certificate's fingerprint. */
  uint8_t salt[16], opened[32];
  device_salt(d, salt);
  char *sealed = saved_member(json, 1, "key");
  x509_info_t info;
  veil_view_t der[X509_CHAIN_MAX];
  int nder = x509_pem_to_der(c.cert_pem, strlen(c.cert_pem), der, X509_CHAIN_MAX);
  cr_assert_gt(nder, 0);
  cr_assert_eq(x509_parse_info(der[0].ptr, der[0].len, &info), 0);
  for (int i = 0; i < nder; i++)
    free((void *)der[i].ptr);
  cr_assert_eq(open_documented(test_kek, salt, INFO_KEY, info.sha256_hex, sealed, opened), 0);
  cr_assert_arr_eq(opened, priv, 32);
  cr_assert_eq(open_documented(other_kek, salt, INFO_KEY, info.sha256_hex, sealed, opened),
               VEIL_EAUTH, "another KEK does not open it");
  free(sealed);
  free(json);
  out = run_out(d, CMD_SHOW);
  cr_assert_str_eq(field(out, "Fingerprint"), fp);
  cr_assert_str_eq(field(out, "SubjectName"), "CN=Room 1");
  free(out);
  free(fp);
  fx_free(&c);
  device_free(d);
}

Test(device_certs, refuses_ed25519_certificate) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = fx_issue("org", CA_CERT_DEVICE, "room9.acme.example", "Room 9", CA_KEY_ED25519,
                         (int64_t)time(NULL));
  char *pem = bundle(&c);
  refused_add(d, pem, VEIL_EDEV_CERTKEY);
  free(pem);
  fx_free(&c);
  device_free(d);
}

Test(device_certs, refuses_a_key_that_is_not_the_certificates) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t a = dev_cert(), b2 = dev_cert();
  fx_cert_t mixed = {a.cert_pem, b2.key_pem};
  char *pem = bundle(&mixed);
  refused_add(d, pem, VEIL_EDEV_KEYMISMATCH);
  free(pem);
  fx_free(&a);
  fx_free(&b2);
  device_free(d);
}

Test(device_certs, refuses_bundles_without_certificate_or_key) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  const char *parts[] = {c.cert_pem, c.key_pem, "just text"};
  for (int i = 0; i < 3; i++)
    refused_add(d, parts[i], VEIL_EDEV_PEM);
  fx_free(&c);
  device_free(d);
}

Test(device_certs, refuses_duplicates_and_add_without_body) {
  room_t r = room_with_cert();
  device_t *d = r.d;
  char *pem = bundle(&r.c);
  refused_add(d, pem, VEIL_EEXIST);
  /* The certificate as an argument instead of a body is not the command's form. */
  refused(d, "xCommand Security Certificates Services Add Certificate: x\n.\n", VEIL_EXAPI_ARG);
  free(pem);
  room_free(&r);
}

Test(device_certs, activate_makes_the_external_identity_valid) {
  device_t *d = mk_device(NULL);
  populate(d);
  cr_assert_str_eq(availability(d), "NotAvailable");
  fx_cert_t c = dev_cert();
  add_cert_ok(d, &c);
  cr_assert_str_eq(external_valid(d), "False");
  char *fp = sha1_of(&c);
  services_ok(d, "Activate", "WebexIdentity", fp, "activate");
  cr_assert_str_eq(external_valid(d), "True");
  cr_assert_str_eq(status(d, ST_EXTERNAL, "Identity"), "room1.acme.example");
  fx_json_str_eq(status(d, ST_EXTERNAL " CertInfo", "CertInfo"), "sha1", fp);
  cr_assert_str_eq(availability(d), "Available");
  /* Show reports the purpose. */
  char *out = run_out(d, CMD_SHOW);
  cr_assert_str_eq(field(out, "Purpose"), "WebexIdentity");
  free(out);
  free(fp);
  fx_free(&c);
  device_free(d);
}

Test(device_certs, activate_refuses_bad_fingerprints_and_purposes) {
  room_t r = room_with_cert();
  device_t *d = r.d;
  const char *fp = r.fp;
  /* the plain fingerprint, not a JWE */
  refused_with(d,
               "xCommand Security Certificates Services Activate Purpose: WebexIdentity "
               "Fingerprint: %s\n",
               fp, VEIL_EJWE_FORMAT);
  refused_services(d, "Activate", "WebexIdentity", "0000000000000000000000000000000000000000",
                   "activate", VEIL_EDEV_FINGERPRINT);
  refused_services(d, "Activate", "Coffee", fp, "activate", VEIL_EDEV_PURPOSE);
  refused_services(d, "Activate", "WebexIdentity", fp, "deactivate", VEIL_EDEV_ACTION);
  refused(d, "xCommand Security Certificates Services Activate Purpose: WebexIdentity\n",
          VEIL_EXAPI_ARG);
  /* deactivating what is not active */
  refused_services(d, "Deactivate", "WebexIdentity", fp, "deactivate", VEIL_EDEV_FINGERPRINT);
  room_free(&r);
}

Test(device_certs, deactivate_and_delete) {
  room_t r = room_active();
  device_t *d = r.d;
  const char *fp = r.fp;
  cr_assert_eq(identity_key_rc(d), 0, "active before the Deactivate");
  services_ok(d, "Deactivate", "WebexIdentity", fp, "deactivate");
  cr_assert_str_eq(external_valid(d), "False");
  cr_assert_eq(identity_key_rc(d), VEIL_ENOTFOUND);
  char *b = blob(d, SECRET1, "delete", fp), *text = cmd_text(CMD_DELETE, b);
  run_ok(d, text);
  refused(d, text, VEIL_EDEV_FINGERPRINT);
  char *out = run_out(d, CMD_SHOW);
  cr_assert_null(field(out, "Fingerprint"));
  free(out);
  free(text);
  free(b);
  room_free(&r);
}

Test(device_certs, anchors_decide_validity_when_configured) {
  char *org = fx_ca_pem("org");
  x509_trust_t *t = x509_trust_new();
  cr_assert_eq(x509_trust_add_pem(t, org, strlen(org), X509_ANCHOR_ORGANISATION, "acme"), 0);
  device_t *d = mk_device(t);
  populate(d);
  fx_cert_t other = fx_issue("other", CA_CERT_DEVICE, "room1.acme.example", "Room 1",
                             CA_KEY_P256, (int64_t)time(NULL));
  char *fp = add_and_activate(d, &other);
  cr_assert_str_eq(external_valid(d), "False",
                   "a certificate from an unknown CA is not a valid external identity");
  free(fp);
  fx_cert_t good = dev_cert();
  fp = add_and_activate(d, &good);
  cr_assert_str_eq(external_valid(d), "True");
  /* and the validity period is checked on the device's clock */
  fake_clock += 31 * 86400;
  cr_assert_str_eq(external_valid(d), "False");
  free(fp);
  fx_free(&good);
  fx_free(&other);
  device_free(d);
  x509_trust_free(t);
  free(org);
}

/* ---- configuration and statuses ------------------------------------------------------ */

Test(device_config, mode_and_preferred_domain) {
  device_t *d = mk_device(NULL);
  run_ok(d, "xConfiguration Conference EndToEndEncryption Mode: off\n");
  char *out = run_out(d, "xConfiguration Conference EndToEndEncryption\n");
  cr_assert_str_eq(field(out, "Mode"), "Off");
  free(out);
  refused(d, "xConfiguration Conference EndToEndEncryption Mode: Maybe\n", VEIL_EXAPI_ARG);
  refused(d, "xConfiguration Conference EndToEndEncryption Colour: On\n", VEIL_EXAPI_UNKNOWN);
  refused(d, "xConfiguration Conference EndToEndEncryption Identity PreferredDomain: \"a b\"\n",
          VEIL_EXAPI_ARG);
  refused(d, "xConfiguration Nothing\n", VEIL_EXAPI_UNKNOWN);
  refused(d, "xConfiguration Conference EndToEndEncryption Mode: On Other: 1\n", VEIL_EXAPI_ARG);
  run_ok(d, "xConfiguration Conference EndToEndEncryption Identity PreferredDomain: "
            "acme.example\n");
  out = run_out(d, "xConfiguration Conference EndToEndEncryption Identity\n");
  cr_assert_str_eq(field(out, "PreferredDomain"), "acme.example");
  free(out);
  device_free(d);
}

Test(device_config, preferred_domain_must_match_the_identity) {
  room_t r = room_active();
  device_t *d = r.d;
  cr_assert_str_eq(external_valid(d), "True", "valid before any preferred domain");
  run_ok(d, "xConfiguration Conference EndToEndEncryption Identity PreferredDomain: "
            "cme.example\n");
  cr_assert_str_eq(external_valid(d), "False",
                   "a suffix that is not a label boundary does not match");
  run_ok(d, "xConfiguration Conference EndToEndEncryption Identity PreferredDomain: "
            "ACME.example\n");
  cr_assert_str_eq(external_valid(d), "True");
  cr_assert_str_eq(availability(d), "Available", "available before Mode: Off");
  run_ok(d, "xConfiguration Conference EndToEndEncryption Mode: Off\n");
  cr_assert_str_eq(availability(d), "NotAvailable");
  room_free(&r);
}

Test(device_status, unknown_paths_and_events_are_errors) {
  device_t *d = mk_device(NULL);
  refused(d, "xStatus Conference Call 7\n", VEIL_EXAPI_UNKNOWN);
  refused(d, "xStatus Conferenc\n", VEIL_EXAPI_UNKNOWN);
  refused(d, "xStatus SystemUnit Name: x\n", VEIL_EXAPI_ARG);
  refused(d, "xEvent Conference ParticipantList ParticipantAdded\n", VEIL_EXAPI_UNKNOWN);
  refused(d, "xCommand Security Launch\n", VEIL_EXAPI_UNKNOWN);
  refused(d, "xCommand Security \"x\n", VEIL_EXAPI_SYNTAX);
  device_free(d);
}

Test(device_status, internal_identity_from_the_operator) {
  device_t *d = mk_device(NULL);
  cr_assert_str_eq(status(d, ST_INTERNAL, "Valid"), "False");
  fx_cert_t c = fx_issue("operator", CA_CERT_DEVICE, "dev-42.veil.example", "Room 1",
                         CA_KEY_P256, (int64_t)time(NULL));
  veil_view_t der[2];
  int n = x509_pem_to_der(c.cert_pem, strlen(c.cert_pem), der, 2);
  cr_assert_eq(n, 1);
  cr_assert_eq(device_set_internal_identity(d, der, 1), 0);
  free((void *)der[0].ptr);
  cr_assert_str_eq(status(d, ST_INTERNAL, "Valid"), "True");
  cr_assert_str_eq(status(d, ST_INTERNAL, "Identity"), "dev-42.veil.example");
  cr_assert_str_eq(availability(d), "Available");
  fx_free(&c);
  device_free(d);
}

/* ---- persistence -------------------------------------------------------------------- */

Test(device_persist, save_load_round_trip) {
  room_t r = room_active();
  device_t *d = r.d;
  char *json = snap(d);
  device_t *e = mk_device(NULL);
  cr_assert_eq(device_load(e, json, strlen(json)), 0);
  char *again = snap(e);
  cr_assert_str_eq(json, again);
  cr_assert_str_eq(external_valid(e), "True");
  cr_assert_eq(identity_key_rc(e), 0);
  /* K came back too: the old secret's blobs still work on the loaded device. */
  services_ok(e, "Deactivate", "WebexIdentity", r.fp, "deactivate");
  free(json);
  free(again);
  room_free(&r);
  device_free(e);
}

Test(device_persist, saved_state_holds_neither_k_nor_a_private_key) {
  room_t r = room_active();
  uint8_t salt[16], sec[32], k[32], priv[32];
  vc_sig_t type;
  device_salt(r.d, salt);
  cr_assert_eq(veil_b64url_decode(SECRET1, strlen(SECRET1), sec, sizeof sec), 32);
  cr_assert_eq(jwe_derive_key(sec, 32, salt, 16, JWE_A256GCM, k), 0);
  cr_assert_eq(pemkey_decode(r.c.key_pem, strlen(r.c.key_pem), &type, priv), 0);
  char *json = snap(r.d);
  assert_absent(json, k, 32, "K");
  assert_absent(json, k, 16, "K's first half (the A128GCM key)");
  assert_absent(json, priv, 32, "the private key");
  assert_absent(json, test_kek, DEVICE_KEK_LEN, "the KEK");
  cr_assert_null(strstr(json, SECRET1));
  free(json);
  room_free(&r);
}

/* Loads `text` into `d`, expects `rc`, and the state unchanged. */
static void load_refused(device_t *d, const char *text, int rc) {
  char *before = snap(d);
  int got = device_load(d, text, strlen(text));
  cr_assert_eq(got, rc, "expected %s, got %s", veil_errname(rc), veil_errname(got));
  char *after = snap(d);
  cr_assert_str_eq(before, after, "a refused load changed the state");
  free(before);
  free(after);
}

Test(device_persist, another_kek_is_refused_and_changes_nothing) {
  room_t r = room_active();
  char *json = snap(r.d);
  device_t *e = mk_device_kek(NULL, other_kek);
  populate(e); /* it has its own state, which must survive */
  load_refused(e, json, VEIL_EDEV_KEK);
  cr_assert_str_eq(external_valid(e), "False");
  /* Also when nothing is sealed yet: the check value tells the KEK apart. */
  device_t *fresh = mk_device(NULL);
  char *empty = snap(fresh);
  load_refused(e, empty, VEIL_EDEV_KEK);
  /* The right KEK opens it. */
  device_t *same = mk_device_kek(NULL, test_kek);
  cr_assert_eq(device_load(same, json, strlen(json)), 0);
  cr_assert_eq(identity_key_rc(same), 0);
  free(empty);
  free(json);
  device_free(same);
  device_free(fresh);
  device_free(e);
  room_free(&r);
}

Test(device_persist, version_1_with_k_in_clear_is_refused) {
  room_t r = room_with_cert();
  /* What version 1 wrote: K in clear beside the keys it sealed. */
  load_refused(r.d,
               "{\"version\":1,\"has_secret\":true,\"salt\":\"AAECAwQFBgcICQoLDA0ODw\","
               "\"k\":\"ERERERERERERERERERERERERERERERERERERERERERE\",\"mode\":\"On\","
               "\"preferred_domain\":\"\",\"internal\":[],\"certs\":[],\"active\":{}}",
               VEIL_EDEV_STATEVERSION);
  const char *v1 = "{\"version\":1,\"k\":\"AA\"}";
  cr_assert_eq(device_state_version(v1, strlen(v1)), VEIL_EDEV_STATEVERSION);
  char *json = snap(r.d);
  cr_assert_eq(device_state_version(json, strlen(json)), 0);
  cr_assert_eq(device_state_version("{\"version\":3}", 13), VEIL_EDEV_STATEFILE);
  cr_assert_eq(device_state_version("not json", 8), VEIL_EDEV_STATEFILE);
  free(json);
  room_free(&r);
}

/* `json` with a top-level member (or the first certificate's, `cert`) set to `value`, or
 * removed when `value` is NULL; malloc'd. */
static char *with_member(const char *json, int cert, const char *name, const char *value) {
  json_t *o = json_loads(json, 0, NULL);
  cr_assert_not_null(o);
  json_t *in = cert ? json_array_get(json_object_get(o, "certs"), 0) : o;
  cr_assert_not_null(in);
  if (value)
    cr_assert_eq(json_object_set_new(in, name, json_string(value)), 0);
  else
    cr_assert_eq(json_object_del(in, name), 0);
  char *out = json_dumps(o, 0);
  json_decref(o);
  return out;
}

/* `json` with the first character of a base64url member changed (still canonical). */
static char *with_flipped(const char *json, int cert, const char *name) {
  char *v = saved_member(json, cert, name);
  cr_assert_not_null(v);
  v[0] = v[0] == 'A' ? 'B' : 'A';
  char *out = with_member(json, cert, name, v);
  free(v);
  return out;
}

Test(device_persist, tampered_sealed_members_are_refused) {
  room_t r = room_active();
  device_t *d = r.d;
  char *json = snap(d);
  char *bad[] = {
      with_flipped(json, 0, "sealed_k"),
      with_flipped(json, 1, "key"),
      with_flipped(json, 0, "salt"), /* K and the keys are bound to the salt */
      with_flipped(json, 0, "kek_check"),
      with_member(json, 0, "sealed_k", NULL),
      with_member(json, 0, "kek_check", NULL),
      with_member(json, 0, "k", "ERERERERERERERERERERERERERERERERERERERERERE"),
  };
  int want[] = {VEIL_EDEV_STATEFILE, VEIL_EDEV_STATEFILE, VEIL_EDEV_STATEFILE, VEIL_EDEV_KEK,
                VEIL_EDEV_STATEFILE, VEIL_EDEV_STATEFILE, VEIL_EDEV_STATEFILE};
  device_t *e = mk_device(NULL);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    load_refused(e, bad[i], want[i]);
    free(bad[i]);
  }
  cr_assert_eq(device_load(e, json, strlen(json)), 0, "the untampered state loads");
  /* A device without a secret holds no sealed K. */
  device_t *fresh = mk_device(NULL);
  char *empty = snap(fresh), *sealed_k = saved_member(json, 0, "sealed_k");
  char *extra = with_member(empty, 0, "sealed_k", sealed_k);
  load_refused(e, extra, VEIL_EDEV_STATEFILE);
  free(extra);
  free(sealed_k);
  free(empty);
  device_free(fresh);
  free(json);
  device_free(e);
  room_free(&r);
}

Test(device_persist, load_refuses_corrupt_state_and_keeps_the_old) {
  room_t r = room_with_cert();
  device_t *d = r.d;
  char *json = snap(d);
  const char *bad[] = {
      "{}",
      "not json",
      "{\"version\":3}",
      "{\"version\":2}",
      "{\"version\":\"1\"}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(device_load(d, bad[i], strlen(bad[i])), VEIL_EDEV_STATEFILE, "%zu", i);
  /* a well-sealed state with a short salt */
  char *short_salt = with_member(json, 0, "salt", "AA");
  cr_assert_eq(device_load(d, short_salt, strlen(short_salt)), VEIL_EDEV_STATEFILE);
  free(short_salt);
  /* an active purpose naming an unknown certificate */
  char *active = strdup(json);
  char *p = strstr(active, "\"active\": {}");
  cr_assert_not_null(p);
  char *broken = malloc(strlen(active) + 128);
  cr_assert_not_null(broken);
  sprintf(broken, "%.*s\"active\": {\"WebexIdentity\": \"00\"}%s", (int)(p - active), active,
          p + strlen("\"active\": {}"));
  cr_assert_eq(device_load(d, broken, strlen(broken)), VEIL_EDEV_STATEFILE);
  char *after = snap(d);
  cr_assert_str_eq(json, after);
  free(after);
  free(broken);
  free(active);
  free(json);
  room_free(&r);
}
