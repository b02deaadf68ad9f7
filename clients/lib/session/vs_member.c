/* veil client session — MLS membership driven by the relay. Contract in vs_member.h. */
#include "clients/lib/session/vs_member.h"

#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/identity/x509.h"
#include "clients/lib/mls/suite.h"
#include "common/err.h"
#include "common/log.h"
#include "mls-relay/envelope.h"

#define MAX_MLS (256u * 1024u) /* the relay's default max_message */
#define MAX_BATCH 64           /* a Welcome names at most 64 joiners (docs/relay.md) */

typedef enum member_state {
  MS_WAIT_LEADER = 0, /* nothing known yet */
  MS_WAIT_WELCOME,    /* KeyPackage sent */
  MS_MEMBER,          /* group held */
  MS_REMOVED,         /* a Commit removed us */
} member_state_t;

/* Chats sent recently, kept (bounded) so that one the relay refuses as stale (sent just
 * before a Commit it had already accepted, docs/relay.md "Known limits") can be sent
 * again under the new epoch. */
#define CHAT_KEEP 8
#define CHAT_MAX 4096
typedef struct sent_chat {
  uint64_t epoch;
  int resend;
  size_t len;
  uint8_t text[CHAT_MAX];
} sent_chat_t;

struct vs_member {
  vs_member_config_t cfg;
  sent_chat_t chats[CHAT_KEEP]; /* ring; chats[n_chats-1] newest */
  size_t n_chats;
  uint64_t resend_at;           /* resend marked chats once at this epoch; 0: none */
  member_state_t state;
  mls_group_t *g;              /* owned */
  mls_keypackage_priv_t *kp;   /* owned while waiting for a Welcome */
  uint64_t leader;
  vs_member_stats_t stats;
};

static void resend_chats(vs_member_t *m);
static void chat_refused(vs_member_t *m, uint64_t group_epoch);

static int send_env(vs_member_t *m, veil_writer_t *w) {
  int rc = w->err ? w->err : m->cfg.cb.send(m->cfg.cb.arg, w->buf, w->len);
  veil_writer_free(w);
  return rc;
}

int vs_member_leaf_identity(const mls_leaf_node_t *leaf, char *out, size_t cap) {
  if (!cap)
    return VEIL_EINVAL;
  out[0] = 0;
  if (leaf->credential.type == MLS_CRED_BASIC) {
    size_t n = leaf->credential.identity.len < cap - 1 ? leaf->credential.identity.len : cap - 1;
    memcpy(out, leaf->credential.identity.ptr, n);
    out[n] = 0;
    return 0;
  }
  if (leaf->credential.type != MLS_CRED_X509 || leaf->credential.certificates.count == 0)
    return VEIL_EINVAL;
  veil_reader_t r;
  veil_view_t der;
  mls_list_reader(&leaf->credential.certificates, &r);
  if (veil_read_vec(&r, VEIL_LEN_VARINT, X509_CERT_MAX, &der))
    return VEIL_EDECODE;
  x509_info_t info;
  int rc = x509_parse_info(der.ptr, der.len, &info);
  if (rc)
    return rc;
  /* as verify.h names a member: SAN email, else SAN DNS (room devices), else CN */
  snprintf(out, cap, "%s", info.email[0] ? info.email : info.dns[0] ? info.dns : info.common_name);
  return 0;
}

/* Whether some leaf of g has a signature key absent from `before` (keys listed one per
 * leaf, concatenated views). An Add brings a new signature key; an Update or a Remove
 * does not (RFC 9420 §12.1.2: an Update keeps the credential's key). */
typedef struct keyset {
  veil_writer_t keys; /* u16 len || key, one per leaf */
} keyset_t;

