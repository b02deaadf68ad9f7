#!/usr/bin/env python3
"""The MLS relay end to end: veil-server and veil-client processes on 127.0.0.1.

Usage: test_relay.py PATH/TO/veil-server PATH/TO/veil-client

Shows, with real processes, sockets and MLS (issue 8, docs/relay.md):
  * five members join one by one, two leave, then the leader leaves: the relay appoints
    the longest-present member, which removes the old leader; every epoch any client
    reports has one epoch_authenticator across all clients (no fork), and the members
    left end in the same epoch with the same epoch_authenticator and security code;
  * the three removed members (the two that left and the old leader) keep running and are
    fed the remaining members' media and chat through taps: nothing sent under the epochs
    after their removal decrypts (frames refused as unknown keys, MLS application messages
    as of an epoch they do not hold), and no chat reaches them (the relay routes chat to
    members only: that part shows the routing, the taps show the crypto);
  * a leader that never answers its batch (veil-client --test-ignore-batches, test only):
    the relay's commit deadline appoints the next leader, which adds the waiting joiner and
    removes the stalled one; the stalled one is told to rejoin and is added back; chat flows;
  * the relay metrics on /metrics parse as Prometheus text and match what happened
    (commits accepted = epochs advanced, none rejected, leader changes, join count and
    KeyPackage -> Welcome latency, epoch);
and prints the join latency (KeyPackage -> Welcome, from the relay's own measure) and
the rekey-after-leave latency (participant_left -> new epoch installed, per member)."""

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.dirname(HERE)
sys.path.insert(0, INTEGRATION)
sys.path.insert(0, os.path.join(INTEGRATION, "meeting"))
from veilws import Server, parse_prometheus  # noqa: E402
from meeting import Client  # noqa: E402

SERVER = CLIENT = None
TIMEOUT = 20.0  # per awaited event; generous for the ASan build on a shared 2-core machine


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TapFanout:
    """A UDP socket the test owns: every datagram a member's --tap-to sends it (RTP, or an
    MLS application message) is copied to several --tap-listen ports, so that one remaining
    member feeds two departed ones."""

    def __init__(self, ports):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.ports = ports
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                pkt = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            for p in self.ports:
                self.sock.sendto(pkt, ("127.0.0.1", p))

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def taps(stats):
    return [r for r in stats["receivers"] if r["track_id"].startswith("tap-")]


def after_left(c, kind):
    """The events of `kind` the client reported after its own `left` event."""
    with c.lock:
        evs = list(c.events)
    i = next(k for k, e in enumerate(evs) if e.get("event") == "left")
    return [e for e in evs[i + 1:] if e.get("event") == kind]


def chat_from(c, sender, text):
    c.wait_for(lambda e: e.get("event") == "chat" and e["from"] == sender and e["text"] == text,
               timeout=TIMEOUT, what=f"chat {text!r}")


def last_epoch(c):
    ep = c.of("epoch")
    return ep[-1] if ep else None


