// Interop: the veil SFU (driven through sfu-driver's JSON lines) against werift, an
// independent TypeScript WebRTC stack. Peer A publishes VP8-like RTP, peer B subscribes.
// Asserts: ICE-lite checks succeed, DTLS-SRTP completes on both transports, every RTP
// payload reaches B byte for byte on the SSRC the SFU gave it, and a PLI sent by B reaches
// A. werift_signaling.mjs runs the same media path through veil-server's signaling.
// Usage: node werift_interop.mjs <path-to-sfu-driver>. Without node_modules (npm ci in
// tests/interop): exit 77 (skip) on a developer machine, exit 1 (fail) when CI=true, so a
// CI run cannot pass without having run the interop test.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, "node_modules", "werift"))) {
  if (process.env.CI === "true") {
    console.error(
      `werift_interop: FAIL: werift is not installed in ${join(here, "node_modules")} and ` +
        "CI=true, where the interop test may not be skipped: run scripts/setup (or npm ci " +
        "in tests/interop) before the tests.");
    process.exit(1);
  }
  console.log("1..0 # SKIP werift not installed in tests/interop/node_modules " +
              "(run scripts/setup or npm ci in tests/interop; with CI=true this fails)");
  process.exit(77);
}
const {
  atFail, fail, check, sdpField, offerParams, answerSdp, newPc, checkConnected, collectRtp,
  sendPackets, checkPayloads, checkPli, MediaStreamTrack,
} = await import("./werift_peer.mjs");

const driverPath = process.argv[2];
if (!driverPath) {
  console.error("usage: werift_interop.mjs <sfu-driver>");
  process.exit(2);
}

const deadline = setTimeout(() => fail("timed out"), 60000);
let driver;
atFail(() => driver?.kill("SIGKILL"));

// ---- driver -------------------------------------------------------------------------
driver = spawn(driverPath, [], { stdio: ["pipe", "pipe", "inherit"] });
driver.on("exit", (code) => { if (!closing) fail(`sfu-driver exited early (${code})`); });
let closing = false;
const pending = new Map();
const events = [];
const waiters = [];
let nextId = 1;
let ready;
const readyP = new Promise((r) => (ready = r));
createInterface({ input: driver.stdout }).on("line", (line) => {
  const m = JSON.parse(line);
  if (m.event === "ready") return ready(m);
  if (m.event) {
    events.push(m);
    for (const w of [...waiters]) w();
    return;
  }
  const p = pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  m.ok ? p.resolve(m) : p.reject(new Error(`${p.op}: ${m.error}`));
});
function call(op, args = {}) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, op });
    driver.stdin.write(JSON.stringify({ id, op, ...args }) + "\n");
  });
}
function waitEvent(pred, ms, what) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout waiting for " + what)), ms);
    const test = () => {
      const e = events.find(pred);
      if (e) {
        clearTimeout(t);
        waiters.splice(waiters.indexOf(test), 1);
        resolve(e);
      }
    };
    waiters.push(test);
    test();
  });
}

// sfu-driver's transport parameters, as answerSdp wants them.
function driverRemote(p) {
  return {
    ufrag: p.ice.ufrag, pwd: p.ice.pwd, candidates: p.ice.candidates.map((c) => c.candidate),
    algorithm: p.dtls.algorithm, fingerprint: p.dtls.fingerprint,
  };
}

// ---- scenario ---------------------------------------------------------------------------
await readyP;
await call("room.create", { room: "r1" });

// Peer A: publisher.
const pcA = newPc();
const trackA = new MediaStreamTrack({ kind: "video" });
const tA = pcA.addTransceiver(trackA, { direction: "sendonly" });
await pcA.setLocalDescription(await pcA.createOffer());
const ssrcA = Number(sdpField(pcA.localDescription.sdp, /a=ssrc:(\d+) /));
const offerA = offerParams(pcA.localDescription.sdp);
const pA = await call("participant.create", { room: "r1", participant: "A" });
await call("participant.set_remote", {
  room: "r1", participant: "A", ice_ufrag: offerA.ufrag, algorithm: "sha-256",
  fingerprint: offerA.fingerprint,
});
await call("track.publish", {
  room: "r1", participant: "A", track: "camA", kind: "video", ssrc: ssrcA, payload_type: 96,
  clock_rate: 90000,
});
await pcA.setRemoteDescription({
  type: "answer", sdp: answerSdp(driverRemote(pA), { direction: "recvonly" }),
});

// Peer B: subscriber.
const pcB = newPc();
const tB = pcB.addTransceiver("video", { direction: "recvonly" });
await pcB.setLocalDescription(await pcB.createOffer());
const offerB = offerParams(pcB.localDescription.sdp);
const pB = await call("participant.create", { room: "r1", participant: "B" });
await call("participant.set_remote", {
  room: "r1", participant: "B", ice_ufrag: offerB.ufrag, algorithm: "sha-256",
  fingerprint: offerB.fingerprint,
});
const sub = await call("subscribe", { room: "r1", participant: "B", track: "camA" });
const received = collectRtp(tB);
await pcB.setRemoteDescription({
  type: "answer", sdp: answerSdp(driverRemote(pB), { direction: "sendonly", ssrc: sub.ssrc }),
});

await waitEvent((e) => e.event === "transport_state" && e.participant === "A" && e.state === "connected", 20000, "A connected");
check(true, "A: ICE-lite check answered, DTLS-SRTP established with werift (SFU side)");
await waitEvent((e) => e.event === "transport_state" && e.participant === "B" && e.state === "connected", 20000, "B connected");
check(true, "B: ICE-lite check answered, DTLS-SRTP established with werift (SFU side)");
await checkConnected(pcA, pcB);

const sent = await sendPackets(trackA, ssrcA);
await checkPayloads(received, sent, sub.ssrc);
// PLI from B (naming the SSRC the SFU gave it) must reach A as a PLI on A's SSRC.
await checkPli(tA, tB, sub.ssrc);
await waitEvent((e) => e.event === "keyframe_needed" && e.participant === "A", 2000, "keyframe event");
check(true, "keyframe_needed event for A's track");
const st = await call("participant.stats", { room: "r1", participant: "B" });
check(st.stats.srtp_errors === 0, "no SRTP errors on B's transport");

closing = true;
await call("close");
await waitEvent((e) => e.event === "closed", 5000, "driver closed");
await pcA.close();
await pcB.close();
clearTimeout(deadline);
console.log("PASS");
process.exit(0);
