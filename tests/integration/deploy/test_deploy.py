#!/usr/bin/env python3
"""The single-node deployment files of deploy/ against the real veil-server, so that none of
them drifts from what the binary accepts and exports:

  * deploy/veil-server.conf.example sets every configuration key the server has, once,
    with values it reads back unchanged; started with it (paths rewritten to a temporary
    directory, an operator chain and an ES256 public token key made with the openssl CLI,
    addresses on 127.0.0.1, ports 0), the server serves: TLS with that chain, a join
    with a token the "application backend" signed, the lobby, /metrics;
  * deploy/systemd/veil-server.service: its ExecStart line is what starts that server
    (binary and /etc paths rewritten only); SIGTERM drains and the server exits 0 well
    within TimeoutStopSec; `systemd-analyze verify` finds nothing and the offline
    security review rates it 2.0 or better; systemd-sysusers makes its user from
    deploy/systemd/veil.sysusers.conf (each skipped without the tool);
    under strace, a session stays inside the unit's SystemCallFilter= and
    RestrictAddressFamilies= and never maps memory writable and executable
    (skipped without strace or for a sanitizer build, whose runtime adds its own calls);
  * deploy/prometheus/veil-alerts.yml uses only metric names and label values that the
    running server's /metrics page carries; promtool checks both Prometheus files when
    installed (PATH or $PROMTOOL);
  * deploy/container/Dockerfile installs the Debian package of every library veil-server
    links, and exposes the example's ports.

Usage: test_deploy.py PATH/TO/veil-server"""

import os
import re
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from veilws import WS, parse_prometheus, stun_binding_request, TIMEOUT  # noqa: E402

BINARY = None
ROOT = os.environ.get("VEIL_SOURCE_ROOT") or os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
EXAMPLE = os.path.join(DEPLOY, "veil-server.conf.example")
UNIT = os.path.join(DEPLOY, "systemd", "veil-server.service")
SYSUSERS = os.path.join(DEPLOY, "systemd", "veil.sysusers.conf")
ALERTS = os.path.join(DEPLOY, "prometheus", "veil-alerts.yml")
PROM_CONFIG = os.path.join(DEPLOY, "prometheus", "prometheus.yml")
DOCKERFILE = os.path.join(DEPLOY, "container", "Dockerfile")
OPENSSL = shutil.which("openssl")
# The installed locations the unit and the example name; the test maps them into its
# temporary directory.
ETC, VAR = "/etc/veil", "/var/lib/veil"
# Addresses a test on one machine must use instead of the production ones.
LOCAL = {"host": "127.0.0.1", "port": "0", "udp_host": "127.0.0.1", "udp_port": "0",
         "announce_ip": "127.0.0.1"}


def read_conf(path):
    return parse_conf(open(path).read(), path)


def parse_conf(text, where):
    """(key, value) pairs of veil-server's file format (docs/config.md), in order."""
    pairs = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        key, sep, value = s.partition("=")
        assert sep, f"{where}: not key = value: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        pairs.append((key.strip(), value))
    return pairs


def read_unit(path):
    """{section: [(key, value), ...]}; keys may repeat (SystemCallFilter=)."""
    sections, cur = {}, None
    for line in open(path):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("["):
            cur = sections.setdefault(s.strip("[]"), [])
            continue
        key, _, value = s.partition("=")
        cur.append((key.strip(), value.strip()))
    return sections


def unit_values(unit, key):
    return [v for k, v in unit["Service"] + unit.get("Unit", []) if k == key]


def seconds(text):
    m = re.fullmatch(r"(\d+)(s|min)?", text)
    assert m, f"unsupported time span {text!r}"
    return int(m.group(1)) * (60 if m.group(2) == "min" else 1)


def alert_exprs():
    """The alert expressions, one line each (the file's own rule, checked here)."""
    text = open(ALERTS).read()
    exprs = re.findall(r"^\s+expr:\s*(.+)$", text, re.M)
    assert len(exprs) == len(re.findall(r"^\s+- alert:", text, re.M)) > 0, "one expr line per alert"
    for e in exprs:
        assert not e.startswith(("|", ">")), "block scalars would hide the expression from this test"
    return exprs


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, timeout=60, check=True, **kw).stdout.decode()


