// Links over WebRTC data channels, for tab relays (src/signal.ts): a browser dials a tab by sealing
// its offer to the tab's did and sending it through the node relay the tab signals through; the tab
// answers the same way. One ordered, reliable channel carries the cells, one message per cell.
import { CELL_SIZE } from '../protocol/cells.ts';
import { makeLink, type Link, type LinkDialer } from '../protocol/link.ts';
import { MAX_SIGNAL_MESSAGE, openAnswer, parseTabRelayAddress, sealOffer, type SignalMessage } from '../relay/signal.ts';
import { dialRelayBrowser } from './ws-link.ts';

export interface RtcOptions {
  /** ICE servers (STUN/TURN) for the peer connections; [] on loopback-only machines. */
  iceServers?: RTCIceServer[];
}

const CHANNEL = 'cascade-onion';
const GATHER_MS = 5000;
/** A dial sends one offer per signalling connection, so its id is constant. */
const OFFER_ID = 1;

/** What a browser dials with: node relays over WebSocket, tab relays over WebRTC. */
export function browserDialer(o: RtcOptions = {}): LinkDialer {
  return (address, signal) => (address.startsWith('webrtc:') ? dialTabRelay(address, signal, o) : dialRelayBrowser(address, signal));
}

/** Waits until the connection has gathered its candidates (no trickle: one sealed box each way). */
export function gathered(pc: RTCPeerConnection, ms = GATHER_MS): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => pc.iceGatheringState === 'complete' && done();
    const timer = setTimeout(done, ms);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** A Link over an open (or opening) data channel; resolves when it opens. */
export function channelLink(pc: RTCPeerConnection, dc: RTCDataChannel, remote: string, initiator: boolean, signal?: AbortSignal): Promise<Link> {
  dc.binaryType = 'arraybuffer';
  const shut = () => {
    dc.close();
    pc.close();
  };
  const { link, deliver, ended } = makeLink({
    remote,
    initiator,
    send: (cell) => {
      // A channel can close between the readyState check and the send (the close event not yet
      // delivered): the send throws, and the link is over.
      try {
        dc.send(cell as Uint8Array<ArrayBuffer>);
      } catch {
        end();
      }
    },
    close: shut,
    isClosed: () => dc.readyState !== 'open',
  });
  let isEnded = false;
  function end(): void {
    if (isEnded) return;
    isEnded = true;
    shut();
    ended();
  }
  dc.addEventListener('message', (e: MessageEvent) => {
    // Anything but a whole cell breaks framing: the link goes (as on every other transport).
    if (!(e.data instanceof ArrayBuffer) || e.data.byteLength !== CELL_SIZE) return end();
    deliver(new Uint8Array(e.data));
  });
  dc.addEventListener('close', end);
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') end();
  });
  return new Promise((resolve, reject) => {
    if (dc.readyState === 'open') return resolve(link);
    const abort = () => {
      end();
      reject(new Error(`WebRTC link to ${remote} aborted`));
    };
    signal?.addEventListener('abort', abort, { once: true });
    dc.addEventListener('open', () => {
      signal?.removeEventListener('abort', abort);
      resolve(link);
    }, { once: true });
    dc.addEventListener('close', () => reject(new Error(`WebRTC link to ${remote} closed before it opened`)), { once: true });
  });
}

/** Dials a tab relay: a sealed offer through its signalling node, a sealed answer back, a channel. */
export async function dialTabRelay(address: string, signal: AbortSignal, o: RtcOptions = {}): Promise<Link> {
  const to = parseTabRelayAddress(address);
  if (!to) throw new Error(`not a tab relay address: ${address}`);
  try {
    return await dialOnce(to, signal, o);
  } catch (err) {
    // A WebRTC stack can drop a connection's ICE transport while the answer is on its way
    // (libdatachannel does under load: "Got a remote candidate without ICE transport"). That says
    // nothing about the tab, so a fresh connection gets one more try before the tab is blamed.
    if (signal.aborted || !(err instanceof Error) || !/libdatachannel|ICE|InvalidStateError|OperationError/i.test(`${err.name} ${err.message}`)) throw err;
    return dialOnce(to, signal, o);
  }
}

async function dialOnce(to: { did: string; signal: string }, signal: AbortSignal, o: RtcOptions): Promise<Link> {
  const pc = new RTCPeerConnection({ iceServers: o.iceServers ?? [] });
  let signalling: Signalling | undefined;
  try {
    const dc = pc.createDataChannel(CHANNEL, { ordered: true });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const { box, answerKey } = sealOffer(to.did, pc.localDescription!.sdp);
    signalling = await signalOffer(to.signal, to.did, box, signal);
    await pc.setRemoteDescription({ type: 'answer', sdp: openAnswer(answerKey, signalling.answer) });
    // Only now may the tab's own checks (and its DTLS hello behind them) reach us: one arriving
    // while the answer is being applied fails the handshake (libdatachannel: "certificate verify
    // failed", then "Got a remote candidate without ICE transport").
    signalling.ready();
    return await channelLink(pc, dc, `webrtc:${to.did}`, true, signal);
  } catch (err) {
    pc.close();
    throw err;
  } finally {
    signalling?.close();
  }
}

interface Signalling {
  /** The sealed answer. */
  answer: string;
  /** Tells the tab (through the signalling node) that the answer is applied, and hangs up. */
  ready(): void;
  close(): void;
}

/** Sends one sealed offer through a signalling node; resolves with the sealed answer, the
 *  WebSocket still open for `ready`. */
function signalOffer(url: string, did: string, box: string, signal: AbortSignal): Promise<Signalling> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const fail = (why: string) => {
      ws.close();
      reject(new Error(`tab relay ${did.slice(0, 24)}…: ${why}`));
    };
    signal.addEventListener('abort', () => fail('aborted'), { once: true });
    ws.addEventListener('error', () => fail(`cannot reach its signalling node ${url}`));
    ws.addEventListener('close', () => fail('signalling closed'));
    ws.addEventListener('message', (e: MessageEvent) => {
      if (typeof e.data !== 'string' || e.data.length > MAX_SIGNAL_MESSAGE) return fail('bad signalling message');
      let m: SignalMessage;
      try {
        m = JSON.parse(e.data) as SignalMessage;
      } catch {
        return fail('bad signalling message');
      }
      if (m.type === 'challenge') ws.send(JSON.stringify({ type: 'offer', to: did, id: OFFER_ID, box }));
      else if (m.type === 'answer' && typeof m.box === 'string') {
        resolve({
          answer: m.box,
          ready() {
            if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ready', to: did, id: OFFER_ID }));
            ws.close();
          },
          close: () => ws.close(),
        });
      } else if (m.type === 'error') fail(m.error);
    });
  });
}

/** An SDP without its candidates (and end-of-candidates), and those candidates for addIceCandidate. */
export function splitCandidates(sdp: string): { sdp: string; candidates: RTCIceCandidateInit[] } {
  const kept: string[] = [];
  const found: { candidate: string; section: number }[] = [];
  const mids: string[] = [];
  let section = -1;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) section++;
    else if (section >= 0 && line.startsWith('a=mid:')) mids[section] = line.slice('a=mid:'.length);
    if (line.startsWith('a=candidate:')) found.push({ candidate: line.slice(2), section });
    else if (line !== 'a=end-of-candidates') kept.push(line);
  }
  const candidates = found
    .filter((c) => c.section >= 0)
    .map((c) => ({ candidate: c.candidate, sdpMLineIndex: c.section, ...(mids[c.section] !== undefined ? { sdpMid: mids[c.section]! } : {}) }));
  return { sdp: kept.join('\r\n'), candidates };
}