static void keyset_of(const mls_group_t *g, keyset_t *ks) {
  veil_writer_init_growable(&ks->keys, 256);
  for (uint32_t i = 0; g && i < mls_group_leaf_count(g); i++) {
    const mls_leaf_node_t *l = mls_group_member(g, i);
    if (l)
      veil_write_vec(&ks->keys, VEIL_LEN_U16, l->signature_key.ptr, l->signature_key.len);
  }
}

static int keyset_has(const keyset_t *ks, veil_view_t key) {
  veil_reader_t r;
  veil_reader_init(&r, ks->keys.buf, ks->keys.len);
  veil_view_t k;
  while (veil_reader_remaining(&r) && veil_read_vec(&r, VEIL_LEN_U16, 0xffff, &k) == 0)
    if (k.len == key.len && memcmp(k.ptr, key.ptr, k.len) == 0)
      return 1;
  return 0;
}

static int someone_added(const keyset_t *before, const mls_group_t *g) {
  for (uint32_t i = 0; i < mls_group_leaf_count(g); i++) {
    const mls_leaf_node_t *l = mls_group_member(g, i);
    if (l && !keyset_has(before, l->signature_key))
      return 1;
  }
  return 0;
}

static int send_key_package(vs_member_t *m) {
  mls_keypackage_priv_free(m->kp);
  m->kp = NULL;
  if (m->g) {
    mls_group_free(m->g);
    m->g = NULL;
  }
  veil_writer_t kpw;
  veil_writer_init_growable(&kpw, 1024);
  int rc = mls_keypackage_create(m->cfg.cipher_suite, m->cfg.identity, m->cfg.group.now, &kpw, &m->kp);
  if (rc) {
    veil_writer_free(&kpw);
    return rc;
  }
  const mls_suite_t *s = mls_suite_get(m->cfg.cipher_suite);
  uint8_t ref[MLS_HASH_MAX];
  veil_view_t pub = mls_keypackage_priv_public(m->kp);
  rc = s ? mls_make_key_package_ref(s, pub.ptr, pub.len, ref) : VEIL_EUNSUPPORTED;
  if (!rc) {
    veil_writer_t w;
    veil_writer_init_growable(&w, kpw.len + 64);
    relay_env_put_key_package(&w, ref, s->nh, kpw.buf, kpw.len);
    rc = send_env(m, &w);
  }
  veil_writer_free(&kpw);
  if (!rc) {
    m->state = MS_WAIT_WELCOME;
    m->stats.keypackages_sent++;
  }
  return rc;
}

static int on_leader(vs_member_t *m, const relay_env_t *e) {
  if (m->leader != e->member)
    m->stats.leader_changes++;
  m->leader = e->member;
  if (m->state == MS_MEMBER || m->state == MS_REMOVED)
    return 0; /* a failover: the relay hands the new leader a batch with the old one in leaves */
  if (e->member == m->cfg.self && (e->flags & RELAY_LEADER_FLAG_CREATE)) {
    uint8_t gid[16];
    vc_random(gid, sizeof gid);
    mls_keypackage_priv_free(m->kp);
    m->kp = NULL;
    int rc = mls_group_create(m->cfg.cipher_suite, gid, sizeof gid, m->cfg.identity, &m->cfg.group, &m->g);
    if (rc)
      return rc;
    m->state = MS_MEMBER;
    m->cfg.cb.on_epoch(m->cfg.cb.arg, m->g, 1);
    return 0;
  }
  if (m->state == MS_WAIT_LEADER)
    return send_key_package(m);
  return 0;
}

