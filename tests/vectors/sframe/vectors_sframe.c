/*
 * SFrame known-answer tests: RFC 9605 Appendix C (sframe/rfc9605-test-vectors.json).
 *
 *  header[]       encode (kid, ctr) == encoded, and decode(encoded) == (kid, ctr), with
 *                 every byte consumed; kid/ctr read exactly with vj_u64 (up to 2^64-1).
 *  aes_ctr_hmac[] the §4.5.1 compound AEAD: Encrypt(key, nonce, aad, pt) == ct, and
 *                 Decrypt gives pt back.
 *  sframe[]       §4.4.2 labels, key and salt; then with base_key installed for kid:
 *                 encrypt(ctr, kid, metadata, pt) == ct, and decrypt(metadata, ct) == pt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/lib/crypto/provider.h"
#include "clients/lib/sframe/sframe.h"
#include "vjson.h"

static void run_header(const vj_t *e, size_t i) {
  int ok1 = 0, ok2 = 0;
  uint64_t kid = vj_u64(e, "kid", &ok1), ctr = vj_u64(e, "ctr", &ok2);
  size_t enc_len;
  uint8_t *enc = vj_hex(e, "encoded", &enc_len);
  if (!ok1 || !ok2 || !enc) {
    tap_ok(0, "header[%zu]: malformed entry", i);
    free(enc);
    return;
  }
  uint8_t buf[SFRAME_HEADER_MAX];
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof(buf));
  int rc = sframe_header_encode(&w, kid, ctr);
  int enc_ok = rc == 0 && sframe_header_size(kid, ctr) == w.len &&
               tap_bytes_eq("encoded", buf, w.len, enc, enc_len);
  veil_reader_t r;
  veil_reader_init(&r, enc, enc_len);
  sframe_header_t h;
  rc = sframe_header_decode(&r, &h);
  int dec_ok = rc == 0 && veil_reader_finish(&r) == 0 && h.kid == kid && h.ctr == ctr;
  tap_ok(enc_ok && dec_ok, "header[%zu] kid=%llu ctr=%llu", i, (unsigned long long)kid,
         (unsigned long long)ctr);
  free(enc);
}

static void run_aead(const vj_t *e, size_t i) {
  int ok = 0;
  sframe_suite_t s = (sframe_suite_t)vj_u64(e, "cipher_suite", &ok);
  size_t klen, nlen, alen, plen, clen;
  uint8_t *key = vj_hex(e, "key", &klen), *nonce = vj_hex(e, "nonce", &nlen);
  uint8_t *aad = vj_hex(e, "aad", &alen), *pt = vj_hex(e, "pt", &plen);
  uint8_t *ct = vj_hex(e, "ct", &clen);
  uint8_t *out = malloc(plen + SFRAME_TAG_MAX + 1), *back = malloc(clen + 1);
  int pass = ok && key && nonce && aad && pt && ct && out && back &&
             klen == sframe_suite_nk(s) && nlen == SFRAME_NONCE_LEN;
  if (pass) {
    pass = sframe_aead_seal(s, key, nonce, aad, alen, pt, plen, out) == 0 &&
           tap_bytes_eq("ct", out, plen + sframe_suite_nt(s), ct, clen);
    pass = pass && clen >= sframe_suite_nt(s) &&
           sframe_aead_open(s, key, nonce, aad, alen, ct, clen, back) == 0 &&
           tap_bytes_eq("pt", back, clen - sframe_suite_nt(s), pt, plen);
  }
  tap_ok(pass, "aes_ctr_hmac[%zu] suite %d (%s)", i, (int)s,
         sframe_suite_name(s) ? sframe_suite_name(s) : "?");
  free(key), free(nonce), free(aad), free(pt), free(ct), free(out), free(back);
}

/* The label bytes of §4.4.2, built independently of the library from the spec's text. */
static size_t build_label(uint8_t *buf, const char *prefix, uint64_t kid, sframe_suite_t s) {
  size_t n = strlen(prefix);
  memcpy(buf, prefix, n);
  for (int i = 7; i >= 0; i--)
    buf[n++] = (uint8_t)(kid >> (8 * i));
  buf[n++] = (uint8_t)((unsigned)s >> 8);
  buf[n++] = (uint8_t)s;
  return n;
}

