#!/usr/bin/env python3
"""veil capacity benchmark with E2EE on: veil-load against a local veil-server.

Runs, one server process per run (so RSS growth is per run):
  webinar  P publishers (audio + video) seen by S subscribers, for D seconds;
  ramp     add participants step by step until a threshold breaks (or the cap);
  churn    a room where members leave and join, for rekey latency after a leave.
and prints, as JSON on stdout (and a summary on stderr):
  server CPU-seconds per million forwarded packets, forwarded packets/s at 80% of one
  core (0.8 / CPU-seconds per packet), server memory per participant (RSS growth divided
  by participants), join latency p50/p99, rekey latency after a leave p50/p99, and where
  the ramp broke.

Every participant is a full client (MLS member, SFrame keys, DTLS-SRTP). "Forwarded
packets" are the RTP packets subscribers received: each is one copy the SFU protected and
sent. The load generator shares the machine with the server, so on a small box the
client side (MLS and SFrame for every simulated participant) can saturate first; the
report says which side ran out (load CPU vs server CPU).

Usage: capacity.py VEIL_SERVER VEIL_LOAD [--quick]"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "integration"))
from veilws import Server  # noqa: E402


def run(server_bin, load_bin, name, args):
    d = tempfile.mkdtemp(prefix="veil-cap-")
    srv = Server(server_bin, d, "--no-tls", "--log-level", "error", "--max-participants-per-room", "1000",
                 "--messages-per-second", "1000")
    try:
        prefix = os.path.join(d, name)
        cmd = [load_bin, *args, "--url", "ws://127.0.0.1:%d/" % srv.port,
               "--token-key", os.path.join(d, "token-es256.key"), "--server-pid", str(srv.proc.pid),
               "--report", prefix, "--quiet"]
        t0 = os.times()
        p = subprocess.run(cmd, capture_output=True, timeout=1800)
        t1 = os.times()
        if not os.path.exists(prefix + ".json"):
            raise RuntimeError("veil-load %s did not run: %s" % (name, p.stderr.decode(errors="replace")[-2000:]))
        with open(prefix + ".json") as f:
            rep = json.load(f)
        rep["_load_cpu_s"] = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
        rep["_rc"] = p.returncode
        rep["_stderr_tail"] = p.stderr.decode(errors="replace").strip().splitlines()[-3:]
        keep = os.environ.get("VEIL_BENCH_KEEP")
        if keep:
            os.makedirs(keep, exist_ok=True)
            for ext in (".json", ".html"):
                shutil.copy(prefix + ext, os.path.join(keep, name + ext))
        return rep
    finally:
        srv.proc.terminate()
        try:
            srv.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
        shutil.rmtree(d, ignore_errors=True)


def figures(rep, participants):
    srv = rep.get("server", {})
    pkts = rep["packets"]["received"]
    cpu = srv.get("cpu_s", 0.0)
    per_m = cpu * 1e6 / pkts if pkts else None
    growth_kb = max(0, srv.get("rss_peak_kb", 0) - srv.get("rss_start_kb", 0))
    return {
        "participants": participants,
        "elapsed_s": round(rep["elapsed_s"], 1),
        "forwarded_packets": pkts,
        "forwarded_packets_per_s": round(pkts / rep["elapsed_s"], 1) if rep["elapsed_s"] else None,
        "server_cpu_s": round(cpu, 3),
        "server_cpu_s_per_million_forwarded": round(per_m, 2) if per_m else None,
        "forwarded_packets_per_s_at_80pct_core": round(0.8 * 1e6 / per_m) if per_m else None,
        "server_rss_growth_kb": growth_kb,
        "server_kb_per_participant": round(growth_kb / participants, 1) if participants else None,
        "load_cpu_s": round(rep["_load_cpu_s"], 2),
        "join_p50_ms": rep["join_latency"]["p50_ms"],
        "join_p99_ms": rep["join_latency"]["p99_ms"],
        "rekey_p50_ms": rep["rekey_latency"]["p50_ms"],
        "rekey_p99_ms": rep["rekey_latency"]["p99_ms"],
        "frame_p50_ms": rep["frame_latency"]["p50_ms"],
        "frame_p99_ms": rep["frame_latency"]["p99_ms"],
        "loss_pct": rep["frames"]["loss_pct"],
        "frames_verified": rep["frames"]["verified"],
        "decrypt_failures": rep["frames"]["decrypt_failures"],
        "passed": rep["passed"],
        "failures": rep["failures"],
    }


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    server_bin, load_bin = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv[3:]
    pubs, subs, dur = (2, 10, 10) if quick else (2, 30, 20)
    out = {"e2ee": "MLS + SFrame on every participant; DTLS-SRTP to the SFU", "cores": os.cpu_count()}

    web = run(server_bin, load_bin, "webinar",
              ["webinar", "--publishers", str(pubs), "--subscribers", str(subs), "--video", "on",
               "--duration", "%ds" % dur, "--max-p99", "1000"])
    out["webinar"] = figures(web, pubs + subs)

    rmax, rstep, rint = (12, 4, 4) if quick else (60, 6, 5)
    ramp = run(server_bin, load_bin, "ramp",
               ["ramp", "--ramp-start", str(rstep), "--ramp-step", str(rstep), "--ramp-interval", "%ds" % rint,
                "--ramp-max", str(rmax), "--max-p99", "200", "--max-loss", "1"])
    rf = figures(ramp, ramp["group"]["members_final"] or 1)
    rf["ramp"] = ramp.get("ramp")
    out["ramp"] = rf

    n, per_min, cdur = (5, 60, 10) if quick else (10, 60, 30)
    churn = run(server_bin, load_bin, "churn",
                ["churn", "--participants", str(n), "--churn-per-min", str(per_min), "--duration", "%ds" % cdur])
    out["churn"] = figures(churn, n)
    out["churn"]["leaves"] = churn["group"]["leaves"]
    out["churn"]["failovers"] = churn["group"]["failovers"]

    w = out["webinar"]
    out["summary"] = {
        "server_cpu_s_per_million_forwarded_packets": w["server_cpu_s_per_million_forwarded"],
        "forwarded_packets_per_s_at_80pct_of_one_core": w["forwarded_packets_per_s_at_80pct_core"],
        "server_memory_kb_per_participant": w["server_kb_per_participant"],
        "join_latency_ms_p50_p99": [w["join_p50_ms"], w["join_p99_ms"]],
        "rekey_latency_after_leave_ms_p50_p99": [out["churn"]["rekey_p50_ms"], out["churn"]["rekey_p99_ms"]],
        "ramp_last_good_participants": (ramp.get("ramp") or {}).get("last_good"),
        "ramp_broke_at": (ramp.get("ramp") or {}).get("broke_at"),
        "ramp_reason": (ramp.get("ramp") or {}).get("reason"),
    }
    json.dump(out, sys.stdout, indent=1)
    print()
    for k, v in out["summary"].items():
        print("%-48s %s" % (k, v), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
