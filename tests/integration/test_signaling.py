#!/usr/bin/env python3
"""Integration tests of veil-server signaling: real processes on 127.0.0.1, kernel-chosen
ports, bounded timeouts. Usage: test_signaling.py PATH/TO/veil-server"""

import base64
import hmac
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from veilws import (WS, TIMEOUT, Closed, Server, hs256_token, parse_prometheus,  # noqa: E402
                    read_hs_secret, b64u, stun_binding_request)
import hashlib  # noqa: E402
import shlex  # noqa: E402
import socket  # noqa: E402
import ssl  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402

BINARY = None
MEDIA_PEER = None
VEIL_CLIENT = None


class Peer:
    """tests/integration/media_peer: ICE + DTLS-SRTP + SRTP for one participant."""

    def __init__(self):
        import queue
        import subprocess
        import threading
        self.proc = subprocess.Popen([MEDIA_PEER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        # A reader thread: select() on a buffered pipe misses lines already read ahead.
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        _, self.ufrag, self.fingerprint = self.line().split()
        self.rtp = []

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def line(self):
        import queue
        try:
            line = self.lines.get(timeout=15)
        except queue.Empty:
            raise TimeoutError("media_peer did not answer")
        if line is None:
            raise EOFError("media_peer exited")
        return line

    def cmd(self, text, answer):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.line()
            if line.startswith("rtp "):
                _, ssrc, pt, seq, payload = line.split()
                self.rtp.append((int(ssrc), int(pt), int(seq), payload))
                continue
            if line.startswith(answer):
                return line
            raise AssertionError(f"media_peer: {line}")

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except OSError:
            pass
        self.proc.wait(5)


def now():
    return int(time.time())


def record(ws):
    """Keeps every JSON message ws receives from now on in ws.seen, also those that
    recv_type skips on its way to the one it waits for."""
    ws.seen = []
    recv = ws.recv_json

    def recv_json(timeout=TIMEOUT):
        m = recv(timeout)
        ws.seen.append(m)
        return m
    ws.recv_json = recv_json
    return ws


def drain(ws, quiet=0.5):
    """Reads (and so records) what ws was sent until nothing came for `quiet` seconds."""
    try:
        while True:
            ws.recv_json(quiet)
    except (socket.timeout, TimeoutError):
        pass


class HS256Server(unittest.TestCase):
    """A server whose tokens are HS256, so the test can craft every bad token itself."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="veil-it-")
        cls.srv = Server(BINARY, cls.dir, "--no-tls", "--token-alg", "HS256",
                         "--token-leeway", "5", "--max-message-bytes", "4096",
                         "--max-prejoin-message-bytes", "2048", "--messages-per-second", "200")
        cls.secret = read_hs_secret(os.path.join(cls.dir, "token-hs256.key"))

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert rc == 0, f"server exit code {rc}"

    def claims(self, **kw):
        c = {"room": "r1", "sub": "alice@example.org", "name": "Alice", "role": "member",
             "iat": now(), "exp": now() + 600}
        c.update(kw)
        return c

    def join(self, token, room="r1", **extra):
        ws = self.srv.ws()
        msg = {"type": "join", "id": 1, "token": token, "room": room}
        msg.update(extra)
        ws.send_json(msg)
        return ws, ws.recv_json()

    def assert_token_refused(self, token, code, room="r1"):
        ws, reply = self.join(token, room)
        self.assertEqual(reply["type"], "error", reply)
        self.assertEqual(reply["code"], code, reply)
        self.assertEqual(reply["id"], 1)
        self.assertEqual(ws.expect_close(), 1008)

    def test_ping_pong_echoes_id(self):
        ws = self.srv.ws()
        ws.send_json({"type": "ping", "id": 42})
        self.assertEqual(ws.recv_json(), {"type": "pong", "id": 42})
        ws.close()

    def test_malformed_json_gets_error_and_connection_survives(self):
        ws = self.srv.ws()
        for bad, code in [("{", "malformed"), ("[1,2]", "invalid_message"), ('{"type":"ping","type":"ping"}', "malformed"),
                          ('{"type":"ping","extra":1}', "invalid_message"), ('{"type":"nope"}', "invalid_message"),
                          ('{"type":"ping","id":-1}', "invalid_message"), ("[" * 50 + "]" * 50, "malformed"),
                          ('{"type":"join","token":5,"room":"r1"}', "invalid_message")]:
            ws.send_text(bad)
            reply = ws.recv_json()
            self.assertEqual(reply["type"], "error", bad)
            self.assertEqual(reply["code"], code, bad)
        ws.send_json({"type": "ping", "id": 7})
        self.assertEqual(ws.recv_json()["type"], "pong")
        ws.close()

    def test_out_of_order_messages_get_bad_state(self):
        ws = self.srv.ws()
        ws.send_json({"type": "publish", "id": 3, "kind": "audio", "mid": "0", "ssrc": 1,
                      "codec": {"name": "opus", "payload_type": 111, "clock_rate": 48000}})
        reply = ws.recv_json()
        self.assertEqual((reply["type"], reply["code"], reply["id"]), ("error", "bad_state", 3))
        ws.send_json({"type": "admit", "participant_id": "p1"})
        self.assertEqual(ws.recv_json()["code"], "bad_state")
        ws.close()

    def test_oversized_frame_closes_1009(self):
        ws = self.srv.ws()
        ws.send_text('{"type":"ping","pad":"' + "x" * 3000 + '"}')  # over the 2048 pre-join limit
        self.assertEqual(ws.expect_close(), 1009)
        # joined sessions get the larger limit, still bounded
        ws, reply = self.join(hs256_token(self.secret, self.claims(sub="big@example.org")))
        self.assertEqual(reply["type"], "joined", reply)
        ws.send_text('{"type":"ping","pad":"' + "x" * 5000 + '"}')
        self.assertEqual(ws.expect_close(), 1009)

    def test_fragmented_oversized_message_closes_1009(self):
        ws = self.srv.ws()
        ws.send_frame(0x1, b'{"type":"ping","pad":"' + b"x" * 1500, fin=False)
        ws.send_frame(0x0, b"x" * 1500, fin=True)
        self.assertEqual(ws.expect_close(), 1009)

    def test_valid_token_joins(self):
        ws, reply = self.join(hs256_token(self.secret, self.claims(sub="ok@example.org")), display_name="Okay")
        self.assertEqual(reply["type"], "joined", reply)
        self.assertEqual(reply["id"], 1)
        self.assertEqual(reply["room"], "r1")
        self.assertEqual(reply["identity"], "ok@example.org")
        self.assertTrue(reply["participant_id"])
        ws.send_json({"type": "leave", "id": 9})
        self.assertEqual(ws.recv_json(), {"type": "ack", "request": "leave", "id": 9})
        self.assertEqual(ws.expect_close(), 1000)

    def test_garbage_token_refused(self):
        self.assert_token_refused("not-a-jwt", "token_malformed")

    def test_alg_none_refused(self):
        tok = b64u(json.dumps({"alg": "none"}).encode()) + "." + b64u(json.dumps(self.claims()).encode()) + "."
        self.assert_token_refused(tok, "token_algorithm")

    def test_es256_header_on_hs256_server_refused(self):
        tok = hs256_token(self.secret, self.claims(), header={"alg": "ES256", "typ": "JWT"})
        self.assert_token_refused(tok, "token_algorithm")

    def test_bad_signature_refused(self):
        tok = hs256_token(b"k" * 32, self.claims())
        self.assert_token_refused(tok, "token_signature")

    def test_expired_token_refused(self):
        tok = hs256_token(self.secret, self.claims(iat=now() - 1000, exp=now() - 100))
        self.assert_token_refused(tok, "token_expired")

    def test_not_yet_valid_token_refused(self):
        tok = hs256_token(self.secret, self.claims(nbf=now() + 600, exp=now() + 1200))
        self.assert_token_refused(tok, "token_not_yet_valid")

    def test_wrong_room_refused(self):
        tok = hs256_token(self.secret, self.claims(room="other"))
        self.assert_token_refused(tok, "token_room", room="r1")

    def test_missing_claims_refused(self):
        c = self.claims()
        del c["sub"]
        self.assert_token_refused(hs256_token(self.secret, c), "token_claims")

    def test_roster_events_between_two_participants(self):
        a, ra = self.join(hs256_token(self.secret, self.claims(room="r2", sub="a@x", name="A")), room="r2")
        self.assertEqual(ra["type"], "joined")
        b, rb = self.join(hs256_token(self.secret, self.claims(room="r2", sub="b@x", name="B")), room="r2",
                          capabilities={"codecs": ["opus", "vp8"], "mls": True})
        self.assertEqual(rb["type"], "joined")
        self.assertEqual([p["identity"] for p in rb["roster"]], ["a@x"])
        ev = a.recv_type("participant_joined")
        self.assertEqual(ev["participant"]["identity"], "b@x")
        self.assertEqual(ev["participant"]["capabilities"], {"codecs": ["opus", "vp8"], "mls": True})
        # the same identity twice in one room is refused
        c, rc = self.join(hs256_token(self.secret, self.claims(room="r2", sub="b@x", name="B")), room="r2")
        self.assertEqual(rc["code"], "duplicate_identity")
        c.close()
        b.close()
        ev = a.recv_type("participant_left")
        self.assertEqual(ev["participant_id"], rb["participant_id"])
        a.close()

    def test_member_cannot_admit(self):
        a, ra = self.join(hs256_token(self.secret, self.claims(room="r3", sub="m@x")), room="r3")
        self.assertEqual(ra["type"], "joined")
        a.send_json({"type": "admit", "id": 5, "participant_id": "p1"})
        r = a.recv_json()
        self.assertEqual((r["code"], r["id"]), ("forbidden", 5))
        a.close()

    def test_rate_limit(self):
        ws = self.srv.ws()
        for i in range(450):
            ws.send_json({"type": "ping", "id": i})
        codes = []
        for _ in range(450):
            m = ws.recv_json()
            codes.append(m.get("code", m["type"]))
        self.assertIn("rate_limited", codes)
        self.assertIn("pong", codes)
        ws.close()

    def test_metrics_parse_as_prometheus_text(self):
        ws = self.srv.ws()
        ws.send_text("{")
        ws.recv_json()
        ws.close()
        status, body = self.srv.http("/metrics")
        self.assertEqual(status, 200)
        types, samples = parse_prometheus(body)
        for fam in ("veil_rooms", "veil_participants", "veil_tracks", "veil_signaling_errors_total",
                    "veil_join_latency_seconds", "veil_signaling_messages_total"):
            self.assertIn(fam, types)
        self.assertEqual(types["veil_join_latency_seconds"], "histogram")
        self.assertGreaterEqual(samples[("veil_signaling_errors_total", frozenset({("code", "malformed")}))], 1)
        inf = samples[("veil_join_latency_seconds_bucket", frozenset({("le", "+Inf")}))]
        self.assertEqual(inf, samples[("veil_join_latency_seconds_count", frozenset())])
        self.assertEqual(self.srv.http("/healthz")[0], 200)
        self.assertEqual(self.srv.http("/readyz")[0], 200)
        self.assertEqual(self.srv.http("/nope")[0], 404)

    def test_connection_that_never_joins_is_closed(self):
        d = tempfile.mkdtemp(prefix="veil-it-")
        srv = Server(BINARY, d, "--no-tls", "--join-timeout-ms", "500")
        try:
            ws = srv.ws()
            t0 = time.monotonic()
            self.assertEqual(ws.recv_json(3)["code"], "join_timeout")
            self.assertEqual(ws.expect_close(), 1008)
            self.assertLess(time.monotonic() - t0, 2.5)
        finally:
            self.assertEqual(srv.stop(), 0)
            shutil.rmtree(d, ignore_errors=True)

    def test_connection_limit_refuses_further_upgrades(self):
        d = tempfile.mkdtemp(prefix="veil-it-")
        srv = Server(BINARY, d, "--no-tls", "--max-connections", "2")
        try:
            a, b = srv.ws(), srv.ws()
            with self.assertRaises(ConnectionError):
                srv.ws()
            a.close()
            deadline = time.monotonic() + 3
            while True:  # the server notices the close asynchronously
                try:
                    c = srv.ws()
                    break
                except ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            c.send_json({"type": "ping", "id": 1})
            self.assertEqual(c.recv_json()["type"], "pong")
            b.close()
            c.close()
        finally:
            self.assertEqual(srv.stop(), 0)
            shutil.rmtree(d, ignore_errors=True)

    def test_wrong_subprotocol_refused(self):
        with self.assertRaises(ConnectionError):
            WS(self.srv.port, subprotocol="chat")


FP = ":".join(["AB"] * 32)
OPUS = {"name": "opus", "payload_type": 111, "clock_rate": 48000, "channels": 2}
MID_EXT = {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1}
LEVEL_EXT = {"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "id": 3}


class Media(unittest.TestCase):
    """Signaling driving the SFU: transport parameters, ICE reachability, publish and
    subscribe through sfu/sfu.h."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="veil-it-")
        cls.srv = Server(BINARY, cls.dir, "--no-tls")

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert rc == 0, f"server exit code {rc}"

    def join(self, room, who):
        ws = self.srv.ws()
        ws.send_json({"type": "join", "id": 1, "token": self.srv.token(room, who, who.upper()), "room": room})
        j = ws.recv_type("joined")
        return ws, j

    def test_joined_carries_ice_lite_and_dtls_parameters(self):
        ws, j = self.join("m1", "a")
        t = j["transport"]
        self.assertTrue(t["ice"]["lite"])
        self.assertGreaterEqual(len(t["ice"]["ufrag"]), 4)
        self.assertGreaterEqual(len(t["ice"]["pwd"]), 22)
        c = t["ice"]["candidates"][0]
        self.assertEqual((c["ip"], c["port"], c["protocol"], c["type"]), ("127.0.0.1", self.srv.udp_port, "udp", "host"))
        self.assertEqual(t["dtls"]["role"], "server")
        fp = t["dtls"]["fingerprints"][0]
        self.assertEqual(fp["algorithm"], "sha-256")
        self.assertEqual(len(fp["value"].split(":")), 32)
        ws.close()

    def test_ice_check_reaches_the_sfu_after_transport_connect(self):
        ws, j = self.join("m2", "a")
        ice = j["transport"]["ice"]
        ws.send_json({"type": "transport_connect", "id": 2, "ice": {"ufrag": "cli1"},
                      "dtls": {"role": "client", "fingerprints": [{"algorithm": "sha-256", "value": FP}]}})
        self.assertEqual(ws.recv_type("transport_connected")["id"], 2)
        # connecting twice is refused
        ws.send_json({"type": "transport_connect", "id": 3, "ice": {"ufrag": "cli1"},
                      "dtls": {"role": "client", "fingerprints": [{"algorithm": "sha-256", "value": FP}]}})
        self.assertEqual(ws.recv_type("error")["code"], "bad_state")
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(3)
        req, tid = stun_binding_request(f"{ice['ufrag']}:cli1", ice["pwd"])
        u.sendto(req, ("127.0.0.1", self.srv.udp_port))
        resp, _ = u.recvfrom(2048)
        mtype, _, cookie = struct.unpack("!HHI", resp[:8])
        self.assertEqual((mtype, cookie, resp[8:20]), (0x0101, 0x2112A442, tid), "STUN binding success")
        self.assertEqual(ws.recv_type("transport_state")["state"], "connecting")
        # a check with the wrong password gets no success response
        bad, _ = stun_binding_request(f"{ice['ufrag']}:cli1", "x" * 22)
        u.sendto(bad, ("127.0.0.1", self.srv.udp_port))
        try:
            resp, _ = u.recvfrom(2048)
            self.assertNotEqual(struct.unpack("!H", resp[:2])[0], 0x0101)
        except socket.timeout:
            pass
        u.close()
        status, body = self.srv.http("/metrics")
        _, samples = parse_prometheus(body)
        self.assertGreaterEqual(samples[("veil_packets_in_total", frozenset())], 1)
        self.assertGreaterEqual(samples[("veil_packets_out_total", frozenset())], 1)
        ws.close()

    def test_publish_subscribe_unpublish_through_the_sfu(self):
        a, ja = self.join("m3", "a")
        b, jb = self.join("m3", "b")
        a.send_json({"type": "publish", "id": 5, "kind": "audio", "mid": "0", "ssrc": 1111,
                     "codec": OPUS, "header_extensions": [MID_EXT, LEVEL_EXT]})
        pub = a.recv_type("published")
        self.assertEqual((pub["id"], pub["ssrc"]), (5, 1111))
        tid = pub["track_id"]
        ev = b.recv_type("track_published")
        self.assertEqual((ev["participant_id"], ev["track"]["track_id"], ev["track"]["kind"]),
                         (ja["participant_id"], tid, "audio"))
        # the same SSRC twice in a room is refused by the SFU, and nothing is recorded
        a.send_json({"type": "publish", "id": 6, "kind": "audio", "mid": "1", "ssrc": 1111, "codec": OPUS})
        self.assertEqual(a.recv_type("error")["code"], "media_error")
        b.send_json({"type": "subscribe", "id": 7, "track_id": tid})
        sub = b.recv_type("subscribed")
        self.assertEqual((sub["id"], sub["track_id"], sub["participant_id"]), (7, tid, ja["participant_id"]))
        self.assertEqual((sub["payload_type"], sub["clock_rate"], sub["kind"]), (111, 48000, "audio"))
        self.assertGreater(sub["ssrc"], 0)
        self.assertIn(LEVEL_EXT, sub["header_extensions"])
        b.send_json({"type": "subscribe", "id": 8, "track_id": tid})
        self.assertEqual(b.recv_type("error")["code"], "already_exists")
        a.send_json({"type": "subscribe", "id": 9, "track_id": tid})
        self.assertEqual(a.recv_type("error")["code"], "unknown_track", "own track")
        # a late joiner sees the track in the roster
        c, jc = self.join("m3", "c")
        roster = {p["participant_id"]: p for p in jc["roster"]}
        self.assertEqual([t["track_id"] for t in roster[ja["participant_id"]]["tracks"]], [tid])
        _, body = self.srv.http("/metrics")
        _, samples = parse_prometheus(body)
        self.assertGreaterEqual(samples[("veil_tracks", frozenset())], 1)
        self.assertGreaterEqual(samples[("veil_subscriptions", frozenset())], 1)
        b.send_json({"type": "unsubscribe", "id": 10, "track_id": tid})
        self.assertEqual(b.recv_type("ack")["id"], 10)
        b.send_json({"type": "subscribe", "id": 11, "track_id": tid})
        b.recv_type("subscribed")
        a.send_json({"type": "unpublish", "id": 12, "track_id": tid})
        self.assertEqual(a.recv_type("ack")["id"], 12)
        self.assertEqual(b.recv_type("track_unpublished")["track_id"], tid)
        b.send_json({"type": "unsubscribe", "id": 13, "track_id": tid})
        self.assertEqual(b.recv_type("error")["code"], "unknown_track")
        # the publisher leaving takes its tracks with it
        a.send_json({"type": "publish", "id": 14, "kind": "video", "mid": "1", "ssrc": 2222,
                     "codec": {"name": "vp8", "payload_type": 96, "clock_rate": 90000}})
        tid2 = a.recv_type("published")["track_id"]
        b.send_json({"type": "subscribe", "id": 15, "track_id": tid2})
        b.recv_type("subscribed")
        a.close()
        b.recv_type("participant_left")
        b.send_json({"type": "unsubscribe", "id": 16, "track_id": tid2})
        self.assertEqual(b.recv_type("error")["code"], "unknown_track")
        b.close()
        c.close()

    def test_mls_relay_over_binary_frames(self):
        a, ja = self.join("m5", "a")
        op, env = a.recv_frame()
        self.assertEqual(op, 0x2, "the relay's leader control is a binary frame")
        version, kind, ctl, leader, epoch, flags = struct.unpack("!BBBQQB", env)
        self.assertEqual((version, kind, ctl), (1, 6, 2))
        self.assertEqual(leader, int(ja["participant_id"][1:], 16))
        self.assertEqual((epoch, flags & 1), (0, 1), "first member creates the group")
        b, jb = self.join("m5", "b")
        op, env = b.recv_frame()
        _, _, ctl, leader, _, flags = struct.unpack("!BBBQQB", env)
        self.assertEqual((op, ctl, leader, flags & 1), (0x2, 2, int(ja["participant_id"][1:], 16), 0))
        # a malformed envelope is answered by the relay with a binary error control
        b.send_frame(0x2, bytes([1, 99, 0]))
        op, env = b.recv_frame()
        self.assertEqual((op, env[0], env[1], env[2]), (0x2, 1, 6, 1))
        # an unjoined connection may not send envelopes
        c = self.srv.ws()
        c.send_frame(0x2, bytes([1, 5, 1, 0]))
        self.assertEqual(c.recv_json()["code"], "bad_state")
        c.close()
        a.close()
        b.close()

    def connect_media(self, ws, joined):
        """ICE and DTLS-SRTP for a joined participant through a new media_peer (closed
        when the test ends); returns the peer."""
        peer = Peer()
        self.addCleanup(peer.close)
        ws.send_json({"type": "transport_connect", "ice": {"ufrag": peer.ufrag},
                      "dtls": {"role": "client",
                               "fingerprints": [{"algorithm": "sha-256", "value": peer.fingerprint}]}})
        ws.recv_type("transport_connected")
        t = joined["transport"]
        self.assertEqual(peer.cmd(f"start {t['ice']['candidates'][0]['port']} {t['ice']['ufrag']} "
                                  f"{t['ice']['pwd']} {t['dtls']['fingerprints'][0]['value']}", "connected"),
                         "connected")
        self.assertEqual(ws.recv_type("transport_state")["state"], "connecting")
        self.assertEqual(ws.recv_type("transport_state")["state"], "connected")
        return peer

    def assert_srtp_clean(self, min_packets_in):
        _, body = self.srv.http("/metrics")
        _, samples = parse_prometheus(body)
        self.assertGreaterEqual(samples[("veil_packets_in_total", frozenset())], min_packets_in)
        self.assertEqual(samples[("veil_srtp_errors_total", frozenset())], 0)

    def test_media_flows_publisher_to_subscriber_payload_untouched(self):
        if not MEDIA_PEER:
            self.skipTest("media_peer not given")
        a, ja = self.join("m6", "a")
        b, jb = self.join("m6", "b")
        try:
            pa, pb = self.connect_media(a, ja), self.connect_media(b, jb)
            a.send_json({"type": "publish", "kind": "audio", "mid": "0", "ssrc": 4242, "codec": OPUS})
            tid = a.recv_type("published")["track_id"]
            b.send_json({"type": "subscribe", "track_id": tid})
            sub = b.recv_type("subscribed")
            payload = "5346" + "a5" * 40  # stands for SFrame ciphertext: must arrive byte for byte
            pa.cmd(f"send 4242 111 20 {payload}", "sent 20")
            got = pb.cmd("wait 15 5000", "received")
            self.assertGreaterEqual(int(got.split()[1]), 15, "most of 20 packets over loopback")
            self.assertTrue(pb.rtp)
            for ssrc, pt, seq, body in pb.rtp:
                self.assertEqual((ssrc, pt, body), (sub["ssrc"], 111, payload))
            self.assert_srtp_clean(20)
        finally:
            a.close()
            b.close()

    def test_abuse_in_the_room_leaves_the_others_media_and_roster_alone(self):
        """Issue 7: bad tokens, malformed JSON, out-of-order and oversized messages from a
        third connection in the same room (and from one with a bad token trying to get in)
        get their documented errors while the two honest participants' media keeps
        flowing and their roster stays as it was."""
        if not MEDIA_PEER:
            self.skipTest("media_peer not given")
        room, burst, max_lost = "m7", 40, 3
        a, ja = self.join(room, "a")
        b, jb = self.join(room, "b")
        try:
            peers = {}
            for ws, j in ((a, ja), (b, jb)):
                record(ws)
                peers[j["participant_id"]] = self.connect_media(ws, j)
            # each publishes one audio track and subscribes to the other's
            tracks, subs, payloads = {}, {}, {}
            for ws, j, ssrc in ((a, ja, 5151), (b, jb, 6161)):
                ws.send_json({"type": "publish", "kind": "audio", "mid": "0", "ssrc": ssrc, "codec": OPUS})
                tracks[j["participant_id"]] = (ssrc, ws.recv_type("published")["track_id"])
                payloads[ssrc] = "5346" + f"{ssrc:08x}" * 10  # stands for SFrame ciphertext
            for ws, j, other in ((a, ja, jb), (b, jb, ja)):
                ws.send_json({"type": "subscribe", "track_id": tracks[other["participant_id"]][1]})
                subs[j["participant_id"]] = ws.recv_type("subscribed")
            settled = {id(a): len(a.seen), id(b): len(b.seen)}
            sent = 0
            delivered = {pid: [] for pid in peers}

            def media_burst():
                """Both publish a burst; records how many packets of it each one got, and
                checks that at most max_lost went missing."""
                nonlocal sent
                for pid, (ssrc, _) in tracks.items():
                    self.assertEqual(peers[pid].cmd(f"send {ssrc} 111 {burst} {payloads[ssrc]}", "sent"),
                                     f"sent {burst}")
                sent += burst
                for pid, peer in peers.items():
                    total = int(peer.cmd(f"wait {sent} 5000", "received").split()[1])
                    delivered[pid].append(total - sum(delivered[pid]))
                    self.assertGreaterEqual(delivered[pid][-1], burst - max_lost, f"{pid}: {delivered[pid]}")

            media_burst()
            # a connection with a bad token tries to get into the room: refused and closed
            good = self.srv.token(room, "mallory", "Mallory")
            head, body, sig = good.split(".")
            for token, code, close in [
                    ("not-a-jwt", "token_malformed", 1008),
                    (".".join([head, body, ("A" if sig[0] != "A" else "B") + sig[1:]]), "token_signature", 1008),
                    (b64u(b'{"alg":"none"}') + "." + body + ".", "token_algorithm", 1008),
                    (self.srv.token("elsewhere", "mallory", "Mallory"), "token_room", 1008),
                    (self.srv.token(room, "mallory", "Mallory", "member", "--nbf-in", "600"), "token_not_yet_valid",
                     1008),
                    (self.srv.token(room, "a", "A"), "duplicate_identity", None)]:  # a's identity, a valid token
                x = self.srv.ws()
                x.send_json({"type": "join", "id": 1, "token": token, "room": room})
                reply = x.recv_json()
                self.assertEqual((reply["type"], reply["code"], reply["id"]), ("error", code, 1), reply)
                if close:
                    self.assertEqual(x.expect_close(), close)
                else:
                    x.close()
            media_burst()
            # a third participant in the room sends malformed, invalid and out-of-order messages
            c, jc = self.join(room, "c")
            a_track = tracks[ja["participant_id"]]
            for msg, code, id_ in [
                    ("{", "malformed", None), ('{"type":"ping","type":"ping"}', "malformed", None),
                    ("[" * 50 + "]" * 50, "malformed", None), ('{"type":"nope","id":2}', "invalid_message", 2),
                    ('{"type":"subscribe","id":3,"track_id":5}', "invalid_message", 3),
                    ({"type": "join", "id": 4, "token": self.srv.token(room, "c", "C"), "room": room}, "bad_state", 4),
                    ({"type": "admit", "id": 5, "participant_id": ja["participant_id"]}, "forbidden", 5),
                    ({"type": "unpublish", "id": 6, "track_id": a_track[1]}, "unknown_track", 6),
                    ({"type": "subscribe", "id": 7, "track_id": "t-none"}, "unknown_track", 7),
                    # a's SSRC: the SFU must not let c take over a's stream
                    ({"type": "publish", "id": 8, "kind": "audio", "mid": "0", "ssrc": a_track[0], "codec": OPUS},
                     "media_error", 8)]:
                c.send_text(msg if isinstance(msg, str) else json.dumps(msg))
                reply = c.recv_type("error")
                self.assertEqual((reply["code"], reply.get("id")), (code, id_), msg)
            c.send_json({"type": "ping", "id": 9})
            self.assertEqual(c.recv_type("pong")["id"], 9, "c's connection survived its errors")
            media_burst()
            # and then a message over max_message_bytes (64 KiB): closed with 1009
            c.send_text('{"type":"ping","pad":"' + "x" * 70000 + '"}')
            self.assertEqual(c.expect_close(), 1009)
            media_burst()
            self.assertEqual(sent, 4 * burst)
            # every packet each one got is the other's, payload byte for byte, on the subscribed SSRC
            for pid, peer in peers.items():
                other = next(p for p in peers if p != pid)
                self.assertEqual(len(peer.rtp), sum(delivered[pid]))
                for ssrc, pt, seq, body in peer.rtp:
                    self.assertEqual((ssrc, pt, body), (subs[pid]["ssrc"], 111, payloads[tracks[other][0]]))
            self.assert_srtp_clean(2 * sent)
            # the honest pair saw c come and go, nothing else: no one of theirs left or unpublished
            for ws in (a, b):
                drain(ws)
                roster_events = [(m["type"], m.get("participant", {}).get("participant_id", m.get("participant_id")))
                                 for m in ws.seen[settled[id(ws)]:]]
                self.assertEqual(roster_events, [("participant_joined", jc["participant_id"]),
                                                 ("participant_left", jc["participant_id"])])
            # and a newcomer finds exactly them, with their tracks
            d, jd = self.join(room, "d")
            self.assertEqual({p["participant_id"]: ([t["track_id"] for t in p["tracks"]], p["identity"])
                              for p in jd["roster"]},
                             {ja["participant_id"]: ([tracks[ja["participant_id"]][1]], "a"),
                              jb["participant_id"]: ([tracks[jb["participant_id"]][1]], "b")})
            d.close()
        finally:
            a.close()
            b.close()

    def test_publish_without_grant_is_forbidden(self):
        ws = self.srv.ws()
        ws.send_json({"type": "join", "token": self.srv.token("m4", "v", "V", "member", "--no-publish"), "room": "m4"})
        ws.recv_type("joined")
        ws.send_json({"type": "publish", "id": 1, "kind": "audio", "mid": "0", "ssrc": 5, "codec": OPUS})
        self.assertEqual(ws.recv_type("error")["code"], "forbidden")
        ws.close()


class ES256Server(unittest.TestCase):
    """The default deployment: wss with a generated certificate and an ES256 key."""

    def test_default_tls_es256_join_and_tampering(self):
        d = tempfile.mkdtemp(prefix="veil-it-")
        srv = Server(BINARY, d)
        try:
            self.assertTrue(srv.tls)
            tok = srv.token("demo", "alice@example.org", "Alice", "host")
            ws = srv.ws()
            ws.send_json({"type": "join", "token": tok, "room": "demo"})
            r = ws.recv_json()
            self.assertEqual(r["type"], "joined", r)
            self.assertEqual(r["role"], "host")
            ws.close()
            # flip one signature character: refused
            head, body, sig = tok.split(".")
            sig = ("A" if sig[0] != "A" else "B") + sig[1:]
            ws = srv.ws()
            ws.send_json({"type": "join", "token": ".".join([head, body, sig]), "room": "demo"})
            self.assertEqual(ws.recv_json()["code"], "token_signature")
            # HS/ES confusion: an HS256 token keyed with the server's public key text
            pem = open(os.path.join(d, "token-es256.key"), "rb").read()
            forged = hs256_token(pem, {"room": "demo", "sub": "x", "name": "X", "role": "host",
                                       "iat": now(), "exp": now() + 60})
            ws = srv.ws()
            ws.send_json({"type": "join", "token": forged, "room": "demo"})
            self.assertEqual(ws.recv_json()["code"], "token_algorithm")
        finally:
            self.assertEqual(srv.stop(), 0)
            shutil.rmtree(d, ignore_errors=True)


class StartupLines(unittest.TestCase):
    """What veil-server prints when it starts is a way to join that works when pasted: a
    token command that signs with this server's own algorithm, key and state directory,
    and a veil-client command line with the URL and the way to trust the certificate."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="veil-it-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def start(self, *args):
        srv = Server(BINARY, self.dir, *args)
        self.addCleanup(lambda: self.assertEqual(srv.stop(), 0))
        lines = {}
        while "tls" not in lines:  # the lines after "ready", flushed with it
            line = srv.proc.stdout.readline().decode()
            self.assertTrue(line, f"no tls line after {lines}")
            kind, _, rest = line.rstrip("\n").partition(": ")
            lines.setdefault(kind, []).append(rest)
        return srv, lines

    def join_as_printed(self, lines, other_alg):
        """Runs the printed token command in a shell whose VEIL_* environment names another
        state directory and algorithm (the printed flags must win), then veil-client with
        the printed arguments and --duration. Returns the token and the client's argv."""
        if not VEIL_CLIENT:
            self.skipTest("veil-client not given")
        token_cmd, client_cmd = lines["join"]
        work = os.path.join(self.dir, "paste")
        os.mkdir(work)
        env = {**os.environ, "VEIL_STATE_DIR": os.path.join(work, "other"), "VEIL_TOKEN_ALG": other_alg}
        p = subprocess.run(["sh", "-c", token_cmd], cwd=work, env=env, capture_output=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(os.path.join(work, "other")), "the token command used the server's state")
        argv = shlex.split(client_cmd)
        self.assertEqual(argv[0], "veil-client")
        p = subprocess.run([VEIL_CLIENT, *argv[1:], "--duration", "2", "--json"], cwd=work, capture_output=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        events = [json.loads(e) for e in p.stdout.decode().splitlines() if e.startswith("{")]
        joined = [e for e in events if e["event"] == "joined"]
        self.assertEqual([(e["room"], e["self"]) for e in joined], [("demo", "alice@example.org")], events)
        return open(os.path.join(work, "alice.jwt")).read().strip(), argv

    def test_hs256_server_prints_a_token_command_it_accepts_and_its_pin(self):
        srv, lines = self.start("--token-alg", "HS256")
        self.assertTrue(srv.tls)
        cert = os.path.join(self.dir, "tls-cert.pem")
        self.assertEqual(lines["tls"], [f"self-signed development certificate {cert}, generated by veil-server "
                                        "(clients pin its SHA-256: --pin)"])
        token, argv = self.join_as_printed(lines, "ES256")
        head, body, sig = token.split(".")
        self.assertEqual(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))),
                         {"alg": "HS256", "typ": "JWT"})
        secret = read_hs_secret(os.path.join(self.dir, "token-hs256.key"))
        self.assertEqual(sig, b64u(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "token-es256.key")), "no second key was made")
        der = ssl.PEM_cert_to_DER_cert(open(cert).read())
        self.assertEqual(argv[argv.index("--url") + 1], f"wss://127.0.0.1:{srv.port}/")
        self.assertEqual(argv[argv.index("--pin") + 1], hashlib.sha256(der).hexdigest())
        self.assertNotIn("--ca", argv)

    def operator_certificate(self, san="IP:127.0.0.1"):
        """A CA and a certificate it issued for `san` (127.0.0.1), by the openssl command."""
        if not shutil.which("openssl"):
            self.skipTest("no openssl command")
        d = os.path.join(self.dir, "operator")
        os.mkdir(d)

        def openssl(*args):
            subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=30)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=veil it CA")
        openssl("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost")
        with open(os.path.join(d, "ext"), "w") as f:
            f.write(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "leaf.pem", "-days", "1", "-extfile", "ext")
        with open(os.path.join(d, "chain.pem"), "w") as f:
            f.write(open(os.path.join(d, "leaf.pem")).read() + open(os.path.join(d, "ca.pem")).read())
        return d

    def test_operator_certificate_is_named_and_trusted_through_its_chain(self):
        d = self.operator_certificate()
        chain, key = os.path.join(d, "chain.pem"), os.path.join(d, "leaf.key")
        srv, lines = self.start("--cert-file", chain, "--key-file", key)
        self.assertEqual(lines["tls"], [f"operator certificate {chain} (key {key}), verified against CA file {chain} "
                                        "(clients: --ca)"])
        _, argv = self.join_as_printed(lines, "HS256")
        self.assertEqual(argv[argv.index("--ca") + 1], chain)
        self.assertNotIn("--pin", argv)

    def test_operator_certificate_for_a_name_puts_that_name_in_the_url(self):
        # veil-client --ca checks the URL's host against the certificate: a certificate that
        # names only localhost (not the listen address 127.0.0.1) gets a localhost URL
        d = self.operator_certificate("DNS:*.example.org,DNS:localhost")
        chain, key = os.path.join(d, "chain.pem"), os.path.join(d, "leaf.key")
        srv, lines = self.start("--cert-file", chain, "--key-file", key)
        _, argv = self.join_as_printed(lines, "HS256")
        self.assertEqual(argv[argv.index("--url") + 1], f"wss://localhost:{srv.port}/")
        self.assertEqual(argv[argv.index("--ca") + 1], chain)

    def test_operator_certificate_of_an_unknown_issuer_is_pinned(self):
        d = self.operator_certificate()
        leaf, key = os.path.join(d, "leaf.pem"), os.path.join(d, "leaf.key")
        srv, lines = self.start("--cert-file", leaf, "--key-file", key)
        self.assertEqual(lines["tls"], [f"operator certificate {leaf} (key {key}), not verified by the system's CAs "
                                        "(unable to get local issuer certificate): clients pin it (--pin) or take "
                                        "--ca with its issuer"])
        _, argv = self.join_as_printed(lines, "HS256")
        der = ssl.PEM_cert_to_DER_cert(open(leaf).read())
        self.assertEqual(argv[argv.index("--pin") + 1], hashlib.sha256(der).hexdigest())

    def test_public_token_key_prints_no_token_command(self):
        if not shutil.which("openssl"):
            self.skipTest("no openssl command")
        srv, lines = self.start("--no-tls")
        srv.stop()
        pub = os.path.join(self.dir, "token-es256.pub")
        subprocess.run(["openssl", "pkey", "-in", os.path.join(self.dir, "token-es256.key"), "-pubout", "-out", pub],
                       check=True, capture_output=True, timeout=30)
        srv, lines = self.start("--no-tls", "--token-key-file", pub)
        self.assertEqual(lines["tls"], ["off (plain ws://; terminate TLS in front of the server)"])
        self.assertEqual(len(lines["join"]), 2)
        self.assertIn(f"token_key_file {pub} verifies only (a public key)", lines["join"][0])
        self.assertNotIn(" token ", lines["join"][0])
        self.assertEqual(shlex.split(lines["join"][1]),
                         ["veil-client", "--url", f"ws://127.0.0.1:{srv.port}/", "--room", "demo", "--identity",
                          "alice@example.org", "--name", "Alice", "--token-file", "alice.jwt"])


