/*
 * veil-client — the reference client: joins a room, does the E2EE (MLS + SFrame),
 * publishes a synthetic, verifiable audio and video test pattern, subscribes to everyone,
 * and reports roster, security code, media statistics and chat, as text or JSON lines.
 *
 *   veil-client --url ws://127.0.0.1:8443/ --room demo --identity alice@example.org \
 *               (--token JWT | --token-file F | --server-token BIN --state-dir DIR) \
 *               [--name Alice] [--cert PEM --key PEM] [--pin SHA256HEX | --ca PEM]
 *               [--trust-org PEM] [--trust-operator PEM] [--crl PEM]... [--no-audio] [--no-video]
 *               [--duration S] [--chat TEXT] [--leave-after S] [--stats-every S]
 *               [--interactive] [--json] [--tamper] [--tap-to PORT] [--tap-listen PORT]
 *               [--test-ignore-batches]
 *
 * --crl adds the CRLs of a PEM file (one or several; the option may repeat) to the trust
 * configuration: each must come from a --trust-org or --trust-operator anchor and be current,
 * or the client refuses to start; members whose certificate it revokes show as unverified.
 * Interactive commands (stdin): chat <text> | roster | code | stats | leave | quit
 * | test-ignore-batches on|off.
 * --tamper (test only) flips a bit of every SFrame ciphertext this client sends.
 * --test-ignore-batches (test only; also the interactive commands test-ignore-batches
 * on|off) makes this client, as MLS leader, drop the relay's batches unanswered, so that
 * the relay's commit deadline appoints the next leader (tests/integration/relay).
 * --tap-to PORT copies every RTP packet received from the SFU (after SRTP) and every MLS
 * application message received from the relay to 127.0.0.1:PORT, one UDP datagram each;
 * --tap-listen PORT feeds such copies into this client once it has left (RTP to its
 * receivers, MLS to the group state it kept), e.g. to show that a member who left can
 * decrypt nothing sent after its removal. A datagram is an RTP packet as is (its first
 * byte, version 2, is 0x80..0xBF) or TAP_MLS followed by the MLSMessage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "clients/lib/session/vs_session.h"
#include "common/err.h"
#include "common/log.h"

/* The tap's type byte for an MLS message: outside 0x80..0xBF, so never an RTP packet's
 * first byte. (An MLSMessage itself starts 0x00 0x01, mls10, but the tap says so itself
 * rather than lean on the framing of what it carries.) */
#define TAP_MLS 0x4d /* 'M' */

typedef struct app {
  uv_loop_t *loop;
  vs_session_t *s;
  vs_identity_t id;
  x509_trust_t *trust;
  int json, interactive, chat_sent, left, done, rc;
  const char *chat;
  double duration, leave_after, stats_every;
  uv_timer_t t_end, t_leave, t_stats;
  uv_signal_t sig_int, sig_term;
  uv_udp_t tap_out, tap_in;
  int tap_out_on, tap_in_on;
  struct sockaddr_in tap_addr;
  uv_pipe_t in_pipe;
  uv_tty_t in_tty;
  uv_stream_t *in;
  char line[4096];
  size_t line_len;
  uint8_t tap_buf[65536]; /* any UDP datagram: an RTP packet, or an MLS chat (<= 4 KiB text) */
} app_t;

