#!/usr/bin/env python3
"""Integration: verified identities in a real meeting, a room device among the participants.

usage: test_identity.py VEIL_SERVER VEIL_CLIENT VEIL_CA VEIL_DEVICE VEIL_PROVISION

An organisation CA is made with veil-ca; bob's operator certificate comes from the
server's operator CA (POST /v1/operator-ca/issue with a join token and a CSR; the test fails
when the server does not serve its CA). carol's organisation certificate is revoked with
`veil-ca revoke` (and the CRL re-signed with `veil-ca crl`) before anyone joins. Then, on
127.0.0.1 only:
  * veil-device, started with --join, is provisioned by veil-provision with an organisation
    device certificate; once the identity is active it joins the meeting through the client
    session library (it is the first member: it creates the MLS group); it is given the
    organisation's CRL;
  * alice (organisation certificate; trusts the organisation and operator CAs and is given
    the organisation's CRL), carol (revoked organisation certificate; trusts the organisation
    CA without its CRL, so she sees what everybody saw before revocation was checked), bob
    (operator-issued certificate; trusts the operator CA only) and eve (no certificate:
    veil-client generates a self-signed one, P-256 by default, so it can join the device's
    P-256 group) join with veil-client;
  * every participant's roster gives every member the status its own trust configuration
    implies (the device's through `xStatus Conference Call 1 EndToEndEncryption Roster`),
    with certificate details, and all show the same security code; the viewers given the
    CRL show carol unverified with the reason "revoked";
  * a CRL from no configured anchor stops veil-client and veil-device at start;
  * roster changes reach the device as xEvents (Added for each arrival, Deleted when eve
    leaves), and the device's roster follows.
Bounded well under 60 s; logs are kept on failure."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "meeting"))
from veilws import Server  # noqa: E402
from meeting import Client  # noqa: E402

SERVER, CLIENT, CA, DEVICE, PROVISION = sys.argv[1:6]
T0 = time.monotonic()
BUDGET = 55.0  # seconds for the whole scenario
failures = 0

EXT, OP, UNV = "externally verified", "operator verified", "unverified"
WORD = {EXT: "ExternallyVerified", OP: "OperatorVerified", UNV: "Unverified"}


def check(cond, what):
    global failures
    print(("ok - " if cond else "FAIL - ") + what, flush=True)
    if not cond:
        failures += 1
    return cond


def left():
    return max(0.5, BUDGET - (time.monotonic() - T0))


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=20)
    if p.returncode != 0:
        print(" ".join(args), p.stdout, p.stderr, file=sys.stderr)
    return p


def wait(pred, timeout, what):
    deadline = time.monotonic() + min(timeout, left())
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return check(False, "in time: " + what)


class EventShell:
    """A shell connection kept open: collects every xEvent block the device emits."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.text = ""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.text += chunk.decode(errors="replace")

    def events(self, kind):
        """[{field: value}] for every complete '*e Conference ParticipantList Participant<kind>'."""
        out, cur = [], None
        prefix = "*e Conference ParticipantList Participant" + kind + " "
        with self.lock:
            lines = self.text.splitlines()
        for line in lines:
            if line.startswith(prefix):
                cur = cur if cur is not None else {}
                k, v = line[len(prefix):].split(": ", 1)
                cur[k] = unquote(v)
            elif line == "** end" and cur is not None:
                out.append(cur)
                cur = None
        return out


def query(port, text):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(text.encode() + b"\n")
        buf = b""
        while b"** end\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return buf.decode()


def unquote(v):
    """An xAPI value: quoted values escape '"' and '\\' with a backslash."""
    if not v.startswith('"'):
        return v
    out, esc = [], False
    for ch in v[1:-1]:
        if esc or ch != "\\":
            out.append(ch)
            esc = False
        else:
            esc = True
    return "".join(out)


def device_roster(port):
    """{identity: {field: value}} from xStatus Conference Call 1 EndToEndEncryption Roster."""
    reply = query(port, "xStatus Conference Call 1 EndToEndEncryption Roster")
    parts = {}
    for line in reply.splitlines():
        pre = "*s Conference Call 1 EndToEndEncryption Roster Participant "
        if not line.startswith(pre):
            continue
        rest = line[len(pre):]
        n, tail = rest.split(" ", 1)
        k, v = tail.split(": ", 1)
        parts.setdefault(n, {})[k] = unquote(v)
    return {p.get("Identity"): p for p in parts.values()}


def device_status(port, path, field):
    for line in query(port, "xStatus " + path).splitlines():
        if (" %s: " % field) in line:
            v = line.split(" %s: " % field, 1)[1]
            return v[1:-1] if v.startswith('"') else v
    return None


