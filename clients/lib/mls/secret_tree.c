/*
 * veil MLS — secret tree and sender ratchets (RFC 9420 §9). Contract in secret_tree.h.
 *
 * Node secrets sit in one array indexed by node index (2n-1 slots of Nh bytes, plus a
 * "held" flag per slot). Only the frontier is ever held: the root at first, then the
 * siblings left behind by each downward walk. Rejected alternative: a sparse map keyed by
 * node index — smaller for huge, mostly silent groups, but a 1024-leaf group's array is
 * 64 KiB and the map's bookkeeping is not worth it below MLS_MAX_LEAVES.
 *
 * Tree math (leaf i is node 2i, root, children) is treemath.h's, for the same full trees
 * the ratchet tree uses (§4.2, Appendix C).
 */
#include "clients/lib/mls/secret_tree.h"

#include <stdlib.h>
#include <string.h>

#include "clients/lib/mls/treemath.h"

typedef struct skipped {
  uint32_t generation;
  uint8_t key[MLS_AEAD_KEY_MAX];
  uint8_t nonce[MLS_AEAD_NONCE_LEN];
} skipped_t;

typedef struct ratchet {
  uint8_t secret[MLS_HASH_MAX]; /* ratchet_secret_[N]_[next_gen] */
  uint32_t next_gen;            /* the generation `secret` produces next */
  int exhausted;                /* next_gen passed 2^32-1 */
  skipped_t *skipped;           /* owned, `window` slots, allocated on first skip */
  uint32_t n_skipped;           /* ordered by generation, oldest first */
} ratchet_t;

typedef struct leaf_state {
  ratchet_t r[2]; /* indexed by mls_ratchet_type_t */
} leaf_state_t;

struct mls_secret_tree {
  const mls_suite_t *suite; /* static */
  uint32_t n_leaves;
  uint32_t n_nodes;
  mls_secret_tree_config_t cfg;
  uint8_t *node_secret;     /* owned: n_nodes * nh bytes */
  uint8_t *held;            /* owned: n_nodes flags */
  leaf_state_t **leaves;    /* owned: n_leaves pointers, each owned, NULL until used */
};

mls_secret_tree_t *mls_secret_tree_new(const mls_suite_t *s, const uint8_t *encryption_secret,
                                       uint32_t n_leaves, const mls_secret_tree_config_t *cfg) {
  if (!s || !encryption_secret || n_leaves == 0 || n_leaves > (1u << 16) ||
      (n_leaves & (n_leaves - 1)) != 0)
    return NULL;
  mls_secret_tree_t *t = calloc(1, sizeof(*t));
  if (!t)
    return NULL;
  t->suite = s;
  t->n_leaves = n_leaves;
  t->n_nodes = 2 * n_leaves - 1;
  t->cfg.max_forward = cfg ? cfg->max_forward : MLS_ST_DEFAULT_MAX_FORWARD;
  t->cfg.window = cfg ? cfg->window : MLS_ST_DEFAULT_WINDOW;
  t->node_secret = calloc(t->n_nodes, s->nh);
  t->held = calloc(t->n_nodes, 1);
  t->leaves = calloc(n_leaves, sizeof(*t->leaves));
  if (!t->node_secret || !t->held || !t->leaves) {
    mls_secret_tree_free(t);
    return NULL;
  }
  uint32_t root = mls_tm_root(n_leaves);
  memcpy(t->node_secret + (size_t)root * s->nh, encryption_secret, s->nh);
  t->held[root] = 1;
  return t;
}

static void ratchet_wipe(ratchet_t *r, uint32_t window) {
  if (r->skipped) {
    vc_wipe(r->skipped, (size_t)window * sizeof(skipped_t));
    free(r->skipped);
  }
  vc_wipe(r, sizeof(*r));
}

