/*
 * ICE-lite responder (RFC 8445 §7.3) and consent freshness (RFC 7675): who gets an
 * answer, who can select or move the pair, when consent expires.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sfu/ice.h"

#define LUFRAG "SfUu"
#define LPWD "sfuPassword0123456789+/x"
#define RUFRAG "cLiE"

static const sfu_stun_addr_t addr_a = {.family = 4, .port = 40000, .addr = {192, 0, 2, 10}};
static const sfu_stun_addr_t addr_b = {.family = 4, .port = 40001, .addr = {192, 0, 2, 11}};

static sfu_ice_t *mk(uint64_t consent_ms) {
  sfu_ice_t *ice = NULL;
  sfu_ice_config_t cfg = {.local_ufrag = LUFRAG, .local_pwd = LPWD, .remote_ufrag = RUFRAG,
                          .consent_timeout_ms = consent_ms};
  cr_assert_eq(sfu_ice_new(&cfg, &ice), 0);
  return ice;
}

typedef struct req {
  const char *username;
  const char *pwd;
  int controlling;
  int use_candidate;
} req_t;

static size_t build(uint8_t *b, size_t cap, const req_t *r) {
  static uint8_t tid[12];
  tid[0]++;
  sfu_stun_request_params_t p = {.tid = tid, .username = r->username, .priority = 100,
                                 .controlling = r->controlling, .tiebreaker = 42,
                                 .use_candidate = r->use_candidate,
                                 .key = (const uint8_t *)r->pwd, .key_len = strlen(r->pwd)};
  size_t n;
  cr_assert_eq(sfu_stun_encode_binding_request(b, cap, &p, &n), 0);
  return n;
}

static const req_t good = {LUFRAG ":" RUFRAG, LPWD, 1, 0};
static const req_t nominate = {LUFRAG ":" RUFRAG, LPWD, 1, 1};

static int feed(sfu_ice_t *ice, const req_t *r, const sfu_stun_addr_t *from, uint64_t now,
                sfu_ice_result_t *res, uint8_t *out) {
  uint8_t b[512];
  size_t n = build(b, sizeof(b), r);
  return sfu_ice_handle_stun(ice, b, n, from, now, out, SFU_ICE_MAX_RESPONSE, res);
}

Test(ice, answers_valid_request_with_authenticated_success) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[512], out[SFU_ICE_MAX_RESPONSE];
  size_t n = build(b, sizeof(b), &good);
  sfu_ice_result_t res;
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1000, out, sizeof(out), &res), 0);
  cr_assert_gt(res.response_len, 0);
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(out, res.response_len, &m), 0);
  cr_assert_eq(m.cls, SFU_STUN_SUCCESS);
  cr_assert_eq(memcmp(m.tid, b + 8, 12), 0);
  cr_assert(sfu_stun_addr_equal(&m.xor_mapped, &addr_a));
  cr_assert_eq(sfu_stun_verify_integrity(&m, (const uint8_t *)LPWD, strlen(LPWD)), 0);
  cr_assert_eq(sfu_stun_verify_fingerprint(&m), 0);
  /* No USE-CANDIDATE: answered, but nothing selected. */
  cr_assert_eq(res.events, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  cr_assert_eq(sfu_ice_next_deadline(ice), SFU_ICE_NO_DEADLINE);
  sfu_ice_free(ice);
}

