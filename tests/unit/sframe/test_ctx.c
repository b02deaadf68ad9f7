/* Unit tests of the SFrame context (RFC 9605 §4.4, §4.5, §7.4, §9.3): tampering in every
 * suite, wrong KIDs and key usage, replay window edges, counter exhaustion, the key table. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/sframe/sframe.h"

static const sframe_suite_t all_suites[] = {
    SFRAME_AES_128_CTR_HMAC_SHA256_80, SFRAME_AES_128_CTR_HMAC_SHA256_64,
    SFRAME_AES_128_CTR_HMAC_SHA256_32, SFRAME_AES_128_GCM_SHA256_128,
    SFRAME_AES_256_GCM_SHA512_128};
static const uint8_t base_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t meta[] = "rtp-ext";

/* A sender and a receiver sharing base_key under `kid`. */
typedef struct pair {
  sframe_ctx_t *tx, *rx;
} pair_t;

static pair_t pair(sframe_suite_t s, uint64_t kid, uint32_t window) {
  sframe_ctx_config_t cfg = {.suite = s, .replay_window = window};
  pair_t p;
  cr_assert_eq(sframe_ctx_new(&p.tx, &cfg), 0);
  cr_assert_eq(sframe_ctx_new(&p.rx, &cfg), 0);
  cr_assert_eq(sframe_ctx_add_key(p.tx, kid, SFRAME_KEY_SEND, base_key, sizeof base_key), 0);
  cr_assert_eq(sframe_ctx_add_key(p.rx, kid, SFRAME_KEY_RECV, base_key, sizeof base_key), 0);
  return p;
}

static void pair_free(pair_t *p) {
  sframe_ctx_free(p->tx);
  sframe_ctx_free(p->rx);
}

/* `out` has room for `cap` bytes. */
static size_t seal_into(sframe_ctx_t *tx, uint64_t kid, const uint8_t *pt, size_t n, uint8_t *out,
                        size_t cap) {
  size_t len = 0;
  cr_assert_eq(sframe_ctx_encrypt(tx, kid, meta, sizeof meta, pt, n, out, cap, &len), 0);
  return len;
}

static int open_(sframe_ctx_t *rx, const uint8_t *ct, size_t n, uint8_t *out, size_t *len) {
  return sframe_ctx_decrypt(rx, meta, sizeof meta, ct, n, out, 4096, len, NULL);
}

/* Frames 0..count-1 of one sender (CTR i for frame i), kept to be opened in any order. */
typedef struct frames {
  uint8_t ct[1100][64];
  size_t n[1100];
} frames_t;

static void seal_frames(frames_t *f, sframe_ctx_t *tx, uint64_t kid, size_t count,
                        const char *pt) {
  cr_assert_leq(count, sizeof f->n / sizeof f->n[0]);
  for (size_t i = 0; i < count; i++)
    f->n[i] = seal_into(tx, kid, (const uint8_t *)pt, strlen(pt), f->ct[i], sizeof f->ct[i]);
}

/* Opens frame i; the plaintext is dropped. */
static int open_frame(sframe_ctx_t *rx, const frames_t *f, size_t i) {
  uint8_t out[4096];
  size_t len;
  return open_(rx, f->ct[i], f->n[i], out, &len);
}