/* Leaves to remove: every leaf (not ours) whose credential names a member in `leaves`. */
static size_t leaves_to_remove(vs_member_t *m, veil_view_t leaves, uint32_t *out, size_t max) {
  size_t n = 0;
  veil_reader_t r;
  veil_reader_init(&r, leaves.ptr, leaves.len);
  uint64_t member;
  while (veil_reader_remaining(&r) >= 8 && veil_read_u64(&r, &member) == 0) {
    char who[256];
    if (m->cfg.cb.resolve(m->cfg.cb.arg, member, who, sizeof who)) {
      veil_log(VEIL_LOG_WARN, "client", "leave_unresolved", "member=%llu", (unsigned long long)member);
      continue;
    }
    for (uint32_t i = 0; i < mls_group_leaf_count(m->g); i++) {
      const mls_leaf_node_t *l = mls_group_member(m->g, i);
      char id[256];
      if (!l || i == mls_group_own_leaf(m->g) || vs_member_leaf_identity(l, id, sizeof id) || strcmp(id, who))
        continue;
      int dup = 0;
      for (size_t k = 0; k < n; k++)
        dup |= out[k] == i;
      if (!dup && n < max)
        out[n++] = i;
    }
  }
  return n;
}

/* A joiner's KeyPackage must name the identity signaling admitted it as (its join
 * token's subject): otherwise its leaf could never be matched to a relay member again
 * (no removal when it leaves), and the roster would show a name nobody vouched for. */
static int kp_names_member(vs_member_t *m, uint64_t member, veil_view_t kp) {
  char want[256], got[256];
  mls_message_t msg;
  if (m->cfg.cb.resolve(m->cfg.cb.arg, member, want, sizeof want))
    return 0;
  if (mls_message_parse(kp.ptr, kp.len, &msg) || msg.wire_format != MLS_WF_KEY_PACKAGE)
    return 0;
  if (vs_member_leaf_identity(&msg.u.key_package.leaf_node, got, sizeof got))
    return 0;
  return strcmp(want, got) == 0;
}

static int on_batch(vs_member_t *m, const relay_env_t *e) {
  if (m->state != MS_MEMBER || m->leader != m->cfg.self)
    return VEIL_ESTATE;
  if (e->epoch != mls_group_epoch(m->g))
    return 0; /* stale hand-over: the relay hands it again at the right epoch */
  if (mls_group_has_pending(m->g))
    mls_group_discard_pending(m->g); /* a batch voids any earlier attempt at this epoch */
  veil_view_t kps[MAX_BATCH];
  size_t n_add = 0;
  veil_reader_t r;
  veil_reader_init(&r, e->joins.ptr, e->joins.len);
  uint64_t member;
  veil_view_t kp;
  int more;
  while ((more = relay_env_next_join(&r, &member, &kp)) == 1 && n_add < MAX_BATCH) {
    if (kp_names_member(m, member, kp))
      kps[n_add++] = kp;
    else
      veil_log(VEIL_LOG_WARN, "client", "keypackage_identity_mismatch", "member=%llu", (unsigned long long)member);
  }
  if (more < 0)
    return more;
  uint32_t rem[MAX_BATCH * 2];
  size_t n_rem = leaves_to_remove(m, e->leaves, rem, MAX_BATCH * 2);
  int ok[MAX_BATCH];
  for (size_t i = 0; i < n_add; i++)
    ok[i] = 1;
  veil_writer_t c, w;
  veil_writer_init_growable(&c, 4096);
  veil_writer_init_growable(&w, 4096);
  mls_commit_opts_t o = {.add_key_packages = kps, .n_add = n_add, .remove_leaves = rem, .n_remove = n_rem,
                         .inline_tree = 1};
  int rc = mls_group_commit(m->g, &o, &c, n_add ? &w : NULL);
  if (rc && n_add) {
    /* Find the KeyPackages the group refuses (validation, §10.1) and commit without them. */
    veil_view_t good[MAX_BATCH];
    size_t n_good = 0;
    for (size_t i = 0; i < n_add; i++) {
      veil_writer_t c1, w1;
      veil_writer_init_growable(&c1, 4096);
      veil_writer_init_growable(&w1, 4096);
      mls_commit_opts_t o1 = {.add_key_packages = &kps[i], .n_add = 1, .inline_tree = 1};
      ok[i] = mls_group_commit(m->g, &o1, &c1, &w1) == 0;
      mls_group_discard_pending(m->g);
      veil_writer_free(&c1);
      veil_writer_free(&w1);
      if (ok[i])
        good[n_good++] = kps[i];
      else
        veil_log(VEIL_LOG_WARN, "client", "keypackage_refused", "index=%zu", i);
    }
    veil_writer_free(&c);
    veil_writer_free(&w);
    veil_writer_init_growable(&c, 4096);
    veil_writer_init_growable(&w, 4096);
    o.add_key_packages = good;
    o.n_add = n_good;
    /* Nothing left to add or remove: still answer the batch (an empty Commit with a path,
     * a key refresh), or the relay would take the silence for a dead leader and fail
     * over (docs/relay.md); the joiners it does not name are told KP_REJECTED. */
    o.force_path = !n_good && !n_rem;
    rc = mls_group_commit(m->g, &o, &c, n_good ? &w : NULL);
    n_add = n_good;
  }
  if (rc) {
    veil_writer_free(&c);
    veil_writer_free(&w);
    veil_log(VEIL_LOG_WARN, "client", "commit_failed", "err=%s", veil_strerror(rc));
    return rc;
  }
  veil_writer_t env;
  veil_writer_init_growable(&env, c.len + w.len + 32);
  relay_env_put_commit(&env, e->batch_id, c.buf, c.len, n_add ? w.buf : NULL, n_add ? w.len : 0);
  veil_writer_free(&c);
  veil_writer_free(&w);
  rc = send_env(m, &env);
  if (!rc)
    m->stats.commits_sent++;
  return rc;
}

