/* Unit tests: room device state and commands (clients/device/device_state.h). Every refusal
 * is checked to leave the saved state byte-for-byte unchanged. */
#include <jansson.h>

#include "clients/lib/identity/pemkey.h"
#include "device_helpers.h"

static fx_cert_t dev_cert(void) {
  return fx_issue("org", CA_CERT_DEVICE, "room1.acme.example", "Room 1", CA_KEY_P256,
                  (int64_t)time(NULL));
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
  json_t *o = json_loads(json, 0, NULL);
  const char *kb = json_string_value(json_object_get(o, "k"));
  uint8_t stored[32];
  cr_assert_eq(veil_b64url_decode(kb, strlen(kb), stored, 32), 32);
  cr_assert_arr_eq(stored, k, 32, "K = scrypt(secret, salt)");
  cr_assert_null(strstr(json, SECRET1), "the secret itself is never stored");
  json_decref(o);
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
  char *b = blob(d, SECRET2, "populate", SECRET2), text[1024];
  snprintf(text, sizeof text, "xCommand Security ClientSecret Populate Secret: %s\n", b);
  refused(d, text, VEIL_EAUTH);
  free(b);
  device_free(d);
}

Test(device_secret, rotation_refuses_another_salt) {
  device_t *d = mk_device(NULL);
  populate(d);
  uint8_t salt[16];
  device_salt(d, salt);
  salt[0] ^= 1;
  char *b = blob_salt(SECRET1, salt, 16, JWE_A256GCM, "populate", SECRET2), text[1024];
  snprintf(text, sizeof text, "xCommand Security ClientSecret Populate Secret: %s\n", b);
  refused(d, text, VEIL_EDEV_SALT);
  free(b);
  b = blob_salt(SECRET1, salt, 8, JWE_A256GCM, "populate", SECRET2); /* shorter salt */
  snprintf(text, sizeof text, "xCommand Security ClientSecret Populate Secret: %s\n", b);
  refused(d, text, VEIL_EDEV_SALT);
  free(b);
  device_free(d);
}

Test(device_secret, refuses_a_blob_made_for_another_command) {
  device_t *d = mk_device(NULL);
  populate(d);
  char *b = blob(d, SECRET1, "add", SECRET2), text[1024];
  snprintf(text, sizeof text, "xCommand Security ClientSecret Populate Secret: %s\n", b);
  refused(d, text, VEIL_EDEV_ACTION);
  free(b);
  device_free(d);
}

Test(device_secret, refuses_a_tampered_blob) {
  device_t *d = mk_device(NULL);
  populate(d);
  char *b = blob(d, SECRET1, "populate", SECRET2), text[1024];
  char *last = strrchr(b, '.') + 1; /* flip a tag character (keeps canonical base64url) */
  last[0] = last[0] == 'A' ? 'B' : 'A';
  snprintf(text, sizeof text, "xCommand Security ClientSecret Populate Secret: %s\n", b);
  refused(d, text, VEIL_EAUTH);
  free(b);
  device_free(d);
}

