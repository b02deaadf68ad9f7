/*
 * veil sfu — RTP header codec (RFC 3550 §5.1, §5.3.1) and RFC 8285 header extensions.
 */
#include "sfu/rtp.h"

#include <string.h>

int sfu_rtp_parse(const uint8_t *pkt, size_t len, sfu_rtp_hdr_t *h) {
  veil_reader_t r;
  uint8_t b0, b1;
  memset(h, 0, sizeof(*h));
  veil_reader_init(&r, pkt, len);
  veil_read_u8(&r, &b0);
  veil_read_u8(&r, &b1);
  veil_read_u16(&r, &h->seq);
  veil_read_u32(&r, &h->timestamp);
  veil_read_u32(&r, &h->ssrc);
  if (r.err)
    return r.err;
  if ((b0 >> 6) != 2)
    return VEIL_ERTP_VERSION;
  h->padding = (b0 >> 5) & 1;
  h->extension = (b0 >> 4) & 1;
  h->csrc_count = b0 & 0x0f;
  h->marker = b1 >> 7;
  h->payload_type = b1 & 0x7f;
  for (uint8_t i = 0; i < h->csrc_count; i++)
    veil_read_u32(&r, &h->csrc[i]);
  if (h->extension) {
    /* §5.3.1: 16-bit profile field, 16-bit length in 32-bit words (header excluded). */
    uint16_t words;
    veil_read_u16(&r, &h->ext_profile);
    veil_read_u16(&r, &words);
    h->ext_offset = (size_t)(r.p - pkt);
    veil_read_bytes(&r, (size_t)words * 4, &h->ext);
  }
  if (r.err)
    return r.err;
  h->header_len = (size_t)(r.p - pkt);
  size_t rest = len - h->header_len;
  if (h->padding) {
    /* §5.1: the last octet counts the padding octets, itself included. Zero is not a
     * valid count, and padding never reaches into the header. */
    uint8_t pad = pkt[len - 1];
    if (rest == 0 || pad == 0 || pad > rest)
      return VEIL_ERTP_PADDING;
    h->pad_len = pad;
    rest -= pad;
  }
  h->payload.ptr = pkt + h->header_len;
  h->payload.len = rest;
  return 0;
}

/* ---------------------------------------------------------------------------------------
 * RFC 8285 extensions
 */
int sfu_rtp_ext_iter_init(sfu_rtp_ext_iter_t *it, const sfu_rtp_hdr_t *h) {
  memset(it, 0, sizeof(*it));
  if (!h->extension)
    return VEIL_ENOTFOUND;
  if (h->ext_profile == SFU_RTP_EXT_ONE_BYTE)
    it->two_byte = 0;
  else if ((h->ext_profile & SFU_RTP_EXT_TWO_BYTE_MASK) == SFU_RTP_EXT_TWO_BYTE)
    it->two_byte = 1;
  else
    return VEIL_EUNSUPPORTED;
  veil_reader_init(&it->r, h->ext.ptr, h->ext.len);
  it->start = h->ext.ptr;
  it->base = h->ext_offset;
  return 0;
}

int sfu_rtp_ext_next(sfu_rtp_ext_iter_t *it, sfu_rtp_ext_elem_t *e) {
  while (!it->done && veil_reader_remaining(&it->r) > 0) {
    uint8_t b, id, l;
    size_t len;
    veil_read_u8(&it->r, &b);
    if (b == 0)
      continue; /* padding byte between or after elements (§4.2, §4.3) */
    if (!it->two_byte) {
      id = b >> 4;
      /* §4.2: ID 15 is reserved; processing stops there and the rest is ignored. */
      if (id == 15) {
        it->done = 1;
        return 0;
      }
      /* ID 0 with a non-zero length is not padding and not an element: malformed. */
      if (id == 0)
        return VEIL_ERTP_EXT;
      len = (size_t)(b & 0x0f) + 1;
    } else {
      id = b;
      if (veil_read_u8(&it->r, &l))
        return VEIL_ERTP_EXT;
      len = l;
    }
    e->id = id;
    if (veil_read_bytes(&it->r, len, &e->data))
      return VEIL_ERTP_EXT;
    e->offset = it->base + (size_t)(e->data.ptr - it->start);
    return 1;
  }
  return 0;
}

int sfu_rtp_ext_validate(const sfu_rtp_hdr_t *h) {
  sfu_rtp_ext_iter_t it;
  sfu_rtp_ext_elem_t e;
  int rc = sfu_rtp_ext_iter_init(&it, h);
  if (rc == VEIL_ENOTFOUND || rc == VEIL_EUNSUPPORTED)
    return 0; /* no RFC 8285 extension: nothing to validate */
  while ((rc = sfu_rtp_ext_next(&it, &e)) == 1)
    ;
  return rc;
}

int sfu_rtp_ext_find(const sfu_rtp_hdr_t *h, uint8_t id, sfu_rtp_ext_elem_t *out) {
  sfu_rtp_ext_iter_t it;
  sfu_rtp_ext_elem_t e;
  int rc = sfu_rtp_ext_iter_init(&it, h);
  if (rc == VEIL_EUNSUPPORTED)
    return VEIL_ENOTFOUND;
  if (rc)
    return rc;
  while ((rc = sfu_rtp_ext_next(&it, &e)) == 1) {
    if (e.id == id) {
      *out = e;
      return 0;
    }
  }
  return rc ? rc : VEIL_ENOTFOUND;
}

