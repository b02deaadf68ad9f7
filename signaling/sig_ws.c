/* veil — WebSocket shell (libwebsockets on a foreign libuv loop). Contract in sig_ws.h. */
#include "signaling/sig_ws.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/vtime.h"

typedef struct frame {
  struct frame *next;
  size_t len;
  int binary;
  uint8_t buf[]; /* LWS_PRE headroom, then len bytes */
} frame_t;

/* Per-connection data; lws allocates and zeroes it (one layout for HTTP and WebSocket). */
typedef struct conn {
  struct lws *wsi;        /* borrowed from lws */
  sig_session_t *session; /* owned by the hub; closed in LWS_CALLBACK_CLOSED */
  frame_t *head, *tail;   /* owned outgoing queue */
  size_t queued;
  uint8_t *rx;            /* owned reassembly buffer of one message */
  size_t rx_len, rx_cap;
  int rx_binary;
  int close_code;         /* nonzero: close after the queue drains */
  int closing;            /* the close frame has been requested from lws */
  int peer_close_code;    /* the status of the client's close frame (0: none received) */
  int shell_closed;       /* the shell ended the connection for a limit: no resume */
  char close_reason[64];
  char *http_body;        /* owned (HTTP responses) */
  size_t http_len;
  int http_close;         /* close the connection once the answer is written */
  uint8_t *post;          /* owned: the POST body being read (NULL: none expected) */
  size_t post_len, post_cap;
  char *post_auth;        /* owned: the Authorization header, or NULL */
  char post_path[SIG_WS_POST_PATH_MAX];
  size_t post_discard;    /* nonzero: the declared length of a too-large body being skipped */
  size_t post_seen;       /* bytes of it skipped so far */
  int answered;           /* the answer to the skipped body has been written */
} conn_t;

struct sig_ws {
  sig_ws_config_t cfg;
  struct lws_context *ctx; /* owned; set to NULL by lws once destroyed (pcontext) */
  struct lws_vhost *vh;
  sig_hub_t *hub;          /* owned */
  size_t nconn;
  int destroying;
};

static void queue_frame(sig_ws_t *ws, conn_t *c, const void *data, size_t len, int binary) {
  if (c->close_code)
    return;
  if (c->queued + len > ws->cfg.max_queue_bytes) {
    /* A client that does not read must not make us buffer without bound (STYLE 10). */
    c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
    snprintf(c->close_reason, sizeof c->close_reason, "send queue full");
    c->shell_closed = 1;
    lws_callback_on_writable(c->wsi);
    return;
  }
  frame_t *f = malloc(sizeof *f + LWS_PRE + len);
  if (!f)
    return;
  f->next = NULL;
  f->len = len;
  f->binary = binary;
  memcpy(f->buf + LWS_PRE, data, len);
  if (c->tail)
    c->tail->next = f;
  else
    c->head = f;
  c->tail = f;
  c->queued += len;
  lws_callback_on_writable(c->wsi);
}

static void io_send_text(void *user, sig_session_t *s, const char *data, size_t len) {
  queue_frame(user, sig_session_user(s), data, len, 0);
}

static void io_send_binary(void *user, sig_session_t *s, const uint8_t *data, size_t len) {
  queue_frame(user, sig_session_user(s), data, len, 1);
}

static void io_close(void *user, sig_session_t *s, int code, const char *reason) {
  (void)user;
  conn_t *c = sig_session_user(s);
  if (c->close_code)
    return;
  c->close_code = code;
  snprintf(c->close_reason, sizeof c->close_reason, "%s", reason ? reason : "");
  lws_callback_on_writable(c->wsi);
}

static void io_rebind(void *user, void *conn, sig_session_t *s) {
  (void)user;
  ((conn_t *)conn)->session = s;
}

static void conn_free_buffers(conn_t *c) {
  while (c->head) {
    frame_t *f = c->head;
    c->head = f->next;
    free(f);
  }
  c->tail = NULL;
  c->queued = 0;
  free(c->rx);
  c->rx = NULL;
  c->rx_len = c->rx_cap = 0;
  free(c->http_body);
  c->http_body = NULL;
}

