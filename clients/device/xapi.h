/*
 * veil — the xAPI-style command language of emulated room devices (sans-I/O).
 *
 * A command is one line:  <kind> <Path words...> [Key: value ...]
 *   kind    xCommand | xStatus | xConfiguration | xEvent (case-insensitive)
 *   path    words of [A-Za-z0-9]; numbers are instance indices (`Call 1`)
 *   args    `Key:` followed by whitespace and a value: a bare run of printable non-space
 *           ASCII, or a double-quoted string with \" and \\ escapes (UTF-8 allowed inside)
 * Some commands take a multi-line body (the real xAPI does this for certificate bodies):
 * the lines after the command, up to a line holding only ".", joined with "\n" (no newline
 * after the last; CR before a newline is dropped). Which
 * commands take one is the device's decision, asked through a callback, so the parser
 * carries no device knowledge.
 *
 * Everything is bounded before it is stored: line length, body size, path words, argument
 * count, key and word length; duplicate keys are refused. A line that breaks a limit or the
 * syntax is reported once as an error for that line and the stream carries on with the
 * next line (for a body: after its terminating "."), so one bad command never desynchronises
 * the shell. Tokens are read through common/bytes.h.
 */
#ifndef VEIL_CLIENTS_DEVICE_XAPI_H
#define VEIL_CLIENTS_DEVICE_XAPI_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define XAPI_LINE_MAX 16384        /* bytes of one line, without the newline */
#define XAPI_BODY_MAX (64 * 1024)  /* bytes of one multi-line body */
#define XAPI_PATH_MAX 12           /* path words */
#define XAPI_ARGS_MAX 12           /* Key: value pairs */
#define XAPI_WORD_MAX 64           /* bytes of one path word or key */

typedef enum xapi_kind {
  XAPI_COMMAND = 1,
  XAPI_STATUS = 2,
  XAPI_CONFIGURATION = 3,
  XAPI_EVENT = 4,
} xapi_kind_t;

typedef struct xapi_arg {
  const char *key;   /* NUL-terminated, borrowed from the command's store */
  const char *value; /* NUL-terminated (unescaped), borrowed from the command's store */
  size_t value_len;
} xapi_arg_t;

typedef struct xapi_cmd {
  xapi_kind_t kind;
  size_t npath;
  const char *path[XAPI_PATH_MAX];
  size_t nargs;
  xapi_arg_t args[XAPI_ARGS_MAX];
  int has_body;
  const char *body; /* borrowed from the stream, NUL-terminated; valid during the callback */
  size_t body_len;
  char store[XAPI_LINE_MAX + XAPI_PATH_MAX + 2 * XAPI_ARGS_MAX + 8]; /* tokens, NUL-ended */
} xapi_cmd_t;

/* Parses one line (no newline). 0, or VEIL_EXAPI_SYNTAX / VEIL_EXAPI_LIMIT /
 * VEIL_EXAPI_UNKNOWN (not one of the four kinds) / VEIL_EXAPI_ARG (duplicate key). */
int xapi_parse_line(const char *line, size_t len, xapi_cmd_t *cmd);

/* The value of argument `key` (case-insensitive), or NULL. */
const xapi_arg_t *xapi_arg(const xapi_cmd_t *cmd, const char *key);
/* 1 when path words [from, from + count of `words`) equal the space-separated `words`
 * (case-insensitive) and, if `exact`, nothing follows them. */
int xapi_path_is(const xapi_cmd_t *cmd, size_t from, const char *words, int exact);
const char *xapi_kind_name(xapi_kind_t k); /* "xCommand", ... */

/* ---- line/body assembly over a byte stream --------------------------------------- */
typedef struct xapi_stream xapi_stream_t;
/* 1 when `cmd` takes a multi-line body. */
typedef int (*xapi_body_cb)(void *ctx, const xapi_cmd_t *cmd);
/* One per non-empty line or body: rc 0 with the command (borrowed for the call), or a
 * negative code with cmd NULL for a line or body that was refused. */
typedef void (*xapi_cmd_cb)(void *ctx, int rc, const xapi_cmd_t *cmd);

xapi_stream_t *xapi_stream_new(xapi_body_cb body_cb, xapi_cmd_cb cmd_cb, void *ctx);
void xapi_stream_free(xapi_stream_t *s);
/* Consumes all of `data`, invoking the callbacks for every completed line. */
void xapi_stream_feed(xapi_stream_t *s, const char *data, size_t len);
/* 1 while a body is being collected (the shell shows no prompt then). */
int xapi_stream_in_body(const xapi_stream_t *s);

#endif
