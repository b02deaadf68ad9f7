/*
 * veil-server runtime: one libuv loop carrying the signaling WebSocket server (and the
 * operational HTTP endpoints on the same port), signal handling and the drain; and the
 * lines printed once listening, which say how to join (print_join).
 *
 * Drain (SIGTERM or SIGINT): joins are refused from the first signal on, every client is
 * told with a `draining` message carrying the deadline, /readyz answers 503; the server
 * exits 0 once the last connection is gone or drain_timeout_ms has passed, whichever is
 * first. A second signal ends the drain at once.
 */
#include "server/serve.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/err.h"
#include "common/log.h"
#include "common/vtime.h"
#include "server/media.h"
#include "server/metrics.h"
#include "server/operator_ca.h"
#include "server/state.h"
#include "signaling/sig_ws.h"

typedef struct server {
  srv_config_t *cfg;
  uv_loop_t loop;
  uv_signal_t sigterm, sigint;
  uv_timer_t tick;
  uv_timer_t relay_timer; /* armed at the hub's next MLS relay deadline */
  uint64_t relay_armed;   /* the deadline it is armed for, UINT64_MAX: idle */
  sig_ws_t *ws;
  srv_media_t *media; /* NULL once closed */
  sig_jwt_key_t *key;
  srv_opca_t *opca; /* owned; NULL when operator_ca = false */
  uint64_t drain_deadline_ms; /* 0: not draining */
  int stopping;
} server_t;

static int http_cb(void *user, const char *path, char **body, size_t *len, const char **ctype) {
  server_t *srv = user;
  sig_hub_t *hub = sig_ws_hub(srv->ws);
  if (!strcmp(path, "/metrics")) {
    *ctype = "text/plain; version=0.0.4; charset=utf-8";
    srv_media_stats_t ms;
    if (srv->media)
      srv_media_stats(srv->media, &ms);
    sig_relay_totals_t rt;
    sig_hub_relay_totals(hub, &rt);
    *body = srv_metrics_render(sig_hub_stats(hub), &rt, sig_ws_connections(srv->ws), sig_hub_draining(hub),
                               srv->media ? &ms : NULL, len);
    if (*body && srv->opca && srv_opca_metrics_append(srv->opca, body, len)) {
      free(*body);
      *body = NULL;
    }
    return *body ? 200 : 500;
  }
  if (!strcmp(path, SRV_OPCA_CERT_PATH) && srv->opca) {
    /* The operator anchor, for clients to configure (docs/identity.md). */
    *ctype = "application/pem-certificate-chain";
    *body = strdup(srv_opca_cert_pem(srv->opca));
    *len = *body ? strlen(*body) : 0;
    return *body ? 200 : 500;
  }
  if (!strcmp(path, "/healthz")) {
    *body = strdup("ok\n");
    *len = 3;
    return 200;
  }
  if (!strcmp(path, "/readyz")) {
    bool draining = sig_hub_draining(hub);
    *body = strdup(draining ? "draining\n" : "ready\n");
    *len = strlen(draining ? "draining\n" : "ready\n");
    return draining ? 503 : 200;
  }
  return 404;
}

/* POST /v1/operator-ca/issue (docs/protocol.md "Operator CA"): the certificate as PEM, or
 * {"error":"<reason>"} with the status operator_ca.c chose. */
static int http_post_cb(void *user, const char *path, const char *auth, const uint8_t *body, size_t len, char **out,
                        size_t *out_len, const char **ctype) {
  server_t *srv = user;
  if (strcmp(path, SRV_OPCA_ISSUE_PATH) != 0 || !srv->opca)
    return 404;
  srv_opca_result_t r;
  srv_opca_issue(srv->opca, auth, body, len, veil_wall_seconds(), veil_now_ms(), &r);
  if (r.cert_pem) {
    *ctype = "application/pem-certificate-chain";
    *out = r.cert_pem;
    *out_len = strlen(r.cert_pem);
    return r.http_status;
  }
  char msg[96];
  int n = snprintf(msg, sizeof msg, "{\"error\":\"%s\"}\n", srv_opca_reason_name(r.reason));
  *ctype = "application/json";
  *out = strdup(msg);
  *out_len = *out ? (size_t)n : 0;
  return r.http_status;
}

