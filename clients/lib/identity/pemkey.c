/* veil — private keys from PEM text (contract in pemkey.h). */
#include "clients/lib/identity/pemkey.h"

#include <string.h>

#include "common/bytes.h"
#include "common/hex.h"

#define DER_MAX 4096

/* id-ecPublicKey 1.2.840.10045.2.1, prime256v1 1.2.840.10045.3.1.7, Ed25519 1.3.101.112 */
static const uint8_t oid_ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_p256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_ed25519[] = {0x2b, 0x65, 0x70};

/* One DER TLV: tag must be `tag`; yields a sub-reader over the contents. */
static int der_tlv(veil_reader_t *r, uint8_t tag, veil_reader_t *sub) {
  uint8_t t = 0, l0 = 0;
  veil_read_u8(r, &t);
  veil_read_u8(r, &l0);
  size_t len = l0;
  if (l0 == 0x81) {
    uint8_t l1 = 0;
    veil_read_u8(r, &l1);
    len = l1;
  } else if (l0 == 0x82) {
    uint16_t l2 = 0;
    veil_read_u16(r, &l2);
    len = l2;
  } else if (l0 & 0x80) {
    return veil_reader_fail(r, VEIL_EDECODE);
  }
  if (r->err)
    return r->err;
  if (t != tag)
    return veil_reader_fail(r, VEIL_EDECODE);
  veil_view_t v;
  if (veil_read_bytes(r, len, &v))
    return r->err;
  veil_reader_init(sub, v.ptr, v.len);
  return 0;
}

static int der_expect(veil_reader_t *r, uint8_t tag, const uint8_t *val, size_t n) {
  veil_reader_t s;
  if (der_tlv(r, tag, &s))
    return r->err;
  if (veil_reader_remaining(&s) != n || memcmp(s.p, val, n) != 0)
    return veil_reader_fail(r, VEIL_EID_PEMKEY);
  return 0;
}

static int peek_tag(const veil_reader_t *r) {
  return veil_reader_remaining(r) ? r->p[0] : -1;
}

/* RFC 5915 ECPrivateKey; `need_params` when it stands alone (SEC1 PEM). */
static int read_sec1(veil_reader_t *in, int need_params, uint8_t priv[32]) {
  veil_reader_t seq, k;
  static const uint8_t one[] = {1};
  if (der_tlv(in, 0x30, &seq) || der_expect(&seq, 0x02, one, 1) || der_tlv(&seq, 0x04, &k))
    return VEIL_EID_PEMKEY;
  if (veil_reader_remaining(&k) != 32)
    return VEIL_EID_PEMKEY;
  int have_params = 0;
  if (peek_tag(&seq) == 0xa0) {
    veil_reader_t ctx;
    if (der_tlv(&seq, 0xa0, &ctx) || der_expect(&ctx, 0x06, oid_p256, sizeof oid_p256) ||
        veil_reader_finish(&ctx))
      return VEIL_EID_PEMKEY;
    have_params = 1;
  }
  if (need_params && !have_params)
    return VEIL_EID_PEMKEY;
  if (peek_tag(&seq) == 0xa1) {
    veil_reader_t pub;
    if (der_tlv(&seq, 0xa1, &pub))
      return VEIL_EID_PEMKEY;
  }
  if (veil_reader_finish(&seq))
    return VEIL_EID_PEMKEY;
  memcpy(priv, k.p, 32);
  return 0;
}

static int read_pkcs8(veil_reader_t *in, vc_sig_t *type, uint8_t priv[32]) {
  veil_reader_t seq, ver, alg, oid, octets;
  uint8_t v = 0xff;
  if (der_tlv(in, 0x30, &seq) || der_tlv(&seq, 0x02, &ver) || veil_read_u8(&ver, &v) ||
      veil_reader_finish(&ver) || v > 1 || der_tlv(&seq, 0x30, &alg) ||
      der_tlv(&alg, 0x06, &oid))
    return VEIL_EID_PEMKEY;
  size_t olen = veil_reader_remaining(&oid);
  int rc = VEIL_EID_PEMKEY;
  if (olen == sizeof oid_ec && memcmp(oid.p, oid_ec, olen) == 0) {
    if (der_expect(&alg, 0x06, oid_p256, sizeof oid_p256) || veil_reader_finish(&alg) ||
        der_tlv(&seq, 0x04, &octets) || read_sec1(&octets, 0, priv) ||
        veil_reader_finish(&octets))
      return VEIL_EID_PEMKEY;
    *type = VC_ECDSA_P256_SHA256;
    rc = 0;
  } else if (olen == sizeof oid_ed25519 && memcmp(oid.p, oid_ed25519, olen) == 0) {
    veil_reader_t inner;
    if (veil_reader_finish(&alg) || der_tlv(&seq, 0x04, &octets) ||
        der_tlv(&octets, 0x04, &inner) || veil_reader_finish(&octets) ||
        veil_reader_remaining(&inner) != 32)
      return VEIL_EID_PEMKEY;
    memcpy(priv, inner.p, 32);
    *type = VC_ED25519;
    rc = 0;
  }
  /* RFC 5958 optional [0] attributes and [1] public key follow; nothing else may. */
  veil_reader_t skip;
  if (rc == 0 && peek_tag(&seq) == 0xa0 && der_tlv(&seq, 0xa0, &skip))
    rc = VEIL_EID_PEMKEY;
  if (rc == 0 && peek_tag(&seq) == 0x81 && der_tlv(&seq, 0x81, &skip))
    rc = VEIL_EID_PEMKEY;
  if (rc == 0 && veil_reader_finish(&seq))
    rc = VEIL_EID_PEMKEY;
  if (rc)
    vc_wipe(priv, 32);
  return rc;
}

static const char *find(const char *hay, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; n <= len && i <= len - n; i++)
    if (memcmp(hay + i, needle, n) == 0)
      return hay + i;
  return NULL;
}

int pemkey_decode(const char *pem, size_t len, vc_sig_t *type, uint8_t priv[VC_SIG_PRIV_MAX]) {
  static const struct {
    const char *begin, *end;
    int sec1;
  } kinds[] = {
      {"-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----", 0},
      {"-----BEGIN EC PRIVATE KEY-----", "-----END EC PRIVATE KEY-----", 1},
  };
  if (len > PEMKEY_MAX_TEXT)
    return VEIL_ELIMIT;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    const char *b = find(pem, len, kinds[k].begin);
    if (!b)
      continue;
    const char *body = b + strlen(kinds[k].begin);
    const char *e = find(body, len - (size_t)(body - pem), kinds[k].end);
    if (!e)
      return VEIL_EID_PEMKEY;
    uint8_t der[DER_MAX];
    long n = veil_b64_decode_pem(body, (size_t)(e - body), der, sizeof der);
    if (n <= 0)
      return VEIL_EID_PEMKEY;
    veil_reader_t r;
    veil_reader_init(&r, der, (size_t)n);
    int rc;
    if (kinds[k].sec1) {
      rc = read_sec1(&r, 1, priv);
      *type = VC_ECDSA_P256_SHA256;
    } else {
      rc = read_pkcs8(&r, type, priv);
    }
    if (rc == 0 && veil_reader_finish(&r))
      rc = VEIL_EID_PEMKEY;
    vc_wipe(der, sizeof der);
    if (rc)
      vc_wipe(priv, VC_SIG_PRIV_MAX);
    return rc;
  }
  return VEIL_EID_PEMKEY;
}
