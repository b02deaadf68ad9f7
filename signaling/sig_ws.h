/*
 * veil — the WebSocket shell of signaling: libwebsockets on the server's libuv loop
 * (LWS_SERVER_OPTION_LIBUV with a foreign loop), subprotocol `veil.v1`, plus a tiny HTTP
 * responder for the operational endpoints (/metrics, /healthz, /readyz, and the operator CA's
 * GET/POST routes) on the same port.
 *
 * The shell owns connections and their outgoing queues; every received text frame goes to
 * sig_handle_message (sig_hub.h), every binary frame to sig_handle_binary (MLS relay). Frames larger than
 * the session's limit are never buffered whole: the connection is closed with 1009
 * (RFC 6455 §7.4.1) as soon as the declared or accumulated size passes the limit.
 */
#ifndef VEIL_SIGNALING_SIG_WS_H
#define VEIL_SIGNALING_SIG_WS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "signaling/sig_hub.h"

#define SIG_WS_SUBPROTOCOL "veil.v1"

typedef struct sig_ws sig_ws_t;

/* An HTTP GET on a path other than the WebSocket upgrade. Returns the status code and
 * sets *body (malloc'd, taken over by the shell) and *ctype (static). */
typedef int (*sig_ws_http_cb)(void *user, const char *path, char **body, size_t *len, const char **ctype);
/* An HTTP POST with a Content-Length (411 without one) of at most max_post_bytes, read
 * whole before the call. `authorization` is the Authorization header (NULL when absent or
 * longer than SIG_WS_AUTH_MAX). A declared length above the limit is never stored: the
 * callback gets body NULL and len = the declared length (after the body has been read and
 * dropped when it is at most SIG_WS_POST_DISCARD_MAX, at once otherwise), and the
 * connection is closed after the answer. Same result contract as sig_ws_http_cb. */
typedef int (*sig_ws_http_post_cb)(void *user, const char *path, const char *authorization, const uint8_t *body,
                                   size_t len, char **out, size_t *out_len, const char **ctype);
#define SIG_WS_AUTH_MAX 8192
#define SIG_WS_POST_PATH_MAX 128
#define SIG_WS_POST_DISCARD_MAX (1u << 20) /* a too-large body up to this is read and dropped */
/* Called after every handled frame and closed connection: the hub's next relay deadline
 * may have changed (sig_hub_next_deadline). */
typedef void (*sig_ws_activity_cb)(void *user);

typedef struct sig_ws_config {
  uv_loop_t *loop;       /* borrowed; the server's loop */
  const char *host;      /* listen address, e.g. "127.0.0.1" */
  int port;              /* 0: the kernel picks; read it back with sig_ws_port */
  const char *cert_file; /* PEM; NULL for plain ws:// */
  const char *key_file;
  size_t max_queue_bytes; /* per connection; a slower reader is disconnected */
  size_t max_connections; /* open WebSocket connections; further upgrades are refused; 0: no limit */
  sig_ws_http_cb http;
  sig_ws_http_post_cb http_post; /* NULL: POST answers 405 */
  size_t max_post_bytes;         /* 0: 16 KiB */
  sig_ws_activity_cb on_activity;
  void *user;
} sig_ws_config_t;

/* Creates the lws context on cfg->loop and a hub whose io is this shell. `hubcfg->io` is
 * filled in here. The shell owns the hub. */
int sig_ws_new(const sig_ws_config_t *cfg, const sig_hub_config_t *hubcfg, sig_ws_t **out);
sig_hub_t *sig_ws_hub(sig_ws_t *ws);
/* The port actually listened on (useful with port 0). */
int sig_ws_port(const sig_ws_t *ws);
/* Number of open WebSocket connections. */
size_t sig_ws_connections(const sig_ws_t *ws);
/* Starts destroying the lws context: every connection is closed and lws closes its uv
 * handles. The caller closes its own handles, lets uv_run return (the loop empties), then
 * calls sig_ws_free. */
void sig_ws_shutdown(sig_ws_t *ws);
void sig_ws_free(sig_ws_t *ws);

#endif
