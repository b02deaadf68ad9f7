/* Unit tests of the MLS wire codec (RFC 9420 §2.1, §6, §7.2, §12): the malformed inputs
 * every decoder must refuse, the GREASE values it must carry, and encode/decode symmetry
 * of structures built here. Known-answer round trips live in the messages vectors. */
#include <criterion/criterion.h>
#include <string.h>

#include "clients/lib/mls/codec.h"

/* ---- a hand-built PublicMessage (application data, member sender) ------------------- */
static const uint8_t GID[] = {'g', 'r', 'o', 'u', 'p'};
static const uint8_t SIG[] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t TAG[] = {9, 9, 9, 9};
static const uint8_t APP[] = {'h', 'i'};

static size_t build_public(uint8_t *buf, size_t cap) {
  mls_message_t m;
  memset(&m, 0, sizeof m);
  m.version = MLS_VERSION_10;
  m.wire_format = MLS_WF_PUBLIC_MESSAGE;
  mls_public_message_t *p = &m.u.public_message;
  p->content.group_id = (veil_view_t){GID, sizeof GID};
  p->content.epoch = 7;
  p->content.sender = (mls_sender_t){MLS_SENDER_MEMBER, 3};
  p->content.content_type = MLS_CT_APPLICATION;
  p->content.application_data = (veil_view_t){APP, sizeof APP};
  p->auth.signature = (veil_view_t){SIG, sizeof SIG};
  p->membership_tag = (veil_view_t){TAG, sizeof TAG};
  veil_writer_t w;
  veil_writer_init(&w, buf, cap);
  cr_assert_eq(mls_message_encode(&w, &m), 0);
  return w.len;
}

Test(mls_codec, public_message_round_trips) {
  uint8_t buf[256], again[256];
  size_t n = build_public(buf, sizeof buf);
  mls_message_t m;
  cr_assert_eq(mls_message_parse(buf, n, &m), 0);
  cr_assert_eq(m.u.public_message.content.epoch, 7);
  cr_assert_eq(m.u.public_message.content.sender.index, 3);
  cr_assert_eq(m.u.public_message.membership_tag.len, sizeof TAG);
  veil_writer_t w;
  veil_writer_init(&w, again, sizeof again);
  cr_assert_eq(mls_message_encode(&w, &m), 0);
  cr_assert_eq(w.len, n);
  cr_assert_eq(memcmp(buf, again, n), 0);
}

Test(mls_codec, rejects_every_truncation) {
  uint8_t buf[256];
  size_t n = build_public(buf, sizeof buf);
  for (size_t cut = 0; cut < n; cut++) {
    mls_message_t m;
    cr_assert_neq(mls_message_parse(buf, cut, &m), 0, "prefix of %zu bytes accepted", cut);
  }
}

Test(mls_codec, rejects_trailing_bytes) {
  uint8_t buf[256];
  size_t n = build_public(buf, sizeof buf);
  buf[n] = 0;
  mls_message_t m;
  cr_assert_eq(mls_message_parse(buf, n + 1, &m), VEIL_ETRAILING);
}

Test(mls_codec, rejects_unknown_wire_format_and_version) {
  uint8_t buf[256];
  size_t n = build_public(buf, sizeof buf);
  mls_message_t m;
  buf[3] = 6; /* wire_format 6: unassigned */
  cr_assert_eq(mls_message_parse(buf, n, &m), VEIL_EMLS_ENUM);
  buf[3] = 0;
  cr_assert_eq(mls_message_parse(buf, n, &m), VEIL_EMLS_ENUM);
  buf[3] = 1;
  buf[1] = 2; /* version 2 */
  cr_assert_eq(mls_message_parse(buf, n, &m), VEIL_EMLS_VERSION);
}

Test(mls_codec, rejects_unknown_sender_and_content_type) {
  uint8_t buf[256];
  size_t n = build_public(buf, sizeof buf);
  /* version(2) wf(2) gid(1+5) epoch(8) -> sender type at offset 18 */
  size_t at = 4 + 1 + sizeof GID + 8;
  cr_assert_eq(buf[at], MLS_SENDER_MEMBER);
  buf[at] = 5;
  mls_message_t m;
  cr_assert_eq(mls_message_parse(buf, n, &m), VEIL_EMLS_ENUM);
  buf[at] = MLS_SENDER_MEMBER;
  /* sender(5) authenticated_data(1) -> content type */
  size_t ct = at + 5 + 1;
  cr_assert_eq(buf[ct], MLS_CT_APPLICATION);
  buf[ct] = 4;
  cr_assert_eq(mls_message_parse(buf, n, &m), VEIL_EMLS_ENUM);
}

