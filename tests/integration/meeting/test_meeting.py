#!/usr/bin/env python3
"""A whole E2EE meeting on 127.0.0.1: veil-server and veil-client processes.

Usage: test_meeting.py PATH/TO/veil-server PATH/TO/veil-client

Shows, with real processes, sockets and crypto end to end:
  * four clients: everyone decrypts everyone's audio and video bit-exact (the synthetic
    pattern is regenerated and compared by each receiver), no frame fails to authenticate,
    and all four show the same security code;
  * a member leaves: the group rekeys (new epoch without it), the security code stays; the
    departed client keeps running and receives the others' packets through a tap (another
    member copies every RTP packet and MLS application message it gets; the departed
    client takes them once it left): it decrypts nothing sent under the epochs after its
    removal, frames and chat alike, and the same frames are counted as refused (unknown
    key), the chat as of an epoch it does not hold;
  * a fifth client joins: the security code changes, identically for everyone;
  * a client that flips bits in its SFrame ciphertexts causes authentication failures at
    its receivers, never garbage media;
  * E2EE chat arrives;
and prints the join-to-first-decrypted-frame and rekey-after-leave latencies."""

import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from veilws import Server  # noqa: E402
from meeting import Client  # noqa: E402

SERVER = CLIENT = None


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def receivers(stats, identity=None, kind=None, tap=False):
    out = []
    for r in stats["receivers"]:
        if tap != r["track_id"].startswith("tap-"):
            continue
        if identity is not None and r["identity"] != identity:
            continue
        if kind is not None and r["kind"] != kind:
            continue
        out.append(r)
    return out


