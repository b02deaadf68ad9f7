/* Unit tests: signaling message validation (signaling/sig_msg.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "common/err.h"
#include "signaling/sig_msg.h"
#include "signaling/sig_text.h"

static int parse(const char *s, sig_msg_t *m) {
  char why[128];
  long long id;
  int rc = sig_msg_parse(s, strlen(s), m, why, sizeof why, &id);
  if (rc == 0)
    sig_msg_release(m);
  return rc;
}

static int rc_of(const char *s) {
  sig_msg_t m;
  return parse(s, &m);
}

#define PUB_OK                                                                                                   \
  "{\"type\":\"publish\",\"kind\":\"video\",\"mid\":\"1\",\"ssrc\":1,\"rtx_ssrc\":2,\"rid\":\"h\","     \
  "\"codec\":{\"name\":\"vp8\",\"payload_type\":96,\"clock_rate\":90000},"                                    \
  "\"header_extensions\":[{\"uri\":\"urn:ietf:params:rtp-hdrext:sdes:mid\",\"id\":1}]}"

Test(sig_msg, accepts_every_valid_type) {
  const char *ok[] = {
      "{\"type\":\"ping\"}",
      "{\"type\":\"ping\",\"id\":0}",
      "{\"type\":\"leave\",\"id\":2147483647}",
      "{\"type\":\"join\",\"token\":\"a.b.c\",\"room\":\"r\",\"display_name\":\"Zoë\","
      "\"capabilities\":{\"codecs\":[\"opus\"],\"simulcast\":true,\"mls\":true}}",
      "{\"type\":\"transport_connect\",\"dtls\":{\"role\":\"client\",\"fingerprints\":[{\"algorithm\":\"sha-256\","
      "\"value\":\"AB:CD\"}]},\"ice\":{\"ufrag\":\"abcd\",\"pwd\":\"0123456789012345678901\"}}",
      PUB_OK,
      "{\"type\":\"unpublish\",\"track_id\":\"t1\"}",
      "{\"type\":\"subscribe\",\"track_id\":\"t1\"}",
      "{\"type\":\"unsubscribe\",\"track_id\":\"t1\"}",
      "{\"type\":\"admit\",\"participant_id\":\"p1\"}",
      "{\"type\":\"reject\",\"participant_id\":\"p1\"}",
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    cr_assert_eq(rc_of(ok[i]), 0, "%s", ok[i]);
}

Test(sig_msg, rejects_invalid_json_and_duplicate_keys) {
  cr_assert_eq(rc_of("{"), VEIL_ESIG_MALFORMED);
  cr_assert_eq(rc_of(""), VEIL_ESIG_MALFORMED);
  cr_assert_eq(rc_of("{\"type\":\"ping\"} x"), VEIL_ESIG_MALFORMED);
  cr_assert_eq(rc_of("{\"type\":\"ping\",\"type\":\"leave\"}"), VEIL_ESIG_MALFORMED);
  cr_assert_eq(rc_of("{\"type\":\"ping\\u0000\"}"), VEIL_ESIG_MALFORMED);
  cr_assert_eq(rc_of("{\"type\":\"\xff\"}"), VEIL_ESIG_MALFORMED);
}

Test(sig_msg, rejects_nesting_beyond_the_bound) {
  char deep[256] = "{\"type\":\"ping\",\"x\":";
  for (int i = 0; i < 10; i++)
    strcat(deep, "[");
  for (int i = 0; i < 10; i++)
    strcat(deep, "]");
  strcat(deep, "}");
  cr_assert_eq(rc_of(deep), VEIL_ESIG_MALFORMED);
  /* brackets inside strings do not count */
  cr_assert(!sig_json_depth_exceeds("{\"a\":\"[[[[[[[[[[[[\"}", 19, 2));
  cr_assert(!sig_json_depth_exceeds("{\"a\":\"\\\"[[[[[[[[\"}", 18, 2));
}

Test(sig_msg, rejects_non_objects_and_missing_or_unknown_type) {
  cr_assert_eq(rc_of("[]"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("\"ping\""), VEIL_ESIG_MALFORMED); /* jansson: top level must be a container */
  cr_assert_eq(rc_of("{}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":1}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"PING\"}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"pong\"}"), VEIL_ESIG_SCHEMA);
}

Test(sig_msg, rejects_unknown_members_at_every_level) {
  cr_assert_eq(rc_of("{\"type\":\"ping\",\"x\":1}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"join\",\"token\":\"t\",\"room\":\"r\",\"capabilities\":{\"video\":true}}"),
               VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"publish\",\"kind\":\"audio\",\"mid\":\"0\",\"ssrc\":1,"
                     "\"codec\":{\"name\":\"opus\",\"payload_type\":111,\"clock_rate\":48000,\"fec\":true}}"),
               VEIL_ESIG_SCHEMA);
}

Test(sig_msg, rejects_wrong_types_and_missing_required) {
  cr_assert_eq(rc_of("{\"type\":\"join\",\"room\":\"r\"}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"join\",\"token\":1,\"room\":\"r\"}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"ping\",\"id\":\"1\"}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"ping\",\"id\":1.0}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"ping\",\"id\":true}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"join\",\"token\":\"t\",\"room\":\"r\",\"capabilities\":[]}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"join\",\"token\":\"t\",\"room\":\"r\",\"capabilities\":{\"mls\":1}}"),
               VEIL_ESIG_SCHEMA);
}

