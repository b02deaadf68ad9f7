/* Fuzz target: load_token_sub (clients/load/tokens.c), the unverified `sub` of a line of a
 * --token-file (base64url JWT payload, then JSON). Invariants: an accepted `sub` is 1..128
 * bytes, NUL-terminated within the buffer, and the bytes after it are untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/load/tokens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* a token-file line: no NUL inside (strtok_r splits lines at CR/LF; strlen ends it) */
  if (size > 3 * LOAD_TOKEN_MAX) return 0;
  char *tok = malloc(size + 1);
  if (!tok) return 0;
  memcpy(tok, data, size);
  tok[size] = 0;
  struct {
    char sub[LOAD_SUB_MAX + 1];
    char guard[16];
  } out;
  memset(&out, 0x5a, sizeof out);
  int rc = load_token_sub(tok, out.sub);
  for (size_t i = 0; i < sizeof out.guard; i++)
    if (out.guard[i] != 0x5a) abort(); /* wrote past sub[LOAD_SUB_MAX] */
  if (rc == 0) {
    size_t n = strnlen(out.sub, sizeof out.sub);
    if (n == 0 || n > LOAD_SUB_MAX) abort();
    /* same answer twice: no hidden state */
    char again[LOAD_SUB_MAX + 1];
    if (load_token_sub(tok, again) != 0 || strcmp(again, out.sub) != 0) abort();
  } else {
    for (size_t i = 0; i < sizeof out.sub; i++)
      if ((unsigned char)out.sub[i] != 0x5a) abort(); /* a refused token leaves sub alone */
  }
  free(tok);
  return 0;
}