class Meeting(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="veil-meeting-")
        cls.srv = Server(SERVER, cls.dir, "--no-tls")

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        if rc == 0 and not os.environ.get("VEIL_KEEP"):
            shutil.rmtree(cls.dir, ignore_errors=True)
        else:
            print(f"logs kept in {cls.dir}", file=sys.stderr)
        assert rc == 0, f"server exit code {rc}"

    def test_four_members_leave_join_and_removed_member_sees_nothing(self):
        tap = free_udp_port()
        names = ["alice", "bob", "carol", "dave"]
        ids = {n: f"{n}@example.org" for n in names}
        c = {}
        c["alice"] = Client(CLIENT, self.srv, "m1", ids["alice"], "Alice", "--duration", "16")
        c["alice"].wait_for(lambda e: e.get("event") == "epoch", what="group created")
        c["bob"] = Client(CLIENT, self.srv, "m1", ids["bob"], "Bob", "--duration", "15.5",
                          "--interactive")
        c["carol"] = Client(CLIENT, self.srv, "m1", ids["carol"], "Carol", "--duration", "15",
                            "--tap-to", str(tap))
        c["dave"] = Client(CLIENT, self.srv, "m1", ids["dave"], "Dave", "--duration", "14",
                           "--tap-listen", str(tap), "--interactive")
        # everyone in one group of four, with one code
        for n in names:
            c[n].wait_for(lambda e: e.get("event") == "epoch" and e["members"] == 4, what="4 members")
        # bob chats once all four are in: a message sent before carol or dave joined is,
        # rightly, one they can never read (a joiner gets no earlier epoch's keys)
        c["bob"].command("chat hello from bob")
        for n in names:
            c[n].wait_for(lambda e: e.get("event") == "first_frame", what="first frame")
        time.sleep(3.0)  # media flows in the group of four
        codes4 = {n: c[n].code() for n in names}
        self.assertEqual(len(set(codes4.values())), 1, codes4)
        self.assertRegex(codes4["alice"], r"^(\d{5} ){11}\d{5}$")
        epoch4 = max(e["epoch"] for e in c["alice"].of("epoch"))

        # dave leaves but keeps listening on the tap
        c["dave"].command("leave")
        left = c["dave"].wait_for(lambda e: e.get("event") == "left", what="left")
        for n in ["alice", "bob", "carol"]:
            c[n].wait_for(lambda e: e.get("event") == "epoch" and e["members"] == 3 and e["epoch"] > epoch4,
                          what="rekey without dave")
        removal_epoch = min(e["epoch"] for e in c["alice"].of("epoch") if e["members"] == 3 and e["epoch"] > epoch4)
        c["bob"].command("chat bob after dave left")  # carol's tap copies it to dave
        for n in ["alice", "carol"]:
            c[n].wait_for(lambda e: e.get("event") == "chat" and e["text"] == "bob after dave left",
                          what="chat after dave left")
        time.sleep(2.5)  # the others send under the new epoch; dave gets it all through the tap
        for n in ["alice", "bob", "carol"]:
            self.assertEqual(c[n].code(), codes4[n], f"{n}: security code must stay on a removal")

        # erin joins: the code changes, the same for all
        c["erin"] = Client(CLIENT, self.srv, "m1", "erin@example.org", "Erin", "--duration", "6")
        for n in ["alice", "bob", "carol", "erin"]:
            c[n].wait_for(lambda e: e.get("event") == "epoch" and e["members"] == 4 and e["epoch"] > removal_epoch,
                          what="erin added")
        for n in ["alice", "bob", "carol", "erin"]:
            c[n].wait_for(lambda e: e.get("event") == "first_frame", what="first frame")
        time.sleep(1.0)
        codes_after = {n: c[n].code() for n in ["alice", "bob", "carol", "erin"]}
        self.assertEqual(len(set(codes_after.values())), 1, codes_after)
        self.assertNotEqual(codes_after["alice"], codes4["alice"], "a join must change the security code")

        rcs = {n: c[n].finish(30) for n in c}
        self.assertEqual(rcs, {n: 0 for n in c}, "clients exit 0")

        # media: everyone decrypted everyone else's audio and video, bit-exact, no failures
        stats = {n: c[n].final_stats() for n in c}
        at_leave = c["dave"].of("stats")[0]  # printed by dave at its leave command
        for n, st in list(stats.items()) + [("dave@leave", at_leave)]:
            base = n.split("@")[0]
            others = [m for m in names if m != base] if base != "erin" else ["alice", "bob", "carol"]
            for m in others:
                for kind in ("audio", "video"):
                    rs = receivers(st, ids[m], kind)
                    self.assertTrue(rs, f"{n} has no {kind} receiver for {m}")
                    for r in rs:
                        self.assertGreater(r["verified"], 10, f"{n} <- {m} {kind}: {r}")
                        self.assertEqual(r["verified"], r["decrypted"], f"{n} <- {m} {kind}: {r}")
                        for bad in ("corrupt", "auth_failed", "wrong_sender", "replayed", "not_sframe"):
                            self.assertEqual(r[bad], 0, f"{n} <- {m} {kind}: {bad} {r}")

        # the removed member: the tap kept feeding it; nothing of the epochs after its
        # removal decrypted, while the same packets failed as unknown keys
        taps_end = receivers(stats["dave"], tap=True)
        taps_leave = {r["track_id"]: r for r in receivers(at_leave, tap=True)}
        self.assertTrue(taps_end, "dave's tap received packets")
        fed_after = sum(r["packets"] - taps_leave.get(r["track_id"], {"packets": 0})["packets"] for r in taps_end)
        self.assertGreater(fed_after, 200, "packets reached dave through the tap after it left")
        for r in taps_end:
            self.assertLess(r["max_epoch"], removal_epoch, f"dave decrypted a post-removal frame: {r}")
            self.assertEqual(r["corrupt"], 0, r)
        undecryptable = sum(r["unknown_kid"] - taps_leave.get(r["track_id"], {"unknown_kid": 0})["unknown_kid"]
                            for r in taps_end)
        self.assertGreater(undecryptable, 50, "post-removal frames were refused by dave")
        # and the chat carol's tap copied to it: sent after its removal, refused, never shown
        tc = stats["dave"]["tap_chat"]
        self.assertGreater(tc["fed"], 0, f"chat reached dave through the tap after it left: {tc}")
        self.assertEqual(tc["dated"], tc["fed"], tc)
        self.assertGreaterEqual(tc["min_epoch"], removal_epoch, f"a tapped chat predates dave's removal: {tc}")
        self.assertEqual(tc["decrypted"], 0, f"dave decrypted a post-removal chat: {tc}")
        self.assertEqual(tc["refused"], tc["fed"], tc)
        self.assertEqual(tc["wrong_epoch"], tc["refused"], f"refused as of an epoch dave lacks: {tc}")
        self.assertEqual([e for e in c["dave"].of("chat") if e["t_ms"] > left["t_ms"]], [],
                         "dave got no chat after it left")

        # chat
        for n in ["alice", "carol", "dave"]:
            chats = c[n].of("chat")
            self.assertIn(("bob@example.org", "hello from bob"), [(e["from"], e["text"]) for e in chats], n)

        # latencies
        print("\njoin -> first decrypted frame (ms):", file=sys.stderr)
        for n in c:
            ff = c[n].of("first_frame")
            print(f"  {n:6s} {ff[0]['after_join_ms']:8.1f}", file=sys.stderr)
        print("rekey after leave (ms, participant_left -> new epoch installed):", file=sys.stderr)
        for n in ["alice", "bob", "carol"]:
            rk = c[n].of("rekey")
            self.assertTrue(rk, f"{n} saw no rekey")
            print(f"  {n:6s} {rk[0]['after_leave_ms']:8.1f}", file=sys.stderr)
        lat = [r["latency_avg_ms"] for st in stats.values() for r in receivers(st) if r["verified"]]
        print(f"media latency sender->receiver (avg over receivers): {sum(lat) / len(lat):.2f} ms", file=sys.stderr)

    def test_tampering_sender_causes_auth_failures_never_garbage(self):
        honest = Client(CLIENT, self.srv, "m2", "honest@example.org", "Honest", "--duration", "6")
        honest.wait_for(lambda e: e.get("event") == "epoch", what="group")
        evil = Client(CLIENT, self.srv, "m2", "mallory@example.org", "Mallory", "--duration", "5.5", "--tamper")
        self.assertEqual(honest.finish(30), 0)
        self.assertEqual(evil.finish(30), 0)
        st = honest.final_stats()
        rs = receivers(st, "mallory@example.org")
        self.assertEqual({r["kind"] for r in rs}, {"audio", "video"})
        for r in rs:
            self.assertGreater(r["auth_failed"], 10, r)
            self.assertEqual((r["decrypted"], r["verified"], r["corrupt"]), (0, 0, 0), r)
        # the tampering client itself still receives the honest one's media intact
        for r in receivers(evil.final_stats(), "honest@example.org"):
            self.assertGreater(r["verified"], 10, r)
            self.assertEqual(r["auth_failed"] + r["corrupt"], 0, r)


