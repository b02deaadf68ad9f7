#!/usr/bin/env python3
"""Writes the seed corpora of the relay fuzz targets (synthetic framing, RFC 9420 field
order; nothing copied from the vector files). Run from this folder; output is committed."""
import os
import struct

def varint(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return struct.pack(">H", 0x4000 | n)
    return struct.pack(">I", 0x80000000 | n)

def vec(b):
    return varint(len(b)) + b

def mls(wf, body):
    return struct.pack(">HH", 1, wf) + body

def public(group, epoch, sender_type, leaf, aad, ct, tail):
    s = bytes([sender_type]) + (struct.pack(">I", leaf) if sender_type in (1, 2) else b"")
    return mls(1, vec(group) + struct.pack(">Q", epoch) + s + vec(aad) + bytes([ct]) + tail)

def private(group, epoch, ct, aad, ciphertext):
    return mls(2, vec(group) + struct.pack(">Q", epoch) + bytes([ct]) + vec(aad)
               + vec(b"\x50" * 12) + vec(ciphertext))

def welcome(suite, refs):
    secrets = b"".join(vec(r) + vec(b"\x30" * 32) + vec(b"\x40" * 48) for r in refs)
    return mls(3, struct.pack(">H", suite) + vec(secrets) + vec(b"\x60" * 100))

def key_package(suite, tail):
    return mls(5, struct.pack(">HH", 1, suite) + tail)

def group_info(suite, group, epoch):
    return mls(4, struct.pack(">HH", 1, suite) + vec(group) + struct.pack(">Q", epoch) + b"\x80" * 40)

def env(kind, body):
    return bytes([1, kind]) + body

def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)

G = b"group-G"
peek = {
    "public_commit": public(G, 7, 1, 3, b"aad", 3, b"\x10" * 40),
    "public_proposal_long_aad": public(G, 1, 1, 0, b"\xa0" * 300, 2, b"\x10" * 10),
    "public_new_member_commit": public(G, 2, 4, 0, b"", 3, b"\x10" * 8),
    "public_external_proposal": public(G, 2, 2, 1, b"", 2, b"\x10" * 8),
    "private_application": private(G, 5, 1, b"", b"\x70" * 90),
    "private_commit": private(G, 5, 3, b"ad", b"\x70" * 200),
    "welcome_two": welcome(1, [b"\x11" * 32, b"\x22" * 32]),
    "welcome_sha512_ref": welcome(7, [b"\x33" * 64]),
    "key_package": key_package(1, b"\x20" * 60),
    "group_info": group_info(2, G, 9),
    "env_key_package": env(1, vec(b"\x42" * 32) + vec(key_package(1, b"\x20" * 20))),
    "env_commit_welcome": env(2, struct.pack(">I", 1) + vec(private(G, 0, 3, b"", b"\x70" * 30))
                              + vec(welcome(1, [b"\x02" * 32]))),
    "env_application": env(5, vec(private(G, 1, 1, b"", b"\x70" * 30))),
    "env_proposal": env(4, vec(public(G, 1, 1, 1, b"", 2, b"\x10" * 20))),
    "env_error": env(6, bytes([1]) + struct.pack(">IQB", 10706, 4, 2)),
    "env_leader": env(6, bytes([2]) + struct.pack(">QQB", 7, 3, 1)),
    "env_batch": env(6, bytes([3]) + struct.pack(">IQ", 3, 2)
                     + vec(struct.pack(">Q", 10) + vec(key_package(1, b"\x20" * 8)))
                     + vec(struct.pack(">QQ", 4, 5))),
    "env_rejoin": env(6, bytes([4]) + struct.pack(">Q", 9)),
    "nonminimal_group_len": mls(2, b"\x40\x03abc" + struct.pack(">Q", 1) + b"\x01\x00\x00\x00"),
}
for name, data in peek.items():
    write("seeds_peek", name, data)

# Room scripts: op, member-1, op bytes..., time byte (see fuzz_relay_room.c).
J = lambda m: [0, m - 1, 0]
L = lambda m: [3, m - 1, 0]
D = lambda m: [2, m - 1, 0]
C = lambda m, e: [1, m - 1, e, 0]
T = lambda dt: [4, 0, dt, 0]
KP = lambda m: [6, m - 1, 0, 1, 0, 5, 0]
COMMIT = lambda m, refs, batch: [6, m - 1, 1, 1, len(refs)] + [r - 1 for r in refs] + [batch, 0]
APP = lambda m: [6, m - 1, 2, 1, 0]
PROP = lambda m: [6, m - 1, 3, 1, 0, 0]
STALE = lambda m: [6, m - 1, 2, 0, 0]

room = {
    "join_commit_app": J(1) + J(2) + KP(2) + T(2) + COMMIT(1, [2], 1) + APP(2) + PROP(1)
                       + D(2) + COMMIT(1, [], 0) + C(2, 1) + L(1) + T(255),
    "leader_timeout": J(1) + J(2) + KP(2) + T(2) + COMMIT(1, [2], 1) + J(3) + KP(3) + T(2)
                      + T(60) + COMMIT(1, [3], 1) + COMMIT(2, [3], 1) + STALE(3),
    "batch_join_leave": J(1) + J(2) + J(3) + KP(2) + KP(3) + T(2) + COMMIT(1, [2, 3], 1)
                        + J(4) + KP(4) + L(3) + T(2) + COMMIT(1, [4], 1) + T(120) + C(3, 255),
    "raw_junk": J(1) + J(2) + [5, 1, 4, 1, 5, 0, 0, 0] + [5, 0, 3, 1, 2, 0, 0],
}
for name, steps in room.items():
    write("seeds_room", name, bytes(steps))