Test(sframe_ctx, rejects_every_single_bit_flip_in_every_suite) {
  for (size_t si = 0; si < sizeof all_suites / sizeof all_suites[0]; si++) {
    uint64_t kid = 0x1234; /* extended KID: the header has KID bytes to flip too */
    pair_t p = pair(all_suites[si], kid, 0);
    cr_assert_eq(sframe_ctx_advance_ctr(p.tx, kid, 300), 0);
    uint8_t pt[40], ct[4096], out[4096];
    for (size_t i = 0; i < sizeof pt; i++)
      pt[i] = (uint8_t)i;
    size_t n = seal_into(p.tx, kid, pt, sizeof pt, ct, sizeof ct), len;
    cr_assert_eq(n, 1 + 2 + 2 + sizeof pt + sframe_suite_nt(all_suites[si]));
    for (size_t bit = 0; bit < n * 8; bit++) {
      ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      cr_assert_neq(open_(p.rx, ct, n, out, &len), 0, "suite %d bit %zu accepted",
                    (int)all_suites[si], bit);
      ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Metadata is authenticated too. */
    uint8_t other_meta[] = "rtp-exT";
    cr_assert_eq(sframe_ctx_decrypt(p.rx, other_meta, sizeof other_meta, ct, n, out, 4096, &len,
                                    NULL),
                 VEIL_EAUTH);
    /* Failed attempts did not touch the replay state: the genuine frame still opens. */
    cr_assert_eq(open_(p.rx, ct, n, out, &len), 0);
    cr_assert_eq(len, sizeof pt);
    cr_assert_arr_eq(out, pt, sizeof pt);
    pair_free(&p);
  }
}

Test(sframe_ctx, rejects_truncated_ciphertext) {
  pair_t p = pair(SFRAME_AES_128_CTR_HMAC_SHA256_32, 3, 0);
  uint8_t ct[4096], out[4096];
  size_t n = seal_into(p.tx, 3, (const uint8_t *)"abc", 3, ct, sizeof ct), len;
  for (size_t cut = 0; cut < n; cut++)
    cr_assert_neq(open_(p.rx, ct, cut, out, &len), 0, "accepted %zu of %zu bytes", cut, n);
  cr_assert_eq(open_(p.rx, ct, 1 + 4 - 1, out, &len), VEIL_ETRUNC); /* shorter than the tag */
  pair_free(&p);
}

Test(sframe_ctx, rejects_unknown_kid_and_wrong_key) {
  pair_t p = pair(SFRAME_AES_128_GCM_SHA256_128, 5, 0);
  uint8_t ct[4096], out[4096];
  size_t len;
  cr_assert_eq(sframe_ctx_encrypt(p.tx, 6, NULL, 0, (const uint8_t *)"x", 1, ct, sizeof ct, &len),
               VEIL_ESFRAME_KID);
  size_t n = seal_into(p.tx, 5, (const uint8_t *)"hello", 5, ct, sizeof ct);
  sframe_ctx_t *other;
  sframe_ctx_config_t cfg = {.suite = SFRAME_AES_128_GCM_SHA256_128};
  cr_assert_eq(sframe_ctx_new(&other, &cfg), 0);
  cr_assert_eq(open_(other, ct, n, out, &len), VEIL_ESFRAME_KID);
  /* Same KID, different base key: authentication fails. */
  uint8_t k2[16] = {0};
  cr_assert_eq(sframe_ctx_add_key(other, 5, SFRAME_KEY_RECV, k2, sizeof k2), 0);
  cr_assert_eq(open_(other, ct, n, out, &len), VEIL_EAUTH);
  /* The KID enters the derivation: the same base key under KID 4 cannot open KID 5. */
  cr_assert_eq(sframe_ctx_add_key(other, 4, SFRAME_KEY_RECV, base_key, sizeof base_key), 0);
  ct[0] = (uint8_t)((ct[0] & 0x8f) | (4 << 4));
  cr_assert_eq(open_(other, ct, n, out, &len), VEIL_EAUTH);
  sframe_ctx_free(other);
  pair_free(&p);
}

Test(sframe_ctx, keeps_send_and_receive_keys_apart) {
  pair_t p = pair(SFRAME_AES_128_GCM_SHA256_128, 2, 0);
  uint8_t ct[4096], out[4096];
  size_t n = seal_into(p.tx, 2, (const uint8_t *)"a", 1, ct, sizeof ct), len;
  /* A frame under our own send KID is not decrypted (§4.4.1: never both). */
  cr_assert_eq(open_(p.tx, ct, n, out, &len), VEIL_ESFRAME_KEY_USAGE);
  cr_assert_eq(sframe_ctx_encrypt(p.rx, 2, NULL, 0, out, 0, ct, sizeof ct, &len),
               VEIL_ESFRAME_KEY_USAGE);
  cr_assert_eq(sframe_ctx_add_key(p.tx, 2, SFRAME_KEY_RECV, base_key, 16), VEIL_EEXIST);
  pair_free(&p);
}

Test(sframe_ctx, rejects_replay_and_accepts_reorder_inside_window) {
  pair_t p = pair(SFRAME_AES_128_GCM_SHA256_128, 1, 128);
  static frames_t f;
  seal_frames(&f, p.tx, 1, 300, "frame");
  cr_assert_eq(open_frame(p.rx, &f, 10), 0);
  cr_assert_eq(open_frame(p.rx, &f, 10), VEIL_ESFRAME_REPLAY);
  /* Older but inside the window, in any order. */
  cr_assert_eq(open_frame(p.rx, &f, 3), 0);
  cr_assert_eq(open_frame(p.rx, &f, 0), 0);
  cr_assert_eq(open_frame(p.rx, &f, 3), VEIL_ESFRAME_REPLAY);
  /* Jump ahead: top = 137; 137-127 = 10 is the oldest CTR still inside the window. */
  cr_assert_eq(open_frame(p.rx, &f, 137), 0);
  cr_assert_eq(open_frame(p.rx, &f, 10), VEIL_ESFRAME_REPLAY);
  cr_assert_eq(open_frame(p.rx, &f, 11), 0);
  cr_assert_eq(open_frame(p.rx, &f, 9), VEIL_ESFRAME_TOO_OLD);
  cr_assert_eq(open_frame(p.rx, &f, 0), VEIL_ESFRAME_TOO_OLD);
  /* A shift by less than the window keeps the bits: 11 is still remembered. */
  cr_assert_eq(open_frame(p.rx, &f, 138), 0);
  cr_assert_eq(open_frame(p.rx, &f, 11), VEIL_ESFRAME_REPLAY);
  cr_assert_eq(open_frame(p.rx, &f, 12), 0);
  /* A jump larger than the window clears it. */
  cr_assert_eq(open_frame(p.rx, &f, 299), 0);
  cr_assert_eq(open_frame(p.rx, &f, 172), 0);
  cr_assert_eq(open_frame(p.rx, &f, 171), VEIL_ESFRAME_TOO_OLD);
  cr_assert_eq(open_frame(p.rx, &f, 299), VEIL_ESFRAME_REPLAY);
  pair_free(&p);
}

Test(sframe_ctx, never_advances_window_on_authentication_failure) {
  pair_t p = pair(SFRAME_AES_128_CTR_HMAC_SHA256_80, 1, 64);
  uint8_t a[64], b[64], out[4096];
  size_t na = seal_into(p.tx, 1, (const uint8_t *)"a", 1, a, sizeof a), len;
  cr_assert_eq(sframe_ctx_advance_ctr(p.tx, 1, 1000), 0);
  size_t nb = seal_into(p.tx, 1, (const uint8_t *)"b", 1, b, sizeof b);
  /* A forged frame with a far-ahead CTR must not push frame 0 out of the window. */
  b[nb - 1] ^= 1;
  cr_assert_eq(open_(p.rx, b, nb, out, &len), VEIL_EAUTH);
  cr_assert_eq(open_(p.rx, a, na, out, &len), 0);
  b[nb - 1] ^= 1;
  cr_assert_eq(open_(p.rx, b, nb, out, &len), 0);
  pair_free(&p);
}

Test(sframe_ctx, honours_configured_window_size) {
  pair_t p = pair(SFRAME_AES_128_GCM_SHA256_128, 1, 1024);
  static frames_t f;
  seal_frames(&f, p.tx, 1, 1100, "f");
  cr_assert_eq(open_frame(p.rx, &f, 1099), 0);
  cr_assert_eq(open_frame(p.rx, &f, 76), 0); /* 1099 - 1023 */
  cr_assert_eq(open_frame(p.rx, &f, 75), VEIL_ESFRAME_TOO_OLD);
  pair_free(&p);
  sframe_ctx_config_t cfg = {.suite = SFRAME_AES_128_GCM_SHA256_128,
                             .replay_window = SFRAME_REPLAY_WINDOW_MAX + 1};
  sframe_ctx_t *c;
  cr_assert_eq(sframe_ctx_new(&c, &cfg), VEIL_ERANGE);
}

Test(sframe_ctx, exhausted_counter_is_an_error_not_a_wrap) {
  pair_t p = pair(SFRAME_AES_128_GCM_SHA256_128, 9, 0);
  cr_assert_eq(sframe_ctx_advance_ctr(p.tx, 9, UINT64_MAX - 1), 0);
  uint8_t ct[4096], out[4096];
  size_t len, n1 = seal_into(p.tx, 9, (const uint8_t *)"x", 1, ct, sizeof ct);
  sframe_header_t h;
  cr_assert_eq(sframe_ctx_decrypt(p.rx, meta, sizeof meta, ct, n1, out, 4096, &len, &h), 0);
  cr_assert_eq(h.ctr, UINT64_MAX - 1);
  size_t n2 = seal_into(p.tx, 9, (const uint8_t *)"y", 1, ct, sizeof ct);
  cr_assert_eq(sframe_ctx_decrypt(p.rx, meta, sizeof meta, ct, n2, out, 4096, &len, &h), 0);
  cr_assert_eq(h.ctr, UINT64_MAX);
  cr_assert_eq(sframe_ctx_encrypt(p.tx, 9, NULL, 0, out, 1, ct, sizeof ct, &len),
               VEIL_ESFRAME_CTR_EXHAUSTED);
  uint64_t next;
  cr_assert_eq(sframe_ctx_next_ctr(p.tx, 9, &next), VEIL_ESFRAME_CTR_EXHAUSTED);
  cr_assert_eq(sframe_ctx_advance_ctr(p.tx, 9, 0), VEIL_ERANGE);
  pair_free(&p);
}

Test(sframe_ctx, counter_never_moves_backwards) {
  pair_t p = pair(SFRAME_AES_128_GCM_SHA256_128, 9, 0);
  uint8_t ct[4096];
  seal_into(p.tx, 9, (const uint8_t *)"x", 1, ct, sizeof ct);
  seal_into(p.tx, 9, (const uint8_t *)"x", 1, ct, sizeof ct);
  cr_assert_eq(sframe_ctx_advance_ctr(p.tx, 9, 1), VEIL_ERANGE);
  uint64_t next;
  cr_assert_eq(sframe_ctx_next_ctr(p.tx, 9, &next), 0);
  cr_assert_eq(next, 2);
  /* A too-small output buffer consumes no counter. */
  size_t len;
  cr_assert_eq(sframe_ctx_encrypt(p.tx, 9, NULL, 0, ct, 10, ct + 100, 10, &len), VEIL_EOVERFLOW);
  cr_assert_eq(sframe_ctx_next_ctr(p.tx, 9, &next), 0);
  cr_assert_eq(next, 2);
  pair_free(&p);
}

Test(sframe_ctx, key_table_survives_many_adds_and_removes) {
  sframe_ctx_config_t cfg = {.suite = SFRAME_AES_128_GCM_SHA256_128, .max_keys = 300};
  sframe_ctx_t *c;
  cr_assert_eq(sframe_ctx_new(&c, &cfg), 0);
  for (uint64_t k = 0; k < 300; k++)
    cr_assert_eq(sframe_ctx_add_key(c, k * 16 + 3, SFRAME_KEY_RECV, base_key, 16), 0);
  cr_assert_eq(sframe_ctx_add_key(c, 99999, SFRAME_KEY_RECV, base_key, 16), VEIL_ESFRAME_FULL);
  for (uint64_t k = 0; k < 300; k += 2)
    cr_assert_eq(sframe_ctx_remove_key(c, k * 16 + 3), 0);
  for (uint64_t k = 0; k < 300; k++)
    cr_assert_eq(sframe_ctx_has_key(c, k * 16 + 3), (int)(k % 2), "kid %llu",
                 (unsigned long long)k);
  cr_assert_eq(sframe_ctx_remove_key(c, 3), VEIL_ENOTFOUND);
  /* Remove by mask: KIDs whose bit 4 is set (k odd) -> all remaining. */
  cr_assert_eq(sframe_ctx_remove_keys_matching(c, 0x1f, 0x13), 150);
  for (uint64_t k = 0; k < 300; k++)
    cr_assert_eq(sframe_ctx_has_key(c, k * 16 + 3), 0);
  sframe_ctx_free(c);
}

/* The CTR suites compose HMAC from the incremental hash; check the tag against the
 * provider's one-shot HMAC over §4.5.1's auth_data, built contiguously here. */
Test(sframe_ctx, compound_tag_matches_provider_hmac) {
  uint8_t key[48], nonce[12], aad[30], pt[77], ct[77 + 16];
  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)(i * 7 + 1);
  memset(nonce, 0x42, sizeof nonce);
  memset(aad, 0x17, sizeof aad);
  memset(pt, 0x99, sizeof pt);
  const sframe_suite_t s[] = {SFRAME_AES_128_CTR_HMAC_SHA256_80,
                              SFRAME_AES_128_CTR_HMAC_SHA256_64,
                              SFRAME_AES_128_CTR_HMAC_SHA256_32};
  for (int j = 0; j < 3; j++) {
    size_t nt = sframe_suite_nt(s[j]);
    cr_assert_eq(sframe_aead_seal(s[j], key, nonce, aad, sizeof aad, pt, sizeof pt, ct), 0);
    uint8_t auth[24 + 12 + sizeof aad + sizeof pt], mac[32];
    memset(auth, 0, 24);
    auth[7] = sizeof aad;
    auth[15] = sizeof pt;
    auth[23] = (uint8_t)nt;
    memcpy(auth + 24, nonce, 12);
    memcpy(auth + 36, aad, sizeof aad);
    memcpy(auth + 36 + sizeof aad, ct, sizeof pt);
    cr_assert_eq(vc_hmac(VC_SHA256, key + 16, 32, auth, sizeof auth, mac), 0);
    cr_assert_arr_eq(ct + sizeof pt, mac, nt);
    /* And the ciphertext is AES-128-CTR from nonce || 0^32. */
    uint8_t iv[16] = {0}, ks[sizeof pt];
    memcpy(iv, nonce, 12);
    cr_assert_eq(vc_aes_ctr(key, 16, iv, pt, sizeof pt, ks), 0);
    cr_assert_arr_eq(ks, ct, sizeof pt);
  }
}