static void print_human(app_t *a, json_t *ev) {
  const char *e = json_string_value(json_object_get(ev, "event"));
  if (!e)
    return;
  if (!strcmp(e, "roster")) {
    printf("[%s] roster:\n", a->id.name);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(ev, "roster"), i, m) {
      printf("  leaf %-3lld %-30s %-20s %s%s\n", json_integer_value(json_object_get(m, "leaf")),
             json_string_value(json_object_get(m, "identity")), json_string_value(json_object_get(m, "verification")),
             json_string_value(json_object_get(m, "display_name")),
             json_is_true(json_object_get(m, "self")) ? " (you)" : "");
    }
  } else if (!strcmp(e, "security_code")) {
    printf("[%s] security code (epoch %lld): %s\n", a->id.name, json_integer_value(json_object_get(ev, "epoch")),
           json_string_value(json_object_get(ev, "code")));
  } else if (!strcmp(e, "chat")) {
    printf("[%s] chat from %s: %s\n", a->id.name, json_string_value(json_object_get(ev, "from")),
           json_string_value(json_object_get(ev, "text")));
  } else if (!strcmp(e, "stats")) {
    printf("[%s] media (sent %lld audio, %lld video frames):\n", a->id.name,
           json_integer_value(json_object_get(ev, "audio_frames_sent")),
           json_integer_value(json_object_get(ev, "video_frames_sent")));
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(ev, "receivers"), i, r) {
      printf("  from %-24s %-5s frames %5lld decrypted %5lld verified %5lld failed %5lld latency %.1f ms\n",
             json_string_value(json_object_get(r, "identity")), json_string_value(json_object_get(r, "kind")),
             json_integer_value(json_object_get(r, "frames")), json_integer_value(json_object_get(r, "decrypted")),
             json_integer_value(json_object_get(r, "verified")),
             json_integer_value(json_object_get(r, "auth_failed")) + json_integer_value(json_object_get(r, "unknown_kid")) +
                 json_integer_value(json_object_get(r, "replayed")) + json_integer_value(json_object_get(r, "not_sframe")),
             json_real_value(json_object_get(r, "latency_avg_ms")));
    }
  } else if (!strcmp(e, "epoch") || !strcmp(e, "first_frame") || !strcmp(e, "rekey") || !strcmp(e, "removed") ||
             !strcmp(e, "error") || !strcmp(e, "left") || !strcmp(e, "joined") || !strcmp(e, "reconnecting") ||
             !strcmp(e, "resumed") || !strcmp(e, "rejoined")) {
    char *txt = json_dumps(ev, JSON_COMPACT);
    printf("[%s] %s\n", a->id.name, txt ? txt : e);
    free(txt);
  }
}

static void emit(app_t *a, json_t *ev) {
  if (a->json) {
    char *txt = json_dumps(ev, JSON_COMPACT);
    if (txt)
      printf("%s\n", txt);
    free(txt);
  } else {
    print_human(a, ev);
  }
  fflush(stdout);
}

static void shutdown_app(app_t *a);

static void maybe_chat(app_t *a) {
  if (a->chat && !a->chat_sent && vs_session_is_member(a->s) && vs_session_chat(a->s, a->chat) == 0)
    a->chat_sent = 1;
}

static void on_event(void *arg, json_t *ev) {
  app_t *a = arg;
  emit(a, ev);
  const char *e = json_string_value(json_object_get(ev, "event"));
  /* Losing signaling we did not give up (server gone, TLS pin mismatch) ends the client. */
  if (e && !strcmp(e, "signaling_closed") && !a->left) {
    a->rc = 1;
    shutdown_app(a);
    return;
  }
  /* Scripted chat goes out once someone else is there to read it. */
  if (e && !strcmp(e, "epoch") && json_integer_value(json_object_get(ev, "members")) >= 2)
    maybe_chat(a);
}

static void print_stats(app_t *a) {
  json_t *st = vs_session_stats(a->s);
  if (st) {
    json_object_set_new(st, "self", json_string(a->id.name));
    json_object_set_new(st, "security_code", json_string(vs_session_security_code(a->s)));
    emit(a, st);
    json_decref(st);
  }
}

static void on_rtp_copy(void *arg, const uint8_t *pkt, size_t len) {
  app_t *a = arg;
  if (!a->tap_out_on)
    return;
  uv_buf_t b = uv_buf_init((char *)pkt, (unsigned)len);
  (void)uv_udp_try_send(&a->tap_out, &b, 1, (const struct sockaddr *)&a->tap_addr);
}

