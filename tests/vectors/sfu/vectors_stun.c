/*
 * veil tests — STUN known answers: RFC 5769 §2.1–2.4 and RFC 8489 Appendix B.1 (erratum
 * 6268) from ../shared/vectors/stun. For every vector: parse, compare the decoded fields
 * with `expected`, verify MESSAGE-INTEGRITY (or -SHA256) with `hmac_key_hex`, verify
 * FINGERPRINT where present, check that a one-bit change to the integrity-protected part
 * breaks the MAC, and re-encode what can be re-encoded byte for byte.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/stun.h"
#include "vjson.h"

static int hexcmp(const char *hex, veil_view_t v) {
  size_t n = strlen(hex);
  if (n != 2 * v.len)
    return 0;
  for (size_t i = 0; i < v.len; i++) {
    unsigned x;
    if (sscanf(hex + 2 * i, "%2x", &x) != 1 || x != v.ptr[i])
      return 0;
  }
  return 1;
}

static int text_eq(const char *want, veil_view_t v) {
  return want && strlen(want) == v.len && memcmp(want, v.ptr, v.len) == 0;
}

static void check_expected(const char *title, const vj_t *exp, const sfu_stun_msg_t *m) {
  const char *s;
  int ok;
  if ((s = vj_str(exp, "software")))
    tap_ok((m->present & SFU_STUN_HAS_SOFTWARE) && text_eq(s, m->software), "%s: SOFTWARE", title);
  if ((s = vj_str(exp, "username")))
    tap_ok((m->present & SFU_STUN_HAS_USERNAME) && text_eq(s, m->username), "%s: USERNAME", title);
  if ((s = vj_str(exp, "nonce")))
    tap_ok((m->present & SFU_STUN_HAS_NONCE) && text_eq(s, m->nonce), "%s: NONCE", title);
  if ((s = vj_str(exp, "realm")))
    tap_ok((m->present & SFU_STUN_HAS_REALM) && text_eq(s, m->realm), "%s: REALM", title);
  if ((s = vj_str(exp, "userhash_hex")))
    tap_ok((m->present & SFU_STUN_HAS_USERHASH) && hexcmp(s, m->userhash), "%s: USERHASH", title);
  if (vj_get(exp, "priority")) {
    uint64_t p = vj_u64(exp, "priority", &ok);
    tap_ok(ok && (m->present & SFU_STUN_HAS_PRIORITY) && m->priority == p, "%s: PRIORITY", title);
  }
  if ((s = vj_str(exp, "ice_controlled_tiebreaker_hex"))) {
    uint64_t want = strtoull(s, NULL, 16);
    tap_ok((m->present & SFU_STUN_HAS_ICE_CONTROLLED) && m->tiebreaker == want,
           "%s: ICE-CONTROLLED tiebreaker", title);
  }
  const vj_t *xa = vj_get(exp, "xor_mapped_address");
  if (xa) {
    const char *fam = vj_str(xa, "family");
    const char *addr = vj_str(xa, "address");
    uint64_t port = vj_u64(xa, "port", &ok);
    uint8_t want[16] = {0};
    int is6 = fam && strcmp(fam, "IPv6") == 0;
    int parsed = addr && inet_pton(is6 ? AF_INET6 : AF_INET, addr, want) == 1;
    tap_ok(parsed && ok && (m->present & SFU_STUN_HAS_XOR_MAPPED) &&
               m->xor_mapped.family == (is6 ? 6 : 4) && m->xor_mapped.port == port &&
               memcmp(m->xor_mapped.addr, want, is6 ? 16 : 4) == 0,
           "%s: XOR-MAPPED-ADDRESS %s port %llu", title, addr ? addr : "?",
           (unsigned long long)port);
  }
}

/* Re-encodes the IPv4/IPv6 sample responses: same transaction id, SOFTWARE, mapped
 * address, key. Padding differs (RFC 5769 pads SOFTWARE with 0x20, we pad with zeros),
 * so compare after re-parsing instead of byte for byte, and check the MAC verifies. */
static void check_reencode(const char *title, const sfu_stun_msg_t *m, const uint8_t *key,
                           size_t key_len) {
  uint8_t out[256];
  size_t len = 0;
  veil_writer_t w;
  sfu_stun_builder_t b;
  veil_writer_init(&w, out, sizeof(out));
  sfu_stun_begin(&b, &w, m->method, m->cls, m->tid);
  sfu_stun_put_attr(&b, SFU_STUN_ATTR_SOFTWARE, m->software.ptr, m->software.len);
  sfu_stun_put_xor_addr(&b, SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, &m->xor_mapped);
  sfu_stun_put_integrity(&b, key, key_len);
  sfu_stun_put_fingerprint(&b);
  int rc = sfu_stun_finish(&b, &len);
  sfu_stun_msg_t back;
  int ok = rc == 0 && len == m->raw.len && sfu_stun_parse(out, len, &back) == 0 &&
           sfu_stun_addr_equal(&back.xor_mapped, &m->xor_mapped) &&
           sfu_stun_verify_integrity(&back, key, key_len) == 0 &&
           sfu_stun_verify_fingerprint(&back) == 0;
  /* With SOFTWARE padded to the same zero bytes both messages must be identical up to
   * MESSAGE-INTEGRITY's input, so compare the XOR-MAPPED-ADDRESS attribute bytes. */
  ok = ok && memcmp(out + 20 + 4 + ((m->software.len + 3) & ~(size_t)3),
                    m->raw.ptr + 20 + 4 + ((m->software.len + 3) & ~(size_t)3),
                    m->xor_mapped.family == 4 ? 12 : 24) == 0;
  tap_ok(ok, "%s: re-encoded response parses and verifies", title);
}

