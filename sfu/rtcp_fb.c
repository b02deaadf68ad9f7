/*
 * veil sfu — RTCP feedback parsers: the RFC 4585 common header, generic NACK, PLI,
 * FIR (RFC 5104), REMB and transport-wide CC feedback.
 */
#include "sfu/rtcp.h"

#include <string.h>

int sfu_rtcp_parse_fb(const sfu_rtcp_pkt_t *p, sfu_rtcp_fb_t *out) {
  veil_reader_t r;
  memset(out, 0, sizeof(*out));
  if (p->type != SFU_RTCP_RTPFB && p->type != SFU_RTCP_PSFB)
    return VEIL_ERTCP_TYPE;
  veil_reader_init(&r, p->body.ptr, p->body.len);
  out->type = p->type;
  out->fmt = p->count;
  /* RFC 4585 §6.1: packet sender SSRC, media source SSRC, then the FCI. */
  veil_read_u32(&r, &out->sender_ssrc);
  veil_read_u32(&r, &out->media_ssrc);
  veil_read_bytes(&r, veil_reader_remaining(&r), &out->fci);
  return r.err;
}

/* ---- Generic NACK (RFC 4585 §6.2.1) ------------------------------------------------- */
int sfu_rtcp_nack_init(sfu_rtcp_nack_iter_t *it, const sfu_rtcp_fb_t *fb) {
  memset(it, 0, sizeof(*it));
  if (fb->type != SFU_RTCP_RTPFB || fb->fmt != SFU_RTCP_FMT_NACK)
    return VEIL_ERTCP_TYPE;
  /* At least one (PID, BLP) pair, and only whole pairs. */
  if (fb->fci.len == 0 || fb->fci.len % 4 != 0)
    return VEIL_ETRUNC;
  veil_reader_init(&it->r, fb->fci.ptr, fb->fci.len);
  it->bit = -1;
  return 0;
}

int sfu_rtcp_nack_next(sfu_rtcp_nack_iter_t *it, uint16_t *seq) {
  for (;;) {
    if (it->bit < 0) {
      if (veil_reader_remaining(&it->r) == 0)
        return it->r.err;
      veil_read_u16(&it->r, &it->pid);
      veil_read_u16(&it->r, &it->blp);
      if (it->r.err)
        return it->r.err;
      it->bit = 0;
      *seq = it->pid;
      return 1;
    }
    /* BLP bit i reports the loss of PID + i + 1 (modulo 2^16). */
    while (it->bit < 16) {
      int b = it->bit++;
      if ((it->blp >> b) & 1) {
        *seq = (uint16_t)(it->pid + b + 1);
        return 1;
      }
    }
    it->bit = -1;
  }
}

/* ---- PLI, FIR ----------------------------------------------------------------------- */
int sfu_rtcp_check_pli(const sfu_rtcp_fb_t *fb) {
  if (fb->type != SFU_RTCP_PSFB || fb->fmt != SFU_RTCP_FMT_PLI)
    return VEIL_ERTCP_TYPE;
  return fb->fci.len == 0 ? 0 : VEIL_ERTCP_LENGTH;
}

int sfu_rtcp_fir_count(const sfu_rtcp_fb_t *fb, size_t *n) {
  if (fb->type != SFU_RTCP_PSFB || fb->fmt != SFU_RTCP_FMT_FIR)
    return VEIL_ERTCP_TYPE;
  if (fb->fci.len == 0)
    return VEIL_ETRUNC;
  if (fb->fci.len % 8 != 0)
    return VEIL_ERTCP_LENGTH;
  *n = fb->fci.len / 8;
  return 0;
}

int sfu_rtcp_fir_entry(const sfu_rtcp_fb_t *fb, size_t i, sfu_rtcp_fir_entry_t *e) {
  size_t n;
  int rc = sfu_rtcp_fir_count(fb, &n);
  if (rc)
    return rc;
  if (i >= n)
    return VEIL_ERANGE;
  veil_reader_t r;
  veil_reader_init(&r, fb->fci.ptr + 8 * i, 8);
  veil_read_u32(&r, &e->ssrc);
  veil_read_u8(&r, &e->seq_nr);
  return r.err; /* the 24 reserved bits are ignored (RFC 5104 §4.3.1.1) */
}

/* ---- REMB (draft-alvestrand-rmcat-remb-03 §2.2) ------------------------------------- */
int sfu_rtcp_parse_remb(const sfu_rtcp_fb_t *fb, sfu_rtcp_remb_t *out) {
  memset(out, 0, sizeof(*out));
  if (fb->type != SFU_RTCP_PSFB || fb->fmt != SFU_RTCP_FMT_AFB)
    return VEIL_ERTCP_TYPE;
  veil_reader_t r;
  veil_view_t id;
  uint32_t br;
  veil_reader_init(&r, fb->fci.ptr, fb->fci.len);
  if (veil_read_bytes(&r, 4, &id) || memcmp(id.ptr, "REMB", 4) != 0)
    return VEIL_ENOTFOUND;
  veil_read_u8(&r, &out->n_ssrc);
  veil_read_u24(&r, &br);
  veil_read_bytes(&r, (size_t)out->n_ssrc * 4, &out->ssrcs);
  int rc = veil_reader_finish(&r);
  if (rc)
    return rc == VEIL_ETRAILING ? VEIL_ERTCP_LENGTH : rc;
  uint64_t mantissa = br & 0x3ffff;
  unsigned exp = br >> 18;
  /* mantissa < 2^18, exp <= 63: saturate rather than shift bits out. */
  if (mantissa && exp > 63 - 18 && (mantissa >> (64 - exp)) != 0)
    out->bitrate_bps = UINT64_MAX;
  else
    out->bitrate_bps = mantissa << exp;
  return 0;
}