Test(sframe_ctx, rejects_oversized_metadata) {
  pair_t p = pair(SFRAME_AES_128_GCM_SHA256_128, 1, 0);
  static uint8_t big[SFRAME_METADATA_MAX + 1], ct[4096];
  size_t len;
  cr_assert_eq(sframe_ctx_encrypt(p.tx, 1, big, sizeof big, big, 1, ct, sizeof ct, &len),
               VEIL_ELIMIT);
  cr_assert_eq(sframe_ctx_encrypt(p.tx, 1, big, SFRAME_METADATA_MAX, big, 1, ct, sizeof ct, &len),
               0);
  pair_free(&p);
}

Test(sframe_ctx, rejects_non_minimal_header_of_a_genuine_frame) {
  pair_t p = pair(SFRAME_AES_128_GCM_SHA256_128, 3, 0);
  uint8_t ct[4096], alt[4096], out[4096];
  size_t n = seal_into(p.tx, 3, (const uint8_t *)"abc", 3, ct, sizeof ct), len;
  cr_assert_eq(ct[0], 0x30); /* KID 3, CTR 0 in the config byte */
  /* The same (KID, CTR) with the KID spelled as an extended byte: never accepted, so the
   * SFU cannot re-encode a header without the receiver noticing. */
  alt[0] = 0x80;
  alt[1] = 0x03;
  memcpy(alt + 2, ct + 1, n - 1);
  cr_assert_eq(open_(p.rx, alt, n + 1, out, &len), VEIL_ENONMINIMAL);
  cr_assert_eq(open_(p.rx, ct, n, out, &len), 0);
  pair_free(&p);
}

