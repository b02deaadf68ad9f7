/*
 * veil-device — an emulated room device run through an xAPI-style shell.
 *
 *   veil-device [--name NAME] [--state FILE [--key-file KEY]] [--trust-anchor PEM] [--shell-port PORT]
 *               [--trust-operator PEM] [--crl PEM]... [--join URL --room ROOM (--token JWT | --token-file F)
 *                [--pin SHA256HEX | --ca PEM]]
 *
 * Without --shell-port the shell is stdin/stdout. With it, the device listens on 127.0.0.1
 * only (never another address: the shell carries the provisioning flow) and prints
 * "listening 127.0.0.1:<port>" once bound (PORT 0 lets the kernel choose). Up to
 * SHELL_CLIENTS_MAX shells may be connected; events go to all of them.
 *
 * The state is saved to --state (mode 0600, written to a temporary file and renamed) after
 * every command that changed it, and loaded at start. What is secret in it is sealed under
 * the key-encryption key in --key-file (default FILE.kek; device_kek.h), which the first
 * start creates. A state file that key does not open, a missing key file beside an existing
 * state file, or a state file of the old format (version 1, K in clear) stop the device at
 * start with both files left as they are. Without --state the key lives only in memory.
 *
 * --join makes the device a participant of that meeting (device_meeting.h) as soon as an
 * external identity is active (at start, or after the shell activated one), once. The
 * session runs on a libuv loop embedded in the shell's poll loop (its backend fd is polled
 * beside the shells). --trust-operator adds the operator CA, so that the device shows
 * operator-verified participants as such. --crl (repeatable; a file may hold several) adds
 * CRLs of those anchors: a participant whose certificate one revokes shows as Unverified
 * ("revoked"); a CRL that is expired, forged or from no configured anchor stops the device at
 * start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clients/device/device_kek.h"
#include "clients/device/device_meeting.h"
#include "clients/device/device_state.h"
#include "clients/device/xapi.h"

#define SHELL_CLIENTS_MAX 8

typedef struct shell {
  int fd_in, fd_out; /* -1 when the slot is free */
  int dead;          /* a write failed or timed out: closed after the current read */
  xapi_stream_t *stream;
  struct app *app;
} shell_t;

