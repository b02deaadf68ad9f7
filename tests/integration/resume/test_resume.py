#!/usr/bin/env python3
"""Session resumption end to end: veil-server and veil-client processes on 127.0.0.1.

Usage: test_resume.py PATH/TO/veil-server PATH/TO/veil-client

Bob's signaling WebSocket runs through a small TCP proxy owned by this test; alice and
carol connect directly. Media (ICE/DTLS-SRTP over UDP) never passes the proxy, so severing
it cuts signaling only, the way a flaky network path or a restarted load balancer would
(issue 8 "Recovery", docs/protocol.md "Resuming"):
  (a) severed and reconnected at once: bob resumes with the same participant id, nobody's
      epoch or security code changes, and media keeps decrypting both ways;
  (b) cut off while carol joins (one commit): on resume the relay replays the commit and
      all three end on one epoch, one epoch_authenticator and one security code;
  (c) cut off longer than the server's reconnect grace: bob is removed (the group rekeys to
      one member) and, when the path is back, its resume is refused and it joins fresh as a
      new participant; the group of two agrees again and media decrypts.
"""

import os
import socket
import sys
import threading
import time
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.dirname(HERE)
sys.path.insert(0, INTEGRATION)
sys.path.insert(0, os.path.join(INTEGRATION, "meeting"))
from veilws import class_server, parse_prometheus, stop_class_server  # noqa: E402
from meeting import Client, last_epoch, quit_all, wait_members  # noqa: E402

SERVER = CLIENT = None
TIMEOUT = 25.0  # per awaited event; generous for the ASan build on a shared 2-core machine
GRACE_MS = 10000  # the server's reconnect grace in this test (default 15 s): a commit on a busy ASan build fits in it


