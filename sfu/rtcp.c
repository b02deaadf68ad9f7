/*
 * veil sfu — RTCP compound iteration (RFC 3550 §6.1, Appendix A.2; RFC 5506) and the
 * SR, RR, SDES and BYE parsers. Feedback messages live in rtcp_fb.c, encoders in
 * rtcp_write.c.
 */
#include "sfu/rtcp.h"

#include <string.h>

void sfu_rtcp_iter_init(sfu_rtcp_iter_t *it, const uint8_t *buf, size_t len) {
  memset(it, 0, sizeof(*it));
  veil_reader_init(&it->r, buf, len);
  it->start = buf;
}

static int iter_fail(sfu_rtcp_iter_t *it, int err) {
  if (!it->err)
    it->err = err;
  return it->err;
}

int sfu_rtcp_next(sfu_rtcp_iter_t *it, sfu_rtcp_pkt_t *p) {
  if (it->err)
    return it->err;
  if (veil_reader_remaining(&it->r) == 0)
    return 0;
  uint8_t b0, pt;
  uint16_t words;
  const uint8_t *pkt_start = it->r.p;
  veil_read_u8(&it->r, &b0);
  veil_read_u8(&it->r, &pt);
  veil_read_u16(&it->r, &words);
  if (it->r.err)
    return iter_fail(it, it->r.err);
  if ((b0 >> 6) != 2)
    return iter_fail(it, VEIL_ERTP_VERSION);
  /* §6.4.1: length in 32-bit words minus one, header included: it must fit exactly in
   * what is left of the datagram (a reader that trusted it would run past the end). */
  veil_view_t body;
  if (veil_read_bytes(&it->r, (size_t)words * 4, &body))
    return iter_fail(it, VEIL_ERTCP_LENGTH);
  memset(p, 0, sizeof(*p));
  p->type = pt;
  p->count = b0 & 0x1f;
  p->padding = (b0 >> 5) & 1;
  p->offset = (size_t)(pkt_start - it->start);
  p->raw.ptr = pkt_start;
  p->raw.len = 4 + body.len;
  if (p->padding) {
    /* A.2: only the last packet of a compound may be padded; the count includes itself
     * and cannot exceed the body. */
    if (veil_reader_remaining(&it->r) != 0)
      return iter_fail(it, VEIL_ERTP_PADDING);
    uint8_t pad = body.len ? body.ptr[body.len - 1] : 0;
    if (pad == 0 || pad > body.len)
      return iter_fail(it, VEIL_ERTP_PADDING);
    body.len -= pad;
  }
  p->body = body;
  it->n++;
  return 1;
}

int sfu_rtcp_validate(const uint8_t *buf, size_t len, int allow_reduced_size) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_pkt_t p;
  int rc;
  sfu_rtcp_iter_init(&it, buf, len);
  while ((rc = sfu_rtcp_next(&it, &p)) == 1) {
    /* §6.1: a compound starts with SR or RR; RFC 5506 §3.1 lifts that for reduced-size
     * RTCP. */
    if (it.n == 1 && !allow_reduced_size && p.type != SFU_RTCP_SR && p.type != SFU_RTCP_RR)
      return VEIL_ERTCP_COMPOUND;
  }
  if (rc < 0)
    return rc;
  return it.n ? 0 : VEIL_ERTCP_COMPOUND;
}

/* ---- SR / RR ------------------------------------------------------------------------ */
static int parse_report(const sfu_rtcp_pkt_t *p, int sr, sfu_rtcp_sr_t *out) {
  veil_reader_t r;
  memset(out, 0, sizeof(*out));
  if (p->type != (sr ? SFU_RTCP_SR : SFU_RTCP_RR))
    return VEIL_ERTCP_TYPE;
  veil_reader_init(&r, p->body.ptr, p->body.len);
  veil_read_u32(&r, &out->ssrc);
  if (sr) {
    veil_read_u64(&r, &out->ntp);
    veil_read_u32(&r, &out->rtp_ts);
    veil_read_u32(&r, &out->packet_count);
    veil_read_u32(&r, &out->octet_count);
  }
  out->n_blocks = p->count;
  veil_read_bytes(&r, (size_t)p->count * 24, &out->blocks);
  /* §6.4.1: profile-specific extensions may follow the report blocks. */
  veil_read_bytes(&r, veil_reader_remaining(&r), &out->ext);
  return r.err;
}

