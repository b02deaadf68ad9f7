/*
 * A minimal WebRTC-style client transport for tests and benchmarks: one UDP socket on
 * 127.0.0.1, an ICE controlling check with USE-CANDIDATE (sfu/stun encoder), a DTLS client
 * (sfu/dtls) and SRTP sessions (sfu/srtp) — the SFU's own building blocks used from the
 * other side, so a test exercises the whole server path over real sockets. Independent
 * interop is tests/interop (werift); this is the fast in-tree peer.
 *
 * Non-blocking: the caller alternates sfu_peer_poll with running the SFU's loop.
 * It sends no ICE consent checks after connecting (RFC 7675), so a session lasts at most
 * the SFU's consent window (30 s by default) — tests/unit/sfu/test_router.c relies on that
 * to exercise consent expiry; benchmarks stay well inside it.
 */
#ifndef VEIL_TESTS_SFU_PEER_H
#define VEIL_TESTS_SFU_PEER_H

#include <stddef.h>
#include <stdint.h>

typedef struct sfu_peer sfu_peer_t;

typedef void (*sfu_peer_media_cb)(void *arg, sfu_peer_t *p, int is_rtcp, const uint8_t *data,
                                  size_t len);

int sfu_peer_new(sfu_peer_media_cb cb, void *arg, sfu_peer_t **out);
void sfu_peer_free(sfu_peer_t *p);
const char *sfu_peer_ufrag(const sfu_peer_t *p);
const char *sfu_peer_fingerprint(const sfu_peer_t *p);
int sfu_peer_fd(const sfu_peer_t *p);
/* Starts ICE towards the SFU (127.0.0.1:port); DTLS follows the ICE success response. */
int sfu_peer_start(sfu_peer_t *p, uint16_t port, const char *ufrag, const char *pwd,
                   const char *fingerprint);
/* Handles everything readable within timeout_ms (0: non-blocking) and due timers.
 * Returns the number of datagrams handled. */
int sfu_peer_poll(sfu_peer_t *p, int timeout_ms);
int sfu_peer_connected(const sfu_peer_t *p);
int sfu_peer_failed(const sfu_peer_t *p);
/* Protects a copy of an RTP/RTCP packet and sends it. */
int sfu_peer_send_rtp(sfu_peer_t *p, const uint8_t *pkt, size_t len);
int sfu_peer_send_rtcp(sfu_peer_t *p, const uint8_t *pkt, size_t len);
/* Sends already-built datagrams as they are (benchmarks pre-protect nothing: this
 * protects each and sends with one sendmmsg). */
int sfu_peer_send_rtp_batch(sfu_peer_t *p, uint8_t *const *pkts, const size_t *lens, size_t n);
uint64_t sfu_peer_rx_media(const sfu_peer_t *p);
/* Authenticates and decrypts, in place, one SRTP packet that arrived on sfu_peer_fd but was
 * read by the caller instead of sfu_peer_poll (a benchmark draining many sockets itself).
 * Returns sfu_srtp_unprotect_rtp's result (VEIL_ESFU_SRTP_AUTH for a forged or corrupted
 * packet). Uses the peer's inbound session: never call it while another thread polls p. */
int sfu_peer_unprotect_rtp(sfu_peer_t *p, uint8_t *buf, size_t *len);

#endif
