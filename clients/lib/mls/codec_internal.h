/*
 * MLS codec internals shared by the codec_*.c files (not part of the public API).
 */
#ifndef VEIL_CLIENTS_MLS_CODEC_INTERNAL_H
#define VEIL_CLIENTS_MLS_CODEC_INTERNAL_H

#include "clients/lib/mls/codec.h"

/* Opens a vector<V> of structures: `sub` reads its content, out->raw is set and
 * out->count reset; the caller decodes elements (counting them) and then calls
 * mls_list_close, which requires exact consumption. */
int mls_list_open(veil_reader_t *r, veil_reader_t *sub, mls_list_t *out);
int mls_list_close(veil_reader_t *r, veil_reader_t *sub);
/* A vector of `width`-byte integers (uint16/uint32 lists). */
int mls_read_int_list(veil_reader_t *r, size_t width, mls_list_t *out);

/* Decodes a whole list with an element decoder into a scratch element, counting. */
#define MLS_DECODE_LIST(r, list, elem_t, decode_fn)                                        \
  do {                                                                                     \
    veil_reader_t sub_;                                                                    \
    if (mls_list_open((r), &sub_, (list)) == 0) {                                          \
      while (veil_reader_remaining(&sub_)) {                                               \
        elem_t e_;                                                                         \
        if (decode_fn(&sub_, &e_))                                                         \
          break;                                                                           \
        (list)->count++;                                                                   \
      }                                                                                    \
      mls_list_close((r), &sub_);                                                          \
    }                                                                                      \
  } while (0)

#endif