Test(mls_codec, rejects_nonminimal_length_prefix) {
  /* PrivateMessage whose group_id length 5 is written in the 2-byte form (0x40 0x05). */
  const uint8_t msg[] = {0, 1, 0, 2, 0x40, 5, 'g', 'r', 'o', 'u', 'p', 0, 0, 0, 0, 0, 0, 0, 1,
                         1, 0, 0, 0};
  mls_message_t m;
  cr_assert_eq(mls_message_parse(msg, sizeof msg, &m), VEIL_ENONMINIMAL);
  uint8_t ok[sizeof msg - 1] = {0, 1, 0, 2, 5, 'g', 'r', 'o', 'u', 'p', 0, 0, 0, 0, 0, 0, 0, 1,
                                1, 0, 0, 0};
  cr_assert_eq(mls_message_parse(ok, sizeof ok, &m), 0);
  /* The 8-byte varint form (prefix 11) does not exist in MLS. */
  ok[4] = 0xc0;
  cr_assert_neq(mls_message_parse(ok, sizeof ok, &m), 0);
}

Test(mls_codec, rejects_vector_longer_than_input) {
  const uint8_t msg[] = {0, 1, 0, 2, 0x3f, 'g'}; /* group_id claims 63 bytes */
  mls_message_t m;
  cr_assert_eq(mls_message_parse(msg, sizeof msg, &m), VEIL_ETRUNC);
}

Test(mls_codec, rejects_opaque_over_limit_before_reading) {
  /* A 4-byte varint length of MLS_MAX_OPAQUE + 1: refused on the claim alone. */
  uint32_t len = MLS_MAX_OPAQUE + 1;
  uint8_t in[4] = {(uint8_t)(0x80 | (len >> 24)), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                   (uint8_t)len};
  veil_reader_t r;
  veil_view_t v;
  veil_reader_init(&r, in, sizeof in);
  cr_assert_eq(mls_read_opaque(&r, &v), VEIL_ELIMIT);
}

Test(mls_codec, rejects_optional_presence_other_than_0_or_1) {
  /* GroupSecrets: joiner_secret<V> = {0xaa}, optional<PathSecret> presence 2, psks<V>. */
  const uint8_t gs[] = {1, 0xaa, 2, 0};
  veil_reader_t r;
  mls_group_secrets_t g;
  veil_reader_init(&r, gs, sizeof gs);
  cr_assert_eq(mls_group_secrets_decode(&r, &g), VEIL_EMLS_OPTIONAL);
  const uint8_t gs0[] = {1, 0xaa, 0, 0};
  veil_reader_init(&r, gs0, sizeof gs0);
  cr_assert_eq(mls_group_secrets_decode(&r, &g), 0);
  cr_assert_eq(g.has_path_secret, 0);
}

Test(mls_codec, rejects_unknown_proposal_type) {
  const uint8_t p[] = {0, 8, 0, 0, 0, 1}; /* type 8 (unassigned) + 4 bytes */
  veil_reader_t r;
  mls_proposal_t out;
  veil_reader_init(&r, p, sizeof p);
  cr_assert_eq(mls_proposal_decode(&r, &out), VEIL_EMLS_ENUM);
  const uint8_t rm[] = {0, 3, 0, 0, 0, 1}; /* Remove leaf 1 */
  veil_reader_init(&r, rm, sizeof rm);
  cr_assert_eq(mls_proposal_decode(&r, &out), 0);
  cr_assert_eq(out.u.remove, 1);
}

Test(mls_codec, rejects_unknown_credential_type) {
  const uint8_t c[] = {0x0a, 0x0a, 1, 'x'}; /* a GREASE value as a credential's type */
  veil_reader_t r;
  mls_credential_t out;
  veil_reader_init(&r, c, sizeof c);
  cr_assert_eq(mls_credential_decode(&r, &out), VEIL_EMLS_ENUM);
}

Test(mls_codec, carries_grease_extension_types) {
  /* §13.5: unknown extension types are carried, not rejected. */
  const uint8_t ext[] = {8, 0x0a, 0x0a, 1, 0x55, 0x1a, 0x1a, 1, 0x66};
  veil_reader_t r;
  mls_list_t l;
  veil_view_t v;
  veil_reader_init(&r, ext, sizeof ext);
  cr_assert_eq(mls_extensions_decode(&r, &l), 0);
  cr_assert_eq(l.count, 2);
  cr_assert_eq(mls_extensions_find(&l, 0x1a1a, &v), 0);
  cr_assert_eq(v.len, 1);
  cr_assert_eq(v.ptr[0], 0x66);
  cr_assert_eq(mls_extensions_find(&l, 2, &v), VEIL_ENOTFOUND);
}

