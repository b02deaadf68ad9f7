/*
 * RTCP (RFC 3550, 4585, 5104, 5506, REMB, transport-cc): strict compound iteration,
 * truncation and length hazards per packet type, encoders, SR translation.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "sfu/rtcp.h"

/* SR (1 report block) + SDES (1 chunk, CNAME "ab") + BYE (1 SSRC, reason "x"). */
static const uint8_t compound[] = {
    /* SR: V=2 RC=1 PT=200 len=12 words */
    0x81, 200, 0x00, 0x0c, 0x11, 0x11, 0x11, 0x11,                 /* sender SSRC */
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,                 /* NTP */
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05,                 /* RTP ts, pkts */
    0x00, 0x00, 0x01, 0x00,                                         /* octets */
    0x22, 0x22, 0x22, 0x22, 0x10, 0xff, 0xff, 0xfe,                 /* block: lost -2 */
    0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20,
    0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x40,
    /* SDES: SC=1 PT=202 len=3: ssrc, CNAME(1) len 2 "ab", null, pad */
    0x81, 202, 0x00, 0x03, 0x11, 0x11, 0x11, 0x11, 0x01, 0x02, 'a', 'b', 0x00, 0x00, 0x00, 0x00,
    /* BYE: SC=1 PT=203 len=2: ssrc, reason len 1 "x", pad 2 */
    0x81, 203, 0x00, 0x02, 0x11, 0x11, 0x11, 0x11, 0x01, 'x', 0x00, 0x00,
};
#define SR_END 52
#define SDES_END 68

static int count_packets(const uint8_t *b, size_t n, int *err) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_pkt_t p;
  int rc, k = 0;
  sfu_rtcp_iter_init(&it, b, n);
  while ((rc = sfu_rtcp_next(&it, &p)) == 1)
    k++;
  *err = rc;
  return k;
}

Test(rtcp, iterates_a_compound_packet) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_pkt_t p;
  sfu_rtcp_iter_init(&it, compound, sizeof(compound));
  cr_assert_eq(sfu_rtcp_next(&it, &p), 1);
  cr_assert_eq(p.type, SFU_RTCP_SR);
  sfu_rtcp_sr_t sr;
  cr_assert_eq(sfu_rtcp_parse_sr(&p, &sr), 0);
  cr_assert_eq(sr.ssrc, 0x11111111);
  cr_assert_eq(sr.ntp, 0x0102030405060708ull);
  cr_assert_eq(sr.rtp_ts, 0x1000);
  cr_assert_eq(sr.packet_count, 5);
  cr_assert_eq(sr.octet_count, 256);
  cr_assert_eq(sr.n_blocks, 1);
  sfu_rtcp_report_block_t b;
  cr_assert_eq(sfu_rtcp_report_block(&sr, 0, &b), 0);
  cr_assert_eq(b.ssrc, 0x22222222);
  cr_assert_eq(b.fraction_lost, 0x10);
  cr_assert_eq(b.cumulative_lost, -2);
  cr_assert_eq(b.highest_seq, 0x00010010);
  cr_assert_eq(b.dlsr, 0x40);
  cr_assert_eq(sfu_rtcp_report_block(&sr, 1, &b), VEIL_ERANGE);

  cr_assert_eq(sfu_rtcp_next(&it, &p), 1);
  sfu_rtcp_sdes_iter_t si;
  sfu_rtcp_sdes_item_t item;
  cr_assert_eq(sfu_rtcp_sdes_init(&si, &p), 0);
  cr_assert_eq(sfu_rtcp_sdes_next(&si, &item), 1);
  cr_assert_eq(item.type, 1);
  cr_assert_eq(item.value.len, 2);
  cr_assert_eq(memcmp(item.value.ptr, "ab", 2), 0);
  cr_assert_eq(sfu_rtcp_sdes_next(&si, &item), 0);

  cr_assert_eq(sfu_rtcp_next(&it, &p), 1);
  sfu_rtcp_bye_t bye;
  cr_assert_eq(sfu_rtcp_parse_bye(&p, &bye), 0);
  cr_assert_eq(bye.n_ssrc, 1);
  cr_assert_eq(sfu_rtcp_bye_ssrc(&bye, 0), 0x11111111);
  cr_assert_eq(bye.reason.len, 1);
  cr_assert_eq(sfu_rtcp_next(&it, &p), 0);
  cr_assert_eq(sfu_rtcp_validate(compound, sizeof(compound), 0), 0);
}