class Lobby(unittest.TestCase):
    def test_host_admits_and_rejects(self):
        d = tempfile.mkdtemp(prefix="veil-it-")
        srv = Server(BINARY, d, "--no-tls", "--lobby")
        try:
            m = srv.ws()
            m.send_json({"type": "join", "id": 1, "token": srv.token("L", "m@x", "M", "member"), "room": "L"})
            w = m.recv_json()
            self.assertEqual((w["type"], w["state"], w["id"]), ("lobby", "waiting", 1))
            m.send_json({"type": "publish", "kind": "audio", "mid": "0", "ssrc": 1,
                         "codec": {"name": "opus", "payload_type": 111, "clock_rate": 48000}})
            self.assertEqual(m.recv_json()["code"], "bad_state")
            h = srv.ws()
            h.send_json({"type": "join", "token": srv.token("L", "h@x", "H", "host"), "room": "L"})
            hj = h.recv_json()
            self.assertEqual(hj["type"], "joined")
            self.assertEqual([p["participant_id"] for p in hj["lobby"]], [w["participant_id"]])
            r = srv.ws()
            r.send_json({"type": "join", "token": srv.token("L", "r@x", "R", "member"), "room": "L"})
            rw = r.recv_json()
            self.assertEqual(rw["type"], "lobby")
            self.assertEqual(h.recv_type("lobby_waiting")["participant"]["participant_id"], rw["participant_id"])
            h.send_json({"type": "admit", "id": 2, "participant_id": w["participant_id"]})
            self.assertEqual(h.recv_type("ack")["id"], 2)
            mj = m.recv_json()
            self.assertEqual(mj["type"], "joined")
            self.assertEqual(mj["participant_id"], w["participant_id"])
            h.send_json({"type": "reject", "id": 3, "participant_id": rw["participant_id"]})
            self.assertEqual(h.recv_type("ack")["id"], 3)
            self.assertEqual(r.recv_json()["code"], "admission_rejected")
            self.assertEqual(r.expect_close(), 4003)
            h.send_json({"type": "admit", "id": 4, "participant_id": rw["participant_id"]})
            self.assertEqual(h.recv_type("error")["code"], "unknown_participant")
        finally:
            self.assertEqual(srv.stop(), 0)
            shutil.rmtree(d, ignore_errors=True)


