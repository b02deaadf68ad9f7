/* veil — small text checks shared by the signaling parsers (tokens and messages). */
#ifndef VEIL_SIGNALING_SIG_TEXT_H
#define VEIL_SIGNALING_SIG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when the JSON text nests arrays/objects deeper than max_depth. A linear pre-scan
 * that understands strings and escapes, run before jansson so that a deeply nested
 * message costs O(n) and no recursion (jansson's own bound is 2048 levels). Text that is
 * not valid JSON may pass; the parser rejects it afterwards. */
bool sig_json_depth_exceeds(const char *text, size_t len, int max_depth);

/* True when s (len bytes, already valid UTF-8 from jansson) has no control characters
 * (U+0000..U+001F, U+007F). With `ident`, only [A-Za-z0-9._:@-] is allowed: room names
 * and ids that end up in logs and metrics labels. */
bool sig_text_ok(const char *s, size_t len, bool ident);

#endif