Test(device_secret, rotation_with_a128gcm_reseals_stored_keys) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  char *out;
  cr_assert_eq(add_cert(d, &c, &out), 0, "%s", out);
  free(out);
  char *fp = sha1_of(&c), *t = activate_text(d, "Activate", "WebexIdentity", fp, "activate");
  cr_assert_eq(run(d, t, NULL), 0);
  free(t);
  uint8_t old_salt[16], new_salt[16];
  device_salt(d, old_salt);
  char *sealed_before = snap(d);
  /* A128GCM uses the first 16 bytes of the stored 32-byte K (scrypt prefix property). */
  char *b = blob_salt(SECRET1, old_salt, 16, JWE_A128GCM, "populate", SECRET2), text[1024];
  snprintf(text, sizeof text, "xCommand Security ClientSecret Populate Secret: %s\n", b);
  cr_assert_eq(run(d, text, &out), 0, "%s", out);
  device_salt(d, new_salt);
  cr_assert_arr_neq(old_salt, new_salt, 16);
  cr_assert_str_eq(field(out, "Salt"), status(d, "Security ClientSecret Salt", "Salt"));
  free(out);
  char *sealed_after = snap(d);
  cr_assert_str_neq(sealed_before, sealed_after);
  /* The key still opens after rotation and matches the certificate. */
  uint8_t priv[32], pub[65];
  veil_view_t chain[X509_CHAIN_MAX];
  size_t n;
  cr_assert_eq(device_identity_key(d, priv, chain, &n), 0);
  x509_info_t info;
  cr_assert_eq(x509_parse_info(chain[0].ptr, chain[0].len, &info), 0);
  cr_assert_eq(vc_sig_public(VC_ECDSA_P256_SHA256, priv, pub), 0);
  cr_assert_arr_eq(pub, info.public_key, 65);
  /* The old secret no longer works, the new one does. */
  refused(d, text, VEIL_EDEV_SALT);
  free(b);
  b = blob(d, SECRET2, "populate", SECRET1);
  snprintf(text, sizeof text, "xCommand Security ClientSecret Populate Secret: %s\n", b);
  cr_assert_eq(run(d, text, NULL), 0);
  free(b);
  free(sealed_before);
  free(sealed_after);
  free(fp);
  fx_free(&c);
  device_free(d);
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
  cr_assert_eq(add_cert(d, &c, &out), 0, "%s", out);
  char *fp = sha1_of(&c);
  cr_assert_str_eq(field(out, "Fingerprint"), fp);
  free(out);
  vc_sig_t type;
  uint8_t priv[32];
  cr_assert_eq(pemkey_decode(c.key_pem, strlen(c.key_pem), &type, priv), 0);
  char hex[65], b64[64];
  veil_hex_encode(priv, 32, hex);
  veil_b64url_encode(priv, 32, b64);
  char *json = snap(d);
  cr_assert_null(strstr(json, hex));
  cr_assert_null(strstr(json, b64));
  cr_assert_null(strstr(json, "PRIVATE KEY"));
  free(json);
  cr_assert_eq(run(d, "xCommand Security Certificates Services Show\n", &out), 0);
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
  char *pem = bundle(&c), *b = blob(d, SECRET1, "add", pem), text[8192];
  snprintf(text, sizeof text, "xCommand Security Certificates Services Add\n%s\n.\n", b);
  refused(d, text, VEIL_EDEV_CERTKEY);
  free(pem);
  free(b);
  fx_free(&c);
  device_free(d);
}

Test(device_certs, refuses_a_key_that_is_not_the_certificates) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t a = dev_cert(), b2 = dev_cert();
  fx_cert_t mixed = {a.cert_pem, b2.key_pem};
  char *pem = bundle(&mixed), *b = blob(d, SECRET1, "add", pem), text[8192];
  snprintf(text, sizeof text, "xCommand Security Certificates Services Add\n%s\n.\n", b);
  refused(d, text, VEIL_EDEV_KEYMISMATCH);
  free(pem);
  free(b);
  fx_free(&a);
  fx_free(&b2);
  device_free(d);
}

Test(device_certs, refuses_bundles_without_certificate_or_key) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  const char *parts[] = {c.cert_pem, c.key_pem, "just text"};
  for (int i = 0; i < 3; i++) {
    char *b = blob(d, SECRET1, "add", parts[i]), text[8192];
    snprintf(text, sizeof text, "xCommand Security Certificates Services Add\n%s\n.\n", b);
    refused(d, text, VEIL_EDEV_PEM);
    free(b);
  }
  fx_free(&c);
  device_free(d);
}

Test(device_certs, refuses_duplicates_and_add_without_body) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  cr_assert_eq(add_cert(d, &c, NULL), 0);
  char *pem = bundle(&c), *b = blob(d, SECRET1, "add", pem), text[8192];
  snprintf(text, sizeof text, "xCommand Security Certificates Services Add\n%s\n.\n", b);
  refused(d, text, VEIL_EEXIST);
  /* The certificate as an argument instead of a body is not the command's form. */
  refused(d, "xCommand Security Certificates Services Add Certificate: x\n.\n", VEIL_EXAPI_ARG);
  free(pem);
  free(b);
  fx_free(&c);
  device_free(d);
}

Test(device_certs, activate_makes_the_external_identity_valid) {
  device_t *d = mk_device(NULL);
  populate(d);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption Availability", "Availability"),
                   "NotAvailable");
  fx_cert_t c = dev_cert();
  cr_assert_eq(add_cert(d, &c, NULL), 0);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption ExternalIdentity", "Valid"), "False");
  char *fp = sha1_of(&c), *t = activate_text(d, "Activate", "WebexIdentity", fp, "activate");
  char *out;
  cr_assert_eq(run(d, t, &out), 0, "%s", out);
  free(out);
  free(t);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption ExternalIdentity", "Valid"), "True");
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption ExternalIdentity", "Identity"),
                   "room1.acme.example");
  const char *info = status(d, "Conference EndToEndEncryption ExternalIdentity CertInfo",
                            "CertInfo");
  json_t *o = json_loads(info, 0, NULL);
  cr_assert_not_null(o, "CertInfo is JSON: %s", info);
  cr_assert_str_eq(json_string_value(json_object_get(o, "sha1")), fp);
  json_decref(o);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption Availability", "Availability"),
                   "Available");
  /* Show reports the purpose. */
  cr_assert_eq(run(d, "xCommand Security Certificates Services Show\n", &out), 0);
  cr_assert_str_eq(field(out, "Purpose"), "WebexIdentity");
  free(out);
  free(fp);
  fx_free(&c);
  device_free(d);
}

