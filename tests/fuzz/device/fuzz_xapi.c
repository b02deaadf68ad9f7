/* Fuzz target: the xAPI line parser, and the stream assembler fed the input in two chunks
 * split at a point taken from the input (bodies, overlong lines, CR/LF handling). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "clients/device/xapi.h"

static int body_after_add(void *ctx, const xapi_cmd_t *c) {
  (void)ctx;
  return c->npath && strcmp(c->path[c->npath - 1], "Add") == 0;
}

static void check(void *ctx, int rc, const xapi_cmd_t *c) {
  size_t *n = ctx;
  (*n)++;
  if (rc || !c)
    return;
  /* Touch everything the parser hands out: it must all be NUL-terminated and in bounds. */
  for (size_t i = 0; i < c->npath; i++)
    *n += strlen(c->path[i]);
  for (size_t i = 0; i < c->nargs; i++)
    *n += strlen(c->args[i].key) + c->args[i].value_len + (c->args[i].value[c->args[i].value_len] != 0);
  if (c->has_body)
    *n += strlen(c->body) + c->body_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static xapi_cmd_t cmd;
  const char *text = (const char *)data;
  const char *nl = memchr(text, '\n', size);
  xapi_parse_line(text, nl ? (size_t)(nl - text) : size, &cmd);

  size_t n = 0;
  xapi_stream_t *s = xapi_stream_new(body_after_add, check, &n);
  if (!s)
    return 0;
  size_t cut = size ? data[0] % (size + 1) : 0;
  xapi_stream_feed(s, text, cut);
  xapi_stream_feed(s, text + cut, size - cut);
  xapi_stream_free(s);
  return 0;
}