/* The operator CA: the configured directory (which must hold a CA), else
 * <state_dir>/operator-ca, created on first start. */
static int opca_prepare(server_t *srv, char *err, size_t el) {
  srv_config_t *cfg = srv->cfg;
  if (!cfg->operator_ca)
    return 0;
  bool given = cfg->operator_ca_dir[0] != '\0';
  if (!given)
    snprintf(cfg->operator_ca_dir, sizeof cfg->operator_ca_dir, "%.480s/operator-ca", cfg->state_dir);
  int rc = srv_opca_prepare(cfg->operator_ca_dir, !given, veil_wall_seconds(), err, el);
  if (rc)
    return rc;
  srv_opca_config_t oc = {
      .dir = cfg->operator_ca_dir,
      .key = srv->key,
      .token_leeway_s = cfg->token_leeway,
      .validity_s = (int64_t)cfg->operator_ca_validity_hours * 3600,
      .issue_per_minute = (uint32_t)cfg->operator_ca_issue_per_minute,
      .identity_per_hour = (uint32_t)cfg->operator_ca_identity_per_hour,
  };
  if ((rc = srv_opca_open(&oc, &srv->opca)))
    snprintf(err, el, "operator_ca_dir: cannot open the CA in %.400s (%s)", cfg->operator_ca_dir, veil_strerror(rc));
  return rc;
}

static void close_own_handles(server_t *srv) {
  if (srv->stopping == 3)
    return;
  srv->stopping = 3;
  uv_close((uv_handle_t *)&srv->sigterm, NULL);
  uv_close((uv_handle_t *)&srv->sigint, NULL);
  uv_close((uv_handle_t *)&srv->tick, NULL);
  uv_close((uv_handle_t *)&srv->relay_timer, NULL);
}

static void on_relay_timer(uv_timer_t *t);

/* Re-arms the relay timer when the hub's earliest deadline changed. */
static void arm_relay_timer(server_t *srv) {
  if (srv->stopping)
    return;
  uint64_t d = sig_hub_next_deadline(sig_ws_hub(srv->ws));
  if (d == srv->relay_armed)
    return;
  srv->relay_armed = d;
  if (d == UINT64_MAX) {
    uv_timer_stop(&srv->relay_timer);
    return;
  }
  uint64_t now = veil_now_ms();
  uv_timer_start(&srv->relay_timer, on_relay_timer, d > now ? d - now : 0, 0);
}

static void on_relay_timer(uv_timer_t *t) {
  server_t *srv = t->data;
  srv->relay_armed = UINT64_MAX;
  sig_hub_tick(sig_ws_hub(srv->ws), veil_now_ms());
  arm_relay_timer(srv);
}

static void on_activity(void *user) { arm_relay_timer(user); }

static void media_closed(void *arg) {
  server_t *srv = arg;
  close_own_handles(srv);
}

/* Shutdown order: the WebSocket context first (every session leaves its room, which
 * closes its SFU participant), then the SFU worker once no connection is left, then our
 * own handles; lws closes its uv handles itself, so the loop then empties and uv_run
 * returns. */
static void begin_shutdown(server_t *srv) {
  if (srv->stopping)
    return;
  srv->stopping = 1;
  veil_log(VEIL_LOG_INFO, "server", "shutdown", "connections=%zu", sig_ws_connections(srv->ws));
  sig_ws_shutdown(srv->ws);
}

/* 100 ms housekeeping: drain progress and the shutdown sequence. */
static void on_tick(uv_timer_t *t) {
  server_t *srv = t->data;
  if (!srv->stopping)
    sig_hub_expire(sig_ws_hub(srv->ws), veil_now_ms());
  if (srv->stopping == 1 && sig_ws_connections(srv->ws) == 0) {
    srv->stopping = 2;
    srv_media_t *m = srv->media;
    srv->media = NULL;
    srv_media_close(m, media_closed, srv);
    return;
  }
  if (srv->drain_deadline_ms && !srv->stopping &&
      (sig_ws_connections(srv->ws) == 0 || veil_now_ms() >= srv->drain_deadline_ms)) {
    veil_log(VEIL_LOG_INFO, "server", "drain_done", "remaining=%zu timed_out=%d", sig_ws_connections(srv->ws),
             sig_ws_connections(srv->ws) != 0);
    begin_shutdown(srv);
  }
}

