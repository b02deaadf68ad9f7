// Interop through real signaling: two werift peers (an independent TypeScript WebRTC stack)
// join a room of a real veil-server (wss with its generated certificate trusted, ES256 join
// tokens minted by `veil-server token`) and speak veil.v1 (docs/protocol.md): join, joined
// with the transport parameters, transport_connect, publish/subscribe. Peer A publishes
// VP8-like RTP, peer B subscribes. Asserts: the signaling replies and events, ICE (werift
// controlling, against the ICE-lite SFU) and DTLS-SRTP complete on both transports as the
// server reports them, every RTP payload reaches B byte for byte on the signaled SSRC, a
// PLI from B reaches A, no SRTP errors in /metrics, and the server drains and exits 0.
// Usage: node werift_signaling.mjs <path-to-veil-server>. Without node_modules: exit 77
// (skip), or exit 1 (fail) when CI=true.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
for (const pkg of ["werift", "ws"]) {
  if (!existsSync(join(here, "node_modules", pkg))) {
    // as werift_interop.mjs: CI (CI=true) may not pass without having run this test
    if (process.env.CI === "true") {
      console.error(`werift_signaling: FAIL: ${pkg} is not installed in ` +
        `${join(here, "node_modules")} and CI=true: run scripts/setup (or npm ci in ` +
        "tests/interop) before the tests.");
      process.exit(1);
    }
    console.log(`1..0 # SKIP ${pkg} not installed in tests/interop/node_modules ` +
      "(run scripts/setup or npm ci in tests/interop; with CI=true this fails)");
    process.exit(77);
  }
}
const { default: WebSocket } = await import("ws");
const {
  atFail, fail, check, sleep, sdpField, offerParams, answerSdp, newPc, checkConnected,
  collectRtp, sendPackets, checkPayloads, checkPli, MediaStreamTrack,
} = await import("./werift_peer.mjs");

const serverPath = process.argv[2];
if (!serverPath) {
  console.error("usage: werift_signaling.mjs <veil-server>");
  process.exit(2);
}

// ---- veil-server on 127.0.0.1, kernel-chosen ports, its own state directory ------------
const stateDir = mkdtempSync(join(tmpdir(), "veil-werift-"));
const logPath = join(stateDir, "server.log");
let server;
atFail(() => {
  server?.kill("SIGKILL");
  try {
    console.error("--- server.log (tail) ---\n" + readFileSync(logPath, "utf8").slice(-4000));
  } catch {}
  rmSync(stateDir, { recursive: true, force: true });
});
const deadline = setTimeout(() => fail("timed out"), 60000);

function startServer() {
  server = spawn(serverPath, ["--port", "0", "--udp-port", "0", "--state-dir", stateDir],
    { stdio: ["ignore", "pipe", openSync(logPath, "a")] });
  const exited = new Promise((resolve) => server.on("exit", (code, sig) => resolve(code ?? sig)));
  let ready = false;
  return new Promise((resolve) => {
    createInterface({ input: server.stdout }).on("line", (line) => {
      const m = line.match(/ready: (wss?):\/\/127\.0\.0\.1:(\d+)/);
      if (m && !ready) {
        ready = true;
        resolve({ scheme: m[1], port: Number(m[2]), exited });
      }
    });
    exited.then((c) => { if (!ready) fail(`veil-server exited before it was ready (${c})`); });
  });
}
function token(identity, name) {
  return execFileSync(serverPath, ["token", "--state-dir", stateDir, "--room", "interop",
    "--identity", identity, "--name", name, "--role", "member"], { timeout: 10000 })
    .toString().trim();
}

// ---- veil.v1 over ws: replies matched by id, events queued by type ----------------------
class Signaling {
  constructor(url, ca, who) {
    this.who = who;
    this.queue = [];
    this.wake = () => {};
    this.nextId = 1;
    this.ws = new WebSocket(url, "veil.v1", { ca });
    this.ws.on("message", (data, isBinary) => {
      if (isBinary) return; // MLS relay envelopes: not this test's business
      this.queue.push(JSON.parse(data.toString()));
      this.wake();
    });
    this.ws.on("close", (code) => { this.closed = code; this.wake(); });
    this.ws.on("error", (e) => fail(`${who}: websocket: ${e.message}`));
    this.open = new Promise((resolve) => this.ws.once("open", resolve));
  }
  async take(pred, what, ms = 10000) {
    const until = Date.now() + ms;
    for (;;) {
      const i = this.queue.findIndex(pred);
      if (i >= 0) return this.queue.splice(i, 1)[0];
      if (this.closed !== undefined) {
        fail(`${this.who}: connection closed (${this.closed}) waiting for ${what}`);
      }
      if (Date.now() >= until) fail(`${this.who}: no ${what} within ${ms} ms`);
      await new Promise((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
    }
  }
  /** Sends msg with a fresh id and returns the reply, which must be of type reply. */
  async request(msg, reply) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...msg, id }));
    const m = await this.take((x) => x.id === id, `reply to ${msg.type}`);
    if (m.type !== reply) fail(`${this.who}: ${msg.type} answered ${JSON.stringify(m)}`);
    return m;
  }
  event(type, pred = () => true) {
    return this.take((x) => x.type === type && x.id === undefined && pred(x), type);
  }
}

/** Joins, checks the transport parameters joined carries, returns [signaling, joined]. */
async function joinRoom(srv, who, name) {
  const sig = new Signaling(`${srv.scheme}://127.0.0.1:${srv.port}/`, srv.ca, who);
  await sig.open;
  const joined = await sig.request({ type: "join", token: token(who, name), room: "interop" },
    "joined");
  const t = joined.transport;
  check(t && t.ice.lite === true && t.dtls.role === "server" &&
    t.dtls.fingerprints.some((f) => f.algorithm === "sha-256") &&
    t.ice.candidates.some((c) => c.ip === "127.0.0.1" && c.protocol === "udp"),
  `${who}: joined as ${joined.participant_id}: ICE-lite, DTLS server, 127.0.0.1 udp candidate`);
  return [sig, joined];
}

