/*
 * veil MLS group — proposal lists and their validity (RFC 9420 §12.2–§12.4), shared by
 * the committer (group_send.c) and the receivers (group_process.c).
 *
 * Validation is a pass over the resolved list with one byte of state per leaf (updated,
 * removed): O(proposals + leaves), plus O(adds x leaves) for the "client already in the
 * group" check, which compares signature keys.
 */
#include "clients/lib/mls/group_internal.h"

#include <stdlib.h>
#include <string.h>

int grp_parse_key_package(const uint8_t *buf, size_t len, mls_key_package_t *kp,
                          veil_view_t *bare);

int grp_resolve_commit(const mls_group_t *g, const mls_commit_t *c, uint8_t sender_type,
                       uint32_t sender, grp_resolved_t **out, size_t *n) {
  if (c->proposals.count > GRP_MAX_COMMIT_PROPOSALS)
    return VEIL_ELIMIT;
  grp_resolved_t *res = calloc(c->proposals.count ? c->proposals.count : 1, sizeof(*res));
  if (!res)
    return VEIL_ENOMEM;
  veil_reader_t r;
  mls_list_reader(&c->proposals, &r);
  int rc = 0;
  for (uint32_t i = 0; i < c->proposals.count && rc == 0; i++) {
    mls_proposal_or_ref_t por;
    rc = mls_proposal_or_ref_decode(&r, &por);
    if (rc)
      break;
    if (por.type == MLS_POR_PROPOSAL) {
      res[i].p = por.proposal;
      res[i].sender = sender;
      res[i].sender_type = sender_type;
      continue;
    }
    /* §12.4: a reference names a proposal received this epoch; external commits carry
     * every proposal by value (§12.4.3.2). */
    const grp_proposal_t *cp = grp_props_find(g, por.reference.ptr, por.reference.len);
    if (!cp || sender_type != MLS_SENDER_MEMBER) {
      rc = VEIL_EMLS_UNKNOWN_PROPOSAL;
      break;
    }
    veil_reader_t pr;
    veil_reader_init(&pr, cp->enc, cp->enc_len);
    mls_proposal_decode(&pr, &res[i].p);
    rc = veil_reader_finish(&pr);
    res[i].sender = cp->sender.index;
    res[i].sender_type = cp->sender.type;
    res[i].cached = cp;
  }
  if (rc) {
    free(res);
    return rc;
  }
  *out = res;
  *n = c->proposals.count;
  return 0;
}

int grp_path_required(const grp_resolved_t *p, size_t n) {
  if (n == 0)
    return 1; /* §12.4: an empty Commit needs a path */
  for (size_t i = 0; i < n; i++)
    switch (p[i].p.type) {
    case MLS_PROP_UPDATE:
    case MLS_PROP_REMOVE:
    case MLS_PROP_EXTERNAL_INIT:
    case MLS_PROP_GROUP_CONTEXT_EXTENSIONS:
      return 1;
    default:
      break;
    }
  return 0;
}