Test(mls_codec, rejects_duplicate_extension_types) {
  const uint8_t ext[] = {8, 0, 1, 1, 0x55, 0, 1, 1, 0x66};
  veil_reader_t r;
  mls_list_t l;
  veil_reader_init(&r, ext, sizeof ext);
  cr_assert_eq(mls_extensions_decode(&r, &l), VEIL_EMLS_DUP_EXTENSION);
}

Test(mls_codec, capabilities_accept_grease_and_reject_odd_lists) {
  const uint8_t caps[] = {2, 0, 1, 4, 0, 1, 0x0a, 0x0a, 0, 0, 2, 0, 1};
  veil_reader_t r;
  mls_capabilities_t c;
  veil_reader_init(&r, caps, sizeof caps);
  cr_assert_eq(mls_capabilities_decode(&r, &c), 0);
  cr_assert(mls_list_has_u16(&c.cipher_suites, 0x0a0a));
  cr_assert(mls_list_has_u16(&c.credentials, MLS_CRED_BASIC));
  const uint8_t odd[] = {1, 0, 0, 0, 0, 0};
  veil_reader_init(&r, odd, sizeof odd);
  cr_assert_eq(mls_capabilities_decode(&r, &c), VEIL_EDECODE);
}

Test(mls_codec, rejects_unknown_psk_type_and_usage) {
  const uint8_t ext_psk[] = {1, 1, 'i', 1, 'n'};
  const uint8_t bad_type[] = {3, 1, 'i', 1, 'n'};
  const uint8_t bad_usage[] = {2, 4, 1, 'g', 0, 0, 0, 0, 0, 0, 0, 1, 1, 'n'};
  veil_reader_t r;
  mls_psk_id_t p;
  veil_reader_init(&r, ext_psk, sizeof ext_psk);
  cr_assert_eq(mls_psk_id_decode(&r, &p), 0);
  veil_reader_init(&r, bad_type, sizeof bad_type);
  cr_assert_eq(mls_psk_id_decode(&r, &p), VEIL_EMLS_ENUM);
  veil_reader_init(&r, bad_usage, sizeof bad_usage);
  cr_assert_eq(mls_psk_id_decode(&r, &p), VEIL_EMLS_ENUM);
}

Test(mls_codec, rejects_update_path_longer_than_tree_height) {
  /* An UpdatePath whose nodes<V> holds MLS_MAX_PATH + 1 minimal entries {key<V>=0,
   * ciphertexts<V>=0}: no tree within the limits has such a direct path. */
  mls_leaf_node_t leaf;
  memset(&leaf, 0, sizeof leaf);
  leaf.credential.type = MLS_CRED_BASIC;
  leaf.source = MLS_LEAF_SRC_UPDATE;
  uint8_t buf[512];
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(mls_leaf_node_encode(&w, &leaf), 0);
  veil_write_u8(&w, 2 * (MLS_MAX_PATH + 1));
  for (int i = 0; i < MLS_MAX_PATH + 1; i++) {
    veil_write_u8(&w, 0);
    veil_write_u8(&w, 0);
  }
  cr_assert_eq(w.err, 0);
  veil_reader_t r;
  mls_update_path_t up;
  veil_reader_init(&r, buf, w.len);
  cr_assert_eq(mls_update_path_decode(&r, &up), VEIL_ELIMIT);
  /* One entry fewer is accepted. */
  buf[w.len - 2 * (MLS_MAX_PATH + 1) - 1] = 2 * MLS_MAX_PATH;
  veil_reader_init(&r, buf, w.len - 2);
  cr_assert_eq(mls_update_path_decode(&r, &up), 0);
  cr_assert_eq(up.n_nodes, MLS_MAX_PATH);
}

Test(mls_codec, private_content_rejects_nonzero_padding) {
  /* application_data<V>="hi", signature<V>="s", then padding. */
  uint8_t pc[] = {2, 'h', 'i', 1, 's', 0, 0, 0};
  mls_framed_content_t c;
  mls_framed_content_auth_t a;
  cr_assert_eq(mls_private_content_parse(pc, sizeof pc, MLS_CT_APPLICATION, &c, &a), 0);
  cr_assert_eq(c.application_data.len, 2);
  pc[sizeof pc - 1] = 1;
  cr_assert_eq(mls_private_content_parse(pc, sizeof pc, MLS_CT_APPLICATION, &c, &a),
               VEIL_EMLS_PADDING);
}

