"""Minimal WebSocket (RFC 6455) client and veil-server process helpers for the integration
tests. Python 3 standard library only; every socket operation has a timeout."""

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import time
import urllib.request

TIMEOUT = 5.0


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code = code
        self.reason = reason


class WS:
    def __init__(self, port, tls=False, subprotocol="veil.v1", host="127.0.0.1"):
        raw = socket.create_connection((host, port), timeout=TIMEOUT)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            raw = ctx.wrap_socket(raw, server_hostname="localhost")
        self.sock = raw
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n")
        if subprotocol:
            req += f"Sec-WebSocket-Protocol: {subprotocol}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        head = self._read_until(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise ConnectionError(f"handshake refused: {status!r}")
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        if accept not in head:
            raise ConnectionError("bad Sec-WebSocket-Accept")

    def _read_until(self, marker):
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("eof during handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed(1006, "eof")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload, fin=True):
        mask = os.urandom(4)
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + masked)

    def send_text(self, text):
        self.send_frame(0x1, text.encode() if isinstance(text, str) else text)

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def recv_frame(self, timeout=TIMEOUT):
        self.sock.settimeout(timeout)
        b0, b1 = self._read_exact(2)
        opcode, n = b0 & 0x0F, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        payload = self._read_exact(n)
        if opcode == 0x8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            raise Closed(code, payload[2:].decode(errors="replace"))
        if opcode == 0x9:
            self.send_frame(0xA, payload)
            return self.recv_frame(timeout)
        return opcode, payload

    def recv_json(self, timeout=TIMEOUT):
        while True:
            opcode, payload = self.recv_frame(timeout)
            if opcode == 0x1:
                return json.loads(payload)

    def recv_type(self, type_, timeout=TIMEOUT):
        """Skips events until a message of the given type arrives."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {type_} message")
            m = self.recv_json(left)
            if m.get("type") == type_:
                return m

    def expect_close(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.recv_frame(max(0.01, deadline - time.monotonic()))
        except Closed as c:
            # answer the close handshake (RFC 6455 §5.5.1) and release the socket
            try:
                self.send_frame(0x8, struct.pack("!H", c.code if c.code != 1006 else 1000))
            except OSError:
                pass
            self.sock.close()
            return c.code
        raise TimeoutError("connection not closed")

    def close(self):
        """The client's close handshake (RFC 6455 §7.1.1): the close frame, then read until
        the server closes (bounded), so that the socket never ends with unread data — that
        would make the kernel send RST, and the server could see a broken connection (which
        it holds for a resume) instead of a close."""
        try:
            self.send_frame(0x8, struct.pack("!H", 1000))
            self.sock.settimeout(2.0)
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and self.sock.recv(65536):
                pass
        except OSError:
            pass
        self.sock.close()


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_token(secret, claims, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64u(sig)


def read_hs_secret(path):
    text = open(path).read().strip()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Server:
    """A veil-server process on 127.0.0.1 with a kernel-chosen port."""

    def __init__(self, binary, state_dir, *args, env=None):
        self.binary = binary
        self.state_dir = state_dir
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--udp-port", "0", "--state-dir", state_dir, *args],
            stdout=subprocess.PIPE, stderr=open(os.path.join(state_dir, "server.log"), "ab"),
            env=full_env)
        deadline = time.monotonic() + 15
        self.port = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                break
            m = re.search(r"ready: (wss?)://127\.0\.0\.1:(\d+).*media udp [^:]+:(\d+)", line)
            if m:
                self.tls = m.group(1) == "wss"
                self.port = int(m.group(2))
                self.udp_port = int(m.group(3))
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("veil-server did not report readiness; see server.log")

    def token(self, room, identity, name, role="member", *extra):
        out = subprocess.run(
            [self.binary, "token", "--state-dir", self.state_dir, "--room", room,
             "--identity", identity, "--name", name, "--role", role, *extra],
            capture_output=True, timeout=10, check=True)
        return out.stdout.decode().strip()

    def ws(self):
        return WS(self.port, tls=self.tls)

    def http(self, path):
        scheme = "https" if self.tls else "http"
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        try:
            with urllib.request.urlopen(f"{scheme}://127.0.0.1:{self.port}{path}",
                                        timeout=TIMEOUT, context=ctx) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def parse_prometheus(text):
    """Parses the text exposition format strictly enough to catch malformed output:
    every sample belongs to a family declared with # TYPE, names and labels are well
    formed, values are floats. Returns {(name, frozenset(labels)): value}."""
    types, samples = {}, {}
    sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
    label_re = re.compile(r'^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$')
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, f"family {name} declared twice"
            types[name] = kind
            continue
        assert not line.startswith("#"), f"bad comment line {line!r}"
        m = sample_re.match(line)
        assert m, f"bad sample line {line!r}"
        name, labels = m.group(1), {}
        if m.group(3):
            for part in m.group(3).split(","):
                lm = label_re.match(part)
                assert lm, f"bad label {part!r} in {line!r}"
                labels[lm.group(1)] = lm.group(2)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or family in types, f"sample {name} has no # TYPE"
        samples[(name, frozenset(labels.items()))] = float(m.group(4))
    return types, samples


def stun_binding_request(username, password, tid=None):
    """An ICE connectivity check (RFC 8445 §7.1.2) with MESSAGE-INTEGRITY (RFC 5389
    §15.4) and FINGERPRINT (§15.5)."""
    import zlib
    tid = tid or os.urandom(12)

    def attr(t, v):
        return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)

    body = attr(0x0006, username.encode())
    body += attr(0x0024, struct.pack("!I", 1845501695))
    body += attr(0x802A, os.urandom(8))
    body += attr(0x0025, b"")
    hdr = struct.pack("!HHI", 0x0001, len(body) + 24, 0x2112A442) + tid
    mi = hmac.new(password.encode(), hdr + body, hashlib.sha1).digest()
    body += attr(0x0008, mi)
    hdr = struct.pack("!HHI", 0x0001, len(body) + 8, 0x2112A442) + tid
    crc = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
    body += attr(0x8028, struct.pack("!I", crc))
    hdr = struct.pack("!HHI", 0x0001, len(body), 0x2112A442) + tid
    return hdr + body, tid


def class_server(binary, prefix, *args):
    """A server in a fresh state directory for a test class: (dir, Server)."""
    import tempfile
    d = tempfile.mkdtemp(prefix=prefix)
    return d, Server(binary, d, *args)


def stop_class_server(d, srv):
    """Stops it; keeps the logs when it failed or VEIL_KEEP is set; asserts a clean exit."""
    import shutil
    import sys
    rc = srv.stop()
    if rc == 0 and not os.environ.get("VEIL_KEEP"):
        shutil.rmtree(d, ignore_errors=True)
    else:
        print(f"logs kept in {d}", file=sys.stderr)
    assert rc == 0, f"server exit code {rc}"