Test(rtcp, rejects_truncation_at_every_byte) {
  for (size_t i = 1; i < sizeof(compound); i++) {
    int err;
    int k = count_packets(compound, i, &err);
    if (i == SR_END || i == SDES_END) {
      cr_assert_eq(err, 0, "cut at a packet boundary %zu", i);
      cr_assert_eq(k, i == SR_END ? 1 : 2);
    } else {
      cr_assert_lt(err, 0, "prefix of %zu bytes accepted", i);
      cr_assert(err == VEIL_ETRUNC || err == VEIL_ERTCP_LENGTH);
    }
  }
}

/* Walking b as a compound yields want_packets packets, then stops with want_err. */
static void assert_walk(const uint8_t *b, size_t n, int want_packets, int want_err) {
  int err;
  int k = count_packets(b, n, &err);
  cr_assert_eq(err, want_err);
  cr_assert_eq(k, want_packets);
}

Test(rtcp, rejects_length_field_past_end) {
  uint8_t b[sizeof(compound)];
  memcpy(b, compound, sizeof(b));
  b[SDES_END + 3] = 3; /* BYE claims 16 bytes, 12 remain */
  assert_walk(b, sizeof(b), 2, VEIL_ERTCP_LENGTH);
}

Test(rtcp, rejects_bad_version_in_a_later_packet) {
  uint8_t b[sizeof(compound)];
  memcpy(b, compound, sizeof(b));
  b[SR_END] = 0x41;
  assert_walk(b, sizeof(b), 1, VEIL_ERTP_VERSION);
}

Test(rtcp, rejects_padding_outside_the_last_packet) {
  uint8_t b[sizeof(compound)];
  memcpy(b, compound, sizeof(b));
  b[SR_END] |= 0x20; /* padding bit on SDES, not last */
  assert_walk(b, sizeof(b), 1, VEIL_ERTP_PADDING);
}

Test(rtcp, checks_padding_count_of_the_last_packet) {
  uint8_t b[sizeof(compound)];
  memcpy(b, compound, sizeof(b));
  size_t last = sizeof(b) - 1;
  b[SDES_END] |= 0x20;
  b[last] = 0;
  assert_walk(b, sizeof(b), 2, VEIL_ERTP_PADDING);
  b[last] = 9; /* more than the 8-byte body */
  assert_walk(b, sizeof(b), 2, VEIL_ERTP_PADDING);
  b[last] = 2;
  assert_walk(b, sizeof(b), 3, 0);
}

