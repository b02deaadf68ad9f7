// Interop: the veil SFU (driven through sfu-driver's JSON lines) against werift, an
// independent TypeScript WebRTC stack. Peer A publishes VP8-like RTP, peer B subscribes.
// Asserts: ICE-lite checks succeed, DTLS-SRTP completes on both transports, every RTP
// payload reaches B byte for byte, and a PLI sent by B reaches A.
// Usage: node werift_interop.mjs <path-to-sfu-driver>. Exit 77 (skip) without node_modules.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, "node_modules", "werift"))) {
  console.log("1..0 # SKIP werift not installed (npm install in tests/interop)");
  process.exit(77);
}
const { RTCPeerConnection, MediaStreamTrack, RtpPacket, RtpHeader, RTCRtpCodecParameters } =
  await import("werift");

const driverPath = process.argv[2];
if (!driverPath) {
  console.error("usage: werift_interop.mjs <sfu-driver>");
  process.exit(2);
}

const deadline = setTimeout(() => fail("timed out"), 60000);
let driver;
function fail(msg) {
  console.error("FAIL: " + msg);
  try { driver?.kill("SIGKILL"); } catch {}
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
  console.log("ok - " + msg);
}

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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- SDP glue (veil signals structured parameters; werift wants SDP) -------------------
function sdpField(sdp, re) {
  const m = sdp.match(re);
  if (!m) fail("offer lacks " + re);
  return m[1];
}
function answerSdp(params, { direction, ssrc }) {
  const lines = [
    "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=veil", "t=0 0", "a=group:BUNDLE 0", "a=ice-lite",
    "a=msid-semantic: WMS *",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 127.0.0.1", "a=mid:0", `a=${direction}`,
    "a=rtcp-mux", "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack pli",
    `a=ice-ufrag:${params.ice.ufrag}`, `a=ice-pwd:${params.ice.pwd}`,
    `a=fingerprint:${params.dtls.algorithm} ${params.dtls.fingerprint}`, "a=setup:passive",
  ];
  if (ssrc !== undefined) {
    lines.push(`a=msid:veil track-${ssrc}`, `a=ssrc:${ssrc} cname:veil-sfu`);
  }
  for (const c of params.ice.candidates) lines.push("a=" + c.candidate);
  lines.push("a=end-of-candidates");
  return lines.join("\r\n") + "\r\n";
}
function newPc() {
  return new RTCPeerConnection({
    codecs: {
      video: [new RTCRtpCodecParameters({
        mimeType: "video/VP8", clockRate: 90000, payloadType: 96,
        rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
      })],
      audio: [],
    },
    headerExtensions: { video: [], audio: [] },
    iceAdditionalHostAddresses: ["127.0.0.1"],
  });
}

// ---- scenario ---------------------------------------------------------------------------
await readyP;
await call("room.create", { room: "r1" });

// Peer A: publisher.
const pcA = newPc();
const trackA = new MediaStreamTrack({ kind: "video" });
const tA = pcA.addTransceiver(trackA, { direction: "sendonly" });
await pcA.setLocalDescription(await pcA.createOffer());
const offerA = pcA.localDescription.sdp;
const ssrcA = Number(sdpField(offerA, /a=ssrc:(\d+) /));
const pA = await call("participant.create", { room: "r1", participant: "A" });
await call("participant.set_remote", {
  room: "r1", participant: "A", ice_ufrag: sdpField(offerA, /a=ice-ufrag:(\S+)/),
  algorithm: "sha-256", fingerprint: sdpField(offerA, /a=fingerprint:sha-256 (\S+)/),
});
await call("track.publish", {
  room: "r1", participant: "A", track: "camA", kind: "video", ssrc: ssrcA, payload_type: 96,
  clock_rate: 90000,
});
await pcA.setRemoteDescription({ type: "answer", sdp: answerSdp(pA, { direction: "recvonly" }) });

// Peer B: subscriber.
const pcB = newPc();
const tB = pcB.addTransceiver("video", { direction: "recvonly" });
await pcB.setLocalDescription(await pcB.createOffer());
const offerB = pcB.localDescription.sdp;
const pB = await call("participant.create", { room: "r1", participant: "B" });
await call("participant.set_remote", {
  room: "r1", participant: "B", ice_ufrag: sdpField(offerB, /a=ice-ufrag:(\S+)/),
  algorithm: "sha-256", fingerprint: sdpField(offerB, /a=fingerprint:sha-256 (\S+)/),
});
const sub = await call("subscribe", { room: "r1", participant: "B", track: "camA" });
const received = [];
tB.onTrack.subscribe((track) => {
  track.onReceiveRtp.subscribe((rtp) => received.push(Buffer.from(rtp.payload)));
});
await pcB.setRemoteDescription({
  type: "answer", sdp: answerSdp(pB, { direction: "sendonly", ssrc: sub.ssrc }),
});

await waitEvent((e) => e.event === "transport_state" && e.participant === "A" && e.state === "connected", 20000, "A connected");
check(true, "A: ICE-lite check answered, DTLS-SRTP established with werift (SFU side)");
await waitEvent((e) => e.event === "transport_state" && e.participant === "B" && e.state === "connected", 20000, "B connected");
check(true, "B: ICE-lite check answered, DTLS-SRTP established with werift (SFU side)");
for (let i = 0; i < 100 && (pcA.connectionState !== "connected" || pcB.connectionState !== "connected"); i++)
  await sleep(50);
check(pcA.connectionState === "connected" && pcB.connectionState === "connected",
  `werift peers connected (A ${pcA.connectionState}, B ${pcB.connectionState})`);

// A publishes VP8-like packets: payload descriptor (S bit), then bytes unique per packet.
const sent = [];
let seq = 1000;
for (let i = 0; i < 50; i++) {
  const payload = Buffer.alloc(200 + i);
  payload[0] = 0x10; // VP8 payload descriptor, S=1, PID=0 (RFC 7741 §4.2)
  for (let j = 1; j < payload.length; j++) payload[j] = (i * 7 + j * 13) & 0xff;
  payload.writeUInt16BE(i, 1);
  sent.push(payload);
  trackA.writeRtp(new RtpPacket(new RtpHeader({
    payloadType: 96, sequenceNumber: seq++, timestamp: 3000 * i, marker: true, ssrc: ssrcA,
  }), payload));
  await sleep(5);
}
for (let i = 0; i < 60 && received.length < sent.length; i++) await sleep(50);
check(received.length === sent.length, `B received ${received.length} of ${sent.length} RTP packets`);
let exact = 0;
for (const r of received) {
  const idx = r.length >= 3 ? r.readUInt16BE(1) : -1;
  if (idx >= 0 && idx < sent.length && Buffer.compare(r, sent[idx]) === 0) exact++;
}
check(exact === sent.length, `every payload arrived byte-exact (${exact}/${sent.length})`);

// PLI from B (naming the SSRC the SFU gave it) must reach A as a PLI on A's SSRC.
let pliAtA = 0;
tA.sender.onPictureLossIndication.subscribe(() => pliAtA++);
await sleep(600); // past the SFU's per-track PLI rate limit (500 ms) since the subscribe
const before = pliAtA;
await tB.receiver.sendRtcpPLI(sub.ssrc);
for (let i = 0; i < 40 && pliAtA === before; i++) await sleep(50);
check(pliAtA > before, "PLI sent by B arrived at A");
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
