/*
 * veil-provision — the organisation admin's tool for room devices (DESIGN.md, "Identity").
 *
 *   veil-provision --generate-secret
 *   veil-provision --device 127.0.0.1:PORT [--secret S] [--new-secret S]
 *                  [--cert PEM --key PEM [--purpose WebexIdentity]] [--enc A128GCM|A256GCM]
 *
 * It talks to the device's xAPI shell and runs the whole flow: reads the device's published
 * salt, populates the client secret (plain the first time, or as a JWE under the current
 * secret to rotate it), sends the certificate and private key as a JWE ("add"), and
 * activates the certificate by the JWE of its SHA-1 fingerprint ("activate"). Secrets are
 * base64url (16..128 bytes decoded); the key for every blob is
 * scrypt(secret, device salt, 32768, 8, 1), so the operator relaying the shell never sees a
 * device key. Exits 0 only when every step answered status=OK.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/identity/x509.h"
#include "clients/lib/jwe/jwe.h"
#include "common/hex.h"

#define REPLY_MAX (256 * 1024)

typedef struct conn {
  int fd;
  char buf[REPLY_MAX + 1];
  size_t len;
} conn_t;

static int send_all(conn_t *c, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(c->fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Sends `text` and reads the reply up to its "** end" line. Events interleaved by the
 * device ("*e" blocks) are skipped. Returns 0 for status=OK, 1 for an error reply. */
static int exchange(conn_t *c, const char *text, char **reply) {
  if (send_all(c, text, strlen(text)))
    return -1;
  c->len = 0;
  for (;;) {
    c->buf[c->len] = '\0';
    char *end = strstr(c->buf, "** end\n");
    while (end && strncmp(c->buf, "*e ", 3) == 0) { /* an event block: drop it */
      size_t skip = (size_t)(end + 7 - c->buf);
      memmove(c->buf, c->buf + skip, c->len - skip + 1);
      c->len -= skip;
      end = strstr(c->buf, "** end\n");
    }
    if (end) {
      end[7] = '\0';
      *reply = c->buf;
      return strstr(c->buf, "(status=Error)") ? 1 : 0;
    }
    if (c->len == REPLY_MAX)
      return -1;
    ssize_t r = read(c->fd, c->buf + c->len, REPLY_MAX - c->len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    c->len += (size_t)r;
  }
}

/* The quoted or bare value of the line "<prefix>...<field>: value" in a reply. */
static int reply_value(const char *reply, const char *field, char *out, size_t cap) {
  char key[128];
  snprintf(key, sizeof key, " %s: ", field);
  const char *p = strstr(reply, key);
  if (!p)
    return -1;
  p += strlen(key);
  int quoted = *p == '"';
  p += quoted;
  size_t n = 0;
  while (*p && *p != '\n' && !(quoted && *p == '"') && n + 1 < cap)
    out[n++] = *p++;
  out[n] = '\0';
  return 0;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = malloc(JWE_MAX_COMPACT);
  size_t n = buf ? fread(buf, 1, JWE_MAX_COMPACT / 2, f) : 0;
  fclose(f);
  if (buf)
    buf[n] = '\0';
  *len = n;
  return buf;
}

typedef struct ctx {
  conn_t *c;
  jwe_enc_t enc;
  uint8_t salt[64];
  size_t salt_len;
  uint8_t key[32]; /* scrypt(secret, salt) for the current secret */
  int have_key;
} ctx_t;

static int set_secret(ctx_t *x, const char *secret_b64, const char *salt_b64) {
  uint8_t secret[128];
  long n = veil_b64url_decode(secret_b64, strlen(secret_b64), secret, sizeof secret);
  long s = veil_b64url_decode(salt_b64, strlen(salt_b64), x->salt, sizeof x->salt);
  if (n < 16 || s < JWE_SALT_MIN) {
    vc_wipe(secret, sizeof secret);
    return VEIL_EINVAL;
  }
  x->salt_len = (size_t)s;
  int rc = jwe_derive_key(secret, (size_t)n, x->salt, x->salt_len, JWE_A256GCM, x->key);
  vc_wipe(secret, sizeof secret);
  x->have_key = rc == 0;
  return rc;
}

static char *blob(ctx_t *x, const char *action, const uint8_t *pt, size_t len) {
  char *out = NULL;
  /* A128GCM uses the first 16 bytes: the 16-byte scrypt output is the 32-byte one's prefix. */
  if (jwe_encrypt_device(x->key, x->enc, action, x->salt, x->salt_len, NULL, pt, len, &out))
    return NULL;
  return out;
}

static int step(conn_t *c, const char *what, const char *text, char **reply) {
  int rc = exchange(c, text, reply);
  if (rc < 0) {
    fprintf(stderr, "veil-provision: %s: the device closed the shell\n", what);
    return -1;
  }
  if (rc > 0) {
    fprintf(stderr, "veil-provision: %s refused:\n%s", what, *reply);
    return -1;
  }
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: veil-provision --generate-secret\n"
          "       veil-provision --device 127.0.0.1:PORT [--secret S] [--new-secret S]\n"
          "                      [--cert PEM --key PEM] [--purpose P] [--enc A128GCM|A256GCM]\n");
}

