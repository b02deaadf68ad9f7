/* Unit tests: the emulated device's key file (clients/device/device_kek.h) — made once, 0600,
 * never rewritten, never the state file — and that a state sealed under one key file's key
 * is refused with another's. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clients/device/device_kek.h"
#include "device_helpers.h"

typedef struct paths {
  char key[600], state[600];
} paths_t;

/* A key file and a state file path in a folder of their own; neither file exists. */
static paths_t mk_paths(const char *name) {
  paths_t p;
  char dir[512];
  fx_dir(dir, sizeof dir, name);
  cr_assert_eq(mkdir(dir, 0700), 0);
  snprintf(p.key, sizeof p.key, "%s/room.json.kek", dir);
  snprintf(p.state, sizeof p.state, "%s/room.json", dir);
  return p;
}

static void write_text(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  cr_assert_geq(fd, 0, "%s", path);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  cr_assert_eq(fchmod(fd, mode), 0); /* past the umask */
  close(fd);
}

/* The file's bytes (static buffer), NULL when it does not exist, "(unreadable)" for a
 * folder. */
static const char *read_text(const char *path) {
  static char buf[4096];
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return NULL;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0)
    return "(unreadable)";
  buf[n] = '\0';
  return buf;
}

/* Expects device_kek_file to refuse with `rc`, say why, and leave the key file as it was. */
static void kek_refused(const paths_t *p, int rc) {
  const char *was = read_text(p->key);
  char before[4096];
  snprintf(before, sizeof before, "%s", was ? was : "(none)");
  uint8_t kek[DEVICE_KEK_LEN];
  char why[256] = "";
  int created = -1;
  int got = device_kek_file(p->key, p->state, kek, &created, why, sizeof why);
  cr_assert_eq(got, rc, "expected %s, got %s (%s)", veil_errname(rc), veil_errname(got), why);
  cr_assert_eq(created, 0);
  cr_assert_neq(why[0], '\0', "a refusal says why");
  const char *now = read_text(p->key);
  cr_assert_str_eq(now ? now : "(none)", before, "a refusal changed the key file");
}

static void kek_ok(const paths_t *p, uint8_t kek[DEVICE_KEK_LEN], int want_created) {
  char why[256] = "";
  int created = -1;
  int rc = device_kek_file(p->key, p->state, kek, &created, why, sizeof why);
  cr_assert_eq(rc, 0, "%s: %s", veil_errname(rc), why);
  cr_assert_eq(created, want_created);
}

Test(device_kek, first_start_creates_a_private_key_file_used_from_then_on) {
  paths_t p = mk_paths("first");
  uint8_t a[DEVICE_KEK_LEN], b[DEVICE_KEK_LEN], zero[DEVICE_KEK_LEN] = {0};
  kek_ok(&p, a, 1);
  struct stat st;
  cr_assert_eq(stat(p.key, &st), 0);
  cr_assert(S_ISREG(st.st_mode));
  cr_assert_eq(st.st_mode & 0777, 0600);
  char text[4096];
  snprintf(text, sizeof text, "%s", read_text(p.key));
  cr_assert_eq(strlen(text), 44, "one line of base64url of 32 bytes");
  uint8_t decoded[DEVICE_KEK_LEN];
  cr_assert_eq(veil_b64url_decode(text, 43, decoded, sizeof decoded), DEVICE_KEK_LEN);
  cr_assert_arr_eq(decoded, a, DEVICE_KEK_LEN);
  cr_assert_arr_neq(a, zero, DEVICE_KEK_LEN);
  kek_ok(&p, b, 0); /* read, not made again */
  cr_assert_arr_eq(a, b, DEVICE_KEK_LEN);
  cr_assert_str_eq(read_text(p.key), text);
  write_text(p.state, "{}", 0600); /* a state file beside it changes nothing */
  kek_ok(&p, b, 0);
  cr_assert_arr_eq(a, b, DEVICE_KEK_LEN);
  paths_t q = mk_paths("another");
  kek_ok(&q, b, 1);
  cr_assert_arr_neq(a, b, DEVICE_KEK_LEN, "every device makes its own key");
}

