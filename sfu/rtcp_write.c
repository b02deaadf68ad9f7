/*
 * veil sfu — RTCP encoders (RR, PLI, FIR, generic NACK, REMB) and in-place SR
 * translation. Each encoder appends one packet to a veil_writer_t; several calls build a
 * compound.
 */
#include "sfu/rtcp.h"

#include <string.h>

/* Writes the common header with a placeholder length; returns the packet start. */
static size_t begin(veil_writer_t *w, uint8_t count, uint8_t type) {
  size_t start = w->len;
  veil_write_u8(w, (uint8_t)(0x80 | (count & 0x1f)));
  veil_write_u8(w, type);
  veil_write_u16(w, 0);
  return start;
}

/* §6.4.1: length = size in 32-bit words minus one. Every encoder here writes whole
 * words, so no padding is ever needed. */
static int end(veil_writer_t *w, size_t start) {
  if (w->err)
    return w->err;
  size_t n = w->len - start;
  if (n % 4 != 0 || n / 4 - 1 > 0xffff)
    return veil_writer_fail(w, VEIL_ERANGE);
  size_t words = n / 4 - 1;
  w->buf[start + 2] = (uint8_t)(words >> 8);
  w->buf[start + 3] = (uint8_t)words;
  return 0;
}

int sfu_rtcp_write_rr(veil_writer_t *w, uint32_t sender_ssrc,
                      const sfu_rtcp_report_block_t *blocks, size_t n_blocks) {
  if (n_blocks > 31)
    return veil_writer_fail(w, VEIL_EINVAL);
  size_t start = begin(w, (uint8_t)n_blocks, SFU_RTCP_RR);
  veil_write_u32(w, sender_ssrc);
  for (size_t i = 0; i < n_blocks; i++) {
    const sfu_rtcp_report_block_t *b = &blocks[i];
    int32_t cl = b->cumulative_lost;
    /* Clamp to the signed 24-bit range of §6.4.1. */
    if (cl > 0x7fffff)
      cl = 0x7fffff;
    if (cl < -0x800000)
      cl = -0x800000;
    veil_write_u32(w, b->ssrc);
    veil_write_u8(w, b->fraction_lost);
    veil_write_u24(w, (uint32_t)cl & 0xffffff);
    veil_write_u32(w, b->highest_seq);
    veil_write_u32(w, b->jitter);
    veil_write_u32(w, b->lsr);
    veil_write_u32(w, b->dlsr);
  }
  return end(w, start);
}

int sfu_rtcp_write_pli(veil_writer_t *w, uint32_t sender_ssrc, uint32_t media_ssrc) {
  size_t start = begin(w, SFU_RTCP_FMT_PLI, SFU_RTCP_PSFB);
  veil_write_u32(w, sender_ssrc);
  veil_write_u32(w, media_ssrc);
  return end(w, start);
}

int sfu_rtcp_write_fir(veil_writer_t *w, uint32_t sender_ssrc,
                       const sfu_rtcp_fir_entry_t *entries, size_t n) {
  if (n == 0 || n > 8000)
    return veil_writer_fail(w, VEIL_EINVAL);
  size_t start = begin(w, SFU_RTCP_FMT_FIR, SFU_RTCP_PSFB);
  veil_write_u32(w, sender_ssrc);
  veil_write_u32(w, 0); /* RFC 5104 §4.3.1.2: media source SSRC unused, 0 */
  for (size_t i = 0; i < n; i++) {
    veil_write_u32(w, entries[i].ssrc);
    veil_write_u8(w, entries[i].seq_nr);
    veil_write_u24(w, 0);
  }
  return end(w, start);
}

int sfu_rtcp_write_nack(veil_writer_t *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                        const uint16_t *seqs, size_t n) {
  if (n == 0 || n > 16000)
    return veil_writer_fail(w, VEIL_EINVAL);
  size_t start = begin(w, SFU_RTCP_FMT_NACK, SFU_RTCP_RTPFB);
  veil_write_u32(w, sender_ssrc);
  veil_write_u32(w, media_ssrc);
  uint16_t pid = seqs[0], blp = 0;
  for (size_t i = 1; i < n; i++) {
    uint16_t d = (uint16_t)(seqs[i] - pid);
    if (d == 0)
      continue; /* duplicate of PID */
    if (d <= 16) {
      blp |= (uint16_t)(1u << (d - 1));
      continue;
    }
    veil_write_u16(w, pid);
    veil_write_u16(w, blp);
    pid = seqs[i];
    blp = 0;
  }
  veil_write_u16(w, pid);
  veil_write_u16(w, blp);
  return end(w, start);
}

int sfu_rtcp_write_remb(veil_writer_t *w, uint32_t sender_ssrc, uint64_t bitrate_bps,
                        const uint32_t *ssrcs, size_t n) {
  if (n > 255)
    return veil_writer_fail(w, VEIL_EINVAL);
  /* 18-bit mantissa, 6-bit exponent: the smallest exponent that fits, rounding down. */
  unsigned exp = 0;
  while ((bitrate_bps >> exp) > 0x3ffff)
    exp++;
  uint32_t field = ((uint32_t)exp << 18) | (uint32_t)(bitrate_bps >> exp);
  size_t start = begin(w, SFU_RTCP_FMT_AFB, SFU_RTCP_PSFB);
  veil_write_u32(w, sender_ssrc);
  veil_write_u32(w, 0);
  veil_write_bytes(w, "REMB", 4);
  veil_write_u8(w, (uint8_t)n);
  veil_write_u24(w, field);
  for (size_t i = 0; i < n; i++)
    veil_write_u32(w, ssrcs[i]);
  return end(w, start);
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* `p` must describe bytes inside `buf` (an iterator over buf produced it). */
static int check_in(const uint8_t *buf, size_t len, const sfu_rtcp_pkt_t *p, size_t need) {
  if (p->offset > len || p->raw.ptr != buf + p->offset || len - p->offset < p->raw.len)
    return VEIL_EINVAL;
  return need <= p->raw.len ? 0 : VEIL_ETRUNC;
}

int sfu_rtcp_sr_rewrite(uint8_t *buf, size_t len, const sfu_rtcp_pkt_t *p, uint32_t ssrc,
                        uint64_t ntp, uint32_t rtp_ts) {
  if (p->type != SFU_RTCP_SR)
    return VEIL_ERTCP_TYPE;
  int rc = check_in(buf, len, p, 4 + 24);
  if (rc)
    return rc;
  uint8_t *q = buf + p->offset;
  put32(q + 4, ssrc);
  put32(q + 8, (uint32_t)(ntp >> 32));
  put32(q + 12, (uint32_t)ntp);
  put32(q + 16, rtp_ts);
  return 0;
}

int sfu_rtcp_report_block_set_ssrc(uint8_t *buf, size_t len, const sfu_rtcp_pkt_t *p,
                                   size_t i, uint32_t ssrc) {
  size_t base;
  if (p->type == SFU_RTCP_SR)
    base = 4 + 24;
  else if (p->type == SFU_RTCP_RR)
    base = 4 + 4;
  else
    return VEIL_ERTCP_TYPE;
  if (i >= p->count)
    return VEIL_ERANGE;
  int rc = check_in(buf, len, p, base + 24 * (i + 1));
  if (rc)
    return rc;
  put32(buf + p->offset + base + 24 * i, ssrc);
  return 0;
}
