/*
 * veil-mls — a command-line tool over the MLS group API (clients/lib/mls/group.h) that
 * reads and writes RFC 9420 wire bytes in files, for debugging and interop by hand.
 * Every message file holds one MLSMessage exactly as it travels; state files hold a
 * member's private state (mls_group_serialize / mls_keypackage_priv_serialize) and are
 * written 0600, atomically (temporary file + rename). Usage: docs/veil-mls.md.
 *
 * A Commit made here is merged into the state at once (the tool plays the delivery
 * service's "accepted"); a Commit from someone else is applied with `process`.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clients/lib/mls/group.h"
#include "clients/lib/mls/suite.h"
#include "common/hex.h"

#define MAX_FILE (64u << 20) /* any input file */
#define MAX_KPS 256

typedef struct opts {
  const char *cmd;
  uint16_t suite;
  const char *identity, *group_id, *state, *kp_state, *out, *in, *commit, *welcome, *tree;
  const char *tree_out, *label, *context_hex, *aad, *sig_key_hex;
  const char *kps[MAX_KPS];
  int n_kps;
  long leaf, length;
  int no_inline_tree;
} opts_t;

static int die(const char *what, int rc) {
  fprintf(stderr, "veil-mls: %s: %s\n", what, rc ? veil_strerror(rc) : "invalid arguments");
  return 1;
}

/* Reads a whole file (bounded) into a growable writer. */
static int read_file(const char *path, veil_writer_t *w) {
  veil_writer_init_growable(w, 0);
  FILE *f = fopen(path, "rb");
  if (!f)
    return -errno;
  uint8_t buf[65536];
  size_t n;
  int rc = 0;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && rc == 0) {
    if (w->len + n > MAX_FILE)
      rc = VEIL_ELIMIT;
    else
      rc = veil_write_bytes(w, buf, n);
  }
  if (ferror(f))
    rc = VEIL_EIO;
  fclose(f);
  return rc;
}

/* Writes atomically: path.tmp (mode 0600), fsync, rename. */
static int write_file(const char *path, const uint8_t *buf, size_t len) {
  char tmp[4096];
  if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
    return VEIL_ELIMIT;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return -errno;
  size_t off = 0;
  while (off < len) {
    ssize_t k = write(fd, buf + off, len - off);
    if (k < 0) {
      int e = -errno;
      close(fd);
      unlink(tmp);
      return e;
    }
    off += (size_t)k;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp);
    return VEIL_EIO;
  }
  return rename(tmp, path) == 0 ? 0 : -errno;
}

static mls_group_config_t config(void) {
  mls_group_config_t c = {.now = (uint64_t)time(NULL)};
  return c;
}

static int load_group(const char *path, mls_group_t **g) {
  veil_writer_t w;
  int rc = read_file(path, &w);
  mls_group_config_t cfg = config();
  if (rc == 0)
    rc = mls_group_deserialize(w.buf, w.len, &cfg, g);
  veil_writer_free(&w);
  return rc;
}

static int save_group(const char *path, const mls_group_t *g) {
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int rc = mls_group_serialize(g, &w);
  if (rc == 0)
    rc = write_file(path, w.buf, w.len);
  veil_writer_free(&w);
  return rc;
}

static int save_writer(const char *path, const veil_writer_t *w) {
  return write_file(path, w->buf, w->len);
}

static mls_identity_t identity_of(const opts_t *o, uint8_t *sig_priv) {
  mls_identity_t id = {0};
  id.credential.type = MLS_CRED_BASIC;
  id.credential.identity = (veil_view_t){(const uint8_t *)o->identity, strlen(o->identity)};
  if (o->sig_key_hex && veil_hex_decode(o->sig_key_hex, strlen(o->sig_key_hex), sig_priv, 32) == 32)
    id.sig_priv = sig_priv;
  return id;
}

static void print_hex(FILE *f, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%02x", p[i]);
}

/* ---- commands ---------------------------------------------------------------------------- */