Test(ice, ignores_request_with_bad_integrity) {
  sfu_ice_t *ice = mk(0);
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  req_t r = {LUFRAG ":" RUFRAG, "wrong-password-0123456789", 1, 1};
  cr_assert_eq(feed(ice, &r, &addr_a, 1, &res, out), VEIL_ESTUN_INTEGRITY);
  cr_assert_eq(res.response_len, 0);
  cr_assert_eq(res.events, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

Test(ice, ignores_request_with_corrupted_mac_byte) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[512], out[SFU_ICE_MAX_RESPONSE];
  size_t n = build(b, sizeof(b), &nominate);
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(b, n, &m), 0);
  b[m.mi_offset + 4] ^= 1;
  /* The FINGERPRINT now mismatches too; either check must drop it. */
  sfu_ice_result_t res;
  cr_assert_lt(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, sizeof(out), &res), 0);
  cr_assert_eq(res.response_len, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

Test(ice, ignores_request_with_bad_fingerprint_even_if_mac_is_valid) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[512], out[SFU_ICE_MAX_RESPONSE];
  size_t n = build(b, sizeof(b), &nominate);
  b[n - 1] ^= 1;
  sfu_ice_result_t res;
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, sizeof(out), &res),
               VEIL_ESTUN_FINGERPRINT);
  cr_assert_eq(res.response_len, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

Test(ice, accepts_valid_request_without_fingerprint) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[512], out[SFU_ICE_MAX_RESPONSE];
  size_t n = build(b, sizeof(b), &nominate);
  /* Strip FINGERPRINT (last 8 bytes) and fix the length: MI still covers the rest. */
  n -= 8;
  b[2] = (uint8_t)((n - 20) >> 8);
  b[3] = (uint8_t)(n - 20);
  sfu_ice_result_t res;
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, sizeof(out), &res), 0);
  cr_assert_gt(res.response_len, 0);
  cr_assert_eq(res.events, SFU_ICE_EV_SELECTED);
  sfu_ice_free(ice);
}

Test(ice, ignores_request_with_wrong_username) {
  sfu_ice_t *ice = mk(0);
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  const char *bad[] = {RUFRAG ":" LUFRAG, LUFRAG ":other", LUFRAG ":" RUFRAG "x",
                       LUFRAG ":" "cLi", LUFRAG, LUFRAG "x:" RUFRAG, ":" RUFRAG};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    req_t r = {bad[i], LPWD, 1, 1};
    cr_assert_eq(feed(ice, &r, &addr_a, 1, &res, out), VEIL_EICE_USERNAME, "%s", bad[i]);
    cr_assert_eq(res.response_len, 0);
  }
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

Test(ice, ignores_request_before_remote_ufrag_is_known) {
  sfu_ice_t *ice = NULL;
  sfu_ice_config_t cfg = {.local_ufrag = LUFRAG, .local_pwd = LPWD};
  cr_assert_eq(sfu_ice_new(&cfg, &ice), 0);
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  cr_assert_eq(feed(ice, &nominate, &addr_a, 1, &res, out), VEIL_EICE_NOREMOTE);
  cr_assert_eq(res.response_len, 0);
  cr_assert_eq(sfu_ice_set_remote_ufrag(ice, RUFRAG), 0);
  cr_assert_eq(feed(ice, &nominate, &addr_a, 2, &res, out), 0);
  cr_assert_eq(res.events, SFU_ICE_EV_SELECTED);
  sfu_ice_free(ice);
}

Test(ice, ignores_responses_and_indications) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[256], out[SFU_ICE_MAX_RESPONSE];
  size_t n;
  uint8_t tid[12] = {0};
  cr_assert_eq(sfu_stun_encode_binding_success(b, sizeof(b), tid, &addr_a,
                                               (const uint8_t *)LPWD, strlen(LPWD), &n), 0);
  sfu_ice_result_t res;
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, sizeof(out), &res),
               VEIL_EICE_NOTREQUEST);
  cr_assert_eq(res.response_len, 0);
  sfu_ice_free(ice);
}

Test(ice, ignores_malformed_stun) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[512], out[SFU_ICE_MAX_RESPONSE];
  size_t n = build(b, sizeof(b), &nominate);
  sfu_ice_result_t res;
  for (size_t i = 0; i < n; i++) {
    cr_assert_lt(sfu_ice_handle_stun(ice, b, i, &addr_a, 1, out, sizeof(out), &res), 0);
    cr_assert_eq(res.response_len, 0);
  }
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