static void removed(vs_member_t *m) {
  m->state = MS_REMOVED;
  m->cfg.cb.on_removed(m->cfg.cb.arg);
}

static int on_commit(vs_member_t *m, const relay_env_t *e) {
  if (m->state != MS_MEMBER)
    return 0; /* a joiner sees commits of epochs before its Welcome: not for it */
  keyset_t before;
  keyset_of(m->g, &before);
  int rc;
  if (mls_group_has_pending(m->g) && m->leader == m->cfg.self) {
    /* The relay's echo of our commit is its acceptance (docs/relay.md). */
    rc = mls_group_merge_pending(m->g);
    if (!rc)
      m->stats.commits_merged++;
  } else {
    mls_processed_t p;
    memset(&p, 0, sizeof p);
    rc = mls_group_process(m->g, e->mls.ptr, e->mls.len, &p);
    int gone = !rc && (p.removed || !mls_group_active(m->g));
    mls_processed_free(&p);
    if (!rc)
      m->stats.commits_processed++;
    if (gone) {
      veil_writer_free(&before.keys);
      removed(m);
      return 0;
    }
  }
  if (rc) {
    m->stats.process_failures++;
    veil_log(VEIL_LOG_WARN, "client", "commit_not_applied", "err=%s", veil_strerror(rc));
  } else {
    m->cfg.cb.on_epoch(m->cfg.cb.arg, m->g, someone_added(&before, m->g));
    resend_chats(m);
  }
  veil_writer_free(&before.keys);
  return rc;
}

static int on_welcome(vs_member_t *m, const relay_env_t *e) {
  if (m->state != MS_WAIT_WELCOME || !m->kp)
    return VEIL_ESTATE;
  int rc = mls_group_join(e->mls.ptr, e->mls.len, m->kp, NULL, 0, &m->cfg.group, &m->g);
  if (rc) {
    veil_log(VEIL_LOG_WARN, "client", "welcome_refused", "err=%s", veil_strerror(rc));
    return rc;
  }
  mls_keypackage_priv_free(m->kp);
  m->kp = NULL;
  m->state = MS_MEMBER;
  m->stats.welcomes++;
  m->cfg.cb.on_epoch(m->cfg.cb.arg, m->g, 1);
  return 0;
}

