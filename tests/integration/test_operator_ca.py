#!/usr/bin/env python3
"""Integration test of veil-server as the operator CA: a real server on 127.0.0.1 (kernel-chosen
ports, TLS as deployed), a CSR made by `openssl req`, a join token from `veil-server token`, and
the issued certificate checked with `openssl verify` against the CA the server publishes.
Usage: test_operator_ca.py PATH/TO/veil-server"""

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from veilws import Server, parse_prometheus, TIMEOUT  # noqa: E402

BINARY = None
OPENSSL = shutil.which("openssl")


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, timeout=20, check=True, **kw).stdout.decode()


class OperatorCA(unittest.TestCase):
    def setUp(self):
        if not OPENSSL:
            self.skipTest("openssl command not found")
        self.dir = tempfile.mkdtemp(prefix="veil-opca-it-")
        self.srv = Server(BINARY, self.dir, "--operator-ca-identity-per-hour", "3")

    def tearDown(self):
        self.srv.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, headers=None):
        scheme = "https" if self.srv.tls else "http"
        ctx = None
        if self.srv.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        req = urllib.request.Request(f"{scheme}://127.0.0.1:{self.srv.port}{path}", data=body,
                                     headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT, context=ctx) as r:
                return r.status, r.headers.get("Content-Type"), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type"), e.read().decode()

    def csr(self, name, keyalg=("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")):
        key = os.path.join(self.dir, name + ".key")
        out = os.path.join(self.dir, name + ".csr")
        # The CSR asks for names of its own: the CA must ignore them.
        run(OPENSSL, "req", "-new", *keyalg, "-nodes", "-keyout", key, "-out", out,
            "-subj", "/CN=mallory", "-addext", "subjectAltName=email:mallory@evil.example")
        return open(out, "rb").read()

    def issue(self, token, csr):
        return self.request("POST", "/v1/operator-ca/issue", csr,
                            {"Authorization": f"Bearer {token}", "Content-Type": "application/pkcs10"})

    def verify(self, cert_pem):
        ca = os.path.join(self.dir, "operator-ca.pem")
        status, _, body = self.request("GET", "/v1/operator-ca/cert")
        self.assertEqual(status, 200)
        with open(ca, "w") as f:
            f.write(body)
        leaf = os.path.join(self.dir, "leaf.pem")
        with open(leaf, "w") as f:
            f.write(cert_pem)
        out = subprocess.run([OPENSSL, "verify", "-CAfile", ca, leaf], capture_output=True, timeout=20)
        self.assertEqual(out.returncode, 0, out.stderr.decode() + out.stdout.decode())
        return run(OPENSSL, "x509", "-in", leaf, "-noout", "-subject", "-ext", "subjectAltName", "-dates")

    def test_issues_a_certificate_named_from_the_token_that_verifies_against_the_published_ca(self):
        token = self.srv.token("demo", "alice@example.org", "Alice", "member")
        status, ctype, body = self.issue(token, self.csr("alice"))
        self.assertEqual(status, 200, body)
        self.assertEqual(ctype, "application/pem-certificate-chain")
        info = self.verify(body)
        self.assertIn("subject=CN = Alice", info)
        self.assertIn("email:alice@example.org", info)
        self.assertNotIn("mallory", info)
        # A device identity (not an email address) becomes a DNS name; Ed25519 keys work.
        token = self.srv.token("demo", "room3.acme.example", "Room 3", "device")
        status, _, body = self.issue(token, self.csr("room3", ("-newkey", "ed25519")))
        self.assertEqual(status, 200, body)
        info = self.verify(body)
        self.assertIn("DNS:room3.acme.example", info)
        self.assertIn("CN = Room 3", info)
        # The issuance is in the CA's index, as veil-ca keeps it.
        index = open(os.path.join(self.dir, "operator-ca", "index.txt")).read()
        self.assertIn("\talice@example.org\tAlice\n", index)
        m = parse_prometheus(self.request("GET", "/metrics")[2])[1]
        self.assertEqual(m[("veil_operator_ca_issued_total", frozenset())], 2)

    def test_refusals_are_answered_and_counted_by_reason(self):
        token = self.srv.token("demo", "bob@example.org", "Bob", "member")
        csr = self.csr("bob")
        status, ctype, body = self.issue(token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"), csr)
        self.assertEqual(status, 401)
        self.assertEqual(ctype, "application/json")
        self.assertEqual(json.loads(body)["error"], "token_signature")
        status, _, body = self.request("POST", "/v1/operator-ca/issue", csr)
        self.assertEqual((status, json.loads(body)["error"]), (401, "token_missing"))
        # An RSA CSR is refused whatever the token.
        status, _, body = self.issue(token, self.csr("rsa", ("-newkey", "rsa:2048")))
        self.assertEqual((status, json.loads(body)["error"]), (400, "csr_key_type"))
        # A body above the limit is answered from its declared length, without reading it.
        status, _, body = self.issue(token, b"A" * (64 * 1024))
        self.assertEqual((status, json.loads(body)["error"]), (413, "csr_too_large"))
        # Bob's own budget (3 per hour here): the fourth request of his is refused.
        for _ in range(2):
            self.assertEqual(self.issue(token, csr)[0], 200)
        status, _, body = self.issue(token, csr)
        self.assertEqual((status, json.loads(body)["error"]), (429, "identity_rate_limited"))
        # The server still answers everything else.
        self.assertEqual(self.request("GET", "/healthz")[0], 200)
        self.assertEqual(self.request("POST", "/v1/elsewhere", b"x")[0], 404)
        m = parse_prometheus(self.request("GET", "/metrics")[2])[1]
        refused = "veil_operator_ca_refused_total"
        self.assertEqual(m[(refused, frozenset({("reason", "token_signature")}))], 1)
        self.assertEqual(m[(refused, frozenset({("reason", "token_missing")}))], 1)
        self.assertEqual(m[(refused, frozenset({("reason", "csr_key_type")}))], 1)
        self.assertEqual(m[(refused, frozenset({("reason", "csr_too_large")}))], 1)
        self.assertEqual(m[(refused, frozenset({("reason", "identity_rate_limited")}))], 1)
        self.assertEqual(m[("veil_operator_ca_issued_total", frozenset())], 2)

    def test_the_ca_survives_a_restart_and_a_configured_directory_must_hold_one(self):
        first = self.request("GET", "/v1/operator-ca/cert")[2]
        self.assertIn("BEGIN CERTIFICATE", first)
        self.srv.stop()
        self.srv = Server(BINARY, self.dir)
        self.assertEqual(self.request("GET", "/v1/operator-ca/cert")[2], first)
        # operator_ca_dir given but empty: the server refuses to start and says which key.
        p = subprocess.run([BINARY, "--port", "0", "--udp-port", "0", "--state-dir", self.dir,
                            "--operator-ca-dir", os.path.join(self.dir, "nothing-here")],
                           capture_output=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("operator_ca_dir", p.stderr.decode())
        # --no-operator-ca: no routes.
        self.srv.stop()
        self.srv = Server(BINARY, self.dir, "--no-operator-ca")
        self.assertEqual(self.request("GET", "/v1/operator-ca/cert")[0], 404)
        self.assertEqual(self.issue("x", b"y")[0], 404)


if __name__ == "__main__":
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)
