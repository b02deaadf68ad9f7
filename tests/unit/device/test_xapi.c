/* Unit tests: the xAPI command parser and stream (clients/device/xapi.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/device/xapi.h"

static xapi_cmd_t cmd;

static int parse(const char *s) { return xapi_parse_line(s, strlen(s), &cmd); }

Test(xapi, parses_kind_path_and_arguments) {
  cr_assert_eq(parse("xCommand Security Certificates Services Activate Purpose: WebexIdentity "
                     "Fingerprint: \"a b\\\"c\\\\\""),
               0);
  cr_assert_eq(cmd.kind, XAPI_COMMAND);
  cr_assert_eq(cmd.npath, 4);
  cr_assert_str_eq(cmd.path[3], "Activate");
  cr_assert_eq(cmd.nargs, 2);
  cr_assert_str_eq(xapi_arg(&cmd, "purpose")->value, "WebexIdentity");
  cr_assert_str_eq(xapi_arg(&cmd, "Fingerprint")->value, "a b\"c\\");
  cr_assert_eq(xapi_arg(&cmd, "Fingerprint")->value_len, 6);
  cr_assert(xapi_path_is(&cmd, 0, "security certificates services activate", 1));
  cr_assert(!xapi_path_is(&cmd, 0, "Security Certificates", 1));
  cr_assert(xapi_path_is(&cmd, 0, "Security Certificates", 0));
}

Test(xapi, accepts_any_case_kind_and_surrounding_space) {
  cr_assert_eq(parse("  xstatus   Conference Call 1 EndToEndEncryption\t"), 0);
  cr_assert_eq(cmd.kind, XAPI_STATUS);
  cr_assert_eq(cmd.npath, 4);
  cr_assert_str_eq(cmd.path[2], "1");
  cr_assert_eq(parse("XCONFIGURATION Conference EndToEndEncryption Mode: On"), 0);
  cr_assert_eq(cmd.kind, XAPI_CONFIGURATION);
  cr_assert_eq(parse("xEvent"), 0);
  cr_assert_eq(cmd.kind, XAPI_EVENT);
}

Test(xapi, rejects_unknown_kind) {
  cr_assert_eq(parse("xFeedback register /Event"), VEIL_EXAPI_UNKNOWN);
  cr_assert_eq(parse("Command Foo"), VEIL_EXAPI_UNKNOWN);
  cr_assert_eq(parse("xCommand: Foo"), VEIL_EXAPI_UNKNOWN);
  cr_assert_eq(parse(""), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("   "), VEIL_EXAPI_SYNTAX);
}

Test(xapi, rejects_path_word_after_an_argument) {
  cr_assert_eq(parse("xCommand A Key: v B"), VEIL_EXAPI_SYNTAX);
}

Test(xapi, rejects_duplicate_key_in_any_case) {
  cr_assert_eq(parse("xCommand A Key: 1 KEY: 2"), VEIL_EXAPI_ARG);
}

Test(xapi, rejects_key_without_separated_value) {
  cr_assert_eq(parse("xCommand A Key:"), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A Key:v"), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A Key:   "), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A Ke-y: v"), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A: v"), 0); /* a key right after the kind is fine */
}

Test(xapi, rejects_bad_quoting) {
  cr_assert_eq(parse("xCommand A Key: \"open"), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A Key: \"bad \\n escape\""), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A Key: \"x\"y"), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A Key: \"tab\there\""), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A Key: \"\""), 0);
  cr_assert_eq(cmd.args[0].value_len, 0);
}

Test(xapi, rejects_control_and_non_ascii_bytes_outside_quotes) {
  cr_assert_eq(parse("xCommand A Key: a\x01" "b"), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A Key: caf\xc3\xa9"), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A\x7f"), VEIL_EXAPI_SYNTAX);
  cr_assert_eq(parse("xCommand A Key: \"caf\xc3\xa9\""), 0);
  char with_nul[] = "xCommand A\0B";
  cr_assert_eq(xapi_parse_line(with_nul, sizeof with_nul - 1, &cmd), VEIL_EXAPI_SYNTAX);
}

Test(xapi, enforces_word_path_argument_and_line_limits) {
  char buf[XAPI_LINE_MAX + 64];
  snprintf(buf, sizeof buf, "xCommand %0*d", XAPI_WORD_MAX + 1, 0);
  cr_assert_eq(parse(buf), VEIL_EXAPI_LIMIT);
  snprintf(buf, sizeof buf, "xCommand %0*d", XAPI_WORD_MAX, 0);
  cr_assert_eq(parse(buf), 0);

  strcpy(buf, "xStatus");
  for (int i = 0; i < XAPI_PATH_MAX; i++)
    strcat(buf, " P");
  cr_assert_eq(parse(buf), 0);
  strcat(buf, " P");
  cr_assert_eq(parse(buf), VEIL_EXAPI_LIMIT);

  strcpy(buf, "xCommand X");
  for (int i = 0; i < XAPI_ARGS_MAX; i++)
    sprintf(buf + strlen(buf), " K%d: v", i);
  cr_assert_eq(parse(buf), 0);
  strcat(buf, " Kx: v");
  cr_assert_eq(parse(buf), VEIL_EXAPI_LIMIT);

  memset(buf, 'a', sizeof buf);
  memcpy(buf, "xCommand X Key: ", 16);
  cr_assert_eq(xapi_parse_line(buf, XAPI_LINE_MAX, &cmd), 0);
  cr_assert_eq(xapi_parse_line(buf, XAPI_LINE_MAX + 1, &cmd), VEIL_EXAPI_LIMIT);
}