static int cmd_keypackage(const opts_t *o) {
  if (!o->identity || !o->out || !o->kp_state)
    return die("keypackage needs --identity, --out, --kp-state", 0);
  uint8_t sk[32];
  mls_identity_t id = identity_of(o, sk);
  veil_writer_t msg, st;
  veil_writer_init_growable(&msg, 0);
  veil_writer_init_growable(&st, 0);
  mls_keypackage_priv_t *kp = NULL;
  int rc = mls_keypackage_create(o->suite, &id, (uint64_t)time(NULL), &msg, &kp);
  if (rc == 0)
    rc = mls_keypackage_priv_serialize(kp, &st);
  if (rc == 0)
    rc = save_writer(o->out, &msg);
  if (rc == 0)
    rc = save_writer(o->kp_state, &st);
  mls_keypackage_priv_free(kp);
  veil_writer_free(&msg);
  veil_writer_free(&st);
  return rc ? die("keypackage", rc) : 0;
}

static int cmd_create(const opts_t *o) {
  if (!o->identity || !o->group_id || !o->state)
    return die("create needs --identity, --group-id, --state", 0);
  uint8_t sk[32];
  mls_identity_t id = identity_of(o, sk);
  mls_group_config_t cfg = config();
  mls_group_t *g = NULL;
  int rc = mls_group_create(o->suite, (const uint8_t *)o->group_id, strlen(o->group_id), &id,
                            &cfg, &g);
  if (rc == 0)
    rc = save_group(o->state, g);
  mls_group_free(g);
  return rc ? die("create", rc) : 0;
}

/* add / remove / update: one Commit, merged into the state at once. */
static int cmd_commit(const opts_t *o) {
  if (!o->state || !o->commit)
    return die("needs --state and --commit", 0);
  mls_group_t *g = NULL;
  veil_writer_t kpf[MAX_KPS], commit, welcome, tree;
  veil_view_t views[MAX_KPS];
  veil_writer_init_growable(&commit, 0);
  veil_writer_init_growable(&welcome, 0);
  veil_writer_init_growable(&tree, 0);
  int n = 0, rc = load_group(o->state, &g);
  uint32_t leaf = (uint32_t)o->leaf;
  mls_commit_opts_t co = {.inline_tree = !o->no_inline_tree};
  if (rc == 0 && !strcmp(o->cmd, "add")) {
    if (!o->n_kps || !o->welcome)
      rc = VEIL_EINVAL;
    for (; rc == 0 && n < o->n_kps; n++) {
      rc = read_file(o->kps[n], &kpf[n]);
      views[n] = (veil_view_t){kpf[n].buf, kpf[n].len};
      if (rc)
        veil_writer_free(&kpf[n]);
    }
    co.add_key_packages = views;
    co.n_add = (size_t)n;
  } else if (rc == 0 && !strcmp(o->cmd, "remove")) {
    if (o->leaf < 0)
      rc = VEIL_EINVAL;
    co.remove_leaves = &leaf;
    co.n_remove = 1;
  } else {
    co.force_path = 1; /* update: a fresh leaf key and path */
  }
  if (rc == 0)
    rc = mls_group_commit(g, &co, &commit, o->welcome ? &welcome : NULL);
  if (rc == 0)
    rc = mls_group_merge_pending(g);
  if (rc == 0)
    rc = save_writer(o->commit, &commit);
  if (rc == 0 && o->welcome && welcome.len)
    rc = save_writer(o->welcome, &welcome);
  if (rc == 0 && o->tree_out && (rc = mls_group_ratchet_tree(g, &tree)) == 0)
    rc = save_writer(o->tree_out, &tree);
  if (rc == 0)
    rc = save_group(o->state, g);
  if (rc == 0)
    printf("epoch %llu\n", (unsigned long long)mls_group_epoch(g));
  for (int i = 0; i < n; i++)
    veil_writer_free(&kpf[i]);
  veil_writer_free(&commit);
  veil_writer_free(&welcome);
  veil_writer_free(&tree);
  mls_group_free(g);
  return rc ? die(o->cmd, rc) : 0;
}

