/* veil tests — JSON reader with exact integers, and TAP. Contract in vjson.h. */
#include "vjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"

#ifndef VEIL_VECTORS_DIR
#define VEIL_VECTORS_DIR "../shared/vectors"
#endif

typedef struct {
  const char *p, *end;
  int depth;
  const char *err;
} parser_t;

static void skip_ws(parser_t *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
    ps->p++;
}

static vj_t *new_node(vj_type_t t) {
  vj_t *v = calloc(1, sizeof *v);
  if (v)
    v->type = t;
  return v;
}

static vj_t *parse_value(parser_t *ps);

static char *parse_string(parser_t *ps, size_t *out_len) {
  /* Called with ps->p at the opening quote. Decodes \uXXXX to UTF-8 (BMP only). */
  ps->p++;
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  if (!s)
    return NULL;
  while (ps->p < ps->end && *ps->p != '"') {
    char c = *ps->p++;
    char buf[4];
    size_t bl = 1;
    buf[0] = c;
    if (c == '\\') {
      if (ps->p >= ps->end)
        goto fail;
      char e = *ps->p++;
      switch (e) {
      case 'n': buf[0] = '\n'; break;
      case 't': buf[0] = '\t'; break;
      case 'r': buf[0] = '\r'; break;
      case 'b': buf[0] = '\b'; break;
      case 'f': buf[0] = '\f'; break;
      case '/': case '\\': case '"': buf[0] = e; break;
      case 'u': {
        if (ps->end - ps->p < 4)
          goto fail;
        unsigned cp = 0;
        for (int i = 0; i < 4; i++) {
          char h = *ps->p++;
          cp <<= 4;
          if (h >= '0' && h <= '9') cp |= (unsigned)(h - '0');
          else if (h >= 'a' && h <= 'f') cp |= (unsigned)(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F') cp |= (unsigned)(h - 'A' + 10);
          else goto fail;
        }
        if (cp < 0x80) { buf[0] = (char)cp; }
        else if (cp < 0x800) { buf[0] = (char)(0xc0 | cp >> 6); buf[1] = (char)(0x80 | (cp & 63)); bl = 2; }
        else { buf[0] = (char)(0xe0 | cp >> 12); buf[1] = (char)(0x80 | ((cp >> 6) & 63)); buf[2] = (char)(0x80 | (cp & 63)); bl = 3; }
        break;
      }
      default:
        goto fail;
      }
    }
    if (n + bl + 1 > cap) {
      cap = cap * 2 + bl;
      char *ns = realloc(s, cap);
      if (!ns)
        goto fail;
      s = ns;
    }
    memcpy(s + n, buf, bl);
    n += bl;
  }
  if (ps->p >= ps->end)
    goto fail;
  ps->p++; /* closing quote */
  s[n] = '\0';
  *out_len = n;
  return s;
fail:
  ps->err = "bad string";
  free(s);
  return NULL;
}

static int push(vj_t *v, vj_t *child, char *key) {
  void **items = realloc(v->items, (v->len + 1) * sizeof *v->items);
  if (!items)
    return -1;
  v->items = (vj_t **)items;
  if (v->type == VJ_OBJ) {
    char **keys = realloc(v->keys, (v->len + 1) * sizeof *v->keys);
    if (!keys)
      return -1;
    v->keys = keys;
    v->keys[v->len] = key;
  }
  v->items[v->len++] = child;
  return 0;
}

static vj_t *parse_container(parser_t *ps, vj_type_t t) {
  char close = t == VJ_ARR ? ']' : '}';
  vj_t *v = new_node(t);
  if (!v || ++ps->depth > 64)
    goto fail;
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    ps->depth--;
    return v;
  }
  for (;;) {
    char *key = NULL;
    skip_ws(ps);
    if (t == VJ_OBJ) {
      size_t kl;
      if (ps->p >= ps->end || *ps->p != '"' || !(key = parse_string(ps, &kl)))
        goto fail;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        free(key);
        goto fail;
      }
      ps->p++;
    }
    vj_t *child = parse_value(ps);
    if (!child || push(v, child, key)) {
      free(key);
      vj_free(child);
      goto fail;
    }
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++;
      ps->depth--;
      return v;
    }
    goto fail;
  }
fail:
  if (!ps->err)
    ps->err = "bad container";
  vj_free(v);
  return NULL;
}

static vj_t *parse_value(parser_t *ps) {
  skip_ws(ps);
  if (ps->p >= ps->end) {
    ps->err = "unexpected end";
    return NULL;
  }
  char c = *ps->p;
  if (c == '{')
    return parse_container(ps, VJ_OBJ);
  if (c == '[')
    return parse_container(ps, VJ_ARR);
  if (c == '"') {
    vj_t *v = new_node(VJ_STR);
    if (!v)
      return NULL;
    v->text = parse_string(ps, &v->len);
    if (!v->text) {
      free(v);
      return NULL;
    }
    return v;
  }
  if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) {
    ps->p += 4;
    return new_node(VJ_NULL);
  }
  if (ps->end - ps->p >= 4 && memcmp(ps->p, "true", 4) == 0) {
    ps->p += 4;
    vj_t *v = new_node(VJ_BOOL);
    if (v)
      v->boolean = 1;
    return v;
  }
  if (ps->end - ps->p >= 5 && memcmp(ps->p, "false", 5) == 0) {
    ps->p += 5;
    return new_node(VJ_BOOL);
  }
  const char *start = ps->p;
  while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p))
    ps->p++;
  if (ps->p == start) {
    ps->err = "unexpected character";
    return NULL;
  }
  vj_t *v = new_node(VJ_NUM);
  if (!v)
    return NULL;
  char *t = malloc((size_t)(ps->p - start) + 1);
  if (!t) {
    free(v);
    return NULL;
  }
  memcpy(t, start, (size_t)(ps->p - start));
  t[ps->p - start] = '\0';
  v->text = t;
  v->len = (size_t)(ps->p - start);
  return v;
}

