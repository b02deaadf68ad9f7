#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/load/tokens.h"
#include "common/err.h"
#include "common/vtime.h"
#include "signaling/sig_jwt.h"

static char keypath[64];

static sig_jwt_key_t *make_key(sig_jwt_alg_t alg) {
  sig_jwt_key_t *k;
  cr_assert_eq(sig_jwt_key_generate(alg, &k), 0);
  snprintf(keypath, sizeof keypath, "/tmp/veil-load-key-%d", (int)getpid());
  remove(keypath);
  cr_assert_eq(sig_jwt_key_save(k, keypath), 0);
  return k;
}

static void minted_tokens_verify(sig_jwt_alg_t alg) {
  sig_jwt_key_t *k = make_key(alg);
  load_tokens_t *t;
  cr_assert_eq(load_tokens_open(keypath, NULL, "room-a", &t), 0);
  char *tok, sub[LOAD_SUB_MAX + 1];
  cr_assert_eq(load_tokens_get(t, 7, 60, &tok, sub), 0);
  cr_assert_str_eq(sub, "load-7@veil-load.invalid");
  sig_claims_t c;
  cr_assert_eq(sig_jwt_verify(k, tok, strlen(tok), "room-a", veil_wall_seconds(), 0, &c), 0);
  cr_assert_str_eq(c.sub, sub);
  cr_assert(c.exp <= veil_wall_seconds() + 60);
  char sub2[LOAD_SUB_MAX + 1];
  cr_assert_eq(load_token_sub(tok, sub2), 0);
  cr_assert_str_eq(sub2, sub);
  free(tok);
  load_tokens_free(t);
  sig_jwt_key_free(k);
  remove(keypath);
}

Test(load_tokens, es256_minted_token_verifies_with_the_server_key) { minted_tokens_verify(SIG_JWT_ES256); }
Test(load_tokens, hs256_minted_token_verifies_with_the_server_key) { minted_tokens_verify(SIG_JWT_HS256); }

Test(load_tokens, token_file_with_too_few_lines_is_refused_per_participant) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/veil-load-tok-%d", (int)getpid());
  FILE *f = fopen(path, "w");
  /* header {"alg":"HS256"}, payload {"sub":"bob"} */
  fputs("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln\n\n", f);
  fclose(f);
  load_tokens_t *t;
  cr_assert_eq(load_tokens_open(NULL, path, "r", &t), 0);
  cr_assert_eq(load_tokens_count(t), 1, "blank lines are not tokens");
  char *tok, sub[LOAD_SUB_MAX + 1];
  cr_assert_eq(load_tokens_get(t, 0, 60, &tok, sub), 0);
  cr_assert_str_eq(sub, "bob");
  free(tok);
  cr_assert_eq(load_tokens_get(t, 1, 60, &tok, sub), VEIL_ELIMIT);
  load_tokens_free(t);
  remove(path);
}

Test(load_tokens, token_file_with_cr_only_line_ends_stays_in_bounds) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/veil-load-tokcr-%d", (int)getpid());
  FILE *f = fopen(path, "w");
  /* 1000 tokens separated by bare CR: one LF-counted slot, 1000 lines (the overflow was
   * 8 KB past an 8-byte block, so it corrupts the heap even without ASan) */
  for (int i = 0; i < 1000; i++) fputs("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln\r", f);
  fclose(f);
  load_tokens_t *t;
  cr_assert_eq(load_tokens_open(NULL, path, "r", &t), 0);
  cr_assert_eq(load_tokens_count(t), 1000);
  char *tok, sub[LOAD_SUB_MAX + 1];
  cr_assert_eq(load_tokens_get(t, 999, 60, &tok, sub), 0);
  cr_assert_str_eq(sub, "bob");
  free(tok);
  load_tokens_free(t);
  remove(path);
}

Test(load_tokens, sub_of_malformed_tokens_is_refused) {
  char sub[LOAD_SUB_MAX + 1];
  cr_assert_eq(load_token_sub("nodots", sub), VEIL_EDECODE);
  cr_assert_eq(load_token_sub("a.!!!.c", sub), VEIL_EDECODE);
  cr_assert_eq(load_token_sub("a.eyJ4IjoxfQ.c", sub), VEIL_EDECODE, "payload without sub");
}

Test(load_tokens, needs_exactly_one_source) {
  load_tokens_t *t;
  cr_assert_eq(load_tokens_open(NULL, NULL, "r", &t), VEIL_EINVAL);
  cr_assert_eq(load_tokens_open("a", "b", "r", &t), VEIL_EINVAL);
  cr_assert_eq(load_tokens_open("/nonexistent/key", NULL, "r", &t), VEIL_EIO);
}