static void on_mls_copy(void *arg, const uint8_t *msg, size_t len) {
  app_t *a = arg;
  static const uint8_t type = TAP_MLS;
  if (!a->tap_out_on)
    return;
  uv_buf_t b[2] = {uv_buf_init((char *)&type, 1), uv_buf_init((char *)msg, (unsigned)len)};
  (void)uv_udp_try_send(&a->tap_out, b, 2, (const struct sockaddr *)&a->tap_addr);
}

static void noop_close(uv_handle_t *h) { (void)h; }

static void shutdown_app(app_t *a) {
  if (a->done)
    return;
  a->done = 1;
  print_stats(a);
  vs_session_close(a->s);
  uv_close((uv_handle_t *)&a->t_end, noop_close);
  uv_close((uv_handle_t *)&a->t_leave, noop_close);
  uv_close((uv_handle_t *)&a->t_stats, noop_close);
  uv_close((uv_handle_t *)&a->sig_int, noop_close);
  uv_close((uv_handle_t *)&a->sig_term, noop_close);
  if (a->tap_out_on)
    uv_close((uv_handle_t *)&a->tap_out, noop_close);
  if (a->tap_in_on)
    uv_close((uv_handle_t *)&a->tap_in, noop_close);
  if (a->in)
    uv_close((uv_handle_t *)a->in, noop_close);
  a->tap_out_on = a->tap_in_on = 0;
  a->in = NULL;
}

static void end_cb(uv_timer_t *t) { shutdown_app(t->data); }
static void stats_cb(uv_timer_t *t) { print_stats(t->data); }
static void sig_cb(uv_signal_t *h, int signum) {
  (void)signum;
  shutdown_app(h->data);
}

static void do_leave(app_t *a) {
  if (a->left)
    return;
  a->left = 1;
  print_stats(a); /* what was received while a member */
  vs_session_leave(a->s);
}

static void leave_cb(uv_timer_t *t) { do_leave(t->data); }

static void command(app_t *a, char *line) {
  while (*line == ' ')
    line++;
  if (!strncmp(line, "chat ", 5)) {
    int rc = vs_session_chat(a->s, line + 5);
    if (rc)
      fprintf(stderr, "chat: %s\n", veil_strerror(rc));
  } else if (!strcmp(line, "roster")) {
    json_t *r = vs_session_roster(a->s);
    json_t *ev = json_pack("{s:s,s:o}", "event", "roster", "roster", r);
    emit(a, ev);
    json_decref(ev);
  } else if (!strcmp(line, "code")) {
    json_t *ev = json_pack("{s:s,s:s,s:i}", "event", "security_code", "code", vs_session_security_code(a->s), "epoch", -1);
    emit(a, ev);
    json_decref(ev);
  } else if (!strcmp(line, "stats")) {
    print_stats(a);
  } else if (!strcmp(line, "leave")) {
    do_leave(a);
  } else if (!strcmp(line, "quit")) {
    shutdown_app(a);
  } else if (!strcmp(line, "test-ignore-batches on") || !strcmp(line, "test-ignore-batches off")) {
    vs_session_set_test_ignore_batches(a->s, !strcmp(line + 20, "on"));
  } else if (*line) {
    fprintf(stderr, "commands: chat <text> | roster | code | stats | leave | quit | test-ignore-batches on|off\n");
  }
}

static void in_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  (void)h;
  b->base = malloc(sz);
  b->len = b->base ? sz : 0;
}

static void in_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b) {
  app_t *a = st->data;
  if (n < 0) {
    free(b->base);
    if (n == UV_EOF && !a->done)
      shutdown_app(a); /* stdin closed: the operator is gone */
    return;
  }
  for (ssize_t i = 0; i < n && !a->done; i++) {
    char c = b->base[i];
    if (c == '\n') {
      a->line[a->line_len] = 0;
      a->line_len = 0;
      command(a, a->line);
    } else if (a->line_len + 1 < sizeof a->line) {
      a->line[a->line_len++] = c;
    }
  }
  free(b->base);
}

static void tap_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
  (void)sz;
  app_t *a = h->data;
  b->base = (char *)a->tap_buf;
  b->len = sizeof a->tap_buf;
}

