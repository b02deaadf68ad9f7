/* Helpers for the device state tests: a device on a fixed clock, a shell that runs text
 * through the real xAPI stream, state snapshots, JWE blobs as veil-provision makes them, and
 * the provisioning steps (populate, add, activate) that tests build their scenarios from. */
#ifndef VEIL_TESTS_DEVICE_HELPERS_H
#define VEIL_TESTS_DEVICE_HELPERS_H

#include "clients/device/device_state.h"
#include "clients/lib/jwe/jwe.h"
#include "common/hex.h"
#include "fixtures.h"

static int64_t fake_clock;
static inline int64_t fake_now(void *c) { return *(int64_t *)c; }

typedef struct events {
  char text[32][4096];
  int n;
} events_t;
static events_t events;

static inline void on_emit(void *ctx, const char *text, size_t len) {
  events_t *e = ctx;
  cr_assert_lt(len, sizeof e->text[0]);
  if (e->n < 32) { /* later events are counted only */
    memcpy(e->text[e->n], text, len);
    e->text[e->n][len] = '\0';
  }
  e->n++;
}

/* The key-encryption key test devices are made with, and another one. */
static const uint8_t test_kek[DEVICE_KEK_LEN] = {0x4b, 0x45, 0x4b, 1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t other_kek[DEVICE_KEK_LEN] = {0x4b, 0x45, 0x4b, 9, 8, 7, 6, 5, 4, 3, 2, 1};

static inline device_t *mk_device_kek(const x509_trust_t *trust, const uint8_t *kek) {
  fake_clock = (int64_t)time(NULL);
  memset(&events, 0, sizeof events);
  device_config_t cfg = {.name = "Room 1", .now = fake_now, .clock_ctx = &fake_clock,
                         .emit = on_emit, .emit_ctx = &events, .trust = trust, .kek = kek};
  device_t *d = device_new(&cfg);
  cr_assert_not_null(d);
  return d;
}

static inline device_t *mk_device(const x509_trust_t *trust) {
  return mk_device_kek(trust, test_kek);
}

typedef struct shell_run {
  device_t *d;
  veil_writer_t out;
  int rc;
  int count;
} shell_run_t;

static inline void on_cmd(void *ctx, int rc, const xapi_cmd_t *cmd) {
  shell_run_t *s = ctx;
  s->count++;
  if (rc) {
    device_report_parse_error(rc, &s->out);
    s->rc = rc;
  } else {
    s->rc = device_execute(s->d, cmd, &s->out);
  }
}

/* Runs shell text; returns the last command's code; *out (optional) receives the output. */
static inline int run(device_t *d, const char *text, char **out) {
  shell_run_t s = {.d = d};
  veil_writer_init_growable(&s.out, 256);
  xapi_stream_t *st = xapi_stream_new(device_takes_body, on_cmd, &s);
  xapi_stream_feed(st, text, strlen(text));
  xapi_stream_free(st);
  cr_assert_eq(s.count, 1, "exactly one command per run (%s)", text);
  veil_write_u8(&s.out, 0);
  cr_assert_eq(s.out.err, 0);
  if (out)
    *out = (char *)veil_writer_steal(&s.out, &(size_t){0});
  else
    veil_writer_free(&s.out);
  return s.rc;
}

/* The value printed for `field` ("... <field>: value"), quotes removed; static buffer. */
static inline const char *field(const char *out, const char *name) {
  static char v[8192];
  char key[256];
  snprintf(key, sizeof key, " %s: ", name);
  const char *p = strstr(out, key);
  if (!p)
    return NULL;
  p += strlen(key);
  int q = *p == '"';
  p += q;
  size_t n = 0;
  while (*p && *p != '\n' && n + 1 < sizeof v) {
    if (q && *p == '\\' && p[1]) {
      p++;
    } else if (q && *p == '"') {
      break;
    }
    v[n++] = *p++;
  }
  v[n] = '\0';
  return v;
}

static inline const char *status(device_t *d, const char *path, const char *name) {
  char cmd[512], *out;
  snprintf(cmd, sizeof cmd, "xStatus %s\n", path);
  cr_assert_eq(run(d, cmd, &out), 0, "%s", out);
  const char *v = field(out, name);
  static char keep[8192];
  snprintf(keep, sizeof keep, "%s", v ? v : "(absent)");
  free(out);
  return keep;
}

/* Runs `text`, which must succeed; returns its output (free it). Not inlined: GCC 12's
 * -Wdangling-pointer mistakes the returned buffer for this frame's `out` once inlined. */
__attribute__((noinline, unused)) static char *run_out(device_t *d, const char *text) {
  char *out = NULL;
  int rc = run(d, text, &out);
  cr_assert_eq(rc, 0, "%s gave %s:\n%s", text, veil_errname(rc), out);
  return out;
}

/* Runs `text`, which must succeed. */
static inline void run_ok(device_t *d, const char *text) { free(run_out(d, text)); }

/* `fmt` with its one %s replaced by `arg`; malloc'd (free it). */
static inline char *cmd_text(const char *fmt, const char *arg) {
  size_t cap = strlen(fmt) + strlen(arg) + 1;
  char *s = malloc(cap);
  cr_assert_not_null(s);
  snprintf(s, cap, fmt, arg);
  return s;
}

/* The commands that carry a JWE blob (or a test's stand-in for one). */
#define CMD_POPULATE "xCommand Security ClientSecret Populate Secret: %s\n"
#define CMD_ADD "xCommand Security Certificates Services Add\n%s\n.\n"
#define CMD_DELETE "xCommand Security Certificates Services Delete Fingerprint: %s\n"
#define CMD_SHOW "xCommand Security Certificates Services Show\n"

/* Statuses most tests read. */
#define ST_EXTERNAL "Conference EndToEndEncryption ExternalIdentity"
#define ST_INTERNAL "Conference EndToEndEncryption InternalIdentity"
#define ST_AVAILABILITY "Conference EndToEndEncryption Availability"

static inline const char *external_valid(device_t *d) { return status(d, ST_EXTERNAL, "Valid"); }
static inline const char *availability(device_t *d) {
  return status(d, ST_AVAILABILITY, "Availability");
}

static inline char *snap(device_t *d) {
  char *json;
  size_t len;
  cr_assert_eq(device_save(d, &json, &len), 0);
  return json;
}

/* Runs `text`, expects the refusal `rc` with an Error result, and an unchanged state. */
static inline void refused(device_t *d, const char *text, int rc) {
  char *before = snap(d), *out;
  uint64_t gen = device_generation(d);
  int got = run(d, text, &out);
  cr_assert_eq(got, rc, "expected %s, got %s:\n%s", veil_errname(rc), veil_errname(got), out);
  cr_assert_not_null(strstr(out, "(status=Error)"), "%s", out);
  char *after = snap(d);
  cr_assert_str_eq(before, after, "a refused command changed the state");
  cr_assert_eq(device_generation(d), gen);
  free(before);
  free(after);
  free(out);
}

/* refused() for `fmt` filled with `arg`. */
static inline void refused_with(device_t *d, const char *fmt, const char *arg, int rc) {
  char *text = cmd_text(fmt, arg);
  refused(d, text, rc);
  free(text);
}

#define SECRET1 "ERERERERERERERERERERERERERERERERERERERERERE"
#define SECRET2 "IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiI"

static inline void device_salt(device_t *d, uint8_t salt[16]) {
  const char *s = status(d, "Security ClientSecret Salt", "Salt");
  cr_assert_eq(veil_b64url_decode(s, strlen(s), salt, 16), 16);
}

/* A JWE as veil-provision makes it, for `secret` (base64url) and `salt`. */
static inline char *blob_salt(const char *secret, const uint8_t *salt, size_t salt_len, jwe_enc_t enc,
                       const char *action, const char *pt) {
  uint8_t sec[128], key[32];
  long n = veil_b64url_decode(secret, strlen(secret), sec, sizeof sec);
  cr_assert_gt(n, 0);
  cr_assert_eq(jwe_derive_key(sec, (size_t)n, salt, salt_len, enc, key), 0);
  char *out = NULL;
  cr_assert_eq(jwe_encrypt_device(key, enc, action, salt, salt_len, NULL, (const uint8_t *)pt,
                                  strlen(pt), &out),
               0);
  return out;
}

static inline char *blob(device_t *d, const char *secret, const char *action, const char *pt) {
  uint8_t salt[16];
  device_salt(d, salt);
  return blob_salt(secret, salt, 16, JWE_A256GCM, action, pt);
}

static inline void populate(device_t *d) {
  run_ok(d, "xCommand Security ClientSecret Populate Secret: " SECRET1 "\n");
}

static inline char *bundle(const fx_cert_t *c) {
  size_t a = strlen(c->cert_pem), b = c->key_pem ? strlen(c->key_pem) : 0;
  char *s = malloc(a + b + 1);
  cr_assert_not_null(s);
  memcpy(s, c->cert_pem, a);
  if (b)
    memcpy(s + a, c->key_pem, b);
  s[a + b] = '\0';
  return s;
}

static inline int add_cert(device_t *d, const fx_cert_t *c, char **out) {
  char *pem = bundle(c), *b = blob(d, SECRET1, "add", pem), *text = cmd_text(CMD_ADD, b);
  int rc = run(d, text, out);
  free(text);
  free(b);
  free(pem);
  return rc;
}

/* Adds `c` (which must succeed). */
static inline void add_cert_ok(device_t *d, const fx_cert_t *c) {
  char *out;
  int rc = add_cert(d, c, &out);
  cr_assert_eq(rc, 0, "Add gave %s:\n%s", veil_errname(rc), out);
  free(out);
}

/* Expects Add of `pem` (sealed under the device's secret) to be refused with `rc`. */
static inline void refused_add(device_t *d, const char *pem, int rc) {
  char *b = blob(d, SECRET1, "add", pem);
  refused_with(d, CMD_ADD, b, rc);
  free(b);
}

static inline char *sha1_of(const fx_cert_t *c) {
  veil_view_t der[4];
  x509_info_t info;
  int n = x509_pem_to_der(c->cert_pem, strlen(c->cert_pem), der, 4);
  cr_assert_gt(n, 0);
  cr_assert_eq(x509_parse_info(der[0].ptr, der[0].len, &info), 0);
  for (int i = 0; i < n; i++)
    free((void *)der[i].ptr);
  return strdup(info.sha1_hex);
}

static inline char *activate_text(device_t *d, const char *verb, const char *purpose, const char *fp,
                           const char *action) {
  char *b = blob(d, SECRET1, action, fp);
  char *text = malloc(strlen(b) + 256);
  cr_assert_not_null(text);
  sprintf(text, "xCommand Security Certificates Services %s Purpose: %s Fingerprint: %s\n", verb,
          purpose, b);
  free(b);
  return text;
}

/* Runs an Activate/Deactivate for `fp` sealed as `action` (which must succeed). */
static inline void services_ok(device_t *d, const char *verb, const char *purpose, const char *fp,
                               const char *action) {
  char *t = activate_text(d, verb, purpose, fp, action);
  run_ok(d, t);
  free(t);
}

/* Expects that Activate/Deactivate to be refused with `rc`. */
static inline void refused_services(device_t *d, const char *verb, const char *purpose,
                                    const char *fp, const char *action, int rc) {
  char *t = activate_text(d, verb, purpose, fp, action);
  refused(d, t, rc);
  free(t);
}

/* Adds `c` and activates it as the WebexIdentity; returns its SHA-1 fingerprint (free it). */
static inline char *add_and_activate(device_t *d, const fx_cert_t *c) {
  add_cert_ok(d, c);
  char *fp = sha1_of(c);
  services_ok(d, "Activate", "WebexIdentity", fp, "activate");
  return fp;
}

/* What device_identity_key() says, the key itself unused. */
static inline int identity_key_rc(device_t *d) {
  uint8_t priv[32];
  veil_view_t chain[X509_CHAIN_MAX];
  size_t n;
  return device_identity_key(d, priv, chain, &n);
}

#endif