Test(ice, use_candidate_selects_the_pair) {
  sfu_ice_t *ice = mk(0);
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  cr_assert_eq(feed(ice, &nominate, &addr_a, 5000, &res, out), 0);
  cr_assert_eq(res.events, SFU_ICE_EV_SELECTED);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_SELECTED);
  sfu_stun_addr_t sel;
  cr_assert_eq(sfu_ice_selected(ice, &sel), 0);
  cr_assert(sfu_stun_addr_equal(&sel, &addr_a));
  cr_assert_eq(sfu_ice_next_deadline(ice), 5000 + SFU_ICE_DEFAULT_CONSENT_MS);
  /* Re-nomination of the same pair: no event. */
  cr_assert_eq(feed(ice, &nominate, &addr_a, 6000, &res, out), 0);
  cr_assert_eq(res.events, 0);
  sfu_ice_free(ice);
}

Test(ice, switches_pair_only_on_authenticated_nomination) {
  sfu_ice_t *ice = mk(0);
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  cr_assert_eq(feed(ice, &nominate, &addr_a, 1, &res, out), 0);
  /* A forged nomination from B (wrong password) does not move the path. */
  req_t forged = {LUFRAG ":" RUFRAG, "attacker-password-012345", 1, 1};
  cr_assert_lt(feed(ice, &forged, &addr_b, 2, &res, out), 0);
  sfu_stun_addr_t sel;
  sfu_ice_selected(ice, &sel);
  cr_assert(sfu_stun_addr_equal(&sel, &addr_a));
  /* A valid check from B without USE-CANDIDATE is answered but does not move it. */
  cr_assert_eq(feed(ice, &good, &addr_b, 3, &res, out), 0);
  cr_assert_gt(res.response_len, 0);
  cr_assert_eq(res.events, 0);
  sfu_ice_selected(ice, &sel);
  cr_assert(sfu_stun_addr_equal(&sel, &addr_a));
  /* A valid nomination from B moves it. */
  cr_assert_eq(feed(ice, &nominate, &addr_b, 4, &res, out), 0);
  cr_assert_eq(res.events, SFU_ICE_EV_SWITCHED);
  sfu_ice_selected(ice, &sel);
  cr_assert(sfu_stun_addr_equal(&sel, &addr_b));
  sfu_ice_free(ice);
}

Test(ice, answers_role_conflict_when_peer_claims_controlled) {
  sfu_ice_t *ice = mk(0);
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  req_t r = {LUFRAG ":" RUFRAG, LPWD, 0, 1};
  cr_assert_eq(feed(ice, &r, &addr_a, 1, &res, out), 0);
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(out, res.response_len, &m), 0);
  cr_assert_eq(m.cls, SFU_STUN_ERROR);
  cr_assert_eq(m.error_code, 487);
  cr_assert_eq(sfu_stun_verify_integrity(&m, (const uint8_t *)LPWD, strlen(LPWD)), 0);
  /* An error answer never selects. */
  cr_assert_eq(res.events, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

/* Builds a request by hand so it can lack role attributes or carry unknown ones. */
static size_t build_custom(uint8_t *b, size_t cap, int with_role, int unknown_attr) {
  uint8_t tid[12] = {9};
  veil_writer_t w;
  sfu_stun_builder_t sb;
  size_t n;
  veil_writer_init(&w, b, cap);
  sfu_stun_begin(&sb, &w, SFU_STUN_METHOD_BINDING, SFU_STUN_REQUEST, tid);
  sfu_stun_put_attr(&sb, SFU_STUN_ATTR_USERNAME, LUFRAG ":" RUFRAG, strlen(LUFRAG ":" RUFRAG));
  sfu_stun_put_u32(&sb, SFU_STUN_ATTR_PRIORITY, 1);
  if (with_role)
    sfu_stun_put_u64(&sb, SFU_STUN_ATTR_ICE_CONTROLLING, 7);
  if (unknown_attr)
    sfu_stun_put_u32(&sb, 0x7abc, 1);
  sfu_stun_put_attr(&sb, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  sfu_stun_put_integrity(&sb, (const uint8_t *)LPWD, strlen(LPWD));
  sfu_stun_put_fingerprint(&sb);
  cr_assert_eq(sfu_stun_finish(&sb, &n), 0);
  return n;
}

Test(ice, answers_bad_request_when_role_attribute_missing) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[256], out[SFU_ICE_MAX_RESPONSE];
  size_t n = build_custom(b, sizeof(b), 0, 0);
  sfu_ice_result_t res;
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, sizeof(out), &res), 0);
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(out, res.response_len, &m), 0);
  cr_assert_eq(m.error_code, 400);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

