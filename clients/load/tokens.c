/* veil-load join tokens. Contract in tokens.h. */
#include "clients/load/tokens.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/vtime.h"
#include "signaling/sig_jwt.h"

#define MAX_TOKEN_LINES 100000u
#define MAX_KEY_FILE 16384u

struct load_tokens {
  sig_jwt_key_t *key;      /* owned; NULL with a token file */
  char **lines;            /* owned */
  uint32_t nlines;
  char room[SIG_ROOM_MAX + 1];
  uv_mutex_t mu;           /* sig_jwt_sign on one key from several threads */
};

static char *slurp(const char *path, size_t max, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *b = malloc(max + 1);
  size_t n = b ? fread(b, 1, max + 1, f) : 0;
  fclose(f);
  if (!b || n > max) {
    free(b);
    return NULL;
  }
  b[n] = 0;
  *len = n;
  return b;
}

int load_token_sub(const char *token, char sub[LOAD_SUB_MAX + 1]) {
  const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  if (!d1 || !d2 || d2 - d1 - 1 > LOAD_TOKEN_MAX) return VEIL_EDECODE;
  uint8_t buf[LOAD_TOKEN_MAX];
  long n = veil_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), buf, sizeof buf);
  if (n <= 0) return VEIL_EDECODE;
  json_t *j = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
  const char *s = json_string_value(json_object_get(j, "sub"));
  int rc = s && strlen(s) >= 1 && strlen(s) <= LOAD_SUB_MAX ? 0 : VEIL_EDECODE;
  if (!rc) memcpy(sub, s, strlen(s) + 1);
  json_decref(j);
  return rc;
}

int load_tokens_open(const char *key_file, const char *token_file, const char *room, load_tokens_t **out) {
  if (!!key_file == !!token_file || !room || strlen(room) > SIG_ROOM_MAX) return VEIL_EINVAL;
  load_tokens_t *t = calloc(1, sizeof *t);
  if (!t) return VEIL_ENOMEM;
  snprintf(t->room, sizeof t->room, "%s", room);
  uv_mutex_init(&t->mu);
  int rc;
  size_t len;
  if (key_file) {
    char *text = slurp(key_file, MAX_KEY_FILE, &len);
    if (!text) {
      rc = VEIL_EIO;
      goto fail;
    }
    /* A PEM file is an ES256 key; anything else is the HS256 secret. */
    sig_jwt_alg_t alg = strstr(text, "-----BEGIN") ? SIG_JWT_ES256 : SIG_JWT_HS256;
    rc = sig_jwt_key_from_text(alg, text, len, &t->key);
    memset(text, 0, len);
    free(text);
    if (rc) goto fail;
  } else {
    char *text = slurp(token_file, (size_t)MAX_TOKEN_LINES * 64, &len);
    if (!text) {
      rc = VEIL_EIO;
      goto fail;
    }
    uint32_t cap = 0;
    /* strtok_r below splits at CR as well as LF: count both, or a CR-only file (old Mac
     * line ends) yields more lines than slots. */
    for (char *p = text; *p; p++) cap += *p == '\n' || *p == '\r';
    cap++;
    if (cap > MAX_TOKEN_LINES || !(t->lines = calloc(cap, sizeof *t->lines))) {
      free(text);
      rc = cap > MAX_TOKEN_LINES ? VEIL_ELIMIT : VEIL_ENOMEM;
      goto fail;
    }
    for (char *save = NULL, *l = strtok_r(text, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
      size_t ll = strlen(l);
      if (!ll) continue;
      if (ll > LOAD_TOKEN_MAX || !(t->lines[t->nlines] = strdup(l))) {
        free(text);
        rc = ll > LOAD_TOKEN_MAX ? VEIL_ELIMIT : VEIL_ENOMEM;
        goto fail;
      }
      t->nlines++;
    }
    free(text);
    if (!t->nlines) {
      rc = VEIL_EINVAL;
      goto fail;
    }
  }
  *out = t;
  return 0;
fail:
  load_tokens_free(t);
  return rc;
}

void load_tokens_free(load_tokens_t *t) {
  if (!t) return;
  sig_jwt_key_free(t->key);
  for (uint32_t i = 0; i < t->nlines; i++) free(t->lines[i]);
  free(t->lines);
  uv_mutex_destroy(&t->mu);
  free(t);
}

uint32_t load_tokens_count(const load_tokens_t *t) { return t->nlines; }

int load_tokens_get(load_tokens_t *t, uint32_t idx, int64_t ttl_s, char **token, char sub[LOAD_SUB_MAX + 1]) {
  if (!t->key) {
    if (idx >= t->nlines) return VEIL_ELIMIT;
    int rc = load_token_sub(t->lines[idx], sub);
    if (rc) return rc;
    *token = strdup(t->lines[idx]);
    return *token ? 0 : VEIL_ENOMEM;
  }
  sig_claims_t c;
  memset(&c, 0, sizeof c);
  snprintf(c.room, sizeof c.room, "%s", t->room);
  snprintf(c.sub, sizeof c.sub, "load-%u@veil-load.invalid", idx);
  snprintf(c.name, sizeof c.name, "load %u", idx);
  c.role = SIG_ROLE_MEMBER;
  c.iat = veil_wall_seconds();
  c.exp = c.iat + (ttl_s > 0 ? ttl_s : 3600);
  c.can_publish = c.can_subscribe = true;
  uv_mutex_lock(&t->mu);
  int rc = sig_jwt_sign(t->key, &c, token);
  uv_mutex_unlock(&t->mu);
  if (!rc) memcpy(sub, c.sub, strlen(c.sub) + 1);
  return rc;
}