Test(sframe_ctx, wipes_output_of_forged_ctr_hmac_frame) {
  pair_t p = pair(SFRAME_AES_128_CTR_HMAC_SHA256_80, 1, 0);
  uint8_t ct[4096], out[4096];
  uint8_t pt[64];
  memset(pt, 0xab, sizeof pt);
  size_t n = seal_into(p.tx, 1, pt, sizeof pt, ct, sizeof ct), len;
  ct[n - 1] ^= 1;
  memset(out, 0xcc, sizeof out);
  cr_assert_eq(open_(p.rx, ct, n, out, &len), VEIL_EAUTH);
  for (size_t i = 0; i < sizeof pt; i++)
    cr_assert_eq(out[i], 0, "byte %zu of a forged frame's plaintext left behind", i);
  pair_free(&p);
}

/* ---- keys held across many frames (the per-KID keyed cipher contexts) ---------------- */

/* One direction of a two-member call: the sender's send key and the receiver's receive
 * key for `kid`, and the sframe_key / sframe_salt both derive from `base`. */
typedef struct way {
  sframe_ctx_t *tx, *rx;
  uint64_t kid;
  uint8_t base[16], key[48], salt[12];
} way_t;

static void way_add_keys(way_t *w) {
  cr_assert_eq(sframe_ctx_add_key(w->tx, w->kid, SFRAME_KEY_SEND, w->base, sizeof w->base), 0);
  cr_assert_eq(sframe_ctx_add_key(w->rx, w->kid, SFRAME_KEY_RECV, w->base, sizeof w->base), 0);
  cr_assert_eq(sframe_derive_key_salt(sframe_ctx_suite(w->tx), w->kid, w->base, sizeof w->base,
                                      w->key, w->salt),
               0);
}