static void post_free(conn_t *c) {
  free(c->post);
  c->post = NULL;
  c->post_len = c->post_cap = 0;
  free(c->post_auth);
  c->post_auth = NULL;
  c->post_discard = c->post_seen = 0;
  c->answered = 0;
}

static int close_now(struct lws *wsi, int code, const char *reason) {
  lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)reason, strlen(reason));
  return -1;
}

static int on_receive(sig_ws_t *ws, conn_t *c, struct lws *wsi, const uint8_t *in, size_t len) {
  if (lws_is_first_fragment(wsi)) {
    c->rx_len = 0;
    c->rx_binary = lws_frame_is_binary(wsi);
  }
  size_t max = sig_session_max_frame(ws->hub, c->session, c->rx_binary);
  /* Refuse as soon as the declared remainder shows the message cannot fit. */
  size_t pending = lws_remaining_packet_payload(wsi);
  if (c->rx_len + len > max || c->rx_len + len + pending > max) {
    veil_log(VEIL_LOG_INFO, "signaling", "frame_too_large", "limit=%zu", max);
    sig_hub_count_error(ws->hub, VEIL_ESIG_TOO_LARGE);
    c->shell_closed = 1;
    return close_now(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
  }
  if (c->rx_len + len > c->rx_cap) {
    size_t cap = c->rx_cap ? c->rx_cap : 1024;
    while (cap < c->rx_len + len)
      cap *= 2;
    if (cap > max)
      cap = max;
    uint8_t *n = realloc(c->rx, cap);
    if (!n) {
      c->shell_closed = 1;
      return close_now(wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
    }
    c->rx = n;
    c->rx_cap = cap;
  }
  memcpy(c->rx + c->rx_len, in, len);
  c->rx_len += len;
  if (!lws_is_final_fragment(wsi) || pending)
    return 0;
  size_t n = c->rx_len;
  c->rx_len = 0;
  if (c->rx_binary)
    sig_handle_binary(ws->hub, c->session, c->rx, n, veil_now_ms());
  else
    sig_handle_message(ws->hub, c->session, (const char *)c->rx, n, veil_now_ms(), veil_wall_seconds());
  if (ws->cfg.on_activity)
    ws->cfg.on_activity(ws->cfg.user);
  /* Keep big buffers only while they are in use. */
  if (c->rx_cap > 16384) {
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = 0;
  }
  return 0;
}

static int on_writeable(conn_t *c, struct lws *wsi) {
  frame_t *f = c->head;
  if (f) {
    c->head = f->next;
    if (!c->head)
      c->tail = NULL;
    c->queued -= f->len;
    int n = lws_write(wsi, f->buf + LWS_PRE, f->len, f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    free(f);
    if (n < 0)
      return -1;
    if (c->head || c->close_code)
      lws_callback_on_writable(wsi);
    return 0;
  }
  if (c->close_code && !c->closing) {
    /* Returning -1 from WRITEABLE would make lws drop the socket without a close frame
     * (it treats the socket as unusable); a synchronous close request with a reason set
     * instead moves the connection to "waiting to send close", and lws writes the close
     * frame (RFC 6455 §5.5.1) on the next writeable event and waits for the peer's. */
    c->closing = 1;
    lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)c->close_reason,
                     strlen(c->close_reason));
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
  }
  return 0;
}

/* Writes the status line and headers of an answer whose body is c->http_body (taken
 * over; a short default text when NULL); the body follows in HTTP_WRITEABLE. */
static int respond(conn_t *c, struct lws *wsi, int status, const char *ctype) {
  uint8_t hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr - 1;
  if (!c->http_body) {
    const char *msg = status == 405 ? "method not allowed\n" : status == 411 ? "length required\n" : "not found\n";
    c->http_body = strdup(msg);
    c->http_len = c->http_body ? strlen(msg) : 0;
    ctype = "text/plain; charset=utf-8";
  }
  if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, c->http_len, &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return 1;
  lws_callback_on_writable(wsi);
  return 0;
}

static int post_call(sig_ws_t *ws, conn_t *c, struct lws *wsi, const uint8_t *body, size_t len) {
  const char *ctype = "text/plain; charset=utf-8";
  int status = ws->cfg.http_post(ws->cfg.user, c->post_path, c->post_auth, body, len, &c->http_body, &c->http_len,
                                 &ctype);
  post_free(c);
  return respond(c, wsi, status, ctype);
}

/* A POST: the body is read whole (bounded by max_post_bytes, checked against the declared
 * Content-Length before anything is allocated, STYLE 10), then handed to http_post. */
static int on_post(sig_ws_t *ws, conn_t *c, struct lws *wsi, const char *path) {
  char cl[24];
  size_t max = ws->cfg.max_post_bytes ? ws->cfg.max_post_bytes : 16384;
  if (!ws->cfg.http_post || strlen(path) >= sizeof c->post_path) {
    c->http_close = 1;
    return respond(c, wsi, ws->cfg.http_post ? 404 : 405, NULL);
  }
  snprintf(c->post_path, sizeof c->post_path, "%s", path);
  int al = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  if (al > 0 && al <= SIG_WS_AUTH_MAX && (c->post_auth = malloc((size_t)al + 1)) &&
      lws_hdr_copy(wsi, c->post_auth, al + 1, WSI_TOKEN_HTTP_AUTHORIZATION) < 0) {
    free(c->post_auth);
    c->post_auth = NULL;
  }
  char *e = NULL;
  unsigned long long n = 0;
  if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 || (n = strtoull(cl, &e, 10), *e) ||
      cl[0] == '-') {
    post_free(c);
    c->http_close = 1;
    return respond(c, wsi, 411, NULL);
  }
  if (n > max) {
    /* Refused without storing the body, and answered at once. The connection closes after
     * the answer, so no body byte is ever parsed as a next request; but a body of up to
     * SIG_WS_POST_DISCARD_MAX is first read and dropped (bounded by a timeout), because
     * most clients (Python's http.client, for one) send the whole body before reading and
     * would otherwise see a reset instead of the answer. */
    c->http_close = 1;
    int rc = post_call(ws, c, wsi, NULL, (size_t)n);
    c->post_discard = n <= SIG_WS_POST_DISCARD_MAX ? (size_t)n : 0;
    c->post_seen = 0;
    return rc;
  }
  if (n == 0)
    return post_call(ws, c, wsi, (const uint8_t *)"", 0);
  if (!(c->post = malloc((size_t)n))) {
    post_free(c);
    return 1;
  }
  c->post_cap = (size_t)n;
  return 0;
}

