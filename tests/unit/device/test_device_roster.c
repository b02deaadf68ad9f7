/* Unit tests: in-call statuses, ParticipantList Search and roster xEvents of a room device,
 * fed through the roster interface the meeting code uses. */
#include <jansson.h>

#include "device_helpers.h"

static verify_status_t member(const char *ca, const char *email, const char *name,
                              const x509_trust_t *t) {
  fx_cred_t r = fx_cred(ca, CA_CERT_USER, email, name, CA_KEY_P256);
  verify_status_t st = fx_judge(t, &r, NULL);
  fx_cred_free(&r);
  return st;
}

static device_call_info_t info(const char *code) {
  device_call_info_t i = {.e2ee = 1};
  snprintf(i.security_code, sizeof i.security_code, "%s", code);
  snprintf(i.media_encryption, sizeof i.media_encryption, "SFrame AES_128_GCM_SHA256_128");
  snprintf(i.group_encryption, sizeof i.group_encryption,
           "MLS_128_DHKEMP256_AES128GCM_SHA256_P256");
  return i;
}

/* xStatus Conference Call <call> EndToEndEncryption <what>: the value of `name`. */
static const char *call_status(device_t *d, int call, const char *what, const char *name) {
  char path[256];
  snprintf(path, sizeof path, "Conference Call %d EndToEndEncryption %s", call, what);
  return status(d, path, name);
}

/* The field `name` of roster participant `n` of `call`. */
static const char *participant(device_t *d, int call, int n, const char *name) {
  char what[64];
  snprintf(what, sizeof what, "Roster Participant %d", n);
  return call_status(d, call, what, name);
}

Test(device_roster, in_call_statuses_follow_the_roster) {
  x509_trust_t *t = fx_trust();
  device_t *d = mk_device(t);
  device_call_info_t ci = info("12345 67890 13579");
  cr_assert_eq(device_call_begin(d, 1, &ci), 0);
  cr_assert_eq(device_call_begin(d, 1, &ci), VEIL_EEXIST);
  verify_status_t alice = member("org", "alice@acme.example", "Alice", t);
  verify_status_t bob = member("operator", "bob@veil.example", "Bob", t);
  verify_status_t eve = member("rogue", "eve@acme.example", "Eve", t);
  cr_assert_eq(device_roster_upsert(d, 1, "leaf-1", &alice), 0);
  cr_assert_eq(device_roster_upsert(d, 1, "leaf-2", &bob), 0);
  cr_assert_eq(device_roster_upsert(d, 1, "leaf-3", &eve), 0);

  cr_assert_str_eq(call_status(d, 1, "Status", "Status"), "On");
  cr_assert_str_eq(call_status(d, 1, "SecurityCode", "SecurityCode"), "12345 67890 13579");
  cr_assert_str_eq(call_status(d, 1, "MediaEncryption", "Type"), "SFrame AES_128_GCM_SHA256_128");
  cr_assert_str_eq(call_status(d, 1, "GroupEncryption", "Type"),
                   "MLS_128_DHKEMP256_AES128GCM_SHA256_P256");
  cr_assert_str_eq(participant(d, 1, 1, "Id"), "leaf-1");
  cr_assert_str_eq(participant(d, 1, 1, "Status"), "ExternallyVerified");
  cr_assert_str_eq(participant(d, 1, 1, "Identity"), "alice@acme.example");
  cr_assert_str_eq(participant(d, 1, 1, "DisplayName"), "Alice");
  fx_json_str_eq(participant(d, 1, 1, "CertInfo"), "anchor", "acme");
  cr_assert_str_eq(participant(d, 1, 2, "Status"), "OperatorVerified");
  cr_assert_str_eq(participant(d, 1, 3, "Status"), "Unverified");

  /* A participant leaving keeps the others' numbers; the departed number is gone. */
  cr_assert_eq(device_roster_remove(d, 1, "leaf-2"), 0);
  cr_assert_eq(device_roster_remove(d, 1, "leaf-2"), VEIL_ENOTFOUND);
  cr_assert_str_eq(participant(d, 1, 3, "Id"), "leaf-3");
  refused(d, "xStatus Conference Call 1 EndToEndEncryption Roster Participant 2\n",
          VEIL_EXAPI_UNKNOWN);

  /* The security code changes with the epoch. */
  ci = info("99999 88888 77777");
  cr_assert_eq(device_call_update(d, 1, &ci), 0);
  cr_assert_str_eq(call_status(d, 1, "SecurityCode", "SecurityCode"), "99999 88888 77777");
  cr_assert_eq(device_call_end(d, 1), 0);
  refused(d, "xStatus Conference Call 1\n", VEIL_EXAPI_UNKNOWN);
  verify_status_clear(&alice);
  verify_status_clear(&bob);
  verify_status_clear(&eve);
  device_free(d);
  x509_trust_free(t);
}