Test(device_certs, activate_refuses_bad_fingerprints_and_purposes) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  cr_assert_eq(add_cert(d, &c, NULL), 0);
  char *fp = sha1_of(&c), text[1024];
  /* the plain fingerprint, not a JWE */
  snprintf(text, sizeof text,
           "xCommand Security Certificates Services Activate Purpose: WebexIdentity "
           "Fingerprint: %s\n", fp);
  refused(d, text, VEIL_EJWE_FORMAT);
  char *t = activate_text(d, "Activate", "WebexIdentity", "0000000000000000000000000000000000000000",
                          "activate");
  refused(d, t, VEIL_EDEV_FINGERPRINT);
  free(t);
  t = activate_text(d, "Activate", "Coffee", fp, "activate");
  refused(d, t, VEIL_EDEV_PURPOSE);
  free(t);
  t = activate_text(d, "Activate", "WebexIdentity", fp, "deactivate");
  refused(d, t, VEIL_EDEV_ACTION);
  free(t);
  refused(d, "xCommand Security Certificates Services Activate Purpose: WebexIdentity\n",
          VEIL_EXAPI_ARG);
  /* deactivating what is not active */
  t = activate_text(d, "Deactivate", "WebexIdentity", fp, "deactivate");
  refused(d, t, VEIL_EDEV_FINGERPRINT);
  free(t);
  free(fp);
  fx_free(&c);
  device_free(d);
}

Test(device_certs, deactivate_and_delete) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  cr_assert_eq(add_cert(d, &c, NULL), 0);
  char *fp = sha1_of(&c), *t = activate_text(d, "Activate", "WebexIdentity", fp, "activate");
  cr_assert_eq(run(d, t, NULL), 0);
  free(t);
  t = activate_text(d, "Deactivate", "WebexIdentity", fp, "deactivate");
  cr_assert_eq(run(d, t, NULL), 0);
  free(t);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption ExternalIdentity", "Valid"), "False");
  uint8_t priv[32];
  veil_view_t chain[X509_CHAIN_MAX];
  size_t n;
  cr_assert_eq(device_identity_key(d, priv, chain, &n), VEIL_ENOTFOUND);
  char *b = blob(d, SECRET1, "delete", fp), text[1024];
  snprintf(text, sizeof text, "xCommand Security Certificates Services Delete Fingerprint: %s\n", b);
  cr_assert_eq(run(d, text, NULL), 0);
  refused(d, text, VEIL_EDEV_FINGERPRINT);
  char *out;
  cr_assert_eq(run(d, "xCommand Security Certificates Services Show\n", &out), 0);
  cr_assert_null(field(out, "Fingerprint"));
  free(out);
  free(b);
  free(fp);
  fx_free(&c);
  device_free(d);
}

Test(device_certs, anchors_decide_validity_when_configured) {
  char *org = fx_ca_pem("org");
  x509_trust_t *t = x509_trust_new();
  cr_assert_eq(x509_trust_add_pem(t, org, strlen(org), X509_ANCHOR_ORGANISATION, "acme"), 0);
  device_t *d = mk_device(t);
  populate(d);
  fx_cert_t other = fx_issue("other", CA_CERT_DEVICE, "room1.acme.example", "Room 1",
                             CA_KEY_P256, (int64_t)time(NULL));
  cr_assert_eq(add_cert(d, &other, NULL), 0);
  char *fp = sha1_of(&other), *a = activate_text(d, "Activate", "WebexIdentity", fp, "activate");
  cr_assert_eq(run(d, a, NULL), 0);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption ExternalIdentity", "Valid"), "False",
                   "a certificate from an unknown CA is not a valid external identity");
  free(a);
  free(fp);
  fx_cert_t good = dev_cert();
  cr_assert_eq(add_cert(d, &good, NULL), 0);
  fp = sha1_of(&good);
  a = activate_text(d, "Activate", "WebexIdentity", fp, "activate");
  cr_assert_eq(run(d, a, NULL), 0);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption ExternalIdentity", "Valid"), "True");
  /* and the validity period is checked on the device's clock */
  fake_clock += 31 * 86400;
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption ExternalIdentity", "Valid"), "False");
  free(a);
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
  char *out;
  cr_assert_eq(run(d, "xConfiguration Conference EndToEndEncryption Mode: off\n", NULL), 0);
  cr_assert_eq(run(d, "xConfiguration Conference EndToEndEncryption\n", &out), 0);
  cr_assert_str_eq(field(out, "Mode"), "Off");
  free(out);
  refused(d, "xConfiguration Conference EndToEndEncryption Mode: Maybe\n", VEIL_EXAPI_ARG);
  refused(d, "xConfiguration Conference EndToEndEncryption Colour: On\n", VEIL_EXAPI_UNKNOWN);
  refused(d, "xConfiguration Conference EndToEndEncryption Identity PreferredDomain: \"a b\"\n",
          VEIL_EXAPI_ARG);
  refused(d, "xConfiguration Nothing\n", VEIL_EXAPI_UNKNOWN);
  refused(d, "xConfiguration Conference EndToEndEncryption Mode: On Other: 1\n", VEIL_EXAPI_ARG);
  cr_assert_eq(run(d, "xConfiguration Conference EndToEndEncryption Identity PreferredDomain: "
                      "acme.example\n", NULL), 0);
  cr_assert_eq(run(d, "xConfiguration Conference EndToEndEncryption Identity\n", &out), 0);
  cr_assert_str_eq(field(out, "PreferredDomain"), "acme.example");
  free(out);
  device_free(d);
}

