/* veil — bounds-checked byte reader and writer. Contract in bytes.h. */
#include "common/bytes.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Reader
 */
void veil_reader_init(veil_reader_t *r, const void *buf, size_t len) {
  r->p = (const uint8_t *)buf;
  /* NULL + 0 is undefined behaviour in C: never form it. */
  r->end = buf ? r->p + len : r->p;
  r->err = 0;
}

int veil_reader_fail(veil_reader_t *r, int err) {
  if (r->err == 0)
    r->err = err;
  /* Once failed, a reader has nothing left: later reads can never touch memory. */
  r->p = r->end;
  return r->err;
}

int veil_reader_finish(veil_reader_t *r) {
  if (r->err)
    return r->err;
  if (r->p != r->end)
    return veil_reader_fail(r, VEIL_ETRAILING);
  return 0;
}

/* Returns a pointer to the next `n` bytes and advances, or NULL after recording an error. */
static const uint8_t *take(veil_reader_t *r, size_t n) {
  if (r->err)
    return NULL;
  if ((size_t)(r->end - r->p) < n) {
    veil_reader_fail(r, VEIL_ETRUNC);
    return NULL;
  }
  const uint8_t *p = r->p;
  r->p += n;
  return p;
}

int veil_read_uint(veil_reader_t *r, size_t nbytes, uint64_t *v) {
  if (nbytes == 0 || nbytes > 8)
    return veil_reader_fail(r, VEIL_EINVAL);
  const uint8_t *p = take(r, nbytes);
  if (!p)
    return r->err;
  uint64_t x = 0;
  for (size_t i = 0; i < nbytes; i++)
    x = (x << 8) | p[i];
  *v = x;
  return 0;
}

int veil_read_u8(veil_reader_t *r, uint8_t *v) {
  const uint8_t *p = take(r, 1);
  if (!p)
    return r->err;
  *v = p[0];
  return 0;
}

int veil_read_u16(veil_reader_t *r, uint16_t *v) {
  uint64_t x;
  int rc = veil_read_uint(r, 2, &x);
  if (rc == 0)
    *v = (uint16_t)x;
  return rc;
}

int veil_read_u24(veil_reader_t *r, uint32_t *v) {
  uint64_t x;
  int rc = veil_read_uint(r, 3, &x);
  if (rc == 0)
    *v = (uint32_t)x;
  return rc;
}

int veil_read_u32(veil_reader_t *r, uint32_t *v) {
  uint64_t x;
  int rc = veil_read_uint(r, 4, &x);
  if (rc == 0)
    *v = (uint32_t)x;
  return rc;
}

int veil_read_u64(veil_reader_t *r, uint64_t *v) { return veil_read_uint(r, 8, v); }

/* RFC 9000 §16: the two high bits of the first byte give the length 1, 2, 4 or 8. */
static int read_varint_any(veil_reader_t *r, uint64_t *v, size_t *width) {
  if (r->err)
    return r->err;
  if (r->p == r->end)
    return veil_reader_fail(r, VEIL_ETRUNC);
  size_t n = (size_t)1 << (r->p[0] >> 6);
  const uint8_t *p = take(r, n);
  if (!p)
    return r->err;
  uint64_t x = p[0] & 0x3f;
  for (size_t i = 1; i < n; i++)
    x = (x << 8) | p[i];
  *v = x;
  *width = n;
  return 0;
}

int veil_read_quic_varint(veil_reader_t *r, uint64_t *v) {
  size_t width = 0;
  return read_varint_any(r, v, &width);
}

int veil_read_varint(veil_reader_t *r, uint64_t *v) {
  /* Initialised: at -O3 GCC cannot see that a failed take() always leaves r->err set. */
  size_t width = 0;
  uint64_t x = 0;
  int rc = read_varint_any(r, &x, &width);
  if (rc)
    return rc;
  /* RFC 9420 §2.1.2: prefix 0b11 is invalid in MLS, and the encoding must be minimal. */
  if (width == 8)
    return veil_reader_fail(r, VEIL_EDECODE);
  if (veil_varint_size(x) != width)
    return veil_reader_fail(r, VEIL_ENONMINIMAL);
  *v = x;
  return 0;
}

int veil_read_bytes(veil_reader_t *r, size_t n, veil_view_t *out) {
  const uint8_t *p = take(r, n);
  if (!p)
    return r->err;
  out->ptr = p;
  out->len = n;
  return 0;
}

int veil_read_copy(veil_reader_t *r, void *out, size_t n) {
  const uint8_t *p = take(r, n);
  if (!p)
    return r->err;
  if (n)
    memcpy(out, p, n);
  return 0;
}