static int cmd_join(const opts_t *o) {
  if (!o->kp_state || !o->welcome || !o->state)
    return die("join needs --kp-state, --welcome, --state", 0);
  veil_writer_t ks, w, t;
  veil_writer_init_growable(&t, 0);
  mls_keypackage_priv_t *kp = NULL;
  mls_group_t *g = NULL;
  mls_group_config_t cfg = config();
  int rc = read_file(o->kp_state, &ks);
  if (rc == 0)
    rc = mls_keypackage_priv_deserialize(ks.buf, ks.len, &kp);
  if (rc == 0)
    rc = read_file(o->welcome, &w);
  else
    veil_writer_init_growable(&w, 0);
  if (rc == 0 && o->tree) {
    veil_writer_free(&t);
    rc = read_file(o->tree, &t);
  }
  if (rc == 0)
    rc = mls_group_join(w.buf, w.len, kp, o->tree ? t.buf : NULL, t.len, &cfg, &g);
  if (rc == 0)
    rc = save_group(o->state, g);
  if (rc == 0)
    printf("joined epoch %llu as leaf %u\n", (unsigned long long)mls_group_epoch(g),
           mls_group_own_leaf(g));
  veil_writer_free(&ks);
  veil_writer_free(&w);
  veil_writer_free(&t);
  mls_keypackage_priv_free(kp);
  mls_group_free(g);
  return rc ? die("join", rc) : 0;
}

/* process / unprotect: any MLSMessage for the group. */
static int cmd_process(const opts_t *o) {
  if (!o->state || !o->in)
    return die("needs --state and --in", 0);
  mls_group_t *g = NULL;
  veil_writer_t m;
  veil_writer_init_growable(&m, 0);
  mls_processed_t r = {0};
  int rc = load_group(o->state, &g);
  if (rc == 0) {
    veil_writer_free(&m);
    rc = read_file(o->in, &m);
  }
  if (rc == 0)
    rc = mls_group_process(g, m.buf, m.len, &r);
  if (rc == 0 && r.kind == MLS_PROCESSED_APPLICATION) {
    if (o->out)
      rc = save_writer(o->out, &r.data);
    else
      fwrite(r.data.buf, 1, r.data.len, stdout);
    fprintf(stderr, "application data from leaf %u (%zu bytes)\n", r.sender, r.data.len);
  } else if (rc == 0 && r.kind == MLS_PROCESSED_PROPOSAL) {
    printf("proposal from leaf %u cached\n", r.sender);
  } else if (rc == 0) {
    printf(r.removed ? "commit from leaf %u: this member was removed\n"
                     : "commit from leaf %u: epoch %llu\n",
           r.sender, (unsigned long long)mls_group_epoch(g));
  }
  if (rc == 0)
    rc = save_group(o->state, g); /* ratchets moved on, or a new epoch */
  mls_processed_free(&r);
  veil_writer_free(&m);
  mls_group_free(g);
  return rc ? die(o->cmd, rc) : 0;
}

static int cmd_protect(const opts_t *o) {
  if (!o->state || !o->in || !o->out)
    return die("protect needs --state, --in, --out", 0);
  mls_group_t *g = NULL;
  veil_writer_t pt, ct;
  veil_writer_init_growable(&pt, 0);
  veil_writer_init_growable(&ct, 0);
  int rc = load_group(o->state, &g);
  if (rc == 0) {
    veil_writer_free(&pt);
    rc = read_file(o->in, &pt);
  }
  const char *aad = o->aad ? o->aad : "";
  if (rc == 0)
    rc = mls_group_protect(g, pt.buf, pt.len, (const uint8_t *)aad, strlen(aad), &ct);
  if (rc == 0)
    rc = save_writer(o->out, &ct);
  if (rc == 0)
    rc = save_group(o->state, g); /* the sender ratchet advanced: never reuse a key */
  veil_writer_free(&pt);
  veil_writer_free(&ct);
  mls_group_free(g);
  return rc ? die("protect", rc) : 0;
}

static int cmd_export(const opts_t *o) {
  if (!o->state || !o->label || o->length <= 0 || o->length > 1024)
    return die("export needs --state, --label, --length (1..1024)", 0);
  mls_group_t *g = NULL;
  uint8_t ctx[1024], out[1024];
  long cl = 0;
  if (o->context_hex) {
    cl = veil_hex_decode(o->context_hex, strlen(o->context_hex), ctx, sizeof(ctx));
    if (cl < 0)
      return die("--context is not hex", 0);
  }
  int rc = load_group(o->state, &g);
  if (rc == 0)
    rc = mls_group_export(g, (const uint8_t *)o->label, strlen(o->label), ctx, (size_t)cl, out,
                          (size_t)o->length);
  if (rc == 0) {
    print_hex(stdout, out, (size_t)o->length);
    printf("\n");
  }
  mls_group_free(g);
  return rc ? die("export", rc) : 0;
}

