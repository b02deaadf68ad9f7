/* Unit tests: room device state and commands (clients/device/device_state.h). Every refusal
 * is checked to leave the saved state byte-for-byte unchanged. */
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
  /* A128GCM uses the first 16 bytes of the stored 32-byte K (scrypt prefix property). */
  char *b = blob_salt(SECRET1, old_salt, 16, JWE_A128GCM, "populate", SECRET2);
  char *text = cmd_text(CMD_POPULATE, b), *out = run_out(d, text);
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
  char hex[65], b64[64];
  veil_hex_encode(priv, 32, hex);
  veil_b64url_encode(priv, 32, b64);
  char *json = snap(d);
  cr_assert_null(strstr(json, hex));
  cr_assert_null(strstr(json, b64));
  cr_assert_null(strstr(json, "PRIVATE KEY"));
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
  free(json);
  free(again);
  room_free(&r);
  device_free(e);
}

Test(device_persist, load_refuses_corrupt_state_and_keeps_the_old) {
  room_t r = room_with_cert();
  device_t *d = r.d;
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
  room_free(&r);
}
