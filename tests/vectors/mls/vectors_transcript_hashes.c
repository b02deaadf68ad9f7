/*
 * RFC 9420 transcript-hashes vectors (§8.2): decode the Commit's AuthenticatedContent
 * with the codec, update the transcript from interim_transcript_hash_before, compare both
 * new hashes, and verify confirmation_tag = MAC(confirmation_key, confirmed_after).
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/transcript.h"
#include "mls_vec.h"

int main(void) {
  mv_t m;
  int rc = mv_open(&m, "transcript-hashes.json");
  if (rc)
    return rc;
  for (size_t i = 0; i < vj_size(m.root); i++) {
    const vj_t *tc = vj_at(m.root, i);
    const mls_suite_t *s = mv_suite(&m, tc, i);
    if (!s)
      continue;
    size_t kl, al, il, cl, jl;
    uint8_t *ck = mv_hex(&m, tc, "confirmation_key", &kl);
    uint8_t *acb = mv_hex(&m, tc, "authenticated_content", &al);
    uint8_t *ib = mv_hex(&m, tc, "interim_transcript_hash_before", &il);
    uint8_t *ca = mv_hex(&m, tc, "confirmed_transcript_hash_after", &cl);
    uint8_t *ia = mv_hex(&m, tc, "interim_transcript_hash_after", &jl);
    int ok = ck && acb && ib && ca && ia;
    mls_authenticated_content_t ac;
    veil_reader_t r;
    if (ok) {
      veil_reader_init(&r, acb, al);
      ok = mls_authenticated_content_decode(&r, &ac) == 0 && veil_reader_finish(&r) == 0;
    }
    tap_ok(ok, "transcript-hashes[%zu] suite %u AuthenticatedContent decodes", i, s->id);
    mls_transcript_t t;
    ok = ok && mls_transcript_set(&t, s, NULL, 0, ib, il) == 0 &&
         mls_transcript_update_confirmed(&t, ac.wire_format, &ac.content, ac.auth.signature) ==
             0 &&
         tap_bytes_eq("confirmed_transcript_hash_after", t.confirmed, t.confirmed_len, ca, cl);
    tap_ok(ok, "transcript-hashes[%zu] suite %u confirmed hash", i, s->id);
    int ok2 = ok && mls_mac_verify(s, ck, kl, t.confirmed, t.confirmed_len,
                                   ac.auth.confirmation_tag.ptr,
                                   ac.auth.confirmation_tag.len) == 0;
    tap_ok(ok2, "transcript-hashes[%zu] suite %u confirmation_tag verifies", i, s->id);
    int ok3 = ok && mls_transcript_set_interim(&t, ac.auth.confirmation_tag.ptr,
                                               ac.auth.confirmation_tag.len) == 0 &&
              tap_bytes_eq("interim_transcript_hash_after", t.interim, t.interim_len, ia, jl);
    tap_ok(ok3, "transcript-hashes[%zu] suite %u interim hash", i, s->id);
    /* The one-call path over the same content agrees. */
    mls_transcript_t u;
    int ok4 = ok && mls_transcript_set(&u, s, NULL, 0, ib, il) == 0 &&
              mls_transcript_update(&u, &ac) == 0 &&
              memcmp(&u.confirmed, &t.confirmed, s->nh) == 0 &&
              memcmp(&u.interim, &t.interim, s->nh) == 0;
    tap_ok(ok4, "transcript-hashes[%zu] suite %u mls_transcript_update agrees", i, s->id);
    mv_release(&m);
    mv_ran(&m, s);
  }
  return mv_finish(&m);
}