void mls_secret_tree_free(mls_secret_tree_t *t) {
  if (!t)
    return;
  if (t->leaves) {
    for (uint32_t i = 0; i < t->n_leaves; i++) {
      if (!t->leaves[i])
        continue;
      ratchet_wipe(&t->leaves[i]->r[0], t->cfg.window);
      ratchet_wipe(&t->leaves[i]->r[1], t->cfg.window);
      free(t->leaves[i]);
    }
    free(t->leaves);
  }
  if (t->node_secret) {
    vc_wipe(t->node_secret, (size_t)t->n_nodes * t->suite->nh);
    free(t->node_secret);
  }
  free(t->held);
  free(t);
}

void mls_ratchet_key_wipe(mls_ratchet_key_t *k) {
  if (k)
    vc_wipe(k, sizeof(*k));
}

/* Walks from the root towards leaf node 2*leaf. At each held node on the path, both
 * children are derived (the sibling stays held for its own subtree) and the node's secret
 * is wiped. Then the leaf secret starts the two ratchets and is wiped too. */
static int leaf_init(mls_secret_tree_t *t, uint32_t leaf, leaf_state_t **out) {
  const mls_suite_t *s = t->suite;
  size_t nh = s->nh;
  uint32_t target = mls_tm_leaf_to_node(leaf), x = mls_tm_root(t->n_leaves);
  leaf_state_t *ls = calloc(1, sizeof(*ls));
  if (!ls)
    return VEIL_ENOMEM;
  int rc = 0;
  while (x != target) {
    uint32_t left = mls_tm_left(x), right = mls_tm_right(x);
    if (t->held[x]) {
      uint8_t *sec = t->node_secret + (size_t)x * nh;
      rc = mls_expand_with_label(s, sec, nh, "tree", (const uint8_t *)"left", 4,
                                 t->node_secret + (size_t)left * nh, nh);
      if (rc == 0)
        rc = mls_expand_with_label(s, sec, nh, "tree", (const uint8_t *)"right", 5,
                                   t->node_secret + (size_t)right * nh, nh);
      if (rc)
        goto fail;
      t->held[left] = t->held[right] = 1;
      vc_wipe(sec, nh);
      t->held[x] = 0;
    }
    x = target < x ? left : right;
  }
  if (!t->held[target]) {
    /* Every node on the path was consumed but the leaf has no ratchets: impossible unless
     * the tree state is corrupt. */
    rc = VEIL_ESTATE;
    goto fail;
  }
  uint8_t *leaf_sec = t->node_secret + (size_t)target * nh;
  rc = mls_expand_with_label(s, leaf_sec, nh, "handshake", NULL, 0,
                             ls->r[MLS_RATCHET_HANDSHAKE].secret, nh);
  if (rc == 0)
    rc = mls_expand_with_label(s, leaf_sec, nh, "application", NULL, 0,
                               ls->r[MLS_RATCHET_APPLICATION].secret, nh);
  if (rc)
    goto fail;
  vc_wipe(leaf_sec, nh);
  t->held[target] = 0;
  *out = ls;
  return 0;
fail:
  ratchet_wipe(&ls->r[0], t->cfg.window);
  ratchet_wipe(&ls->r[1], t->cfg.window);
  free(ls);
  return rc;
}

static int get_ratchet(mls_secret_tree_t *t, uint32_t leaf, mls_ratchet_type_t type,
                       ratchet_t **out) {
  if (!t || leaf >= t->n_leaves)
    return VEIL_EMLS_LEAF_INDEX;
  if (type != MLS_RATCHET_HANDSHAKE && type != MLS_RATCHET_APPLICATION)
    return VEIL_EINVAL;
  if (!t->leaves[leaf]) {
    int rc = leaf_init(t, leaf, &t->leaves[leaf]);
    if (rc)
      return rc;
  }
  *out = &t->leaves[leaf]->r[type];
  return 0;
}

/* key/nonce of the ratchet's current generation, then secret_[j+1]; the old secret is
 * overwritten (consumed). `want_key` 0 skips the key/nonce (generations that would fall
 * out of the window anyway). */
