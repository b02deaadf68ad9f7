/*
 * veil-server — the meeting backend's one binary.
 *
 *   veil-server [options]          serve (wss://127.0.0.1:8443 and UDP 7882 by default)
 *   veil-server token [options]    print a join token signed with the server's key
 *   veil-server config [options]   print the effective configuration
 *
 * Options are configuration keys as flags (docs/config.md). Exit codes: 0 clean exit
 * (including after a SIGTERM drain), 2 invalid configuration, 1 any other failure.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/vtime.h"
#include "server/config.h"
#include "server/serve.h"
#include "server/state.h"
#include "signaling/sig_jwt.h"

extern char **environ;

static void usage(FILE *f) {
  fprintf(f,
          "usage: veil-server [--config FILE] [--KEY VALUE ...]        serve\n"
          "       veil-server token --room R --identity I --name N --role host|member|device\n"
          "                         [--ttl SECONDS] [--can-publish|--no-publish] [--no-subscribe]\n"
          "                         [--nbf-in SECONDS] [--KEY VALUE ...]\n"
          "       veil-server config [--KEY VALUE ...]                   print the effective configuration\n"
          "Configuration keys, their VEIL_* variables and defaults: docs/config.md.\n");
}

/* Splits the token subcommand's own options from configuration options. */
typedef struct token_opts {
  const char *room, *identity, *name, *role;
  long ttl, nbf_in;
  int can_publish, can_subscribe;
} token_opts_t;

static int parse_long(const char *s, long min, long max, long *out) {
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

static int cmd_token(int argc, char **argv) {
  token_opts_t t = {NULL, NULL, NULL, NULL, 3600, 0, 1, 1};
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  int nrest = 0;
  if (!rest)
    return 1;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char **dst = NULL;
    if (!strcmp(a, "--room"))
      dst = &t.room;
    else if (!strcmp(a, "--identity"))
      dst = &t.identity;
    else if (!strcmp(a, "--name"))
      dst = &t.name;
    else if (!strcmp(a, "--role"))
      dst = &t.role;
    if (dst) {
      if (i + 1 >= argc) {
        fprintf(stderr, "veil-server token: %s needs a value\n", a);
        goto fail;
      }
      *dst = argv[++i];
    } else if (!strcmp(a, "--ttl") || !strcmp(a, "--nbf-in")) {
      if (i + 1 >= argc || parse_long(argv[i + 1], a[2] == 't' ? 1 : 0, 31L * 24 * 3600, a[2] == 't' ? &t.ttl : &t.nbf_in)) {
        fprintf(stderr, "veil-server token: %s needs a number of seconds\n", a);
        goto fail;
      }
      i++;
    } else if (!strcmp(a, "--can-publish")) {
      t.can_publish = 1;
    } else if (!strcmp(a, "--no-publish")) {
      t.can_publish = 0;
    } else if (!strcmp(a, "--no-subscribe")) {
      t.can_subscribe = 0;
    } else {
      rest[nrest++] = argv[i];
    }
  }
  if (!t.room || !t.identity || !t.name || !t.role) {
    fprintf(stderr, "veil-server token: --room, --identity, --name and --role are required\n");
    goto fail;
  }
  sig_claims_t c;
  memset(&c, 0, sizeof c);
  if (strlen(t.room) > SIG_ROOM_MAX || strlen(t.identity) > SIG_IDENTITY_MAX || strlen(t.name) > SIG_NAME_MAX ||
      sig_role_parse(t.role, &c.role)) {
    fprintf(stderr, "veil-server token: room/identity/name too long or unknown role (host, member, device)\n");
    goto fail;
  }
  snprintf(c.room, sizeof c.room, "%s", t.room);
  snprintf(c.sub, sizeof c.sub, "%s", t.identity);
  snprintf(c.name, sizeof c.name, "%s", t.name);
  int64_t now = veil_wall_seconds();
  c.iat = now;
  c.nbf = t.nbf_in ? now + t.nbf_in : 0;
  c.exp = now + t.nbf_in + t.ttl;
  c.can_publish = t.can_publish;
  c.can_subscribe = t.can_subscribe;

  srv_config_t cfg;
  char err[512];
  sig_jwt_key_t *key = NULL;
  int rc = srv_config_load(&cfg, nrest, rest, environ, err, sizeof err);
  if (rc) {
    fprintf(stderr, "veil-server: invalid configuration: %s\n", err);
    free(rest);
    return 2;
  }
  veil_log_set_level(VEIL_LOG_WARN);
  if ((rc = srv_state_prepare(&cfg, err, sizeof err)) || (rc = srv_token_key_prepare(&cfg, &key, err, sizeof err))) {
    fprintf(stderr, "veil-server token: %s\n", err);
    goto fail;
  }
  char *tok = NULL;
  rc = sig_jwt_sign(key, &c, &tok);
  sig_jwt_key_free(key);
  if (rc) {
    fprintf(stderr, "veil-server token: cannot sign (%s); is token_key_file a public key?\n", veil_strerror(rc));
    goto fail;
  }
  printf("%s\n", tok);
  free(tok);
  free(rest);
  return 0;
fail:
  free(rest);
  return 1;
}

static int cmd_config(int argc, char **argv) {
  srv_config_t cfg;
  char err[512];
  if (srv_config_load(&cfg, argc, argv, environ, err, sizeof err)) {
    fprintf(stderr, "veil-server: invalid configuration: %s\n", err);
    return 2;
  }
  char out[8192];
  srv_config_dump(&cfg, out, sizeof out);
  fputs(out, stdout);
  return 0;
}

int main(int argc, char **argv) {
  /* A peer closing mid-write must not kill the process. */
  signal(SIGPIPE, SIG_IGN);
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
    usage(stdout);
    return 0;
  }
  if (argc > 1 && !strcmp(argv[1], "token"))
    return cmd_token(argc - 2, argv + 2);
  if (argc > 1 && !strcmp(argv[1], "config"))
    return cmd_config(argc - 2, argv + 2);
  int skip = argc > 1 && !strcmp(argv[1], "serve") ? 2 : 1;
  srv_config_t cfg;
  char err[512];
  if (srv_config_load(&cfg, argc - skip, argv + skip, environ, err, sizeof err)) {
    fprintf(stderr, "veil-server: invalid configuration: %s\n", err);
    return 2;
  }
  return srv_serve(&cfg);
}
