/*
 * veil sfu — first-byte demultiplexing of one UDP 5-tuple (RFC 7983) and the RTP/RTCP
 * split of rtcp-mux (RFC 5761 §4).
 *
 * One ICE-lite transport carries STUN, DTLS and SRTP/SRTCP on the same port (BUNDLE +
 * rtcp-mux). The first byte tells them apart (RFC 7983 §7):
 *     0..3    STUN          20..63   DTLS        128..191  RTP / RTCP
 * Everything else (ZRTP 16..19, TURN channels 64..79, QUIC, garbage) is dropped: veil
 * speaks none of it. Classification also checks the minimum size of each kind so that
 * the parser behind it never starts on a datagram shorter than a fixed header.
 *
 * Pure functions on borrowed bytes; no state, no allocation.
 */
#ifndef VEIL_SFU_DEMUX_H
#define VEIL_SFU_DEMUX_H

#include <stddef.h>
#include <stdint.h>

typedef enum sfu_pkt_kind {
  SFU_PKT_DROP = 0, /* unknown first byte or shorter than the kind's fixed header */
  SFU_PKT_STUN,     /* >= 20 bytes, first byte 0..3 */
  SFU_PKT_DTLS,     /* >= 13 bytes (record header), first byte 20..63 */
  SFU_PKT_RTP,      /* >= 12 bytes, first byte 128..191, second byte's PT not 64..95 */
  SFU_PKT_RTCP,     /* >= 8 bytes, first byte 128..191, second byte's PT in 64..95 */
} sfu_pkt_kind_t;

/* Minimum sizes used by the classification. */
#define SFU_DEMUX_MIN_STUN 20
#define SFU_DEMUX_MIN_DTLS 13
#define SFU_DEMUX_MIN_RTP 12
#define SFU_DEMUX_MIN_RTCP 8

/* Classifies one datagram. `buf` may be NULL when `len` is 0. */
sfu_pkt_kind_t sfu_demux_classify(const uint8_t *buf, size_t len);

/* RFC 5761 §4: with rtcp-mux, a packet whose second byte (ignoring the marker bit) is in
 * 64..95 is RTCP (RTCP types 192..223); anything else is RTP. Needs len >= 2; returns 0
 * for shorter input. */
int sfu_demux_is_rtcp(const uint8_t *buf, size_t len);

/* A short static name of a kind ("stun", "dtls", ...), for logs and metrics labels. */
const char *sfu_pkt_kind_name(sfu_pkt_kind_t kind);

#endif