static int on_http(sig_ws_t *ws, conn_t *c, struct lws *wsi, const char *path) {
  const char *ctype = "text/plain; charset=utf-8";
  int status = 404;
  c->http_body = NULL;
  c->http_len = 0;
  c->http_close = 0;
  post_free(c);
  if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
    return on_post(ws, c, wsi, path);
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
    status = 405;
  } else if (ws->cfg.http) {
    status = ws->cfg.http(ws->cfg.user, path, &c->http_body, &c->http_len, &ctype);
  }
  return respond(c, wsi, status, ctype);
}

static int on_http_writeable(conn_t *c, struct lws *wsi) {
  if (!c->http_body)
    return 0;
  uint8_t *buf = malloc(LWS_PRE + c->http_len + 1);
  if (!buf)
    return -1;
  memcpy(buf + LWS_PRE, c->http_body, c->http_len);
  int n = lws_write(wsi, buf + LWS_PRE, c->http_len, LWS_WRITE_HTTP_FINAL);
  free(buf);
  free(c->http_body);
  c->http_body = NULL;
  if (n >= 0 && c->http_close && c->post_seen < c->post_discard) {
    /* Keep reading the refused body (HTTP_BODY drops it) until its end or the timeout. */
    c->answered = 1;
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, 5);
    return 0;
  }
  if (n < 0 || c->http_close)
    return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  struct lws_context *lctx = lws_get_context(wsi);
  sig_ws_t *ws = lctx ? lws_context_user(lctx) : NULL;
  conn_t *c = user;
  switch (reason) {
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
    /* Only the veil.v1 subprotocol is spoken (docs/protocol.md). */
    char proto[64];
    if (lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL) <= 0 || !strstr(proto, SIG_WS_SUBPROTOCOL))
      return 1;
    if (ws->destroying)
      return 1;
    if (ws->cfg.max_connections && ws->nconn >= ws->cfg.max_connections) {
      /* Refusing the upgrade costs less than accepting and closing (STYLE 10). */
      veil_log(VEIL_LOG_WARN, "signaling", "connection_refused", "reason=max_connections limit=%zu",
               ws->cfg.max_connections);
      sig_hub_count_error(ws->hub, VEIL_ELIMIT);
      return 1;
    }
    return 0;
  }
  case LWS_CALLBACK_ESTABLISHED:
    memset(c, 0, sizeof *c);
    c->wsi = wsi;
    c->session = sig_session_open(ws->hub, c, veil_now_ms());
    if (!c->session)
      return -1;
    ws->nconn++;
    return 0;
  case LWS_CALLBACK_RECEIVE:
    if (!c->session)
      return -1;
    return on_receive(ws, c, wsi, in, len);
  case LWS_CALLBACK_SERVER_WRITEABLE:
    if (!c->session)
      return 0;
    return on_writeable(c, wsi);
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    if (len >= 2)
      c->peer_close_code = ((const uint8_t *)in)[0] << 8 | ((const uint8_t *)in)[1];
    return 0;
  case LWS_CALLBACK_CLOSED:
    if (c->session) {
      /* A close handshake the client started with 1000 (normal) or 1001 (going away) is
       * an intentional end, like `leave`; so is a connection the shell closed for a limit
       * (1009, send queue full): an abuser gets no place held. A connection that just
       * breaks is held for a resume. Shutting down: nobody will come back to a held place. */
      veil_log(VEIL_LOG_DEBUG, "signaling", "ws_closed", "peer_close=%d shell_closed=%d joined=%d",
               c->peer_close_code, c->shell_closed, sig_session_joined(c->session));
      if (ws->destroying || c->shell_closed || c->peer_close_code == 1000 || c->peer_close_code == 1001)
        sig_session_close(ws->hub, c->session);
      else
        sig_session_lost(ws->hub, c->session, veil_now_ms());
      c->session = NULL;
      ws->nconn--;
      if (ws->cfg.on_activity && !ws->destroying)
        ws->cfg.on_activity(ws->cfg.user);
    }
    conn_free_buffers(c);
    return 0;
  case LWS_CALLBACK_HTTP:
    c->wsi = wsi;
    return on_http(ws, c, wsi, in);
  case LWS_CALLBACK_HTTP_BODY:
    /* lws delivers at most Content-Length bytes; anything beyond the buffer is a bug. The
     * body of a request already answered (too large) is skipped until the close. */
    if (c && !c->post && c->http_close) {
      c->post_seen += len;
      return c->answered && c->post_seen >= c->post_discard ? -1 : 0;
    }
    if (!c || !c->post || len > c->post_cap - c->post_len)
      return -1;
    memcpy(c->post + c->post_len, in, len);
    c->post_len += len;
    return 0;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    if (!c || !c->post)
      return c && c->http_close && !c->answered ? 0 : -1;
    return post_call(ws, c, wsi, c->post, c->post_len);
  case LWS_CALLBACK_HTTP_WRITEABLE:
    return on_http_writeable(c, wsi);
  case LWS_CALLBACK_CLOSED_HTTP:
    /* A connection closed before its first HTTP request (a TCP connect and close, an
     * aborted TLS handshake) has no per-session data: user is NULL. */
    if (!c)
      return 0;
    free(c->http_body);
    c->http_body = NULL;
    post_free(c);
    return 0;
  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(conn_t), 0, 0, NULL, 0},
    {SIG_WS_SUBPROTOCOL, callback, sizeof(conn_t), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Liveness: a connection idle for 20 s gets a WebSocket PING; one with no valid traffic
 * (data or PONG) for 45 s is dropped, so a vanished client does not keep its room seat. */
static const lws_retry_bo_t keepalive = {
    .secs_since_valid_ping = 20,
    .secs_since_valid_hangup = 45,
};

static void lws_log_emit(int level, const char *line) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", line);
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    buf[--n] = '\0';
  veil_log(level & LLL_ERR ? VEIL_LOG_ERROR : VEIL_LOG_WARN, "lws", "log", "msg=\"%s\"", buf);
}

