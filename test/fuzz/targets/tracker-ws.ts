// WebTorrent's WebSocket tracker protocol (packages/tracker/src/ws/ws.ts) against a real tracker on
// 127.0.0.1: JSON announces with offers, answers and scrapes, mutated as structures and as text.
// The handler answers a client's mistake with a `failure reason`; "internal error" means it threw
// something it did not mean to. After each input a scrape is sent as a marker, so the input's
// answers have all arrived once the marker's has; no marker answer in 5 s is a finding.
// Input: one byte (bits 0-1 connection, bit 2 send as a binary frame, bit 3 reconnect first),
// then the message.

import { WebSocket } from 'ws';
import { startTracker, type RunningTracker } from '../../../packages/tracker/index.ts';
import { Rng } from '../lib/rng.ts';
import { concat } from '../lib/mutate.ts';
import { HOT_HASHES } from '../lib/tracker-parts.ts';
import { ACCEPTED, REJECTED, finding, type Outcome, type Target } from '../lib/target.ts';

let tracker: RunningTracker | undefined;
const conns: (Conn | undefined)[] = [];
let marker = 0;

interface Conn { ws: WebSocket; inbox: string[]; closed: boolean; wake: () => void }

async function open(): Promise<Conn> {
  const ws = new WebSocket(tracker!.wsAnnounceUrl!);
  const c: Conn = { ws, inbox: [], closed: false, wake: () => {} };
  ws.on('message', (d) => (c.inbox.push(String(d)), c.wake()));
  ws.on('close', () => ((c.closed = true), c.wake()));
  ws.on('error', () => ((c.closed = true), c.wake()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return c;
}

const bin = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const PEERS = [0, 1, 2, 3].map((i) => bin(new Uint8Array(20).fill(0x41 + i)));

/** Resolves true when the marker's answer arrives, false after 5 s or when the socket closes. */
function waitForMarker(c: Conn, mark: string): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), 5000);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      c.wake = () => {};
      // One more turn, so answers written in the same tick as the marker's are in the inbox too.
      setImmediate(() => resolve(ok));
    };
    c.wake = () => {
      if (c.inbox.some((m) => m.includes(mark))) finish(true);
      else if (c.closed) finish(false);
    };
    c.wake();
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
function validUtf8(b: Uint8Array): boolean {
  try {
    strictUtf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

async function run(input: Uint8Array): Promise<Outcome> {
  if (input.length === 0) return REJECTED;
  const flags = input[0]!;
  const i = flags & 3;
  let c = conns[i];
  if (!c || c.closed || flags & 8) {
    c?.ws.terminate();
    c = conns[i] = await open();
  }
  c.inbox = [];
  const payload = Buffer.from(input.subarray(1));
  c.ws.send(payload, { binary: (flags & 4) !== 0 });
  // The marker's hash is unique to this input; its answer is keyed by it.
  const mark = `fz${(++marker).toString(36).padStart(18, '0')}`;
  c.ws.send(JSON.stringify({ action: 'scrape', info_hash: mark }));
  const answered = await waitForMarker(c, JSON.stringify(mark).slice(1, -1));
  if (c.closed) {
    // Frames over the 128 KiB limit, or text frames that are not UTF-8, close the socket: that is
    // the WebSocket layer doing its job.
    const text = (flags & 4) === 0;
    return payload.length > 128 * 1024 || (text && !validUtf8(payload)) ? REJECTED : finding('tracker closed the WebSocket', 'ws closed');
  }
  if (!answered) return finding('no answer to the marker scrape within 5 s', 'ws no answer');
  const mine = c.inbox.filter((m) => !m.includes(JSON.stringify(mark).slice(1, -1)));
  if (mine.some((m) => m.includes('"internal error"'))) return finding('internal error', 'ws internal error');
  return mine.some((m) => m.includes('failure reason')) ? REJECTED : ACCEPTED;
}

function message(rng: Rng, conn: number): unknown {
  const ih = rng.chance(0.8) ? bin(Buffer.from(rng.pick(HOT_HASHES), 'hex')) : rng.pick([bin(rng.bytes(20)), 'short', 'é'.repeat(20), '\u0100'.repeat(20), 5, null]);
  const peer = rng.chance(0.9) ? PEERS[conn] : rng.pick([bin(rng.bytes(20)), '', [], 1e400]);
  const r = rng.int(10);
  if (r < 5) {
    const offer = () => ({
      offer: rng.chance(0.9) ? { type: 'offer', sdp: 'v=0 fuzz' } : 'x',
      offer_id: rng.chance(0.9) ? bin(rng.bytes(20)) : rng.pick(['x'.repeat(65), 5]),
    });
    const offers = Array.from({ length: rng.chance(0.05) ? 50 : rng.small(10) }, offer);
    return {
      action: 'announce',
      info_hash: ih,
      peer_id: peer,
      numwant: rng.pick([0, 5, -1, 1e9, 'x']),
      uploaded: rng.pick([0, -1, '12', 1e308, 'NaN']),
      downloaded: 0,
      left: rng.pick([0, 1, -5, '', null]),
      event: rng.pick(['started', 'completed', 'stopped', 'paused', undefined, 5]),
      offers: rng.chance(0.9) ? offers : { length: 3 },
    };
  }
  if (r < 7) {
    const answer = rng.chance(0.8) ? { type: 'answer', sdp: 'v=0' } : 'x';
    const to = rng.chance(0.7) ? rng.pick(PEERS) : 'x';
    return { action: 'announce', info_hash: ih, peer_id: peer, to_peer_id: to, answer, offer_id: rng.chance(0.9) ? bin(rng.bytes(20)) : 7 };
  }
  if (r < 9) {
    const many = Array.from({ length: rng.chance(0.05) ? 101 : rng.small(5) }, () => (rng.chance(0.9) ? ih : 5));
    return { action: 'scrape', info_hash: rng.chance(0.5) ? ih : many };
  }
  return rng.pick([{ action: 'x' }, [], 'announce', null, { action: 'announce' }, { action: { toString: 1 } }, 12]);
}

function fresh(rng: Rng): Uint8Array {
  const flags = rng.int(4) | (rng.chance(0.05) ? 4 : 0) | (rng.chance(0.01) ? 8 : 0);
  return concat(new Uint8Array([flags]), Buffer.from(JSON.stringify(message(rng, flags & 3)) ?? 'null'));
}

async function healthy(): Promise<string | undefined> {
  try {
    const c = await open();
    const ids = { info_hash: bin(new Uint8Array(20).fill(0xee)), peer_id: bin(new Uint8Array(20).fill(0xef)) };
    c.ws.send(JSON.stringify({ action: 'announce', ...ids, numwant: 0, left: 0, offers: [] }));
    const ok = await waitForMarker(c, '"interval"');
    c.ws.terminate();
    return ok ? undefined : 'tracker stopped answering WebSocket announces';
  } catch (err) {
    return `tracker stopped accepting WebSocket connections: ${(err as Error).message}`;
  }
}

export const target: Target = {
  name: 'tracker-ws',
  batch: 500,
  hangMs: 60_000,
  mutateOptions: {
    protectPrefix: 1,
    maxLen: 200 * 1024,
    dict: ['{', '}', '[', ']', '"', ':', ',', 'null', '1e999', '-0', '"action":"announce"', '"offers":', '"answer":', '\\u0000', '\\ud800', '"info_hash":'],
  },
  seeds: () => {
    const rng = new Rng(21);
    return Array.from({ length: 12 }, () => fresh(rng));
  },
  fresh,
  setup: async () => {
    tracker = await startTracker({ host: '127.0.0.1', ws: true, rateLimit: false, interval: 60 });
  },
  teardown: async () => {
    for (const c of conns.splice(0)) c?.ws.terminate();
    await tracker?.close();
    tracker = undefined;
  },
  healthy,
  run,
};
