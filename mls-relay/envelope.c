/* veil mls-relay — envelope codec. Wire format in envelope.h and docs/relay.md. */
#include "mls-relay/envelope.h"

#include <string.h>

#include "mls-relay/peek.h"

/* A non-empty MLS message vector, bounded by the caller's message limit. */
static int read_mls(veil_reader_t *r, size_t max, veil_view_t *out, int allow_empty) {
  if (veil_read_vec(r, VEIL_LEN_VARINT, max, out))
    return r->err;
  if (out->len == 0 && !allow_empty)
    return veil_reader_fail(r, VEIL_ERELAY_ENVELOPE);
  return 0;
}

static int decode_control(veil_reader_t *r, relay_env_t *out) {
  if (veil_read_u8(r, &out->ctl_type))
    return r->err;
  switch (out->ctl_type) {
  case RELAY_CTL_ERROR:
    veil_read_u32(r, &out->code);
    veil_read_u64(r, &out->epoch);
    return veil_read_u8(r, &out->rejected_kind);
  case RELAY_CTL_LEADER:
    veil_read_u64(r, &out->member);
    veil_read_u64(r, &out->epoch);
    return veil_read_u8(r, &out->flags);
  case RELAY_CTL_BATCH: {
    veil_read_u32(r, &out->batch_id);
    veil_read_u64(r, &out->epoch);
    veil_read_vec(r, VEIL_LEN_VARINT, SIZE_MAX, &out->joins);
    if (veil_read_vec(r, VEIL_LEN_VARINT, SIZE_MAX, &out->leaves))
      return r->err;
    if (out->leaves.len % 8)
      return veil_reader_fail(r, VEIL_ERELAY_ENVELOPE);
    /* Validate the joins now so a caller iterating later cannot meet a bad entry. */
    veil_reader_t j;
    uint64_t m;
    veil_view_t kp;
    int rc;
    veil_reader_init(&j, out->joins.ptr, out->joins.len);
    while ((rc = relay_env_next_join(&j, &m, &kp)) == 1)
      ;
    return rc < 0 ? veil_reader_fail(r, VEIL_ERELAY_ENVELOPE) : 0;
  }
  case RELAY_CTL_REJOIN:
    return veil_read_u64(r, &out->epoch);
  default:
    return veil_reader_fail(r, VEIL_ERELAY_ENVELOPE);
  }
}

int relay_env_decode(const uint8_t *buf, size_t len, size_t max_mls, relay_env_t *out) {
  veil_reader_t r;
  uint8_t version;
  if (!out || (!buf && len))
    return VEIL_EINVAL;
  memset(out, 0, sizeof(*out));
  if (len == 0)
    return VEIL_ETRUNC; /* and buf may be NULL: never build a reader on it */
  veil_reader_init(&r, buf, len);
  if (veil_read_u8(&r, &version) || veil_read_u8(&r, &out->kind))
    return r.err;
  if (version != RELAY_ENV_VERSION)
    return VEIL_ERELAY_VERSION;
  switch (out->kind) {
  case RELAY_ENV_KEY_PACKAGE:
    if (veil_read_vec(&r, VEIL_LEN_VARINT, RELAY_REF_MAX, &out->ref))
      return r.err;
    if (out->ref.len == 0)
      return VEIL_ERELAY_ENVELOPE;
    read_mls(&r, max_mls, &out->mls, 0);
    break;
  case RELAY_ENV_COMMIT:
    veil_read_u32(&r, &out->batch_id);
    read_mls(&r, max_mls, &out->mls, 0);
    read_mls(&r, max_mls, &out->welcome, 1);
    break;
  case RELAY_ENV_WELCOME:
  case RELAY_ENV_PROPOSAL:
  case RELAY_ENV_APPLICATION:
    read_mls(&r, max_mls, &out->mls, 0);
    break;
  case RELAY_ENV_CONTROL:
    decode_control(&r, out);
    break;
  default:
    return VEIL_ERELAY_ENVELOPE;
  }
  return veil_reader_finish(&r);
}

