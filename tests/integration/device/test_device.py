#!/usr/bin/env python3
"""Integration: an organisation CA made with veil-ca, a device certificate, a veil-device
listening on 127.0.0.1, provisioned end to end by veil-provision; then refusals, secret
rotation, what the state file holds (nothing secret without the key file beside it), starts
refused for a wrong or missing key file or an old state file, and a restart from the state
file. Real processes, kernel-chosen port, bounded timeouts.

usage: test_device.py VEIL_CA VEIL_DEVICE VEIL_PROVISION
"""
import base64
import hashlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile

CA, DEVICE, PROVISION = sys.argv[1:4]
TIMEOUT = 30
failures = 0


def check(cond, what):
    global failures
    print(("ok - " if cond else "FAIL - ") + what, flush=True)
    if not cond:
        failures += 1


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def refused_start(state, *extra):
    """Starts veil-device on `state`; returns (exit code, stderr). The device must stop at once."""
    try:
        p = subprocess.run([DEVICE, "--name", "Room 1", "--shell-port", "0", "--state", state,
                            *extra], capture_output=True, text=True, timeout=10)
        return p.returncode, p.stderr
    except subprocess.TimeoutExpired:
        return None, "still running after 10 s"


def files(*paths):
    """Each path's bytes, or None where there is no file: to compare before and after."""
    out = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                out.append(f.read())
        except FileNotFoundError:
            out.append(None)
    return out


def run(*args, ok=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=TIMEOUT)
    if ok and p.returncode != 0:
        print(p.stdout, p.stderr)
    return p


