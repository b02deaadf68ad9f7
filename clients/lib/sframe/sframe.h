/*
 * veil — SFrame (RFC 9605): end-to-end encryption of media frames.
 *
 * Four layers, each usable on its own:
 *
 *  1. Header codec (§4.3): sframe_header_encode / sframe_header_decode, through
 *     common/bytes.h. Decoding rejects non-minimal encodings (a KID or CTR below 8 carried
 *     in extra bytes, or a value with a leading zero byte), because §4.3 says the value
 *     "MUST be encoded with the minimum number of bytes required": accepting two
 *     encodings of one (KID, CTR) would give the SFU a way to alter an authenticated
 *     header without changing what it means, and would make AAD non-canonical.
 *
 *  2. A context (sframe_ctx_t, §4.4, Appendix A): one cipher suite, a table of keys by
 *     KID, each marked send-only or receive-only (§4.4.1: "never both"). Encryption uses
 *     the key's monotonically increasing CTR; the last CTR (2^64-1) can be used once and
 *     then the key is exhausted (VEIL_ESFRAME_CTR_EXHAUSTED), never wrapped (§7.4, §9.1).
 *     Decryption applies a per-KID sliding replay window (§9.3, adapted from RFC 3711
 *     §3.3.2) that is updated only after the frame authenticated.
 *
 *  3. MLS key management (§5.2): sframe_mls_t derives KIDs and keys from each epoch's
 *     MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk) output, keeps a bounded number of
 *     epochs, and wipes older ones (see sframe_mls_* below).
 *
 *  4. RTP packetization (RFC 9605 Appendix B.5; payload format in docs/protocol.md):
 *     per-frame and per-packet modes, and a bounded reassembler (sframe_reasm_t).
 *
 * Nothing here allocates per frame or per packet: ciphertext and plaintext go into
 * caller-provided buffers; allocation happens when a context, key, epoch or reassembler
 * is created. None of these objects is thread-safe; use one per thread (or lock).
 * Functions return 0 or a negative VEIL_E* code (common/err.h, common/errdefs/sframe.def).
 */
#ifndef VEIL_CLIENTS_SFRAME_H
#define VEIL_CLIENTS_SFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/err.h"

/* ---- cipher suites (§4.5, IANA registry §8.1) ------------------------------------ */
typedef enum sframe_suite {
  SFRAME_AES_128_CTR_HMAC_SHA256_80 = 0x0001,
  SFRAME_AES_128_CTR_HMAC_SHA256_64 = 0x0002,
  SFRAME_AES_128_CTR_HMAC_SHA256_32 = 0x0003,
  SFRAME_AES_128_GCM_SHA256_128 = 0x0004,
  SFRAME_AES_256_GCM_SHA512_128 = 0x0005,
} sframe_suite_t;

/* Table 1 of §4.5. All return 0 for an unknown suite. */
size_t sframe_suite_nk(sframe_suite_t s); /* AEAD key size: 48 (CTR+HMAC), 16 or 32 (GCM) */
size_t sframe_suite_nt(sframe_suite_t s); /* tag size: 10, 8, 4, 16, 16 */
size_t sframe_suite_nh(sframe_suite_t s); /* hash output size: 32 or 64 */
const char *sframe_suite_name(sframe_suite_t s);

#define SFRAME_NONCE_LEN 12
#define SFRAME_HEADER_MAX 17                     /* config byte + 8-byte KID + 8-byte CTR */
#define SFRAME_TAG_MAX 16
#define SFRAME_OVERHEAD_MAX (SFRAME_HEADER_MAX + SFRAME_TAG_MAX)
/* Caller metadata is authenticated as part of the AAD (§4.4.3, §9.4). It is small by
 * nature (RTP header-extension bytes); this bound keeps the AAD on the stack. */
#define SFRAME_METADATA_MAX 512

