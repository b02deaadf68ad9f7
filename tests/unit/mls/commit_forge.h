/* Forging Commits as a malicious member would, for the tests of what a receiver refuses
 * (test_commit_recv.c).
 *
 * The forger is a member (B of the trio) holding only its own state: its signature
 * private key and its epoch secrets (the framing context, group_internal.h). It gathers
 * proposals of its choosing (by value or by reference), then frames them as its Commit
 * for its current epoch, signed with its key and with a valid membership tag
 * (mls_public_protect): a receiver can refuse such a Commit only for its content. An
 * UpdatePath, where one is wanted, comes from a real Commit of the forger
 * (mls_group_commit, then discarded) or, in forge_commit_tagged, is made afresh.
 * Criterion asserts inside: call only from tests. */
#ifndef VEIL_TESTS_UNIT_MLS_COMMIT_FORGE_H
#define VEIL_TESTS_UNIT_MLS_COMMIT_FORGE_H

#include "clients/lib/mls/group_epoch.h"
#include "tests/unit/mls/group_fixture.h"

typedef struct forge {
  trio_t t;
  mls_group_t *m;       /* borrowed: the forging committer (B) */
  mls_group_t *r;       /* borrowed: the receiver (A) */
  veil_writer_t props;  /* the ProposalOrRef list being built */
  uint32_t n_props;
  veil_writer_t real;   /* a real Commit of m, source of an UpdatePath or a tag */
  mls_public_message_t real_pm; /* its parsed PublicMessage (views into real) */
  veil_writer_t msg;    /* the forged MLSMessage */
  veil_writer_t before, after;
} forge_t;

/* The trio on `suite`, B forging (m), A receiving (r). */
void forge_setup(forge_t *f, uint16_t suite);
void forge_free(forge_t *f);

/* A real Commit of the forger (opts may be NULL) into f->real, parsed into f->real_pm;
 * the forger's pending state is dropped (its epoch stays). */
void real_commit(forge_t *f, const mls_commit_opts_t *opts);
/* real_commit of a self update: its UpdatePath (views into f->real). */
const mls_update_path_t *real_path(forge_t *f);
/* The confirmation tag of f->real, and Nh bytes no Commit has. */
veil_view_t real_tag(const forge_t *f);
veil_view_t garbage_tag(const forge_t *f);

/* Proposals appended to the list being gathered (each encoded at once). */
void by_value(forge_t *f, const mls_proposal_t *p);
void by_ref(forge_t *f, const uint8_t *ref);
void remove_leaf(forge_t *f, uint32_t leaf);
/* An Add of an MLSMessage(KeyPackage) or bare KeyPackage. */
void add_kp(forge_t *f, const uint8_t *kp, size_t len);
/* A GroupContextExtensions proposal with `n` extensions. */
void add_gce(forge_t *f, const mls_extension_t *exts, uint32_t n);

/* Frames the gathered proposals (then cleared) and `path` (NULL: none) as the forger's
 * Commit with confirmation tag `tag`, into f->msg. */
void forge_commit(forge_t *f, const mls_update_path_t *path, veil_view_t tag);
/* The same with the confirmation tag the Commit really has and, with_path, a fresh
 * UpdatePath whose new leaf announces capabilities.extensions = {ext_cap} (0: the old
 * list): the forger stages the proposals itself, skipping the checks of its own
 * mls_group_commit (a modified client), and derives the next epoch as a receiver will,
 * so only a receiver's own checks can refuse it. */
void forge_commit_tagged(forge_t *f, int with_path, uint16_t ext_cap);
/* The forger's leaf re-made with `source` and in's encryption key, signed by the forger
 * (a commit source keeps the parent hash): *out is `in` with that leaf, viewing `buf`. */
void remake_path_leaf(forge_t *f, const mls_update_path_t *in, uint8_t source,
                      mls_update_path_t *out, veil_writer_t *buf);

/* g refuses f->msg with `want` and its serialized state stays byte-identical. */
void assert_refused(forge_t *f, mls_group_t *g, int want);
/* forge_commit, then assert_refused by the receiver (f->r). */
void forge_refused(forge_t *f, const mls_update_path_t *path, veil_view_t tag, int want);
/* f->msg is byte for byte f->real. */
void assert_forged_is_real(const forge_t *f);

#endif