static int ratchet_step(const mls_suite_t *s, ratchet_t *r, int want_key, uint32_t *gen,
                        uint8_t *key, uint8_t *nonce) {
  if (r->exhausted)
    return VEIL_EMLS_RATCHET_EXHAUSTED;
  uint32_t j = r->next_gen;
  int rc = 0;
  if (want_key) {
    rc = mls_derive_tree_secret(s, r->secret, s->nh, "key", j, key, s->nk);
    if (rc == 0)
      rc = mls_derive_tree_secret(s, r->secret, s->nh, "nonce", j, nonce, s->nn);
  }
  uint8_t next[MLS_HASH_MAX];
  if (rc == 0)
    rc = mls_derive_tree_secret(s, r->secret, s->nh, "secret", j, next, s->nh);
  if (rc == 0) {
    memcpy(r->secret, next, s->nh);
    *gen = j;
    if (j == UINT32_MAX)
      r->exhausted = 1;
    else
      r->next_gen = j + 1;
  }
  vc_wipe(next, sizeof(next));
  return rc;
}

int mls_secret_tree_next(mls_secret_tree_t *t, uint32_t leaf, mls_ratchet_type_t type,
                         mls_ratchet_key_t *out) {
  ratchet_t *r;
  int rc = get_ratchet(t, leaf, type, &r);
  if (rc)
    return rc;
  memset(out, 0, sizeof(*out));
  rc = ratchet_step(t->suite, r, 1, &out->generation, out->key, out->nonce);
  if (rc)
    mls_ratchet_key_wipe(out);
  return rc;
}

static void window_remove(ratchet_t *r, uint32_t i) {
  vc_wipe(&r->skipped[i], sizeof(skipped_t));
  memmove(&r->skipped[i], &r->skipped[i + 1], (r->n_skipped - i - 1) * sizeof(skipped_t));
  r->n_skipped--;
  vc_wipe(&r->skipped[r->n_skipped], sizeof(skipped_t));
}

int mls_secret_tree_get(mls_secret_tree_t *t, uint32_t leaf, mls_ratchet_type_t type,
                        uint32_t generation, mls_ratchet_key_t *out) {
  ratchet_t *r;
  int rc = get_ratchet(t, leaf, type, &r);
  if (rc)
    return rc;
  memset(out, 0, sizeof(*out));
  if (r->exhausted || generation < r->next_gen) {
    /* Behind the ratchet: only a key still in the window can be used, and only once. */
    for (uint32_t i = 0; i < r->n_skipped; i++) {
      if (r->skipped[i].generation != generation)
        continue;
      out->generation = generation;
      memcpy(out->key, r->skipped[i].key, sizeof(out->key));
      memcpy(out->nonce, r->skipped[i].nonce, sizeof(out->nonce));
      window_remove(r, i);
      return 0;
    }
    return VEIL_EMLS_GENERATION_USED;
  }
  uint32_t ahead = generation - r->next_gen;
  if (ahead > t->cfg.max_forward)
    return VEIL_EMLS_GENERATION_AHEAD;
  if (ahead && t->cfg.window && !r->skipped) {
    r->skipped = calloc(t->cfg.window, sizeof(skipped_t));
    if (!r->skipped)
      return VEIL_ENOMEM;
  }
  /* Skipped generations go to the window, oldest evicted first; those that could not
   * survive in it are stepped over without deriving their key and nonce. */
  while (r->next_gen < generation) {
    int keep = t->cfg.window && generation - r->next_gen <= t->cfg.window;
    skipped_t tmp;
    rc = ratchet_step(t->suite, r, keep, &tmp.generation, tmp.key, tmp.nonce);
    if (rc) {
      vc_wipe(&tmp, sizeof(tmp));
      return rc;
    }
    if (keep) {
      if (r->n_skipped == t->cfg.window)
        window_remove(r, 0);
      r->skipped[r->n_skipped++] = tmp;
    }
    vc_wipe(&tmp, sizeof(tmp));
  }
  rc = ratchet_step(t->suite, r, 1, &out->generation, out->key, out->nonce);
  if (rc)
    mls_ratchet_key_wipe(out);
  return rc;
}

