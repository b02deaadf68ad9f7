/* veil — text checks for signaling. Contract in sig_text.h. */
#include "signaling/sig_text.h"

bool sig_json_depth_exceeds(const char *text, size_t len, int max_depth) {
  int depth = 0;
  bool in_str = false, esc = false;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (in_str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    if (c == '"') {
      in_str = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return true;
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  return false;
}

bool sig_text_ok(const char *s, size_t len, bool ident) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f)
      return false;
    if (ident && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                   c == '_' || c == '-' || c == ':' || c == '@'))
      return false;
  }
  return true;
}
