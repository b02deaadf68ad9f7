/* veil client session — WebSocket client on lws + libuv. Contract in vs_ws.h. */
#include "clients/lib/session/vs_ws.h"

#include <ctype.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

#define PROTOCOL "veil.v1"

typedef struct frame {
  struct frame *next;
  size_t len;
  int binary;
  uint8_t buf[]; /* LWS_PRE headroom, then len bytes */
} frame_t;

struct vs_ws {
  vs_ws_callbacks_t cb;
  struct lws_context *ctx; /* owned; lws clears it once destroyed (pcontext) */
  SSL_CTX *ssl_ctx;        /* owned reference (wss only): lws never frees a provided one */
  struct lws *wsi;         /* borrowed from lws while connected */
  frame_t *head, *tail;    /* owned send queue */
  uint8_t *rx;             /* owned reassembly buffer */
  size_t rx_len, rx_cap, max_message;
  int rx_binary, open, closed_reported, closing, destroying;
  int have_pin;
  uint8_t pin[32];
  char host[256], path[512];
  int port, tls;
  char tls_error[400]; /* why cert_verify refused the server; reported as the close reason */
};

static void report_closed(vs_ws_t *ws, int code, const char *why) {
  ws->open = 0;
  ws->wsi = NULL;
  if (ws->closed_reported)
    return;
  ws->closed_reported = 1;
  if (ws->cb.on_closed)
    ws->cb.on_closed(ws->cb.arg, code, why);
}

/* The pin check: SHA-256 over the peer's DER certificate (RFC 8122 §5's fingerprint). */
static int pin_ok(vs_ws_t *ws, struct lws *wsi) {
  SSL *ssl = (SSL *)lws_get_ssl(wsi);
  if (!ssl)
    return 0;
  X509 *cert = SSL_get1_peer_certificate(ssl);
  if (!cert)
    return 0;
  uint8_t md[32];
  unsigned int n = 0;
  int ok = X509_digest(cert, EVP_sha256(), md, &n) == 1 && n == 32 && CRYPTO_memcmp(md, ws->pin, 32) == 0;
  X509_free(cert);
  return ok;
}

static int on_receive(vs_ws_t *ws, struct lws *wsi, const uint8_t *in, size_t len) {
  if (lws_is_first_fragment(wsi)) {
    ws->rx_len = 0;
    ws->rx_binary = lws_frame_is_binary(wsi);
  }
  if (len > ws->max_message - ws->rx_len) {
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"too large", 9);
    return -1;
  }
  if (ws->rx_len + len + 1 > ws->rx_cap) {
    size_t cap = ws->rx_cap ? ws->rx_cap : 4096;
    while (cap < ws->rx_len + len + 1)
      cap *= 2;
    uint8_t *nb = realloc(ws->rx, cap);
    if (!nb)
      return -1;
    ws->rx = nb;
    ws->rx_cap = cap;
  }
  memcpy(ws->rx + ws->rx_len, in, len);
  ws->rx_len += len;
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
    return 0;
  ws->rx[ws->rx_len] = 0;
  if (ws->rx_binary) {
    if (ws->cb.on_binary)
      ws->cb.on_binary(ws->cb.arg, ws->rx, ws->rx_len);
  } else if (ws->cb.on_text) {
    ws->cb.on_text(ws->cb.arg, (const char *)ws->rx, ws->rx_len);
  }
  return 0;
}