Test(ice, answers_unknown_attribute_with_420_and_selects_nothing) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[256], out[SFU_ICE_MAX_RESPONSE];
  size_t n = build_custom(b, sizeof(b), 1, 1);
  sfu_ice_result_t res;
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, sizeof(out), &res), 0);
  sfu_stun_msg_t m;
  cr_assert_eq(sfu_stun_parse(out, res.response_len, &m), 0);
  cr_assert_eq(m.error_code, 420);
  cr_assert_eq(res.events, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

Test(ice, consent_expires_after_timeout_without_checks) {
  sfu_ice_t *ice = mk(0);
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  cr_assert_eq(feed(ice, &nominate, &addr_a, 1000, &res, out), 0);
  cr_assert_eq(sfu_ice_on_timeout(ice, 1000 + 29999, &res), 0);
  cr_assert_eq(res.events, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_SELECTED);
  cr_assert_eq(sfu_ice_on_timeout(ice, 1000 + 30000, &res), 0);
  cr_assert_eq(res.events, SFU_ICE_EV_EXPIRED);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_EXPIRED);
  cr_assert_eq(sfu_ice_next_deadline(ice), SFU_ICE_NO_DEADLINE);
  /* Reported once. */
  cr_assert_eq(sfu_ice_on_timeout(ice, 1000 + 40000, &res), 0);
  cr_assert_eq(res.events, 0);
  sfu_ice_free(ice);
}

Test(ice, consent_refreshed_only_by_valid_checks_on_the_selected_pair) {
  sfu_ice_t *ice = mk(10000);
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  cr_assert_eq(feed(ice, &nominate, &addr_a, 0, &res, out), 0);
  cr_assert_eq(sfu_ice_next_deadline(ice), 10000);
  /* Valid check on the pair at t=8000 refreshes. */
  cr_assert_eq(feed(ice, &good, &addr_a, 8000, &res, out), 0);
  cr_assert_eq(sfu_ice_next_deadline(ice), 18000);
  /* Valid check from another address does not. */
  cr_assert_eq(feed(ice, &good, &addr_b, 9000, &res, out), 0);
  cr_assert_eq(sfu_ice_next_deadline(ice), 18000);
  /* Bad integrity from the selected address does not. */
  req_t bad = {LUFRAG ":" RUFRAG, "not-the-password-0123456", 1, 0};
  cr_assert_lt(feed(ice, &bad, &addr_a, 9500, &res, out), 0);
  cr_assert_eq(sfu_ice_next_deadline(ice), 18000);
  cr_assert_eq(sfu_ice_on_timeout(ice, 18000, &res), 0);
  cr_assert_eq(res.events, SFU_ICE_EV_EXPIRED);
  sfu_ice_free(ice);
}

