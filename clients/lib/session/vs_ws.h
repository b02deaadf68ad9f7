/*
 * veil client session — the WebSocket (RFC 6455) client of the veil.v1 signaling
 * connection: libwebsockets on the caller's libuv loop, ws:// or wss://.
 *
 * Server authentication for wss (a meeting client has no reason to trust the system's
 * CA list for a server it reaches by URL): either a CA file — the chain must verify to
 * it AND the leaf must name the URL's host: an IP literal as a subjectAltName iPAddress,
 * a DNS name as a subjectAltName dNSName (wildcards only as the whole left-most label,
 * the subject CN never counts); anything else fails the TLS handshake and on_closed
 * says the name did not match — or a pin, the SHA-256 of the server's DER certificate
 * (the pin is the identity: no chain or name check). The pin is compared (constant
 * time) right after the TLS handshake, before the HTTP upgrade request leaves: a
 * mismatch closes the connection before the join token is ever sent. Neither given:
 * wss refuses to connect (VEIL_EINVAL) — there is no "accept anything" mode.
 *
 * Text and binary messages are reassembled from fragments, bounded by max_message; a
 * larger one closes the connection (1009). Outgoing messages are queued (owned copies)
 * and written when lws reports the socket writeable.
 *
 * Lifetime: vs_ws_close() starts the close handshake; on_closed runs once, whatever
 * ended the connection (error, peer close, our close). The lws context goes in two
 * stages like signaling/sig_ws.c: vs_ws_shutdown(), let the loop run so lws's uv handles
 * close, then vs_ws_free().
 */
#ifndef VEIL_CLIENTS_SESSION_VS_WS_H
#define VEIL_CLIENTS_SESSION_VS_WS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct vs_ws vs_ws_t;

typedef struct vs_ws_callbacks {
  void (*on_open)(void *arg);
  void (*on_text)(void *arg, const char *text, size_t len);
  void (*on_binary)(void *arg, const uint8_t *data, size_t len);
  void (*on_closed)(void *arg, int code, const char *why);
  void *arg;
} vs_ws_callbacks_t;

typedef struct vs_ws_config {
  uv_loop_t *loop;           /* borrowed; must outlive the client */
  const char *url;           /* ws://host:port/path or wss://host:port/path */
  const char *pin_sha256;    /* wss: hex SHA-256 of the server cert (colons allowed) */
  const char *ca_file;       /* wss: PEM trust anchors instead of a pin */
  size_t max_message;        /* 0: 1 MiB */
  vs_ws_callbacks_t cb;
} vs_ws_config_t;

int vs_ws_new(const vs_ws_config_t *cfg, vs_ws_t **out);
/* Queues one message (copied). VEIL_ESTATE when not open. */
int vs_ws_send(vs_ws_t *ws, int binary, const void *data, size_t len);
void vs_ws_close(vs_ws_t *ws);
int vs_ws_is_open(const vs_ws_t *ws);
/* After on_closed: a new connection to the same URL on the same lws context (creating a
 * context per attempt would churn lws's process-wide state). on_open / on_closed follow
 * as for the first. VEIL_ESTATE before on_closed or after shutdown. */
int vs_ws_reconnect(vs_ws_t *ws);
/* Staged destroy (see above): shutdown closes lws's handles; run the loop; then free. */
void vs_ws_shutdown(vs_ws_t *ws);
void vs_ws_free(vs_ws_t *ws);

#endif
