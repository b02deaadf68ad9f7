/*
 * Fuzz target: the common codec. Interprets the input as a small program of reads driven by
 * its own bytes (every reader entry point, nested blocks), then checks the round trip: every
 * value read successfully is written back with the matching writer call, and the bytes
 * written must equal the bytes consumed (minimal varints and exact blocks make the codec a
 * bijection on what it accepts).
 */
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"

#define TRAP() __builtin_trap()

static void walk(veil_reader_t *r, veil_writer_t *w, int depth) {
  while (veil_reader_remaining(r) > 0 && !r->err) {
    uint8_t op;
    if (veil_read_u8(r, &op))
      return;
    veil_write_u8(w, op);
    switch (op % 10) {
    case 0: { uint8_t v; if (!veil_read_u8(r, &v)) veil_write_u8(w, v); break; }
    case 1: { uint16_t v; if (!veil_read_u16(r, &v)) veil_write_u16(w, v); break; }
    case 2: { uint32_t v; if (!veil_read_u24(r, &v)) veil_write_u24(w, v); break; }
    case 3: { uint32_t v; if (!veil_read_u32(r, &v)) veil_write_u32(w, v); break; }
    case 4: { uint64_t v; if (!veil_read_u64(r, &v)) veil_write_u64(w, v); break; }
    case 5: { uint64_t v; if (!veil_read_varint(r, &v)) veil_write_varint(w, v); break; }
    case 6: {
      veil_view_t v;
      veil_len_prefix_t p = (veil_len_prefix_t)((op >> 4) % 5);
      if (!veil_read_vec(r, p, 4096, &v)) {
        veil_write_vec(w, p, v.ptr, v.len);
        if (v.len > 4096)
          TRAP();
      }
      break;
    }
    case 7: {
      if (depth > 8)
        return;
      veil_reader_t sub;
      veil_wblock_t b;
      veil_len_prefix_t p = (veil_len_prefix_t)((op >> 4) % 5);
      if (veil_reader_open_block(r, p, &sub))
        return;
      veil_writer_open_block(w, p, &b);
      walk(&sub, w, depth + 1);
      if (veil_reader_close_block(r, &sub))
        return;
      veil_writer_close_block(w, &b);
      break;
    }
    case 8: {
      /* QUIC allows non-minimal forms: copy the raw bytes back, and check that the
       * minimal re-encoding decodes to the same value. */
      const uint8_t *start = r->p;
      uint64_t v, v2;
      if (veil_read_quic_varint(r, &v))
        return;
      veil_write_bytes(w, start, (size_t)(r->p - start));
      uint8_t tmp[8];
      veil_writer_t tw;
      veil_reader_t tr;
      veil_writer_init(&tw, tmp, sizeof tmp);
      if (veil_write_quic_varint(&tw, v))
        TRAP();
      veil_reader_init(&tr, tmp, tw.len);
      if (veil_read_quic_varint(&tr, &v2) || v2 != v || veil_reader_finish(&tr))
        TRAP();
      break;
    }
    default: { veil_view_t v; if (!veil_read_bytes(r, op >> 5, &v)) veil_write_bytes(w, v.ptr, v.len); break; }
    }
    if (r->err)
      return;
    if (r->p > r->end)
      TRAP();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  veil_reader_t r;
  veil_writer_t w;
  veil_reader_init(&r, data, size);
  veil_writer_init_growable(&w, 0);
  walk(&r, &w, 0);
  if (r.err == 0) {
    /* Accepted in full: re-encoding must reproduce the input exactly. */
    if (w.err || w.len != size || (size && memcmp(w.buf, data, size) != 0))
      TRAP();
  }
  veil_writer_free(&w);
  return 0;
}
