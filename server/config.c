/* veil-server configuration. Contract in config.h; keys documented in docs/config.md. */
#include "server/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

typedef enum { K_STR, K_INT, K_BOOL, K_ENUM } ktype_t;

typedef struct key {
  const char *name;
  ktype_t type;
  size_t off;
  size_t size;    /* K_STR: buffer size */
  long min, max;  /* K_INT */
  const char *const *enums;
  const char *dflt;
} key_t_;

#define F(m) offsetof(srv_config_t, m), sizeof(((srv_config_t *)0)->m)
static const char *const algs[] = {"ES256", "HS256", NULL};
static const char *const levels[] = {"debug", "info", "warn", "error", "off", NULL};

static const key_t_ keys[] = {
    {"host", K_STR, F(host), 0, 0, NULL, "127.0.0.1"},
    {"port", K_INT, F(port), 0, 65535, NULL, "8443"},
    {"tls", K_BOOL, F(tls), 0, 0, NULL, "true"},
    {"state_dir", K_STR, F(state_dir), 0, 0, NULL, ""},
    {"cert_file", K_STR, F(cert_file), 0, 0, NULL, ""},
    {"key_file", K_STR, F(key_file), 0, 0, NULL, ""},
    {"udp_host", K_STR, F(udp_host), 0, 0, NULL, "127.0.0.1"},
    {"udp_port", K_INT, F(udp_port), 0, 65535, NULL, "7882"},
    {"announce_ip", K_STR, F(announce_ip), 0, 0, NULL, ""},
    {"token_alg", K_ENUM, F(token_alg), 0, 0, algs, "ES256"},
    {"token_key_file", K_STR, F(token_key_file), 0, 0, NULL, ""},
    {"token_leeway", K_INT, F(token_leeway), 0, 300, NULL, "30"},
    {"lobby", K_BOOL, F(lobby), 0, 0, NULL, "false"},
    {"max_connections", K_INT, F(max_connections), 1, 1000000, NULL, "10000"},
    {"max_rooms", K_INT, F(max_rooms), 1, 100000, NULL, "100"},
    {"max_participants_per_room", K_INT, F(max_participants_per_room), 1, 10000, NULL, "100"},
    {"max_lobby_per_room", K_INT, F(max_lobby_per_room), 1, 10000, NULL, "50"},
    {"max_message_bytes", K_INT, F(max_message_bytes), 1024, 1048576, NULL, "65536"},
    {"max_prejoin_message_bytes", K_INT, F(max_prejoin_message_bytes), 512, 65536, NULL, "8192"},
    {"max_mls_message_bytes", K_INT, F(max_mls_message_bytes), 1024, 4194304, NULL, "262144"},
    {"messages_per_second", K_INT, F(messages_per_second), 1, 100000, NULL, "50"},
    {"join_timeout_ms", K_INT, F(join_timeout_ms), 0, 3600000, NULL, "30000"},
    {"reconnect_grace_ms", K_INT, F(reconnect_grace_ms), 0, 600000, NULL, "15000"},
    {"max_reconnecting", K_INT, F(max_reconnecting), 1, 1000000, NULL, "1000"},
    {"max_tracks_per_participant", K_INT, F(max_tracks_per_participant), 1, 16, NULL, "8"},
    {"max_subscriptions_per_participant", K_INT, F(max_subscriptions_per_participant), 1, 256, NULL, "200"},
    {"drain_timeout_ms", K_INT, F(drain_timeout_ms), 0, 3600000, NULL, "10000"},
    {"log_level", K_ENUM, F(log_level), 0, 0, levels, "info"},
    {"operator_ca", K_BOOL, F(operator_ca), 0, 0, NULL, "true"},
    {"operator_ca_dir", K_STR, F(operator_ca_dir), 0, 0, NULL, ""},
    {"operator_ca_validity_hours", K_INT, F(operator_ca_validity_hours), 1, 720, NULL, "24"},
    {"operator_ca_issue_per_minute", K_INT, F(operator_ca_issue_per_minute), 1, 100000, NULL, "60"},
    {"operator_ca_identity_per_hour", K_INT, F(operator_ca_identity_per_hour), 1, 10000, NULL, "10"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

size_t srv_config_nkeys(void) { return NKEYS; }
const char *srv_config_key_name(size_t i) { return i < NKEYS ? keys[i].name : NULL; }
const char *srv_config_key_default(size_t i) { return i < NKEYS ? keys[i].dflt : NULL; }

static int fail(char *err, size_t errlen, int code, const char *fmt, const char *a, const char *b, const char *c) {
  if (err && errlen)
    snprintf(err, errlen, fmt, a, b, c);
  return code;
}

static const key_t_ *find_key(const char *name, size_t len) {
  for (size_t i = 0; i < NKEYS; i++)
    if (strlen(keys[i].name) == len && strncmp(keys[i].name, name, len) == 0)
      return &keys[i];
  return NULL;
}

static int set_key(srv_config_t *cfg, const key_t_ *k, const char *v, const char *src, char *err, size_t el) {
  char *dst = (char *)cfg + k->off;
  switch (k->type) {
  case K_STR:
    if (strlen(v) >= k->size) {
      char lim[24];
      snprintf(lim, sizeof lim, "%zu", k->size - 1);
      return fail(err, el, VEIL_ESRV_CONFIG, "%s (from %s): value longer than %s bytes", k->name, src, lim);
    }
    for (const char *p = v; *p; p++)
      if ((unsigned char)*p < 0x20)
        return fail(err, el, VEIL_ESRV_CONFIG, "%s (from %s): control character in value%s", k->name, src, "");
    memcpy(dst, v, strlen(v) + 1);
    return 0;
  case K_INT: {
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < k->min || n > k->max) {
      char range[64];
      snprintf(range, sizeof range, "%ld..%ld", k->min, k->max);
      return fail(err, el, VEIL_ESRV_CONFIG, "%s (from %s): not an integer in %s", k->name, src, range);
    }
    *(int *)(void *)dst = (int)n;
    return 0;
  }
  case K_BOOL:
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on"))
      *(bool *)(void *)dst = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "off"))
      *(bool *)(void *)dst = false;
    else
      return fail(err, el, VEIL_ESRV_CONFIG, "%s (from %s): not a boolean (true/false)%s", k->name, src, "");
    return 0;
  case K_ENUM:
    for (const char *const *e = k->enums; *e; e++) {
      if (!strcmp(*e, v)) {
        snprintf(dst, k->size, "%s", v);
        return 0;
      }
    }
    return fail(err, el, VEIL_ESRV_CONFIG, "%s (from %s): unknown value '%.40s'", k->name, src, v);
  }
  return VEIL_ESRV_CONFIG;
}