/* ---- stream -------------------------------------------------------------------------- */

typedef struct seen {
  int rcs[16];
  char bodies[16][256];
  char first_path[16][32];
  int n;
} seen_t;

static int wants_body(void *ctx, const xapi_cmd_t *c) {
  (void)ctx;
  return c->npath && strcmp(c->path[c->npath - 1], "Add") == 0;
}

static void on_cmd(void *ctx, int rc, const xapi_cmd_t *c) {
  seen_t *s = ctx;
  cr_assert_lt(s->n, 16);
  s->rcs[s->n] = rc;
  cr_assert_eq(rc == 0, c != NULL);
  if (c) {
    snprintf(s->first_path[s->n], 32, "%s", c->npath ? c->path[0] : "");
    if (c->has_body)
      snprintf(s->bodies[s->n], 256, "%s", c->body);
  }
  s->n++;
}

static void feed_all(xapi_stream_t *st, const char *text, int bytewise) {
  size_t n = strlen(text);
  if (!bytewise)
    xapi_stream_feed(st, text, n);
  else
    for (size_t i = 0; i < n; i++)
      xapi_stream_feed(st, text + i, 1);
}

Test(xapi_stream, collects_body_until_dot_line_in_any_chunking) {
  const char *text = "xCommand Certs Add\r\nline one\r\n\r\n.x\n.\r\n\nxStatus Two\n";
  for (int bytewise = 0; bytewise < 2; bytewise++) {
    seen_t s = {0};
    xapi_stream_t *st = xapi_stream_new(wants_body, on_cmd, &s);
    feed_all(st, text, bytewise);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.rcs[0], 0);
    cr_assert_str_eq(s.bodies[0], "line one\n\n.x");
    cr_assert_str_eq(s.first_path[1], "Two");
    cr_assert(!xapi_stream_in_body(st));
    xapi_stream_free(st);
  }
}

Test(xapi_stream, overlong_line_is_one_error_and_the_next_line_parses) {
  seen_t s = {0};
  xapi_stream_t *st = xapi_stream_new(wants_body, on_cmd, &s);
  char *big = malloc(XAPI_LINE_MAX * 3);
  cr_assert_not_null(big);
  memset(big, 'A', XAPI_LINE_MAX * 3);
  xapi_stream_feed(st, "xCommand ", 9);
  xapi_stream_feed(st, big, XAPI_LINE_MAX * 3);
  xapi_stream_feed(st, "\nxStatus Ok\n", 12);
  cr_assert_eq(s.n, 2);
  cr_assert_eq(s.rcs[0], VEIL_EXAPI_LIMIT);
  cr_assert_eq(s.rcs[1], 0);
  cr_assert_str_eq(s.first_path[1], "Ok");
  free(big);
  xapi_stream_free(st);
}

Test(xapi_stream, overlong_body_is_refused_at_its_end_and_not_executed) {
  seen_t s = {0};
  xapi_stream_t *st = xapi_stream_new(wants_body, on_cmd, &s);
  xapi_stream_feed(st, "xCommand Add\n", 13);
  char line[1025];
  memset(line, 'b', 1024);
  line[1024] = '\n';
  for (int i = 0; i < XAPI_BODY_MAX / 1024 + 2; i++)
    xapi_stream_feed(st, line, sizeof line);
  cr_assert_eq(s.n, 0, "nothing is reported before the body ends");
  cr_assert(xapi_stream_in_body(st));
  xapi_stream_feed(st, ".\nxStatus After\n", 16);
  cr_assert_eq(s.n, 2);
  cr_assert_eq(s.rcs[0], VEIL_EXAPI_LIMIT);
  cr_assert_str_eq(s.first_path[1], "After");
  xapi_stream_free(st);
}

Test(xapi_stream, syntax_error_does_not_open_a_body) {
  seen_t s = {0};
  xapi_stream_t *st = xapi_stream_new(wants_body, on_cmd, &s);
  feed_all(st, "xCommand Add Key:\nxStatus Next\n", 0);
  cr_assert_eq(s.n, 2);
  cr_assert_eq(s.rcs[0], VEIL_EXAPI_SYNTAX);
  cr_assert_eq(s.rcs[1], 0);
  xapi_stream_free(st);
}
