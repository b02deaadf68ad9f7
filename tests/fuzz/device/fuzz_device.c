/* Fuzz target: the room device's command handler behind the real stream. Each input runs
 * against a device reloaded from one fixed saved state (a populated secret, no scrypt per
 * input), so inputs are independent and every command path — statuses, configurations,
 * JWE-bearing commands, searches — is reachable. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/device/device_state.h"

/* K = 32 bytes of 0x11 (the seeds' JWEs are sealed under it with this salt), sealed under
 * the KEK below as device_state.h documents, with an all-zero nonce. */
static const uint8_t kek[DEVICE_KEK_LEN] = {
    0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
    0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46};
static const char state[] =
    "{\"version\":2,\"has_secret\":true,\"salt\":\"AAECAwQFBgcICQoLDA0ODw\","
    "\"kek_check\":\"wG0zgxcQx0PXEAmYnjxdFg\","
    "\"sealed_k\":\"AAAAAAAAAAAAAAAAoj6pUl3zGdTHwhxLKSuypDKdiUG6lOlF6LpbjYNYzozaGu1dcsiQ74PMsw8cASB5\","
    "\"mode\":\"On\",\"preferred_domain\":\"\",\"internal\":[],\"certs\":[],\"active\":{}}";

typedef struct ctx {
  device_t *d;
  veil_writer_t out;
} ctx_t;

static void on_cmd(void *p, int rc, const xapi_cmd_t *cmd) {
  ctx_t *c = p;
  if (rc)
    device_report_parse_error(rc, &c->out);
  else
    device_execute(c->d, cmd, &c->out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  device_config_t cfg = {.name = "fuzz", .kek = kek};
  ctx_t c = {.d = device_new(&cfg)};
  if (!c.d)
    return 0;
  if (device_load(c.d, state, sizeof state - 1) != 0)
    abort(); /* the fixed state must load */
  device_call_info_t ci = {.e2ee = 1, .security_code = "1 2 3"};
  device_call_begin(c.d, 1, &ci);
  verify_status_t st;
  if (verify_basic_credential((const uint8_t *)"member", 6, "Member", &st) == 0) {
    device_roster_upsert(c.d, 1, "leaf-1", &st);
    verify_status_clear(&st);
  }
  veil_writer_init_growable(&c.out, 256);
  xapi_stream_t *s = xapi_stream_new(device_takes_body, on_cmd, &c);
  if (s) {
    xapi_stream_feed(s, (const char *)data, size);
    xapi_stream_free(s);
  }
  veil_writer_free(&c.out);
  device_free(c.d);
  return 0;
}