int relay_env_next_join(veil_reader_t *r, uint64_t *member, veil_view_t *key_package) {
  if (r->err)
    return r->err;
  if (veil_reader_remaining(r) == 0)
    return 0;
  veil_read_u64(r, member);
  if (veil_read_vec(r, VEIL_LEN_VARINT, SIZE_MAX, key_package))
    return r->err;
  return 1;
}

static int put_header(veil_writer_t *w, uint8_t kind) {
  veil_write_u8(w, RELAY_ENV_VERSION);
  return veil_write_u8(w, kind);
}

int relay_env_put_key_package(veil_writer_t *w, const uint8_t *ref, size_t ref_len,
                              const uint8_t *kp, size_t kp_len) {
  put_header(w, RELAY_ENV_KEY_PACKAGE);
  veil_write_vec(w, VEIL_LEN_VARINT, ref, ref_len);
  return veil_write_vec(w, VEIL_LEN_VARINT, kp, kp_len);
}

int relay_env_put_commit(veil_writer_t *w, uint32_t batch_id, const uint8_t *commit,
                         size_t commit_len, const uint8_t *welcome, size_t welcome_len) {
  put_header(w, RELAY_ENV_COMMIT);
  veil_write_u32(w, batch_id);
  veil_write_vec(w, VEIL_LEN_VARINT, commit, commit_len);
  return veil_write_vec(w, VEIL_LEN_VARINT, welcome, welcome_len);
}

int relay_env_put_mls(veil_writer_t *w, uint8_t kind, const uint8_t *mls, size_t len) {
  if (kind != RELAY_ENV_WELCOME && kind != RELAY_ENV_PROPOSAL && kind != RELAY_ENV_APPLICATION)
    return veil_writer_fail(w, VEIL_EINVAL);
  put_header(w, kind);
  return veil_write_vec(w, VEIL_LEN_VARINT, mls, len);
}

int relay_env_put_error(veil_writer_t *w, int code, uint64_t epoch, uint8_t rejected_kind) {
  /* Codes travel as their positive value: the space is documented in common/err.h. */
  uint32_t wire = code < 0 ? (uint32_t)-(int64_t)code : (uint32_t)code;
  put_header(w, RELAY_ENV_CONTROL);
  veil_write_u8(w, RELAY_CTL_ERROR);
  veil_write_u32(w, wire);
  veil_write_u64(w, epoch);
  return veil_write_u8(w, rejected_kind);
}

int relay_env_put_leader(veil_writer_t *w, uint64_t leader, uint64_t epoch, uint8_t flags) {
  put_header(w, RELAY_ENV_CONTROL);
  veil_write_u8(w, RELAY_CTL_LEADER);
  veil_write_u64(w, leader);
  veil_write_u64(w, epoch);
  return veil_write_u8(w, flags);
}

int relay_env_put_rejoin(veil_writer_t *w, uint64_t epoch) {
  put_header(w, RELAY_ENV_CONTROL);
  veil_write_u8(w, RELAY_CTL_REJOIN);
  return veil_write_u64(w, epoch);
}

int relay_env_batch_begin(veil_writer_t *w, uint32_t batch_id, uint64_t epoch,
                          veil_wblock_t *blk) {
  put_header(w, RELAY_ENV_CONTROL);
  veil_write_u8(w, RELAY_CTL_BATCH);
  veil_write_u32(w, batch_id);
  veil_write_u64(w, epoch);
  return veil_writer_open_block(w, VEIL_LEN_VARINT, blk);
}

int relay_env_batch_add_join(veil_writer_t *w, uint64_t member, const uint8_t *kp,
                             size_t kp_len) {
  veil_write_u64(w, member);
  return veil_write_vec(w, VEIL_LEN_VARINT, kp, kp_len);
}

int relay_env_batch_mid(veil_writer_t *w, veil_wblock_t *blk) {
  veil_writer_close_block(w, blk);
  return veil_writer_open_block(w, VEIL_LEN_VARINT, blk);
}

int relay_env_batch_add_leave(veil_writer_t *w, uint64_t member) {
  return veil_write_u64(w, member);
}

int relay_env_batch_end(veil_writer_t *w, veil_wblock_t *blk) {
  return veil_writer_close_block(w, blk);
}
