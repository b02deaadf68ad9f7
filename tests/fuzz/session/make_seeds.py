#!/usr/bin/env python3
"""Seed corpus for fuzz_member: relay envelopes (docs/relay.md), u16-length framed."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "seeds_member")


def v(b):  # MLS varint-length vector (1 or 2 byte forms)
    n = len(b)
    return (bytes([n]) if n < 64 else struct.pack("!H", 0x4000 | n)) + b


def frame(*envs):
    return b"".join(struct.pack("!H", len(e)) + e for e in envs)


leader_self = bytes([1, 6, 2]) + struct.pack("!QQB", 1, 0, 0)
leader_two = bytes([1, 6, 2]) + struct.pack("!QQB", 2, 0, 0)
batch_leave = bytes([1, 6, 3]) + struct.pack("!IQ", 1, 0) + v(b"") + v(struct.pack("!Q", 2))
batch_join_garbage = bytes([1, 6, 3]) + struct.pack("!IQ", 2, 0) + v(struct.pack("!Q", 2) + v(b"\x00\x01\x00\x05junk")) + v(b"")
rejoin = bytes([1, 6, 4]) + struct.pack("!Q", 3)
kp_rejected = bytes([1, 6, 1]) + struct.pack("!IQB", 10715, 0, 1)
stale_app = bytes([1, 6, 1]) + struct.pack("!IQB", 10706, 1, 5)
commit_garbage = bytes([1, 2]) + struct.pack("!I", 0) + v(b"\x00\x01\x00\x01" + b"\x00" * 20) + v(b"")
welcome_garbage = bytes([1, 3]) + v(b"\x00\x01\x00\x03" + b"\x00\x01" + b"\x00" * 10)
app_garbage = bytes([1, 5]) + v(b"\x00\x01\x00\x02" + b"\x01" * 30)

seeds = {
    "leader_self": frame(leader_self),
    "leader_other": frame(leader_two),
    "batch_leave": frame(batch_leave),
    "batch_garbage_kp": frame(batch_join_garbage),
    "rejoin_then_kp_rejected": frame(rejoin, kp_rejected),
    "stale_app_error": frame(stale_app),
    "commit_garbage": frame(commit_garbage),
    "welcome_garbage": frame(welcome_garbage),
    "app_garbage": frame(app_garbage),
    "failover_then_batch": frame(leader_two, batch_leave, leader_self, batch_leave),
}
os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