/* ---- header (§4.3) -------------------------------------------------------------- */
typedef struct sframe_header {
  uint64_t kid;
  uint64_t ctr;
} sframe_header_t;

/* Encoded size of the header for (kid, ctr): 1..17 bytes. */
size_t sframe_header_size(uint64_t kid, uint64_t ctr);
/* Appends the minimal encoding of (kid, ctr). */
int sframe_header_encode(veil_writer_t *w, uint64_t kid, uint64_t ctr);
/* Reads one header from r (which is left just after it). VEIL_ETRUNC when the input ends
 * inside the header, VEIL_ENONMINIMAL for a non-minimal KID or CTR. */
int sframe_header_decode(veil_reader_t *r, sframe_header_t *h);

/* ---- key derivation (§4.4.2), exposed for the vectors and for tests --------------- */
/* sframe_key (Nk bytes) and sframe_salt (12 bytes) of base_key under (kid, suite). */
int sframe_derive_key_salt(sframe_suite_t s, uint64_t kid, const uint8_t *base_key,
                           size_t base_key_len, uint8_t *key_out, uint8_t salt_out[12]);
/* The suite's AEAD on its own (§4.5; for CTR suites the §4.5.1 compound with key =
 * enc_key || auth_key, Nk bytes). seal writes pt_len + Nt bytes; open writes
 * ct_len - Nt bytes, VEIL_EAUTH on a tag mismatch. Allocates: for tests and vectors. */
int sframe_aead_seal(sframe_suite_t s, const uint8_t *key, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
                     uint8_t *out);
int sframe_aead_open(sframe_suite_t s, const uint8_t *key, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
                     uint8_t *out);

/* ---- context (§4.4, Appendix A) ------------------------------------------------- */
typedef struct sframe_ctx sframe_ctx_t;

typedef enum sframe_key_usage {
  SFRAME_KEY_SEND = 1, /* encrypt only: has a next CTR */
  SFRAME_KEY_RECV = 2, /* decrypt only: has a replay window */
} sframe_key_usage_t;

#define SFRAME_REPLAY_WINDOW_DEFAULT 128
#define SFRAME_REPLAY_WINDOW_MAX 4096
#define SFRAME_MAX_KEYS_DEFAULT 256

typedef struct sframe_ctx_config {
  sframe_suite_t suite;
  /* Replay window in frames per receive KID: 0 means SFRAME_REPLAY_WINDOW_DEFAULT;
   * rounded up to a multiple of 64; at most SFRAME_REPLAY_WINDOW_MAX. */
  uint32_t replay_window;
  /* Most keys held at once (send + receive): 0 means SFRAME_MAX_KEYS_DEFAULT. */
  uint32_t max_keys;
} sframe_ctx_config_t;

/* Creates a context; *out is owned by the caller and freed with sframe_ctx_free. */
int sframe_ctx_new(sframe_ctx_t **out, const sframe_ctx_config_t *cfg);
/* Wipes every key and frees the context. NULL is allowed. */
void sframe_ctx_free(sframe_ctx_t *c);
sframe_suite_t sframe_ctx_suite(const sframe_ctx_t *c);

/* Derives sframe_key/sframe_salt from base_key (borrowed; not retained) and installs them
 * under kid. VEIL_EEXIST if kid is present (remove it first: replacing a key in place
 * would reset its CTR or replay state), VEIL_ESFRAME_FULL at max_keys. */
int sframe_ctx_add_key(sframe_ctx_t *c, uint64_t kid, sframe_key_usage_t usage,
                       const uint8_t *base_key, size_t base_key_len);
/* Wipes and removes one key; VEIL_ENOTFOUND if absent. */
int sframe_ctx_remove_key(sframe_ctx_t *c, uint64_t kid);
/* Wipes and removes every key whose (kid & mask) == value; returns how many (>= 0).
 * O(capacity); meant for key rotation, not for the media path. */