static int cmd_group_info(const opts_t *o) {
  if (!o->state || !o->out)
    return die("group-info needs --state, --out", 0);
  mls_group_t *g = NULL;
  veil_writer_t w;
  veil_writer_init_growable(&w, 0);
  int rc = load_group(o->state, &g);
  if (rc == 0)
    rc = mls_group_group_info(g, 1, &w);
  if (rc == 0)
    rc = save_writer(o->out, &w);
  veil_writer_free(&w);
  mls_group_free(g);
  return rc ? die("group-info", rc) : 0;
}

static void print_identity(const mls_credential_t *c) {
  if (c->type == MLS_CRED_BASIC) {
    printf("basic \"");
    for (size_t i = 0; i < c->identity.len; i++) {
      uint8_t ch = c->identity.ptr[i];
      printf(ch >= 0x20 && ch < 0x7f && ch != '"' ? "%c" : "\\x%02x", ch);
    }
    printf("\"");
  } else {
    printf("x509 (%u certificates)", c->certificates.count);
  }
}

static int cmd_show(const opts_t *o) {
  if (!o->state)
    return die("show needs --state", 0);
  mls_group_t *g = NULL;
  int rc = load_group(o->state, &g);
  if (rc)
    return die("show", rc);
  veil_view_t gid = mls_group_id(g), ea = mls_group_epoch_authenticator(g);
  printf("cipher_suite: %u\ngroup_id: ", mls_group_cipher_suite(g));
  print_hex(stdout, gid.ptr, gid.len);
  printf("\nepoch: %llu\nepoch_authenticator: ", (unsigned long long)mls_group_epoch(g));
  print_hex(stdout, ea.ptr, ea.len);
  printf("\nactive: %s\nown_leaf: %u\nmembers: %u\n", mls_group_active(g) ? "yes" : "no (removed)",
         mls_group_own_leaf(g), mls_group_member_count(g));
  for (uint32_t i = 0; i < mls_group_leaf_count(g); i++) {
    const mls_leaf_node_t *l = mls_group_member(g, i);
    if (!l)
      continue;
    printf("  leaf %u: ", i);
    print_identity(&l->credential);
    printf(" sig_key ");
    print_hex(stdout, l->signature_key.ptr, l->signature_key.len > 8 ? 8 : l->signature_key.len);
    printf("...\n");
  }
  mls_group_free(g);
  return 0;
}

/* Usage goes to stdout when asked for (--help, exit 0) and to stderr after a mistake
 * (exit 2). */
static void usage(FILE *f) {
  fprintf(f,
          "usage: veil-mls <command> [options]   (see docs/veil-mls.md)\n"
          "  keypackage --identity ID --out KP.msg --kp-state KP.state [--suite N]\n"
          "             [--sig-key HEX]\n"
          "  create     --identity ID --group-id GID --state S [--suite N] [--sig-key HEX]\n"
          "  add        --state S --kp KP.msg [--kp ...] --commit C.msg --welcome W.msg\n"
          "             [--no-inline-tree --tree-out T.bin]\n"
          "  remove     --state S --leaf N --commit C.msg\n"
          "  update     --state S --commit C.msg\n"
          "  join       --kp-state KP.state --welcome W.msg [--tree T.bin] --state S\n"
          "  process    --state S --in MSG [--out PLAIN]\n"
          "  protect    --state S --in PLAIN --out MSG [--aad TEXT]\n"
          "  unprotect  --state S --in MSG [--out PLAIN]\n"
          "  export     --state S --label L [--context HEX] --length N\n"
          "  group-info --state S --out GI.msg\n"
          "  show       --state S\n");
}

/* --sig-key must be exactly the signature private key of --suite in hex (2 * Nsk digits).
 * Anything else is refused, not skipped: skipping it made the tool generate a fresh key,
 * and the member then signed with a key its owner never held. Returns 0, or 2 after
 * saying why. An unsupported suite is left to the command, which reports it. */