int main(int argc, char **argv) {
  const char *device = NULL, *secret = NULL, *new_secret = NULL, *cert = NULL, *keyf = NULL;
  const char *purpose = "WebexIdentity";
  static conn_t conn;
  ctx_t x = {.c = &conn, .enc = JWE_A256GCM};
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--generate-secret")) {
      uint8_t s[32];
      char out[64];
      if (vc_random(s, sizeof s))
        return 1;
      veil_b64url_encode(s, sizeof s, out);
      vc_wipe(s, sizeof s);
      printf("%s\n", out);
      return 0;
    } else if (!strcmp(argv[i], "--device") && v) {
      device = argv[++i];
    } else if (!strcmp(argv[i], "--secret") && v) {
      secret = argv[++i];
    } else if (!strcmp(argv[i], "--new-secret") && v) {
      new_secret = argv[++i];
    } else if (!strcmp(argv[i], "--cert") && v) {
      cert = argv[++i];
    } else if (!strcmp(argv[i], "--key") && v) {
      keyf = argv[++i];
    } else if (!strcmp(argv[i], "--purpose") && v) {
      purpose = argv[++i];
    } else if (!strcmp(argv[i], "--enc") && v) {
      i++;
      if (!strcmp(argv[i], "A128GCM"))
        x.enc = JWE_A128GCM;
      else if (strcmp(argv[i], "A256GCM")) {
        usage();
        return 2;
      }
    } else {
      usage();
      return 2;
    }
  }
  const char *colon = device ? strrchr(device, ':') : NULL;
  if (!colon || (cert && !keyf) || (!cert && keyf) || strncmp(device, "127.0.0.1:", 10) != 0) {
    usage();
    return 2;
  }
  conn.fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (conn.fd < 0 || connect(conn.fd, (struct sockaddr *)&sa, sizeof sa)) {
    fprintf(stderr, "veil-provision: cannot connect to %s: %s\n", device, strerror(errno));
    return 1;
  }
  char *reply, text[JWE_MAX_COMPACT], salt[128] = "", populated[16] = "";
  if (step(&conn, "status", "xStatus Security ClientSecret\n", &reply) ||
      reply_value(reply, "Populated", populated, sizeof populated) ||
      reply_value(reply, "Salt", salt, sizeof salt))
    return 1;
  if (!strcmp(populated, "True")) {
    if (!secret) {
      fprintf(stderr, "veil-provision: the device has a secret: give it with --secret\n");
      return 1;
    }
    if (set_secret(&x, secret, salt)) {
      fprintf(stderr, "veil-provision: bad --secret or device salt\n");
      return 1;
    }
  } else if (!new_secret) {
    fprintf(stderr, "veil-provision: the device has no secret yet: give --new-secret\n");
    return 1;
  }

  if (new_secret) {
    if (!x.have_key) {
      snprintf(text, sizeof text, "xCommand Security ClientSecret Populate Secret: %s\n",
               new_secret);
    } else {
      char *b = blob(&x, "populate", (const uint8_t *)new_secret, strlen(new_secret));
      if (!b)
        return 1;
      snprintf(text, sizeof text, "xCommand Security ClientSecret Populate Secret: %s\n", b);
      free(b);
    }
    if (step(&conn, "populate", text, &reply) || reply_value(reply, "Salt", salt, sizeof salt) ||
        set_secret(&x, new_secret, salt))
      return 1;
    printf("secret populated; device salt %s\n", salt);
  }

  if (cert) {
    size_t cl, kl;
    char *cp = slurp(cert, &cl), *kp = slurp(keyf, &kl);
    if (!cp || !kp) {
      fprintf(stderr, "veil-provision: cannot read %s or %s\n", cert, keyf);
      return 1;
    }
    veil_view_t der[X509_CHAIN_MAX];
    x509_info_t info;
    int n = x509_pem_to_der(cp, cl, der, X509_CHAIN_MAX);
    if (n <= 0 || x509_parse_info(der[0].ptr, der[0].len, &info)) {
      fprintf(stderr, "veil-provision: %s holds no usable certificate\n", cert);
      return 1;
    }
    for (int i = 0; i < n; i++)
      free((void *)der[i].ptr);
    /* The bundle: certificate(s) then key, as one PEM text. */
    char *bundle = malloc(cl + kl + 2);
    memcpy(bundle, cp, cl);
    bundle[cl] = '\n';
    memcpy(bundle + cl + 1, kp, kl);
    char *b = blob(&x, "add", (const uint8_t *)bundle, cl + kl + 1);
    vc_wipe(bundle, cl + kl + 1);
    vc_wipe(kp, kl);
    free(bundle);
    free(kp);
    free(cp);
    if (!b)
      return 1;
    snprintf(text, sizeof text, "xCommand Security Certificates Services Add\n%s\n.\n", b);
    free(b);
    char fp[64] = "";
    if (step(&conn, "add", text, &reply) || reply_value(reply, "Fingerprint", fp, sizeof fp))
      return 1;
    if (strcasecmp(fp, info.sha1_hex) != 0) {
      fprintf(stderr, "veil-provision: the device reports fingerprint %s, expected %s\n", fp,
              info.sha1_hex);
      return 1;
    }
    b = blob(&x, "activate", (const uint8_t *)info.sha1_hex, strlen(info.sha1_hex));
    if (!b)
      return 1;
    snprintf(text, sizeof text,
             "xCommand Security Certificates Services Activate Purpose: %s Fingerprint: %s\n",
             purpose, b);
    free(b);
    if (step(&conn, "activate", text, &reply))
      return 1;
    printf("certificate %s added and activated for %s\n", info.sha1_hex, purpose);
  }
  if (step(&conn, "status",
           "xStatus Conference EndToEndEncryption ExternalIdentity\n", &reply) == 0)
    fputs(reply, stdout);
  vc_wipe(x.key, sizeof x.key);
  close(conn.fd);
  return 0;
}