int veil_skip(veil_reader_t *r, size_t n) { return take(r, n) ? 0 : r->err; }

static int read_length(veil_reader_t *r, veil_len_prefix_t prefix, uint64_t *len) {
  switch (prefix) {
  case VEIL_LEN_VARINT:
    return veil_read_varint(r, len);
  case VEIL_LEN_U8:
  case VEIL_LEN_U16:
  case VEIL_LEN_U24:
  case VEIL_LEN_U32:
    return veil_read_uint(r, (size_t)prefix, len);
  }
  return veil_reader_fail(r, VEIL_EINVAL);
}

int veil_read_vec(veil_reader_t *r, veil_len_prefix_t prefix, size_t max, veil_view_t *out) {
  uint64_t len;
  int rc = read_length(r, prefix, &len);
  if (rc)
    return rc;
  /* Check the declared length against the caller's limit before anything else: a
   * declared length is a claim by the peer, not a fact. */
  if (len > max)
    return veil_reader_fail(r, VEIL_ELIMIT);
  return veil_read_bytes(r, (size_t)len, out);
}

int veil_reader_open_block(veil_reader_t *r, veil_len_prefix_t prefix, veil_reader_t *sub) {
  veil_view_t v;
  int rc = veil_read_vec(r, prefix, SIZE_MAX, &v);
  if (rc) {
    veil_reader_init(sub, NULL, 0);
    sub->err = rc;
    return rc;
  }
  veil_reader_init(sub, v.ptr, v.len);
  return 0;
}

int veil_reader_close_block(veil_reader_t *r, veil_reader_t *sub) {
  int rc = veil_reader_finish(sub);
  if (rc)
    return veil_reader_fail(r, rc);
  return r->err;
}

/* ---------------------------------------------------------------------------------------
 * Writer
 */
void veil_writer_init(veil_writer_t *w, void *buf, size_t cap) {
  w->buf = (uint8_t *)buf;
  w->len = 0;
  w->cap = buf ? cap : 0;
  w->err = 0;
  w->growable = 0;
}

void veil_writer_init_growable(veil_writer_t *w, size_t initial) {
  veil_writer_init(w, NULL, 0);
  w->growable = 1;
  if (initial) {
    w->buf = malloc(initial);
    if (w->buf)
      w->cap = initial;
    else
      w->err = VEIL_ENOMEM;
  }
}

void veil_writer_free(veil_writer_t *w) {
  if (w->growable && w->buf) {
    /* volatile stores so the wipe is not optimised away before free(). */
    volatile uint8_t *p = w->buf;
    for (size_t i = 0; i < w->cap; i++)
      p[i] = 0;
    free(w->buf);
  }
  w->buf = NULL;
  w->len = w->cap = 0;
}

uint8_t *veil_writer_steal(veil_writer_t *w, size_t *len) {
  uint8_t *b = w->buf;
  *len = w->len;
  w->buf = NULL;
  w->len = w->cap = 0;
  return b;
}

int veil_writer_fail(veil_writer_t *w, int err) {
  if (w->err == 0)
    w->err = err;
  return w->err;
}

uint8_t *veil_writer_reserve(veil_writer_t *w, size_t n) {
  if (w->err)
    return NULL;
  if (w->cap - w->len >= n) {
    /* An empty growable writer has no buffer yet: hand out a valid pointer for a zero-byte
     * reservation instead of forming NULL + 0 (undefined behaviour). */
    static uint8_t nothing;
    return w->buf ? w->buf + w->len : &nothing;
  }
  if (!w->growable) {
    veil_writer_fail(w, VEIL_EOVERFLOW);
    return NULL;
  }
  if (n > SIZE_MAX / 2 - w->len) {
    veil_writer_fail(w, VEIL_ENOMEM);
    return NULL;
  }
  size_t want = w->cap ? w->cap : 256;
  while (want - w->len < n)
    want *= 2;
  uint8_t *nb = malloc(want);
  if (!nb) {
    veil_writer_fail(w, VEIL_ENOMEM);
    return NULL;
  }
  /* Copy-and-wipe instead of realloc: the old buffer may hold secrets. */
  size_t len = w->len;
  if (len)
    memcpy(nb, w->buf, len);
  veil_writer_free(w);
  w->buf = nb;
  w->cap = want;
  w->len = len;
  return nb + len;
}

void veil_writer_advance(veil_writer_t *w, size_t n) {
  if (!w->err)
    w->len += n;
}