/* ---- Transport-wide CC (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) ----- */

/* Loads the next chunk: how many statuses it covers (bounded by `left`). A run-length
 * chunk of length 0 covers nothing and is skipped by the caller. */
static int load_chunk(veil_reader_t *r, uint16_t left, uint16_t *chunk, uint16_t *count) {
  if (veil_read_u16(r, chunk))
    return r->err;
  uint16_t cap;
  if (!(*chunk & 0x8000))
    cap = *chunk & 0x1fff;          /* run length chunk: 13-bit run */
  else if (!(*chunk & 0x4000))
    cap = 14;                       /* status vector, 14 one-bit symbols */
  else
    cap = 7;                        /* status vector, 7 two-bit symbols */
  *count = cap < left ? cap : left;
  return 0;
}

static uint8_t chunk_symbol(uint16_t chunk, uint16_t pos) {
  if (!(chunk & 0x8000))
    return (chunk >> 13) & 3;
  if (!(chunk & 0x4000))
    return (chunk >> (13 - pos)) & 1;
  return (chunk >> (12 - 2 * pos)) & 3;
}

int sfu_rtcp_parse_tcc(const sfu_rtcp_fb_t *fb, sfu_rtcp_tcc_t *out) {
  memset(out, 0, sizeof(*out));
  if (fb->type != SFU_RTCP_RTPFB || fb->fmt != SFU_RTCP_FMT_TCC)
    return VEIL_ERTCP_TYPE;
  veil_reader_t r;
  uint32_t ref;
  veil_reader_init(&r, fb->fci.ptr, fb->fci.len);
  veil_read_u16(&r, &out->base_seq);
  veil_read_u16(&r, &out->status_count);
  veil_read_u24(&r, &ref);
  veil_read_u8(&r, &out->fb_count);
  if (r.err)
    return r.err;
  if (out->status_count == 0)
    return VEIL_EDECODE;
  out->reference_time = (ref & 0x800000) ? (int32_t)ref - 0x1000000 : (int32_t)ref;
  /* First pass: the chunks must cover status_count; add up the delta bytes they need. */
  const uint8_t *chunks_start = r.p;
  size_t delta_bytes = 0;
  uint16_t left = out->status_count;
  while (left > 0) {
    uint16_t chunk = 0, count = 0;
    int rc = load_chunk(&r, left, &chunk, &count);
    if (rc)
      return rc;
    for (uint16_t pos = 0; pos < count; pos++) {
      uint8_t s = chunk_symbol(chunk, pos);
      if (s == 3)
        return VEIL_EDECODE; /* reserved symbol */
      delta_bytes += s;      /* small delta: 1 byte, large: 2 */
    }
    left = (uint16_t)(left - count);
  }
  out->chunks.ptr = chunks_start;
  out->chunks.len = (size_t)(r.p - chunks_start);
  size_t rest = veil_reader_remaining(&r);
  if (rest < delta_bytes)
    return VEIL_ETRUNC;
  if (rest - delta_bytes > 3)
    return VEIL_ERTCP_LENGTH; /* at most padding to the 32-bit boundary */
  veil_read_bytes(&r, rest, &out->deltas);
  return r.err;
}

void sfu_rtcp_tcc_iter_init(sfu_rtcp_tcc_iter_t *it, const sfu_rtcp_tcc_t *t) {
  memset(it, 0, sizeof(*it));
  veil_reader_init(&it->chunks, t->chunks.ptr, t->chunks.len);
  veil_reader_init(&it->deltas, t->deltas.ptr, t->deltas.len);
  it->seq = t->base_seq;
  it->left = t->status_count;
}

int sfu_rtcp_tcc_next(sfu_rtcp_tcc_iter_t *it, sfu_rtcp_tcc_status_t *s) {
  if (it->left == 0)
    return 0;
  while (it->in_chunk == 0) {
    int rc = load_chunk(&it->chunks, it->left, &it->chunk, &it->in_chunk);
    if (rc)
      return rc;
    it->chunk_pos = 0;
  }
  uint8_t sym = chunk_symbol(it->chunk, it->chunk_pos);
  it->chunk_pos++;
  it->in_chunk--;
  it->left--;
  s->seq = it->seq++;
  s->status = sym;
  s->delta_250us = 0;
  if (sym == SFU_TCC_SMALL_DELTA) {
    uint8_t d;
    if (veil_read_u8(&it->deltas, &d))
      return it->deltas.err;
    s->delta_250us = d;
  } else if (sym == SFU_TCC_LARGE_DELTA) {
    uint16_t d;
    if (veil_read_u16(&it->deltas, &d))
      return it->deltas.err;
    s->delta_250us = (int16_t)d;
  } else if (sym != SFU_TCC_NOT_RECEIVED) {
    return VEIL_EDECODE;
  }
  return 1;
}