/** transport_connect from the werift offer. It must precede werift's first ICE check,
 * which starts with setRemoteDescription. */
async function transportConnect(sig, pc) {
  const offer = offerParams(pc.localDescription.sdp);
  await sig.request({
    type: "transport_connect",
    ice: { ufrag: offer.ufrag, pwd: offer.pwd },
    dtls: {
      role: offer.setup === "actpass" ? "auto" : "client",
      fingerprints: [{ algorithm: "sha-256", value: offer.fingerprint }],
    },
  }, "transport_connected");
}

/** The SFU's side of the transport, from joined, as werift's remote description. */
function sfuAnswer(joined, opts) {
  const t = joined.transport;
  const fp = t.dtls.fingerprints.find((f) => f.algorithm === "sha-256");
  return {
    type: "answer",
    sdp: answerSdp({
      ufrag: t.ice.ufrag, pwd: t.ice.pwd, candidates: t.ice.candidates.map((c) => c.candidate),
      algorithm: fp.algorithm, fingerprint: fp.value,
    }, opts),
  };
}

async function transportConnected(sig, who) {
  const first = await sig.event("transport_state");
  check(first.state === "connecting", `${who}: transport_state connecting (${first.state})`);
  const second = await sig.event("transport_state");
  check(second.state === "connected",
    `${who}: transport_state connected: ICE check answered, DTLS-SRTP with werift done ` +
    `(${second.state})`);
}

function metrics(srv) {
  return new Promise((resolve, reject) => {
    httpsGet({ host: "127.0.0.1", port: srv.port, path: "/metrics", ca: srv.ca }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}
function sample(text, name) {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, "m"));
  if (!m) fail(`/metrics lacks ${name}`);
  return Number(m[1]);
}

// ---- scenario ---------------------------------------------------------------------------
const srv = await startServer();
check(srv.scheme === "wss", `veil-server ready on wss://127.0.0.1:${srv.port}`);
srv.ca = readFileSync(join(stateDir, "tls-cert.pem"));

const [sigA, joinedA] = await joinRoom(srv, "alice@example.org", "Alice");
const [sigB, joinedB] = await joinRoom(srv, "bob@example.org", "Bob");
check(joinedB.roster.some((p) => p.participant_id === joinedA.participant_id),
  "B's roster lists A");
const arrived = await sigA.event("participant_joined");
check(arrived.participant.participant_id === joinedB.participant_id, "A told B joined");

// Peer A: publisher.
const pcA = newPc();
const trackA = new MediaStreamTrack({ kind: "video" });
const tA = pcA.addTransceiver(trackA, { direction: "sendonly" });
await pcA.setLocalDescription(await pcA.createOffer());
const ssrcA = Number(sdpField(pcA.localDescription.sdp, /a=ssrc:(\d+) /));
await transportConnect(sigA, pcA);
await pcA.setRemoteDescription(sfuAnswer(joinedA, { direction: "recvonly" }));
const pub = await sigA.request({
  type: "publish", kind: "video", source: "camera", mid: "0", ssrc: ssrcA,
  codec: { name: "vp8", payload_type: 96, clock_rate: 90000 },
}, "published");
check(pub.ssrc === ssrcA, `A published track ${pub.track_id}`);

// Peer B: subscriber, to the track signaling announces.
const announced = await sigB.event("track_published");
check(announced.participant_id === joinedA.participant_id &&
  announced.track.track_id === pub.track_id && announced.track.kind === "video",
  "B told A published the video track");
const pcB = newPc();
const tB = pcB.addTransceiver("video", { direction: "recvonly" });
await pcB.setLocalDescription(await pcB.createOffer());
const received = collectRtp(tB);
await transportConnect(sigB, pcB);
const sub = await sigB.request({ type: "subscribe", track_id: pub.track_id }, "subscribed");
check(sub.participant_id === joinedA.participant_id && sub.payload_type === 96 &&
  sub.clock_rate === 90000 && sub.kind === "video" && sub.ssrc > 0,
  `B subscribed (SSRC ${sub.ssrc})`);
// the answer names the SSRC the SFU chose, so werift maps the stream to tB's track
await pcB.setRemoteDescription(sfuAnswer(joinedB, { direction: "sendonly", ssrc: sub.ssrc }));

await transportConnected(sigA, "A");
await transportConnected(sigB, "B");
await checkConnected(pcA, pcB);

const sent = await sendPackets(trackA, ssrcA);
await checkPayloads(received, sent, sub.ssrc);
await checkPli(tA, tB, sub.ssrc);

const text = await metrics(srv);
check(sample(text, "veil_packets_in_total") >= sent.length, "the SFU counted A's packets");
check(sample(text, "veil_srtp_errors_total") === 0, "no SRTP errors in /metrics");

// B leaves through signaling; A sees it; then the server drains and exits cleanly.
await sigB.request({ type: "leave" }, "ack");
const left = await sigA.event("participant_left");
check(left.participant_id === joinedB.participant_id && left.reason === "left", "A told B left");
sigA.ws.close(1000);
await pcA.close();
await pcB.close();
server.kill("SIGTERM");
const rc = await Promise.race([srv.exited, sleep(15000).then(() => "still running")]);
check(rc === 0, `veil-server exited 0 after SIGTERM (${rc})`);
clearTimeout(deadline);
rmSync(stateDir, { recursive: true, force: true });
console.log("PASS");
process.exit(0);