int sfu_rtcp_parse_sr(const sfu_rtcp_pkt_t *p, sfu_rtcp_sr_t *out) {
  return parse_report(p, 1, out);
}

int sfu_rtcp_parse_rr(const sfu_rtcp_pkt_t *p, sfu_rtcp_sr_t *out) {
  return parse_report(p, 0, out);
}

int sfu_rtcp_report_block(const sfu_rtcp_sr_t *sr, size_t i, sfu_rtcp_report_block_t *b) {
  if (i >= sr->n_blocks || sr->blocks.len < (i + 1) * 24)
    return VEIL_ERANGE;
  veil_reader_t r;
  uint32_t cum;
  veil_reader_init(&r, sr->blocks.ptr + i * 24, 24);
  veil_read_u32(&r, &b->ssrc);
  veil_read_u8(&r, &b->fraction_lost);
  veil_read_u24(&r, &cum);
  veil_read_u32(&r, &b->highest_seq);
  veil_read_u32(&r, &b->jitter);
  veil_read_u32(&r, &b->lsr);
  veil_read_u32(&r, &b->dlsr);
  /* §6.4.1: cumulative number of packets lost is a signed 24-bit integer. */
  b->cumulative_lost = (cum & 0x800000) ? (int32_t)cum - 0x1000000 : (int32_t)cum;
  return r.err;
}

/* ---- SDES --------------------------------------------------------------------------- */
int sfu_rtcp_sdes_init(sfu_rtcp_sdes_iter_t *it, const sfu_rtcp_pkt_t *p) {
  memset(it, 0, sizeof(*it));
  if (p->type != SFU_RTCP_SDES)
    return VEIL_ERTCP_TYPE;
  veil_reader_init(&it->r, p->body.ptr, p->body.len);
  it->base = p->body.ptr;
  it->chunks_left = p->count;
  return 0;
}

int sfu_rtcp_sdes_next(sfu_rtcp_sdes_iter_t *it, sfu_rtcp_sdes_item_t *item) {
  for (;;) {
    if (!it->in_chunk) {
      if (it->chunks_left == 0) {
        /* SC chunks and nothing else. */
        int rc = veil_reader_finish(&it->r);
        return rc == VEIL_ETRAILING ? VEIL_ERTCP_LENGTH : rc;
      }
      if (veil_read_u32(&it->r, &it->ssrc))
        return it->r.err;
      it->chunks_left--;
      it->in_chunk = 1;
    }
    uint8_t type, len;
    if (veil_read_u8(&it->r, &type))
      return it->r.err;
    if (type == 0) {
      /* §6.5: the item list ends with a null octet, then null octets up to the next
       * 32-bit boundary. */
      size_t off = (size_t)(it->r.p - it->base);
      size_t pad = (4 - (off & 3)) & 3;
      veil_view_t z;
      if (veil_read_bytes(&it->r, pad, &z))
        return it->r.err;
      for (size_t i = 0; i < z.len; i++)
        if (z.ptr[i] != 0)
          return VEIL_ERTCP_LENGTH;
      it->in_chunk = 0;
      continue;
    }
    if (veil_read_u8(&it->r, &len) || veil_read_bytes(&it->r, len, &item->value))
      return it->r.err;
    item->ssrc = it->ssrc;
    item->type = type;
    return 1;
  }
}

/* ---- BYE ---------------------------------------------------------------------------- */
int sfu_rtcp_parse_bye(const sfu_rtcp_pkt_t *p, sfu_rtcp_bye_t *out) {
  veil_reader_t r;
  memset(out, 0, sizeof(*out));
  if (p->type != SFU_RTCP_BYE)
    return VEIL_ERTCP_TYPE;
  veil_reader_init(&r, p->body.ptr, p->body.len);
  out->n_ssrc = p->count;
  veil_read_bytes(&r, (size_t)p->count * 4, &out->ssrcs);
  if (veil_reader_remaining(&r) > 0) {
    /* §6.6: optional length-prefixed reason, padded to 32 bits. */
    veil_read_vec(&r, VEIL_LEN_U8, 255, &out->reason);
    if (veil_reader_remaining(&r) > 3)
      return VEIL_ERTCP_LENGTH;
  }
  return r.err;
}

uint32_t sfu_rtcp_bye_ssrc(const sfu_rtcp_bye_t *b, size_t i) {
  if (i >= b->n_ssrc || b->ssrcs.len < (i + 1) * 4)
    return 0;
  const uint8_t *q = b->ssrcs.ptr + 4 * i;
  return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
}