Test(device_config, preferred_domain_must_match_the_identity) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  cr_assert_eq(add_cert(d, &c, NULL), 0);
  char *fp = sha1_of(&c), *t = activate_text(d, "Activate", "WebexIdentity", fp, "activate");
  cr_assert_eq(run(d, t, NULL), 0);
  cr_assert_eq(run(d, "xConfiguration Conference EndToEndEncryption Identity PreferredDomain: "
                      "cme.example\n", NULL), 0);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption ExternalIdentity", "Valid"), "False",
                   "a suffix that is not a label boundary does not match");
  cr_assert_eq(run(d, "xConfiguration Conference EndToEndEncryption Identity PreferredDomain: "
                      "ACME.example\n", NULL), 0);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption ExternalIdentity", "Valid"), "True");
  cr_assert_eq(run(d, "xConfiguration Conference EndToEndEncryption Mode: Off\n", NULL), 0);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption Availability", "Availability"),
                   "NotAvailable");
  free(t);
  free(fp);
  fx_free(&c);
  device_free(d);
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
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption InternalIdentity", "Valid"), "False");
  fx_cert_t c = fx_issue("operator", CA_CERT_DEVICE, "dev-42.veil.example", "Room 1",
                         CA_KEY_P256, (int64_t)time(NULL));
  veil_view_t der[2];
  int n = x509_pem_to_der(c.cert_pem, strlen(c.cert_pem), der, 2);
  cr_assert_eq(n, 1);
  cr_assert_eq(device_set_internal_identity(d, der, 1), 0);
  free((void *)der[0].ptr);
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption InternalIdentity", "Valid"), "True");
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption InternalIdentity", "Identity"),
                   "dev-42.veil.example");
  cr_assert_str_eq(status(d, "Conference EndToEndEncryption Availability", "Availability"),
                   "Available");
  fx_free(&c);
  device_free(d);
}

/* ---- persistence -------------------------------------------------------------------- */

Test(device_persist, save_load_round_trip) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  cr_assert_eq(add_cert(d, &c, NULL), 0);
  char *fp = sha1_of(&c), *t = activate_text(d, "Activate", "WebexIdentity", fp, "activate");
  cr_assert_eq(run(d, t, NULL), 0);
  char *json = snap(d);
  device_t *e = mk_device(NULL);
  cr_assert_eq(device_load(e, json, strlen(json)), 0);
  char *again = snap(e);
  cr_assert_str_eq(json, again);
  cr_assert_str_eq(status(e, "Conference EndToEndEncryption ExternalIdentity", "Valid"), "True");
  uint8_t priv[32];
  veil_view_t chain[X509_CHAIN_MAX];
  size_t n;
  cr_assert_eq(device_identity_key(e, priv, chain, &n), 0);
  free(json);
  free(again);
  free(t);
  free(fp);
  fx_free(&c);
  device_free(d);
  device_free(e);
}

Test(device_persist, load_refuses_corrupt_state_and_keeps_the_old) {
  device_t *d = mk_device(NULL);
  populate(d);
  fx_cert_t c = dev_cert();
  cr_assert_eq(add_cert(d, &c, NULL), 0);
  char *json = snap(d);
  const char *bad[] = {
      "{}",
      "not json",
      "{\"version\":2}",
      "{\"version\":1,\"has_secret\":true,\"salt\":\"AA\",\"k\":\"AA\",\"mode\":\"On\","
      "\"preferred_domain\":\"\",\"internal\":[],\"certs\":[],\"active\":{}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(device_load(d, bad[i], strlen(bad[i])), VEIL_EDEV_STATEFILE, "%zu", i);
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
  fx_free(&c);
  device_free(d);
}