class Proxy:
    """A TCP forwarder 127.0.0.1:port -> the server. sever() cuts every open connection
    (both sides see the TCP connection end); while `refuse` is set, new connections are
    accepted and closed at once, so the client's attempts fail until it is lifted."""

    def __init__(self, target_port):
        self.target = target_port
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.lsock.settimeout(0.1)
        self.port = self.lsock.getsockname()[1]
        self.refuse = False
        self.accepted = 0
        self.pairs = []
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.refuse:
                c.close()
                continue
            try:
                u = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                c.close()
                continue
            u.settimeout(None)
            with self.lock:
                self.pairs.append((c, u))
                self.accepted += 1
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def sever(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for c, u in pairs:
            for s in (c, u):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.stop = True
        self.sever()
        self.thread.join(2)
        self.lsock.close()


def verified_from(stats, identity):
    return sum(r["verified"] for r in stats["receivers"] if r["identity"] == identity)


def failures(stats):
    keys = ("auth_failed", "unknown_kid", "replayed", "not_sframe", "wrong_sender", "corrupt")
    return sum(r[k] for r in stats["receivers"] for k in keys)


class Resume(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir, cls.srv = class_server(SERVER, "veil-resume-", "--no-tls", "--reconnect-grace-ms", str(GRACE_MS))

    @classmethod
    def tearDownClass(cls):
        stop_class_server(cls.dir, cls.srv)

    def setUp(self):
        self.clients = []
        self.proxy = Proxy(self.srv.port)
        self.addCleanup(self.proxy.close)
        # What veil-client's helper needs of a server, with the proxy's port for bob.
        self.via_proxy = types.SimpleNamespace(tls=False, port=self.proxy.port, binary=self.srv.binary,
                                               state_dir=self.srv.state_dir)

    def tearDown(self):
        for c in self.clients:
            if c.proc.poll() is None:
                c.proc.kill()
                c.proc.wait()

    # ---- helpers ---------------------------------------------------------------------

    def client(self, room, name, server=None):
        # Audio only: enough media to show decryption, light enough for ASan on 2 cores.
        c = Client(CLIENT, server or self.srv, room, f"{name}@example.org", name.capitalize(), "--duration", "110",
                   "--no-video", "--interactive")
        self.clients.append(c)
        return c

    def stats(self, c):
        n = len(c.of("stats"))
        c.command("stats")
        c.wait_for(lambda e: e.get("event") == "stats" and len(c.of("stats")) > n, timeout=TIMEOUT, what="stats")
        return c.of("stats")[-1]

    def metric(self, name):
        status, body = self.srv.http("/metrics")
        self.assertEqual(status, 200)
        _, samples = parse_prometheus(body)
        return samples[(name, frozenset())]

    def assert_same_end(self, clients):
        # A client prints its security code just after its epoch: give the lines a moment.
        deadline = time.monotonic() + 5
        while True:
            ends = {c.identity: (last_epoch(c)["epoch"], last_epoch(c)["epoch_authenticator"], c.code())
                    for c in clients}
            if len(set(ends.values())) == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(len(set(ends.values())), 1, ends)
        return next(iter(ends.values()))

    def assert_media_flows(self, a, b):
        """Frames from each to the other keep verifying after now, and none fails from now
        on (frames that arrived before the first key of a join are counted before)."""
        sa, sb = self.stats(a), self.stats(b)
        deadline = time.monotonic() + TIMEOUT
        while True:
            time.sleep(0.5)
            na, nb = self.stats(a), self.stats(b)
            grew = (verified_from(na, b.identity) > verified_from(sa, b.identity) + 10 and
                    verified_from(nb, a.identity) > verified_from(sb, a.identity) + 10)
            if grew or time.monotonic() > deadline:
                break
        self.assertTrue(grew, f"media stalled: {a.identity} {na['receivers']} / {b.identity} {nb['receivers']}")
        self.assertEqual(failures(na) - failures(sa), 0, na["receivers"])
        self.assertEqual(failures(nb) - failures(sb), 0, nb["receivers"])

    def two(self, room):
        """alice (direct, creates the group) and bob (through the proxy), media flowing."""
        alice = self.client(room, "alice")
        alice.wait_for(lambda e: e.get("event") == "epoch", timeout=TIMEOUT, what="group created")
        bob = self.client(room, "bob", self.via_proxy)
        wait_members([alice, bob], 2, timeout=TIMEOUT)
        for c in (alice, bob):
            c.wait_for(lambda e: e.get("event") == "first_frame", timeout=TIMEOUT, what="first frame")
        return alice, bob

    def quit_all(self, clients):
        self.assertEqual(quit_all(clients), {c.identity: 0 for c in clients}, "clients exit 0")

    # ---- scenarios -------------------------------------------------------------------

    def test_a_quick_reconnect_resumes_the_same_participant(self):
        resumes0 = self.metric("veil_resumes_total")
        alice, bob = self.two("ra")
        pid = bob.of("joined")[0]["participant_id"]
        epoch, auth, code = self.assert_same_end([alice, bob])
        t0 = time.monotonic()
        self.proxy.sever()
        bob.wait_for(lambda e: e.get("event") == "reconnecting", timeout=TIMEOUT, what="reconnecting")
        r = bob.wait_for(lambda e: e.get("event") == "resumed", timeout=TIMEOUT, what="resumed")
        print(f"(a) resumed after {1000 * (time.monotonic() - t0):.0f} ms, {r['attempts']} attempt(s)", file=sys.stderr)
        self.assertEqual(r["participant_id"], pid, "same participant id")
        self.assertEqual(r["epoch"], epoch)
        self.assertEqual(len(bob.of("joined")), 1, "no fresh join")
        self.assertEqual(bob.of("rejoined"), [], "no rejoin")
        self.assertGreaterEqual(self.proxy.accepted, 2, "bob came back through the proxy")
        self.assert_media_flows(alice, bob)
        # Nobody rekeyed: same epoch, authenticator and code everywhere.
        self.assertEqual(self.assert_same_end([alice, bob]), (epoch, auth, code))
        self.assertEqual(self.metric("veil_resumes_total") - resumes0, 1)
        self.quit_all([alice, bob])

    def test_b_commit_missed_while_away_is_replayed(self):
        alice, bob = self.two("rb")
        pid = bob.of("joined")[0]["participant_id"]
        epoch2 = last_epoch(alice)["epoch"]
        self.proxy.refuse = True
        self.proxy.sever()
        bob.wait_for(lambda e: e.get("event") == "reconnecting", timeout=TIMEOUT, what="reconnecting")
        carol = self.client("rb", "carol")
        wait_members([alice, carol], 3, after_epoch=epoch2, timeout=TIMEOUT)
        self.assertEqual(bob.of("resumed"), [], "bob is still cut off")
        self.proxy.refuse = False
        r = bob.wait_for(lambda e: e.get("event") == "resumed", timeout=TIMEOUT, what="resumed")
        self.assertEqual(r["participant_id"], pid)
        self.assertEqual(r["epoch"], epoch2, "resumed with the state it had")
        wait_members([bob], 3, after_epoch=epoch2, timeout=TIMEOUT)
        self.assertEqual(bob.of("rejoined"), [], "replayed, not rejoined")
        end = self.assert_same_end([alice, bob, carol])
        self.assertEqual(end[0], epoch2 + 1, "one commit: carol's add")
        self.assert_media_flows(alice, bob)
        self.assert_media_flows(carol, bob)
        self.quit_all([alice, bob, carol])

    def test_c_cut_off_past_the_grace_joins_fresh(self):
        alice, bob = self.two("rc")
        pid = bob.of("joined")[0]["participant_id"]
        epoch2, _, code2 = self.assert_same_end([alice, bob])
        self.proxy.refuse = True
        self.proxy.sever()
        t0 = time.monotonic()
        # The grace runs out: the relay drops bob, the leader removes its leaf.
        wait_members([alice], 1, after_epoch=epoch2, timeout=GRACE_MS / 1000 + TIMEOUT)
        self.assertGreaterEqual(time.monotonic() - t0, GRACE_MS / 1000 - 0.5, "not removed before the grace")
        self.assertEqual(bob.of("resumed"), [])
        epoch1 = last_epoch(alice)["epoch"]
        self.proxy.refuse = False
        r = bob.wait_for(lambda e: e.get("event") == "rejoined", timeout=TIMEOUT, what="rejoined")
        self.assertEqual(r["reason"], "resume_refused")
        j = bob.wait_for(lambda e: e.get("event") == "joined" and e["participant_id"] != pid, timeout=TIMEOUT,
                         what="fresh joined")
        self.assertNotEqual(j["participant_id"], pid, "a new participant")
        wait_members([alice, bob], 2, after_epoch=epoch1, timeout=TIMEOUT)
        end = self.assert_same_end([alice, bob])
        self.assertNotEqual(end[2], code2, "a new member: the code changed")
        self.assert_media_flows(alice, bob)
        self.quit_all([alice, bob])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    SERVER, CLIENT = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