int sfu_rtp_ext_rewrite(uint8_t *pkt, size_t pkt_len, const sfu_rtp_hdr_t *h, uint8_t id,
                        const void *data, size_t len) {
  sfu_rtp_ext_elem_t e;
  int rc = sfu_rtp_ext_find(h, id, &e);
  if (rc)
    return rc;
  if (e.data.len != len)
    return VEIL_ERANGE;
  if (e.offset > pkt_len || pkt_len - e.offset < len || pkt + e.offset != e.data.ptr)
    return VEIL_EINVAL; /* `h` was not parsed from `pkt` */
  memcpy(pkt + e.offset, data, len);
  return 0;
}

/* ---------------------------------------------------------------------------------------
 * Serialization
 */
static int one_byte_ok(const sfu_rtp_write_params_t *p) {
  for (size_t i = 0; i < p->n_ext; i++)
    if (p->ext[i].id < 1 || p->ext[i].id > 14 || p->ext[i].len < 1 || p->ext[i].len > 16)
      return 0;
  return 1;
}

int sfu_rtp_write(veil_writer_t *w, const sfu_rtp_write_params_t *p) {
  static const uint8_t zeros[255];
  if (p->csrc_count > SFU_RTP_MAX_CSRC || p->payload_type > 127 ||
      (p->csrc_count && !p->csrc))
    return veil_writer_fail(w, VEIL_EINVAL);
  int one = one_byte_ok(p);
  size_t ext_size = 0;
  for (size_t i = 0; i < p->n_ext; i++) {
    if (!one && (p->ext[i].id == 0 || p->ext[i].len > 255))
      return veil_writer_fail(w, VEIL_EINVAL);
    ext_size += (one ? 1 : 2) + p->ext[i].len;
  }
  size_t ext_padded = (ext_size + 3) & ~(size_t)3;
  if (ext_padded / 4 > 0xffff)
    return veil_writer_fail(w, VEIL_ERANGE);
  uint8_t b0 = (uint8_t)(0x80 | (p->pad_len ? 0x20 : 0) | (p->n_ext ? 0x10 : 0) |
                         p->csrc_count);
  veil_write_u8(w, b0);
  veil_write_u8(w, (uint8_t)((p->marker ? 0x80 : 0) | p->payload_type));
  veil_write_u16(w, p->seq);
  veil_write_u32(w, p->timestamp);
  veil_write_u32(w, p->ssrc);
  for (uint8_t i = 0; i < p->csrc_count; i++)
    veil_write_u32(w, p->csrc[i]);
  if (p->n_ext) {
    veil_write_u16(w, one ? SFU_RTP_EXT_ONE_BYTE : SFU_RTP_EXT_TWO_BYTE);
    veil_write_u16(w, (uint16_t)(ext_padded / 4));
    for (size_t i = 0; i < p->n_ext; i++) {
      const sfu_rtp_ext_in_t *x = &p->ext[i];
      if (one) {
        veil_write_u8(w, (uint8_t)((x->id << 4) | (x->len - 1)));
      } else {
        veil_write_u8(w, x->id);
        veil_write_u8(w, (uint8_t)x->len);
      }
      veil_write_bytes(w, x->data, x->len);
    }
    veil_write_bytes(w, zeros, ext_padded - ext_size);
  }
  veil_write_bytes(w, p->payload.ptr, p->payload.len);
  if (p->pad_len) {
    veil_write_bytes(w, zeros, (size_t)p->pad_len - 1);
    veil_write_u8(w, p->pad_len);
  }
  return w->err;
}

/* In-place setters on the fixed header: the SFU rewrites a received packet per
 * subscriber without copying it. */
static int put_be(uint8_t *pkt, size_t len, size_t off, size_t n, uint32_t v) {
  if (len < SFU_RTP_FIXED_LEN)
    return VEIL_ETRUNC;
  for (size_t i = 0; i < n; i++)
    pkt[off + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  return 0;
}

int sfu_rtp_set_ssrc(uint8_t *pkt, size_t len, uint32_t ssrc) {
  return put_be(pkt, len, 8, 4, ssrc);
}
int sfu_rtp_set_seq(uint8_t *pkt, size_t len, uint16_t seq) {
  return put_be(pkt, len, 2, 2, seq);
}
int sfu_rtp_set_timestamp(uint8_t *pkt, size_t len, uint32_t ts) {
  return put_be(pkt, len, 4, 4, ts);
}
int sfu_rtp_set_payload_type(uint8_t *pkt, size_t len, uint8_t pt) {
  if (pt > 127)
    return VEIL_EINVAL;
  if (len < SFU_RTP_FIXED_LEN)
    return VEIL_ETRUNC;
  pkt[1] = (uint8_t)((pkt[1] & 0x80) | pt);
  return 0;
}
int sfu_rtp_set_marker(uint8_t *pkt, size_t len, int marker) {
  if (len < SFU_RTP_FIXED_LEN)
    return VEIL_ETRUNC;
  pkt[1] = (uint8_t)((pkt[1] & 0x7f) | (marker ? 0x80 : 0));
  return 0;
}