class Site:
    """A temporary root holding what an operator installs: /etc/veil with the rewritten
    example, an operator chain and the backend's public token key, and /var/lib/veil."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="veil-deploy-it-")
        self.etc = os.path.join(self.dir, ETC.lstrip("/"))
        os.makedirs(os.path.join(self.etc, "tls"))
        self.conf = self.path(ETC + "/veil-server.conf")
        self.rewritten = {}
        with open(self.conf, "w") as f:
            for key, value in read_conf(EXAMPLE):
                new = LOCAL.get(key, self.path(value))
                if new != value:
                    self.rewritten[key] = new
                f.write(f'{key} = "{new}"\n')
        self.values = dict(read_conf(self.conf))
        self.make_tls()
        self.make_token_key()

    def path(self, value):
        """An installed path moved under the temporary root; anything else unchanged."""
        for prefix in (ETC, VAR):
            if value == prefix or value.startswith(prefix + "/"):
                return self.dir + value
        return value

    def make_tls(self):
        """An operator CA and a leaf for 127.0.0.1; cert_file is leaf + CA (a fullchain)."""
        d = self.dir
        ca_key, ca, leaf_key, csr, leaf = (os.path.join(d, n) for n in
                                           ("ca.key", "ca.pem", "leaf.key", "leaf.csr", "leaf.pem"))
        ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
        run(OPENSSL, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
            "-subj", "/CN=veil deploy test CA")
        run(OPENSSL, "req", "-new", *ec, "-keyout", leaf_key, "-out", csr, "-subj", "/CN=127.0.0.1")
        ext = os.path.join(d, "leaf.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        run(OPENSSL, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-days", "2", "-extfile", ext, "-out", leaf)
        with open(self.values["cert_file"], "w") as f:
            f.write(open(leaf).read() + open(ca).read())
        shutil.copy(leaf_key, self.values["key_file"])
        self.ca = ca

    def make_token_key(self):
        """The application backend keeps the private key; the server gets the public one."""
        assert self.values["token_alg"] == "ES256"
        self.backend_key = os.path.join(self.dir, "backend-es256.pem")
        run(OPENSSL, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", self.backend_key)
        run(OPENSSL, "pkey", "-in", self.backend_key, "-pubout", "-out", self.values["token_key_file"])

    def token(self, room, identity, name, role):
        """A token as the backend signs it (here with veil-server's own signer and the
        private key; the server under test never sees that key)."""
        return run(BINARY, "token", "--state-dir", os.path.join(self.dir, "backend"),
                   "--token-alg", "ES256", "--token-key-file", self.backend_key,
                   "--room", room, "--identity", identity, "--name", name, "--role", role).strip()

    def exec_start(self):
        """The unit's ExecStart with the binary under test and the paths moved."""
        (line,) = unit_values(read_unit(UNIT), "ExecStart")
        argv = line.split()
        assert argv[0] == "/usr/local/bin/veil-server", argv
        return [BINARY] + [self.path(a) for a in argv[1:]]

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Running:
    """veil-server started from the unit's ExecStart in `site`, optionally under a wrapper
    (strace). Environment without VEIL_*: the unit sets none."""

    def __init__(self, site, wrapper=()):
        env = {k: v for k, v in os.environ.items() if not k.startswith("VEIL_")}
        self.site = site
        self.log = open(os.path.join(site.dir, "server.log"), "ab")
        self.proc = subprocess.Popen([*wrapper, *site.exec_start()], stdout=subprocess.PIPE,
                                     stderr=self.log, env=env, cwd=site.dir)
        self.lines = self.startup_lines()
        m = re.search(r"ready: wss://127\.0\.0\.1:(\d+) .*media udp 127\.0\.0\.1:(\d+)",
                      self.lines[0] if self.lines else "")
        if not m:
            self.kill()
            log = open(os.path.join(site.dir, "server.log"), errors="replace").read()[-2000:]
            raise AssertionError(f"no ready line: {self.lines!r}; server.log ends:\n{log}")
        self.port, self.udp_port = int(m.group(1)), int(m.group(2))

    def startup_lines(self):
        """stdout up to the last startup line ("operator ca:", the example has
        operator_ca = true), read with a deadline: the server keeps stdout open."""
        buf, fd = b"", self.proc.stdout.fileno()
        deadline = time.monotonic() + 20
        while b"\noperator ca: " not in buf and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
        return buf.decode().splitlines()

    def server_pid(self):
        """The server's pid: the process itself, or the wrapper's child."""
        if self.proc.args[0] == BINARY:
            return self.proc.pid
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = open(f"/proc/{pid}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                return int(pid)
        raise AssertionError("the wrapper has no child")

    def https(self, path):
        """GET over TLS verified against the operator CA, for the IP the leaf names."""
        ctx = ssl.create_default_context(cafile=self.site.ca)
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{self.port}{path}", timeout=TIMEOUT,
                                        context=ctx) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def join(self, room, identity, role):
        ws = WS(self.port, tls=True)
        ws.send_json({"type": "join", "id": 1, "room": room,
                      "token": self.site.token(room, identity, identity.split("@")[0], role)})
        return ws, ws.recv_json()

    def ice_check(self, ws, joined):
        """The media path: transport_connect, then an ICE connectivity check to the UDP
        port the candidate names (announce_ip, udp_port), answered with a success."""
        cand = joined["transport"]["ice"]["candidates"][0]
        ws.send_json({"type": "transport_connect", "id": 2, "ice": {"ufrag": "cli1"},
                      "dtls": {"role": "client", "fingerprints": [
                          {"algorithm": "sha-256", "value": ":".join(["AB"] * 32)}]}})
        ws.recv_type("transport_connected")
        req, tid = stun_binding_request(f"{joined['transport']['ice']['ufrag']}:cli1",
                                        joined["transport"]["ice"]["pwd"])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(TIMEOUT)
            u.sendto(req, (cand["ip"], cand["port"]))
            resp, _ = u.recvfrom(2048)
        return struct.unpack("!H", resp[:2])[0] == 0x0101 and resp[8:20] == tid

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Example(unittest.TestCase):
    def test_sets_every_key_the_server_has_once(self):
        keys = [k for k, _ in read_conf(EXAMPLE)]
        dumped = [k for k, _ in parse_conf(run(BINARY, "config", env=clean_env()), "config")]
        self.assertEqual(len(keys), len(set(keys)), "a key set twice")
        self.assertEqual(sorted(keys), sorted(dumped))

    def test_server_reads_every_value_as_written(self):
        # `veil-server config` parses the file exactly as the server does, checks every
        # value's type and range, and prints what it understood.
        dumped = dict(parse_conf(run(BINARY, "config", "--config", EXAMPLE, env=clean_env()), "config"))
        self.assertEqual(dict(read_conf(EXAMPLE)), dumped)

    def test_unit_and_example_agree(self):
        unit, conf = read_unit(UNIT), dict(read_conf(EXAMPLE))
        (state,) = unit_values(unit, "StateDirectory")
        self.assertEqual("/var/lib/" + state, conf["state_dir"])
        self.assertIn("--config " + ETC + "/veil-server.conf", unit_values(unit, "ExecStart")[0])
        # systemd must not SIGKILL a drain: TimeoutStopSec above drain_timeout_ms + margin.
        (stop,) = unit_values(unit, "TimeoutStopSec")
        self.assertGreaterEqual(seconds(stop), int(conf["drain_timeout_ms"]) / 1000 + 10)
        self.assertEqual(unit_values(unit, "KillSignal"), ["SIGTERM"])
        self.assertEqual(unit_values(unit, "RestartPreventExitStatus"), ["2"])
        (nofile,) = unit_values(unit, "LimitNOFILE")
        self.assertGreater(int(nofile), int(conf["max_connections"]) + 100)
        (user,) = unit_values(unit, "User")
        self.assertRegex(open(SYSUSERS).read(), rf"(?m)^u\s+{user}\s")


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("VEIL_")}