static int on_application(vs_member_t *m, const relay_env_t *e) {
  if (m->state != MS_MEMBER)
    return 0;
  mls_processed_t p;
  memset(&p, 0, sizeof p);
  int rc = mls_group_process(m->g, e->mls.ptr, e->mls.len, &p);
  if (!rc && p.kind == MLS_PROCESSED_APPLICATION) {
    m->stats.chats_in++;
    m->cfg.cb.on_chat(m->cfg.cb.arg, p.sender, p.data.buf, p.data.len);
  } else if (rc) {
    m->stats.process_failures++;
  }
  mls_processed_free(&p);
  return rc;
}

int vs_member_tap_application(vs_member_t *m, const uint8_t *msg, size_t len, uint64_t *epoch) {
  *epoch = UINT64_MAX;
  mls_message_t mm;
  int rc = mls_message_parse(msg, len, &mm);
  if (rc)
    return rc;
  if (mm.wire_format != MLS_WF_PRIVATE_MESSAGE || mm.u.private_message.content_type != MLS_CT_APPLICATION)
    return VEIL_EINVAL;
  *epoch = mm.u.private_message.epoch;
  if (!m->g)
    return VEIL_ESTATE;
  mls_processed_t p;
  memset(&p, 0, sizeof p);
  rc = mls_group_process(m->g, msg, len, &p);
  if (!rc && p.kind != MLS_PROCESSED_APPLICATION)
    rc = VEIL_EINVAL; /* cannot happen: the content type was checked above */
  if (p.data.buf)
    vc_wipe(p.data.buf, p.data.len);
  mls_processed_free(&p);
  return rc;
}

/* The relay's error codes travel as the positive u32 of a veil error: compared in unsigned
 * space, since negating an arbitrary wire value (0x80000000) as an int is undefined. */
static int relay_code_is(uint32_t code, int veil_err) {
  return code == (uint32_t)(-(int64_t)veil_err);
}

static int on_control(vs_member_t *m, const relay_env_t *e) {
  switch (e->ctl_type) {
  case RELAY_CTL_LEADER:
    return on_leader(m, e);
  case RELAY_CTL_BATCH:
    return on_batch(m, e);
  case RELAY_CTL_REJOIN:
    if (m->state == MS_REMOVED)
      return 0;
    return send_key_package(m);
  case RELAY_CTL_ERROR:
    m->stats.errors_from_relay++;
    veil_log(VEIL_LOG_INFO, "client", "relay_error", "code=-%u epoch=%llu kind=%u", e->code,
             (unsigned long long)e->epoch, e->rejected_kind);
    if (relay_code_is(e->code, VEIL_ERELAY_KP_REJECTED) && m->state == MS_WAIT_WELCOME)
      return send_key_package(m);
    if (e->rejected_kind == RELAY_ENV_COMMIT && m->g && mls_group_has_pending(m->g))
      mls_group_discard_pending(m->g);
    if (e->rejected_kind == RELAY_ENV_APPLICATION && relay_code_is(e->code, VEIL_ERELAY_STALE_EPOCH) &&
        m->g) {
      chat_refused(m, e->epoch);
      resend_chats(m);
    }
    return 0;
  default:
    return VEIL_ERELAY_ENVELOPE;
  }
}

int vs_member_handle(vs_member_t *m, const uint8_t *buf, size_t len) {
  relay_env_t e;
  int rc = relay_env_decode(buf, len, MAX_MLS, &e);
  if (rc)
    return rc;
  switch (e.kind) {
  case RELAY_ENV_CONTROL:
    return on_control(m, &e);
  case RELAY_ENV_COMMIT:
    return on_commit(m, &e);
  case RELAY_ENV_WELCOME:
    return on_welcome(m, &e);
  case RELAY_ENV_APPLICATION:
    return on_application(m, &e);
  case RELAY_ENV_PROPOSAL:
    if (m->state == MS_MEMBER) {
      mls_processed_t p;
      memset(&p, 0, sizeof p);
      rc = mls_group_process(m->g, e.mls.ptr, e.mls.len, &p);
      mls_processed_free(&p);
    }
    return rc;
  default:
    return VEIL_ERELAY_ENVELOPE;
  }
}

