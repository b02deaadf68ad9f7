/* Fuzz target: the --token-file reader (load_tokens_open with a token file, then
 * load_tokens_get), clients/load/tokens.c. The input is written to a private temp file
 * (the reader takes a path). Invariants: the tokens are exactly the non-empty CR/LF-separated
 * lines before the first NUL, in order; a line over LOAD_TOKEN_MAX refuses the file; index
 * count is VEIL_ELIMIT; a token handed out has a `sub` of 1..LOAD_SUB_MAX bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/load/tokens.h"
#include "common/err.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 64 * 1024) return 0;
  if (!path[0]) snprintf(path, sizeof path, "/tmp/veil-fuzz-tokfile-%d", (int)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  size_t w = fwrite(data, 1, size, f);
  fclose(f);
  if (w != size) return 0;

  /* the oracle: lines as the reader should see them (text ends at the first NUL) */
  size_t tl = strnlen((const char *)data, size), nlines = 0, longest = 0;
  for (size_t i = 0; i < tl;) {
    size_t j = i;
    while (j < tl && data[j] != '\r' && data[j] != '\n') j++;
    if (j > i) nlines++, longest = j - i > longest ? j - i : longest;
    i = j + 1;
  }

  load_tokens_t *t = NULL;
  int rc = load_tokens_open(NULL, path, "room", &t);
  if (nlines == 0 || longest > LOAD_TOKEN_MAX) {
    if (rc == 0) abort(); /* empty file or an overlong line must be refused */
  } else {
    if (rc != 0 || load_tokens_count(t) != nlines) abort();
    uint32_t k = 0;
    for (size_t i = 0; i < tl && k < 8;) {
      size_t j = i;
      while (j < tl && data[j] != '\r' && data[j] != '\n') j++;
      if (j > i) {
        char *tok = NULL, sub[LOAD_SUB_MAX + 1];
        int g = load_tokens_get(t, k, 60, &tok, sub);
        if (g == 0) {
          if (strlen(tok) != j - i || memcmp(tok, data + i, j - i)) abort();
          size_t sl = strlen(sub);
          if (sl == 0 || sl > LOAD_SUB_MAX) abort();
          free(tok);
        } else if (g != VEIL_EDECODE) {
          abort();
        }
        k++;
      }
      i = j + 1;
    }
    char *tok = NULL, sub[LOAD_SUB_MAX + 1];
    if (load_tokens_get(t, (uint32_t)nlines, 60, &tok, sub) != VEIL_ELIMIT) abort();
  }
  load_tokens_free(t);
  return 0;
}