Test(device_roster, changes_arrive_as_events) {
  x509_trust_t *t = fx_trust();
  device_t *d = mk_device(t);
  device_call_info_t ci = info("1");
  cr_assert_eq(device_call_begin(d, 3, &ci), 0);
  verify_status_t alice = member("org", "alice@acme.example", "Alice", t);
  cr_assert_eq(device_roster_upsert(d, 3, "leaf-1", &alice), 0);
  cr_assert_eq(events.n, 1);
  cr_assert_not_null(strstr(events.text[0], "*e Conference ParticipantList ParticipantAdded "
                                            "ParticipantId: \"leaf-1\"\n"));
  cr_assert_str_eq(field(events.text[0], "CallId"), "3");
  cr_assert_str_eq(field(events.text[0], "E2EEStatus"), "ExternallyVerified");
  cr_assert_not_null(strstr(events.text[0], "** end\n"));
  /* The same member with a changed credential is an update, not a second member. */
  verify_status_t basic;
  cr_assert_eq(verify_basic_credential((const uint8_t *)"alice", 5, "Alice", &basic), 0);
  cr_assert_eq(device_roster_upsert(d, 3, "leaf-1", &basic), 0);
  cr_assert_eq(events.n, 2);
  cr_assert_not_null(strstr(events.text[1], "ParticipantUpdated"));
  cr_assert_str_eq(field(events.text[1], "E2EEStatus"), "Unverified");
  cr_assert_eq(device_roster_remove(d, 3, "leaf-1"), 0);
  cr_assert_eq(events.n, 3);
  cr_assert_not_null(strstr(events.text[2], "ParticipantDeleted"));
  /* unknown call */
  cr_assert_eq(device_roster_upsert(d, 4, "leaf-1", &alice), VEIL_ENOTFOUND);
  cr_assert_eq(events.n, 3);
  verify_status_clear(&alice);
  verify_status_clear(&basic);
  device_free(d);
  x509_trust_free(t);
}

Test(device_roster, participant_list_search_pages_with_e2ee_fields) {
  x509_trust_t *t = fx_trust();
  device_t *d = mk_device(t);
  refused(d, "xCommand Conference ParticipantList Search\n", VEIL_ENOTFOUND);
  device_call_info_t ci = info("1");
  cr_assert_eq(device_call_begin(d, 5, &ci), 0);
  verify_status_t alice = member("org", "alice@acme.example", "Alice", t);
  char id[16];
  for (int i = 0; i < 5; i++) {
    snprintf(id, sizeof id, "leaf-%d", i);
    cr_assert_eq(device_roster_upsert(d, 5, id, &alice), 0);
  }
  char *out;
  cr_assert_eq(run(d, "xCommand Conference ParticipantList Search CallId: 5 Offset: 3 Limit: 1\n",
                   &out), 0, "%s", out);
  cr_assert_str_eq(field(out, "ParticipantId"), "leaf-3");
  cr_assert_str_eq(field(out, "E2EEStatus"), "ExternallyVerified");
  cr_assert_str_eq(field(out, "E2EEIdentity"), "alice@acme.example");
  cr_assert_str_eq(field(out, "TotalRows"), "5");
  cr_assert_null(strstr(out, "Participant 2 "));
  free(out);
  refused(d, "xCommand Conference ParticipantList Search CallId: 6\n", VEIL_ENOTFOUND);
  refused(d, "xCommand Conference ParticipantList Search Limit: -1\n", VEIL_EXAPI_ARG);
  refused(d, "xCommand Conference ParticipantList Search Limit: 99999\n", VEIL_EXAPI_ARG);
  refused(d, "xCommand Conference ParticipantList Search Colour: red\n", VEIL_EXAPI_ARG);
  verify_status_clear(&alice);
  device_free(d);
  x509_trust_free(t);
}

Test(device_roster, roster_is_bounded) {
  device_t *d = mk_device(NULL);
  device_call_info_t ci = info("1");
  for (uint32_t i = 0; i < DEVICE_CALLS_MAX; i++)
    cr_assert_eq(device_call_begin(d, i + 10, &ci), 0);
  cr_assert_eq(device_call_begin(d, 99, &ci), VEIL_ELIMIT);
  verify_status_t b;
  cr_assert_eq(verify_basic_credential((const uint8_t *)"x\x01y", 3, NULL, &b), 0);
  cr_assert_str_eq(b.identity, "x?y");
  char id[16];
  for (int i = 0; i < DEVICE_ROSTER_MAX; i++) {
    snprintf(id, sizeof id, "m%d", i);
    cr_assert_eq(device_roster_upsert(d, 10, id, &b), 0);
  }
  cr_assert_eq(device_roster_upsert(d, 10, "one-more", &b), VEIL_ELIMIT);
  cr_assert_eq(events.n, DEVICE_ROSTER_MAX, "a refused member emits nothing");
  char longid[DEVICE_ID_MAX + 1];
  memset(longid, 'a', DEVICE_ID_MAX);
  longid[DEVICE_ID_MAX] = '\0';
  cr_assert_eq(device_roster_upsert(d, 11, longid, &b), VEIL_EINVAL);
  cr_assert_eq(device_roster_upsert(d, 11, "", &b), VEIL_EINVAL);
  verify_status_clear(&b);
  device_free(d);
}