class PinnedTLS(unittest.TestCase):
    """wss: the client trusts the server by a SHA-256 pin of its certificate, or by a CA
    file whose chain must end in a certificate naming the URL's host."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="veil-meeting-tls-")
        cls.srv = Server(SERVER, cls.dir)
        assert cls.srv.tls
        der = ssl.PEM_cert_to_DER_cert(open(os.path.join(cls.dir, "tls-cert.pem")).read())
        cls.srv.cert_sha256 = hashlib.sha256(der).hexdigest()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert rc == 0, f"server exit code {rc}"

    def test_pinned_server_meeting_decrypts(self):
        a = Client(CLIENT, self.srv, "t1", "ann@example.org", "Ann", "--duration", "4")
        a.wait_for(lambda e: e.get("event") == "epoch", what="group")
        b = Client(CLIENT, self.srv, "t1", "ben@example.org", "Ben", "--duration", "3.5")
        for c in (a, b):
            c.wait_for(lambda e: e.get("event") == "first_frame", what="media over wss")
        self.assertEqual((a.finish(20), b.finish(20)), (0, 0))
        self.assertEqual(a.code(), b.code())

    def test_ca_file_trust_joins_and_a_foreign_ca_does_not(self):
        ca = os.path.join(self.dir, "tls-cert.pem")  # self-signed: its own anchor
        ok = Client(CLIENT, self.srv, "t3", "cat@example.org", "Cat", "--duration", "2", "--ca", ca, pin=False)
        ok.wait_for(lambda e: e.get("event") == "joined", what="joined with --ca")
        self.assertEqual(ok.finish(20), 0)
        foreign = os.path.join(self.dir, "foreign-ca.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", os.path.join(self.dir, "foreign-key.pem"), "-out", foreign,
                        "-subj", "/CN=foreign", "-days", "1"], check=True, capture_output=True, timeout=20)
        bad = Client(CLIENT, self.srv, "t3", "dog@example.org", "Dog", "--duration", "3", "--ca", foreign, pin=False)
        self.assertEqual(bad.finish(20), 1)
        self.assertEqual(bad.of("joined"), [])

    def test_ca_file_trust_needs_the_url_host_in_the_certificate(self):
        # One CA, two leaves that differ only in the name they carry. The CA file alone
        # vouches for both; only the leaf naming the URL's host (IP 127.0.0.1) may be the
        # server — the other one is what a man in the middle holding any certificate from
        # a trusted CA would present. Its CN says 127.0.0.1: the subject never counts.
        d = os.path.join(self.dir, "names")
        os.mkdir(d)
        ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")

        def openssl(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=20)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-subj", "/CN=names test CA", "-days", "1")
        for leaf, san, joins in (("other", "DNS:other.example", False), ("right", "IP:127.0.0.1", True)):
            with self.subTest(leaf=leaf, san=san):
                cert, key, csr, ext = (os.path.join(d, f"{leaf}.{x}") for x in ("pem", "key", "csr", "ext"))
                with open(ext, "w") as f:
                    f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
                openssl("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
                openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                        "-out", cert, "-days", "1", "-extfile", ext)
                state = os.path.join(d, f"server-{leaf}")
                os.mkdir(state)
                srv = Server(SERVER, state, "--cert-file", cert, "--key-file", key)
                try:
                    self.assertTrue(srv.tls)
                    c = Client(CLIENT, srv, "t4", f"{leaf}@example.org", leaf, "--duration", "2", "--ca", ca,
                               pin=False)
                    if joins:
                        c.wait_for(lambda e: e.get("event") == "joined", what="joined with --ca")
                        self.assertEqual(c.finish(20), 0)
                    else:
                        self.assertEqual(c.finish(20), 1, "a name mismatch ends the client with an error")
                        self.assertEqual(c.of("joined"), [], "no join with a certificate for another name")
                        closed = c.of("signaling_closed")
                        self.assertEqual(len(closed), 1, closed)
                        self.assertIn("name does not match 127.0.0.1", closed[0]["reason"])
                        self.assertIn("tls_name_mismatch host=127.0.0.1", open(c.stderr_path).read())
                finally:
                    rc = srv.stop()
                self.assertEqual(rc, 0, f"server exit code {rc}")

    def test_server_survives_connections_closed_before_http(self):
        # what a client's pin check does to the server: TLS up, then closed before the upgrade
        for tls in (False, True):
            s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=5)
            if tls:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                s = ctx.wrap_socket(s)
            s.close()
        time.sleep(0.3)
        self.assertIsNone(self.srv.proc.poll(), "server still running")

    def test_wrong_pin_never_joins(self):
        good = self.srv.cert_sha256
        self.srv.cert_sha256 = "00" * 32
        try:
            c = Client(CLIENT, self.srv, "t2", "eve@example.org", "Eve", "--duration", "5")
        finally:
            self.srv.cert_sha256 = good
        self.assertEqual(c.finish(20), 1, "a pin mismatch ends the client with an error")
        self.assertEqual(c.of("joined"), [], "no join over an unpinned connection")
        self.assertIn("tls_pin_mismatch", open(c.stderr_path).read())


if __name__ == "__main__":
    SERVER, CLIENT = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