static void tap_read(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *from, unsigned flags) {
  app_t *a = u->data;
  if (n <= 0 || !from || (flags & UV_UDP_PARTIAL))
    return;
  const uint8_t *d = (const uint8_t *)b->base;
  if (d[0] == TAP_MLS)
    vs_session_tap_mls(a->s, d + 1, (size_t)n - 1);
  else if ((d[0] & 0xc0) == 0x80)
    vs_session_tap_packet(a->s, d, (size_t)n);
}

static char *server_token(const char *bin, const char *state, const char *room, const char *idn, const char *name) {
  /* Run `veil-server token`; arguments are quoted for the shell, refusing quotes. */
  const char *args[] = {bin, state, room, idn, name};
  for (size_t i = 0; i < 5; i++)
    if (strchr(args[i], '\''))
      return NULL;
  char cmd[8192];
  size_t total = 0;
  for (size_t i = 0; i < 5; i++)
    total += strlen(args[i]);
  if (total > sizeof cmd - 128)
    return NULL;
  int n = snprintf(cmd, sizeof cmd, "'%s' token --state-dir '%s' --room '%s' --identity '%s' --name '%s' --role member", bin, state,
                   room, idn, name);
  if (n < 0 || (size_t)n >= sizeof cmd)
    return NULL;
  FILE *p = popen(cmd, "r");
  if (!p)
    return NULL;
  char *tok = calloc(1, 8192);
  if (tok && !fgets(tok, 8192, p)) {
    free(tok);
    tok = NULL;
  }
  if (pclose(p) != 0) {
    free(tok);
    return NULL;
  }
  if (tok)
    tok[strcspn(tok, "\r\n")] = 0;
  return tok;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  char *buf = calloc(1, 65536);
  size_t n = buf ? fread(buf, 1, 65535, f) : 0;
  fclose(f);
  if (buf)
    buf[n] = 0;
  return buf;
}

static int add_trust(x509_trust_t *t, const char *path, x509_anchor_class_t cls) {
  char *pem = read_file(path);
  int rc = pem ? x509_trust_add_pem(t, pem, strlen(pem), cls, path) : VEIL_EIO;
  free(pem);
  return rc;
}

#define CRL_FILES_MAX 16

static int add_crls(x509_trust_t *t, const char *path) {
  char *pem = read_file(path);
  int rc = pem ? x509_trust_add_crl_pem(t, pem, strlen(pem), (int64_t)time(NULL)) : VEIL_EIO;
  free(pem);
  return rc;
}

static void usage(void) {
  fprintf(stderr,
          "usage: veil-client --url ws[s]://HOST:PORT/ --room ROOM --identity ID\n"
          "         (--token JWT | --token-file FILE | --server-token VEIL_SERVER --state-dir DIR)\n"
          "         [--name NAME] [--cert PEM --key PEM | --key-type p256|ed25519]\n"
          "         [--pin SHA256 | --ca PEM]\n"
          "         [--trust-org PEM] [--trust-operator PEM] [--crl PEM]... [--no-audio] [--no-video]\n"
          "         [--duration S] [--chat TEXT] [--leave-after S] [--stats-every S]\n"
          "         [--interactive] [--json] [--tamper] [--tap-to PORT] [--tap-listen PORT]\n"
          "         [--test-ignore-batches]\n");
}