class Device:
    def __init__(self, state, anchor):
        self.proc = subprocess.Popen(
            [DEVICE, "--name", "Room 1", "--shell-port", "0", "--state", state,
             "--trust-anchor", anchor], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening 127.0.0.1:"), line
        self.addr = line.split()[1]
        self.port = int(self.addr.split(":")[1])

    def query(self, text):
        """Sends one command, returns the reply up to '** end'."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
            s.sendall(text.encode() + b"\n")
            buf = b""
            while b"** end\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return buf.decode()

    def status(self, path, field):
        reply = self.query("xStatus " + path)
        for line in reply.splitlines():
            if line.endswith("") and (" %s: " % field) in line:
                v = line.split(" %s: " % field, 1)[1]
                return v[1:-1] if v.startswith('"') else v
        return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=TIMEOUT)


def main():
    tmp = tempfile.mkdtemp(prefix="veil-device-it-")
    org = os.path.join(tmp, "org")
    state = os.path.join(tmp, "device.json")
    p = run(CA, "init", "--dir", org, "--name", "Acme Org CA")
    check(p.returncode == 0, "veil-ca creates the organisation CA")
    dev = os.path.join(tmp, "room1")
    p = run(CA, "issue", "--dir", org, "--dns", "room1.acme.example", "--device-name", "Room 1",
            "--out", dev)
    check(p.returncode == 0 and os.path.exists(dev + ".key"), "veil-ca issues a device certificate")
    check(stat.S_IMODE(os.stat(dev + ".key").st_mode) == 0o600, "the issued key file is 0600")
    ed = os.path.join(tmp, "room1-ed")
    run(CA, "issue", "--dir", org, "--dns", "room1.acme.example", "--device-name", "Room 1",
        "--suite", "1", "--out", ed)
    listing = run(CA, "list", "--dir", org).stdout
    check("room1.acme.example" in listing and listing.count("valid ") == 2, "veil-ca lists both")

    kek = state + ".kek"
    d = Device(state, os.path.join(org, "ca.pem"))
    try:
        check(os.path.isfile(kek) and stat.S_IMODE(os.stat(kek).st_mode) == 0o600,
              "the first start creates the key file beside the state file, 0600")
        check(d.status("Conference EndToEndEncryption ExternalIdentity", "Valid") == "False",
              "a fresh device has no external identity")
        secret = run(PROVISION, "--generate-secret").stdout.strip()
        secret2 = run(PROVISION, "--generate-secret").stdout.strip()
        check(len(secret) == 43 and secret != secret2, "veil-provision generates secrets")

        p = run(PROVISION, "--device", d.addr, "--new-secret", secret, "--cert", dev + ".pem",
                "--key", dev + ".key")
        check(p.returncode == 0, "veil-provision populates, adds and activates")
        check(d.status("Conference EndToEndEncryption ExternalIdentity", "Valid") == "True",
              "xStatus ... ExternalIdentity Valid: True")
        check(d.status("Conference EndToEndEncryption ExternalIdentity", "Identity")
              == "room1.acme.example", "xStatus ... ExternalIdentity Identity: room1.acme.example")
        check(d.status("Conference EndToEndEncryption", "Availability") == "Available",
              "E2EE is available")

        p = run(PROVISION, "--device", d.addr, "--secret", secret, "--cert", ed + ".pem",
                "--key", ed + ".key", ok=False)
        check(p.returncode != 0 and "certificate key is not ECDSA P-256" in p.stderr,
              "an Ed25519 device certificate is refused")
        p = run(PROVISION, "--device", d.addr, "--secret", secret2, "--cert", dev + ".pem",
                "--key", dev + ".key", ok=False)
        check(p.returncode != 0 and "authentication failed" in p.stderr,
              "blobs under a wrong secret are refused")
        show = d.query("xCommand Security Certificates Services Show")
        check(show.count("Fingerprint:") == 1, "refusals added nothing")

        p = run(PROVISION, "--device", d.addr, "--secret", secret, "--new-secret", secret2,
                "--enc", "A128GCM")
        check(p.returncode == 0, "the secret rotates with a JWE under the old one (A128GCM)")
        p = run(PROVISION, "--device", d.addr, "--secret", secret, "--new-secret", secret,
                ok=False)
        check(p.returncode != 0, "the old secret no longer works")
        check(d.status("Conference EndToEndEncryption ExternalIdentity", "Valid") == "True",
              "the identity survives rotation")
        salt = unb64url(d.status("Security ClientSecret Salt", "Salt"))
    finally:
        d.stop()

    with open(state) as f:
        saved = f.read()
    check("PRIVATE KEY" not in saved and secret not in saved and secret2 not in saved,
          "the state file holds neither secret nor clear private key")
    # K = scrypt(secret, salt) as the device derives it (docs/devices.md)
    k = hashlib.scrypt(unb64url(secret2), salt=salt, n=32768, r=8, p=1, maxmem=64 << 20,
                       dklen=32)
    check(b64url(k)[:42] not in saved and k.hex() not in saved.lower() and '"k"' not in saved,
          "the state file does not hold K")
    with open(kek) as f:
        check(f.read().strip() not in saved, "nor the key-encryption key")
    check(stat.S_IMODE(os.stat(state).st_mode) == 0o600, "the state file is 0600")

    other = os.path.join(tmp, "other.kek")
    with open(os.open(other, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(b64url(os.urandom(32)) + "\n")
    before = files(state, kek, other)
    rc, err = refused_start(state, "--key-file", other)
    check(rc == 1 and "another key-encryption key" in err, "another key file is refused: " + err)
    rc, err = refused_start(state, "--key-file", os.path.join(tmp, "missing.kek"))
    check(rc == 1 and "does not exist" in err, "a missing key file is refused: " + err)
    check(files(state, kek, other, os.path.join(tmp, "missing.kek")) == before + [None],
          "refused starts change no file and make no key")
    old = os.path.join(tmp, "old.json")
    with open(os.open(old, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write('{"version":1,"has_secret":true,"salt":"AAECAwQFBgcICQoLDA0ODw",'
                '"k":"ERERERERERERERERERERERERERERERERERERERERERE","mode":"On",'
                '"preferred_domain":"","internal":[],"certs":[],"active":{}}')
    before = files(old)
    rc, err = refused_start(old)
    check(rc == 1 and "version 1" in err and "re-provision" in err,
          "a version 1 state file (K in clear) is refused: " + err)
    check(files(old, old + ".kek") == before + [None], "and left as it was, no key made")

    d = Device(state, os.path.join(org, "ca.pem"))
    try:
        check(d.status("Conference EndToEndEncryption ExternalIdentity", "Valid") == "True",
              "a restarted device keeps its activated identity")
        reply = d.query("xCommand Security ClientSecret Populate Secret: " + secret2)
        check("(status=Error)" in reply, "a plain secret is refused once one is populated")
    finally:
        d.stop()

    serial = listing.splitlines()[1].split()[1]
    p = run(CA, "revoke", "--dir", org, "--serial", serial)
    check(p.returncode == 0 and os.path.exists(os.path.join(org, "crl.pem")),
          "veil-ca revokes and writes a CRL")
    p = run(CA, "revoke", "--dir", org, "--serial", serial, ok=False)
    check(p.returncode != 0, "revoking twice is refused")

    print("%d failure(s)" % failures)
    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)  # kept on failure, for inspection
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