int srv_config_set(srv_config_t *cfg, const char *key, const char *value, const char *src, char *err, size_t el) {
  const key_t_ *k = find_key(key, strlen(key));
  if (!k)
    return fail(err, el, VEIL_ESRV_CONFIG_KEY, "%.64s (from %s): unknown configuration key%s", key, src, "");
  return set_key(cfg, k, value, src, err, el);
}

void srv_config_defaults(srv_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  for (size_t i = 0; i < NKEYS; i++)
    (void)set_key(cfg, &keys[i], keys[i].dflt, "defaults", NULL, 0);
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

/* The file format (docs/config.md): one `key = value` per line, `#` starts a comment line,
 * values may be wrapped in double quotes. Bounded: 64 KiB, 1 KiB lines. */
static int load_file(srv_config_t *cfg, const char *path, char *err, size_t el) {
  FILE *f = fopen(path, "r");
  if (!f)
    return fail(err, el, VEIL_ESRV_CONFIG_FILE, "config (from %s): cannot open: %s%s", path, strerror(errno), "");
  char line[1024], src[SRV_PATH_MAX + 32];
  int lineno = 0, rc = 0;
  size_t total = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    total += strlen(line);
    snprintf(src, sizeof src, "%.*s line %d", SRV_PATH_MAX, path, lineno);
    if (total > 65536 || (strlen(line) == sizeof line - 1 && line[sizeof line - 2] != '\n')) {
      rc = fail(err, el, VEIL_ESRV_CONFIG_FILE, "config (from %s): line or file too long%s%s", src, "", "");
      break;
    }
    char *s = trim(line);
    if (!*s || *s == '#')
      continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      rc = fail(err, el, VEIL_ESRV_CONFIG_FILE, "config (from %s): expected key = value%s%s", src, "", "");
      break;
    }
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    size_t vl = strlen(val);
    if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
      val[vl - 1] = '\0';
      val++;
    }
    if ((rc = srv_config_set(cfg, key, val, src, err, el)))
      break;
  }
  fclose(f);
  return rc;
}