static void way_remove_keys(way_t *w) {
  cr_assert_eq(sframe_ctx_remove_key(w->tx, w->kid), 0);
  cr_assert_eq(sframe_ctx_remove_key(w->rx, w->kid), 0);
}

/* Frame i's length: mostly not a multiple of the AES block, and changing every frame, so
 * keystream left over from one frame's last partial block would corrupt the next one. */
static size_t way_len(size_t i) { return (i * 37 + 5) % 301; }

/* Seals frame i (metadata on odd frames), checks it byte for byte against the suite's
 * AEAD keyed from scratch for this one frame (sframe_aead_seal: nonce = salt XOR CTR,
 * §4.4.3; aad = header || metadata), then opens it at the receiver, after a forged copy
 * (last tag bit flipped) was refused there. Returns the frame's length in ct. */
static size_t way_frame(way_t *w, size_t i, uint8_t ct[4096]) {
  sframe_suite_t s = sframe_ctx_suite(w->tx);
  size_t pt_len = way_len(i), meta_len = i % 2 ? sizeof meta : 0, n, len;
  uint8_t pt[512], out[4096], ref[4096], aad[64], nonce[12];
  for (size_t b = 0; b < pt_len; b++)
    pt[b] = (uint8_t)(b * 13 + i + w->kid);
  uint64_t ctr;
  cr_assert_eq(sframe_ctx_next_ctr(w->tx, w->kid, &ctr), 0);
  cr_assert_eq(sframe_ctx_encrypt(w->tx, w->kid, meta_len ? meta : NULL, meta_len, pt, pt_len,
                                  ct, 4096, &n),
               0);
  size_t hlen = sframe_header_size(w->kid, ctr);
  cr_assert_eq(n, hlen + pt_len + sframe_suite_nt(s));
  memcpy(aad, ct, hlen);
  memcpy(aad + hlen, meta, meta_len);
  memcpy(nonce, w->salt, sizeof nonce);
  for (int b = 0; b < 8; b++)
    nonce[11 - b] ^= (uint8_t)(ctr >> (8 * b));
  cr_assert_eq(sframe_aead_seal(s, w->key, nonce, aad, hlen + meta_len, pt, pt_len, ref), 0);
  cr_assert_arr_eq(ct + hlen, ref, n - hlen, "suite %d kid %llu frame %zu differs from one-shot",
                   (int)s, (unsigned long long)w->kid, i);
  ct[n - 1] ^= 1;
  cr_assert_eq(sframe_ctx_decrypt(w->rx, meta, meta_len, ct, n, out, sizeof out, &len, NULL),
               VEIL_EAUTH);
  ct[n - 1] ^= 1;
  memset(out, 0xee, sizeof out);
  cr_assert_eq(sframe_ctx_decrypt(w->rx, meta, meta_len, ct, n, out, sizeof out, &len, NULL), 0,
               "suite %d kid %llu frame %zu", (int)s, (unsigned long long)w->kid, i);
  cr_assert_eq(len, pt_len);
  if (pt_len)
    cr_assert_arr_eq(out, pt, pt_len, "suite %d kid %llu frame %zu", (int)s,
                     (unsigned long long)w->kid, i);
  return n;
}