static int view_eq(veil_view_t a, veil_view_t b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int psk_id_eq(const mls_psk_id_t *a, const mls_psk_id_t *b) {
  if (a->psktype != b->psktype || !view_eq(a->psk_nonce, b->psk_nonce))
    return 0;
  if (a->psktype == MLS_PSK_EXTERNAL)
    return view_eq(a->psk_id, b->psk_id);
  return a->usage == b->usage && a->psk_epoch == b->psk_epoch &&
         view_eq(a->psk_group_id, b->psk_group_id);
}

/* A non-default extension type in a GroupContextExtensions proposal must be supported by
 * every member (§12.1.7, §13.4), and so must what a required_capabilities extension in it
 * requires (§11.1). O(members x required types). */
static int gce_supported(const mls_group_t *g, const mls_list_t *exts) {
  veil_reader_t r;
  mls_list_reader(exts, &r);
  for (uint32_t i = 0; i < exts->count; i++) {
    mls_extension_t e;
    if (mls_extension_decode(&r, &e) != 0)
      return VEIL_EMLS_PROPOSAL_LIST;
    if (e.type == MLS_EXT_REQUIRED_CAPABILITIES) {
      /* §11.1: only what every current member supports may become required. */
      mls_list_t body = {e.data, 1};
      for (uint32_t l = 0; l < mls_tree_leaf_count(g->tree); l++) {
        const mls_leaf_node_t *leaf = mls_tree_leaf(g->tree, l);
        int rc = leaf ? mls_leaf_meets_required(leaf, &body) : 0;
        if (rc)
          return rc == VEIL_EMLS_LEAF_INVALID ? VEIL_EMLS_CAPABILITIES : rc;
      }
    }
    if (e.type >= MLS_EXT_APPLICATION_ID && e.type <= MLS_EXT_EXTERNAL_SENDERS)
      continue;
    for (uint32_t l = 0; l < mls_tree_leaf_count(g->tree); l++) {
      const mls_leaf_node_t *leaf = mls_tree_leaf(g->tree, l);
      if (leaf && !mls_list_has_u16(&leaf->capabilities.extensions, e.type))
        return VEIL_EMLS_CAPABILITIES;
    }
  }
  return 0;
}

/* §12.2 / §7.2: a new or updated leaf must support the credential types members use,
 * and every member must support its credential type. `used` is the set of credential
 * types in the tree (as bits, types < 16), `all` those every member supports. */
typedef struct cred_sets {
  uint32_t used, all;
} cred_sets_t;

static void cred_sets(const mls_tree_t *t, cred_sets_t *cs) {
  cs->used = 0;
  cs->all = 0xffffu;
  for (uint32_t l = 0; l < mls_tree_leaf_count(t); l++) {
    const mls_leaf_node_t *leaf = mls_tree_leaf(t, l);
    if (!leaf)
      continue;
    if (leaf->credential.type < 16)
      cs->used |= 1u << leaf->credential.type;
    uint32_t sup = 0;
    for (uint32_t i = 0; i < leaf->capabilities.credentials.count; i++) {
      uint16_t c = mls_list_u16(&leaf->capabilities.credentials, i);
      if (c < 16)
        sup |= 1u << c;
    }
    cs->all &= sup;
  }
}

static int cred_compatible(const cred_sets_t *cs, const mls_leaf_node_t *leaf) {
  uint16_t own = leaf->credential.type;
  if (own >= 16 || !(cs->all & (1u << own)))
    return VEIL_EMLS_CAPABILITIES;
  for (uint16_t c = 0; c < 16; c++)
    if ((cs->used & (1u << c)) && !mls_list_has_u16(&leaf->capabilities.credentials, c))
      return VEIL_EMLS_CAPABILITIES;
  return 0;
}

#define LEAF_UPDATED 1u
#define LEAF_REMOVED 2u

int grp_validate_proposals(const mls_group_t *g, const grp_commit_in_t *in) {
  const mls_suite_t *s = g->suite;
  uint32_t nl = mls_tree_leaf_count(g->tree);
  int external = in->sender_type == MLS_SENDER_NEW_MEMBER_COMMIT;
  uint8_t *mark = calloc(nl ? nl : 1, 1), *removed = calloc(nl ? nl : 1, 1);
  if (!mark || !removed) {
    free(mark);
    free(removed);
    return VEIL_ENOMEM;
  }
  /* Leaves the list removes, wherever their Remove stands in it: an Add of a client
   * already in the group is valid when the same list removes that client (§12.2) — a
   * member that lost its state rejoins with its certificate's key in one Commit. */
  for (size_t i = 0; i < in->n_props; i++)
    if (in->props[i].p.type == MLS_PROP_REMOVE && in->props[i].p.u.remove < nl)
      removed[in->props[i].p.u.remove] = 1;
  mls_list_t rq;
  mls_leaf_check_t chk = {.group_id = {g->group_id, g->group_id_len},
                          .required_capabilities = grp_required_caps(g, &rq),
                          .now = g->cfg.now};
  size_t n_gce = 0, n_einit = 0, n_remove = 0;
  cred_sets_t cs;
  cred_sets(g->tree, &cs);
  int rc = 0;
  for (size_t i = 0; i < in->n_props && rc == 0; i++) {
    const grp_resolved_t *rp = &in->props[i];
    const mls_proposal_t *p = &rp->p;
    /* Proposals by reference come from members only (no external senders here). */
    if (rp->sender_type != MLS_SENDER_MEMBER && rp->sender_type != in->sender_type) {
      rc = VEIL_EMLS_PROPOSAL_LIST;
      break;
    }
    switch (p->type) {
    case MLS_PROP_ADD: {
      const mls_key_package_t *kp = &p->u.add;
      if (external || kp->cipher_suite != s->id || kp->version != MLS_VERSION_10) {
        rc = VEIL_EMLS_PROPOSAL_LIST;
        break;
      }
      rc = mls_key_package_validate(kp, &chk);
      if (rc == 0)
        rc = cred_compatible(&cs, &kp->leaf_node);
      if (rc == 0)
        rc = grp_check_credential(g, &kp->leaf_node);
      /* No two Adds for one client, and no Add of a client already a member (§12.2). */
      for (size_t j = 0; j < i && rc == 0; j++)
        if (in->props[j].p.type == MLS_PROP_ADD &&
            view_eq(in->props[j].p.u.add.leaf_node.signature_key, kp->leaf_node.signature_key))
          rc = VEIL_EMLS_PROPOSAL_LIST;
      for (uint32_t l = 0; l < nl && rc == 0; l++) {
        const mls_leaf_node_t *leaf = mls_tree_leaf(g->tree, l);
        if (leaf && !removed[l] && view_eq(leaf->signature_key, kp->leaf_node.signature_key))
          rc = VEIL_EMLS_PROPOSAL_LIST;
      }
      break;
    }
    case MLS_PROP_UPDATE:
      /* §12.2: not from the committer, one per leaf, not with a Remove of that leaf. */
      if (external || rp->sender_type != MLS_SENDER_MEMBER || rp->sender == in->committer ||
          rp->sender >= nl || !mls_tree_leaf(g->tree, rp->sender) || mark[rp->sender]) {
        rc = VEIL_EMLS_PROPOSAL_LIST;
        break;
      }
      mark[rp->sender] |= LEAF_UPDATED;
      /* §7.3: an Update brings a new encryption key, not the one it replaces. */
      if (p->u.update.source != MLS_LEAF_SRC_UPDATE ||
          view_eq(p->u.update.encryption_key,
                  mls_tree_leaf(g->tree, rp->sender)->encryption_key)) {
        rc = VEIL_EMLS_LEAF_INVALID;
        break;
      }
      rc = mls_leaf_node_validate(s->id, &p->u.update, rp->sender, &chk);
      if (rc == 0)
        rc = cred_compatible(&cs, &p->u.update);
      if (rc == 0)
        rc = grp_check_credential(g, &p->u.update);
      break;
    case MLS_PROP_REMOVE: {
      uint32_t t = p->u.remove;
      if (t >= nl || !mls_tree_leaf(g->tree, t) || mark[t] ||
          (!external && t == in->committer)) {
        rc = VEIL_EMLS_PROPOSAL_LIST;
        break;
      }
      mark[t] |= LEAF_REMOVED;
      n_remove++;
      break;
    }
    case MLS_PROP_PSK: {
      const uint8_t *k;
      size_t kl;
      if (p->u.psk.psk_nonce.len != s->nh) {
        rc = VEIL_EMLS_PROPOSAL_LIST;
        break;
      }
      for (size_t j = 0; j < i && rc == 0; j++)
        if (in->props[j].p.type == MLS_PROP_PSK && psk_id_eq(&in->props[j].p.u.psk, &p->u.psk))
          rc = VEIL_EMLS_PROPOSAL_LIST;
      if (rc == 0 && grp_psk_lookup((void *)g, &p->u.psk, &k, &kl) != 0)
        rc = VEIL_ENOTFOUND;
      break;
    }
    case MLS_PROP_EXTERNAL_INIT:
      if (!external || n_einit++)
        rc = VEIL_EMLS_PROPOSAL_LIST;
      break;
    case MLS_PROP_GROUP_CONTEXT_EXTENSIONS:
      if (external || n_gce++)
        rc = VEIL_EMLS_PROPOSAL_LIST;
      else
        rc = gce_supported(g, &p->u.group_context_extensions);
      break;
    default:
      /* ReInit (and anything else) is not supported by this client: refusing the Commit
       * is the only safe answer. */
      rc = VEIL_EMLS_PROPOSAL_LIST;
      break;
    }
  }
  free(mark);
  free(removed);
  if (rc == 0 && external && (n_einit != 1 || n_remove > 1))
    rc = VEIL_EMLS_EXTERNAL_COMMIT;
  return rc;
}
