/*
 * veil-ca — create a CA, issue user and device certificates, list, revoke (see ca.h and
 * docs/identity.md).
 *
 *   veil-ca init   --dir D --name NAME [--ed25519] [--days N]
 *   veil-ca issue  --dir D (--email ADDR | --dns NAME [--device-name NAME]) [--name CN]
 *                  [--ed25519 | --suite N] [--csr FILE] [--days N] --out PREFIX
 *   veil-ca list   --dir D
 *   veil-ca revoke --dir D --serial HEX
 *   veil-ca crl    --dir D
 * `issue` writes PREFIX.pem (certificate) and, for a fresh key, PREFIX.key (mode 0600).
 * `crl` re-signs D/crl.pem (valid 30 days) from the index; `revoke` does it too.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/ca/ca.h"

static int usage(void) {
  fprintf(stderr,
          "usage: veil-ca init   --dir D --name NAME [--ed25519] [--days N]\n"
          "       veil-ca issue  --dir D (--email ADDR | --dns NAME [--device-name NAME])\n"
          "                      [--name CN] [--ed25519 | --suite N] [--csr FILE] [--days N]\n"
          "                      --out PREFIX\n"
          "       veil-ca list   --dir D\n"
          "       veil-ca revoke --dir D --serial HEX\n"
          "       veil-ca crl    --dir D\n");
  return 2;
}

static int save(const char *prefix, const char *ext, const char *text, int secret) {
  char path[4096];
  snprintf(path, sizeof path, "%s%s", prefix, ext);
  /* A private key is created 0600 from the start, never chmod'ed after being written. */
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, secret ? 0600 : 0644);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  int bad = fputs(text, f) < 0;
  bad |= fclose(f) != 0;
  return bad ? -1 : 0;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = malloc(CA_CSR_MAX + 1);
  size_t n = buf ? fread(buf, 1, CA_CSR_MAX + 1, f) : 0;
  fclose(f);
  if (buf)
    buf[n] = '\0';
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return usage();
  const char *cmd = argv[1], *dir = NULL, *name = NULL, *email = NULL, *dns = NULL;
  const char *devname = NULL, *csr = NULL, *out = NULL, *serial = NULL;
  int days = 0;
  ca_key_type_t kt = CA_KEY_P256;
  for (int i = 2; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--ed25519")) {
      kt = CA_KEY_ED25519;
      continue;
    }
    if (!v)
      return usage();
    i++;
    if (!strcmp(argv[i - 1], "--dir"))
      dir = v;
    else if (!strcmp(argv[i - 1], "--name"))
      name = v;
    else if (!strcmp(argv[i - 1], "--email"))
      email = v;
    else if (!strcmp(argv[i - 1], "--dns"))
      dns = v;
    else if (!strcmp(argv[i - 1], "--device-name"))
      devname = v;
    else if (!strcmp(argv[i - 1], "--csr"))
      csr = v;
    else if (!strcmp(argv[i - 1], "--out"))
      out = v;
    else if (!strcmp(argv[i - 1], "--serial"))
      serial = v;
    else if (!strcmp(argv[i - 1], "--days"))
      days = atoi(v);
    else if (!strcmp(argv[i - 1], "--suite")) {
      /* RFC 9420 §17.1: suites 1 and 3 sign with Ed25519, 2 with ECDSA P-256. */
      int s = atoi(v);
      if (s != 1 && s != 2 && s != 3)
        return usage();
      kt = s == 2 ? CA_KEY_P256 : CA_KEY_ED25519;
    } else
      return usage();
  }
  if (!dir)
    return usage();
  int64_t now = (int64_t)time(NULL);
  int rc;
  if (!strcmp(cmd, "init")) {
    if (!name)
      return usage();
    rc = ca_create(dir, name, kt, days ? days : 3650, now);
    if (!rc)
      printf("created CA \"%s\" in %s\n", name, dir);
  } else {
    ca_t *ca = NULL;
    rc = ca_open(dir, &ca);
    if (rc) {
      fprintf(stderr, "veil-ca: %s: %s\n", dir, veil_strerror(rc));
      return 1;
    }
    if (!strcmp(cmd, "issue")) {
      if (!out || !!email == !!dns || (email && devname)) {
        ca_close(ca);
        return usage();
      }
      size_t csr_len = 0;
      char *csr_pem = csr ? slurp(csr, &csr_len) : NULL;
      ca_issue_req_t req = {
          .kind = email ? CA_CERT_USER : CA_CERT_DEVICE,
          .identity = email ? email : dns,
          .common_name = devname ? devname : name,
          .key_type = kt,
          .days = days ? days : 365,
          .csr_pem = csr_pem,
          .csr_len = csr_len,
      };
      ca_issued_t is;
      rc = csr && !csr_pem ? VEIL_ENOTFOUND : ca_issue(ca, &req, now, &is);
      free(csr_pem);
      if (!rc) {
        if (save(out, ".pem", is.cert_pem, 0) || (is.key_pem && save(out, ".key", is.key_pem, 1)))
          rc = VEIL_EIO;
        else
          printf("issued serial %s to %s\n", is.serial_hex, req.identity);
        ca_issued_free(&is);
      }
    } else if (!strcmp(cmd, "list")) {
      rc = ca_list(ca, stdout);
    } else if (!strcmp(cmd, "revoke")) {
      rc = serial ? ca_revoke(ca, serial, now) : VEIL_EINVAL;
      if (!rc)
        printf("revoked %s; CRL updated\n", serial);
    } else if (!strcmp(cmd, "crl")) {
      rc = ca_crl(ca, now);
      if (!rc)
        printf("CRL written to %s/crl.pem\n", dir);
    } else {
      ca_close(ca);
      return usage();
    }
    ca_close(ca);
  }
  if (rc) {
    fprintf(stderr, "veil-ca: %s: %s\n", cmd, veil_strerror(rc));
    return 1;
  }
  return 0;
}
