#!/usr/bin/env python3
"""Writes the seed corpora of the X.509 fuzz targets from the unit tests' fixtures
(run from anywhere; the seeds are committed, rerun after changing the targets' framing).

seeds_chain: flags byte, then DER certificates, each behind a 16-bit big-endian length
(fuzz_x509_chain.c): every fixture chain, at the clocks the target offers, and truncated
variants. seeds_crl: flags byte, then PEM text (fuzz_x509_crl.c): every fixture CRL, two in
one file, damaged and foreign ones.
"""
import base64
import os
import re
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "unit", "client", "fixtures")

# Flag bits shared with the targets.
CLOCK_BEFORE, CLOCK_AFTER_CRL, CLOCK_AFTER_ALL = 1 << 1, 2 << 1, 3 << 1
OWN_KEY, DISPLAY, BASIC, WITH_CRL = 0x08, 0x10, 0x20, 0x08


def text(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


def ders(name):
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----",
                        text(name), re.S)
    return [base64.b64decode(b"".join(b.split())) for b in blocks]


def framed(flags, certs, declared=None):
    out = bytes([flags])
    for i, c in enumerate(certs):
        n = declared[i] if declared and declared[i] is not None else len(c)
        out += struct.pack(">H", n) + c
    return out


def write(folder, name, data):
    with open(os.path.join(HERE, folder, name), "wb") as f:
        f.write(data)


def chain_seeds():
    alice, bob, carol = ders("alice-org.pem")[0], ders("bob-operator.pem")[0], ders("carol-ed25519.pem")[0]
    dave, self_, room = ders("dave-p384.pem")[0], ders("self.pem")[0], ders("room-device.pem")[0]
    erin, inter = ders("erin-int.pem")
    org, op = ders("org-ca.pem")[0], ders("operator-ca.pem")[0]
    s = {
        "alice_revoked": framed(OWN_KEY, [alice]),
        "alice_with_root": framed(OWN_KEY | DISPLAY, [alice, org]),
        "alice_before": framed(OWN_KEY | CLOCK_BEFORE, [alice]),
        "alice_crl_expired": framed(OWN_KEY | CLOCK_AFTER_CRL, [alice]),
        "alice_expired": framed(OWN_KEY | CLOCK_AFTER_ALL, [alice]),
        "bob_operator": framed(OWN_KEY, [bob]),
        "bob_other_key": framed(DISPLAY, [bob]),
        "carol_ed25519": framed(OWN_KEY | BASIC, [carol]),
        "dave_p384": framed(OWN_KEY, [dave]),
        "self_signed": framed(OWN_KEY | BASIC, [self_]),
        "room_device": framed(OWN_KEY | DISPLAY, [room]),
        "erin_chain": framed(OWN_KEY, [erin, inter]),
        "erin_chain_root": framed(OWN_KEY, [erin, inter, org]),
        "erin_no_intermediate": framed(OWN_KEY, [erin]),
        "erin_wrong_order": framed(OWN_KEY, [inter, erin]),
        "erin_mixed_roots": framed(OWN_KEY, [erin, inter, op, org]),
        "too_long": framed(OWN_KEY, [alice] * 9),
        "alice_truncated_half": framed(OWN_KEY, [alice[: len(alice) // 2]]),
        "alice_truncated_one": framed(OWN_KEY, [alice[:-1]]),
        "alice_trailing_byte": framed(OWN_KEY, [alice + b"\x00"]),
        "alice_declared_longer": framed(OWN_KEY, [alice], declared=[len(alice) + 40]),
        "erin_intermediate_truncated": framed(OWN_KEY, [erin, inter[:100]]),
        "empty_leaf": framed(OWN_KEY, [b""]),
    }
    for name, data in s.items():
        write("seeds_chain", name, data)


def crl_seeds():
    crls = ["crl-org-none.pem", "crl-org-alice.pem", "crl-org-int.pem", "crl-org-expired.pem",
            "crl-org-forged.pem", "crl-rogue.pem", "crl-operator-bob.pem"]
    s = {name[:-4]: bytes([0]) + text(name) for name in crls}
    alice = text("crl-org-alice.pem")
    s["crl-org-alice_before"] = bytes([CLOCK_BEFORE]) + alice
    s["crl-org-alice_after"] = bytes([CLOCK_AFTER_CRL]) + alice
    s["crl-org-none_over_alice"] = bytes([WITH_CRL]) + text("crl-org-none.pem")
    s["two_crls"] = bytes([0]) + text("crl-org-int.pem") + text("crl-operator-bob.pem")
    s["good_then_damaged"] = bytes([0]) + alice + alice[: len(alice) * 2 // 3] + b"\n-----END X509 CRL-----\n"
    s["truncated"] = bytes([0]) + alice[: len(alice) // 2]
    s["trailing_garbage"] = bytes([0]) + alice + b"garbage\x00\xff"
    s["certificate_not_crl"] = bytes([0]) + text("org-ca.pem")
    s["empty"] = bytes([0])
    for name, data in s.items():
        write("seeds_crl", name, data)


if __name__ == "__main__":
    for folder in ("seeds_chain", "seeds_crl"):
        shutil.rmtree(os.path.join(HERE, folder), ignore_errors=True)
        os.makedirs(os.path.join(HERE, folder))
    chain_seeds()
    crl_seeds()