/* Each key's cipher is keyed once, when it is added, and then serves every frame; removing
 * it frees and wipes that state. Many frames each way must match a per-frame one-shot
 * AEAD, and so must the frames after the keys were removed and added again (same base key:
 * the same frames again, CTR from 0; a new one: the old frames are refused). */
Test(sframe_ctx, keyed_cipher_serves_many_frames_both_ways_and_survives_rekey) {
  for (size_t si = 0; si < sizeof all_suites / sizeof all_suites[0]; si++) {
    sframe_ctx_config_t cfg = {.suite = all_suites[si], .replay_window = 1024};
    sframe_ctx_t *a, *b;
    cr_assert_eq(sframe_ctx_new(&a, &cfg), 0);
    cr_assert_eq(sframe_ctx_new(&b, &cfg), 0);
    way_t ab = {.tx = a, .rx = b, .kid = 0x2a}, ba = {.tx = b, .rx = a, .kid = 0x2b};
    for (size_t i = 0; i < sizeof ab.base; i++) {
      ab.base[i] = (uint8_t)(i + 1);
      ba.base[i] = (uint8_t)(0xf0 - i);
    }
    way_add_keys(&ab);
    way_add_keys(&ba);
    static uint8_t first[2][4096];
    size_t first_n[2] = {0, 0};
    for (size_t i = 0; i < 300; i++) {
      uint8_t ct[4096];
      size_t n = way_frame(&ab, i, ct);
      if (i == 0) {
        memcpy(first[0], ct, n);
        first_n[0] = n;
      }
      n = way_frame(&ba, i, ct);
      if (i == 0) {
        memcpy(first[1], ct, n);
        first_n[1] = n;
      }
    }
    /* Same base keys again: CTR 0 again, so frame 0 comes out identical. */
    way_remove_keys(&ab);
    way_remove_keys(&ba);
    way_add_keys(&ab);
    way_add_keys(&ba);
    for (size_t i = 0; i < 40; i++) {
      uint8_t ct[4096];
      size_t n = way_frame(&ab, i, ct);
      if (i == 0)
        cr_assert(n == first_n[0] && memcmp(ct, first[0], n) == 0);
      n = way_frame(&ba, i, ct);
      if (i == 0)
        cr_assert(n == first_n[1] && memcmp(ct, first[1], n) == 0);
    }
    /* A new base key for A's KID: B's new receive key refuses A's frames of before. */
    way_remove_keys(&ab);
    ab.base[0] ^= 0x80;
    way_add_keys(&ab);
    uint8_t out[4096];
    size_t len;
    cr_assert_eq(sframe_ctx_decrypt(b, NULL, 0, first[0], first_n[0], out, sizeof out, &len,
                                    NULL),
                 VEIL_EAUTH);
    for (size_t i = 0; i < 40; i++) {
      uint8_t ct[4096];
      way_frame(&ab, i, ct);
      way_frame(&ba, 40 + i, ct);
    }
    sframe_ctx_free(a);
    sframe_ctx_free(b);
  }
}
