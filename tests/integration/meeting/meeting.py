"""Helpers shared by the meeting integration test and scripts/local-meeting: veil-client
processes whose JSON-lines output is collected by a reader thread."""

import json
import os
import subprocess
import threading
import time


class Client:
    """One veil-client process (--json): every output line is kept as an event."""

    def __init__(self, binary, server, room, identity, name, *extra, state_dir=None, pin=True):
        self.identity = identity
        self.events = []
        self.lock = threading.RLock()
        url = f"{'wss' if server.tls else 'ws'}://127.0.0.1:{server.port}/"
        args = [binary, "--url", url, "--room", room, "--identity", identity, "--name", name,
                "--server-token", server.binary, "--state-dir", state_dir or server.state_dir, "--json", *extra]
        if server.tls and pin:
            args += ["--pin", server.cert_sha256]
        self.stderr_path = os.path.join(state_dir or server.state_dir, f"client-{identity}.log")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stdin=subprocess.PIPE,
                                     stderr=open(self.stderr_path, "ab"))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.events.append(ev)

    def command(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def of(self, kind):
        with self.lock:
            return [e for e in self.events if e.get("event") == kind]

    def wait_for(self, pred, timeout=15.0, what="event"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for e in self.events:
                    if pred(e):
                        return e
            if self.proc.poll() is not None and not self.thread.is_alive():
                break
            time.sleep(0.02)
        raise TimeoutError(f"{self.identity}: no {what}")

    def code(self):
        codes = self.of("security_code")
        return codes[-1]["code"] if codes else None

    def finish(self, timeout=20.0):
        rc = self.proc.wait(timeout)
        self.thread.join(5)
        return rc

    def final_stats(self):
        st = self.of("stats")
        return st[-1] if st else None


def last_epoch(c):
    """The client's last `epoch` event, or None."""
    ep = c.of("epoch")
    return ep[-1] if ep else None


def wait_members(clients, n, after_epoch=-1, timeout=15.0, what=None):
    """Every client reaches an epoch with n members after `after_epoch`."""
    for c in clients:
        c.wait_for(lambda e: e.get("event") == "epoch" and e["members"] == n and e["epoch"] > after_epoch,
                   timeout=timeout, what=what or f"epoch with {n} members after {after_epoch}")


def quit_all(clients, timeout=30):
    """Sends `quit` to each client; returns {identity: exit code}."""
    for c in clients:
        c.command("quit")
    return {c.identity: c.finish(timeout) for c in clients}
