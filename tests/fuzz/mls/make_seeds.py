#!/usr/bin/env python3
"""Writes the seed corpora of the MLS fuzz targets (seeds_message/, seeds_ratchet_tree/).

Every seed is built here from the RFC 9420 presentation-language definitions (no test
vector bytes are copied): well-formed structures of each wire format and tree shape, so
the fuzzer starts from inputs that reach deep into the decoders. Keys and signatures are
placeholders (the decoders do not check them; the tree target's validation then fails
them, which is a path worth covering too). Run from this folder: python3 make_seeds.py
"""
import os
import struct


def varint(n):
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return struct.pack(">H", 0x4000 | n)
    return struct.pack(">I", 0x80000000 | n)


def opaque(b):
    return varint(len(b)) + b


def vec(items):
    return opaque(b"".join(items))


u8 = lambda v: struct.pack(">B", v)
u16 = lambda v: struct.pack(">H", v)
u32 = lambda v: struct.pack(">I", v)
u64 = lambda v: struct.pack(">Q", v)


def capabilities():
    return (vec([u16(1)]) + vec([u16(1), u16(2), u16(0x0A0A)]) + vec([u16(0x1A1A)]) +
            vec([]) + vec([u16(1), u16(2)]))


def leaf_node(i, source=1, parent_hash=b""):
    body = opaque(bytes([0x10 + i]) * 32) + opaque(bytes([0x20 + i]) * 32)
    body += u16(1) + opaque(b"member-%d" % i) + capabilities() + u8(source)
    if source == 1:
        body += u64(0) + u64(2**64 - 1)
    elif source == 3:
        body += opaque(parent_hash)
    body += vec([u16(0x1A1A) + opaque(b"grease")])
    return body + opaque(bytes([0x30 + i]) * 64)


def key_package(i):
    return (u16(1) + u16(1) + opaque(bytes([0x40 + i]) * 32) + leaf_node(i) + vec([]) +
            opaque(bytes([0x50 + i]) * 64))


def parent_node(i, unmerged=()):
    return opaque(bytes([0x60 + i]) * 32) + opaque(bytes([0x70 + i]) * 32) + vec(
        [u32(x) for x in unmerged])


GID = opaque(b"group-id")


def framed(sender, content_type, body):
    return GID + u64(5) + sender + opaque(b"aad") + u8(content_type) + body


MEMBER = u8(1) + u32(1)


def public_message(content_type, body, sender=MEMBER):
    msg = framed(sender, content_type, body) + opaque(b"\x01" * 64)
    if content_type == 3:
        msg += opaque(b"\x02" * 32)
    if sender == MEMBER:
        msg += opaque(b"\x03" * 32)
    return u16(1) + u16(1) + msg


def update_path():
    hpke_ct = opaque(b"\x04" * 32) + opaque(b"\x05" * 48)
    nodes = vec([opaque(b"\x06" * 32) + vec([hpke_ct]), opaque(b"\x07" * 32) + vec([hpke_ct, hpke_ct])])
    return leaf_node(1, source=3, parent_hash=b"\x08" * 32) + nodes


def commit():
    props = vec([u8(2) + opaque(b"\x09" * 32), u8(1) + u16(3) + u32(2),
                 u8(1) + u16(1) + key_package(3)])
    return props + u8(1) + update_path()


def group_context():
    return (u16(1) + u16(1) + GID + u64(5) + opaque(b"\x0a" * 32) + opaque(b"\x0b" * 32) +
            vec([u16(0x0A0A) + opaque(b"x")]))


def psk_ids():
    return vec([u8(1) + opaque(b"ext-psk") + opaque(b"\x0c" * 32),
                u8(2) + u8(1) + GID + u64(4) + opaque(b"\x0d" * 32)])


MESSAGES = {
    "public_application": public_message(1, opaque(b"hello")),
    "public_proposal_remove": public_message(2, u16(3) + u32(1)),
    "public_proposal_psk_external_sender": public_message(
        2, u16(4) + u8(1) + opaque(b"p") + opaque(b"n"), sender=u8(2) + u32(0)),
    "public_proposal_reinit": public_message(
        2, u16(5) + GID + u16(1) + u16(2) + vec([])),
    "public_proposal_update": public_message(2, u16(2) + leaf_node(1, source=2)),
    "public_commit_new_member": public_message(3, commit(), sender=u8(4)),
    "public_commit_member": public_message(3, commit()),
    "private_message": u16(1) + u16(2) + GID + u64(5) + u8(1) + opaque(b"aad") +
    opaque(b"\x0e" * 32) + opaque(b"\x0f" * 64),
    "welcome": u16(1) + u16(3) + u16(1) + vec(
        [opaque(b"\x11" * 32) + opaque(b"\x12" * 32) + opaque(b"\x13" * 80)]) + opaque(b"\x14" * 200),
    "group_info": u16(1) + u16(4) + group_context() + vec([u16(2) + opaque(b"")]) +
    opaque(b"\x15" * 32) + u32(0) + opaque(b"\x16" * 64),
    "key_package": u16(1) + u16(5) + key_package(0),
    "group_secrets": opaque(b"\x17" * 32) + u8(1) + opaque(b"\x18" * 32) + psk_ids(),
    "private_content_commit": commit() + opaque(b"\x19" * 64) + opaque(b"\x1a" * 32) + b"\0" * 8,
}

NONE = u8(0)


def node_leaf(i, **kw):
    return u8(1) + u8(1) + leaf_node(i, **kw)


def node_parent(i, unmerged=()):
    return u8(1) + u8(2) + parent_node(i, unmerged)


TREES = {
    "one_leaf": vec([node_leaf(0)]),
    "two_leaves_blank_parent": vec([node_leaf(0), NONE, node_leaf(1)]),
    "two_leaves_parent": vec([node_leaf(0, source=3, parent_hash=b"\x20" * 32), node_parent(0),
                              node_leaf(1)]),
    "three_leaves_unmerged": vec([node_leaf(0), node_parent(0), node_leaf(1), node_parent(1, [2]),
                                  node_leaf(2)]),
    "four_leaves_gap": vec([node_leaf(0), NONE, NONE, node_parent(1), NONE, NONE, node_leaf(3)]),
}


def write(folder, items):
    os.makedirs(folder, exist_ok=True)
    for name, data in items.items():
        with open(os.path.join(folder, name + ".bin"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    write(os.path.join(here, "seeds_message"), MESSAGES)
    write(os.path.join(here, "seeds_ratchet_tree"), TREES)