int mls_secret_tree_put_back(mls_secret_tree_t *t, uint32_t leaf, mls_ratchet_type_t type,
                             const mls_ratchet_key_t *key) {
  ratchet_t *r;
  int rc = get_ratchet(t, leaf, type, &r);
  if (rc)
    return rc;
  /* Only a generation the ratchet has passed and the window does not hold yet. */
  if (!t->cfg.window || (!r->exhausted && key->generation >= r->next_gen))
    return VEIL_EINVAL;
  uint32_t pos = 0;
  while (pos < r->n_skipped && r->skipped[pos].generation < key->generation)
    pos++;
  if (pos < r->n_skipped && r->skipped[pos].generation == key->generation)
    return VEIL_EEXIST;
  if (!r->skipped) {
    r->skipped = calloc(t->cfg.window, sizeof(skipped_t));
    if (!r->skipped)
      return VEIL_ENOMEM;
  }
  if (r->n_skipped == t->cfg.window) {
    if (pos == 0)
      return 0; /* older than everything kept: it would be the next evicted anyway */
    window_remove(r, 0);
    pos--;
  }
  memmove(&r->skipped[pos + 1], &r->skipped[pos], (r->n_skipped - pos) * sizeof(skipped_t));
  r->skipped[pos].generation = key->generation;
  memcpy(r->skipped[pos].key, key->key, sizeof(r->skipped[pos].key));
  memcpy(r->skipped[pos].nonce, key->nonce, sizeof(r->skipped[pos].nonce));
  r->n_skipped++;
  return 0;
}

uint32_t mls_secret_tree_window_len(const mls_secret_tree_t *t, uint32_t leaf,
                                    mls_ratchet_type_t type) {
  if (!t || leaf >= t->n_leaves || !t->leaves[leaf] ||
      (type != MLS_RATCHET_HANDSHAKE && type != MLS_RATCHET_APPLICATION))
    return 0;
  return t->leaves[leaf]->r[type].n_skipped;
}

int mls_sender_data_key_nonce(const mls_suite_t *s, const uint8_t *sender_data_secret,
                              const uint8_t *ciphertext, size_t ciphertext_len, uint8_t *key,
                              uint8_t *nonce) {
  if (!s)
    return VEIL_EINVAL;
  size_t sample = ciphertext_len < s->nh ? ciphertext_len : s->nh;
  int rc = mls_expand_with_label(s, sender_data_secret, s->nh, "key", ciphertext, sample, key,
                                 s->nk);
  if (rc == 0)
    rc = mls_expand_with_label(s, sender_data_secret, s->nh, "nonce", ciphertext, sample,
                               nonce, s->nn);
  if (rc)
    vc_wipe(key, s->nk);
  return rc;
}

/* ---- persistence ----------------------------------------------------------------------- */

static void ratchet_write(veil_writer_t *w, const mls_suite_t *s, const ratchet_t *r) {
  veil_write_bytes(w, r->secret, s->nh);
  veil_write_u32(w, r->next_gen);
  veil_write_u8(w, (uint8_t)r->exhausted);
  veil_write_u32(w, r->n_skipped);
  for (uint32_t i = 0; i < r->n_skipped; i++) {
    veil_write_u32(w, r->skipped[i].generation);
    veil_write_bytes(w, r->skipped[i].key, s->nk);
    veil_write_bytes(w, r->skipped[i].nonce, s->nn);
  }
}

