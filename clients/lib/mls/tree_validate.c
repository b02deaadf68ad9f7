/*
 * Leaf node validation (RFC 9420 §7.3) and the ratchet tree checks of a joiner
 * (§12.4.3.1): unique keys, credential support, unmerged leaves, parent hashes.
 *
 * Not here: credential validation against trust anchors (§5.3.1 — the identity module's
 * job, it needs the application's policy) and the leaf_node_source check, which depends
 * on where the leaf arrived (KeyPackage, Update, Commit) and is the caller's.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/lib/mls/codec_internal.h"
#include "clients/lib/mls/tree_internal.h"

/* Membership tests of uint16 values in a Capabilities list. Lists come from the network
 * and are only bounded by the message size: small ones are scanned, a large one is
 * turned into a bitmap over the 2^16 values first, so a check of m values against a
 * list of n costs O(m + n), never O(m * n). */
typedef struct u16set {
  const mls_list_t *list;
  int bitmap;             /* bits[] filled */
  uint64_t bits[65536 / 64];
} u16set_t;

#define U16_SCAN_MAX 64

static void u16set_init(u16set_t *s, const mls_list_t *l) {
  s->list = l;
  s->bitmap = l->count > U16_SCAN_MAX;
  if (s->bitmap) {
    memset(s->bits, 0, sizeof s->bits);
    for (uint32_t i = 0; i < l->count; i++) {
      uint16_t v = mls_list_u16(l, i);
      s->bits[v / 64] |= UINT64_C(1) << (v % 64);
    }
  }
}

static int u16set_has(const u16set_t *s, uint16_t v) {
  if (s->bitmap)
    return (int)((s->bits[v / 64] >> (v % 64)) & 1u);
  return mls_list_has_u16(s->list, v);
}

/* Extension types 1-5 are the RFC's defaults: a client need not list them (§7.2 lists
 * only "non-default extension types" in capabilities). */
static int ext_supported(const u16set_t *exts, uint16_t type) {
  return (type >= MLS_EXT_APPLICATION_ID && type <= MLS_EXT_EXTERNAL_SENDERS) ||
         u16set_has(exts, type);
}

/* Proposal types 1-7 are defaults likewise (§7.2). */
static int proposal_supported(const u16set_t *props, uint16_t type) {
  return (type >= MLS_PROP_ADD && type <= MLS_PROP_GROUP_CONTEXT_EXTENSIONS) ||
         u16set_has(props, type);
}

/* RequiredCapabilities (§11.1): extension_types<V>, proposal_types<V>,
 * credential_types<V>, each a uint16 list. `set` is scratch space. */
static int check_required(const mls_leaf_node_t *leaf, const mls_list_t *body, u16set_t *set) {
  veil_reader_t r;
  mls_list_t ext, prop, cred;
  mls_list_reader(body, &r);
  mls_read_int_list(&r, 2, &ext);
  mls_read_int_list(&r, 2, &prop);
  mls_read_int_list(&r, 2, &cred);
  int rc = veil_reader_finish(&r);
  if (rc)
    return rc;
  const mls_capabilities_t *c = &leaf->capabilities;
  u16set_init(set, &c->extensions);
  for (uint32_t i = 0; i < ext.count; i++)
    if (!ext_supported(set, mls_list_u16(&ext, i)))
      return VEIL_EMLS_LEAF_INVALID;
  u16set_init(set, &c->proposals);
  for (uint32_t i = 0; i < prop.count; i++)
    if (!proposal_supported(set, mls_list_u16(&prop, i)))
      return VEIL_EMLS_LEAF_INVALID;
  u16set_init(set, &c->credentials);
  for (uint32_t i = 0; i < cred.count; i++)
    if (!u16set_has(set, mls_list_u16(&cred, i)))
      return VEIL_EMLS_LEAF_INVALID;
  return 0;
}

