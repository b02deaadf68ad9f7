/* Shared fixture of the MLS group tests (test_group.c, test_commit_recv.c): members made
 * from basic credentials, the three-member group A (creator), B, C that both start from,
 * and the state and message helpers they assert with. Criterion asserts inside: call
 * only from tests. */
#ifndef VEIL_TESTS_UNIT_MLS_GROUP_FIXTURE_H
#define VEIL_TESTS_UNIT_MLS_GROUP_FIXTURE_H

#include "clients/lib/mls/group.h"

#define W(name)                                                                            \
  veil_writer_t name;                                                                      \
  veil_writer_init_growable(&name, 0)

typedef struct member {
  mls_group_t *g;              /* owned, NULL until joined */
  mls_keypackage_priv_t *kp;   /* owned */
  veil_writer_t kpmsg;         /* owned: MLSMessage(KeyPackage) */
  char name[8];
} member_t;

/* A basic credential naming `name` (borrowed) and a fresh signature key. */
mls_identity_t basic_id(const char *name);
/* A KeyPackage of `suite` for `name` (lifetime unchecked: now = 0). */
void make_kp(member_t *m, uint16_t suite, const char *name);
void member_free(member_t *m);
/* The serialized state of g into w (reset first). */
void state_of(const mls_group_t *g, veil_writer_t *w);
/* Same epoch, epoch_authenticator and exporter output. */
void assert_same_epoch(mls_group_t *a, mls_group_t *b);
/* mls_group_process; `res` may be NULL (then a successful result is freed here). */
int process(mls_group_t *g, const veil_writer_t *msg, mls_processed_t *res);

/* A (creator, leaf 0) and B, C (leaves 1, 2) added by one Commit, all at epoch 1. */
typedef struct trio {
  member_t a, b, c;
  veil_writer_t commit1;       /* the Commit that added B and C */
} trio_t;

void trio_setup(trio_t *t, uint16_t suite);
void trio_free(trio_t *t);

/* A credential validator (mls_credential_cb) refusing the basic identity "mallory". */
int reject_mallory(void *arg, const mls_credential_t *cred, veil_view_t key);

#endif