int veil_write_uint(veil_writer_t *w, size_t nbytes, uint64_t v) {
  if (nbytes == 0 || nbytes > 8)
    return veil_writer_fail(w, VEIL_EINVAL);
  if (nbytes < 8 && (v >> (8 * nbytes)) != 0)
    return veil_writer_fail(w, VEIL_ERANGE);
  uint8_t *p = veil_writer_reserve(w, nbytes);
  if (!p)
    return w->err;
  for (size_t i = 0; i < nbytes; i++)
    p[i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
  w->len += nbytes;
  return 0;
}

int veil_write_u8(veil_writer_t *w, uint8_t v) { return veil_write_uint(w, 1, v); }
int veil_write_u16(veil_writer_t *w, uint16_t v) { return veil_write_uint(w, 2, v); }
int veil_write_u24(veil_writer_t *w, uint32_t v) { return veil_write_uint(w, 3, v); }
int veil_write_u32(veil_writer_t *w, uint32_t v) { return veil_write_uint(w, 4, v); }
int veil_write_u64(veil_writer_t *w, uint64_t v) { return veil_write_uint(w, 8, v); }

size_t veil_varint_size(uint64_t v) {
  if (v < (UINT64_C(1) << 6))
    return 1;
  if (v < (UINT64_C(1) << 14))
    return 2;
  if (v < (UINT64_C(1) << 30))
    return 4;
  if (v <= VEIL_VARINT_MAX)
    return 8;
  return 0;
}

/* Encodes `v` in exactly `width` bytes (1, 2, 4 or 8) at p. */
static void put_varint(uint8_t *p, uint64_t v, size_t width) {
  static const uint8_t tag[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
  for (size_t i = 0; i < width; i++)
    p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
  p[0] |= tag[width];
}

int veil_write_quic_varint(veil_writer_t *w, uint64_t v) {
  size_t n = veil_varint_size(v);
  if (n == 0)
    return veil_writer_fail(w, VEIL_ERANGE);
  uint8_t *p = veil_writer_reserve(w, n);
  if (!p)
    return w->err;
  put_varint(p, v, n);
  w->len += n;
  return 0;
}

int veil_write_varint(veil_writer_t *w, uint64_t v) {
  if (v > VEIL_MLS_VARINT_MAX)
    return veil_writer_fail(w, VEIL_ERANGE);
  return veil_write_quic_varint(w, v);
}

int veil_write_bytes(veil_writer_t *w, const void *data, size_t len) {
  uint8_t *p = veil_writer_reserve(w, len);
  if (!p)
    return w->err;
  if (len)
    memcpy(p, data, len);
  w->len += len;
  return 0;
}

static int write_length(veil_writer_t *w, veil_len_prefix_t prefix, uint64_t len) {
  switch (prefix) {
  case VEIL_LEN_VARINT:
    return veil_write_varint(w, len);
  case VEIL_LEN_U8:
  case VEIL_LEN_U16:
  case VEIL_LEN_U24:
  case VEIL_LEN_U32:
    return veil_write_uint(w, (size_t)prefix, len);
  }
  return veil_writer_fail(w, VEIL_EINVAL);
}

int veil_write_vec(veil_writer_t *w, veil_len_prefix_t prefix, const void *data, size_t len) {
  int rc = write_length(w, prefix, len);
  if (rc)
    return rc;
  return veil_write_bytes(w, data, len);
}

int veil_writer_open_block(veil_writer_t *w, veil_len_prefix_t prefix, veil_wblock_t *b) {
  /* A varint prefix is reserved at its 4-byte maximum (MLS) and shrunk on close. */
  size_t width = prefix == VEIL_LEN_VARINT ? 4 : (size_t)prefix;
  b->start = w->len;
  b->width = (uint8_t)width;
  b->prefix = (uint8_t)prefix;
  uint8_t *p = veil_writer_reserve(w, width);
  if (!p)
    return w->err;
  memset(p, 0, width);
  w->len += width;
  return 0;
}

int veil_writer_close_block(veil_writer_t *w, const veil_wblock_t *b) {
  if (w->err)
    return w->err;
  if (b->start + b->width > w->len)
    return veil_writer_fail(w, VEIL_EINVAL);
  size_t content = w->len - b->start - b->width;
  uint8_t *at = w->buf + b->start;
  if (b->prefix == VEIL_LEN_VARINT) {
    if (content > VEIL_MLS_VARINT_MAX)
      return veil_writer_fail(w, VEIL_ERANGE);
    size_t need = veil_varint_size(content);
    if (need < b->width) {
      memmove(at + need, at + b->width, content);
      w->len -= b->width - need;
    }
    put_varint(at, content, need);
    return 0;
  }
  if (b->width < 8 && (content >> (8 * b->width)) != 0)
    return veil_writer_fail(w, VEIL_ERANGE);
  for (size_t i = 0; i < b->width; i++)
    at[i] = (uint8_t)(content >> (8 * (b->width - 1 - i)));
  return 0;
}
