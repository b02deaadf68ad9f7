/*
 * RFC 9420 welcome vectors (§12.4.3.1): join from the Welcome with the KeyPackage's
 * init_priv (GroupSecrets decryption, GroupInfo decryption, key schedule, confirmation
 * tag), verify the GroupInfo signature with signer_pub; then re-create a Welcome for the
 * same KeyPackage from what was recovered and join it again (same epoch), and check that
 * a Welcome for another KeyPackage reference or with a flipped bit is refused.
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/welcome.h"
#include "mls_vec.h"

static void check_case(mv_t *m, const mls_suite_t *s, const vj_t *tc, size_t i) {
  size_t pl, kl, sl, wl;
  uint8_t *init_priv = mv_hex(m, tc, "init_priv", &pl), *kpb = mv_hex(m, tc, "key_package", &kl);
  uint8_t *signer = mv_hex(m, tc, "signer_pub", &sl), *wb = mv_hex(m, tc, "welcome", &wl);
  mls_message_t kpm, wm;
  uint8_t ref[MLS_HASH_MAX];
  /* The KeyPackage inside the MLSMessage starts after version and wire_format. */
  int ok = init_priv && kpb && signer && wb && mls_message_parse(kpb, kl, &kpm) == 0 &&
           kpm.wire_format == MLS_WF_KEY_PACKAGE && mls_message_parse(wb, wl, &wm) == 0 &&
           wm.wire_format == MLS_WF_WELCOME &&
           mls_make_key_package_ref(s, kpb + 4, kl - 4, ref) == 0;
  tap_ok(ok, "welcome[%zu] suite %u inputs decode", i, s->id);
  if (!ok)
    return;
  mls_welcome_join_t j, j2;
  ok = mls_welcome_join(s, &wm.u.welcome, ref, s->nh, init_priv, NULL, NULL, &j) == 0;
  tap_ok(ok, "welcome[%zu] suite %u join (secrets, GroupInfo, confirmation tag)", i, s->id);
  if (!ok)
    return;
  tap_ok(mls_group_info_verify(s, &j.group_info, signer, sl) == 0,
         "welcome[%zu] suite %u GroupInfo signature", i, s->id);

  /* Re-create for the same KeyPackage and join again: the same epoch must result. */
  veil_writer_t out;
  veil_writer_init_growable(&out, 0);
  mls_welcome_member_t mem = {.key_package_ref = {ref, s->nh},
                              .init_key = kpm.u.key_package.init_key,
                              .path_secret = j.group_secrets.path_secret};
  mls_message_t wm2;
  int ok2 = mls_welcome_create(s, j.info_plain.buf, j.info_plain.len,
                               j.group_secrets.joiner_secret.ptr, NULL, &j.group_secrets.psks,
                               &mem, 1, &out) == 0 &&
            mls_message_parse(out.buf, out.len, &wm2) == 0 &&
            mls_welcome_join(s, &wm2.u.welcome, ref, s->nh, init_priv, NULL, NULL, &j2) == 0;
  if (ok2) {
    ok2 = memcmp(&j.epoch, &j2.epoch, sizeof(j.epoch)) == 0 &&
          j2.group_secrets.has_path_secret == j.group_secrets.has_path_secret &&
          tap_bytes_eq("group info", j2.info_plain.buf, j2.info_plain.len, j.info_plain.buf,
                       j.info_plain.len);
    mls_welcome_join_free(&j2);
  }
  tap_ok(ok2, "welcome[%zu] suite %u fresh Welcome round trip", i, s->id);

  /* Refusals: another reference, a flipped bit in the encrypted GroupInfo. */
  uint8_t other[MLS_HASH_MAX];
  memcpy(other, ref, s->nh);
  other[0] ^= 1;
  int r1 = mls_welcome_join(s, &wm.u.welcome, other, s->nh, init_priv, NULL, NULL, &j2);
  tap_ok(r1 == VEIL_ENOTFOUND, "welcome[%zu] suite %u unknown KeyPackage ref refused", i, s->id);
  uint8_t *egi = (uint8_t *)wm.u.welcome.encrypted_group_info.ptr;
  egi[wm.u.welcome.encrypted_group_info.len - 1] ^= 1;
  int r2 = mls_welcome_join(s, &wm.u.welcome, ref, s->nh, init_priv, NULL, NULL, &j2);
  tap_ok(r2 == VEIL_EAUTH, "welcome[%zu] suite %u tampered Welcome refused (%d)", i, s->id, r2);
  veil_writer_free(&out);
  mls_welcome_join_free(&j);
}

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "welcome.json");
  if (rc)
    return rc;
  for (size_t i = 0; i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    check_case(&m, s, tc, i);
    mv_release(&m);
    mv_ran(&m, s);
  }
  return mv_finish(&m);
}
