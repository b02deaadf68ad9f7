/*
 * Writes the seed corpora of the SFrame fuzz targets from real frames made by the library
 * itself (run: make_seeds <tests/fuzz/sframe>). The seeds are committed; rerun this after
 * changing fuzz_sframe_common.h.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_sframe_common.h"

static void put(const char *dir, const char *sub, const char *name, const uint8_t *a,
                size_t alen, const uint8_t *b, size_t blen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(a, 1, alen, f) != alen || (blen && fwrite(b, 1, blen, f) != blen)) {
    perror(path);
    TRAP();
  }
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <tests/fuzz/sframe>\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  char name[64];

  static const uint64_t hk[][2] = {{0, 0}, {7, 7}, {291, 17767}, {8, 300},
                                   {UINT64_MAX, UINT64_MAX}};
  for (size_t i = 0; i < sizeof hk / sizeof hk[0]; i++) {
    uint8_t buf[SFRAME_HEADER_MAX];
    veil_writer_t w;
    veil_writer_init(&w, buf, sizeof buf);
    sframe_header_encode(&w, hk[i][0], hk[i][1]);
    snprintf(name, sizeof name, "header_%zu", i);
    put(dir, "seeds_header", name, buf, w.len, NULL, 0);
  }

  const uint8_t pt[] = "an encoded media frame";
  for (unsigned s = 0; s < 5; s++) {
    uint8_t frame[128];
    size_t n;
    sframe_ctx_t *tx = fz_ctx(s, SFRAME_KEY_SEND);
    uint64_t kid = fz_kids[s % 3];
    if (sframe_ctx_encrypt(tx, kid, fz_meta, sizeof fz_meta, pt, sizeof pt - 1, frame,
                           sizeof frame, &n))
      TRAP();
    uint8_t pre[2] = {(uint8_t)s, 0};
    snprintf(name, sizeof name, "ctx_suite%u", s + 1);
    put(dir, "seeds_decrypt", name, pre, 2, frame, n);
    sframe_ctx_free(tx);

    sframe_mls_t *m = fz_mls(s, 0);
    if (sframe_mls_encrypt(m, 1, fz_meta, sizeof fz_meta, pt, sizeof pt - 1, frame,
                           sizeof frame, &n))
      TRAP();
    pre[1] = 1;
    snprintf(name, sizeof name, "mls_suite%u", s + 1);
    put(dir, "seeds_decrypt", name, pre, 2, frame, n);
    sframe_mls_free(m);
  }

  /* Two frames packetized per frame over 120-byte payloads, sent in order. */
  uint8_t stream[2048];
  size_t sl = 0;
  stream[sl++] = 3;
  sframe_ctx_t *tx = fz_ctx(3, SFRAME_KEY_SEND);
  uint16_t seq = 65533;
  for (int f = 0; f < 2; f++) {
    uint8_t frame[300], buf[400];
    memset(frame, 0x30 + f, sizeof frame);
    sframe_rtp_payload_t pl[8];
    size_t n;
    if (sframe_rtp_packetize(tx, SFRAME_RTP_PER_FRAME, fz_kids[0], fz_meta, sizeof fz_meta,
                             frame, sizeof frame, 120, buf, sizeof buf, pl, 8, &n))
      TRAP();
    for (size_t i = 0; i < n; i++) {
      stream[sl++] = (uint8_t)(seq >> 8);
      stream[sl++] = (uint8_t)seq;
      seq++;
      stream[sl++] = (uint8_t)(10 + f);
      stream[sl++] = (uint8_t)pl[i].marker;
      stream[sl++] = (uint8_t)pl[i].len;
      memcpy(stream + sl, pl[i].ptr, pl[i].len);
      sl += pl[i].len;
    }
  }
  put(dir, "seeds_reasm", "two_frames", stream, sl, NULL, 0);
  sframe_ctx_free(tx);
  return 0;
}
