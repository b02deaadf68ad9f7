/*
 * RFC 9420 messages vectors (syntax only): every hex value must decode as its structure
 * with nothing left over and re-encode to identical bytes. Lists are re-encoded element
 * by element too (the encoders write a decoded list from its validated raw bytes, so the
 * element-wise pass is what proves the element encoders mirror the decoders).
 *
 * The file has no cipher_suite field; the suite is taken from the entry's KeyPackage.
 * Everything but the ratchet tree is suite-independent; the ratchet tree is loaded into
 * an mls_tree_t (which needs a supported suite) and counted as skipped for suites 4-7.
 */
#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/suite.h"
#include "clients/lib/mls/tree.h"
#include "vjson.h"

typedef int (*dec_fn)(veil_reader_t *, void *);
typedef int (*enc_fn)(veil_writer_t *, const void *);

/* Re-encodes each element of a list and compares with the list's raw content. */
static int deep_list(const mls_list_t *l, dec_fn dec, enc_fn enc, void *scratch) {
  veil_reader_t r;
  veil_writer_t w;
  mls_list_reader(l, &r);
  veil_writer_init_growable(&w, l->raw.len + 1);
  for (uint32_t i = 0; i < l->count; i++) {
    if (dec(&r, scratch) || enc(&w, scratch))
      break;
  }
  int ok = veil_reader_finish(&r) == 0 && w.err == 0 && w.len == l->raw.len &&
           (w.len == 0 || memcmp(w.buf, l->raw.ptr, w.len) == 0);
  veil_writer_free(&w);
  return ok;
}

/* Type-correct adapters (no calls through mismatched function pointer types). */
#define WRAP(name, type)                                                                   \
  static int name##_d(veil_reader_t *r, void *p) { return mls_##name##_decode(r, p); }      \
  static int name##_e(veil_writer_t *w, const void *p) { return mls_##name##_encode(w, p); }
WRAP(extension, mls_extension_t)
WRAP(encrypted_group_secrets, mls_encrypted_group_secrets_t)
WRAP(proposal_or_ref, mls_proposal_or_ref_t)
WRAP(psk_id, mls_psk_id_t)