int main(int argc, char **argv) {
  static app_t app;
  app_t *a = &app;
  const char *url = NULL, *room = NULL, *idn = NULL, *token = NULL, *token_file = NULL, *srv_bin = NULL,
             *state_dir = NULL, *name = NULL, *cert = NULL, *key = NULL, *pin = NULL, *ca = NULL, *trust_org = NULL,
             *trust_op = NULL, *key_type = "p256";
  const char *crl[CRL_FILES_MAX];
  size_t ncrl = 0;
  int no_audio = 0, no_video = 0, tamper = 0, tap_to = 0, tap_listen = 0, ignore_batches = 0;
  a->duration = 0;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(flag, var)                                                                                                 \
  if (!strcmp(o, flag) && v) {                                                                                         \
    var = v;                                                                                                           \
    i++;                                                                                                               \
    continue;                                                                                                          \
  }
    ARG("--url", url) ARG("--room", room) ARG("--identity", idn) ARG("--token", token) ARG("--token-file", token_file)
    ARG("--server-token", srv_bin) ARG("--state-dir", state_dir) ARG("--name", name) ARG("--cert", cert)
    ARG("--key", key) ARG("--pin", pin) ARG("--ca", ca) ARG("--trust-org", trust_org) ARG("--trust-operator", trust_op)
    ARG("--chat", a->chat) ARG("--key-type", key_type)
#undef ARG
    if (!strcmp(o, "--crl") && v && ncrl < CRL_FILES_MAX) {
      crl[ncrl++] = argv[++i];
    } else if (!strcmp(o, "--duration") && v) {
      a->duration = atof(argv[++i]);
    } else if (!strcmp(o, "--leave-after") && v) {
      a->leave_after = atof(argv[++i]);
    } else if (!strcmp(o, "--stats-every") && v) {
      a->stats_every = atof(argv[++i]);
    } else if (!strcmp(o, "--tap-to") && v) {
      tap_to = atoi(argv[++i]);
    } else if (!strcmp(o, "--tap-listen") && v) {
      tap_listen = atoi(argv[++i]);
    } else if (!strcmp(o, "--no-audio")) {
      no_audio = 1;
    } else if (!strcmp(o, "--no-video")) {
      no_video = 1;
    } else if (!strcmp(o, "--tamper")) {
      tamper = 1;
    } else if (!strcmp(o, "--test-ignore-batches")) {
      ignore_batches = 1;
    } else if (!strcmp(o, "--json")) {
      a->json = 1;
    } else if (!strcmp(o, "--interactive")) {
      a->interactive = 1;
    } else {
      usage();
      return 2;
    }
  }
  /* A CRL needs the anchor that issued it: without anchors it could only be refused. */
  if (!url || !room || (!idn && !cert) || (!token && !token_file && !(srv_bin && state_dir)) || (cert && !key) ||
      (ncrl && !trust_org && !trust_op)) {
    usage();
    return 2;
  }
  veil_log_set_stream(stderr);
  veil_log_set_level(VEIL_LOG_WARN);
  /* A generated identity's key type picks the group's cipher suite: P-256 (suite 2) by
   * default, the suite of the room devices' ECDSA certificates. */
  vc_sig_t ktype = !strcmp(key_type, "p256") ? VC_ECDSA_P256_SHA256 : !strcmp(key_type, "ed25519") ? VC_ED25519 : 0;
  if (!ktype) {
    fprintf(stderr, "veil-client: --key-type: '%s' is neither p256 nor ed25519\n", key_type);
    return 2;
  }
  int rc = cert ? vs_identity_load(cert, key, &a->id) : vs_identity_generate(idn, ktype, &a->id);
  if (rc) {
    fprintf(stderr, "veil-client: identity: %s\n", veil_strerror(rc));
    return 1;
  }
  char *tok = NULL;
  if (token_file) {
    tok = read_file(token_file);
    if (tok)
      tok[strcspn(tok, "\r\n")] = 0;
  } else if (srv_bin) {
    tok = server_token(srv_bin, state_dir, room, a->id.name, name ? name : a->id.name);
  } else {
    tok = strdup(token);
  }
  if (!tok || !*tok) {
    fprintf(stderr, "veil-client: no join token\n");
    return 1;
  }
  if (trust_org || trust_op) {
    a->trust = x509_trust_new();
    if (!a->trust || (trust_org && add_trust(a->trust, trust_org, X509_ANCHOR_ORGANISATION)) ||
        (trust_op && add_trust(a->trust, trust_op, X509_ANCHOR_OPERATOR))) {
      fprintf(stderr, "veil-client: cannot load trust anchors\n");
      return 1;
    }
  }
  for (size_t k = 0; k < ncrl; k++) {
    if ((rc = add_crls(a->trust, crl[k])) != 0) {
      fprintf(stderr, "veil-client: --crl %s: %s\n", crl[k], x509_crl_strerror(rc));
      x509_trust_free(a->trust);
      free(tok);
      return 1;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  a->loop = uv_default_loop();
  vs_session_config_t sc = {
      .loop = a->loop, .url = url, .pin_sha256 = pin, .ca_file = ca, .token = tok, .room = room,
      .display_name = name, .identity = &a->id, .trust = a->trust, .publish_audio = !no_audio,
      .publish_video = !no_video, .tamper = tamper, .test_ignore_batches = ignore_batches, .on_event = on_event,
      .on_rtp_copy = on_rtp_copy, .on_mls_copy = on_mls_copy, .arg = a,
  };
  if (!strncmp(url, "wss://", 6) && !pin && !ca) {
    fprintf(stderr, "veil-client: wss needs --pin SHA256 or --ca PEM (no trust-anything mode)\n");
    return 2;
  }
  if ((rc = vs_session_new(&sc, &a->s)) || (rc = vs_session_start(a->s))) {
    fprintf(stderr, "veil-client: %s\n", veil_strerror(rc));
    return 1;
  }
  uv_timer_init(a->loop, &a->t_end);
  uv_timer_init(a->loop, &a->t_leave);
  uv_timer_init(a->loop, &a->t_stats);
  a->t_end.data = a->t_leave.data = a->t_stats.data = a;
  if (a->duration > 0)
    uv_timer_start(&a->t_end, end_cb, (uint64_t)(a->duration * 1000), 0);
  if (a->leave_after > 0)
    uv_timer_start(&a->t_leave, leave_cb, (uint64_t)(a->leave_after * 1000), 0);
  if (a->stats_every > 0)
    uv_timer_start(&a->t_stats, stats_cb, (uint64_t)(a->stats_every * 1000), (uint64_t)(a->stats_every * 1000));
  uv_signal_init(a->loop, &a->sig_int);
  uv_signal_init(a->loop, &a->sig_term);
  a->sig_int.data = a->sig_term.data = a;
  uv_signal_start(&a->sig_int, sig_cb, SIGINT);
  uv_signal_start(&a->sig_term, sig_cb, SIGTERM);
  if (tap_to > 0) {
    uv_udp_init(a->loop, &a->tap_out);
    uv_ip4_addr("127.0.0.1", tap_to, &a->tap_addr);
    a->tap_out_on = 1;
  }
  if (tap_listen > 0) {
    struct sockaddr_in in;
    uv_ip4_addr("127.0.0.1", tap_listen, &in);
    uv_udp_init(a->loop, &a->tap_in);
    a->tap_in.data = a;
    a->tap_in_on = 1;
    if (uv_udp_bind(&a->tap_in, (const struct sockaddr *)&in, 0) || uv_udp_recv_start(&a->tap_in, tap_alloc, tap_read)) {
      fprintf(stderr, "veil-client: cannot listen on tap port %d\n", tap_listen);
      return 1;
    }
  }
  if (a->interactive) {
    uv_handle_type t = uv_guess_handle(0);
    if (t == UV_TTY && uv_tty_init(a->loop, &a->in_tty, 0, 1) == 0)
      a->in = (uv_stream_t *)&a->in_tty;
    else if (t == UV_NAMED_PIPE && uv_pipe_init(a->loop, &a->in_pipe, 0) == 0 && uv_pipe_open(&a->in_pipe, 0) == 0)
      a->in = (uv_stream_t *)&a->in_pipe;
    if (a->in) {
      a->in->data = a;
      uv_read_start(a->in, in_alloc, in_read);
    }
  }
  uv_run(a->loop, UV_RUN_DEFAULT);
  /* vs_session_close ran in shutdown_app; the loop has run every close callback. */
  vs_session_free(a->s);
  uv_run(a->loop, UV_RUN_NOWAIT);
  uv_loop_close(a->loop);
  vs_identity_free(&a->id);
  x509_trust_free(a->trust);
  free(tok);
  return a->rc;
}