static int protect_and_send(vs_member_t *m, const uint8_t *text, size_t len);

static void remember_chat(vs_member_t *m, const uint8_t *text, size_t len) {
  if (m->n_chats == CHAT_KEEP) {
    memmove(&m->chats[0], &m->chats[1], sizeof m->chats[0] * (CHAT_KEEP - 1));
    m->n_chats--;
  }
  sent_chat_t *c = &m->chats[m->n_chats++];
  c->epoch = mls_group_epoch(m->g);
  c->resend = 0;
  c->len = len;
  memcpy(c->text, text, len);
}

/* A refused application message is the newest one of an older epoch not yet marked:
 * the relay handles a member's messages in order and refuses exactly those that arrive
 * after the Commit, i.e. the last ones sent in the old epoch. */
static void chat_refused(vs_member_t *m, uint64_t group_epoch) {
  for (size_t i = m->n_chats; i-- > 0;) {
    sent_chat_t *c = &m->chats[i];
    if (c->epoch < group_epoch && !c->resend) {
      c->resend = 1;
      m->resend_at = group_epoch;
      break;
    }
  }
}

static void resend_chats(vs_member_t *m) {
  if (!m->resend_at || m->state != MS_MEMBER || mls_group_epoch(m->g) < m->resend_at)
    return;
  m->resend_at = 0;
  size_t n = m->n_chats;
  sent_chat_t again[CHAT_KEEP];
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (m->chats[i].resend == 1) {
      m->chats[i].resend = 2; /* sent again once; never twice */
      again[k++] = m->chats[i];
    }
  for (size_t i = 0; i < k; i++)
    (void)vs_member_send_chat(m, again[i].text, again[i].len);
}

int vs_member_send_chat(vs_member_t *m, const uint8_t *text, size_t len) {
  if (m->state != MS_MEMBER)
    return VEIL_ESTATE;
  if (len > CHAT_MAX)
    return VEIL_ELIMIT;
  int rc = protect_and_send(m, text, len);
  if (!rc)
    remember_chat(m, text, len);
  return rc;
}

static int protect_and_send(vs_member_t *m, const uint8_t *text, size_t len) {
  veil_writer_t msg, env;
  veil_writer_init_growable(&msg, len + 256);
  int rc = mls_group_protect(m->g, text, len, NULL, 0, &msg);
  if (rc) {
    veil_writer_free(&msg);
    return rc;
  }
  veil_writer_init_growable(&env, msg.len + 16);
  relay_env_put_mls(&env, RELAY_ENV_APPLICATION, msg.buf, msg.len);
  veil_writer_free(&msg);
  return send_env(m, &env);
}

int vs_member_new(const vs_member_config_t *cfg, vs_member_t **out) {
  if (!cfg->identity || !cfg->cb.send || !cfg->cb.on_epoch || !cfg->cb.on_chat || !cfg->cb.on_removed ||
      !cfg->cb.resolve)
    return VEIL_EINVAL;
  vs_member_t *m = calloc(1, sizeof *m);
  if (!m)
    return VEIL_ENOMEM;
  m->cfg = *cfg;
  *out = m;
  return 0;
}

void vs_member_free(vs_member_t *m) {
  if (!m)
    return;
  mls_group_free(m->g);
  mls_keypackage_priv_free(m->kp);
  free(m);
}

mls_group_t *vs_member_group(vs_member_t *m) { return m->state == MS_MEMBER ? m->g : NULL; }
uint64_t vs_member_leader(const vs_member_t *m) { return m->leader; }
void vs_member_get_stats(const vs_member_t *m, vs_member_stats_t *out) { *out = m->stats; }
