/*
 * RTP header + RFC 8285 extensions: parse, walk, find, rewrite a copy in place, and
 * re-serialize what was parsed (which must parse back to the same fields).
 */
#include <string.h>

#include "fuzz_sfu_common.h"
#include "sfu/rtp.h"

#define MAX_EXT 64

void fuzz_sfu_rtp(const uint8_t *data, size_t size) {
  sfu_rtp_hdr_t h;
  if (sfu_rtp_parse(data, size, &h) != 0)
    return;
  fuzz_check_view(h.payload, data, size);
  fuzz_check_view(h.ext, data, size);
  if (h.header_len + h.payload.len + h.pad_len != size)
    abort();
  sfu_rtp_ext_in_t ext[MAX_EXT];
  size_t n_ext = 0;
  sfu_rtp_ext_iter_t it;
  sfu_rtp_ext_elem_t e;
  int ext_ok = 0;
  if (sfu_rtp_ext_iter_init(&it, &h) == 0) {
    int rc;
    while ((rc = sfu_rtp_ext_next(&it, &e)) == 1) {
      fuzz_check_view(e.data, data, size);
      if (e.data.len && e.data.ptr != data + e.offset)
        abort();
      if (n_ext < MAX_EXT)
        ext[n_ext++] = (sfu_rtp_ext_in_t){e.id, e.data.ptr, e.data.len};
    }
    ext_ok = rc == 0 && n_ext < MAX_EXT;
  }
  /* Rewrite the first element of a private copy with its own bytes inverted. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    return;
  memcpy(copy, data, size);
  if (n_ext) {
    uint8_t val[256];
    for (size_t i = 0; i < ext[0].len; i++)
      val[i] = (uint8_t)~((const uint8_t *)ext[0].data)[i];
    sfu_rtp_hdr_t hc;
    if (sfu_rtp_parse(copy, size, &hc) != 0)
      abort();
    (void)sfu_rtp_ext_rewrite(copy, size, &hc, ext[0].id, val, ext[0].len);
  }
  (void)sfu_rtp_set_ssrc(copy, size, 1);
  (void)sfu_rtp_set_seq(copy, size, 2);
  if (memcmp(copy + h.header_len, data + h.header_len, size - h.header_len) != 0)
    abort(); /* header rewrites never touch the payload */
  free(copy);
  /* Re-serialize: the result must parse back to the same header fields and payload. */
  if (ext_ok || !h.extension) {
    sfu_rtp_write_params_t p = {.marker = h.marker, .payload_type = h.payload_type,
                                .seq = h.seq, .timestamp = h.timestamp, .ssrc = h.ssrc,
                                .csrc = h.csrc, .csrc_count = h.csrc_count,
                                .ext = ext, .n_ext = h.extension ? n_ext : 0,
                                .payload = h.payload, .pad_len = h.pad_len};
    veil_writer_t w;
    veil_writer_init_growable(&w, 0);
    if (sfu_rtp_write(&w, &p) == 0) {
      sfu_rtp_hdr_t g;
      if (sfu_rtp_parse(w.buf, w.len, &g) != 0 || g.ssrc != h.ssrc || g.seq != h.seq ||
          g.timestamp != h.timestamp || g.payload.len != h.payload.len ||
          (h.payload.len && memcmp(g.payload.ptr, h.payload.ptr, h.payload.len) != 0) ||
          sfu_rtp_ext_validate(&g) != 0)
        abort();
    }
    veil_writer_free(&w);
  }
}
