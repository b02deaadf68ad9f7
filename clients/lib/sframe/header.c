/* veil — SFrame header codec (RFC 9605 §4.3). Contract in sframe.h. */
#include "clients/lib/sframe/sframe.h"

/* Bytes needed for the minimal big-endian encoding of v (1..8). */
static size_t uint_len(uint64_t v) {
  size_t n = 1;
  while (n < 8 && (v >> (8 * n)) != 0)
    n++;
  return n;
}

size_t sframe_header_size(uint64_t kid, uint64_t ctr) {
  return 1 + (kid < 8 ? 0 : uint_len(kid)) + (ctr < 8 ? 0 : uint_len(ctr));
}

/* Config byte (§4.3, Figure 3): X(1) K(3) Y(1) C(3). A value below 8 sits in K or C with
 * its flag clear; otherwise the flag is set and K or C holds the byte length minus one. */
int sframe_header_encode(veil_writer_t *w, uint64_t kid, uint64_t ctr) {
  size_t klen = kid < 8 ? 0 : uint_len(kid);
  size_t clen = ctr < 8 ? 0 : uint_len(ctr);
  uint8_t cfg = 0;
  cfg |= klen ? (uint8_t)(0x80 | ((klen - 1) << 4)) : (uint8_t)(kid << 4);
  cfg |= clen ? (uint8_t)(0x08 | (clen - 1)) : (uint8_t)ctr;
  veil_write_u8(w, cfg);
  if (klen)
    veil_write_uint(w, klen, kid);
  if (clen)
    veil_write_uint(w, clen, ctr);
  return w->err;
}

/* Reads an extended field of `len` bytes and insists it is the minimal form: a value below
 * 8 belongs in the config byte, and a longer field must not start with a zero byte. */
static int read_extended(veil_reader_t *r, size_t len, uint64_t *v) {
  int rc = veil_read_uint(r, len, v);
  if (rc)
    return rc;
  if (*v < 8 || uint_len(*v) != len)
    return veil_reader_fail(r, VEIL_ENONMINIMAL);
  return 0;
}

int sframe_header_decode(veil_reader_t *r, sframe_header_t *h) {
  uint8_t cfg;
  int rc = veil_read_u8(r, &cfg);
  if (rc)
    return rc;
  uint64_t k = (cfg >> 4) & 7, c = cfg & 7;
  if (cfg & 0x80) {
    rc = read_extended(r, (size_t)k + 1, &k);
    if (rc)
      return rc;
  }
  if (cfg & 0x08) {
    rc = read_extended(r, (size_t)c + 1, &c);
    if (rc)
      return rc;
  }
  h->kid = k;
  h->ctr = c;
  return 0;
}
