/*
 * RFC 9420 deserialization vectors (§2.1.2): each vlbytes_header is a variable-size
 * vector length header; decode it (minimal encoding required) and compare the length.
 */
#include <stdlib.h>

#include "common/bytes.h"
#include "vjson.h"

int main(void) {
  char path[4096];
  if (!vj_vector_path("mls/deserialization.json", path, sizeof path))
    return tap_skip_all("MLS vectors folder absent");
  vj_t *root = vj_parse_file(path);
  size_t ran = 0;
  for (size_t i = 0; root && i < vj_size(root); i++) {
    const vj_t *tc = vj_at(root, i);
    size_t len;
    int okw;
    uint8_t *hdr = vj_hex(tc, "vlbytes_header", &len);
    uint64_t want = vj_u64(tc, "length", &okw), got = 0;
    veil_reader_t r;
    veil_reader_init(&r, hdr, len);
    /* The header alone must decode to exactly the length, with nothing left over. */
    int ok = hdr && okw && veil_read_varint(&r, &got) == 0 && veil_reader_finish(&r) == 0 &&
             got == want;
    tap_ok(ok, "deserialization[%zu]: header %s -> %llu", i, vj_str(tc, "vlbytes_header"),
           (unsigned long long)want);
    free(hdr);
    ran++;
  }
  tap_diag("deserialization.json (no cipher suite): ran %zu, skipped 0", ran);
  tap_ok(root && ran == vj_size(root) && ran > 0, "deserialization.json: every test case ran");
  vj_free(root);
  return tap_done();
}