Test(sig_msg, rejects_out_of_range_numbers) {
  cr_assert_eq(rc_of("{\"type\":\"ping\",\"id\":-1}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"ping\",\"id\":2147483648}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"ping\",\"id\":99999999999999999999999}"), VEIL_ESIG_MALFORMED);
  /* SSRC 0 and > 2^32-1; payload type outside the dynamic range; extension id 15 */
  cr_assert_eq(rc_of("{\"type\":\"publish\",\"kind\":\"audio\",\"mid\":\"0\",\"ssrc\":0,"
                     "\"codec\":{\"name\":\"opus\",\"payload_type\":111,\"clock_rate\":48000}}"),
               VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"publish\",\"kind\":\"audio\",\"mid\":\"0\",\"ssrc\":4294967296,"
                     "\"codec\":{\"name\":\"opus\",\"payload_type\":111,\"clock_rate\":48000}}"),
               VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"publish\",\"kind\":\"audio\",\"mid\":\"0\",\"ssrc\":1,"
                     "\"codec\":{\"name\":\"opus\",\"payload_type\":8,\"clock_rate\":48000}}"),
               VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"publish\",\"kind\":\"audio\",\"mid\":\"0\",\"ssrc\":1,"
                     "\"codec\":{\"name\":\"opus\",\"payload_type\":111,\"clock_rate\":48000},"
                     "\"header_extensions\":[{\"uri\":\"x\",\"id\":15}]}"),
               VEIL_ESIG_SCHEMA);
}

Test(sig_msg, rejects_oversized_strings_and_arrays) {
  char buf[8192];
  snprintf(buf, sizeof buf, "{\"type\":\"join\",\"token\":\"t\",\"room\":\"%065d\"}", 0);
  cr_assert_eq(rc_of(buf), VEIL_ESIG_SCHEMA);
  snprintf(buf, sizeof buf, "{\"type\":\"join\",\"token\":\"t\",\"room\":\"%064d\"}", 0);
  cr_assert_eq(rc_of(buf), 0);
  cr_assert_eq(rc_of("{\"type\":\"publish\",\"kind\":\"video\",\"mid\":\"0\",\"ssrc\":[1,2],"
                     "\"codec\":{\"name\":\"vp8\",\"payload_type\":96,\"clock_rate\":90000}}"),
               VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"publish\",\"kind\":\"video\",\"mid\":\"0\",\"ssrc\":1,"
                     "\"codec\":{\"name\":\"vp8\",\"payload_type\":96,\"clock_rate\":90000},"
                     "\"header_extensions\":[{\"uri\":\"a\",\"id\":1},{\"uri\":\"b\",\"id\":2},{\"uri\":\"c\","
                     "\"id\":3},{\"uri\":\"d\",\"id\":4},{\"uri\":\"e\",\"id\":5},{\"uri\":\"f\",\"id\":6},"
                     "{\"uri\":\"g\",\"id\":7},{\"uri\":\"h\",\"id\":8},{\"uri\":\"i\",\"id\":9},{\"uri\":\"j\","
                     "\"id\":10},{\"uri\":\"k\",\"id\":11},{\"uri\":\"l\",\"id\":12},{\"uri\":\"m\",\"id\":13},"
                     "{\"uri\":\"n\",\"id\":14},{\"uri\":\"o\",\"id\":14}]}"),
               VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"join\",\"token\":\"\",\"room\":\"r\"}"), VEIL_ESIG_SCHEMA);
}

Test(sig_msg, rejects_unknown_enum_values_and_unsafe_identifiers) {
  cr_assert_eq(rc_of("{\"type\":\"publish\",\"kind\":\"data\",\"mid\":\"0\",\"ssrc\":1,"
                     "\"codec\":{\"name\":\"opus\",\"payload_type\":111,\"clock_rate\":48000}}"),
               VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"transport_connect\",\"dtls\":{\"role\":\"client\",\"fingerprints\":"
                     "[{\"algorithm\":\"sha-256\",\"value\":\"AB\"}]}}"),
               VEIL_ESIG_SCHEMA); /* ice is required */
  cr_assert_eq(rc_of("{\"type\":\"transport_connect\",\"dtls\":{\"role\":\"both\",\"fingerprints\":"
                     "[{\"algorithm\":\"sha-256\",\"value\":\"AB\"}]}}"),
               VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"transport_connect\",\"dtls\":{\"role\":\"client\",\"fingerprints\":"
                     "[{\"algorithm\":\"md5\",\"value\":\"AB\"}]}}"),
               VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"subscribe\",\"track_id\":\"t 1\"}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"join\",\"token\":\"t\",\"room\":\"r/../x\"}"), VEIL_ESIG_SCHEMA);
  cr_assert_eq(rc_of("{\"type\":\"join\",\"token\":\"t\",\"room\":\"r\",\"display_name\":\"a\\u0007b\"}"),
               VEIL_ESIG_SCHEMA);
}

Test(sig_msg, reports_request_id_even_when_invalid) {
  sig_msg_t m;
  char why[128] = "";
  long long id = 0;
  const char *s = "{\"type\":\"ping\",\"id\":77,\"bogus\":true}";
  cr_assert_eq(sig_msg_parse(s, strlen(s), &m, why, sizeof why, &id), VEIL_ESIG_SCHEMA);
  cr_assert_eq(id, 77);
  cr_assert(strstr(why, "bogus"), "why=%s", why);
}