class Served(unittest.TestCase):
    def setUp(self):
        if not OPENSSL:
            self.skipTest("openssl command not found")
        self.site = Site()
        self.srv = None

    def tearDown(self):
        if self.srv:
            self.srv.kill()
        self.site.remove()

    def test_the_unit_starts_the_example_and_it_serves_then_drains(self):
        self.assertEqual(set(self.site.rewritten) - set(LOCAL),
                         {"state_dir", "cert_file", "key_file", "token_key_file"})
        srv = self.srv = Running(self.site)
        out = "\n".join(srv.lines)
        # The configured chain and the public key are what the server uses.
        self.assertIn(f"tls: operator certificate {self.site.values['cert_file']}", out)
        self.assertIn("verifies only (a public key)", out)
        self.assertEqual(srv.https("/healthz"), (200, "ok\n"))
        self.assertEqual(srv.https("/readyz"), (200, "ready\n"))
        host, joined = srv.join("ops", "host@example.org", "host")
        self.assertEqual(joined["type"], "joined", joined)
        cand = joined["transport"]["ice"]["candidates"][0]
        self.assertEqual((cand["ip"], cand["port"]), ("127.0.0.1", srv.udp_port))
        self.assertTrue(srv.ice_check(host, joined), "no STUN binding success from the SFU")
        # lobby = true: a member waits for the host.
        member, waiting = srv.join("ops", "member@example.org", "member")
        self.assertEqual(waiting["type"], "lobby", waiting)
        member.close()
        # A token signed by another key is refused.
        other = self.site.backend_key
        self.site.backend_key = os.path.join(self.site.dir, "other.pem")
        run(OPENSSL, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", self.site.backend_key)
        ws, refused = srv.join("ops", "eve@example.org", "host")
        self.assertEqual(refused.get("code"), "token_signature", refused)
        ws.close()
        self.site.backend_key = other
        # Flood the host's connection so the rate-limit series the alerts use exists.
        for i in range(300):
            host.send_json({"type": "ping", "id": i})
        codes = set()
        for _ in range(300):
            m = host.recv_json()
            codes.add(m.get("code", m["type"]))
        self.assertIn("rate_limited", codes)
        status, page = srv.https("/metrics")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(parse_prometheus(page)[1][("veil_packets_in_total", frozenset())], 1)
        self.check_alerts_against(page)
        # systemd's stop: SIGTERM drains with the example's deadline; the host leaves and
        # the server exits 0, long before TimeoutStopSec.
        os.kill(srv.server_pid(), signal.SIGTERM)
        drain = host.recv_type("draining")
        self.assertEqual(drain["deadline_ms"], int(self.site.values["drain_timeout_ms"]))
        self.assertEqual(srv.https("/readyz"), (503, "draining\n"))
        t0 = time.monotonic()
        host.close()
        self.assertEqual(srv.proc.wait(seconds(unit_values(read_unit(UNIT), "TimeoutStopSec")[0])), 0)
        self.assertLess(time.monotonic() - t0, 5)

    def check_alerts_against(self, page):
        types, samples = parse_prometheus(page)
        exported = set(types) | {name for name, _ in samples}
        series = {(name, label) for name, labels in samples for label in labels}
        for expr in alert_exprs():
            names = set(re.findall(r"\b(veil_[a-z0-9_]+)", expr))
            self.assertTrue(names or expr.startswith("up{"), expr)
            for name in names:
                self.assertIn(name, exported, f"{expr}: {name} is not on /metrics")
            for name, body in re.findall(r"\b(veil_[a-z0-9_]+)\{([^}]*)\}", expr):
                for label, value in re.findall(r'(\w+)="([^"]*)"', body):
                    self.assertIn((name, (label, value)), series, f"{expr}: no such series")


class Hardening(unittest.TestCase):
    """What the unit's sandbox allows against what veil-server does in a session."""

    def test_systemd_analyze_verify(self):
        tool = shutil.which("systemd-analyze")
        if not tool:
            self.skipTest("systemd-analyze not found: unit not verified")
        d = tempfile.mkdtemp(prefix="veil-deploy-unit-")
        try:
            # verify checks that ExecStart's binary exists: point it at the one under test.
            unit = os.path.join(d, "veil-server.service")
            text = open(UNIT).read().replace("ExecStart=/usr/local/bin/veil-server", "ExecStart=" + BINARY)
            with open(unit, "w") as f:
                f.write(text)
            p = subprocess.run([tool, "verify", "--man=no", unit], capture_output=True, timeout=60)
            msgs = [ln for ln in (p.stdout + p.stderr).decode().splitlines() if "veil-server" in ln]
            self.assertEqual((p.returncode, msgs), (0, []))
            p = subprocess.run([tool, "security", "--offline=true", unit], capture_output=True,
                               timeout=60)
            m = re.search(r"Overall exposure level for veil-server\.service: ([\d.]+)", p.stdout.decode())
            if m:  # systemd >= 250
                self.assertLessEqual(float(m.group(1)), 2.0, p.stdout.decode()[-400:])
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_sysusers_creates_the_units_user(self):
        tool = shutil.which("systemd-sysusers")
        if not tool:
            self.skipTest("systemd-sysusers not found: user file not checked")
        root = tempfile.mkdtemp(prefix="veil-deploy-sysusers-")
        try:
            os.makedirs(os.path.join(root, "etc"))
            for name in ("passwd", "group", "shadow", "gshadow"):
                open(os.path.join(root, "etc", name), "w").close()
            run(tool, "--root=" + root, SYSUSERS)
            (user,) = unit_values(read_unit(UNIT), "User")
            (group,) = unit_values(read_unit(UNIT), "Group")
            passwd = open(os.path.join(root, "etc", "passwd")).read()
            self.assertRegex(passwd, rf"(?m)^{user}:x:\d+:\d+:[^:]*:/var/lib/veil:/usr/sbin/nologin$")
            self.assertRegex(open(os.path.join(root, "etc", "group")).read(), rf"(?m)^{group}:x:\d+:")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def test_a_session_stays_inside_the_sandbox(self):
        strace, tool = shutil.which("strace"), shutil.which("systemd-analyze")
        if not strace or not tool or not OPENSSL:
            self.skipTest("strace, systemd-analyze or openssl not found: sandbox not checked")
        if b"__asan_init" in open(BINARY, "rb").read() or b"__ubsan_handle" in open(BINARY, "rb").read():
            self.skipTest("sanitizer build: its runtime makes calls of its own")
        site = Site()
        trace = os.path.join(site.dir, "trace")
        try:
            probe = subprocess.run([strace, "-o", "/dev/null", "true"], capture_output=True, timeout=30)
            if probe.returncode != 0:
                self.skipTest("strace cannot trace here: " + probe.stderr.decode()[:200])
            srv = Running(site, [strace, "-f", "-qq", "-o", trace])
            try:
                ws, joined = srv.join("s", "a@example.org", "host")
                self.assertEqual(joined["type"], "joined", joined)
                self.assertTrue(srv.ice_check(ws, joined), "no STUN binding success from the SFU")
                self.assertEqual(srv.https("/metrics")[0], 200)
                os.kill(srv.server_pid(), signal.SIGTERM)
                ws.recv_type("draining")
                ws.close()
                self.assertEqual(srv.proc.wait(30), 0)
            finally:
                srv.kill()
            used, families, wx = set(), set(), []
            for line in open(trace):
                m = re.match(r"\d+\s+(?:<\.\.\. )?([a-z0-9_]+)\(", line)
                if m:
                    used.add(m.group(1))
                m = re.match(r"\d+\s+socket\((AF_[A-Z0-9]+)", line)
                if m:
                    families.add(m.group(1))
                if re.match(r"\d+\s+(mmap|mprotect|pkey_mprotect)\(", line) and \
                        "PROT_WRITE" in line and "PROT_EXEC" in line:
                    wx.append(line)
            self.assertTrue({"socket", "bind", "listen", "epoll_wait"} <= used and used & {"accept", "accept4"},
                            f"the trace misses the server: {sorted(used)}")
            unit = read_unit(UNIT)
            allowed = syscall_filter(tool, unit_values(unit, "SystemCallFilter"))
            self.assertEqual(sorted(used - allowed), [], "system calls SystemCallFilter= refuses")
            (af,) = unit_values(unit, "RestrictAddressFamilies")
            self.assertEqual(sorted(families - set(af.split())), [], "RestrictAddressFamilies=")
            self.assertEqual(wx, [], "MemoryDenyWriteExecute=")
        finally:
            site.remove()


def syscall_filter(tool, lines):
    """The set a sequence of SystemCallFilter= lines allows (an allow list, then ~ removals)."""
    cache = {}

    def expand(item):
        if not item.startswith("@"):
            return {item}
        if item not in cache:
            out = subprocess.run([tool, "syscall-filter", item], capture_output=True, timeout=30,
                                 check=True).stdout.decode().splitlines()
            cache[item] = set()
            for ln in out[1:]:
                ln = ln.strip()
                if ln and not ln.startswith("#"):
                    cache[item] |= expand(ln)
        return cache[item]

    allowed = set()
    for line in lines:
        deny = line.startswith("~")
        items = set().union(*(expand(i) for i in line.lstrip("~").split()))
        allowed = allowed - items if deny else allowed | items
    return allowed


def package_of(path):
    """The Debian package owning a library path; with merged /usr, dpkg knows each file
    under one of /lib and /usr/lib only, and ldd may name either or a symlink."""
    real = os.path.realpath(path)
    for p in (path, real):
        for q in (p, p[4:] if p.startswith("/usr/") else "/usr" + p):
            out = subprocess.run(["dpkg-query", "-S", q], capture_output=True).stdout.decode()
            if out:
                return out.split(":")[0]
    return ""


class Packaging(unittest.TestCase):
    def test_prometheus_files_pass_promtool(self):
        promtool = os.environ.get("PROMTOOL") or shutil.which("promtool")
        if not promtool:
            self.skipTest("promtool not found (PATH or $PROMTOOL): Prometheus files not checked")
        run(promtool, "check", "config", PROM_CONFIG)
        run(promtool, "check", "rules", ALERTS)

    def test_dockerfile_installs_every_linked_library_and_exposes_the_ports(self):
        text = open(DOCKERFILE).read()
        conf = dict(read_conf(EXAMPLE))
        self.assertIn(f"EXPOSE {conf['port']}/tcp {conf['udp_port']}/udp", text)
        self.assertIn(f"https://127.0.0.1:{conf['port']}/healthz", text)
        runtime = text.split("\nFROM ")[-1]
        installed = set(re.search(r"apt-get install -y --no-install-recommends\s*\\\n([^&]+)",
                                  runtime).group(1).split()) - {"\\"}
        if not shutil.which("dpkg-query") or not shutil.which("ldd"):
            self.skipTest("not on Debian (dpkg-query, ldd): runtime packages not checked")
        needed = re.findall(r"NEEDED\)\s+Shared library: \[([^\]]+)\]", run("readelf", "-d", BINARY))
        paths = dict(re.findall(r"^\s*(\S+) => (\S+)", run("ldd", BINARY), re.M))
        missing = []
        for lib in needed:
            if re.match(r"lib(c|m|dl|pthread|asan|ubsan)\.so", lib):
                continue  # libc6 (in the base image), or a sanitizer runtime
            pkg = package_of(paths[lib])
            self.assertTrue(pkg, f"no package owns {paths[lib]}")
            if pkg not in installed:
                missing.append(f"{lib} ({pkg})")
        self.assertEqual(missing, [], "runtime stage lacks these")


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
