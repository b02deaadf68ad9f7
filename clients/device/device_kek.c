/* veil — the emulated device's key file (contract in device_kek.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clients/device/device_kek.h"
#include "common/hex.h"

#define KEK_TEXT_LEN 43 /* unpadded base64url of 32 bytes */

static int refuse(int rc, char *why, size_t cap, const char *text) {
  snprintf(why, cap, "%s", text);
  return rc;
}

/* O_EXCL (which also refuses a symlink in the way): two devices started at once on one
 * path cannot both believe they made the key. */
static int create(const char *path, uint8_t kek[DEVICE_KEK_LEN], char *why, size_t cap) {
  char line[KEK_TEXT_LEN + 2];
  int rc = vc_random(kek, DEVICE_KEK_LEN);
  if (rc)
    return refuse(rc, why, cap, "no randomness for a new key");
  veil_b64url_encode(kek, DEVICE_KEK_LEN, line);
  line[KEK_TEXT_LEN] = '\n';
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  int ok = fd >= 0 && write(fd, line, KEK_TEXT_LEN + 1) == KEK_TEXT_LEN + 1 && fsync(fd) == 0;
  int err = errno;
  if (fd >= 0 && close(fd) != 0)
    ok = 0;
  vc_wipe(line, sizeof line);
  if (ok)
    return 0;
  if (fd >= 0)
    unlink(path); /* ours, half written: a later start must not read a truncated key */
  snprintf(why, cap, "cannot create it: %s", strerror(err));
  return VEIL_EIO;
}

/* Reads and checks an existing key file through `fd`. */
static int read_kek(int fd, uint8_t kek[DEVICE_KEK_LEN], char *why, size_t cap) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return refuse(VEIL_EINVAL, why, cap, "it is not a regular file");
  /* Like ssh with its private keys: a key others can read protects nothing. */
  if (st.st_mode & 077)
    return refuse(VEIL_EINVAL, why, cap,
                  "group or others may access it (chmod 600 it, then consider the key exposed)");
  char text[KEK_TEXT_LEN + 3];
  ssize_t n = read(fd, text, sizeof text);
  int rc = 0;
  if (n == KEK_TEXT_LEN + 1 && text[KEK_TEXT_LEN] == '\n')
    n--;
  if (n != KEK_TEXT_LEN || veil_b64url_decode(text, KEK_TEXT_LEN, kek, DEVICE_KEK_LEN) !=
                               DEVICE_KEK_LEN)
    rc = refuse(VEIL_EDECODE, why, cap,
                "it does not hold one line of base64url of 32 bytes (not a veil-device key file)");
  vc_wipe(text, sizeof text);
  return rc;
}

/* Same file by identity, not by name: "./s.json" and "s.json" must not pass for two. */
static int same_file(int fd, const char *state_path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(state_path, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

int device_kek_file(const char *key_path, const char *state_path, uint8_t kek[DEVICE_KEK_LEN],
                    int *created, char *why, size_t why_cap) {
  *created = 0;
  struct stat st;
  int state_exists = !(stat(state_path, &st) != 0 && errno == ENOENT);
  int fd = open(key_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (state_exists)
      return refuse(VEIL_ENOTFOUND, why, why_cap,
                    "it does not exist, and the state file is sealed under the key it held "
                    "(restore it, or move the state file away to start unprovisioned)");
    if (!strcmp(key_path, state_path))
      return refuse(VEIL_EINVAL, why, why_cap, "it must not be the state file");
    int rc = create(key_path, kek, why, why_cap);
    *created = rc == 0;
    return rc;
  }
  if (fd < 0) {
    snprintf(why, why_cap, "cannot open it: %s", strerror(errno));
    return VEIL_EIO;
  }
  int rc = same_file(fd, state_path)
               ? refuse(VEIL_EINVAL, why, why_cap, "it must not be the state file")
               : read_kek(fd, kek, why, why_cap);
  close(fd);
  if (rc)
    vc_wipe(kek, DEVICE_KEK_LEN);
  return rc;
}