int mls_leaf_node_validate(uint16_t cipher_suite, const mls_leaf_node_t *leaf,
                           uint32_t leaf_index, const mls_leaf_check_t *chk) {
  const mls_suite_t *s = mls_suite_get(cipher_suite);
  if (!s)
    return VEIL_EMLS_SUITE;
  /* Signature over LeafNodeTBS (§7.2); update/commit leaves bind group and position. */
  veil_writer_t w;
  veil_writer_init_growable(&w, 512);
  mls_leaf_node_encode_tbs(&w, leaf, chk->group_id, leaf_index);
  int rc = w.err;
  if (!rc)
    rc = mls_verify_with_label(s, leaf->signature_key.ptr, leaf->signature_key.len,
                               "LeafNodeTBS", w.buf, w.len, leaf->signature.ptr,
                               leaf->signature.len);
  veil_writer_free(&w);
  if (rc == VEIL_EVERIFY || rc == VEIL_EBADKEY)
    return VEIL_EMLS_LEAF_SIGNATURE;
  if (rc)
    return rc;
  /* Its own credential type must be one it supports (§7.3, "supported by all members",
   * this one included). */
  if (!mls_list_has_u16(&leaf->capabilities.credentials, leaf->credential.type))
    return VEIL_EMLS_LEAF_INVALID;
  /* Every extension it carries must be listed in its capabilities (§7.3). */
  u16set_t set; /* 8 KiB: filled only for long lists */
  u16set_init(&set, &leaf->capabilities.extensions);
  veil_reader_t r;
  mls_list_reader(&leaf->extensions, &r);
  for (uint32_t i = 0; i < leaf->extensions.count; i++) {
    mls_extension_t e;
    if ((rc = mls_extension_decode(&r, &e)))
      return rc;
    if (!ext_supported(&set, e.type))
      return VEIL_EMLS_LEAF_INVALID;
  }
  if (chk->required_capabilities &&
      (rc = check_required(leaf, chk->required_capabilities, &set)))
    return rc;
  if (chk->now && leaf->source == MLS_LEAF_SRC_KEY_PACKAGE &&
      (chk->now < leaf->lifetime.not_before || chk->now > leaf->lifetime.not_after))
    return VEIL_EMLS_LEAF_INVALID;
  return 0;
}

int mls_leaf_meets_required(const mls_leaf_node_t *leaf, const mls_list_t *required) {
  u16set_t set;
  return check_required(leaf, required, &set);
}

int mls_key_package_validate(const mls_key_package_t *kp, const mls_leaf_check_t *chk) {
  const mls_suite_t *s = mls_suite_get(kp->cipher_suite);
  if (!s)
    return VEIL_EMLS_SUITE;
  if (kp->version != MLS_VERSION_10)
    return VEIL_EMLS_VERSION;
  if (kp->leaf_node.source != MLS_LEAF_SRC_KEY_PACKAGE)
    return VEIL_EMLS_LEAF_INVALID;
  int rc = mls_leaf_node_validate(kp->cipher_suite, &kp->leaf_node, 0, chk);
  if (rc)
    return rc;
  /* The signed bytes: the decoded TBS view when there is one, else a fresh encoding. */
  veil_writer_t w;
  veil_writer_init_growable(&w, kp->tbs.len ? 1 : 512);
  veil_view_t tbs = kp->tbs;
  if (!tbs.len) {
    mls_key_package_encode_tbs(&w, kp);
    tbs.ptr = w.buf;
    tbs.len = w.len;
  }
  rc = w.err;
  if (!rc)
    rc = mls_verify_with_label(s, kp->leaf_node.signature_key.ptr,
                               kp->leaf_node.signature_key.len, "KeyPackageTBS", tbs.ptr,
                               tbs.len, kp->signature.ptr, kp->signature.len);
  veil_writer_free(&w);
  if (rc == VEIL_EVERIFY || rc == VEIL_EBADKEY)
    return VEIL_EMLS_LEAF_SIGNATURE;
  if (rc)
    return rc;
  /* §10.1: the init key and the leaf's encryption key MUST differ. */
  if (kp->init_key.len == kp->leaf_node.encryption_key.len &&
      memcmp(kp->init_key.ptr, kp->leaf_node.encryption_key.ptr, kp->init_key.len) == 0)
    return VEIL_EMLS_LEAF_INVALID;
  return 0;
}

/* ---- tree-wide checks ------------------------------------------------------------------ */
static int view_cmp(const void *a, const void *b) {
  const veil_view_t *x = a, *y = b;
  if (x->len != y->len)
    return x->len < y->len ? -1 : 1;
  return x->len ? memcmp(x->ptr, y->ptr, x->len) : 0;
}