vj_t *vj_parse(const char *text, size_t len) {
  parser_t ps = {text, text + len, 0, NULL};
  vj_t *v = parse_value(&ps);
  if (v) {
    skip_ws(&ps);
    if (ps.p != ps.end) {
      ps.err = "trailing characters";
      vj_free(v);
      v = NULL;
    }
  }
  if (!v)
    fprintf(stderr, "vjson: %s at offset %ld\n", ps.err ? ps.err : "error", (long)(ps.p - text));
  return v;
}

vj_t *vj_parse_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "vjson: cannot open %s\n", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = n > 0 ? malloc((size_t)n) : NULL;
  vj_t *v = NULL;
  if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
    v = vj_parse(buf, (size_t)n);
  free(buf);
  fclose(f);
  return v;
}

void vj_free(vj_t *v) {
  if (!v)
    return;
  for (size_t i = 0; i < v->len && (v->type == VJ_ARR || v->type == VJ_OBJ); i++) {
    vj_free(v->items[i]);
    if (v->keys)
      free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  if (v->type == VJ_STR || v->type == VJ_NUM)
    free((char *)v->text);
  free(v);
}

const vj_t *vj_get(const vj_t *obj, const char *key) {
  if (!obj || obj->type != VJ_OBJ)
    return NULL;
  for (size_t i = 0; i < obj->len; i++)
    if (strcmp(obj->keys[i], key) == 0)
      return obj->items[i];
  return NULL;
}

const vj_t *vj_at(const vj_t *arr, size_t i) {
  if (!arr || (arr->type != VJ_ARR && arr->type != VJ_OBJ) || i >= arr->len)
    return NULL;
  return arr->items[i];
}

size_t vj_size(const vj_t *v) {
  return v && (v->type == VJ_ARR || v->type == VJ_OBJ) ? v->len : 0;
}

const char *vj_str(const vj_t *obj, const char *key) {
  const vj_t *v = vj_get(obj, key);
  return v && v->type == VJ_STR ? v->text : NULL;
}

int vj_is_null(const vj_t *v) { return !v || v->type == VJ_NULL; }

uint64_t vj_u64(const vj_t *obj, const char *key, int *ok) {
  const vj_t *v = key ? vj_get(obj, key) : obj;
  uint64_t x = 0;
  if (ok)
    *ok = 0;
  if (!v || v->type != VJ_NUM || v->len == 0)
    return 0;
  for (size_t i = 0; i < v->len; i++) {
    char c = v->text[i];
    if (c < '0' || c > '9')
      return 0;
    uint64_t d = (uint64_t)(c - '0');
    if (x > (UINT64_MAX - d) / 10)
      return 0; /* overflow: not a u64 */
    x = x * 10 + d;
  }
  if (ok)
    *ok = 1;
  return x;
}

uint8_t *vj_hex(const vj_t *obj, const char *key, size_t *len) {
  const char *s = vj_str(obj, key);
  if (!s)
    return NULL;
  size_t sl = strlen(s);
  uint8_t *out = malloc(sl / 2 + 1);
  if (!out)
    return NULL;
  long n = veil_hex_decode(s, sl, out, sl / 2);
  if (n < 0) {
    free(out);
    return NULL;
  }
  *len = (size_t)n;
  return out;
}

const char *vj_vector_path(const char *rel, char *buf, size_t cap) {
  const char *dir = getenv("VEIL_VECTORS");
  if (!dir || !*dir)
    dir = VEIL_VECTORS_DIR;
  snprintf(buf, cap, "%s/%s", dir, rel);
  FILE *f = fopen(buf, "rb");
  if (!f)
    return NULL;
  fclose(f);
  return buf;
}

/* ---- TAP ------------------------------------------------------------------------- */
static unsigned tap_n, tap_failed;

void tap_ok(int ok, const char *fmt, ...) {
  va_list ap;
  tap_n++;
  if (!ok)
    tap_failed++;
  printf("%sok %u - ", ok ? "" : "not ", tap_n);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

void tap_skip(const char *fmt, ...) {
  va_list ap;
  tap_n++;
  printf("ok %u # SKIP ", tap_n);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

void tap_diag(const char *fmt, ...) {
  va_list ap;
  printf("# ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

int tap_done(void) {
  printf("1..%u\n", tap_n);
  if (tap_failed)
    printf("# %u of %u failed\n", tap_failed, tap_n);
  fflush(stdout);
  return tap_failed ? 1 : 0;
}

int tap_skip_all(const char *reason) {
  printf("1..0 # SKIP %s\n", reason);
  return 77;
}

int tap_bytes_eq(const char *what, const uint8_t *got, size_t got_len, const uint8_t *want,
                 size_t want_len) {
  if (got_len == want_len && (got_len == 0 || memcmp(got, want, got_len) == 0))
    return 1;
  char *g = malloc(2 * got_len + 1), *w = malloc(2 * want_len + 1);
  if (g && w) {
    veil_hex_encode(got, got_len, g);
    veil_hex_encode(want, want_len, w);
    tap_diag("%s mismatch:\n#   got  %s\n#   want %s", what, g, w);
  }
  free(g);
  free(w);
  return 0;
}