Test(ice, expired_consent_is_terminal_and_late_checks_do_not_revive_it) {
  sfu_ice_t *ice = mk(1000);
  uint8_t out[SFU_ICE_MAX_RESPONSE];
  sfu_ice_result_t res;
  cr_assert_eq(feed(ice, &nominate, &addr_a, 0, &res, out), 0);
  /* The timer has not run yet, but the check arrives after the deadline: dropped, and
   * the expiry is still reported by the (due) timeout, never swallowed by the drop. */
  cr_assert_eq(feed(ice, &nominate, &addr_a, 1000, &res, out), VEIL_EICE_EXPIRED);
  cr_assert_eq(res.events, 0);
  cr_assert_eq(res.response_len, 0);
  cr_assert_leq(sfu_ice_next_deadline(ice), 1000);
  cr_assert_eq(sfu_ice_on_timeout(ice, 1000, &res), 0);
  cr_assert_eq(res.events, SFU_ICE_EV_EXPIRED);
  cr_assert_eq(feed(ice, &nominate, &addr_a, 1001, &res, out), VEIL_EICE_EXPIRED);
  cr_assert_eq(res.events, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_EXPIRED);
  sfu_ice_free(ice);
}

Test(ice, output_too_small_sends_nothing_and_changes_nothing) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[512], out[SFU_ICE_MAX_RESPONSE];
  size_t n = build(b, sizeof(b), &nominate);
  sfu_ice_result_t res;
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, 40, &res), VEIL_EOVERFLOW);
  cr_assert_eq(res.response_len, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

Test(ice, generates_credentials_of_the_required_length_and_alphabet) {
  sfu_ice_t *a = NULL, *b = NULL;
  sfu_ice_config_t cfg = {0};
  cr_assert_eq(sfu_ice_new(&cfg, &a), 0);
  cr_assert_eq(sfu_ice_new(&cfg, &b), 0);
  const char *u = sfu_ice_local_ufrag(a), *p = sfu_ice_local_pwd(a);
  cr_assert_geq(strlen(u), SFU_ICE_UFRAG_MIN);
  cr_assert_geq(strlen(p), SFU_ICE_PWD_MIN);
  cr_assert_eq(strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
               strlen(p));
  cr_assert_str_neq(sfu_ice_local_pwd(a), sfu_ice_local_pwd(b));
  cr_assert_str_neq(sfu_ice_local_ufrag(a), sfu_ice_local_ufrag(b));
  sfu_ice_free(a);
  sfu_ice_free(b);
}

Test(ice, rejects_weak_or_malformed_configured_credentials) {
  sfu_ice_t *ice = NULL;
  sfu_ice_config_t c1 = {.local_ufrag = "abc", .local_pwd = LPWD};
  cr_assert_eq(sfu_ice_new(&c1, &ice), VEIL_EINVAL);
  sfu_ice_config_t c2 = {.local_ufrag = LUFRAG, .local_pwd = "shortPassword01234567"};
  cr_assert_eq(sfu_ice_new(&c2, &ice), VEIL_EINVAL);
  sfu_ice_config_t c3 = {.local_ufrag = "ab:cd", .local_pwd = LPWD};
  cr_assert_eq(sfu_ice_new(&c3, &ice), VEIL_EINVAL);
  sfu_ice_config_t c4 = {.local_ufrag = LUFRAG, .local_pwd = LPWD, .remote_ufrag = "a b"};
  cr_assert_eq(sfu_ice_new(&c4, &ice), VEIL_EINVAL);
  cr_assert_null(ice);
}

Test(ice, host_candidate_priority_and_format) {
  cr_assert_eq(sfu_ice_priority(126, 65535, 1), 2130706431u);
  sfu_ice_candidate_t c;
  sfu_stun_addr_t a = {.family = 4, .port = 3478, .addr = {198, 51, 100, 1}};
  cr_assert_eq(sfu_ice_host_candidate(&c, &a, 0), 0);
  char s[128];
  cr_assert_eq(sfu_ice_candidate_format(&c, s, sizeof(s)), 0);
  char want[128];
  snprintf(want, sizeof(want), "candidate:40 1 udp %u 198.51.100.1 3478 typ host", c.priority);
  cr_assert_str_eq(s, want);
  cr_assert_eq(c.priority >> 24, 126);
  cr_assert_eq(sfu_ice_candidate_format(&c, s, 20), VEIL_EOVERFLOW);
}

Test(ice, ignores_request_without_message_integrity) {
  sfu_ice_t *ice = mk(0);
  uint8_t b[256], out[SFU_ICE_MAX_RESPONSE];
  uint8_t tid[12] = {3};
  veil_writer_t w;
  sfu_stun_builder_t sb;
  size_t n;
  veil_writer_init(&w, b, sizeof(b));
  sfu_stun_begin(&sb, &w, SFU_STUN_METHOD_BINDING, SFU_STUN_REQUEST, tid);
  sfu_stun_put_attr(&sb, SFU_STUN_ATTR_USERNAME, LUFRAG ":" RUFRAG, strlen(LUFRAG ":" RUFRAG));
  sfu_stun_put_u64(&sb, SFU_STUN_ATTR_ICE_CONTROLLING, 1);
  sfu_stun_put_attr(&sb, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  sfu_stun_put_fingerprint(&sb);
  cr_assert_eq(sfu_stun_finish(&sb, &n), 0);
  sfu_ice_result_t res;
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, sizeof(out), &res),
               VEIL_ESTUN_INTEGRITY);
  cr_assert_eq(res.response_len, 0);
  /* MESSAGE-INTEGRITY-SHA256 alone is not what RFC 8445 ICE uses: also dropped. */
  veil_writer_init(&w, b, sizeof(b));
  sfu_stun_begin(&sb, &w, SFU_STUN_METHOD_BINDING, SFU_STUN_REQUEST, tid);
  sfu_stun_put_attr(&sb, SFU_STUN_ATTR_USERNAME, LUFRAG ":" RUFRAG, strlen(LUFRAG ":" RUFRAG));
  sfu_stun_put_u64(&sb, SFU_STUN_ATTR_ICE_CONTROLLING, 1);
  sfu_stun_put_attr(&sb, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  sfu_stun_put_integrity_sha256(&sb, (const uint8_t *)LPWD, strlen(LPWD));
  cr_assert_eq(sfu_stun_finish(&sb, &n), 0);
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, sizeof(out), &res),
               VEIL_ESTUN_INTEGRITY);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}