/* 1 when two views in the array are equal. O(n log n): sorts the array. */
static int has_duplicate(veil_view_t *v, size_t n) {
  qsort(v, n, sizeof *v, view_cmp);
  for (size_t i = 1; i < n; i++)
    if (view_cmp(&v[i - 1], &v[i]) == 0)
      return 1;
  return 0;
}

/* §12.4.3.1: each unmerged leaf of P is a non-blank leaf below P, listed once, and every
 * non-blank node between it and P lists it as well. The lists come from the network and
 * may be long: each is checked against a sorted copy (all copies in one array, `off`
 * giving each node's segment), so the cost is O(U log U + U * height) for U entries in
 * all, never quadratic in a list's length. */
int mls_tree_check_unmerged(const mls_tree_t *t) {
  uint32_t width = mls_tree_width(t);
  uint32_t *off = calloc((size_t)width + 1, sizeof *off), *all = NULL;
  if (!off)
    return VEIL_ENOMEM;
  size_t total = 0;
  for (uint32_t x = 0; x < width; x++) {
    const mls_parent_node_t *p = mls_tree_parent(t, x);
    off[x] = (uint32_t)total;
    total += p ? p->unmerged_leaves.count : 0;
  }
  off[width] = (uint32_t)total;
  int rc = 0;
  if (!total)
    goto done; /* no unmerged leaves anywhere */
  if (!(all = malloc(total * sizeof *all))) {
    rc = VEIL_ENOMEM;
    goto done;
  }
  for (uint32_t x = 1; x < width; x += 2) {
    const mls_parent_node_t *p = mls_tree_parent(t, x);
    uint32_t n = off[x + 1] - off[x], *seg = all + off[x];
    for (uint32_t i = 0; i < n; i++)
      seg[i] = mls_list_u32(&p->unmerged_leaves, i);
    qsort(seg, n, sizeof *seg, mls_u32_cmp);
    for (uint32_t i = 1; i < n; i++)
      if (seg[i] == seg[i - 1]) {
        rc = VEIL_EMLS_UNMERGED;
        goto done;
      }
  }
  for (uint32_t pn = 1; pn < width; pn += 2) {
    const uint32_t *seg = all + off[pn];
    uint32_t n = off[pn + 1] - off[pn];
    for (uint32_t i = 0; i < n; i++) {
      uint32_t leaf = seg[i];
      if (leaf >= t->n_leaves || !mls_tree_leaf(t, leaf) ||
          !mls_tm_is_descendant(mls_tm_leaf_to_node(leaf), pn)) {
        rc = VEIL_EMLS_UNMERGED;
        goto done;
      }
      for (uint32_t x = mls_tm_parent(mls_tm_leaf_to_node(leaf), t->n_leaves); x != pn;
           x = mls_tm_parent(x, t->n_leaves)) {
        if (mls_tree_parent(t, x) &&
            !mls_u32_sorted_has(all + off[x], off[x + 1] - off[x], leaf)) {
          rc = VEIL_EMLS_UNMERGED;
          goto done;
        }
      }
    }
  }
done:
  free(all);
  free(off);
  return rc;
}

/* Every member must support every credential type in use (§7.3). The set of types in use
 * is tiny in practice; it is bounded here at 16 distinct values (more is rejected). */
static int check_credentials(const mls_tree_t *t) {
  uint16_t used[16];
  uint32_t n_used = 0;
  for (uint32_t l = 0; l < t->n_leaves; l++) {
    const mls_leaf_node_t *leaf = mls_tree_leaf(t, l);
    if (!leaf)
      continue;
    uint32_t k = 0;
    while (k < n_used && used[k] != leaf->credential.type)
      k++;
    if (k == n_used) {
      if (n_used == 16)
        return VEIL_EMLS_LEAF_INVALID;
      used[n_used++] = leaf->credential.type;
    }
  }
  for (uint32_t l = 0; l < t->n_leaves; l++) {
    const mls_leaf_node_t *leaf = mls_tree_leaf(t, l);
    for (uint32_t k = 0; leaf && k < n_used; k++)
      if (!mls_list_has_u16(&leaf->capabilities.credentials, used[k]))
        return VEIL_EMLS_LEAF_INVALID;
  }
  return 0;
}