static const char *env_get(char *const *envp, const char *name) {
  size_t n = strlen(name);
  for (char *const *e = envp; e && *e; e++)
    if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
      return *e + n + 1;
  return NULL;
}

int srv_config_load(srv_config_t *cfg, int argc, char *const *argv, char *const *envp, char *err, size_t el) {
  srv_config_defaults(cfg);
  /* The file path itself: --config wins over VEIL_CONFIG. */
  const char *file = env_get(envp, "VEIL_CONFIG");
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--config") && i + 1 < argc)
      file = argv[i + 1];
    else if (!strncmp(argv[i], "--config=", 9))
      file = argv[i] + 9;
  }
  int rc;
  if (file && *file && (rc = load_file(cfg, file, err, el)))
    return rc;
  for (size_t i = 0; i < NKEYS; i++) {
    char name[80], src[96];
    snprintf(name, sizeof name, "VEIL_%s", keys[i].name);
    for (char *p = name; *p; p++)
      *p = (char)toupper((unsigned char)*p);
    const char *v = env_get(envp, name);
    snprintf(src, sizeof src, "%s", name);
    if (v && (rc = set_key(cfg, &keys[i], v, src, err, el)))
      return rc;
  }
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0)
      return fail(err, el, VEIL_ESRV_CONFIG_KEY, "%.64s (from flags): not an option%s%s", a, "", "");
    a += 2;
    char key[80];
    const char *val = NULL;
    const char *eq = strchr(a, '=');
    size_t kl = eq ? (size_t)(eq - a) : strlen(a);
    if (kl >= sizeof key)
      return fail(err, el, VEIL_ESRV_CONFIG_KEY, "%.64s (from flags): unknown configuration key%s%s", a, "", "");
    memcpy(key, a, kl);
    key[kl] = '\0';
    for (char *p = key; *p; p++)
      if (*p == '-')
        *p = '_';
    if (!strcmp(key, "config")) {
      if (!eq && ++i >= argc)
        return fail(err, el, VEIL_ESRV_CONFIG_FILE, "config (from flag --config): missing file name%s%s%s", "", "", "");
      continue;
    }
    const key_t_ *k = find_key(key, kl);
    /* --no-<bool> and bare --<bool> */
    if (!k && !eq && !strncmp(key, "no_", 3) && (k = find_key(key + 3, kl - 3)) && k->type == K_BOOL) {
      val = "false";
    } else if (!k) {
      return fail(err, el, VEIL_ESRV_CONFIG_KEY, "%.64s (from flag --%.64s): unknown configuration key%s", key, key, "");
    } else if (eq) {
      val = eq + 1;
    } else if (k->type == K_BOOL) {
      val = "true";
    } else if (i + 1 < argc) {
      val = argv[++i];
    } else {
      return fail(err, el, VEIL_ESRV_CONFIG, "%s (from flag --%.64s): missing value%s", k->name, a, "");
    }
    char src[96];
    snprintf(src, sizeof src, "flag --%.*s", (int)(kl < 64 ? kl : 64), a);
    if ((rc = set_key(cfg, k, val, src, err, el)))
      return rc;
  }
  return 0;
}

void srv_config_dump(const srv_config_t *cfg, char *out, size_t cap) {
  size_t n = 0;
  if (cap)
    out[0] = '\0';
  for (size_t i = 0; i < NKEYS && n < cap; i++) {
    const key_t_ *k = &keys[i];
    const char *p = (const char *)cfg + k->off;
    int w;
    if (k->type == K_INT)
      w = snprintf(out + n, cap - n, "%s = %d\n", k->name, *(const int *)(const void *)p);
    else if (k->type == K_BOOL)
      w = snprintf(out + n, cap - n, "%s = %s\n", k->name, *(const bool *)(const void *)p ? "true" : "false");
    else
      w = snprintf(out + n, cap - n, "%s = \"%s\"\n", k->name, p);
    if (w < 0)
      break;
    n += (size_t)w;
  }
}