Test(mls_codec, commit_confirmation_tag_only_for_commits) {
  /* FramedContentAuthData has a confirmation tag only when the content is a commit. */
  const uint8_t auth[] = {1, 's', 2, 't', 't'};
  veil_reader_t r;
  mls_framed_content_auth_t a;
  veil_reader_init(&r, auth, sizeof auth);
  cr_assert_eq(mls_framed_content_auth_decode(&r, MLS_CT_COMMIT, &a), 0);
  cr_assert_eq(veil_reader_finish(&r), 0);
  cr_assert_eq(a.confirmation_tag.len, 2);
  veil_reader_init(&r, auth, sizeof auth);
  cr_assert_eq(mls_framed_content_auth_decode(&r, MLS_CT_PROPOSAL, &a), 0);
  cr_assert_eq(veil_reader_finish(&r), VEIL_ETRAILING);
}

Test(mls_codec, framed_content_tbs_requires_group_context_for_members) {
  mls_framed_content_t c;
  memset(&c, 0, sizeof c);
  c.group_id = (veil_view_t){GID, sizeof GID};
  c.sender = (mls_sender_t){MLS_SENDER_MEMBER, 0};
  c.content_type = MLS_CT_APPLICATION;
  uint8_t buf[128];
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(mls_framed_content_tbs_encode(&w, MLS_WF_PUBLIC_MESSAGE, &c, (veil_view_t){0}),
               VEIL_EINVAL);
  c.sender = (mls_sender_t){MLS_SENDER_EXTERNAL, 0};
  veil_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(mls_framed_content_tbs_encode(&w, MLS_WF_PUBLIC_MESSAGE, &c, (veil_view_t){0}), 0);
}

Test(mls_codec, commit_built_from_element_encoders_round_trips) {
  /* A Commit as a sender builds it: proposals encoded one by one into a list. */
  veil_writer_t lw;
  veil_writer_init_growable(&lw, 64);
  mls_proposal_or_ref_t por;
  memset(&por, 0, sizeof por);
  por.type = MLS_POR_PROPOSAL;
  por.proposal.type = MLS_PROP_REMOVE;
  por.proposal.u.remove = 5;
  cr_assert_eq(mls_proposal_or_ref_encode(&lw, &por), 0);
  const uint8_t ref[32] = {0xab};
  por.type = MLS_POR_REFERENCE;
  por.reference = (veil_view_t){ref, sizeof ref};
  cr_assert_eq(mls_proposal_or_ref_encode(&lw, &por), 0);
  mls_commit_t c;
  memset(&c, 0, sizeof c);
  c.proposals = mls_list_from_writer(&lw, 2);
  veil_writer_t w;
  veil_writer_init_growable(&w, 128);
  cr_assert_eq(mls_commit_encode(&w, &c), 0);
  veil_reader_t r;
  mls_commit_t d;
  veil_reader_init(&r, w.buf, w.len);
  cr_assert_eq(mls_commit_decode(&r, &d), 0);
  cr_assert_eq(veil_reader_finish(&r), 0);
  cr_assert_eq(d.proposals.count, 2);
  cr_assert_eq(d.has_path, 0);
  mls_list_reader(&d.proposals, &r);
  cr_assert_eq(mls_proposal_or_ref_decode(&r, &por), 0);
  cr_assert_eq(por.proposal.u.remove, 5);
  cr_assert_eq(mls_proposal_or_ref_decode(&r, &por), 0);
  cr_assert_eq(por.reference.len, 32);
  cr_assert_eq(por.reference.ptr[0], 0xab);
  veil_writer_free(&w);
  veil_writer_free(&lw);
}

Test(mls_codec, rejects_duplicate_extension_in_long_list) {
  /* 40 distinct empty extensions (types 100..139), then a repeat of the first: the
   * bitmap path (lists past the short pairwise scan) must catch it too. */
  uint8_t buf[256];
  veil_writer_t w;
  veil_writer_init(&w, buf, sizeof buf);
  veil_wblock_t b;
  veil_writer_open_block(&w, VEIL_LEN_VARINT, &b);
  for (uint16_t t = 100; t < 140; t++) {
    veil_write_u16(&w, t);
    veil_write_u8(&w, 0);
  }
  cr_assert_eq(veil_writer_close_block(&w, &b), 0);
  veil_reader_t r;
  mls_list_t l;
  veil_reader_init(&r, buf, w.len);
  cr_assert_eq(mls_extensions_decode(&r, &l), 0);
  cr_assert_eq(l.count, 40);
  veil_writer_init(&w, buf, sizeof buf);
  veil_writer_open_block(&w, VEIL_LEN_VARINT, &b);
  for (uint16_t t = 100; t < 141; t++) {
    veil_write_u16(&w, t == 140 ? 100 : t);
    veil_write_u8(&w, 0);
  }
  cr_assert_eq(veil_writer_close_block(&w, &b), 0);
  veil_reader_init(&r, buf, w.len);
  cr_assert_eq(mls_extensions_decode(&r, &l), VEIL_EMLS_DUP_EXTENSION);
}
