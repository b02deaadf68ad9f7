/*
 * MLS codec: primitives (opaque<V>, optional<T>, lists) and the small structures
 * Credential (§5.3), Capabilities (§7.2), Extension (§13.4), HPKECiphertext (§5.1.3).
 */
#include <string.h>

#include "clients/lib/mls/codec.h"
#include "clients/lib/mls/codec_internal.h"

int mls_read_opaque(veil_reader_t *r, veil_view_t *out) {
  return veil_read_vec(r, VEIL_LEN_VARINT, MLS_MAX_OPAQUE, out);
}

int mls_write_opaque(veil_writer_t *w, veil_view_t v) {
  if (v.len && !v.ptr)
    return veil_writer_fail(w, VEIL_EINVAL);
  return veil_write_vec(w, VEIL_LEN_VARINT, v.ptr, v.len);
}

int mls_read_optional(veil_reader_t *r, int *present) {
  uint8_t b = 0;
  int rc = veil_read_u8(r, &b);
  if (rc)
    return rc;
  /* §2.1.1: a presence octet other than 0 or 1 MUST be rejected. */
  if (b > 1)
    return veil_reader_fail(r, VEIL_EMLS_OPTIONAL);
  *present = b;
  return 0;
}

/* ---- lists ------------------------------------------------------------------------- */
uint16_t mls_list_u16(const mls_list_t *l, uint32_t i) {
  const uint8_t *p = l->raw.ptr + 2u * i;
  return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t mls_list_u32(const mls_list_t *l, uint32_t i) {
  const uint8_t *p = l->raw.ptr + 4u * i;
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int mls_list_has_u16(const mls_list_t *l, uint16_t v) {
  for (uint32_t i = 0; i < l->count; i++)
    if (mls_list_u16(l, i) == v)
      return 1;
  return 0;
}

int mls_list_encode(veil_writer_t *w, const mls_list_t *l) {
  return mls_write_opaque(w, l->raw);
}

int mls_list_open(veil_reader_t *r, veil_reader_t *sub, mls_list_t *out) {
  static const uint8_t empty[1] = {0};
  veil_view_t v = {empty, 0};
  int rc = veil_read_vec(r, VEIL_LEN_VARINT, VEIL_MLS_VARINT_MAX, &v);
  if (rc) {
    v.ptr = empty;
    v.len = 0;
  }
  out->raw = v;
  out->count = 0;
  veil_reader_init(sub, v.ptr, v.len);
  sub->err = rc;
  return rc;
}

int mls_list_close(veil_reader_t *r, veil_reader_t *sub) {
  return veil_reader_close_block(r, sub);
}

/* A vector of fixed-width integers: the byte length must be a multiple of the width. */
int mls_read_int_list(veil_reader_t *r, size_t width, mls_list_t *out) {
  veil_view_t v;
  int rc = veil_read_vec(r, VEIL_LEN_VARINT, MLS_MAX_OPAQUE, &v);
  if (rc)
    return rc;
  if (v.len % width)
    return veil_reader_fail(r, VEIL_EDECODE);
  out->raw = v;
  out->count = (uint32_t)(v.len / width);
  return 0;
}

/* ---- Credential (§5.3) -------------------------------------------------------------- */
int mls_credential_decode(veil_reader_t *r, mls_credential_t *out) {
  memset(out, 0, sizeof *out);
  int rc = veil_read_u16(r, &out->type);
  if (rc)
    return rc;
  switch (out->type) {
  case MLS_CRED_BASIC:
    return mls_read_opaque(r, &out->identity);
  case MLS_CRED_X509: {
    veil_reader_t sub;
    if (mls_list_open(r, &sub, &out->certificates))
      return r->err;
    while (veil_reader_remaining(&sub)) {
      veil_view_t cert;
      if (mls_read_opaque(&sub, &cert))
        break;
      out->certificates.count++;
    }
    return mls_list_close(r, &sub);
  }
  default:
    /* A credential type we cannot parse: its content has no known shape (§5.3). */
    return veil_reader_fail(r, VEIL_EMLS_ENUM);
  }
}

int mls_credential_encode(veil_writer_t *w, const mls_credential_t *in) {
  veil_write_u16(w, in->type);
  switch (in->type) {
  case MLS_CRED_BASIC:
    return mls_write_opaque(w, in->identity);
  case MLS_CRED_X509:
    return mls_list_encode(w, &in->certificates);
  default:
    return veil_writer_fail(w, VEIL_EMLS_ENUM);
  }
}

/* ---- Capabilities (§7.2) ------------------------------------------------------------ */
int mls_capabilities_decode(veil_reader_t *r, mls_capabilities_t *out) {
  mls_read_int_list(r, 2, &out->versions);
  mls_read_int_list(r, 2, &out->cipher_suites);
  mls_read_int_list(r, 2, &out->extensions);
  mls_read_int_list(r, 2, &out->proposals);
  return mls_read_int_list(r, 2, &out->credentials);
}

int mls_capabilities_encode(veil_writer_t *w, const mls_capabilities_t *in) {
  mls_list_encode(w, &in->versions);
  mls_list_encode(w, &in->cipher_suites);
  mls_list_encode(w, &in->extensions);
  mls_list_encode(w, &in->proposals);
  return mls_list_encode(w, &in->credentials);
}

/* ---- Extension (§13.4) --------------------------------------------------------------- */
int mls_extension_decode(veil_reader_t *r, mls_extension_t *out) {
  veil_read_u16(r, &out->type);
  return mls_read_opaque(r, &out->data);
}

int mls_extension_encode(veil_writer_t *w, const mls_extension_t *in) {
  veil_write_u16(w, in->type);
  return mls_write_opaque(w, in->data);
}

/* Duplicate detection: a pairwise scan while the list is short (the common case: a
 * handful of entries, no 8 KiB bitmap to clear), a bitmap over the 2^16 types once it
 * passes DUP_SCAN_MAX entries, so a list crafted with thousands of entries costs O(n),
 * not O(n^2). */
#define DUP_SCAN_MAX 16

int mls_extensions_decode(veil_reader_t *r, mls_list_t *out) {
  uint64_t seen[65536 / 64]; /* cleared only when first needed */
  int use_bits = 0;
  veil_reader_t sub;
  if (mls_list_open(r, &sub, out))
    return r->err;
  while (veil_reader_remaining(&sub)) {
    mls_extension_t e;
    if (mls_extension_decode(&sub, &e))
      break;
    if (!use_bits && out->count == DUP_SCAN_MAX) {
      memset(seen, 0, sizeof seen);
      veil_reader_t scan;
      mls_list_reader(out, &scan);
      for (uint32_t i = 0; i < out->count; i++) {
        mls_extension_t prev;
        mls_extension_decode(&scan, &prev);
        seen[prev.type / 64] |= UINT64_C(1) << (prev.type % 64);
      }
      use_bits = 1;
    }
    if (use_bits) {
      uint64_t bit = UINT64_C(1) << (e.type % 64);
      if (seen[e.type / 64] & bit)
        return veil_reader_fail(r, VEIL_EMLS_DUP_EXTENSION);
      seen[e.type / 64] |= bit;
    } else {
      veil_reader_t scan;
      mls_list_reader(out, &scan);
      for (uint32_t i = 0; i < out->count; i++) {
        mls_extension_t prev;
        mls_extension_decode(&scan, &prev);
        if (prev.type == e.type)
          return veil_reader_fail(r, VEIL_EMLS_DUP_EXTENSION);
      }
    }
    out->count++;
  }
  return mls_list_close(r, &sub);
}

int mls_extensions_find(const mls_list_t *exts, uint16_t type, veil_view_t *out) {
  veil_reader_t r;
  mls_list_reader(exts, &r);
  for (uint32_t i = 0; i < exts->count; i++) {
    mls_extension_t e;
    if (mls_extension_decode(&r, &e))
      return r.err;
    if (e.type == type) {
      *out = e.data;
      return 0;
    }
  }
  return VEIL_ENOTFOUND;
}

/* ---- HPKECiphertext (§5.1.3) --------------------------------------------------------- */
int mls_hpke_ciphertext_decode(veil_reader_t *r, mls_hpke_ciphertext_t *out) {
  mls_read_opaque(r, &out->kem_output);
  return mls_read_opaque(r, &out->ciphertext);
}

int mls_hpke_ciphertext_encode(veil_writer_t *w, const mls_hpke_ciphertext_t *in) {
  mls_write_opaque(w, in->kem_output);
  return mls_write_opaque(w, in->ciphertext);
}