class Drain(unittest.TestCase):
    def test_sigterm_drains_and_exits_zero(self):
        d = tempfile.mkdtemp(prefix="veil-it-")
        srv = Server(BINARY, d, "--no-tls", "--drain-timeout-ms", "4000")
        try:
            a = srv.ws()
            a.send_json({"type": "join", "token": srv.token("D", "a@x", "A"), "room": "D"})
            self.assertEqual(a.recv_json()["type"], "joined")
            tok = srv.token("D", "b@x", "B")
            srv.proc.send_signal(signal.SIGTERM)
            ev = a.recv_type("draining")
            self.assertEqual(ev["deadline_ms"], 4000)
            self.assertEqual(srv.http("/readyz")[0], 503)
            self.assertEqual(srv.http("/healthz")[0], 200)
            b = srv.ws()
            self.assertEqual(b.recv_json()["type"], "draining")
            b.send_json({"type": "join", "token": tok, "room": "D"})
            self.assertEqual(b.recv_type("error")["code"], "draining")
            self.assertEqual(b.expect_close(), 1001)
            a.send_json({"type": "ping", "id": 1})
            self.assertEqual(a.recv_type("pong")["id"], 1)
            t0 = time.monotonic()
            a.close()
            self.assertEqual(srv.proc.wait(5), 0)
            self.assertLess(time.monotonic() - t0, 3.0, "drain should end when the last client leaves")
        finally:
            if srv.proc.poll() is None:
                srv.proc.kill()
            shutil.rmtree(d, ignore_errors=True)

    def test_drain_deadline_bounds_exit(self):
        d = tempfile.mkdtemp(prefix="veil-it-")
        srv = Server(BINARY, d, "--no-tls", "--drain-timeout-ms", "800")
        try:
            a = srv.ws()
            a.send_json({"type": "join", "token": srv.token("D", "a@x", "A"), "room": "D"})
            self.assertEqual(a.recv_json()["type"], "joined")
            t0 = time.monotonic()
            srv.proc.send_signal(signal.SIGTERM)
            self.assertEqual(srv.proc.wait(5), 0)
            self.assertLess(time.monotonic() - t0, 4.0)
        finally:
            if srv.proc.poll() is None:
                srv.proc.kill()
            shutil.rmtree(d, ignore_errors=True)