static int on_writeable(vs_ws_t *ws, struct lws *wsi) {
  if (ws->closing && !ws->head) {
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
    return -1;
  }
  frame_t *f = ws->head;
  if (!f)
    return 0;
  int n = lws_write(wsi, f->buf + LWS_PRE, f->len, f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
  if (n < (int)f->len)
    return -1;
  ws->head = f->next;
  if (!ws->head)
    ws->tail = NULL;
  free(f);
  if (ws->head || ws->closing)
    lws_callback_on_writable(wsi);
  return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  (void)user;
  struct lws_context *lctx = lws_get_context(wsi);
  vs_ws_t *ws = lctx ? lws_context_user(lctx) : NULL;
  if (!ws)
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  switch (reason) {
  case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
    /* After TLS, before the upgrade request: refuse an unpinned server here. */
    if (ws->tls && ws->have_pin && !pin_ok(ws, wsi)) {
      veil_log(VEIL_LOG_ERROR, "client", "tls_pin_mismatch", "host=%s", ws->host);
      return -1;
    }
    return 0;
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    ws->open = 1;
    if (ws->cb.on_open)
      ws->cb.on_open(ws->cb.arg);
    if (ws->head)
      lws_callback_on_writable(wsi);
    return 0;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    return on_receive(ws, wsi, in, len);
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    return on_writeable(ws, wsi);
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    /* Our own verdict on the certificate says more than lws's generic handshake error. */
    report_closed(ws, 1006, ws->tls_error[0] ? ws->tls_error : in && len ? (const char *)in : "connection error");
    return 0;
  case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    return 0;
  case LWS_CALLBACK_CLIENT_CLOSED:
    report_closed(ws, ws->closing ? 1000 : 1006, ws->closing ? "closed" : "closed by peer");
    return 0;
  case LWS_CALLBACK_WSI_DESTROY:
    if (wsi == ws->wsi)
      report_closed(ws, 1006, "destroyed");
    return 0;
  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {PROTOCOL, callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_pin(const char *s, uint8_t out[32]) {
  size_t n = 0;
  for (const char *p = s; *p;) {
    if (*p == ':') {
      p++;
      continue;
    }
    int hi = hexval(p[0]), lo = p[1] ? hexval(p[1]) : -1;
    if (hi < 0 || lo < 0 || n >= 32)
      return VEIL_EINVAL;
    out[n++] = (uint8_t)(hi << 4 | lo);
    p += 2;
  }
  return n == 32 ? 0 : VEIL_EINVAL;
}

static int parse_url(vs_ws_t *ws, const char *url) {
  const char *rest;
  if (!strncmp(url, "ws://", 5)) {
    rest = url + 5;
    ws->port = 80;
  } else if (!strncmp(url, "wss://", 6)) {
    rest = url + 6;
    ws->tls = 1;
    ws->port = 443;
  } else {
    return VEIL_EINVAL;
  }
  const char *slash = strchr(rest, '/');
  size_t hl = slash ? (size_t)(slash - rest) : strlen(rest);
  snprintf(ws->path, sizeof ws->path, "%s", slash ? slash : "/");
  const char *colon = memchr(rest, ':', hl);
  size_t namelen = colon ? (size_t)(colon - rest) : hl;
  if (namelen == 0 || namelen >= sizeof ws->host)
    return VEIL_EINVAL;
  memcpy(ws->host, rest, namelen);
  ws->host[namelen] = 0;
  if (colon) {
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end != rest + hl || p <= 0 || p > 65535)
      return VEIL_EINVAL;
    ws->port = (int)p;
  }
  return 0;
}

/* Chain verification for our own SSL_CTX, replacing the per-SSL callback lws installs.
 * lws 4.1 finds a connection's wsi through an SSL ex-data index that every new
 * context with LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT re-assigns process-wide, so with
 * one context per connection a handshake in flight while another session starts found
 * no wsi and failed (issue 11). Verifying here does not consult that index. With a pin
 * the chain is not what we trust (the pin is, checked before the upgrade request). */
static int verify_as_is(int ok, X509_STORE_CTX *x) {
  (void)x;
  return ok;
}

/* The identity a CA-file chain must prove: the URL's host (RFC 9525's service identity).
 * An IP literal must be one of the certificate's iPAddress SANs, a name one of its dNSName
 * SANs, case-insensitively; a wildcard counts only as the whole left-most label
 * ("*.example.org" names a.example.org, not example.org nor a.b.example.org; "f*.example.org"
 * names nothing), and the subject CN is never consulted (RFC 9525 dropped that fallback).
 * Without this any certificate the CA file vouches for, for any name, was accepted: a man
 * in the middle with a public CA bundle. This is the only name check: lws is told to skip
 * its own (vs_ws_new), so there is one place and one rule. One of host and IP is set, the
 * other cleared. */
static int bind_peer_name(X509_VERIFY_PARAM *p, const char *host) {
  X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  if (X509_VERIFY_PARAM_set1_ip_asc(p, host) == 1)
    return X509_VERIFY_PARAM_set1_host(p, NULL, 0) == 1;
  return X509_VERIFY_PARAM_set1_ip(p, NULL, 0) == 1 && X509_VERIFY_PARAM_set1_host(p, host, 0) == 1;
}

static int cert_verify(X509_STORE_CTX *x, void *arg) {
  vs_ws_t *ws = arg;
  if (ws->have_pin)
    return 1;
  X509_STORE_CTX_set_verify_cb(x, verify_as_is); /* OpenSSL's default: no overrides */
  if (!bind_peer_name(X509_STORE_CTX_get0_param(x), ws->host)) {
    veil_log(VEIL_LOG_ERROR, "client", "tls_verify_failed", "host=%s error=cannot_set_peer_name", ws->host);
    snprintf(ws->tls_error, sizeof ws->tls_error, "tls: cannot check the server certificate against %s", ws->host);
    return 0; /* fail closed: without a name the chain alone would pass */
  }
  if (X509_verify_cert(x) == 1)
    return 1;
  int err = X509_STORE_CTX_get_error(x);
  const char *why = X509_verify_cert_error_string(err);
  if (err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    veil_log(VEIL_LOG_ERROR, "client", "tls_name_mismatch", "host=%s error=\"%s\"", ws->host, why);
    snprintf(ws->tls_error, sizeof ws->tls_error, "tls: server certificate name does not match %s (%s)", ws->host,
             why);
  } else {
    veil_log(VEIL_LOG_ERROR, "client", "tls_verify_failed", "error=%s", why);
    snprintf(ws->tls_error, sizeof ws->tls_error, "tls: server certificate not trusted (%s)", why);
  }
  return 0;
}

/* Our SSL_CTX, handed to lws (provided_client_ssl_ctx). lws 4.1 frees the client SSL_CTX
 * it creates itself through the same re-assigned SSL_CTX ex-data index, so every context
 * but the last created one leaked its SSL_CTX and CA store (~350 KiB, issue 11); a
 * provided SSL_CTX is never freed by lws, and vs_ws_free drops our reference. */
static SSL_CTX *client_ssl_ctx(vs_ws_t *ws, const char *ca_file) {
  SSL_CTX *c = SSL_CTX_new(TLS_client_method());
  if (!c)
    return NULL;
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
      (!ws->have_pin && SSL_CTX_load_verify_locations(c, ca_file, NULL) != 1)) {
    SSL_CTX_free(c);
    return NULL;
  }
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
  /* ws outlives every handshake: vs_ws_free destroys the lws context before the SSL_CTX. */
  SSL_CTX_set_cert_verify_callback(c, cert_verify, ws);
  return c;
}

static int connect_wsi(vs_ws_t *ws);

int vs_ws_new(const vs_ws_config_t *cfg, vs_ws_t **out) {
  vs_ws_t *ws = calloc(1, sizeof *ws);
  if (!ws)
    return VEIL_ENOMEM;
  int rc = parse_url(ws, cfg->url);
  if (rc)
    goto fail;
  ws->cb = cfg->cb;
  ws->max_message = cfg->max_message ? cfg->max_message : (1u << 20);
  if (cfg->pin_sha256) {
    if ((rc = parse_pin(cfg->pin_sha256, ws->pin)))
      goto fail;
    ws->have_pin = 1;
  }
  rc = VEIL_EINVAL;
  if (ws->tls && !ws->have_pin && !cfg->ca_file)
    goto fail; /* no "trust anything" mode */

  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  void *loops[1] = {cfg->loop};
  info.foreign_loops = loops;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
  if (ws->tls) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    rc = VEIL_EIO;
    if (!(ws->ssl_ctx = client_ssl_ctx(ws, cfg->ca_file)))
      goto fail;
    info.provided_client_ssl_ctx = ws->ssl_ctx;
  }
  info.protocols = protocols;
  info.user = ws;
  info.pcontext = &ws->ctx;
  info.timeout_secs = 10;
  rc = VEIL_EIO;
  ws->ctx = lws_create_context(&info);
  if (!ws->ctx)
    goto fail;
  if (connect_wsi(ws))
    goto fail;
  *out = ws;
  return 0;
fail:
  if (ws->ctx)
    lws_context_destroy(ws->ctx);
  SSL_CTX_free(ws->ssl_ctx);
  free(ws);
  return rc;
}

/* One client connection on the context (VEIL_EIO when lws refuses to start it; a failure
 * reported through on_closed during the call counts as started). */
static int connect_wsi(vs_ws_t *ws) {
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = ws->ctx;
  ci.address = ws->host;
  ci.port = ws->port;
  ci.path = ws->path;
  ci.host = ws->host;
  ci.origin = ws->host;
  ci.protocol = PROTOCOL;
  if (ws->tls) {
    /* lws's own name check stays off in both modes: with a CA file cert_verify binds the
     * URL's host (bind_peer_name), the one rule; with a pin the pin is the identity. */
    ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    /* With a pin the chain is not what we trust: the pin is (checked above). */
    if (ws->have_pin)
      ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_INSECURE | LCCSCF_ALLOW_EXPIRED;
  }
  ci.pwsi = &ws->wsi;
  if (!lws_client_connect_via_info(&ci) && !ws->closed_reported)
    return VEIL_EIO;
  return 0;
}

int vs_ws_reconnect(vs_ws_t *ws) {
  if (!ws || !ws->ctx || ws->destroying || !ws->closed_reported)
    return VEIL_ESTATE;
  while (ws->head) { /* what was queued for the old connection is stale */
    frame_t *f = ws->head;
    ws->head = f->next;
    free(f);
  }
  ws->tail = NULL;
  ws->rx_len = 0;
  ws->open = ws->closing = ws->closed_reported = 0;
  ws->wsi = NULL;
  int rc = connect_wsi(ws);
  if (rc)
    ws->closed_reported = 1; /* never started: the caller may try again */
  return rc;
}

int vs_ws_send(vs_ws_t *ws, int binary, const void *data, size_t len) {
  if (!ws->open || ws->closing || !ws->wsi)
    return VEIL_ESTATE;
  frame_t *f = malloc(sizeof *f + LWS_PRE + len);
  if (!f)
    return VEIL_ENOMEM;
  f->next = NULL;
  f->len = len;
  f->binary = binary;
  memcpy(f->buf + LWS_PRE, data, len);
  if (ws->tail)
    ws->tail->next = f;
  else
    ws->head = f;
  ws->tail = f;
  lws_callback_on_writable(ws->wsi);
  return 0;
}

int vs_ws_is_open(const vs_ws_t *ws) { return ws && ws->open && !ws->closing; }

void vs_ws_close(vs_ws_t *ws) {
  if (!ws || ws->closing)
    return;
  ws->closing = 1;
  if (ws->wsi)
    lws_callback_on_writable(ws->wsi);
}

void vs_ws_shutdown(vs_ws_t *ws) {
  if (!ws || ws->destroying || !ws->ctx)
    return;
  ws->destroying = 1;
  lws_context_destroy(ws->ctx);
}

void vs_ws_free(vs_ws_t *ws) {
  if (!ws)
    return;
  if (ws->ctx)
    lws_context_destroy(ws->ctx);
  while (ws->head) {
    frame_t *f = ws->head;
    ws->head = f->next;
    free(f);
  }
  SSL_CTX_free(ws->ssl_ctx); /* the SSL objects lws made hold their own references */
  free(ws->rx);
  free(ws);
}