int sframe_ctx_remove_keys_matching(sframe_ctx_t *c, uint64_t mask, uint64_t value);
int sframe_ctx_has_key(const sframe_ctx_t *c, uint64_t kid);
/* Moves a send key's next CTR forward (a context restored from storage, §9.1). Never
 * backward: VEIL_ERANGE if ctr is below the next CTR, so a CTR can never be reused. */
int sframe_ctx_advance_ctr(sframe_ctx_t *c, uint64_t kid, uint64_t next_ctr);
/* The CTR the next encryption under kid will use. */
int sframe_ctx_next_ctr(const sframe_ctx_t *c, uint64_t kid, uint64_t *next_ctr);

/* Ciphertext size for a plaintext of pt_len under (kid, next CTR): header + pt + tag. */
size_t sframe_ctx_ciphertext_len(const sframe_ctx_t *c, uint64_t kid, size_t pt_len);

/* §4.4.3: out (capacity out_cap, caller-owned) receives header || ciphertext || tag and
 * *out_len its size. The key's CTR advances only on success. metadata may be NULL when
 * meta_len is 0. VEIL_EOVERFLOW if out_cap is too small (nothing consumed). */
int sframe_ctx_encrypt(sframe_ctx_t *c, uint64_t kid, const uint8_t *metadata,
                       size_t meta_len, const uint8_t *pt, size_t pt_len, uint8_t *out,
                       size_t out_cap, size_t *out_len);
/* §4.4.4: out receives the plaintext (ct_len - header - tag bytes). On any failure the
 * replay state is unchanged and out is wiped. hdr (may be NULL) receives KID and CTR,
 * which are authenticated only when the call returns 0. Errors: VEIL_ETRUNC /
 * VEIL_ENONMINIMAL (header), VEIL_ESFRAME_KID, VEIL_ESFRAME_KEY_USAGE,
 * VEIL_ESFRAME_REPLAY, VEIL_ESFRAME_TOO_OLD, VEIL_EAUTH. */
int sframe_ctx_decrypt(sframe_ctx_t *c, const uint8_t *metadata, size_t meta_len,
                       const uint8_t *ct, size_t ct_len, uint8_t *out, size_t out_cap,
                       size_t *out_len, sframe_header_t *hdr);

/* ---- MLS-based key management (§5.2) -------------------------------------------- */
/* KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E)), where S is the
 * smallest value with n_leaves <= (1 << S) for the epoch's tree, and E the configured
 * epoch bits. Every member shares one base_key per epoch (the exporter output); the KID,
 * which enters the key derivation (§4.4.2), gives each sender its own key and salt.
 * Our own KIDs are send-only, everyone else's receive-only. Keys are derived when first
 * needed (our first frame in a context, a peer's first frame), as §5.2 suggests. */
typedef struct sframe_mls sframe_mls_t;

#define SFRAME_MLS_EXPORTER_LABEL "SFrame 1.0 Base Key"
#define SFRAME_MLS_EPOCH_BITS_DEFAULT 4
#define SFRAME_MLS_EPOCHS_KEPT_DEFAULT 3
#define SFRAME_MLS_CONTEXTS_DEFAULT 4

typedef struct sframe_mls_config {
  sframe_suite_t suite;
  uint32_t epoch_bits;    /* E, 1..16; 0 means SFRAME_MLS_EPOCH_BITS_DEFAULT */
  uint32_t epochs_kept;   /* epochs held for in-flight frames, 1..2^E; 0 means default 3 */
  uint32_t max_contexts;  /* context ids accepted per sender, 1..2^16; 0 means default 4 */
  uint32_t replay_window; /* per KID, as sframe_ctx_config_t */
  uint32_t max_keys;      /* derived keys held at once; 0 means SFRAME_MAX_KEYS_DEFAULT */
} sframe_mls_config_t;

/* Decoded meaning of an MLS KID (valid only once decryption succeeded). */
typedef struct sframe_mls_sender {
  uint64_t epoch;
  uint32_t sender_index; /* MLS leaf index */
  uint64_t context;
} sframe_mls_sender_t;

