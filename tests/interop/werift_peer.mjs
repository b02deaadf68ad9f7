// What the werift interop tests share: failing with cleanup, werift peers configured for
// veil, the SDP glue (veil signals structured ICE/DTLS parameters; werift wants SDP), and
// the publish-then-compare media check. Import it only after the node_modules check: it
// loads werift.
import { RTCPeerConnection, MediaStreamTrack, RtpPacket, RtpHeader, RTCRtpCodecParameters }
  from "werift";

export { MediaStreamTrack };

const cleanups = [];
/** Runs fn (best effort) before fail() exits, e.g. to kill a child process. */
export function atFail(fn) {
  cleanups.push(fn);
}
export function fail(msg) {
  console.error("FAIL: " + msg);
  for (const fn of cleanups) {
    try { fn(); } catch {}
  }
  process.exit(1);
}
export function check(cond, msg) {
  if (!cond) fail(msg);
  console.log("ok - " + msg);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Polls cond every 50 ms for at most ms; returns its last value. */
export async function pollFor(cond, ms) {
  for (let i = 0; i < ms / 50 && !cond(); i++) await sleep(50);
  return cond();
}

export function sdpField(sdp, re) {
  const m = sdp.match(re);
  if (!m) fail("offer lacks " + re);
  return m[1];
}

/** The client half of a transport from a werift offer: ICE ufrag/pwd, the sha-256
 * certificate fingerprint and the offer's a=setup. */
export function offerParams(sdp) {
  return {
    ufrag: sdpField(sdp, /a=ice-ufrag:(\S+)/),
    pwd: sdpField(sdp, /a=ice-pwd:(\S+)/),
    fingerprint: sdpField(sdp, /a=fingerprint:sha-256 (\S+)/),
    setup: sdpField(sdp, /a=setup:(\S+)/),
  };
}

/** The SFU's answer to a one-video-m-line werift offer. remote: {ufrag, pwd, candidates
 * (a=candidate values), algorithm, fingerprint}; ssrc: the SSRC the SFU sends with, for a
 * subscriber. The SFU is ICE-lite and always the DTLS server (setup:passive). */
export function answerSdp(remote, { direction, ssrc }) {
  const lines = [
    "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=veil", "t=0 0", "a=group:BUNDLE 0", "a=ice-lite",
    "a=msid-semantic: WMS *",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 127.0.0.1", "a=mid:0", `a=${direction}`,
    "a=rtcp-mux", "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack pli",
    `a=ice-ufrag:${remote.ufrag}`, `a=ice-pwd:${remote.pwd}`,
    `a=fingerprint:${remote.algorithm} ${remote.fingerprint}`, "a=setup:passive",
  ];
  if (ssrc !== undefined) {
    lines.push(`a=msid:veil track-${ssrc}`, `a=ssrc:${ssrc} cname:veil-sfu`);
  }
  for (const c of remote.candidates) lines.push("a=" + c);
  lines.push("a=end-of-candidates");
  return lines.join("\r\n") + "\r\n";
}

/** A werift peer with VP8 as payload type 96 and no header extensions; on loopback werift
 * needs 127.0.0.1 as an extra host address. */
export function newPc() {
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

/** Waits until both werift peers report connected (ICE and DTLS done on their side). */
export async function checkConnected(pcA, pcB) {
  const both = () => pcA.connectionState === "connected" && pcB.connectionState === "connected";
  check(await pollFor(both, 5000),
    `werift peers connected (A ${pcA.connectionState}, B ${pcB.connectionState})`);
}

/** Collects the RTP packets a recvonly transceiver receives. */
export function collectRtp(transceiver) {
  const received = [];
  transceiver.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => received.push(rtp));
  });
  return received;
}

/** Sends 50 VP8-like packets from track as ssrc: a payload descriptor (S bit), then bytes
 * unique per packet with the packet's index at offset 1. Returns the payloads. */
export async function sendPackets(track, ssrc) {
  const sent = [];
  let seq = 1000;
  for (let i = 0; i < 50; i++) {
    const payload = Buffer.alloc(200 + i);
    payload[0] = 0x10; // VP8 payload descriptor, S=1, PID=0 (RFC 7741 §4.2)
    for (let j = 1; j < payload.length; j++) payload[j] = (i * 7 + j * 13) & 0xff;
    payload.writeUInt16BE(i, 1);
    sent.push(payload);
    track.writeRtp(new RtpPacket(new RtpHeader({
      payloadType: 96, sequenceNumber: seq++, timestamp: 3000 * i, marker: true, ssrc,
    }), payload));
    await sleep(5);
  }
  return sent;
}

/** Every sent payload must arrive once, byte for byte (in the packets collectRtp keeps),
 * as payload type 96 on ssrc, the SSRC the SFU gave the subscription. */
export async function checkPayloads(received, sent, ssrc) {
  await pollFor(() => received.length >= sent.length, 3000);
  check(received.length === sent.length,
    `B received ${received.length} of ${sent.length} RTP packets`);
  const foreign = received.filter((p) => p.header.ssrc !== ssrc || p.header.payloadType !== 96);
  check(foreign.length === 0,
    `every packet arrived as PT 96 on SSRC ${ssrc} (${foreign.length} not)`);
  const seen = new Set();
  for (const rtp of received) {
    const r = Buffer.from(rtp.payload);
    const idx = r.length >= 3 ? r.readUInt16BE(1) : -1;
    if (idx >= 0 && idx < sent.length && Buffer.compare(r, sent[idx]) === 0) seen.add(idx);
  }
  check(seen.size === sent.length,
    `every payload arrived byte-exact (${seen.size}/${sent.length})`);
}

/** A PLI that B sends about mediaSsrc (the SSRC the SFU gave it) must reach A. */
export async function checkPli(tA, tB, mediaSsrc) {
  let pliAtA = 0;
  tA.sender.onPictureLossIndication.subscribe(() => pliAtA++);
  await sleep(600); // past the SFU's per-track PLI rate limit (500 ms) since the subscribe
  const before = pliAtA;
  await tB.receiver.sendRtcpPLI(mediaSsrc);
  check(await pollFor(() => pliAtA > before, 2000), "PLI sent by B arrived at A");
}