static void on_signal(uv_signal_t *h, int signum) {
  server_t *srv = h->data;
  if (srv->drain_deadline_ms) {
    veil_log(VEIL_LOG_WARN, "server", "drain_interrupted", "signal=%d", signum);
    begin_shutdown(srv);
    return;
  }
  uint32_t timeout = (uint32_t)srv->cfg->drain_timeout_ms;
  srv->drain_deadline_ms = veil_now_ms() + timeout;
  veil_log(VEIL_LOG_INFO, "server", "drain_start", "signal=%d timeout_ms=%u connections=%zu", signum, timeout,
           sig_ws_connections(srv->ws));
  sig_hub_drain(sig_ws_hub(srv->ws), timeout);
}

/* One shell word, after a space: as is when no shell treats any of its characters
 * specially, else single-quoted (a ' inside becomes '\''), so a printed line pastes. */
static void put_word(const char *w) {
  static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./_-";
  if (*w && strspn(w, plain) == strlen(w)) {
    printf(" %s", w);
    return;
  }
  fputs(" '", stdout);
  for (; *w; w++) {
    if (*w == '\'')
      fputs("'\\''", stdout);
    else
      putchar(*w);
  }
  putchar('\'');
}

/* A path the server has just used, made absolute so that a printed command works from any
 * directory; as configured when it cannot be resolved. */
static const char *absolute(const char *path, char buf[PATH_MAX]) { return realpath(path, buf) ? buf : path; }

/* Whether the token key can sign: an ES256 token_key_file may hold only the public key
 * (tokens then come from the application backend, docs/operations.md). */
static bool key_signs(const sig_jwt_key_t *key) {
  sig_claims_t c = {.room = "demo", .sub = "probe", .name = "Probe", .role = SIG_ROLE_MEMBER, .exp = 1};
  char *tok = NULL;
  int rc = sig_jwt_sign(key, &c, &tok);
  free(tok);
  return rc == 0;
}

#define JOIN_WHO "--room demo --identity alice@example.org --name Alice"
#define JOIN_TOKEN_FILE "alice.jwt"

/* The first join line: a `veil-server token` command that signs with exactly this
 * server's key — this binary, its state directory, token_alg and token_key_file, all
 * explicit and absolute, so neither the working directory nor the VEIL_* environment of
 * whoever pastes it can pick another key (or, without one, make an ES256 key whose tokens
 * an HS256 server refuses). */
static void print_token_line(const server_t *srv) {
  const srv_config_t *cfg = srv->cfg;
  char exe[PATH_MAX], state[PATH_MAX], key[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1); /* the binary running: same version */
  if (n > 0)
    exe[n] = '\0';
  else
    snprintf(exe, sizeof exe, "veil-server");
  const char *key_file = absolute(cfg->token_key_file, key);
  if (!key_signs(srv->key)) {
    fputs("join: token_key_file", stdout);
    put_word(key_file);
    fputs(" verifies only (a public key): your application backend signs join tokens; save one for "
          "alice@example.org in room demo as " JOIN_TOKEN_FILE ", then\n",
          stdout);
    return;
  }
  fputs("join:", stdout);
  put_word(exe);
  fputs(" token --state-dir", stdout);
  put_word(absolute(cfg->state_dir, state));
  printf(" --token-alg %s --token-key-file", cfg->token_alg);
  put_word(key_file);
  fputs(" " JOIN_WHO " --role host > " JOIN_TOKEN_FILE "\n", stdout);
}

/* The startup lines that say how to join (docs/operations.md): the token command, a
 * veil-client command line with the URL and the way to trust this server's certificate,
 * and the certificate actually in use. `operator_cert`: cert_file/key_file were
 * configured, not generated. */
