/*
 * veil MLS group — the epoch step shared by committer and receivers (group_epoch.c).
 * Internal header.
 */
#ifndef VEIL_CLIENTS_MLS_GROUP_EPOCH_H
#define VEIL_CLIENTS_MLS_GROUP_EPOCH_H

#include "clients/lib/mls/group_internal.h"

/* Applies the resolved proposals of `in` to the staged copy `next` (§12.3 order).
 * `added` needs room for in->n_props entries; *removed_me is set when this member is
 * removed. */
int grp_apply_proposals(const mls_group_t *g, mls_group_t *next, const grp_commit_in_t *in,
                        uint32_t *added, size_t *n_added, int *removed_me);
/* A Commit's next state: a staged copy of g (*next) with the proposals of `in` applied.
 * *added (malloc'd, room for every proposal) receives the leaves the Commit adds.
 * check_keys: also grp_keys_unique on the added and updated leaves (the committer; a
 * receiver checks them with the path in grp_receive_commit_tail, in one pass). The
 * caller frees *next and *added, whatever this returns. */
int grp_stage_commit(const mls_group_t *g, const grp_commit_in_t *in, int check_keys,
                     mls_group_t **next, uint32_t **added, size_t *n_added, int *removed_me);
/* §7.3 / §12.4.2 on a staged tree: the keys of the added leaves, of the leaves `in`'s
 * Update proposals replaced (in may be NULL), and of path_leaf's leaf and direct path
 * (UINT32_MAX: no path) appear nowhere else in it: 0 or VEIL_EMLS_DUP_KEY. */
int grp_keys_unique(const mls_group_t *next, const grp_commit_in_t *in, uint32_t path_leaf,
                    const uint32_t *added, size_t n_added);
/* psk_secret over the PSK proposals (Nh bytes); their PreSharedKeyIDs appended to `ids`
 * (may be NULL), *n_ids their count. */
int grp_psk_secret(const mls_group_t *g, const grp_commit_in_t *in, uint8_t *psk_secret,
                   veil_writer_t *ids, uint32_t *n_ids);
/* The provisional GroupContext (§12.4.2): next epoch, the staged tree's hash, the old
 * confirmed transcript hash, the staged extensions. */
int grp_provisional_gc(mls_group_t *next, const mls_transcript_t *old, veil_writer_t *out);
/* Transcript, GroupContext, key schedule, confirmation tag, secret tree of the new epoch.
 * tag_in: the received tag to verify (VEIL_EMLS_CONFIRMATION_TAG) or NULL to compute it
 * into tag_out. init_secret: NULL for g's own, else an external commit's. joiner_out (Nh
 * or NULL) receives joiner_secret. */
int grp_finish_epoch(const mls_group_t *g, mls_group_t *next, const mls_framed_content_t *content,
                     uint16_t wire_format, veil_view_t signature, const uint8_t *commit_secret,
                     const uint8_t *psk_secret, const uint8_t *init_secret,
                     const uint8_t *tag_in, size_t tag_in_len, uint8_t *tag_out,
                     uint8_t *joiner_out);
/* The end of every received Commit once its proposals are applied to *next and its
 * committer's new leaf (if any) passed §7.3 (group_process.c): merge the UpdatePath (parent
 * hashes checked) and, unless the Commit removes this member, decrypt our path secret;
 * then the new epoch (init_secret: NULL for g's own, else an external commit's), the
 * Commit's hash kept against replays, and *next swapped into g (set to NULL). Before the
 * path: grp_keys_unique over the added and updated leaves and the path. A Commit
 * that removes us only clears g->active. `added`: leaves added by the Commit, which get
 * no path secret. */
int grp_receive_commit_tail(mls_group_t *g, mls_group_t **next,
                            const mls_authenticated_content_t *ac, const grp_commit_in_t *in,
                            uint32_t committer, const uint32_t *added, size_t n_added,
                            int removed_me, const uint8_t *init_secret, const uint8_t *msg,
                            size_t len, mls_processed_t *out);

/* group_keypackage.c */
int grp_make_leaf_node(const mls_suite_t *s, const mls_credential_t *cred, veil_view_t sig_pub,
                       veil_view_t enc_pub, uint8_t source, mls_lifetime_t lifetime,
                       veil_view_t parent_hash, veil_view_t group_id, uint32_t leaf_index,
                       const uint8_t *sig_priv, veil_writer_t *out);
int grp_remake_own_leaf(const mls_group_t *g, const mls_tree_t *tree, veil_view_t enc_pub,
                        uint8_t source, veil_view_t parent_hash, veil_writer_t *out);
int grp_parse_key_package(const uint8_t *buf, size_t len, mls_key_package_t *kp,
                          veil_view_t *bare);

#endif
