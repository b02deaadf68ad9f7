#!/usr/bin/env python3
"""Writes the seed corpora of the sfu codec fuzz targets (run from this folder).

Packets are built here from the wire rules (RFC 8489, RFC 3550, RFC 8285, RFC 4585,
RFC 5104, REMB, transport-cc), independently of the C encoders; STUN requests carry a
valid MESSAGE-INTEGRITY under the password the fuzz targets configure, so seed replay
reaches the ICE answer and nomination paths. Nothing is copied from ../shared/vectors.
"""
import hashlib, hmac, os, struct, zlib

PWD = b"fuzzPassword0123456789+/"
USER = b"SfUu:cLiE"
COOKIE = 0x2112A442


def attr(t, v):
    return struct.pack(">HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)


def stun(mtype, tid, attrs, mi=None, mi256=None, fp=True):
    body = b"".join(attrs)
    def hdr(n):
        return struct.pack(">HHI", mtype, n, COOKIE) + tid
    if mi is not None:
        mac = hmac.new(mi, hdr(len(body) + 24) + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    if mi256 is not None:
        mac = hmac.new(mi256, hdr(len(body) + 36) + body, hashlib.sha256).digest()
        body += attr(0x001C, mac)
    if fp:
        crc = (zlib.crc32(hdr(len(body) + 8) + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(0x8028, struct.pack(">I", crc))
    return hdr(len(body)) + body


def xor_addr(tid, fam, port, ip):
    mask = struct.pack(">I", COOKIE) + tid
    x = bytes(a ^ b for a, b in zip(ip, mask))
    return attr(0x0020, struct.pack(">BBH", 0, fam, port ^ (COOKIE >> 16)) + x)


def rtp(pt=96, seq=1, ts=1000, ssrc=0x11223344, marker=0, csrc=(), ext=None,
        payload=b"\x01\x02\x03", pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrc)
    out = struct.pack(">BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    out += b"".join(struct.pack(">I", c) for c in csrc)
    if ext is not None:
        profile, data = ext
        data += b"\0" * ((4 - len(data) % 4) % 4)
        out += struct.pack(">HH", profile, len(data) // 4) + data
    out += payload
    if pad:
        out += b"\0" * (pad - 1) + bytes([pad])
    return out


def rtcp(pt, count, body, pad=0):
    if pad:
        body += b"\0" * (pad - 1) + bytes([pad])
    assert len(body) % 4 == 0
    return struct.pack(">BBH", 0x80 | (0x20 if pad else 0) | count, pt, len(body) // 4) + body


def main():
    t1, t2, t3 = bytes(range(12)), bytes(range(12, 24)), b"\xaa" * 12
    ice_attrs = [attr(0x0006, USER), attr(0x0024, struct.pack(">I", 0x6E7F1EFF)),
                 attr(0x802A, struct.pack(">Q", 0x0102030405060708))]
    stun_seeds = {
        "req_valid": stun(0x0001, t1, ice_attrs, mi=PWD),
        "req_nominate": stun(0x0001, t2, ice_attrs + [attr(0x0025, b"")], mi=PWD),
        "req_bad_mac": stun(0x0001, t1, ice_attrs, mi=b"wrong-password-xxxxxxxx"),
        "req_controlled": stun(0x0001, t3, [attr(0x0006, USER), attr(0x0024, b"\0\0\0\1"),
                                            attr(0x8029, b"\1" * 8)], mi=PWD),
        "req_no_role": stun(0x0001, t3, [attr(0x0006, USER)], mi=PWD, fp=False),
        "req_unknown": stun(0x0001, t1, ice_attrs + [attr(0x7ABC, b"\0\0\0\1")], mi=PWD),
        "req_mi256": stun(0x0001, t2, ice_attrs, mi=PWD, mi256=PWD),
        "success_v4": stun(0x0101, t1, [xor_addr(t1, 1, 40000, bytes([192, 0, 2, 1]))], mi=PWD),
        "success_v6": stun(0x0101, t2, [xor_addr(t2, 2, 1, bytes(range(16)))], mi=PWD),
        "error_487": stun(0x0111, t3, [attr(0x0009, b"\0\0\x04\x57Role Conflict")], mi=PWD),
        "error_420": stun(0x0111, t3, [attr(0x0009, b"\0\0\x04\x14Unknown Attribute"),
                                       attr(0x000A, b"\x7a\xbc")]),
        "indication": stun(0x0011, t1, [], fp=True),
        "software_padded": stun(0x0001, t1, [struct.pack(">HH", 0x8022, 5) + b"veil!   "]
                                + ice_attrs, mi=PWD),
    }
    one_byte = (0xBEDE, bytes([0x10, 0x55, 0x00, 0x31, 0xAA, 0xBB, 0x22, 1, 2, 3]))
    two_byte = (0x1000, bytes([0xC8, 0x00, 0x00, 0x05, 0x03, 1, 2, 3, 0x01, 0x14]) + bytes(20))
    rtp_seeds = {
        "plain": rtp(),
        "marker_csrc": rtp(marker=1, csrc=(1, 2, 3), seq=65535),
        "ext_one_byte": rtp(ext=one_byte),
        "ext_two_byte": rtp(ext=two_byte, pad=4),
        "ext_id15": rtp(ext=(0xBEDE, bytes([0x10, 0x55, 0xF0, 0x31, 1, 2]))),
        "ext_other_profile": rtp(ext=(0xABCD, b"\1\2\3\4")),
        "padding_only": rtp(payload=b"", pad=8),
        "opus_like": rtp(pt=111, ext=(0xBEDE, bytes([0x10, 0x8A, 0x21, 0x01, 0x23])),
                         payload=bytes(range(60))),
    }
    block = struct.pack(">IB3sIIII", 0x22222222, 16, b"\xff\xff\xfe", 0x10010, 32, 48, 64)
    sr = rtcp(200, 1, struct.pack(">IQIII", 0x11111111, 0x0102030405060708, 0x1000, 5, 256) + block)
    rr = rtcp(201, 1, struct.pack(">I", 0x11111111) + block)
    sdes = rtcp(202, 1, struct.pack(">I", 0x11111111) + b"\x01\x02ab\x00\x00\x00\x00")
    bye = rtcp(203, 1, struct.pack(">I", 0x11111111) + b"\x01x\x00\x00")
    nack = rtcp(205, 1, struct.pack(">IIHHHH", 1, 2, 65534, 0x8005, 16, 0))
    tcc = rtcp(205, 15, struct.pack(">IIHH", 1, 2, 100, 5) + b"\xff\xff\xfe\x07"
               + b"\xd8\x40\x04\xff\xf8\x0a\x00\x00")
    tcc_run = rtcp(205, 15, struct.pack(">IIHH", 1, 2, 0xFFF0, 34) + b"\x00\x00\x01\x00"
                   + b"\x00\x14\xa0\x01\x05\x06\x00\x00")
    pli = rtcp(206, 1, struct.pack(">II", 1, 2))
    fir = rtcp(206, 4, struct.pack(">IIIB3s", 1, 0, 0xAAAA, 3, b"\0\0\0"))
    remb = rtcp(206, 15, struct.pack(">II", 1, 0) + b"REMB" + bytes([2]) +
                struct.pack(">I", (4 << 18) | 156250)[1:] + struct.pack(">II", 5, 6))
    rtcp_seeds = {
        "compound_sr_sdes_bye": sr + sdes + bye,
        "compound_rr_padded": rr + rtcp(202, 1, struct.pack(">I", 1) + b"\x01\x01z\x00", pad=4),
        "nack": nack, "tcc": tcc, "tcc_run": tcc_run, "pli": pli, "fir": fir, "remb": remb,
        "rr_nack_pli": rr + nack + pli,
        "bad_length": sr[:3] + b"\x40" + sr[4:],
    }
    demux_seeds = {
        "stun_" + k: v for k, v in stun_seeds.items() if k in ("req_nominate", "success_v4")}
    demux_seeds.update({"rtp_" + k: v for k, v in rtp_seeds.items() if k in ("ext_one_byte", "plain")})
    demux_seeds.update({"rtcp_" + k: v for k, v in rtcp_seeds.items() if k in ("compound_sr_sdes_bye", "tcc")})
    # A DTLS 1.2 record header (handshake) with a short body, and non-veil first bytes.
    demux_seeds["dtls_record"] = bytes([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0])
    demux_seeds["zrtp"] = bytes([17]) + bytes(31)
    demux_seeds["turn_channel"] = bytes([0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4])
    for name, seeds in (("stun", stun_seeds), ("rtp", rtp_seeds), ("rtcp", rtcp_seeds),
                        ("demux", demux_seeds)):
        d = "seeds_" + name
        os.makedirs(d, exist_ok=True)
        for k, v in seeds.items():
            with open(os.path.join(d, k), "wb") as f:
                f.write(v)


if __name__ == "__main__":
    main()
