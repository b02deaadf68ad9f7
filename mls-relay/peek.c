/* veil mls-relay — MLSMessage framing peek. Contract in peek.h. */
#include "mls-relay/peek.h"

#include <string.h>

/* opaque group_id<V>, bounded. */
static int read_group_id(veil_reader_t *r, relay_peek_t *out) {
  return veil_read_vec(r, VEIL_LEN_VARINT, RELAY_GROUP_ID_MAX, &out->group_id);
}

/* An opaque<V> whose content the relay never reads (authenticated_data, ciphertexts).
 * The length is still a minimal varint and must fit in what remains. */
static int skip_vec(veil_reader_t *r) {
  veil_view_t v;
  return veil_read_vec(r, VEIL_LEN_VARINT, SIZE_MAX, &v);
}

static int read_content_type(veil_reader_t *r, relay_peek_t *out) {
  uint8_t ct;
  int rc = veil_read_u8(r, &ct);
  if (rc)
    return rc;
  if (ct < RELAY_CT_APPLICATION || ct > RELAY_CT_COMMIT)
    return veil_reader_fail(r, VEIL_ERELAY_CONTENT_TYPE);
  out->content_type = ct;
  return 0;
}

/* RFC 9420 §6: FramedContent begins group_id, epoch, sender, authenticated_data,
 * content_type; the select on content_type that follows is the content itself, which the
 * relay does not need (a commit is recognised by content_type alone). */
static int peek_public(veil_reader_t *r, relay_peek_t *out) {
  uint8_t st;
  read_group_id(r, out);
  veil_read_u64(r, &out->epoch);
  if (veil_read_u8(r, &st))
    return r->err;
  switch (st) {
  case RELAY_SENDER_MEMBER:   /* uint32 leaf_index */
  case RELAY_SENDER_EXTERNAL: /* uint32 sender_index */
    veil_read_u32(r, &out->sender_index);
    break;
  case RELAY_SENDER_NEW_MEMBER_PROPOSAL:
  case RELAY_SENDER_NEW_MEMBER_COMMIT:
    break; /* struct{} */
  default:
    return veil_reader_fail(r, VEIL_ERELAY_SENDER_TYPE);
  }
  out->sender_type = st;
  skip_vec(r); /* authenticated_data */
  return r->err ? r->err : read_content_type(r, out);
}

/* RFC 9420 §6.3: every field of PrivateMessage is framing; it must end exactly. */
static int peek_private(veil_reader_t *r, relay_peek_t *out) {
  read_group_id(r, out);
  veil_read_u64(r, &out->epoch);
  if (r->err || read_content_type(r, out))
    return r->err;
  skip_vec(r); /* authenticated_data */
  skip_vec(r); /* encrypted_sender_data */
  skip_vec(r); /* ciphertext */
  return veil_reader_finish(r);
}

/* RFC 9420 §12.4.3.1:
 *   struct { KeyPackageRef new_member; HPKECiphertext encrypted_group_secrets; }
 *     EncryptedGroupSecrets;
 *   struct { CipherSuite cipher_suite; EncryptedGroupSecrets secrets<V>;
 *            opaque encrypted_group_info<V>; } Welcome;
 * with KeyPackageRef = opaque<V> (§5.2) and HPKECiphertext = {kem_output<V>,
 * ciphertext<V>} (§5.1.3). */