static void run_sframe(const vj_t *e, size_t i) {
  int ok1 = 0, ok2 = 0, ok3 = 0;
  sframe_suite_t s = (sframe_suite_t)vj_u64(e, "cipher_suite", &ok1);
  uint64_t kid = vj_u64(e, "kid", &ok2), ctr = vj_u64(e, "ctr", &ok3);
  size_t bl, kll, sll, kl, sl, ml, pl, cl;
  uint8_t *base = vj_hex(e, "base_key", &bl), *klab = vj_hex(e, "sframe_key_label", &kll);
  uint8_t *slab = vj_hex(e, "sframe_salt_label", &sll), *key = vj_hex(e, "sframe_key", &kl);
  uint8_t *salt = vj_hex(e, "sframe_salt", &sl), *meta = vj_hex(e, "metadata", &ml);
  uint8_t *pt = vj_hex(e, "pt", &pl), *ct = vj_hex(e, "ct", &cl);
  const char *name = sframe_suite_name(s) ? sframe_suite_name(s) : "?";
  if (!(ok1 && ok2 && ok3 && base && klab && slab && key && salt && meta && pt && ct)) {
    tap_ok(0, "sframe[%zu]: malformed entry", i);
    goto done;
  }
  uint8_t lab[64];
  size_t n = build_label(lab, "SFrame 1.0 Secret key ", kid, s);
  tap_ok(tap_bytes_eq("key label", lab, n, klab, kll), "sframe[%zu] %s key label", i, name);
  n = build_label(lab, "SFrame 1.0 Secret salt ", kid, s);
  tap_ok(tap_bytes_eq("salt label", lab, n, slab, sll), "sframe[%zu] %s salt label", i, name);

  uint8_t dkey[48], dsalt[12];
  int rc = sframe_derive_key_salt(s, kid, base, bl, dkey, dsalt);
  tap_ok(rc == 0 && tap_bytes_eq("sframe_key", dkey, sframe_suite_nk(s), key, kl) &&
             tap_bytes_eq("sframe_salt", dsalt, 12, salt, sl),
         "sframe[%zu] %s key and salt", i, name);

  sframe_ctx_t *tx = NULL, *rx = NULL;
  sframe_ctx_config_t cfg = {.suite = s};
  uint8_t out[256], back[256];
  size_t out_len = 0, back_len = 0;
  int pass = sframe_ctx_new(&tx, &cfg) == 0 && sframe_ctx_new(&rx, &cfg) == 0 &&
             sframe_ctx_add_key(tx, kid, SFRAME_KEY_SEND, base, bl) == 0 &&
             sframe_ctx_add_key(rx, kid, SFRAME_KEY_RECV, base, bl) == 0 &&
             sframe_ctx_advance_ctr(tx, kid, ctr) == 0;
  pass = pass && pl + SFRAME_OVERHEAD_MAX <= sizeof(out) &&
         sframe_ctx_encrypt(tx, kid, meta, ml, pt, pl, out, sizeof(out), &out_len) == 0 &&
         tap_bytes_eq("ct", out, out_len, ct, cl);
  tap_ok(pass, "sframe[%zu] %s encrypt kid=%llu ctr=%llu", i, name, (unsigned long long)kid,
         (unsigned long long)ctr);
  sframe_header_t h = {0, 0};
  pass = rx && sframe_ctx_decrypt(rx, meta, ml, ct, cl, back, sizeof(back), &back_len, &h) == 0 &&
         h.kid == kid && h.ctr == ctr && tap_bytes_eq("pt", back, back_len, pt, pl);
  tap_ok(pass, "sframe[%zu] %s decrypt", i, name);
  sframe_ctx_free(tx);
  sframe_ctx_free(rx);
done:
  free(base), free(klab), free(slab), free(key), free(salt), free(meta), free(pt), free(ct);
}

int main(void) {
  char path[4096];
  if (!vj_vector_path("sframe/rfc9605-test-vectors.json", path, sizeof(path)))
    return tap_skip_all("vectors folder absent");
  vj_t *doc = vj_parse_file(path);
  if (!doc) {
    tap_ok(0, "parse %s", path);
    return tap_done();
  }
  tap_diag("backend: %s", vc_backend_name());
  const vj_t *hdr = vj_get(doc, "header"), *aead = vj_get(doc, "aes_ctr_hmac");
  const vj_t *sf = vj_get(doc, "sframe");
  tap_ok(hdr && vj_size(hdr) == 289 && aead && vj_size(aead) == 3 && sf && vj_size(sf) == 5,
         "vector file has 289 header, 3 aes_ctr_hmac and 5 sframe entries");
  for (size_t i = 0; hdr && i < vj_size(hdr); i++)
    run_header(vj_at(hdr, i), i);
  for (size_t i = 0; aead && i < vj_size(aead); i++)
    run_aead(vj_at(aead, i), i);
  for (size_t i = 0; sf && i < vj_size(sf); i++)
    run_sframe(vj_at(sf, i), i);
  vj_free(doc);
  return tap_done();
}
