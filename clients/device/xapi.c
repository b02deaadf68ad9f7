/* veil — xAPI-style command parser (contract in xapi.h). */
#include "clients/device/xapi.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/bytes.h"

static int is_space(int c) { return c == ' ' || c == '\t'; }
static int is_word(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Copies `n` bytes plus a NUL into the store; returns the copy or NULL on overflow. */
static const char *store_put(veil_writer_t *w, const uint8_t *p, size_t n) {
  size_t at = w->len;
  if (veil_write_bytes(w, p, n) || veil_write_u8(w, 0))
    return NULL;
  return (const char *)w->buf + at;
}

static int peek(const veil_reader_t *r) {
  return veil_reader_remaining(r) ? r->p[0] : -1;
}

static void skip_space(veil_reader_t *r) {
  while (is_space(peek(r)))
    veil_skip(r, 1);
}

/* A bare word of [A-Za-z0-9], optionally ending in ':' (a key). */
static int read_word(veil_reader_t *r, veil_view_t *word, int *is_key) {
  const uint8_t *start = r->p;
  while (is_word(peek(r)))
    veil_skip(r, 1);
  size_t n = (size_t)(r->p - start);
  *is_key = 0;
  if (peek(r) == ':') {
    veil_skip(r, 1);
    *is_key = 1;
  }
  int c = peek(r);
  if (n == 0 || (c != -1 && !is_space(c)))
    return VEIL_EXAPI_SYNTAX;
  if (n > XAPI_WORD_MAX)
    return VEIL_EXAPI_LIMIT;
  word->ptr = start;
  word->len = n;
  return 0;
}

/* A value: a quoted string (unescaped into the store) or a bare run of visible ASCII. */
static int read_value(veil_reader_t *r, veil_writer_t *w, xapi_arg_t *a) {
  size_t at = w->len;
  if (peek(r) == '"') {
    veil_skip(r, 1);
    for (;;) {
      uint8_t c;
      if (veil_read_u8(r, &c))
        return VEIL_EXAPI_SYNTAX; /* unterminated */
      if (c == '"')
        break;
      if (c == '\\') {
        if (veil_read_u8(r, &c) || (c != '"' && c != '\\'))
          return VEIL_EXAPI_SYNTAX;
      } else if (c < 0x20 || c == 0x7f) {
        return VEIL_EXAPI_SYNTAX;
      }
      if (veil_write_u8(w, c))
        return VEIL_EXAPI_LIMIT;
    }
    int c = peek(r);
    if (c != -1 && !is_space(c))
      return VEIL_EXAPI_SYNTAX;
  } else {
    const uint8_t *start = r->p;
    while (peek(r) > 0x20 && peek(r) < 0x7f)
      veil_skip(r, 1);
    int c = peek(r);
    if (r->p == start || (c != -1 && !is_space(c)))
      return VEIL_EXAPI_SYNTAX; /* empty, or a control/non-ASCII byte in a bare value */
    if (veil_write_bytes(w, start, (size_t)(r->p - start)))
      return VEIL_EXAPI_LIMIT;
  }
  a->value_len = w->len - at;
  if (veil_write_u8(w, 0))
    return VEIL_EXAPI_LIMIT;
  a->value = (const char *)w->buf + at;
  return 0;
}

static const struct {
  const char *name;
  xapi_kind_t kind;
} kinds[] = {
    {"xCommand", XAPI_COMMAND},
    {"xStatus", XAPI_STATUS},
    {"xConfiguration", XAPI_CONFIGURATION},
    {"xEvent", XAPI_EVENT},
};

const char *xapi_kind_name(xapi_kind_t k) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kinds[i].kind == k)
      return kinds[i].name;
  return "?";
}

int xapi_parse_line(const char *line, size_t len, xapi_cmd_t *cmd) {
  cmd->kind = 0;
  cmd->npath = cmd->nargs = 0;
  cmd->has_body = 0;
  cmd->body = NULL;
  cmd->body_len = 0;
  if (len > XAPI_LINE_MAX)
    return VEIL_EXAPI_LIMIT;
  veil_reader_t r;
  veil_reader_init(&r, line, len);
  veil_writer_t w;
  veil_writer_init(&w, cmd->store, sizeof cmd->store);

  skip_space(&r);
  veil_view_t word;
  int is_key;
  if (!veil_reader_remaining(&r))
    return VEIL_EXAPI_SYNTAX;
  int rc = read_word(&r, &word, &is_key);
  if (rc)
    return rc == VEIL_EXAPI_LIMIT ? VEIL_EXAPI_UNKNOWN : rc;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !cmd->kind; i++)
    if (!is_key && word.len == strlen(kinds[i].name) &&
        strncasecmp((const char *)word.ptr, kinds[i].name, word.len) == 0)
      cmd->kind = kinds[i].kind;
  if (!cmd->kind)
    return VEIL_EXAPI_UNKNOWN;

  for (;;) {
    skip_space(&r);
    if (!veil_reader_remaining(&r))
      break;
    if ((rc = read_word(&r, &word, &is_key)))
      return rc;
    if (!is_key) {
      if (cmd->nargs)
        return VEIL_EXAPI_SYNTAX; /* path words come before every argument */
      if (cmd->npath == XAPI_PATH_MAX)
        return VEIL_EXAPI_LIMIT;
      if (!(cmd->path[cmd->npath++] = store_put(&w, word.ptr, word.len)))
        return VEIL_EXAPI_LIMIT;
      continue;
    }
    if (cmd->nargs == XAPI_ARGS_MAX)
      return VEIL_EXAPI_LIMIT;
    xapi_arg_t *a = &cmd->args[cmd->nargs];
    if (!(a->key = store_put(&w, word.ptr, word.len)))
      return VEIL_EXAPI_LIMIT;
    for (size_t i = 0; i < cmd->nargs; i++)
      if (strcasecmp(cmd->args[i].key, a->key) == 0)
        return VEIL_EXAPI_ARG;
    if (!is_space(peek(&r)))
      return VEIL_EXAPI_SYNTAX; /* "Key:" needs whitespace and a value */
    skip_space(&r);
    if ((rc = read_value(&r, &w, a)))
      return rc;
    cmd->nargs++;
  }
  return 0;
}