/* ---- every leaf's checks, on the machine's cores ------------------------------------ */

/* A joiner checks every leaf (§12.4.3.1, §7.3), and the signature verification in each
 * is ~0.1 ms: at 1000 members that is the whole cost of a join. The leaves are
 * independent, so they are checked by up to LEAVES_MAX_THREADS threads (this one
 * included) taking chunks of leaves in order. The result is the sequential one: the
 * error of the lowest-index leaf that fails. Threads stop early only past a known
 * failure, so every leaf below the first failing one is always checked. Below
 * LEAVES_PAR_MIN leaves, or when a thread cannot be started, fewer threads do the
 * same work. Nothing is shared but the read-only tree and check parameters (and the
 * crypto library, thread-safe in OpenSSL 3 and BoringSSL). */
#define LEAVES_PAR_MIN 32
#define LEAVES_MAX_THREADS 8
#define LEAVES_CHUNK 8

typedef struct leaf_job {
  const mls_tree_t *t;
  const mls_leaf_check_t *chk;
  const uint32_t *leaf; /* leaf indices to check, ascending */
  int *rc;              /* per entry: its result (entries past a failure may stay 0) */
  uint32_t n;
  atomic_uint next;      /* first entry not yet taken */
  atomic_uint first_bad; /* lowest failing entry so far; n when none */
} leaf_job_t;

static void leaf_job_run(leaf_job_t *j) {
  for (;;) {
    unsigned start = atomic_fetch_add(&j->next, LEAVES_CHUNK);
    if (start >= j->n)
      return;
    unsigned end = j->n - start < LEAVES_CHUNK ? j->n : start + LEAVES_CHUNK;
    for (unsigned i = start; i < end; i++) {
      if (i > atomic_load(&j->first_bad))
        return; /* chunks are taken in order: every later one is past it too */
      uint32_t l = j->leaf[i];
      int rc = mls_leaf_node_validate(j->t->suite->id, mls_tree_leaf(j->t, l), l, j->chk);
      j->rc[i] = rc;
      if (rc) {
        unsigned cur = atomic_load(&j->first_bad);
        while (i < cur && !atomic_compare_exchange_weak(&j->first_bad, &cur, i))
          ;
      }
    }
  }
}

static void *leaf_job_thread(void *arg) {
  leaf_job_run(arg);
  return NULL;
}

/* The checks of mls_leaf_node_validate for the `n` leaves listed, in parallel; returns
 * the first failing leaf's error in leaf order, or 0. */
static int validate_leaves(const mls_tree_t *t, const mls_leaf_check_t *chk,
                           const uint32_t *leaf, uint32_t n) {
  if (!n)
    return 0;
  int *rcs = calloc(n, sizeof *rcs);
  if (!rcs)
    return VEIL_ENOMEM;
  leaf_job_t j = {.t = t, .chk = chk, .leaf = leaf, .rc = rcs, .n = n};
  atomic_init(&j.next, 0);
  atomic_init(&j.first_bad, n);
  long cpus = n >= LEAVES_PAR_MIN ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
  int want = cpus < 1 ? 1 : cpus > LEAVES_MAX_THREADS ? LEAVES_MAX_THREADS : (int)cpus;
  pthread_t th[LEAVES_MAX_THREADS];
  int started = 0;
  while (started < want - 1 && pthread_create(&th[started], NULL, leaf_job_thread, &j) == 0)
    started++;
  leaf_job_run(&j);
  for (int i = 0; i < started; i++)
    pthread_join(th[i], NULL);
  unsigned bad = atomic_load(&j.first_bad);
  int rc = bad < n ? rcs[bad] : 0;
  free(rcs);
  return rc;
}