int mls_secret_tree_serialize(const mls_secret_tree_t *t, veil_writer_t *w) {
  if (!t || !w)
    return VEIL_EINVAL;
  const mls_suite_t *s = t->suite;
  veil_write_u32(w, t->n_leaves);
  veil_write_u32(w, t->cfg.max_forward);
  veil_write_u32(w, t->cfg.window);
  for (uint32_t x = 0; x < t->n_nodes; x++) {
    veil_write_u8(w, t->held[x]);
    if (t->held[x])
      veil_write_bytes(w, t->node_secret + (size_t)x * s->nh, s->nh);
  }
  for (uint32_t i = 0; i < t->n_leaves; i++) {
    veil_write_u8(w, t->leaves[i] ? 1 : 0);
    if (t->leaves[i]) {
      ratchet_write(w, s, &t->leaves[i]->r[0]);
      ratchet_write(w, s, &t->leaves[i]->r[1]);
    }
  }
  return w->err;
}

static int ratchet_read(veil_reader_t *r, const mls_suite_t *s, uint32_t window, ratchet_t *rt) {
  uint8_t ex = 0;
  veil_read_copy(r, rt->secret, s->nh);
  veil_read_u32(r, &rt->next_gen);
  veil_read_u8(r, &ex);
  veil_read_u32(r, &rt->n_skipped);
  if (r->err)
    return r->err;
  if (ex > 1 || rt->n_skipped > window)
    return veil_reader_fail(r, VEIL_EDECODE);
  rt->exhausted = ex;
  if (rt->n_skipped) {
    rt->skipped = calloc(window, sizeof(skipped_t));
    if (!rt->skipped)
      return VEIL_ENOMEM;
  }
  for (uint32_t i = 0; i < rt->n_skipped; i++) {
    veil_read_u32(r, &rt->skipped[i].generation);
    veil_read_copy(r, rt->skipped[i].key, s->nk);
    veil_read_copy(r, rt->skipped[i].nonce, s->nn);
  }
  return r->err;
}

int mls_secret_tree_deserialize(const mls_suite_t *s, veil_reader_t *r, mls_secret_tree_t **out) {
  if (!s || !r || !out)
    return VEIL_EINVAL;
  uint32_t n = 0;
  mls_secret_tree_config_t cfg = {0};
  veil_read_u32(r, &n);
  veil_read_u32(r, &cfg.max_forward);
  veil_read_u32(r, &cfg.window);
  if (r->err)
    return r->err;
  /* Bounds before allocating: a power-of-two leaf count within the tree limit, and a
   * window no larger than the forward limit allows to matter. */
  if (n == 0 || n > (1u << 16) || (n & (n - 1)) != 0 || cfg.window > 65536)
    return veil_reader_fail(r, VEIL_EDECODE);
  uint8_t zero[MLS_HASH_MAX] = {0};
  mls_secret_tree_t *t = mls_secret_tree_new(s, zero, n, &cfg);
  if (!t)
    return VEIL_ENOMEM;
  int rc = 0;
  for (uint32_t x = 0; x < t->n_nodes && rc == 0; x++) {
    uint8_t h = 0;
    veil_read_u8(r, &h);
    if (h > 1)
      veil_reader_fail(r, VEIL_EDECODE);
    t->held[x] = h;
    if (h)
      veil_read_copy(r, t->node_secret + (size_t)x * s->nh, s->nh);
    rc = r->err;
  }
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    uint8_t present = 0;
    veil_read_u8(r, &present);
    if ((rc = r->err) != 0)
      break;
    if (present > 1) {
      rc = veil_reader_fail(r, VEIL_EDECODE);
      break;
    }
    if (!present)
      continue;
    t->leaves[i] = calloc(1, sizeof(leaf_state_t));
    if (!t->leaves[i]) {
      rc = VEIL_ENOMEM;
      break;
    }
    rc = ratchet_read(r, s, t->cfg.window, &t->leaves[i]->r[0]);
    if (rc == 0)
      rc = ratchet_read(r, s, t->cfg.window, &t->leaves[i]->r[1]);
  }
  if (rc) {
    mls_secret_tree_free(t);
    return rc;
  }
  *out = t;
  return 0;
}