Test(device_kek, a_missing_key_file_beside_a_state_file_is_not_made_anew) {
  paths_t p = mk_paths("missing");
  write_text(p.state, "{}", 0600);
  kek_refused(&p, VEIL_ENOTFOUND);
  cr_assert_null(read_text(p.key), "no new key was written");
}

Test(device_kek, a_key_file_others_may_access_is_refused) {
  paths_t p = mk_paths("mode");
  uint8_t kek[DEVICE_KEK_LEN];
  kek_ok(&p, kek, 1);
  cr_assert_eq(chmod(p.key, 0640), 0);
  kek_refused(&p, VEIL_EINVAL);
  cr_assert_eq(chmod(p.key, 0604), 0);
  kek_refused(&p, VEIL_EINVAL);
  cr_assert_eq(chmod(p.key, 0400), 0); /* read-only for the owner is fine */
  kek_ok(&p, kek, 0);
}

Test(device_kek, malformed_key_files_are_refused) {
  paths_t p = mk_paths("malformed");
  const char *bad[] = {
      "",
      "short\n",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",   /* 42 characters */
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", /* 44 */
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+\n",  /* not base64url */
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\n",  /* unused low bits set */
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\n",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_text(p.key, bad[i], 0600);
    kek_refused(&p, VEIL_EDECODE);
  }
  uint8_t kek[DEVICE_KEK_LEN], zero[DEVICE_KEK_LEN] = {0};
  write_text(p.key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0600); /* no newline: fine */
  kek_ok(&p, kek, 0);
  cr_assert_arr_eq(kek, zero, DEVICE_KEK_LEN);
  cr_assert_eq(unlink(p.key), 0);
  cr_assert_eq(mkdir(p.key, 0700), 0);
  kek_refused(&p, VEIL_EINVAL); /* a folder */
}

Test(device_kek, the_state_file_is_never_the_key_file) {
  paths_t p = mk_paths("same");
  snprintf(p.key, sizeof p.key, "%s", p.state);
  kek_refused(&p, VEIL_EINVAL); /* neither exists yet: not created */
  cr_assert_null(read_text(p.state));
  write_text(p.state, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", 0600);
  kek_refused(&p, VEIL_EINVAL); /* even when it would read as a key */
  int dir_len = (int)(strrchr(p.state, '/') - p.state);
  snprintf(p.key, sizeof p.key, "%.*s/./room.json", dir_len, p.state);
  kek_refused(&p, VEIL_EINVAL); /* by identity, not by name */
}

/* Saves a provisioned device's state to the state file of `p`, sealed under its key file. */
static void save_provisioned(const paths_t *p) {
  uint8_t kek[DEVICE_KEK_LEN];
  kek_ok(p, kek, 1);
  device_t *d = mk_device_kek(NULL, kek);
  populate(d);
  char *json = snap(d);
  write_text(p->state, json, 0600);
  free(json);
  device_free(d);
}

static int load_with(const paths_t *p, const uint8_t kek[DEVICE_KEK_LEN]) {
  device_t *d = mk_device_kek(NULL, kek);
  const char *json = read_text(p->state);
  cr_assert_not_null(json);
  char *copy = strdup(json);
  int rc = device_load(d, copy, strlen(copy));
  free(copy);
  device_free(d);
  return rc;
}

Test(device_kek, only_its_own_key_file_opens_a_state) {
  paths_t p = mk_paths("own"), q = mk_paths("other");
  save_provisioned(&p);
  uint8_t mine[DEVICE_KEK_LEN], theirs[DEVICE_KEK_LEN];
  kek_ok(&p, mine, 0);
  kek_ok(&q, theirs, 1);
  cr_assert_eq(load_with(&p, mine), 0);
  cr_assert_eq(load_with(&p, theirs), VEIL_EDEV_KEK);
}