static void print_join(const server_t *srv, int port, bool operator_cert) {
  const srv_config_t *cfg = srv->cfg;
  char cert[PATH_MAX], tls_key[PATH_MAX], ca[PATH_MAX];
  print_token_line(srv);
  /* A wildcard listener is not an address to connect to; this machine reaches it on
   * loopback. veil-client takes no IPv6 literal, so a v6 wildcard also maps there. */
  const char *host = cfg->host;
  if (!host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
    host = "127.0.0.1";
  srv_tls_trust_t trust;
  int trc = cfg->tls ? srv_tls_trust(cfg->cert_file, operator_cert, host, &trust) : 0;
  /* With --ca the client checks the URL's host against the certificate: name one it has. */
  if (cfg->tls && !trc && trust.ca_file[0] && trust.url_host[0])
    host = trust.url_host;
  char url[300];
  snprintf(url, sizeof url, strchr(host, ':') ? "%s://[%s]:%d/" : "%s://%s:%d/", cfg->tls ? "wss" : "ws", host, port);
  fputs("join: veil-client --url", stdout);
  put_word(url);
  const char *ca_file = cfg->tls && !trc && trust.ca_file[0] ? absolute(trust.ca_file, ca) : NULL;
  if (cfg->tls && !trc) {
    fputs(ca_file ? " --ca" : " --pin", stdout);
    put_word(ca_file ? ca_file : trust.pin);
  }
  fputs(" " JOIN_WHO " --token-file " JOIN_TOKEN_FILE "\n", stdout);

  const char *cert_file = cfg->tls ? absolute(cfg->cert_file, cert) : "";
  if (!cfg->tls)
    printf("tls: off (plain ws://; terminate TLS in front of the server)\n");
  else if (trc)
    printf("tls: cannot read a certificate from %s to pin it\n", cert_file);
  else if (!operator_cert)
    printf("tls: self-signed development certificate %s, generated by veil-server (clients pin its SHA-256: --pin)\n",
           cert_file);
  else if (ca_file)
    printf("tls: operator certificate %s (key %s), verified against CA file %s (clients: --ca)\n", cert_file,
           absolute(cfg->key_file, tls_key), ca_file);
  else
    printf("tls: operator certificate %s (key %s), not verified by the system's CAs (%s): clients pin it (--pin) "
           "or take --ca with its issuer\n",
           cert_file, absolute(cfg->key_file, tls_key), trust.why);
}

int srv_serve(srv_config_t *cfg) {
  char err[640];
  veil_log_level_t lvl;
  if (veil_log_parse_level(cfg->log_level, &lvl) == 0)
    veil_log_set_level(lvl);
  server_t srv;
  memset(&srv, 0, sizeof srv);
  srv.cfg = cfg;
  int rc;
  bool operator_cert = cfg->cert_file[0] || cfg->key_file[0]; /* srv_tls_prepare fills both */
  if ((rc = srv_state_prepare(cfg, err, sizeof err)) || (rc = srv_token_key_prepare(cfg, &srv.key, err, sizeof err)) ||
      (cfg->tls && (rc = srv_tls_prepare(cfg, err, sizeof err))) || (rc = opca_prepare(&srv, err, sizeof err))) {
    fprintf(stderr, "veil-server: %s\n", err);
    srv_opca_free(srv.opca);
    sig_jwt_key_free(srv.key);
    return rc == VEIL_ESRV_CONFIG ? 2 : 1;
  }
  if (uv_loop_init(&srv.loop) != 0) {
    srv_opca_free(srv.opca);
    sig_jwt_key_free(srv.key);
    return 1;
  }
  if ((rc = srv_media_new(&srv.loop, cfg, &srv.media))) {
    fprintf(stderr, "veil-server: udp_port: cannot open the media socket on %s:%d (%s)\n", cfg->udp_host,
            cfg->udp_port, veil_strerror(rc));
    uv_run(&srv.loop, UV_RUN_DEFAULT);
    uv_loop_close(&srv.loop);
    srv_opca_free(srv.opca);
    sig_jwt_key_free(srv.key);
    return 1;
  }
  sig_ws_config_t wc = {
      .loop = &srv.loop,
      .host = cfg->host,
      .port = cfg->port,
      .cert_file = cfg->tls ? cfg->cert_file : NULL,
      .key_file = cfg->tls ? cfg->key_file : NULL,
      .http = http_cb,
      .http_post = http_post_cb,
      .max_post_bytes = SRV_OPCA_CSR_MAX,
      .on_activity = on_activity,
      .max_connections = (size_t)cfg->max_connections,
      .user = &srv,
  };
  sig_hub_config_t hc = {
      .limits =
          {
              .max_rooms = (uint32_t)cfg->max_rooms,
              .max_participants_per_room = (uint32_t)cfg->max_participants_per_room,
              .max_lobby_per_room = (uint32_t)cfg->max_lobby_per_room,
              .max_message_bytes = (uint32_t)cfg->max_message_bytes,
              .max_prejoin_message_bytes = (uint32_t)cfg->max_prejoin_message_bytes,
              .max_mls_message_bytes = (uint32_t)cfg->max_mls_message_bytes,
              .messages_per_second = (uint32_t)cfg->messages_per_second,
              .join_timeout_ms = (uint32_t)cfg->join_timeout_ms,
              .reconnect_grace_ms = (uint32_t)cfg->reconnect_grace_ms,
              .max_reconnecting = (uint32_t)cfg->max_reconnecting,
              .max_tracks_per_participant = (uint32_t)cfg->max_tracks_per_participant,
              .max_subscriptions_per_participant = (uint32_t)cfg->max_subscriptions_per_participant,
          },
      .key = srv.key,
      .token_leeway_s = cfg->token_leeway,
      .lobby = cfg->lobby,
      .media = srv_media_ops(),
      .media_ctx = srv.media,
  };
  rc = sig_ws_new(&wc, &hc, &srv.ws);
  if (rc) {
    fprintf(stderr, "veil-server: port: cannot listen on %s:%d\n", cfg->host, cfg->port);
    srv_media_close(srv.media, NULL, NULL);
    uv_run(&srv.loop, UV_RUN_DEFAULT);
    uv_loop_close(&srv.loop);
    srv_opca_free(srv.opca);
    sig_jwt_key_free(srv.key);
    return 1;
  }
  srv_media_set_hub(srv.media, sig_ws_hub(srv.ws));
  uv_signal_init(&srv.loop, &srv.sigterm);
  uv_signal_init(&srv.loop, &srv.sigint);
  uv_timer_init(&srv.loop, &srv.tick);
  uv_timer_init(&srv.loop, &srv.relay_timer);
  srv.relay_armed = UINT64_MAX;
  srv.sigterm.data = srv.sigint.data = srv.tick.data = srv.relay_timer.data = &srv;
  uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
  uv_signal_start(&srv.sigint, on_signal, SIGINT);
  uv_timer_start(&srv.tick, on_tick, 100, 100);

  int port = sig_ws_port(srv.ws);
  const char *scheme = cfg->tls ? "wss" : "ws";
  veil_log(VEIL_LOG_INFO, "server", "listening", "url=%s://%s:%d subprotocol=%s token_alg=%s state_dir=%s", scheme,
           cfg->host, port, SIG_WS_SUBPROTOCOL, cfg->token_alg, cfg->state_dir);
  printf("veil-server ready: %s://%s:%d (subprotocol %s), media udp %s:%u, metrics http%s://%s:%d/metrics\n", scheme,
         cfg->host, port, SIG_WS_SUBPROTOCOL, cfg->udp_host, (unsigned)srv_media_port(srv.media),
         cfg->tls ? "s" : "", cfg->host, port);
  print_join(&srv, port, operator_cert);
  if (srv.opca)
    printf("operator ca: %s (GET %s, POST %s)\n", cfg->operator_ca_dir, SRV_OPCA_CERT_PATH, SRV_OPCA_ISSUE_PATH);
  fflush(stdout);

  uv_run(&srv.loop, UV_RUN_DEFAULT);

  sig_ws_free(srv.ws);
  uv_run(&srv.loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&srv.loop);
  if (rc)
    veil_log(VEIL_LOG_WARN, "server", "loop_close", "err=%s", uv_strerror(rc));
  srv_opca_free(srv.opca);
  sig_jwt_key_free(srv.key);
  veil_log(VEIL_LOG_INFO, "server", "exit", "code=0");
  return 0;
}