class Config(unittest.TestCase):
    def test_invalid_config_names_key_and_exits_nonzero(self):
        import subprocess
        d = tempfile.mkdtemp(prefix="veil-it-")
        try:
            for args, env, key in [(["--port", "70000"], {}, "port"), ([], {"VEIL_MAX_ROOMS": "zero"}, "VEIL_MAX_ROOMS"),
                                   (["--bogus-key", "1"], {}, "bogus_key")]:
                p = subprocess.run([BINARY, "--state-dir", d, *args], capture_output=True, timeout=10,
                                   env={**os.environ, **env})
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(key, p.stderr.decode())
            cfg = os.path.join(d, "veil.conf")
            with open(cfg, "w") as f:
                f.write("# test\nport = 1234\nmax_rooms = 7\nlobby = true\n")
            p = subprocess.run([BINARY, "config", "--config", cfg, "--max-rooms", "9"], capture_output=True,
                               timeout=10, env={**os.environ, "VEIL_PORT": "2345", "VEIL_MAX_ROOMS": "8"})
            out = p.stdout.decode()
            self.assertIn("port = 2345\n", out)
            self.assertIn("max_rooms = 9\n", out)
            self.assertIn("lobby = true\n", out)
            # docs/config.md documents every key the binary knows, with its default
            docs = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                                     "config.md")).read()
            p = subprocess.run([BINARY, "config"], capture_output=True, timeout=10,
                               env={k: v for k, v in os.environ.items() if not k.startswith("VEIL_")})
            for line in p.stdout.decode().splitlines():
                key, _, value = line.partition(" = ")
                self.assertIn(f"| `{key}` |", docs, f"{key} missing from docs/config.md")
                value = value.strip('"')
                if value:
                    row = next(r for r in docs.splitlines() if r.startswith(f"| `{key}` |"))
                    self.assertIn(f"`{value}`", row, f"default of {key}")
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    if len(sys.argv) > 1 and os.path.basename(sys.argv[1]).startswith("media_peer"):
        MEDIA_PEER = sys.argv.pop(1)
    if len(sys.argv) > 1 and os.path.basename(sys.argv[1]).startswith("veil-client"):
        VEIL_CLIENT = os.path.abspath(sys.argv.pop(1))  # run from another directory
    unittest.main(verbosity=2)
