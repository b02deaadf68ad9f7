/*
 * veil MLS — the secret tree and per-sender hash ratchets (RFC 9420 §9), and the sender
 * data key/nonce (§6.3.2).
 *
 * Lazy: creating a tree derives nothing. A leaf's ratchets are set up the first time
 * that leaf sends or is received from, by walking down from the deepest node secret still
 * held on its path; each parent secret is wiped as soon as both children are derived, and
 * the leaf secret as soon as its two ratchets are (§9.2). A 1000-member group costs one
 * node-secret slot per tree node (2n-1 slots of Nh bytes, allocated once) and ratchet
 * state only for the members actually heard from.
 *
 * Generations (§9.1): the sender takes consecutive generations (mls_secret_tree_next);
 * a receiver asks for the generation named in the SenderData (mls_secret_tree_get). Asking
 * ahead derives the skipped keys into a bounded per-ratchet window (out-of-order
 * delivery), up to `max_forward` generations ahead; asking behind succeeds once for a key
 * still in the window. Every key handed out is deleted from the tree (consumed, §9.2):
 * the caller wipes its copy (mls_ratchet_key_wipe) after use.
 *
 * Not thread-safe: one tree belongs to one group state.
 */
#ifndef VEIL_CLIENTS_MLS_SECRET_TREE_H
#define VEIL_CLIENTS_MLS_SECRET_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "clients/lib/mls/suite.h"
#include "common/bytes.h"

typedef enum mls_ratchet_type {
  MLS_RATCHET_HANDSHAKE = 0,   /* Proposal and Commit content */
  MLS_RATCHET_APPLICATION = 1, /* application data */
} mls_ratchet_type_t;

typedef struct mls_secret_tree_config {
  uint32_t max_forward; /* how far ahead of the ratchet a receiver derives (default 1024) */
  uint32_t window;      /* skipped keys kept per ratchet for out-of-order use (default 32) */
} mls_secret_tree_config_t;

#define MLS_ST_DEFAULT_MAX_FORWARD 1024
#define MLS_ST_DEFAULT_WINDOW 32

typedef struct mls_ratchet_key {
  uint32_t generation;
  uint8_t key[MLS_AEAD_KEY_MAX];     /* suite->nk bytes used */
  uint8_t nonce[MLS_AEAD_NONCE_LEN]; /* suite->nn bytes */
} mls_ratchet_key_t;

typedef struct mls_secret_tree mls_secret_tree_t;

/* A tree over n_leaves leaves (a power of two, as RFC 9420 trees are, 1..2^16) rooted at
 * encryption_secret (copied; the caller wipes its own copy, §9.2). cfg NULL: defaults.
 * NULL on allocation failure or bad arguments. Free with mls_secret_tree_free. */
mls_secret_tree_t *mls_secret_tree_new(const mls_suite_t *s, const uint8_t *encryption_secret,
                                       uint32_t n_leaves, const mls_secret_tree_config_t *cfg);
/* Wipes every secret and frees. NULL is allowed. */
void mls_secret_tree_free(mls_secret_tree_t *t);

/* Sender: the key/nonce of the ratchet's current generation; the ratchet advances and the
 * consumed secret is wiped. VEIL_EMLS_LEAF_INDEX for a leaf outside the tree,
 * VEIL_EMLS_RATCHET_EXHAUSTED past generation 2^32-1. */
int mls_secret_tree_next(mls_secret_tree_t *t, uint32_t leaf, mls_ratchet_type_t type,
                         mls_ratchet_key_t *out);
/* Receiver: the key/nonce of `generation`. VEIL_EMLS_GENERATION_USED when that key was
 * already consumed or fell out of the window, VEIL_EMLS_GENERATION_AHEAD when it lies
 * more than max_forward generations ahead. Nothing changes on error. */
int mls_secret_tree_get(mls_secret_tree_t *t, uint32_t leaf, mls_ratchet_type_t type,
                        uint32_t generation, mls_ratchet_key_t *out);

/* Returns a key obtained from mls_secret_tree_get whose message then failed to decrypt:
 * §9.2 counts a key as consumed only once it decrypted a message, so a forged or
 * corrupted message must not burn the key of the genuine one. The key goes back into the
 * window (the oldest key is evicted if it is full). VEIL_EINVAL for a generation the
 * ratchet has not passed, VEIL_EEXIST when the window already holds it. */
int mls_secret_tree_put_back(mls_secret_tree_t *t, uint32_t leaf, mls_ratchet_type_t type,
                             const mls_ratchet_key_t *key);

/* Number of skipped keys currently held for a ratchet (tests and metrics). */
uint32_t mls_secret_tree_window_len(const mls_secret_tree_t *t, uint32_t leaf,
                                    mls_ratchet_type_t type);

/* Persistence (a member resuming after a crash; additive, for the group layer): writes
 * exactly the secrets still held (frontier node secrets, ratchet secrets, skipped keys)
 * so nothing already consumed comes back. The output holds key material: the caller
 * wipes it (veil_writer_free does). Deserialize checks every count and bound. */
int mls_secret_tree_serialize(const mls_secret_tree_t *t, veil_writer_t *w);
int mls_secret_tree_deserialize(const mls_suite_t *s, veil_reader_t *r, mls_secret_tree_t **out);

void mls_ratchet_key_wipe(mls_ratchet_key_t *k);

/* §6.3.2: sender_data_key = ExpandWithLabel(sender_data_secret, "key", sample, Nk) and
 * sender_data_nonce likewise with "nonce" and Nn, where sample is the first Nh bytes of
 * the content ciphertext (all of it when shorter). key: s->nk, nonce: s->nn bytes. */
int mls_sender_data_key_nonce(const mls_suite_t *s, const uint8_t *sender_data_secret,
                              const uint8_t *ciphertext, size_t ciphertext_len, uint8_t *key,
                              uint8_t *nonce);

#endif