int mls_tree_validate(mls_tree_t *t, const mls_leaf_check_t *chk) {
  uint32_t width = mls_tree_width(t);
  if (!width)
    return VEIL_EMLS_TREE_SHAPE;
  veil_view_t *sig = malloc((size_t)t->n_leaves * sizeof *sig);
  veil_view_t *enc = malloc((size_t)width * sizeof *enc);
  uint32_t *leaves = malloc((size_t)t->n_leaves * sizeof *leaves);
  int rc = 0;
  if (!sig || !enc || !leaves) {
    rc = VEIL_ENOMEM;
    goto done;
  }
  size_t n_sig = 0, n_enc = 0;
  for (uint32_t i = 0; i < width; i++) {
    if (!t->nodes[i].type)
      continue;
    enc[n_enc++] = mls_tree_encryption_key(t, i);
    if (mls_tm_is_leaf(i)) {
      leaves[n_sig] = mls_tm_node_to_leaf(i);
      sig[n_sig++] = t->nodes[i].v.leaf.signature_key;
    }
  }
  if ((rc = validate_leaves(t, chk, leaves, (uint32_t)n_sig)))
    goto done;
  /* §7.3: signature and encryption keys unique among members; §12.4.3.1: parent keys
   * unique across the whole tree. */
  if (has_duplicate(sig, n_sig) || has_duplicate(enc, n_enc)) {
    rc = VEIL_EMLS_DUP_KEY;
    goto done;
  }
  if ((rc = check_credentials(t)) || (rc = mls_tree_check_unmerged(t)))
    goto done;
  rc = mls_tree_verify_parent_hashes(t);
done:
  free(leaves);
  free(sig);
  free(enc);
  return rc;
}

/* ---- keys a Commit brought (§7.3, §12.4.2) ------------------------------------------ */
/* The new keys sorted by an 8-byte prefix: each tree node's key is looked up by binary
 * search, so a Commit with k new keys costs O((width + k) log k) compares. */
typedef struct new_key {
  uint64_t prefix;
  veil_view_t key;
  uint32_t node; /* where the Commit put it */
} new_key_t;

/* The key's first 8 bytes as a native word (any fixed order serves: it is only sorted
 * and compared for equality), mixed with its length. */
static uint64_t key_prefix(veil_view_t k) {
  uint64_t x = 0;
  if (k.len)
    memcpy(&x, k.ptr, k.len < 8 ? k.len : 8);
  return x ^ (uint64_t)k.len;
}

static int new_key_cmp(const void *a, const void *b) {
  uint64_t x = ((const new_key_t *)a)->prefix, y = ((const new_key_t *)b)->prefix;
  return x < y ? -1 : x > y;
}

/* 1 when `k`, found at node `at`, equals a new key that the Commit put at another node. */
static int seen_elsewhere(veil_view_t k, uint32_t at, const new_key_t *v, size_t n) {
  if (!n)
    return 0;
  uint64_t p = key_prefix(k);
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (v[mid].prefix < p)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < n && v[lo].prefix == p; lo++)
    if (v[lo].node != at && v[lo].key.len == k.len && memcmp(v[lo].key.ptr, k.ptr, k.len) == 0)
      return 1;
  return 0;
}

int mls_tree_check_keys_unique(const mls_tree_t *t, const uint32_t *nodes, size_t n) {
  uint32_t width = mls_tree_width(t);
  new_key_t *enc = malloc((n ? n : 1) * sizeof *enc), *sig = malloc((n ? n : 1) * sizeof *sig);
  size_t ne = 0, ns = 0;
  int rc = 0;
  if (!enc || !sig) {
    rc = VEIL_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    if (nodes[i] >= width || !t->nodes[nodes[i]].type)
      continue;
    veil_view_t k = mls_tree_encryption_key(t, nodes[i]);
    enc[ne++] = (new_key_t){key_prefix(k), k, nodes[i]};
    if (mls_tm_is_leaf(nodes[i])) {
      k = t->nodes[nodes[i]].v.leaf.signature_key;
      sig[ns++] = (new_key_t){key_prefix(k), k, nodes[i]};
    }
  }
  qsort(enc, ne, sizeof *enc, new_key_cmp);
  qsort(sig, ns, sizeof *sig, new_key_cmp);
  for (uint32_t j = 0; j < width && rc == 0; j++) {
    const mls_tnode_t *nd = &t->nodes[j];
    if (nd->type && (seen_elsewhere(mls_tree_encryption_key(t, j), j, enc, ne) ||
                     (nd->type == MLS_NODE_LEAF &&
                      seen_elsewhere(nd->v.leaf.signature_key, j, sig, ns))))
      rc = VEIL_EMLS_DUP_KEY;
  }
done:
  free(enc);
  free(sig);
  return rc;
}