int sig_ws_new(const sig_ws_config_t *cfg, const sig_hub_config_t *hubcfg, sig_ws_t **out) {
  sig_ws_t *ws = calloc(1, sizeof *ws);
  if (!ws)
    return VEIL_ENOMEM;
  ws->cfg = *cfg;
  if (!ws->cfg.max_queue_bytes)
    ws->cfg.max_queue_bytes = 4u << 20;
  sig_hub_config_t hc = *hubcfg;
  hc.io.user = ws;
  hc.io.send_text = io_send_text;
  hc.io.send_binary = io_send_binary;
  hc.io.close = io_close;
  hc.io.rebind = io_rebind;
  int rc = sig_hub_new(&hc, &ws->hub);
  if (rc)
    goto fail;

  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  void *loops[1] = {cfg->loop};
  info.foreign_loops = loops;
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                 LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
  if (!strchr(cfg->host, ':'))
    info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  if (cfg->cert_file) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = cfg->cert_file;
    info.ssl_private_key_filepath = cfg->key_file;
  }
  info.iface = cfg->host;
  info.port = cfg->port;
  info.protocols = protocols;
  info.user = ws;
  info.pcontext = &ws->ctx;
  info.timeout_secs = 10;
  /* The per-thread service buffer must hold a whole TLS record (16 KiB, RFC 8446 §5.1):
   * with lws's 4 KiB default, SSL_read leaves the rest of a large record inside OpenSSL
   * where no socket event announces it, and on the libuv loop an HTTP body bigger than
   * ~8 KiB then stalled until the timeout. */
  info.pt_serv_buf_size = 32768;
  info.retry_and_idle_policy = &keepalive;
  rc = VEIL_ESIG_UNAVAILABLE;
  ws->ctx = lws_create_context(&info);
  if (!ws->ctx)
    goto fail;
  ws->vh = lws_get_vhost_by_name(ws->ctx, "default");
  if (!ws->vh || lws_get_vhost_listen_port(ws->vh) <= 0) {
    veil_log(VEIL_LOG_ERROR, "signaling", "listen_failed", "host=%s port=%d", cfg->host, cfg->port);
    goto fail;
  }
  *out = ws;
  return 0;
fail:
  if (ws->ctx)
    lws_context_destroy(ws->ctx);
  sig_hub_free(ws->hub);
  free(ws);
  return rc;
}

sig_hub_t *sig_ws_hub(sig_ws_t *ws) { return ws->hub; }
int sig_ws_port(const sig_ws_t *ws) { return ws->vh ? lws_get_vhost_listen_port(ws->vh) : -1; }
size_t sig_ws_connections(const sig_ws_t *ws) { return ws->nconn; }

void sig_ws_shutdown(sig_ws_t *ws) {
  if (ws->destroying || !ws->ctx)
    return;
  ws->destroying = 1;
  ws->vh = NULL;
  sig_hub_release_held(ws->hub);
  lws_context_destroy(ws->ctx);
}


void sig_ws_free(sig_ws_t *ws) {
  if (!ws)
    return;
  /* With a foreign loop the context is destroyed in stages: the first call (shutdown)
   * closes connections and lws's uv handles; once the loop has run their close callbacks,
   * a second call frees what remains. lws clears ws->ctx (pcontext) when it is all gone. */
  if (ws->ctx)
    lws_context_destroy(ws->ctx);
  sig_hub_free(ws->hub);
  free(ws);
}