static int peek_welcome(veil_reader_t *r, relay_peek_t *out) {
  veil_reader_t secrets;
  veil_view_t sv;
  veil_read_u16(r, &out->cipher_suite);
  /* read_vec + init rather than open_block: a failed open_block initialises its
   * sub-reader on a NULL buffer, and NULL + 0 is undefined behaviour (UBSan). */
  if (veil_read_vec(r, VEIL_LEN_VARINT, SIZE_MAX, &sv))
    return r->err;
  veil_reader_init(&secrets, sv.ptr, sv.len);
  while (veil_reader_remaining(&secrets) > 0) {
    veil_view_t ref;
    if (out->n_new_members == RELAY_PEEK_MAX_NEW_MEMBERS)
      return veil_reader_fail(r, VEIL_ELIMIT);
    if (veil_read_vec(&secrets, VEIL_LEN_VARINT, RELAY_REF_MAX, &ref))
      break;
    /* An empty ref can never be a hash output. */
    if (ref.len == 0) {
      veil_reader_fail(&secrets, VEIL_EDECODE);
      break;
    }
    skip_vec(&secrets); /* kem_output */
    skip_vec(&secrets); /* ciphertext */
    if (secrets.err)
      break;
    out->new_members[out->n_new_members++] = ref;
  }
  if (veil_reader_close_block(r, &secrets))
    return r->err;
  skip_vec(r); /* encrypted_group_info */
  return veil_reader_finish(r);
}

/* RFC 9420 §12.4.3.1 GroupInfo begins with GroupContext (§8.1): version, cipher_suite,
 * group_id, epoch, ... The rest (tree hash, transcript hash, extensions, signature) is
 * not the relay's business. */
static int peek_group_info(veil_reader_t *r, relay_peek_t *out) {
  uint16_t v;
  if (veil_read_u16(r, &v))
    return r->err;
  if (v != RELAY_MLS10)
    return veil_reader_fail(r, VEIL_ERELAY_VERSION);
  veil_read_u16(r, &out->cipher_suite);
  read_group_id(r, out);
  return veil_read_u64(r, &out->epoch);
}

/* RFC 9420 §10: KeyPackage begins version, cipher_suite; init_key, leaf_node, extensions
 * and signature follow and are checked by the leader's client, not here. */
static int peek_key_package(veil_reader_t *r, relay_peek_t *out) {
  uint16_t v;
  if (veil_read_u16(r, &v))
    return r->err;
  if (v != RELAY_MLS10)
    return veil_reader_fail(r, VEIL_ERELAY_VERSION);
  return veil_read_u16(r, &out->cipher_suite);
}

int relay_peek(const uint8_t *msg, size_t len, relay_peek_t *out) {
  veil_reader_t r;
  if (!out || (!msg && len))
    return VEIL_EINVAL;
  memset(out, 0, sizeof(*out));
  if (len == 0)
    return VEIL_ETRUNC; /* and msg may be NULL: never build a reader on it */
  veil_reader_init(&r, msg, len);
  /* RFC 9420 §6: MLSMessage = version, wire_format, select(wire_format). */
  if (veil_read_u16(&r, &out->version) || veil_read_u16(&r, &out->wire_format))
    return r.err;
  if (out->version != RELAY_MLS10)
    return VEIL_ERELAY_VERSION;
  switch (out->wire_format) {
  case RELAY_WF_PUBLIC_MESSAGE:
    return peek_public(&r, out);
  case RELAY_WF_PRIVATE_MESSAGE:
    return peek_private(&r, out);
  case RELAY_WF_WELCOME:
    return peek_welcome(&r, out);
  case RELAY_WF_GROUP_INFO:
    return peek_group_info(&r, out);
  case RELAY_WF_KEY_PACKAGE:
    return peek_key_package(&r, out);
  default:
    /* 0 is reserved; 0xf000.. are private-use values (RFC 9420 §17.2) the relay has
     * no agreement about; GREASE values are never valid wire formats. */
    return VEIL_ERELAY_WIRE_FORMAT;
  }
}

const char *relay_wire_format_name(uint16_t wf) {
  switch (wf) {
  case RELAY_WF_PUBLIC_MESSAGE:
    return "public_message";
  case RELAY_WF_PRIVATE_MESSAGE:
    return "private_message";
  case RELAY_WF_WELCOME:
    return "welcome";
  case RELAY_WF_GROUP_INFO:
    return "group_info";
  case RELAY_WF_KEY_PACKAGE:
    return "key_package";
  default:
    return "unknown";
  }
}