#define DEEP(list, type, name)                                                             \
  do {                                                                                     \
    type s_;                                                                               \
    ok = ok && deep_list((list), name##_d, name##_e, &s_);                                 \
  } while (0)

static int deep_extensions(const mls_list_t *l) {
  int ok = 1;
  DEEP(l, mls_extension_t, extension);
  return ok;
}

static int deep_key_package(const mls_key_package_t *kp) {
  return deep_extensions(&kp->extensions) && deep_extensions(&kp->leaf_node.extensions);
}

/* Structure-specific deep checks, after the top-level round trip. */
static int deep_message(const mls_message_t *m) {
  int ok = 1;
  switch (m->wire_format) {
  case MLS_WF_WELCOME:
    DEEP(&m->u.welcome.secrets, mls_encrypted_group_secrets_t, encrypted_group_secrets);
    break;
  case MLS_WF_GROUP_INFO:
    ok = deep_extensions(&m->u.group_info.extensions) &&
         deep_extensions(&m->u.group_info.group_context.extensions);
    break;
  case MLS_WF_KEY_PACKAGE:
    ok = deep_key_package(&m->u.key_package);
    break;
  case MLS_WF_PUBLIC_MESSAGE:
    if (m->u.public_message.content.content_type == MLS_CT_COMMIT)
      DEEP(&m->u.public_message.content.commit.proposals, mls_proposal_or_ref_t,
           proposal_or_ref);
    break;
  default:
    break;
  }
  return ok;
}

enum kind { K_MESSAGE, K_GROUP_SECRETS, K_PROPOSAL_BODY, K_COMMIT };

static int round_trip(const uint8_t *in, size_t len, enum kind k, uint16_t ptype,
                      uint16_t want_wf) {
  veil_reader_t r;
  veil_writer_t w;
  veil_reader_init(&r, in, len);
  veil_writer_init_growable(&w, len + 16);
  int ok = 1;
  switch (k) {
  case K_MESSAGE: {
    mls_message_t m;
    ok = mls_message_decode(&r, &m) == 0 && m.wire_format == want_wf &&
         mls_message_encode(&w, &m) == 0 && deep_message(&m);
    break;
  }
  case K_GROUP_SECRETS: {
    mls_group_secrets_t g;
    ok = mls_group_secrets_decode(&r, &g) == 0 && mls_group_secrets_encode(&w, &g) == 0;
    DEEP(&g.psks, mls_psk_id_t, psk_id);
    break;
  }
  case K_PROPOSAL_BODY: {
    mls_proposal_t p;
    ok = mls_proposal_body_decode(&r, ptype, &p) == 0 && mls_proposal_body_encode(&w, &p) == 0;
    if (ok && ptype == MLS_PROP_ADD)
      ok = deep_key_package(&p.u.add);
    break;
  }
  case K_COMMIT: {
    mls_commit_t c;
    ok = mls_commit_decode(&r, &c) == 0 && mls_commit_encode(&w, &c) == 0;
    DEEP(&c.proposals, mls_proposal_or_ref_t, proposal_or_ref);
    break;
  }
  }
  ok = ok && veil_reader_finish(&r) == 0 && tap_bytes_eq("re-encoding", w.buf, w.len, in, len);
  veil_writer_free(&w);
  return ok;
}

static const struct field {
  const char *key;
  enum kind kind;
  uint16_t ptype;
  uint16_t wf;
} fields[] = {
    {"mls_welcome", K_MESSAGE, 0, MLS_WF_WELCOME},
    {"mls_group_info", K_MESSAGE, 0, MLS_WF_GROUP_INFO},
    {"mls_key_package", K_MESSAGE, 0, MLS_WF_KEY_PACKAGE},
    {"group_secrets", K_GROUP_SECRETS, 0, 0},
    {"add_proposal", K_PROPOSAL_BODY, MLS_PROP_ADD, 0},
    {"update_proposal", K_PROPOSAL_BODY, MLS_PROP_UPDATE, 0},
    {"remove_proposal", K_PROPOSAL_BODY, MLS_PROP_REMOVE, 0},
    {"pre_shared_key_proposal", K_PROPOSAL_BODY, MLS_PROP_PSK, 0},
    {"re_init_proposal", K_PROPOSAL_BODY, MLS_PROP_REINIT, 0},
    {"external_init_proposal", K_PROPOSAL_BODY, MLS_PROP_EXTERNAL_INIT, 0},
    {"group_context_extensions_proposal", K_PROPOSAL_BODY, MLS_PROP_GROUP_CONTEXT_EXTENSIONS, 0},
    {"commit", K_COMMIT, 0, 0},
    {"public_message_application", K_MESSAGE, 0, MLS_WF_PUBLIC_MESSAGE},
    {"public_message_proposal", K_MESSAGE, 0, MLS_WF_PUBLIC_MESSAGE},
    {"public_message_commit", K_MESSAGE, 0, MLS_WF_PUBLIC_MESSAGE},
    {"private_message", K_MESSAGE, 0, MLS_WF_PRIVATE_MESSAGE},
};

/* The suite of the entry's KeyPackage (0 when it does not decode). */
static uint16_t entry_suite(const vj_t *tc) {
  size_t len;
  uint8_t *kp = vj_hex(tc, "mls_key_package", &len);
  mls_message_t m;
  uint16_t cs = 0;
  if (kp && mls_message_parse(kp, len, &m) == 0 && m.wire_format == MLS_WF_KEY_PACKAGE)
    cs = m.u.key_package.cipher_suite;
  free(kp);
  return cs;
}

int main(void) {
  char path[4096];
  if (!vj_vector_path("mls/messages.json", path, sizeof path))
    return tap_skip_all("MLS vectors folder absent");
  vj_t *root = vj_parse_file(path);
  unsigned ran[8] = {0}, skipped[8] = {0}, values = 0;
  size_t entries = root ? vj_size(root) : 0;
  for (size_t i = 0; i < entries; i++) {
    const vj_t *tc = vj_at(root, i);
    uint16_t cs = entry_suite(tc);
    int ok = cs > 0 && cs < 8;
    for (size_t f = 0; ok && f < sizeof fields / sizeof fields[0]; f++) {
      size_t len;
      uint8_t *in = vj_hex(tc, fields[f].key, &len);
      int fok = in && round_trip(in, len, fields[f].kind, fields[f].ptype, fields[f].wf);
      if (!fok)
        tap_diag("messages[%zu].%s does not round-trip", i, fields[f].key);
      ok = ok && fok;
      values++;
      free(in);
    }
    /* The ratchet tree through the tree object: parse, pad, encode (trailing blanks
     * stripped again) must give the same bytes. */
    int tree_ran = 0;
    if (ok && mls_suite_get(cs)) {
      size_t len;
      uint8_t *in = vj_hex(tc, "ratchet_tree", &len);
      mls_tree_t *t = NULL;
      veil_writer_t w;
      veil_writer_init_growable(&w, len + 16);
      ok = in && mls_tree_parse(cs, in, len, &t) == 0 && mls_tree_encode(t, &w) == 0 &&
           tap_bytes_eq("ratchet_tree", w.buf, w.len, in, len);
      veil_writer_free(&w);
      mls_tree_free(t);
      free(in);
      tree_ran = 1;
      values++;
    }
    tap_ok(ok, "messages[%zu] suite %u: every value round-trips%s", i, cs,
           tree_ran ? "" : " (ratchet_tree skipped: suite not supported)");
    if (cs < 8)
      (tree_ran ? ran : skipped)[cs]++;
  }
  for (unsigned cs = 1; cs < 8; cs++)
    if (ran[cs] || skipped[cs])
      tap_diag("messages.json suite %u: ran %u in full, %u with ratchet_tree skipped", cs,
               ran[cs], skipped[cs]);
  tap_diag("messages.json: %zu entries, %u values round-tripped", entries, values);
  int all = entries > 0;
  for (unsigned cs = 1; cs <= 3; cs++)
    all = all && ran[cs] > 0 && skipped[cs] == 0;
  tap_ok(root && all, "messages.json: every test case of suites 1-3 ran in full");
  vj_free(root);
  return tap_done();
}