class Relay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="veil-relay-")
        cls.srv = Server(SERVER, cls.dir, "--no-tls")

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        if rc == 0 and not os.environ.get("VEIL_KEEP"):
            shutil.rmtree(cls.dir, ignore_errors=True)
        else:
            print(f"logs kept in {cls.dir}", file=sys.stderr)
        assert rc == 0, f"server exit code {rc}"

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            if c.proc.poll() is None:
                c.proc.kill()
                c.proc.wait()

    # ---- helpers ---------------------------------------------------------------------

    def client(self, room, name, *extra):
        c = Client(CLIENT, self.srv, room, f"{name}@example.org", name.capitalize(), "--duration", "55",
                   "--interactive", *extra)
        self.clients.append(c)
        return c

    def metrics(self):
        status, body = self.srv.http("/metrics")
        self.assertEqual(status, 200)
        types, samples = parse_prometheus(body)
        want = {"veil_mls_commits_accepted_total": "counter", "veil_mls_commits_rejected_total": "counter",
                "veil_mls_leader_changes_total": "counter", "veil_mls_welcomes_delivered_total": "counter",
                "veil_mls_rejoins_total": "counter", "veil_mls_epoch_max": "gauge",
                "veil_mls_join_latency_seconds": "summary", "veil_mls_join_latency_max_seconds": "gauge"}
        for name, kind in want.items():
            self.assertEqual(types.get(name), kind, f"/metrics family {name}")
        return {name: value for (name, labels), value in samples.items() if not labels}

    def wait_members(self, clients, n, after_epoch=-1, what=None):
        for c in clients:
            c.wait_for(lambda e: e.get("event") == "epoch" and e["members"] == n and e["epoch"] > after_epoch,
                       timeout=TIMEOUT, what=what or f"epoch with {n} members after {after_epoch}")

    def assert_no_fork(self, clients):
        """Every epoch anyone reports has one epoch_authenticator, the same for all."""
        seen = {}
        for c in clients:
            for e in c.of("epoch"):
                self.assertRegex(e["epoch_authenticator"], r"^[0-9a-f]{64}$")
                seen.setdefault(e["epoch"], set()).add(e["epoch_authenticator"])
        for epoch, auths in seen.items():
            self.assertEqual(len(auths), 1, f"epoch {epoch}: members disagree (fork): {auths}")
        # and it is a real per-epoch value: no two epochs share one
        self.assertEqual(len(set().union(*seen.values())), len(seen), seen)
        return seen

    def assert_same_end(self, clients):
        ends = {c.identity: (last_epoch(c)["epoch"], last_epoch(c)["epoch_authenticator"], c.code()) for c in clients}
        self.assertEqual(len(set(ends.values())), 1, ends)
        return next(iter(ends.values()))

    def quit_all(self, clients):
        for c in clients:
            c.command("quit")
        rcs = {c.identity: c.finish(30) for c in clients}
        self.assertEqual(rcs, {c.identity: 0 for c in clients}, "clients exit 0")

    # ---- scenarios -------------------------------------------------------------------

    def test_five_join_two_leave_leader_leaves(self):
        t_start = time.monotonic()
        m0 = self.metrics()
        p1, p2, p3 = free_udp_port(), free_udp_port(), free_udp_port()
        fan = TapFanout([p1, p3])  # bob's copies go to dave and alice
        self.addCleanup(fan.close)
        # Audio only: enough packets for the tap check, light enough for ASan on 2 cores.
        c = {"alice": self.client("r1", "alice", "--no-video", "--tap-listen", str(p3))}
        c["alice"].wait_for(lambda e: e.get("event") == "epoch", timeout=TIMEOUT, what="group created")
        extra = {"bob": ["--tap-to", str(fan.port)], "carol": ["--tap-to", str(p2)],
                 "dave": ["--tap-listen", str(p1)], "erin": ["--tap-listen", str(p2)]}
        join_ms = {}
        for n, name in enumerate(["bob", "carol", "dave", "erin"], start=2):
            before = self.metrics()
            c[name] = self.client("r1", name, "--no-video", *extra[name])
            self.wait_members(c.values(), n)
            after = self.metrics()
            self.assertEqual(after["veil_mls_welcomes_delivered_total"] - before["veil_mls_welcomes_delivered_total"],
                             1, f"{name}: one Welcome delivered")
            join_ms[name] = 1000 * (after["veil_mls_join_latency_seconds_sum"] -
                                    before["veil_mls_join_latency_seconds_sum"])
        for name in c:
            c[name].wait_for(lambda e: e.get("event") == "first_frame", timeout=TIMEOUT, what="first frame")
        self.assertEqual({e["identity"] for x in c.values() for e in x.of("leader")}, {"alice@example.org"})
        epoch5 = last_epoch(c["alice"])["epoch"]
        code5 = c["alice"].code()
        time.sleep(1.0)  # media under the group of five

        # two leave; they keep running and get the remaining members' media through the taps
        removal = {}
        rest = dict(c)
        for name in ("dave", "erin"):
            e0 = last_epoch(c["alice"])["epoch"]
            c[name].command("leave")
            c[name].wait_for(lambda e: e.get("event") == "left", timeout=TIMEOUT, what="left")
            del rest[name]
            self.wait_members(rest.values(), len(rest), e0, what=f"rekey without {name}")
            removal[name] = min(e["epoch"] for e in c["bob"].of("epoch") if e["members"] == len(rest) and e["epoch"] > e0)
        for name in rest:
            self.assertEqual(c[name].code(), code5, f"{name}: a removal keeps the security code")
        # chat under the epoch without dave and erin: bob's tap copies carol's to dave (alice,
        # still a member, reads it from the relay and leaves the copy alone), carol's tap
        # copies bob's to erin (the relay never echoes a message to its sender)
        c["carol"].command("chat carol after two left")
        c["bob"].command("chat bob after two left")
        for name, sender, text in (("alice", "carol", "carol after two left"), ("bob", "carol", "carol after two left"),
                                   ("alice", "bob", "bob after two left"), ("carol", "bob", "bob after two left")):
            chat_from(c[name], f"{sender}@example.org", text)
        time.sleep(0.5)  # the tapped copies reach alice while she is a member: not counted

        # the leader leaves: the relay appoints bob (present longest), who removes alice
        e0 = last_epoch(c["bob"])["epoch"]
        t_leave = time.monotonic()
        c["alice"].command("leave")
        del rest["alice"]
        for name in rest:
            c[name].wait_for(lambda e: e.get("event") == "leader" and e["identity"] == "bob@example.org",
                             timeout=TIMEOUT, what="bob appointed")
        self.wait_members(rest.values(), 2, e0, what="alice removed by the new leader")
        failover_ms = 1000 * (time.monotonic() - t_leave)
        removal["alice"] = last_epoch(c["bob"])["epoch"]
        self.assertTrue(c["bob"].of("leader")[-1]["self"])
        self.assertEqual(removal["alice"], e0 + 1, "one commit removes the old leader")

        # the meeting goes on: chat and media under the final epoch reach the two members only
        c["bob"].command("chat after the failover")
        c["carol"].command("chat carol after the failover")
        chat_from(c["carol"], "bob@example.org", "after the failover")
        chat_from(c["bob"], "carol@example.org", "carol after the failover")
        time.sleep(2.0)  # media under the last epochs, copied to the departed through the taps

        final_epoch, final_auth, final_code = self.assert_same_end([c["bob"], c["carol"]])
        self.assertEqual(final_epoch, removal["alice"])
        self.assertEqual(final_code, code5, "removals keep the security code")
        self.assert_no_fork(c.values())
        for name in ("alice", "dave", "erin"):
            self.assertLess(last_epoch(c[name])["epoch"], removal[name], f"{name} saw no epoch after its removal")
            self.assertEqual(after_left(c[name], "chat"), [], f"{name} got no chat after its removal")

        m1 = self.metrics()
        self.assertGreaterEqual(m1["veil_mls_epoch_max"], final_epoch)
        self.quit_all(c.values())
        self.assertLess(time.monotonic() - t_start, 60, "bounded")

        # the removed ones: fed by the taps, decrypted nothing of the epochs after removal
        blind, blind_chat = {}, {}
        for name in ("dave", "erin", "alice"):
            at_leave = {r["track_id"]: r for r in taps(c[name].of("stats")[0])}
            end = taps(c[name].final_stats())
            self.assertTrue(end, f"{name}: the tap delivered packets")
            fed = sum(r["packets"] - at_leave.get(r["track_id"], {"packets": 0})["packets"] for r in end)
            refused = sum(r["unknown_kid"] - at_leave.get(r["track_id"], {"unknown_kid": 0})["unknown_kid"]
                          for r in end)
            blind[name] = (fed, refused)
            self.assertGreater(fed, 50, f"{name}: packets reached it after it left")
            self.assertGreater(refused, 25, f"{name}: post-removal frames refused as unknown keys")
            for r in end:
                self.assertLess(r["max_epoch"], removal[name], f"{name} decrypted a post-removal frame: {r}")
                self.assertEqual(r["corrupt"], 0, r)
            # and the chat: every MLS application message the taps fed it after it left was
            # sent under an epoch after its removal, and its kept MLS state opened none
            tc = c[name].final_stats()["tap_chat"]
            blind_chat[name] = tc
            self.assertGreater(tc["fed"], 0, f"{name}: chat reached it through the tap after it left: {tc}")
            self.assertEqual(tc["dated"], tc["fed"], f"{name}: every tapped chat is an application message: {tc}")
            self.assertGreaterEqual(tc["min_epoch"], removal[name], f"{name}: a tapped chat predates its removal: {tc}")
            self.assertEqual(tc["decrypted"], 0, f"{name} decrypted a post-removal chat: {tc}")
            self.assertEqual(tc["refused"], tc["fed"], f"{name}: every tapped chat refused: {tc}")
            self.assertEqual(tc["wrong_epoch"], tc["refused"], f"{name}: refused as of an epoch it lacks: {tc}")

        # the relay's counters for this room
        d = {k: m1[k] - m0.get(k, 0) for k in m1 if k.startswith("veil_mls_")}
        self.assertEqual(d["veil_mls_commits_accepted_total"], final_epoch, "one accepted commit per epoch")
        self.assertEqual(d["veil_mls_commits_rejected_total"], 0)
        self.assertEqual(d["veil_mls_leader_changes_total"], 1, "one failover")
        self.assertEqual(d["veil_mls_welcomes_delivered_total"], 4)
        self.assertEqual(d["veil_mls_join_latency_seconds_count"], 4)
        self.assertGreater(d["veil_mls_join_latency_seconds_sum"], 0)
        self.assertLess(d["veil_mls_join_latency_seconds_sum"], 4 * TIMEOUT)
        self.assertGreaterEqual(m1["veil_mls_join_latency_max_seconds"] * 1000 + 1, max(join_ms.values()))
        self.assertGreater(m1["veil_mls_messages_total"], m0.get("veil_mls_messages_total", 0))

        print("\nrelay: join latency, KeyPackage -> Welcome delivered (ms, relay's measure):", file=sys.stderr)
        for name, ms in join_ms.items():
            print(f"  {name:6s} {ms:8.1f}", file=sys.stderr)
        print("relay: rekey after leave (ms, participant_left -> new epoch installed):", file=sys.stderr)
        for gone, stayers in (("dave", ["alice", "bob", "carol", "erin"]), ("erin", ["alice", "bob", "carol"]),
                              ("alice", ["bob", "carol"])):
            for n in stayers:
                rk = [r for r in c[n].of("rekey") if r["epoch"] == removal[gone]]
                self.assertTrue(rk, f"{n} saw no rekey for {gone}'s leave")
                print(f"  {gone:5s} left, at {n:6s} {rk[0]['after_leave_ms']:8.1f}", file=sys.stderr)
        for name, (fed, refused) in blind.items():
            tc = blind_chat[name]
            print(f"relay: {name} after leaving: {fed} tapped packets, {refused} refused (unknown key); "
                  f"{tc['fed']} tapped chats (epochs {tc['min_epoch']}..{tc['max_epoch']}), {tc['refused']} refused "
                  f"({tc['last_error']}); none decrypted from epoch {removal[name]} on", file=sys.stderr)
        print(f"relay: leader failover (alice leaves -> bob's commit seen by all): {failover_ms:.1f} ms; "
              f"final epoch {final_epoch}, epoch_authenticator {final_auth[:16]}...", file=sys.stderr)

    def test_leader_never_answers_deadline_appoints_next(self):
        t_start = time.monotonic()
        m0 = self.metrics()
        quiet = ("--no-audio", "--no-video")
        c = {"ann": self.client("r2", "ann", *quiet)}
        c["ann"].wait_for(lambda e: e.get("event") == "epoch", timeout=TIMEOUT, what="group created")
        for n, name in enumerate(["ben", "cat"], start=2):
            c[name] = self.client("r2", name, *quiet)
            self.wait_members(c.values(), n)
        e0 = last_epoch(c["ann"])["epoch"]

        # ann stops answering batches; a joiner arrives
        c["ann"].command("test-ignore-batches on")
        time.sleep(0.2)
        t_join = time.monotonic()
        c["dan"] = self.client("r2", "dan", *quiet)
        c["ann"].wait_for(lambda e: e.get("event") == "test_batch_ignored", timeout=TIMEOUT, what="batch ignored")
        for name in ("ben", "cat", "dan"):
            c[name].wait_for(lambda e: e.get("event") == "leader" and e["identity"] == "ben@example.org",
                             timeout=TIMEOUT, what="ben appointed after the deadline")
        # ben removes ann and adds dan (ann, told to rejoin, comes back in the same commit or
        # the next one, depending on when its new KeyPackage reaches the relay)
        for name in ("ben", "cat", "dan"):
            c[name].wait_for(lambda e: e.get("event") == "epoch" and e["epoch"] > e0, timeout=TIMEOUT,
                             what="the new leader's commit")
        stall_ms = 1000 * (time.monotonic() - t_join)
        self.assertTrue(c["ann"].of("test_batch_ignored"))
        self.wait_members(c.values(), 4, e0, what="ann back after rejoin")
        self.assertTrue(c["ben"].of("leader")[-1]["self"])

        c["dan"].command("chat the meeting continues")
        for name in ("ann", "ben", "cat"):
            c[name].wait_for(lambda e: e.get("event") == "chat" and e["text"] == "the meeting continues",
                             timeout=TIMEOUT, what="chat after the stall")
        final_epoch, _, _ = self.assert_same_end(c.values())
        self.assert_no_fork(c.values())
        m1 = self.metrics()
        self.quit_all(c.values())
        self.assertLess(time.monotonic() - t_start, 60, "bounded")

        d = {k: m1[k] - m0.get(k, 0) for k in m1 if k.startswith("veil_mls_")}
        self.assertEqual(d["veil_mls_commits_accepted_total"], final_epoch, "one accepted commit per epoch")
        self.assertEqual(d["veil_mls_leader_changes_total"], 1, "one failover")
        self.assertGreaterEqual(d["veil_mls_rejoins_total"], 1, "the stalled leader was told to rejoin")
        self.assertEqual(d["veil_mls_welcomes_delivered_total"], 4, "ben, cat, dan, and ann again")
        print(f"\nrelay: stalled leader -> next leader's commit seen by all: {stall_ms:.1f} ms "
              f"(relay commit deadline 5 s); final epoch {final_epoch}", file=sys.stderr)


if __name__ == "__main__":
    SERVER, CLIENT = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
