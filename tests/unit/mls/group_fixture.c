/* Shared fixture of the MLS group tests (group_fixture.h). */
#include "tests/unit/mls/group_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

mls_identity_t basic_id(const char *name) {
  mls_identity_t id = {0};
  id.credential.type = MLS_CRED_BASIC;
  id.credential.identity = (veil_view_t){(const uint8_t *)name, strlen(name)};
  return id;
}

void make_kp(member_t *m, uint16_t suite, const char *name) {
  memset(m, 0, sizeof(*m));
  snprintf(m->name, sizeof(m->name), "%s", name);
  veil_writer_init_growable(&m->kpmsg, 0);
  mls_identity_t id = basic_id(m->name);
  cr_assert_eq(mls_keypackage_create(suite, &id, 0, &m->kpmsg, &m->kp), 0);
}

void member_free(member_t *m) {
  mls_group_free(m->g);
  mls_keypackage_priv_free(m->kp);
  veil_writer_free(&m->kpmsg);
}

void state_of(const mls_group_t *g, veil_writer_t *w) {
  w->len = 0;
  cr_assert_eq(mls_group_serialize(g, w), 0);
}

void assert_same_epoch(mls_group_t *a, mls_group_t *b) {
  cr_assert_eq(mls_group_epoch(a), mls_group_epoch(b));
  veil_view_t x = mls_group_epoch_authenticator(a), y = mls_group_epoch_authenticator(b);
  cr_assert_eq(x.len, y.len);
  cr_assert(memcmp(x.ptr, y.ptr, x.len) == 0, "epoch authenticators differ");
  uint8_t e1[32], e2[32];
  cr_assert_eq(mls_group_export(a, (const uint8_t *)"t", 1, NULL, 0, e1, 32), 0);
  cr_assert_eq(mls_group_export(b, (const uint8_t *)"t", 1, NULL, 0, e2, 32), 0);
  cr_assert(memcmp(e1, e2, 32) == 0, "exporter outputs differ");
}

int process(mls_group_t *g, const veil_writer_t *msg, mls_processed_t *res) {
  mls_processed_t tmp;
  int rc = mls_group_process(g, msg->buf, msg->len, res ? res : &tmp);
  if (!res && rc == 0)
    mls_processed_free(&tmp);
  return rc;
}

void trio_setup(trio_t *t, uint16_t suite) {
  memset(t, 0, sizeof(*t));
  mls_identity_t ida = basic_id("alice");
  cr_assert_eq(mls_group_create(suite, (const uint8_t *)"room-1", 6, &ida, NULL, &t->a.g), 0);
  make_kp(&t->b, suite, "bob");
  make_kp(&t->c, suite, "carol");
  veil_view_t kps[2] = {{t->b.kpmsg.buf, t->b.kpmsg.len}, {t->c.kpmsg.buf, t->c.kpmsg.len}};
  mls_commit_opts_t o = {.add_key_packages = kps, .n_add = 2, .inline_tree = 1};
  W(welcome);
  veil_writer_init_growable(&t->commit1, 0);
  cr_assert_eq(mls_group_commit(t->a.g, &o, &t->commit1, &welcome), 0);
  cr_assert_eq(process(t->a.g, &t->commit1, NULL), 0, "own commit echo merges");
  cr_assert_eq(mls_group_join(welcome.buf, welcome.len, t->b.kp, NULL, 0, NULL, &t->b.g), 0);
  cr_assert_eq(mls_group_join(welcome.buf, welcome.len, t->c.kp, NULL, 0, NULL, &t->c.g), 0);
  veil_writer_free(&welcome);
  assert_same_epoch(t->a.g, t->b.g);
  assert_same_epoch(t->a.g, t->c.g);
  cr_assert_eq(mls_group_member_count(t->a.g), 3);
}

void trio_free(trio_t *t) {
  member_free(&t->a);
  member_free(&t->b);
  member_free(&t->c);
  veil_writer_free(&t->commit1);
}

int reject_mallory(void *arg, const mls_credential_t *cred, veil_view_t key) {
  (void)arg;
  (void)key;
  return cred->identity.len == 7 && memcmp(cred->identity.ptr, "mallory", 7) == 0 ? -1 : 0;
}