int sframe_mls_new(sframe_mls_t **out, const sframe_mls_config_t *cfg);
void sframe_mls_free(sframe_mls_t *m);
/* The length to ask the MLS exporter for: AEAD.Nk of the suite. */
size_t sframe_mls_exporter_len(const sframe_mls_t *m);
/* Installs epoch `epoch` with its exporter output (exactly sframe_mls_exporter_len bytes,
 * borrowed, copied and wiped on removal), the tree's leaf count and our own leaf index,
 * and makes it the sending epoch. Epochs must increase (VEIL_ERANGE otherwise). Drops, and
 * wipes every key of, the epoch with the same low E bits (§5.2 "MUST remove") and every
 * epoch beyond epochs_kept. */
int sframe_mls_add_epoch(sframe_mls_t *m, uint64_t epoch, const uint8_t *exporter_secret,
                         size_t secret_len, uint32_t n_leaves, uint32_t own_leaf);
/* Whether epoch is currently held. */
int sframe_mls_has_epoch(const sframe_mls_t *m, uint64_t epoch);
/* The KID of (epoch, sender, context) under the held epoch's S. */
int sframe_mls_kid(const sframe_mls_t *m, uint64_t epoch, uint32_t sender_index,
                   uint64_t context, uint64_t *kid);
/* Encrypts under the newest epoch, our leaf index and `context` (< max_contexts). */
int sframe_mls_encrypt(sframe_mls_t *m, uint64_t context, const uint8_t *metadata,
                       size_t meta_len, const uint8_t *pt, size_t pt_len, uint8_t *out,
                       size_t out_cap, size_t *out_len);
/* Installs (if needed) our send key for the newest epoch and `context`, and returns its
 * KID: for sframe_rtp_packetize on sframe_mls_ctx(m). */
int sframe_mls_send_kid(sframe_mls_t *m, uint64_t context, uint64_t *kid);
/* Decrypts a frame from any held epoch; who (may be NULL) receives the sender. */
int sframe_mls_decrypt(sframe_mls_t *m, const uint8_t *metadata, size_t meta_len,
                       const uint8_t *ct, size_t ct_len, uint8_t *out, size_t out_cap,
                       size_t *out_len, sframe_mls_sender_t *who);
/* The underlying context (borrowed; owned by m). */
sframe_ctx_t *sframe_mls_ctx(sframe_mls_t *m);

/* ---- RTP packetization (Appendix B.5; docs/protocol.md) --------------------------- */
typedef enum sframe_rtp_mode {
  SFRAME_RTP_PER_FRAME = 1,  /* encrypt the frame, split the ciphertext over payloads */
  SFRAME_RTP_PER_PACKET = 2, /* split the frame, encrypt each payload on its own */
} sframe_rtp_mode_t;

/* One RTP payload: a view into the caller's buffer, and the RTP marker bit to send. */
typedef struct sframe_rtp_payload {
  const uint8_t *ptr; /* borrowed: points into the buffer passed to packetize */
  size_t len;
  int marker; /* 1 on the last payload of the frame */
} sframe_rtp_payload_t;

/* Encrypts one frame under kid and splits it into RTP payloads of at most max_payload
 * bytes, written to buf (capacity cap) and described in out[0..*n_out). Per-frame mode
 * needs cap >= frame_len + SFRAME_OVERHEAD_MAX; per-packet mode needs
 * cap >= frame_len + n * SFRAME_OVERHEAD_MAX for n payloads. Payload sizes are balanced
 * (they differ by at most one byte) so no tiny tail packet is sent. */
int sframe_rtp_packetize(sframe_ctx_t *c, sframe_rtp_mode_t mode, uint64_t kid,
                         const uint8_t *metadata, size_t meta_len, const uint8_t *frame,
                         size_t frame_len, size_t max_payload, uint8_t *buf, size_t cap,
                         sframe_rtp_payload_t *out, size_t max_out, size_t *n_out);