def last_roster(c):
    r = c.of("roster")
    return {m["identity"]: m for m in r[-1]["roster"]} if r else {}


def main():
    tmp = tempfile.mkdtemp(prefix="veil-identity-it-")
    org = os.path.join(tmp, "org")
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    check(run(CA, "init", "--dir", org, "--name", "Acme Org CA").returncode == 0, "organisation CA")
    check(run(CA, "issue", "--dir", org, "--dns", "room1.acme.example", "--device-name", "Room 1",
              "--out", p("room1")).returncode == 0, "device certificate from the organisation CA")
    check(run(CA, "issue", "--dir", org, "--email", "alice@acme.example", "--name", "Alice",
              "--out", p("alice")).returncode == 0, "alice: organisation certificate")
    check(run(CA, "issue", "--dir", org, "--email", "carol@acme.example", "--name", "Carol",
              "--out", p("carol")).returncode == 0, "carol: organisation certificate")
    serial = run("openssl", "x509", "-in", p("carol.pem"), "-noout", "-serial").stdout.strip().split("=")[-1]
    check(run(CA, "revoke", "--dir", org, "--serial", serial).returncode == 0, "veil-ca revokes carol's certificate")
    # `veil-ca crl` re-signs the CRL from the index (what an operator does before it expires);
    # the viewers below get the re-signed one, which must still revoke carol.
    with open(os.path.join(org, "crl.pem")) as f:
        first_crl = f.read()
    check(run(CA, "crl", "--dir", org).returncode == 0, "veil-ca crl re-signs the organisation's CRL")
    with open(os.path.join(org, "crl.pem")) as f:
        check(f.read() != first_crl, "crl.pem was rewritten")
    org_ca, org_crl = os.path.join(org, "ca.pem"), os.path.join(org, "crl.pem")

    srv = Server(SERVER, tmp, "--no-tls")
    url = f"ws://127.0.0.1:{srv.port}/"
    room = "identity-room"
    # bob's certificate: from the server's operator CA (join token + CSR). This test needs the
    # server's CA to work: when it does not, the scenario stops here as a failure.
    status, server_ca = srv.http("/v1/operator-ca/cert")
    if not check(status == 200 and "BEGIN CERTIFICATE" in server_ca,
                 f"the server serves its operator CA certificate (GET /v1/operator-ca/cert: {status})"):
        return finish(tmp, srv)
    op_ca = p("server-operator-ca.pem")
    with open(op_ca, "w") as f:
        f.write(server_ca)
    check(run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
              "-nodes", "-keyout", p("bob.key"), "-out", p("bob.csr"), "-subj", "/CN=ignored").returncode == 0,
          "bob: key and CSR")
    with open(p("bob.csr"), "rb") as f:
        csr = f.read()
    req = urllib.request.Request(f"http://127.0.0.1:{srv.port}/v1/operator-ca/issue", data=csr, method="POST",
                                 headers={"Authorization": "Bearer " + srv.token(room, "bob@guest.example", "Bob"),
                                          "Content-Type": "application/pkcs10"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            cert = r.read().decode()
    except (urllib.error.URLError, OSError) as e:
        cert = ""
        print("POST /v1/operator-ca/issue:", e, file=sys.stderr)
    if not check("BEGIN CERTIFICATE" in cert, "bob: certificate from the server's operator CA (POST /v1/operator-ca/issue)"):
        return finish(tmp, srv)
    with open(p("bob.pem"), "w") as f:
        f.write(cert)
    op_label = "operator ca"

    # A CRL must come from a configured anchor: the organisation's, offered with only the
    # operator's anchor, is refused and the program does not start.
    r = run(CLIENT, "--url", url, "--room", room, "--identity", "x@acme.example", "--token", "x",
            "--trust-operator", op_ca, "--crl", org_crl)
    check(r.returncode == 1 and "not issued by a configured trust anchor" in r.stderr,
          "veil-client refuses a CRL from no configured anchor")
    r = run(DEVICE, "--trust-operator", op_ca, "--crl", org_crl)
    check(r.returncode == 1 and "not issued by a configured trust anchor" in r.stderr,
          "veil-device refuses a CRL from no configured anchor")

    with open(p("device.token"), "w") as f:
        f.write(srv.token(room, "room1.acme.example", "Room 1"))
    dev_log = open(p("device.log"), "wb")
    dev = subprocess.Popen([DEVICE, "--name", "Room 1", "--shell-port", "0", "--state", p("device.json"),
                            "--trust-anchor", org_ca, "--trust-operator", op_ca, "--crl", org_crl, "--join", url,
                            "--room", room, "--token-file", p("device.token")],
                           stdout=subprocess.PIPE, stderr=dev_log, text=True)
    clients = {}
    try:
        line = dev.stdout.readline().strip()
        check(line.startswith("listening 127.0.0.1:"), "the device shell listens on 127.0.0.1")
        addr = line.split()[1]
        port = int(addr.split(":")[1])
        shell = EventShell(port)
        check(device_status(port, "Conference", "Status") is None, "no call before provisioning")

        secret = run(PROVISION, "--generate-secret").stdout.strip()
        r = run(PROVISION, "--device", addr, "--new-secret", secret, "--cert", p("room1.pem"),
                "--key", p("room1.key"))
        check(r.returncode == 0, "veil-provision populates, adds and activates the device identity")
        wait(lambda: device_status(port, "Conference Call 1 EndToEndEncryption", "Status") == "On", 15,
             "the provisioned device joins and its call is end-to-end encrypted")
        check(device_status(port, "Conference Call 1 EndToEndEncryption GroupEncryption", "Type")
              == "MLS_128_DHKEMP256_AES128GCM_SHA256_P256", "the device's group uses the P-256 suite")

        common = ["--duration", "40", "--interactive"]
        clients["alice"] = Client(CLIENT, srv, room, "alice@acme.example", "Alice", "--cert", p("alice.pem"),
                                  "--key", p("alice.key"), "--trust-org", org_ca, "--trust-operator", op_ca,
                                  "--crl", org_crl, *common, state_dir=tmp)
        clients["bob"] = Client(CLIENT, srv, room, "bob@guest.example", "Bob", "--cert", p("bob.pem"),
                                "--key", p("bob.key"), "--trust-operator", op_ca, *common, state_dir=tmp)
        clients["eve"] = Client(CLIENT, srv, room, "eve@rogue.example", "Eve", *common, state_dir=tmp)
        clients["carol"] = Client(CLIENT, srv, room, "carol@acme.example", "Carol", "--cert", p("carol.pem"),
                                  "--key", p("carol.key"), "--trust-org", org_ca, *common, state_dir=tmp)

        ids = {"device": "room1.acme.example", "alice": "alice@acme.example", "bob": "bob@guest.example",
               "eve": "eve@rogue.example", "carol": "carol@acme.example"}
        # What each viewer must see, from its own trust configuration. The device and alice
        # hold the organisation's CRL; carol trusts the organisation without it.
        expect = {
            "device": {"device": EXT, "alice": EXT, "bob": OP, "eve": UNV, "carol": UNV},
            "alice": {"device": EXT, "alice": EXT, "bob": OP, "eve": UNV, "carol": UNV},
            "bob": {"device": UNV, "alice": UNV, "bob": OP, "eve": UNV, "carol": UNV},
            "eve": {"device": UNV, "alice": UNV, "bob": UNV, "eve": UNV, "carol": UNV},
            "carol": {"device": EXT, "alice": EXT, "bob": UNV, "eve": UNV, "carol": EXT},
        }

        def client_view_ok(name):
            r = last_roster(clients[name])
            return len(r) == 5 and all(r.get(ids[o], {}).get("verification") == lvl
                                       for o, lvl in expect[name].items())

        def device_view_ok():
            r = device_roster(port)
            return len(r) == 5 and all(r.get(ids[o], {}).get("Status") == WORD[lvl]
                                       for o, lvl in expect["device"].items())

        for n in clients:
            wait(lambda: client_view_ok(n), 25, f"{n} sees five members with the expected statuses")
            r = last_roster(clients[n])
            check(all(r.get(ids[o], {}).get("verification") == lvl for o, lvl in expect[n].items()),
                  f"{n}: " + ", ".join(f"{o} {lvl}" for o, lvl in expect[n].items()))
        wait(device_view_ok, 10, "the device's xStatus roster has five members")
        dr = device_roster(port)
        check(all(dr.get(ids[o], {}).get("Status") == WORD[lvl] for o, lvl in expect["device"].items()),
              "device (xStatus): " + ", ".join(f"{o} {WORD[lvl]}" for o, lvl in expect["device"].items()))

        # certificate details: the chain anchor and fingerprints, as JSON
        ar = last_roster(clients["alice"])
        ar = {i: ar.get(i, {}) for i in ids.values()}
        cert = ar[ids["bob"]].get("certificate") or {}
        check(cert.get("anchor") == op_ca and len(cert.get("sha256", "")) == 64 and op_label in
              cert.get("issuer", "").lower(), "alice's roster carries bob's certificate details (operator anchor): "
              + str(cert.get("issuer")))
        check("self-signed" in ar[ids["eve"]].get("reason", "") and ar[ids["bob"]].get("reason") == "",
              "alice's roster says why eve is unverified: " + str(ar[ids["eve"]].get("reason")))
        try:
            dcert = json.loads(dr.get(ids["alice"], {})["CertInfo"])
        except (KeyError, ValueError):
            dcert = {}
        check(dcert.get("anchor") == "organisation" and "Acme Org CA" in dcert.get("issuer", ""),
              "the device's CertInfo for alice names the organisation anchor: " + str(dcert.get("anchor")))
        check(dr.get(ids["alice"], {}).get("DisplayName") == "Alice", "the device shows alice's display name")

        # revocation: the viewers given the CRL say why carol is unverified
        check("revoked" in ar[ids["carol"]].get("reason", ""),
              "alice (given the CRL) shows carol unverified, revoked: " + str(ar[ids["carol"]].get("reason")))
        try:
            ccert = json.loads(dr.get(ids["carol"], {})["CertInfo"])
        except (KeyError, ValueError):
            ccert = {}
        check("revoked" in ccert.get("reason", ""),
              "the device (given the CRL) shows carol unverified, revoked: " + str(ccert.get("reason")))

        def codes():
            cs = {n: c.code() for n, c in clients.items()}
            cs["device"] = device_status(port, "Conference Call 1 EndToEndEncryption SecurityCode", "SecurityCode")
            return cs if len(set(cs.values())) == 1 and cs["device"] else None
        got = wait(codes, 10, "one security code")
        if got:
            check(True, "the same security code everywhere, the device's by xStatus: " + got["device"])

        added = {e.get("E2EEIdentity"): e for e in shell.events("Added")}
        check(all(ids[o] in added for o in ("alice", "bob", "eve", "carol")),
              "xEvent ParticipantAdded for alice, bob, eve and carol")
        check(added.get(ids["bob"], {}).get("E2EEStatus") in ("OperatorVerified", None) or
              any(e.get("E2EEIdentity") == ids["bob"] and e.get("E2EEStatus") == "OperatorVerified"
                  for e in shell.events("Updated")), "bob's events report OperatorVerified")

        clients["eve"].command("quit")
        wait(lambda: any(e.get("E2EEIdentity") == ids["eve"] for e in shell.events("Deleted")), 15,
             "xEvent ParticipantDeleted when eve leaves")
        check(any(e.get("E2EEIdentity") == ids["eve"] for e in shell.events("Deleted")),
              "xEvent ParticipantDeleted for eve")
        wait(lambda: ids["eve"] not in device_roster(port) and len(device_roster(port)) == 4, 10,
             "the device's roster drops eve")
        for n in ("alice", "bob", "carol"):
            wait(lambda: len(last_roster(clients[n])) == 4, 10, f"{n}'s roster drops eve")
        check(ids["eve"] not in device_roster(port), "eve is gone from the device's xStatus roster")

        # the device is stopped: it leaves the meeting, wipes its key and exits cleanly
        dev.terminate()
        try:
            drc = dev.wait(timeout=min(15, left()))
        except subprocess.TimeoutExpired:
            drc = None
        check(drc == 0, f"SIGTERM: the device leaves and exits cleanly (exit {drc})")
        wait(lambda: ids["device"] not in last_roster(clients["alice"]) and len(last_roster(clients["alice"])) == 3,
             10, "alice's roster drops the device")
        print("elapsed %.1f s" % (time.monotonic() - T0), flush=True)
    finally:
        for c in clients.values():
            try:
                c.command("quit")
            except OSError:
                pass
        for c in clients.values():
            try:
                c.finish(timeout=10)
            except subprocess.TimeoutExpired:
                c.proc.kill()
        if dev.poll() is None:
            dev.terminate()
        try:
            dev.wait(timeout=10)
        except subprocess.TimeoutExpired:
            dev.kill()
        stop_server(srv)
    return report(tmp)


def stop_server(srv):
    check(srv.stop() == 0, "the server exits cleanly")


def finish(tmp, srv):
    """Ends a scenario that could not go on (nothing but the server runs yet)."""
    stop_server(srv)
    return report(tmp)


def report(tmp):
    """Prints the tally, keeps the logs on failure, returns the exit status."""
    print("%d failure(s)" % failures)
    if failures or os.environ.get("VEIL_KEEP"):
        print("logs kept in " + tmp, file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