static int check_sig_key(const opts_t *o) {
  const mls_suite_t *s = mls_suite_get(o->suite);
  if (!s)
    return 0;
  size_t digits = strlen(o->sig_key_hex), want = 2 * s->sig_priv_len;
  if (digits != want) {
    fprintf(stderr,
            "veil-mls: --sig-key must be %zu hex digits (the %zu-byte signature private key "
            "of suite %u), not %zu\n",
            want, s->sig_priv_len, (unsigned)o->suite, digits);
    return 2;
  }
  uint8_t k[MLS_SIG_PRIV_MAX];
  long n = veil_hex_decode(o->sig_key_hex, digits, k, sizeof(k));
  vc_wipe(k, sizeof(k));
  if (n != (long)s->sig_priv_len) {
    fprintf(stderr, "veil-mls: --sig-key is not hex\n");
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 &&
      (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
    usage(stdout);
    return 0;
  }
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  opts_t o = {.cmd = argv[1], .suite = 1, .leaf = -1};
  static const struct option lo[] = {
      {"suite", 1, 0, 's'},     {"identity", 1, 0, 'i'},  {"group-id", 1, 0, 'g'},
      {"state", 1, 0, 'S'},     {"kp-state", 1, 0, 'K'},  {"out", 1, 0, 'o'},
      {"in", 1, 0, 'I'},        {"commit", 1, 0, 'c'},    {"welcome", 1, 0, 'w'},
      {"tree", 1, 0, 't'},      {"tree-out", 1, 0, 'T'},  {"label", 1, 0, 'l'},
      {"context", 1, 0, 'x'},   {"aad", 1, 0, 'a'},       {"kp", 1, 0, 'k'},
      {"leaf", 1, 0, 'L'},      {"length", 1, 0, 'n'},    {"no-inline-tree", 0, 0, 'N'},
      {"sig-key", 1, 0, 'P'},   {0, 0, 0, 0}};
  int c;
  optind = 2;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 's': o.suite = (uint16_t)strtoul(optarg, NULL, 10); break;
    case 'i': o.identity = optarg; break;
    case 'g': o.group_id = optarg; break;
    case 'S': o.state = optarg; break;
    case 'K': o.kp_state = optarg; break;
    case 'o': o.out = optarg; break;
    case 'I': o.in = optarg; break;
    case 'c': o.commit = optarg; break;
    case 'w': o.welcome = optarg; break;
    case 't': o.tree = optarg; break;
    case 'T': o.tree_out = optarg; break;
    case 'l': o.label = optarg; break;
    case 'x': o.context_hex = optarg; break;
    case 'a': o.aad = optarg; break;
    case 'L': o.leaf = strtol(optarg, NULL, 10); break;
    case 'n': o.length = strtol(optarg, NULL, 10); break;
    case 'N': o.no_inline_tree = 1; break;
    case 'P': o.sig_key_hex = optarg; break;
    case 'k':
      if (o.n_kps == MAX_KPS)
        return die("too many --kp", 0);
      o.kps[o.n_kps++] = optarg;
      break;
    default: usage(stderr); return 2;
    }
  }
  if (o.sig_key_hex && check_sig_key(&o))
    return 2;
  if (!strcmp(o.cmd, "keypackage")) return cmd_keypackage(&o);
  if (!strcmp(o.cmd, "create")) return cmd_create(&o);
  if (!strcmp(o.cmd, "add") || !strcmp(o.cmd, "remove") || !strcmp(o.cmd, "update"))
    return cmd_commit(&o);
  if (!strcmp(o.cmd, "join")) return cmd_join(&o);
  if (!strcmp(o.cmd, "process") || !strcmp(o.cmd, "unprotect")) return cmd_process(&o);
  if (!strcmp(o.cmd, "protect")) return cmd_protect(&o);
  if (!strcmp(o.cmd, "export")) return cmd_export(&o);
  if (!strcmp(o.cmd, "group-info")) return cmd_group_info(&o);
  if (!strcmp(o.cmd, "show")) return cmd_show(&o);
  usage(stderr);
  return 2;
}