const xapi_arg_t *xapi_arg(const xapi_cmd_t *cmd, const char *key) {
  for (size_t i = 0; i < cmd->nargs; i++)
    if (strcasecmp(cmd->args[i].key, key) == 0)
      return &cmd->args[i];
  return NULL;
}

int xapi_path_is(const xapi_cmd_t *cmd, size_t from, const char *words, int exact) {
  size_t i = from;
  const char *p = words;
  while (*p) {
    const char *e = strchr(p, ' ');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (i >= cmd->npath || strlen(cmd->path[i]) != n || strncasecmp(cmd->path[i], p, n) != 0)
      return 0;
    i++;
    p += n;
    while (*p == ' ')
      p++;
  }
  return !exact || i == cmd->npath;
}

/* ---- stream ----------------------------------------------------------------------- */

typedef enum stream_state {
  EXPECT_COMMAND, /* the next line is a command */
  EXPECT_BODY,    /* collecting body lines up to a "." line */
} stream_state_t;

struct xapi_stream {
  xapi_body_cb body_cb;
  xapi_cmd_cb cmd_cb;
  void *ctx;
  stream_state_t state;
  int overflow;      /* the current line (or body) broke a limit: report at its end */
  char line[XAPI_LINE_MAX];
  size_t line_len;
  char *body;        /* owned, XAPI_BODY_MAX + 1 */
  size_t body_len;
  xapi_cmd_t cmd;    /* the command being completed */
};

xapi_stream_t *xapi_stream_new(xapi_body_cb body_cb, xapi_cmd_cb cmd_cb, void *ctx) {
  xapi_stream_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->body = malloc(XAPI_BODY_MAX + 1);
  if (!s->body) {
    free(s);
    return NULL;
  }
  s->body_cb = body_cb;
  s->cmd_cb = cmd_cb;
  s->ctx = ctx;
  return s;
}

void xapi_stream_free(xapi_stream_t *s) {
  if (!s)
    return;
  /* Bodies carry JWE blobs; nothing secret in clear, but no reason to leave them around. */
  memset(s->body, 0, XAPI_BODY_MAX + 1);
  free(s->body);
  free(s);
}

int xapi_stream_in_body(const xapi_stream_t *s) { return s->state == EXPECT_BODY; }

static void on_line(xapi_stream_t *s, const char *line, size_t len, int overflow) {
  if (len && line[len - 1] == '\r')
    len--;
  if (s->state == EXPECT_BODY) {
    if (len == 1 && line[0] == '.' && !overflow) {
      s->state = EXPECT_COMMAND;
      int bad = s->overflow;
      s->overflow = 0;
      if (bad) {
        s->cmd_cb(s->ctx, VEIL_EXAPI_LIMIT, NULL);
        return;
      }
      s->body[s->body_len] = '\0';
      s->cmd.has_body = 1;
      s->cmd.body = s->body;
      s->cmd.body_len = s->body_len;
      s->cmd_cb(s->ctx, 0, &s->cmd);
      return;
    }
    size_t sep = s->body_len ? 1 : 0; /* lines are joined by "\n", none after the last */
    if (overflow || s->body_len + sep + len > XAPI_BODY_MAX) {
      s->overflow = 1;
      return;
    }
    if (sep)
      s->body[s->body_len++] = '\n';
    memcpy(s->body + s->body_len, line, len);
    s->body_len += len;
    return;
  }
  if (overflow) {
    s->cmd_cb(s->ctx, VEIL_EXAPI_LIMIT, NULL);
    return;
  }
  size_t i = 0;
  while (i < len && is_space((unsigned char)line[i]))
    i++;
  if (i == len)
    return; /* blank lines are ignored, as on a terminal */
  int rc = xapi_parse_line(line, len, &s->cmd);
  if (rc) {
    s->cmd_cb(s->ctx, rc, NULL);
    return;
  }
  if (s->body_cb && s->body_cb(s->ctx, &s->cmd)) {
    s->state = EXPECT_BODY;
    s->body_len = 0;
    s->overflow = 0;
    return;
  }
  s->cmd_cb(s->ctx, 0, &s->cmd);
}

void xapi_stream_feed(xapi_stream_t *s, const char *data, size_t len) {
  /* line_len == XAPI_LINE_MAX + 1 marks "discarding the rest of an overlong line". */
  for (size_t i = 0; i < len; i++) {
    char c = data[i];
    if (c == '\n') {
      int over = s->line_len > XAPI_LINE_MAX;
      on_line(s, s->line, over ? 0 : s->line_len, over);
      s->line_len = 0;
      continue;
    }
    if (s->line_len < XAPI_LINE_MAX)
      s->line[s->line_len++] = c;
    else
      s->line_len = XAPI_LINE_MAX + 1;
  }
}