Test(ice, unauthenticated_attributes_after_the_mac_cannot_nominate) {
  /* A valid check without USE-CANDIDATE, with USE-CANDIDATE appended after
   * MESSAGE-INTEGRITY by an on-path attacker (and FINGERPRINT recomputed): ignored. */
  sfu_ice_t *ice = mk(0);
  uint8_t b[256], out[SFU_ICE_MAX_RESPONSE];
  uint8_t tid[12] = {4};
  veil_writer_t w;
  sfu_stun_builder_t sb;
  size_t n;
  veil_writer_init(&w, b, sizeof(b));
  sfu_stun_begin(&sb, &w, SFU_STUN_METHOD_BINDING, SFU_STUN_REQUEST, tid);
  sfu_stun_put_attr(&sb, SFU_STUN_ATTR_USERNAME, LUFRAG ":" RUFRAG, strlen(LUFRAG ":" RUFRAG));
  sfu_stun_put_u64(&sb, SFU_STUN_ATTR_ICE_CONTROLLING, 1);
  sfu_stun_put_integrity(&sb, (const uint8_t *)LPWD, strlen(LPWD));
  sfu_stun_put_attr(&sb, SFU_STUN_ATTR_USE_CANDIDATE, NULL, 0);
  sfu_stun_put_fingerprint(&sb);
  cr_assert_eq(sfu_stun_finish(&sb, &n), 0);
  sfu_ice_result_t res;
  cr_assert_eq(sfu_ice_handle_stun(ice, b, n, &addr_a, 1, out, sizeof(out), &res), 0);
  cr_assert_gt(res.response_len, 0);
  cr_assert_eq(res.events, 0);
  cr_assert_eq(sfu_ice_state(ice), SFU_ICE_WAITING);
  sfu_ice_free(ice);
}
