/*
 * RTCP: iterate a compound strictly, hand every packet to the parser of its type and
 * walk every list inside; SR translation on a copy.
 */
#include <string.h>

#include "fuzz_sfu_common.h"
#include "sfu/rtcp.h"

static void one_packet(const uint8_t *data, size_t size, const sfu_rtcp_pkt_t *p,
                       uint8_t *copy) {
  fuzz_check_view(p->raw, data, size);
  fuzz_check_view(p->body, data, size);
  switch (p->type) {
  case SFU_RTCP_SR:
  case SFU_RTCP_RR: {
    sfu_rtcp_sr_t sr;
    int rc = p->type == SFU_RTCP_SR ? sfu_rtcp_parse_sr(p, &sr) : sfu_rtcp_parse_rr(p, &sr);
    if (rc)
      return;
    fuzz_check_view(sr.blocks, data, size);
    fuzz_check_view(sr.ext, data, size);
    for (size_t i = 0; i < sr.n_blocks; i++) {
      sfu_rtcp_report_block_t b;
      if (sfu_rtcp_report_block(&sr, i, &b) != 0)
        abort();
    }
    if (p->type == SFU_RTCP_SR) {
      sfu_rtcp_pkt_t pc = *p;
      pc.raw.ptr = copy + p->offset;
      if (sfu_rtcp_sr_rewrite(copy, size, &pc, 1, 2, 3) != 0)
        abort();
    }
    return;
  }
  case SFU_RTCP_SDES: {
    sfu_rtcp_sdes_iter_t it;
    sfu_rtcp_sdes_item_t item;
    if (sfu_rtcp_sdes_init(&it, p) != 0)
      abort();
    while (sfu_rtcp_sdes_next(&it, &item) == 1)
      fuzz_check_view(item.value, data, size);
    return;
  }
  case SFU_RTCP_BYE: {
    sfu_rtcp_bye_t bye;
    if (sfu_rtcp_parse_bye(p, &bye) == 0) {
      fuzz_check_view(bye.reason, data, size);
      for (size_t i = 0; i < bye.n_ssrc; i++)
        (void)sfu_rtcp_bye_ssrc(&bye, i);
    }
    return;
  }
  case SFU_RTCP_RTPFB:
  case SFU_RTCP_PSFB: {
    sfu_rtcp_fb_t fb;
    if (sfu_rtcp_parse_fb(p, &fb) != 0)
      return;
    fuzz_check_view(fb.fci, data, size);
    if (p->type == SFU_RTCP_RTPFB && fb.fmt == SFU_RTCP_FMT_NACK) {
      sfu_rtcp_nack_iter_t it;
      uint16_t seq;
      size_t n = 0;
      if (sfu_rtcp_nack_init(&it, &fb) == 0)
        while (sfu_rtcp_nack_next(&it, &seq) == 1)
          if (++n > fb.fci.len / 4 * 17)
            abort(); /* at most 17 numbers per pair */
    } else if (p->type == SFU_RTCP_RTPFB && fb.fmt == SFU_RTCP_FMT_TCC) {
      sfu_rtcp_tcc_t t;
      if (sfu_rtcp_parse_tcc(&fb, &t) == 0) {
        sfu_rtcp_tcc_iter_t it;
        sfu_rtcp_tcc_status_t s;
        size_t n = 0;
        int rc;
        sfu_rtcp_tcc_iter_init(&it, &t);
        while ((rc = sfu_rtcp_tcc_next(&it, &s)) == 1)
          n++;
        /* parse_tcc validated everything the iterator reads. */
        if (rc != 0 || n != t.status_count)
          abort();
      }
    } else if (p->type == SFU_RTCP_PSFB && fb.fmt == SFU_RTCP_FMT_PLI) {
      (void)sfu_rtcp_check_pli(&fb);
    } else if (p->type == SFU_RTCP_PSFB && fb.fmt == SFU_RTCP_FMT_FIR) {
      size_t n;
      sfu_rtcp_fir_entry_t e;
      if (sfu_rtcp_fir_count(&fb, &n) == 0)
        for (size_t i = 0; i < n; i++)
          if (sfu_rtcp_fir_entry(&fb, i, &e) != 0)
            abort();
    } else if (p->type == SFU_RTCP_PSFB && fb.fmt == SFU_RTCP_FMT_AFB) {
      sfu_rtcp_remb_t r;
      if (sfu_rtcp_parse_remb(&fb, &r) == 0)
        fuzz_check_view(r.ssrcs, data, size);
    }
    return;
  }
  default:
    return;
  }
}

void fuzz_sfu_rtcp(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    return;
  memcpy(copy, data, size);
  sfu_rtcp_iter_t it;
  sfu_rtcp_pkt_t p;
  size_t total = 0;
  int rc;
  sfu_rtcp_iter_init(&it, data, size);
  while ((rc = sfu_rtcp_next(&it, &p)) == 1) {
    total += p.raw.len;
    one_packet(data, size, &p, copy);
  }
  if (rc == 0 && total != size)
    abort(); /* a clean walk accounts for every byte */
  (void)sfu_rtcp_validate(data, size, 0);
  (void)sfu_rtcp_validate(data, size, 1);
  free(copy);
}
