/* Fuzz target: load_rxmap_packet (clients/load/rxtrack.c), the RTP header parser and per-SSRC
 * loss accounting fed by what the SFU sends (RFC 3550 §5.1, §5.3.1, Appendix A.1). The input
 * is a sequence of packets, each prefixed by a 1-byte length. Invariants: every packet is
 * counted once (well-formed or malformed); a well-formed packet's payload view lies inside
 * the packet; the table never holds more than its bound; lost <= expected. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/load/rxtrack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  load_rxmap_t m;
  /* a small table (hint 1 -> 16 slots) so the fuzzer reaches "untracked" */
  if (load_rxmap_init(&m, data && size ? data[0] % 4 : 1)) return 0;
  size_t off = size ? 1 : 0, calls = 0;
  while (off < size) {
    size_t n = data[off++];
    if (n > size - off) n = size - off;
    /* exactly-sized copy: a read past the packet is caught */
    uint8_t *pkt = malloc(n ? n : 1);
    if (!pkt) break;
    memcpy(pkt, data + off, n);
    load_rx_info_t info;
    uint64_t before = m.packets + m.malformed;
    load_rxmap_packet(&m, pkt, n, &info);
    calls++;
    if (m.packets + m.malformed != before + 1) abort();
    if (info.ok) {
      if (n < 12 || info.payload < pkt || info.payload + info.payload_len > pkt + n) abort();
      if (info.pt != (pkt[1] & 0x7f) || (pkt[0] >> 6) != 2) abort();
    } else if (info.payload || info.payload_len || info.frame_start) {
      abort();
    }
    free(pkt);
    off += n;
  }
  if (m.packets + m.malformed != calls || m.untracked > m.packets) abort();
  if (m.n > LOAD_RX_MAX_SSRC || m.n * 2 > m.cap) abort();
  uint64_t expected, lost;
  load_rxmap_totals(&m, &expected, &lost);
  if (lost > expected) abort();
  load_rxmap_free(&m);
  return 0;
}