/* Receive side, per-frame mode: reassembles the ciphertext fragments of a frame by RTP
 * sequence number, timestamp and marker bit (docs/protocol.md, "SFrame RTP payload
 * format"). A frame is the run of payloads from the one after the previous frame's last
 * payload up to a payload with the marker bit, all with one RTP timestamp. Bounded: at
 * most max_packets payloads of at most max_payload bytes are held, in storage allocated
 * once by sframe_reasm_new. Frames are delivered in sequence order: a complete frame
 * waits while an older frame has fragments held, up to reorder_delay further packets;
 * then the older frame is dropped. A frame missing any fragment is never delivered.
 *
 * When the packet before a frame's first payload was lost, nothing in RTP tells whether
 * that packet ended the previous frame or began this one. Such a candidate is offered
 * with start_known = 0 and taken only if the accept callback takes it (SFrame decryption
 * authenticates it: a frame missing its start cannot authenticate); otherwise it stays
 * held in case its earlier fragment arrives late. */
typedef struct sframe_reasm sframe_reasm_t;

typedef struct sframe_reasm_config {
  uint32_t max_packets; /* payloads held, a power of two 16..4096; 0 means 256 */
  uint32_t max_payload; /* largest payload accepted, 16..9000; 0 means 1500 */
  uint32_t max_frame;   /* largest frame; 0 means max_packets * max_payload */
  /* Packets to wait for a late fragment of an older frame before delivering a newer,
   * complete one (and dropping the older): 1..max_packets-1; 0 means
   * min(16, max_packets / 2). */
  uint32_t reorder_delay;
} sframe_reasm_config_t;

/* Offered one candidate frame (a view of the reassembler's buffer, valid during the call).
 * Return 0 to take it; a negative code refuses it: a frame with a known start is then
 * dropped, one with an unknown start is kept for a later retry. */
typedef int (*sframe_reasm_accept_cb)(void *arg, const uint8_t *frame, size_t len,
                                      uint32_t ts, int start_known);

int sframe_reasm_new(sframe_reasm_t **out, const sframe_reasm_config_t *cfg);
void sframe_reasm_free(sframe_reasm_t *r);
/* Stores one payload (copied). Duplicates and payloads older than the window or than the
 * last delivered frame are ignored (return 0); VEIL_ELIMIT for an oversized payload. */
int sframe_reasm_push(sframe_reasm_t *r, uint16_t seq, uint32_t timestamp, int marker,
                      const uint8_t *payload, size_t len);
/* Offers complete frames, oldest first, to accept (NULL: take every frame whose start is
 * known, never offer the others). Returns 1 once a frame was taken, 0 when no candidate
 * is left. Call after every push until it returns 0. */
int sframe_reasm_pop(sframe_reasm_t *r, sframe_reasm_accept_cb accept, void *arg);
/* Frames known to be lost: their marker payload was discarded undelivered. */
uint64_t sframe_reasm_dropped(const sframe_reasm_t *r);

/* pop + sframe_ctx_decrypt: returns 1 with one decrypted frame in out (and its header in
 * hdr, may be NULL), 0 when no frame is ready. Frames that fail to decrypt are dropped
 * (start known) or kept (start unknown), as for pop. */
int sframe_rtp_depacketize(sframe_reasm_t *r, sframe_ctx_t *c, const uint8_t *metadata,
                           size_t meta_len, uint8_t *out, size_t out_cap, size_t *out_len,
                           sframe_header_t *hdr);

/* The same on MLS keys (receive keys derived on demand, as sframe_mls_decrypt). */
int sframe_mls_depacketize(sframe_reasm_t *r, sframe_mls_t *m, const uint8_t *metadata,
                           size_t meta_len, uint8_t *out, size_t out_cap, size_t *out_len,
                           sframe_mls_sender_t *who);

#endif