Test(rtcp, compound_must_start_with_a_report_unless_reduced_size) {
  const uint8_t pli[] = {0x81, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  cr_assert_eq(sfu_rtcp_validate(pli, sizeof(pli), 0), VEIL_ERTCP_COMPOUND);
  cr_assert_eq(sfu_rtcp_validate(pli, sizeof(pli), 1), 0);
  cr_assert_eq(sfu_rtcp_validate(pli, 0, 1), VEIL_ERTCP_COMPOUND);
}

Test(rtcp, rejects_report_with_fewer_blocks_than_its_count) {
  uint8_t b[SR_END];
  memcpy(b, compound, SR_END);
  b[0] = 0x82; /* RC=2, one block present */
  sfu_rtcp_iter_t it;
  sfu_rtcp_pkt_t p;
  sfu_rtcp_iter_init(&it, b, sizeof(b));
  cr_assert_eq(sfu_rtcp_next(&it, &p), 1);
  sfu_rtcp_sr_t sr;
  cr_assert_eq(sfu_rtcp_parse_sr(&p, &sr), VEIL_ETRUNC);
  cr_assert_eq(sfu_rtcp_parse_rr(&p, &sr), VEIL_ERTCP_TYPE);
}

static void one(const uint8_t *b, size_t n, sfu_rtcp_pkt_t *p) {
  sfu_rtcp_iter_t it;
  sfu_rtcp_iter_init(&it, b, n);
  cr_assert_eq(sfu_rtcp_next(&it, p), 1);
  cr_assert_eq(sfu_rtcp_next(&it, p + 1), 0);
}

Test(rtcp, rejects_sdes_with_nonzero_chunk_padding_or_missing_chunk) {
  uint8_t b[16];
  memcpy(b, compound + SR_END, 16);
  sfu_rtcp_pkt_t p[2];
  sfu_rtcp_sdes_iter_t si;
  sfu_rtcp_sdes_item_t item;
  b[15] = 7;
  one(b, sizeof(b), p);
  sfu_rtcp_sdes_init(&si, p);
  cr_assert_eq(sfu_rtcp_sdes_next(&si, &item), 1);
  cr_assert_eq(sfu_rtcp_sdes_next(&si, &item), VEIL_ERTCP_LENGTH);
  b[15] = 0;
  b[0] = 0x82; /* SC=2, only one chunk */
  one(b, sizeof(b), p);
  sfu_rtcp_sdes_init(&si, p);
  cr_assert_eq(sfu_rtcp_sdes_next(&si, &item), 1);
  cr_assert_eq(sfu_rtcp_sdes_next(&si, &item), VEIL_ETRUNC);
  b[0] = 0x80; /* SC=0 with a chunk present: trailing bytes */
  one(b, sizeof(b), p);
  sfu_rtcp_sdes_init(&si, p);
  cr_assert_eq(sfu_rtcp_sdes_next(&si, &item), VEIL_ERTCP_LENGTH);
  b[0] = 0x81;
  b[9] = 0x09; /* item length past the chunk */
  one(b, sizeof(b), p);
  sfu_rtcp_sdes_init(&si, p);
  cr_assert_eq(sfu_rtcp_sdes_next(&si, &item), VEIL_ETRUNC);
}

Test(rtcp, rejects_bye_reason_past_end) {
  uint8_t b[12];
  memcpy(b, compound + SDES_END, 12);
  b[8] = 4; /* reason of 4 bytes, 3 remain */
  sfu_rtcp_pkt_t p[2];
  one(b, sizeof(b), p);
  sfu_rtcp_bye_t bye;
  cr_assert_eq(sfu_rtcp_parse_bye(p, &bye), VEIL_ETRUNC);
  b[0] = 0x83; /* SC=3 but 2 words of body */
  one(b, sizeof(b), p);
  cr_assert_eq(sfu_rtcp_parse_bye(p, &bye), VEIL_ETRUNC);
}

/* The feedback message that is the only packet in b; its FCI is a view into b. */
static sfu_rtcp_fb_t parse_fb(const uint8_t *b, size_t n) {
  sfu_rtcp_pkt_t p[2];
  sfu_rtcp_fb_t fb;
  one(b, n, p);
  cr_assert_eq(sfu_rtcp_parse_fb(p, &fb), 0);
  return fb;
}

/* What an encoder under test wrote. */
typedef struct written {
  uint8_t b[128];
  veil_writer_t w;
} written_t;

static veil_writer_t *writer(written_t *o) {
  veil_writer_init(&o->w, o->b, sizeof(o->b));
  return &o->w;
}

/* The feedback message an encoder wrote into o. */
static sfu_rtcp_fb_t parse_written_fb(const written_t *o) { return parse_fb(o->b, o->w.len); }

Test(rtcp, iterates_nack_pid_and_bitmask) {
  const uint8_t b[] = {0x81, 205, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 2,
                       0xff, 0xfe, 0x80, 0x05,  /* PID 65534, bits 0, 2, 15 */
                       0x00, 0x10, 0x00, 0x00}; /* PID 16 */
  sfu_rtcp_fb_t fb = parse_fb(b, sizeof(b));
  cr_assert_eq(fb.sender_ssrc, 1);
  cr_assert_eq(fb.media_ssrc, 2);
  sfu_rtcp_nack_iter_t it;
  cr_assert_eq(sfu_rtcp_nack_init(&it, &fb), 0);
  uint16_t want[] = {65534, 65535, 1, 14, 16}, s;
  for (size_t i = 0; i < 5; i++) {
    cr_assert_eq(sfu_rtcp_nack_next(&it, &s), 1);
    cr_assert_eq(s, want[i], "item %zu: %u", i, s);
  }
  cr_assert_eq(sfu_rtcp_nack_next(&it, &s), 0);
}

Test(rtcp, rejects_truncated_nack) {
  const uint8_t empty[] = {0x81, 205, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  sfu_rtcp_nack_iter_t it;
  sfu_rtcp_fb_t fb = parse_fb(empty, sizeof(empty));
  cr_assert_eq(sfu_rtcp_nack_init(&it, &fb), VEIL_ETRUNC);
  /* A half pair hidden by padding: body 10 bytes after removing 2 bytes of padding. */
  const uint8_t half[] = {0xa1, 205, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0x07, 0x00, 0x02};
  fb = parse_fb(half, sizeof(half));
  cr_assert_eq(sfu_rtcp_nack_init(&it, &fb), VEIL_ETRUNC);
  /* The feedback header itself cut short. */
  const uint8_t shorthdr[] = {0x81, 205, 0x00, 0x01, 0, 0, 0, 1};
  sfu_rtcp_pkt_t p[2];
  one(shorthdr, sizeof(shorthdr), p);
  cr_assert_eq(sfu_rtcp_parse_fb(p, &fb), VEIL_ETRUNC);
}

Test(rtcp, nack_encoder_round_trips_including_wraparound) {
  uint16_t seqs[] = {65530, 65531, 65535, 0, 9, 40, 41, 57, 58};
  written_t o;
  cr_assert_eq(sfu_rtcp_write_nack(writer(&o), 7, 8, seqs, 9), 0);
  sfu_rtcp_fb_t fb = parse_written_fb(&o);
  sfu_rtcp_nack_iter_t it;
  cr_assert_eq(sfu_rtcp_nack_init(&it, &fb), 0);
  uint16_t s;
  for (size_t i = 0; i < 9; i++) {
    cr_assert_eq(sfu_rtcp_nack_next(&it, &s), 1);
    cr_assert_eq(s, seqs[i]);
  }
  cr_assert_eq(sfu_rtcp_nack_next(&it, &s), 0);
  /* 65530..9 fit one pair (PID 65530 + 16 = 10), 40..41 a second, 57/58 a third. */
  cr_assert_eq(fb.fci.len, 12);
}

Test(rtcp, rejects_pli_with_fci) {
  const uint8_t b[] = {0x81, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0};
  sfu_rtcp_fb_t fb = parse_fb(b, sizeof(b));
  cr_assert_eq(sfu_rtcp_check_pli(&fb), VEIL_ERTCP_LENGTH);
  written_t o;
  cr_assert_eq(sfu_rtcp_write_pli(writer(&o), 1, 2), 0);
  fb = parse_written_fb(&o);
  cr_assert_eq(sfu_rtcp_check_pli(&fb), 0);
  cr_assert_eq(fb.media_ssrc, 2);
}

Test(rtcp, fir_round_trips_and_rejects_partial_entries) {
  sfu_rtcp_fir_entry_t e[2] = {{0xaaaa, 3}, {0xbbbb, 250}}, g;
  written_t o;
  cr_assert_eq(sfu_rtcp_write_fir(writer(&o), 1, e, 2), 0);
  sfu_rtcp_fb_t fb = parse_written_fb(&o);
  size_t n;
  cr_assert_eq(sfu_rtcp_fir_count(&fb, &n), 0);
  cr_assert_eq(n, 2);
  cr_assert_eq(sfu_rtcp_fir_entry(&fb, 1, &g), 0);
  cr_assert_eq(g.ssrc, 0xbbbb);
  cr_assert_eq(g.seq_nr, 250);
  cr_assert_eq(sfu_rtcp_fir_entry(&fb, 2, &g), VEIL_ERANGE);
  fb.fci.len -= 4;
  cr_assert_eq(sfu_rtcp_fir_count(&fb, &n), VEIL_ERTCP_LENGTH);
  fb.fci.len = 0;
  cr_assert_eq(sfu_rtcp_fir_count(&fb, &n), VEIL_ETRUNC);
}

Test(rtcp, remb_round_trips_and_rejects_ssrc_list_past_end) {
  uint32_t ssrcs[2] = {5, 6};
  written_t o;
  cr_assert_eq(sfu_rtcp_write_remb(writer(&o), 1, 2500000, ssrcs, 2), 0);
  sfu_rtcp_fb_t fb = parse_written_fb(&o);
  sfu_rtcp_remb_t r;
  cr_assert_eq(sfu_rtcp_parse_remb(&fb, &r), 0);
  /* 2 500 000 needs exponent 4: 156250 << 4, exact. */
  cr_assert_eq(r.bitrate_bps, 2500000);
  cr_assert_eq(r.n_ssrc, 2);
  fb.fci.len -= 4;
  cr_assert_eq(sfu_rtcp_parse_remb(&fb, &r), VEIL_ETRUNC);
  fb.fci.len += 8;
  cr_assert_eq(sfu_rtcp_parse_remb(&fb, &r), VEIL_ERTCP_LENGTH);
  o.b[12] = 'X'; /* "XEMB": another application's AFB */
  fb.fci.len -= 4;
  cr_assert_eq(sfu_rtcp_parse_remb(&fb, &r), VEIL_ENOTFOUND);
}

/* transport-cc: base 100, 5 statuses in one two-bit vector chunk [small, large, none,
 * small, none], deltas 4, -8, 10, two bytes of zero padding. */
static const uint8_t tcc[] = {0x8f, 205, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 2,
                              0x00, 0x64, 0x00, 0x05, 0xff, 0xff, 0xfe, 0x07,
                              0xd8, 0x40, 0x04, 0xff, 0xf8, 0x0a, 0x00, 0x00};

Test(rtcp, parses_transport_cc_statuses_and_deltas) {
  sfu_rtcp_fb_t fb = parse_fb(tcc, sizeof(tcc));
  sfu_rtcp_tcc_t t;
  cr_assert_eq(sfu_rtcp_parse_tcc(&fb, &t), 0);
  cr_assert_eq(t.base_seq, 100);
  cr_assert_eq(t.status_count, 5);
  cr_assert_eq(t.reference_time, -2);
  cr_assert_eq(t.fb_count, 7);
  sfu_rtcp_tcc_iter_t it;
  sfu_rtcp_tcc_status_t s;
  sfu_rtcp_tcc_iter_init(&it, &t);
  const uint8_t st[5] = {1, 2, 0, 1, 0};
  const int32_t d[5] = {4, -8, 0, 10, 0};
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(sfu_rtcp_tcc_next(&it, &s), 1);
    cr_assert_eq(s.seq, 100 + i);
    cr_assert_eq(s.status, st[i]);
    cr_assert_eq(s.delta_250us, d[i]);
  }
  cr_assert_eq(sfu_rtcp_tcc_next(&it, &s), 0);
}

Test(rtcp, parses_transport_cc_run_length_and_one_bit_chunks) {
  /* 20 not-received (run), then a one-bit vector: 14 statuses, bits 1 and 14 set (both
   * small deltas): 34 statuses in all. */
  const uint8_t b[] = {0x8f, 205, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 2,
                       0xff, 0xf0, 0x00, 0x22, 0x00, 0x00, 0x01, 0x00,
                       0x00, 0x14, 0xa0, 0x01, 0x05, 0x06, 0x00, 0x00};
  sfu_rtcp_fb_t fb = parse_fb(b, sizeof(b));
  sfu_rtcp_tcc_t t;
  cr_assert_eq(sfu_rtcp_parse_tcc(&fb, &t), 0);
  sfu_rtcp_tcc_iter_t it;
  sfu_rtcp_tcc_status_t s;
  sfu_rtcp_tcc_iter_init(&it, &t);
  int received = 0, n = 0;
  uint16_t last = 0;
  while (sfu_rtcp_tcc_next(&it, &s) == 1) {
    n++;
    last = s.seq;
    if (s.status) {
      received++;
      cr_assert(s.seq == (uint16_t)(0xfff0 + 20) || s.seq == (uint16_t)(0xfff0 + 33));
    }
  }
  cr_assert_eq(n, 34);
  cr_assert_eq(received, 2);
  cr_assert_eq(last, (uint16_t)(0xfff0 + 33)); /* wraps past 65535 */
}

Test(rtcp, rejects_truncated_or_inconsistent_transport_cc) {
  sfu_rtcp_tcc_t t;
  sfu_rtcp_fb_t fb = parse_fb(tcc, sizeof(tcc));
  /* Truncating the FCI at every byte must fail (padding aside). */
  size_t full = fb.fci.len;
  for (size_t i = 0; i + 2 < full; i++) {
    fb.fci.len = i;
    cr_assert_lt(sfu_rtcp_parse_tcc(&fb, &t), 0, "fci prefix %zu", i);
  }
  fb.fci.len = full;
  uint8_t b[sizeof(tcc)];
  memcpy(b, tcc, sizeof(b));
  b[21] |= 0x30; /* symbol 3 (reserved) in the third slot */
  fb = parse_fb(b, sizeof(b));
  cr_assert_eq(sfu_rtcp_parse_tcc(&fb, &t), VEIL_EDECODE);
  memcpy(b, tcc, sizeof(b));
  b[14] = 0xff; /* 65535 statuses: the bytes after the chunk are read as more chunks
                 * (a reserved symbol, then not enough data): never accepted */
  b[15] = 0xff;
  fb = parse_fb(b, sizeof(b));
  cr_assert_lt(sfu_rtcp_parse_tcc(&fb, &t), 0);
  b[24] = 0x00; /* make the third chunk a run of 0x0a0 zeros: then the data ends */
  fb = parse_fb(b, sizeof(b));
  cr_assert_eq(sfu_rtcp_parse_tcc(&fb, &t), VEIL_ETRUNC);
  memcpy(b, tcc, sizeof(b));
  b[15] = 0x00; /* zero statuses */
  fb = parse_fb(b, sizeof(b));
  cr_assert_eq(sfu_rtcp_parse_tcc(&fb, &t), VEIL_EDECODE);
  memcpy(b, tcc, sizeof(b));
  b[15] = 0x01; /* 1 status (small): 1 delta byte, 5 trailing bytes: too many */
  fb = parse_fb(b, sizeof(b));
  cr_assert_eq(sfu_rtcp_parse_tcc(&fb, &t), VEIL_ERTCP_LENGTH);
}

Test(rtcp, rr_encoder_round_trips_and_overflows_cleanly) {
  sfu_rtcp_report_block_t in[2] = {
      {.ssrc = 9, .fraction_lost = 3, .cumulative_lost = -5, .highest_seq = 70000,
       .jitter = 12, .lsr = 0xabcdef01, .dlsr = 655},
      {.ssrc = 10, .cumulative_lost = 0x7fffffff}};
  uint8_t out[128];
  veil_writer_t w;
  veil_writer_init(&w, out, sizeof(out));
  cr_assert_eq(sfu_rtcp_write_rr(&w, 77, in, 2), 0);
  cr_assert_eq(w.len, 8 + 48);
  cr_assert_eq(sfu_rtcp_validate(out, w.len, 0), 0);
  sfu_rtcp_pkt_t p[2];
  one(out, w.len, p);
  sfu_rtcp_sr_t rr;
  cr_assert_eq(sfu_rtcp_parse_rr(p, &rr), 0);
  cr_assert_eq(rr.ssrc, 77);
  sfu_rtcp_report_block_t g;
  cr_assert_eq(sfu_rtcp_report_block(&rr, 0, &g), 0);
  cr_assert_eq(g.cumulative_lost, -5);
  cr_assert_eq(g.highest_seq, 70000);
  cr_assert_eq(g.lsr, 0xabcdef01);
  cr_assert_eq(sfu_rtcp_report_block(&rr, 1, &g), 0);
  cr_assert_eq(g.cumulative_lost, 0x7fffff); /* clamped to 24 bits */
  size_t need = w.len;
  for (size_t cap = 0; cap < need; cap++) {
    veil_writer_init(&w, out, cap);
    cr_assert_eq(sfu_rtcp_write_rr(&w, 77, in, 2), VEIL_EOVERFLOW);
  }
}

Test(rtcp, sr_translation_rewrites_only_its_fields) {
  uint8_t b[sizeof(compound)];
  memcpy(b, compound, sizeof(b));
  sfu_rtcp_iter_t it;
  sfu_rtcp_pkt_t p;
  sfu_rtcp_iter_init(&it, b, sizeof(b));
  cr_assert_eq(sfu_rtcp_next(&it, &p), 1);
  cr_assert_eq(sfu_rtcp_sr_rewrite(b, sizeof(b), &p, 0xabcdabcd, 0x1112131415161718ull, 77), 0);
  cr_assert_eq(sfu_rtcp_report_block_set_ssrc(b, sizeof(b), &p, 0, 0x33333333), 0);
  cr_assert_eq(sfu_rtcp_report_block_set_ssrc(b, sizeof(b), &p, 1, 0x3), VEIL_ERANGE);
  sfu_rtcp_sr_t sr;
  cr_assert_eq(sfu_rtcp_parse_sr(&p, &sr), 0);
  cr_assert_eq(sr.ssrc, 0xabcdabcd);
  cr_assert_eq(sr.ntp, 0x1112131415161718ull);
  cr_assert_eq(sr.rtp_ts, 77);
  cr_assert_eq(sr.packet_count, 5);
  sfu_rtcp_report_block_t rb;
  cr_assert_eq(sfu_rtcp_report_block(&sr, 0, &rb), 0);
  cr_assert_eq(rb.ssrc, 0x33333333);
  cr_assert_eq(memcmp(b + 20, compound + 20, 8), 0);        /* counts untouched */
  cr_assert_eq(memcmp(b + 32, compound + 32, sizeof(b) - 32), 0);
  /* Not an SR, or a packet from another buffer: refused. */
  cr_assert_eq(sfu_rtcp_next(&it, &p), 1);
  cr_assert_eq(sfu_rtcp_sr_rewrite(b, sizeof(b), &p, 1, 1, 1), VEIL_ERTCP_TYPE);
  sfu_rtcp_iter_init(&it, compound, sizeof(compound));
  cr_assert_eq(sfu_rtcp_next(&it, &p), 1);
  cr_assert_eq(sfu_rtcp_sr_rewrite(b, sizeof(b), &p, 1, 1, 1), VEIL_EINVAL);
}

/* Every packet type whose structure fills its body: cutting the body to any shorter
 * whole number of words (length field fixed up so the compound walk accepts it) must
 * make the type's parser fail, never read past the cut. */
static int parse_any(const uint8_t *b, size_t n) {
  sfu_rtcp_pkt_t p[2];
  one(b, n, p);
  switch (p->type) {
  case SFU_RTCP_SR: {
    sfu_rtcp_sr_t sr;
    return sfu_rtcp_parse_sr(p, &sr);
  }
  case SFU_RTCP_RR: {
    sfu_rtcp_sr_t rr;
    return sfu_rtcp_parse_rr(p, &rr);
  }
  case SFU_RTCP_SDES: {
    sfu_rtcp_sdes_iter_t it;
    sfu_rtcp_sdes_item_t item;
    int rc;
    sfu_rtcp_sdes_init(&it, p);
    while ((rc = sfu_rtcp_sdes_next(&it, &item)) == 1)
      ;
    return rc;
  }
  default: {
    sfu_rtcp_fb_t fb;
    int rc = sfu_rtcp_parse_fb(p, &fb);
    if (rc)
      return rc;
    if (p->type == SFU_RTCP_RTPFB && fb.fmt == SFU_RTCP_FMT_NACK) {
      sfu_rtcp_nack_iter_t it;
      return sfu_rtcp_nack_init(&it, &fb);
    }
    if (p->type == SFU_RTCP_RTPFB && fb.fmt == SFU_RTCP_FMT_TCC) {
      sfu_rtcp_tcc_t t;
      return sfu_rtcp_parse_tcc(&fb, &t);
    }
    if (p->type == SFU_RTCP_PSFB && fb.fmt == SFU_RTCP_FMT_FIR) {
      size_t k;
      return sfu_rtcp_fir_count(&fb, &k);
    }
    sfu_rtcp_remb_t r;
    return sfu_rtcp_parse_remb(&fb, &r);
  }
  }
}

typedef struct { const uint8_t *p; size_t n; } case_t;

Test(rtcp, rejects_each_packet_type_cut_short_at_every_word) {
  uint8_t out[256];
  veil_writer_t w;
  sfu_rtcp_report_block_t rb = {.ssrc = 1};
  uint16_t seqs[1] = {5};
  sfu_rtcp_fir_entry_t fe = {7, 1};
  uint32_t ss[1] = {9};
  case_t cases[8];
  size_t nc = 0, off = 0;
  cases[nc++] = (case_t){compound, SR_END};
  cases[nc++] = (case_t){compound + SR_END, 16}; /* SDES */
  cases[nc++] = (case_t){tcc, sizeof(tcc)};
  veil_writer_init(&w, out, sizeof(out));
  sfu_rtcp_write_rr(&w, 1, &rb, 1);
  cases[nc++] = (case_t){out + off, w.len - off};
  off = w.len;
  sfu_rtcp_write_nack(&w, 1, 2, seqs, 1);
  cases[nc++] = (case_t){out + off, w.len - off};
  off = w.len;
  sfu_rtcp_write_fir(&w, 1, &fe, 1);
  cases[nc++] = (case_t){out + off, w.len - off};
  off = w.len;
  sfu_rtcp_write_remb(&w, 1, 1000, ss, 1);
  cases[nc++] = (case_t){out + off, w.len - off};
  cr_assert_eq(w.err, 0);
  for (size_t c = 0; c < nc; c++) {
    cr_assert_eq(parse_any(cases[c].p, cases[c].n), 0, "case %zu whole", c);
    for (size_t cut = 4; cut < cases[c].n; cut += 4) {
      uint8_t b[256];
      memcpy(b, cases[c].p, cut);
      b[2] = 0;
      b[3] = (uint8_t)(cut / 4 - 1);
      cr_assert_lt(parse_any(b, cut), 0, "case %zu cut at %zu", c, cut);
    }
  }
}
