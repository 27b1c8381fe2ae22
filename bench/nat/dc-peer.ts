// One end of a bare WebRTC data channel: node-datachannel's RTCPeerConnection (the polyfill the
// engine uses in Node, packages/engine/src/node/webrtc.ts) with nothing of Cascade's on top — the
// reference bench/nat measures Cascade's WebRTC and TURN rates against. Signalling is JSON lines on
// stdin/stdout, relayed by the parent (bench/nat/run.ts). The offerer sends SIZE bytes in MSG-byte
// messages the way the engine's data-channel connection does (256 KiB messages; sending stops at
// 2 MiB buffered and resumes when the buffer falls to 512 KiB: webrtc-connection.ts); the answerer
// counts them and reports when the first and the last arrived (wall-clock ms), and every 4 MiB how many.
// IDLE (default 0): that many more peer connections, each with an offer made and gathered and never
// answered, held for the whole transfer (what a tracker client's unanswered offers cost).
// WORK (answerer, default none): BitTorrent's receive work done beside the library, to tell the
// library's own cost from what a busier receiver does to it. A comma list of `hash` (each message
// copied into a 1 MiB piece buffer, each piece SHA-1'd on the main thread, as the engine's
// downloader does) and `reply:N` (N 17-byte messages per MiB sent back, as haves and requests go).
//   node bench/nat/dc-peer.ts offer|answer RTC_CONFIG_JSON SIZE MSG [IDLE] [WORK]
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const [role, iceJson, sizeArg, msgArg, idleArg, workArg] = process.argv.slice(2);
const WORK = new Set((workArg ?? '').split(',').filter(Boolean).map((w) => w.split(':')[0]));
const REPLIES = Number(/reply:(\d+)/.exec(workArg ?? '')?.[1] ?? 0);
const SIZE = Number(sizeArg);
const MSG = Number(msgArg);
const HIGH_WATER = 2 * 1024 * 1024;
const LOW_WATER = 512 * 1024;
const GOT_EVERY = 4 * 1024 * 1024;

const require = createRequire(import.meta.url);
// libdatachannel's own log on stderr, as the engine's CASCADE_WEBRTC_LOG does (Debug, Info, Warning…).
if (process.env.CASCADE_WEBRTC_LOG) {
  (require('node-datachannel') as { initLogger(level: string, cb: (level: string, message: string) => void): void })
    .initLogger(process.env.CASCADE_WEBRTC_LOG, (l, m) => process.stderr.write(`webrtc ${l}: ${m}\n`));
}
// DC_SCTP (JSON): libdatachannel's SCTP settings for this process (node-datachannel setSctpSettings:
// recvBufferSize, sendBufferSize, …), to try a setting on the library alone before the engine.
if (process.env.DC_SCTP) (require('node-datachannel') as { setSctpSettings(s: object): void }).setSctpSettings(JSON.parse(process.env.DC_SCTP) as object);
const { RTCPeerConnection } = require('node-datachannel/polyfill') as { RTCPeerConnection: typeof globalThis.RTCPeerConnection };

const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...o, t: Date.now() })}\n`);
// RTC_CONFIG_JSON: the RTCConfiguration (iceServers, and iceTransportPolicy 'relay' for the TURN case,
// as the engine asks for between two symmetric NATs).
const pc = new RTCPeerConnection(JSON.parse(iceJson!) as RTCConfiguration);
const idle: RTCPeerConnection[] = [];
for (let i = 0; i < Number(idleArg ?? 0); i++) {
  const other = new RTCPeerConnection(JSON.parse(iceJson!) as RTCConfiguration);
  other.createDataChannel('idle');
  void other.createOffer().then((o) => other.setLocalDescription(o));
  idle.push(other);
}
pc.onicecandidate = (e) => {
  if (e.candidate) emit({ candidate: { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid } });
};
pc.onconnectionstatechange = () => emit({ event: 'state', state: pc.connectionState });

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line) as { sdp?: RTCSessionDescriptionInit; candidate?: RTCIceCandidateInit };
  void (async () => {
    if (m.sdp) {
      await pc.setRemoteDescription(m.sdp);
      if (m.sdp.type === 'offer') {
        await pc.setLocalDescription(await pc.createAnswer());
        emit({ sdp: { type: pc.localDescription!.type, sdp: pc.localDescription!.sdp } });
      }
    } else if (m.candidate) {
      await pc.addIceCandidate(m.candidate);
    }
  })().catch((err: Error) => emit({ event: 'error', message: err.message }));
});

/** Whether the pair in use goes through TURN (node-datachannel's extension, as the engine reads it). */
function relayed(): boolean | null {
  const pair = (pc as { selectedCandidatePair?: () => { local: { type?: string }; remote: { type?: string } } | null }).selectedCandidatePair?.();
  return pair ? pair.local.type === 'relay' || pair.remote.type === 'relay' : null;
}

if (role === 'offer') {
  const ch = pc.createDataChannel('bench');
  ch.binaryType = 'arraybuffer';
  ch.bufferedAmountLowThreshold = LOW_WATER;
  const block = new Uint8Array(MSG).map((_, i) => (i * 31 + 7) & 0xff);
  let sent = 0;
  const pump = () => {
    while (sent < SIZE && ch.bufferedAmount < HIGH_WATER) {
      const n = Math.min(MSG, SIZE - sent);
      ch.send(n === MSG ? block : block.subarray(0, n));
      sent += n;
    }
    if (sent < SIZE) ch.onbufferedamountlow = () => ((ch.onbufferedamountlow = null), pump());
    else emit({ event: 'sent' });
  };
  ch.onopen = () => (emit({ event: 'open' }), pump());
  await pc.setLocalDescription(await pc.createOffer());
  emit({ sdp: { type: pc.localDescription!.type, sdp: pc.localDescription!.sdp } });
} else {
  pc.ondatachannel = (e) => {
    const ch = e.channel;
    ch.binaryType = 'arraybuffer';
    emit({ event: 'open' });
    let got = 0;
    const PIECE = 1024 * 1024;
    const piece = new Uint8Array(PIECE);
    let fill = 0;
    const reply = new Uint8Array(17);
    let nextReply = REPLIES > 0 ? PIECE / REPLIES : Infinity;
    ch.onmessage = (m: MessageEvent<ArrayBuffer>) => {
      if (got === 0) emit({ event: 'first' });
      if (WORK.has('hash')) {
        const data = new Uint8Array(m.data);
        for (let off = 0; off < data.length;) {
          const take = Math.min(PIECE - fill, data.length - off);
          piece.set(data.subarray(off, off + take), fill);
          fill += take;
          off += take;
          if (fill === PIECE) (createHash('sha1').update(piece).digest(), (fill = 0));
        }
      }
      const was = got;
      got += m.data.byteLength;
      // Every 4 MiB: the bytes so far, for bench/nat's --window (a steady window's rate).
      if (Math.floor(got / GOT_EVERY) > Math.floor(was / GOT_EVERY)) emit({ event: 'got', bytes: got });
      for (; got >= nextReply; nextReply += PIECE / REPLIES) ch.send(reply);
      if (got >= SIZE) emit({ event: 'done', bytes: got, relayed: relayed() });
    };
  };
}