int main(void) {
  char path[4096];
  if (!vj_vector_path("stun/rfc5769-rfc8489-test-vectors.json", path, sizeof(path)))
    return tap_skip_all("vectors folder absent");
  vj_t *root = vj_parse_file(path);
  if (!root)
    return tap_skip_all("cannot read stun vectors");
  const vj_t *vecs = vj_get(root, "vectors");
  tap_ok(vecs && vj_size(vecs) >= 5, "stun: %zu vectors", vecs ? vj_size(vecs) : 0);
  for (size_t i = 0; vecs && i < vj_size(vecs); i++) {
    const vj_t *v = vj_at(vecs, i);
    /* A short label: the source up to " as corrected ..." / " (...)". */
    char title[64];
    snprintf(title, sizeof(title), "%s", vj_str(v, "source") ? vj_str(v, "source") : "?");
    title[strcspn(title, "(")] = '\0';
    char *cut = strstr(title, " as corrected");
    if (cut)
      *cut = '\0';
    size_t mlen = 0, klen = 0;
    uint8_t *msg = vj_hex(v, "message_hex", &mlen);
    uint8_t *key = vj_hex(v, "hmac_key_hex", &klen);
    sfu_stun_msg_t m;
    int rc = msg ? sfu_stun_parse(msg, mlen, &m) : -1;
    tap_ok(rc == 0, "%s: parses (%zu bytes)", title, mlen);
    if (rc != 0) {
      free(msg);
      free(key);
      continue;
    }
    int ok;
    uint64_t want_len = vj_u64(v, "message_length", &ok);
    tap_ok(ok && want_len == mlen, "%s: message_length", title);
    const char *tid = vj_str(v, "transaction_id_hex");
    veil_view_t tv = {m.tid, sizeof(m.tid)};
    tap_ok(tid && hexcmp(tid, tv), "%s: transaction id", title);
    const char *mt = vj_str(v, "message_type");
    tap_ok(mt && strtoul(mt, NULL, 16) == m.type && m.method == SFU_STUN_METHOD_BINDING,
           "%s: message type %s", title, mt ? mt : "?");
    check_expected(title, vj_get(v, "expected"), &m);

    const vj_t *mi = vj_get(v, "message_integrity");
    const char *alg = vj_str(mi, "algorithm");
    int sha256 = alg && strstr(alg, "SHA256") != NULL;
    int (*verify)(const sfu_stun_msg_t *, const uint8_t *, size_t) =
        sha256 ? sfu_stun_verify_integrity_sha256 : sfu_stun_verify_integrity;
    tap_ok(key && verify(&m, key, klen) == 0, "%s: %s verifies", title, alg ? alg : "?");
    /* Wrong key and a flipped bit before the MAC must both fail. */
    if (key && klen) {
      key[0] ^= 1;
      tap_ok(verify(&m, key, klen) == VEIL_ESTUN_INTEGRITY, "%s: wrong key rejected", title);
      key[0] ^= 1;
      msg[mlen > 40 ? 30 : 21] ^= 0x01;
      sfu_stun_msg_t m2;
      int prc = sfu_stun_parse(msg, mlen, &m2);
      tap_ok(prc != 0 || verify(&m2, key, klen) == VEIL_ESTUN_INTEGRITY,
             "%s: flipped bit rejected", title);
      msg[mlen > 40 ? 30 : 21] ^= 0x01;
    }
    const vj_t *fp = vj_get(v, "fingerprint");
    const vj_t *present = vj_get(fp, "present");
    if (present && present->type == VJ_BOOL && present->boolean) {
      tap_ok(sfu_stun_verify_fingerprint(&m) == 0, "%s: FINGERPRINT verifies", title);
      msg[mlen - 1] ^= 0x80;
      sfu_stun_msg_t m3;
      tap_ok(sfu_stun_parse(msg, mlen, &m3) == 0 &&
                 sfu_stun_verify_fingerprint(&m3) == VEIL_ESTUN_FINGERPRINT,
             "%s: corrupted FINGERPRINT rejected", title);
      msg[mlen - 1] ^= 0x80;
    } else {
      tap_ok(!(m.present & SFU_STUN_HAS_FINGERPRINT) &&
                 sfu_stun_verify_fingerprint(&m) == VEIL_ESTUN_FINGERPRINT,
             "%s: no FINGERPRINT", title);
    }
    if (m.cls == SFU_STUN_SUCCESS && (m.present & SFU_STUN_HAS_XOR_MAPPED) && key)
      check_reencode(title, &m, key, klen);
    free(msg);
    free(key);
  }
  vj_free(root);
  return tap_done();
}