typedef struct app {
  device_t *dev;
  const char *state_path;
  uint64_t saved_gen;
  shell_t shells[SHELL_CLIENTS_MAX + 1]; /* [0]: stdin or unused */
  uv_loop_t *loop;
  device_meeting_config_t join; /* .url NULL: no meeting asked for */
  device_meeting_t *meeting;    /* owned */
  int join_tried;
} app_t;

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_file(const char *path, char **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return VEIL_ENOTFOUND;
  char *buf = malloc(DEVICE_STATE_MAX + 1);
  size_t n = buf ? fread(buf, 1, DEVICE_STATE_MAX + 1, f) : 0;
  fclose(f);
  if (!buf)
    return VEIL_ENOMEM;
  if (n > DEVICE_STATE_MAX) {
    free(buf);
    return VEIL_ELIMIT;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return 0;
}

static void save_state(app_t *a) {
  if (!a->state_path || device_generation(a->dev) == a->saved_gen)
    return;
  char *json = NULL;
  size_t len = 0;
  if (device_save(a->dev, &json, &len)) {
    fprintf(stderr, "veil-device: cannot serialise the state\n");
    return;
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", a->state_path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int ok = fd >= 0 && write_all(fd, json, len) == 0 && fsync(fd) == 0;
  if (fd >= 0)
    close(fd);
  ok = ok && rename(tmp, a->state_path) == 0;
  memset(json, 0, len);
  free(json);
  if (!ok)
    fprintf(stderr, "veil-device: cannot save the state to %s: %s\n", a->state_path,
            strerror(errno));
  else
    a->saved_gen = device_generation(a->dev);
}

/* SIGTERM/SIGINT end the device cleanly (the meeting is left, keys wiped): the signals are
 * blocked except inside ppoll, so one arriving between two polls is not lost. */
static volatile sig_atomic_t stop_requested;
static void on_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void meeting_ended(void *arg, int rc) {
  (void)arg;
  fprintf(stderr, "veil-device: meeting ended%s%s\n", rc ? ": " : "", rc ? veil_strerror(rc) : "");
}

/* Joins once, when asked to and an identity is active. */
static void maybe_join(app_t *a) {
  if (!a->join.url || a->join_tried)
    return;
  uint8_t probe[32];
  veil_view_t chain[X509_CHAIN_MAX];
  size_t n;
  int rc = device_identity_key(a->dev, probe, chain, &n);
  vc_wipe(probe, sizeof probe);
  if (rc)
    return; /* not provisioned yet */
  a->join_tried = 1;
  rc = device_meeting_start(&a->join, &a->meeting);
  fprintf(stderr, "veil-device: joining %s: %s\n", a->join.url, rc ? veil_strerror(rc) : "started");
}

static void on_command(void *ctx, int rc, const xapi_cmd_t *cmd) {
  shell_t *s = ctx;
  if (s->dead)
    return;
  veil_writer_t w;
  veil_writer_init_growable(&w, 1024);
  if (rc)
    device_report_parse_error(rc, &w);
  else
    device_execute(s->app->dev, cmd, &w);
  if (w.err || write_all(s->fd_out, (const char *)w.buf, w.len))
    s->dead = 1;
  veil_writer_free(&w);
  save_state(s->app);
  maybe_join(s->app);
}

static void on_event(void *ctx, const char *text, size_t len) {
  app_t *a = ctx;
  for (size_t i = 0; i <= SHELL_CLIENTS_MAX; i++)
    if (a->shells[i].fd_out >= 0 && !a->shells[i].dead &&
        write_all(a->shells[i].fd_out, text, len))
      a->shells[i].dead = 1;
}

static int shell_open(app_t *a, size_t slot, int fd_in, int fd_out) {
  shell_t *s = &a->shells[slot];
  s->stream = xapi_stream_new(device_takes_body, on_command, s);
  if (!s->stream)
    return VEIL_ENOMEM;
  s->fd_in = fd_in;
  s->fd_out = fd_out;
  s->dead = 0;
  s->app = a;
  if (fd_in > STDERR_FILENO) {
    /* A shell that stops reading must not stall the device: writes give up after 2 s and
     * the shell is closed (the kernel buffer absorbs ordinary bursts). */
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd_out, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  return 0;
}

static void shell_close(shell_t *s) {
  if (s->fd_in > STDERR_FILENO)
    close(s->fd_in);
  xapi_stream_free(s->stream);
  s->stream = NULL;
  s->fd_in = s->fd_out = -1;
}

static int listen_local(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only, by design */
  socklen_t sl = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 4) ||
      getsockname(fd, (struct sockaddr *)&sa, &sl)) {
    close(fd);
    return -1;
  }
  printf("listening 127.0.0.1:%u\n", ntohs(sa.sin_port));
  fflush(stdout);
  return fd;
}

#define CRL_FILES_MAX 16

static void usage(void) {
  fprintf(stderr, "usage: veil-device [--name NAME] [--state FILE [--key-file KEY]]"
                  " [--trust-anchor PEM] [--shell-port PORT]\n"
                  "                   [--trust-operator PEM] [--crl PEM]... [--join URL --room ROOM"
                  " (--token JWT | --token-file F) [--pin SHA256HEX | --ca PEM]]\n");
}

/* The device's KEK: from the key file beside the state file (created at the first start),
 * or, without a state file, a random one that dies with the process. *key_path: the file's
 * name, the default filled in. */
static int open_kek(const char *state_path, const char **key_path, uint8_t kek[DEVICE_KEK_LEN]) {
  static char def[4096];
  char why[256];
  int created = 0;
  if (!state_path)
    return vc_random(kek, DEVICE_KEK_LEN);
  if (!*key_path) {
    if ((size_t)snprintf(def, sizeof def, "%s.kek", state_path) >= sizeof def) {
      fprintf(stderr, "veil-device: %s: too long a name to put a key file beside\n", state_path);
      return VEIL_ELIMIT;
    }
    *key_path = def;
  }
  int rc = device_kek_file(*key_path, state_path, kek, &created, why, sizeof why);
  if (rc)
    fprintf(stderr, "veil-device: key file %s: %s\n", *key_path, why);
  else if (created)
    fprintf(stderr, "veil-device: created the key file %s (keep it apart from %s)\n", *key_path,
            state_path);
  return rc;
}

int main(int argc, char **argv) {
  const char *name = "veil-device", *anchor = NULL, *op_anchor = NULL, *token_file = NULL;
  const char *crls[CRL_FILES_MAX];
  size_t ncrl = 0;
  const char *key_file = NULL;
  int port = -1;
  app_t a;
  memset(&a, 0, sizeof a);
  for (size_t i = 0; i <= SHELL_CLIENTS_MAX; i++)
    a.shells[i].fd_in = a.shells[i].fd_out = -1;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--name") && v)
      name = argv[++i];
    else if (!strcmp(argv[i], "--state") && v)
      a.state_path = argv[++i];
    else if (!strcmp(argv[i], "--key-file") && v)
      key_file = argv[++i];
    else if (!strcmp(argv[i], "--trust-anchor") && v)
      anchor = argv[++i];
    else if (!strcmp(argv[i], "--shell-port") && v)
      port = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--trust-operator") && v)
      op_anchor = argv[++i];
    else if (!strcmp(argv[i], "--crl") && v && ncrl < CRL_FILES_MAX)
      crls[ncrl++] = argv[++i];
    else if (!strcmp(argv[i], "--join") && v)
      a.join.url = argv[++i];
    else if (!strcmp(argv[i], "--room") && v)
      a.join.room = argv[++i];
    else if (!strcmp(argv[i], "--token") && v)
      a.join.token = argv[++i];
    else if (!strcmp(argv[i], "--token-file") && v)
      token_file = argv[++i];
    else if (!strcmp(argv[i], "--pin") && v)
      a.join.pin_sha256 = argv[++i];
    else if (!strcmp(argv[i], "--ca") && v)
      a.join.ca_file = argv[++i];
    else {
      usage();
      return 2;
    }
  }
  char *token_buf = NULL;
  if (token_file) {
    size_t len;
    if (read_file(token_file, &token_buf, &len)) {
      fprintf(stderr, "veil-device: cannot read %s\n", token_file);
      return 1;
    }
    token_buf[strcspn(token_buf, "\r\n")] = 0;
    a.join.token = token_buf;
  }
  if (a.join.url && (!a.join.room || !a.join.token || (!strncmp(a.join.url, "wss://", 6) &&
                                                       !a.join.pin_sha256 && !a.join.ca_file))) {
    usage();
    return 2;
  }
  if (key_file && !a.state_path) {
    usage();
    return 2;
  }
  /* The state file's format is checked before its key file is looked for, so that an old
   * file is reported as such rather than as one without a key file. */
  char *saved = NULL; /* stays NULL unless the state file was read */
  size_t saved_len = 0;
  if (a.state_path)
    read_file(a.state_path, &saved, &saved_len);
  int state_rc = saved ? device_state_version(saved, saved_len) : 0;
  if (state_rc)
    fprintf(stderr, "veil-device: %s: %s\n", a.state_path, veil_strerror(state_rc));
  uint8_t kek[DEVICE_KEK_LEN];
  if (state_rc || open_kek(a.state_path, &key_file, kek)) { /* open_kek says why */
    free(saved);
    free(token_buf);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_set, poll_mask;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGTERM);
  sigaddset(&stop_set, SIGINT);
  sigprocmask(SIG_BLOCK, &stop_set, &poll_mask); /* before any thread exists */
  struct sigaction sa = {.sa_handler = on_stop};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  x509_trust_t *trust = NULL;
  const char *paths[2] = {anchor, op_anchor};
  for (int k = 0; k < 2; k++) {
    char *pem;
    size_t len;
    if (!paths[k])
      continue;
    if (!trust && !(trust = x509_trust_new()))
      return 1;
    if (read_file(paths[k], &pem, &len) ||
        x509_trust_add_pem(trust, pem, len, k ? X509_ANCHOR_OPERATOR : X509_ANCHOR_ORGANISATION,
                           k ? "operator" : "organisation")) {
      fprintf(stderr, "veil-device: cannot read the trust anchor %s\n", paths[k]);
      return 1;
    }
    free(pem);
  }
  /* After the anchors: a CRL is accepted only from one of them. */
  for (size_t k = 0; k < ncrl; k++) {
    char *pem;
    size_t len;
    int rc = trust ? read_file(crls[k], &pem, &len) : VEIL_EX509_UNTRUSTED;
    if (rc == 0) {
      rc = x509_trust_add_crl_pem(trust, pem, len, (int64_t)time(NULL));
      free(pem);
    }
    if (rc) {
      fprintf(stderr, "veil-device: --crl %s: %s\n", crls[k], x509_crl_strerror(rc));
      vc_wipe(kek, sizeof kek);
      free(saved);
      x509_trust_free(trust);
      free(token_buf);
      return 1;
    }
  }
  device_config_t cfg = {.name = name, .emit = on_event, .emit_ctx = &a, .trust = trust,
                         .kek = kek};
  a.dev = device_new(&cfg);
  vc_wipe(kek, sizeof kek); /* the device holds its own copy */
  if (!a.dev)
    return 1;
  if (saved) {
    state_rc = device_load(a.dev, saved, saved_len);
    free(saved); /* sealed material and public data only */
    if (state_rc) {
      /* Nothing is written on this path: both files stay as they were. */
      fprintf(stderr, "veil-device: %s: %s%s%s\n", a.state_path, veil_strerror(state_rc),
              state_rc == VEIL_EDEV_KEK ? "; key file " : "",
              state_rc == VEIL_EDEV_KEK ? key_file : "");
      device_free(a.dev);
      x509_trust_free(trust);
      free(token_buf);
      return 1;
    }
  }
  a.saved_gen = device_generation(a.dev);
  int lfd = -1;
  if (port >= 0) {
    if (port > 65535 || (lfd = listen_local(port)) < 0) {
      fprintf(stderr, "veil-device: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
      return 1;
    }
  } else if (shell_open(&a, 0, STDIN_FILENO, STDOUT_FILENO)) {
    return 1;
  }
  if (a.join.url) {
    a.loop = uv_default_loop();
    a.join.loop = a.loop;
    a.join.dev = a.dev;
    a.join.trust = trust;
    a.join.display_name = name;
    a.join.call_id = 1;
    a.join.on_end = meeting_ended;
    a.join.arg = &a;
    maybe_join(&a);
  }
  for (;;) {
    struct pollfd pfd[SHELL_CLIENTS_MAX + 3];
    size_t map[SHELL_CLIENTS_MAX + 3], n = 0;
    int timeout = -1;
    if (a.loop) {
      /* libuv embedded: its backend fd is readable when it has I/O to process */
      uv_run(a.loop, UV_RUN_NOWAIT);
      pfd[n] = (struct pollfd){.fd = uv_backend_fd(a.loop), .events = POLLIN};
      map[n++] = SIZE_MAX - 1;
      timeout = uv_backend_timeout(a.loop);
    }
    if (lfd >= 0) {
      pfd[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
      map[n++] = SIZE_MAX;
    }
    for (size_t i = 0; i <= SHELL_CLIENTS_MAX; i++) {
      if (a.shells[i].fd_in >= 0 && a.shells[i].dead)
        shell_close(&a.shells[i]); /* marked while another shell's command emitted events */
      if (a.shells[i].fd_in >= 0) {
        pfd[n] = (struct pollfd){.fd = a.shells[i].fd_in, .events = POLLIN};
        map[n++] = i;
      }
    }
    if (n == 0 || (a.loop && n == 1 && !uv_loop_alive(a.loop)) || stop_requested)
      break; /* stdin closed and no listener (nor meeting), or asked to stop: done */
    struct timespec ts = {.tv_sec = timeout / 1000, .tv_nsec = (long)(timeout % 1000) * 1000000L};
    if (ppoll(pfd, n, timeout < 0 ? NULL : &ts, &poll_mask) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (size_t k = 0; k < n; k++) {
      if (!pfd[k].revents || map[k] == SIZE_MAX - 1)
        continue; /* the loop's turn comes at the top */
      if (map[k] == SIZE_MAX) {
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        size_t slot = 1;
        while (slot <= SHELL_CLIENTS_MAX && a.shells[slot].fd_in >= 0)
          slot++;
        if (cfd >= 0 && (slot > SHELL_CLIENTS_MAX || shell_open(&a, slot, cfd, cfd)))
          close(cfd);
        continue;
      }
      shell_t *s = &a.shells[map[k]];
      char buf[4096];
      ssize_t r = read(s->fd_in, buf, sizeof buf);
      if (r < 0 && errno == EINTR)
        continue;
      if (r > 0)
        xapi_stream_feed(s->stream, buf, (size_t)r);
      if (r <= 0 || s->dead)
        shell_close(s);
    }
  }
  for (size_t i = 0; i <= SHELL_CLIENTS_MAX; i++)
    if (a.shells[i].stream)
      shell_close(&a.shells[i]);
  if (lfd >= 0)
    close(lfd);
  if (a.meeting) {
    device_meeting_close(a.meeting);
    uv_run(a.loop, UV_RUN_DEFAULT);
    device_meeting_free(a.meeting);
  }
  if (a.loop)
    uv_loop_close(a.loop);
  free(token_buf);
  device_free(a.dev);
  x509_trust_free(trust);
  return 0;
}
