// BEP 10 extension payloads (packages/engine/src/wire/extended.ts) and the BEP 9 metadata exchange
// (packages/engine/src/swarm/metadata.ts) driven with a stand-in peer. Clean errors: BencodeError
// and the plain Errors the decoders throw on purpose (the peer layer turns both into a closed
// connection); a TypeError or RangeError from inside is a finding.
// Mode 5: BEP 55 ut_holepunch messages from one peer to a torrent's Holepunch (swarm/holepunch.ts)
// among four peers: whatever comes, it answers only with well-formed connect or error messages,
// acts on at most its budget (5 rendezvous, 3 dials, the clock standing still) and dials only
// addresses with a port.
// Input: one mode byte, then either one payload (modes 0-2) or [u16 length][payload] messages.

import { BencodeError, encode } from '../../../packages/engine/src/encoding/bencode.ts';
import { decodeExtHandshake, decodeMetadata, decodePex, encodeMetadata, METADATA_PIECE } from '../../../packages/engine/src/wire/extended.ts';
import { MetadataExchange } from '../../../packages/engine/src/swarm/metadata.ts';
import { Holepunch } from '../../../packages/engine/src/swarm/holepunch.ts';
import { decodeHolepunch, encodeHolepunch, HP_CONNECT, HP_ERROR } from '../../../packages/engine/src/wire/holepunch.ts';
import type { PeerAddress } from '../../../packages/engine/src/types.ts';
import type { Peer } from '../../../packages/engine/src/swarm/peer.ts';
import { sha1 } from '../../../packages/engine/src/hashing/sha1.ts';
import { toHex } from '../../../packages/engine/src/encoding/hex.ts';
import { Rng } from '../lib/rng.ts';
import { concat } from '../lib/mutate.ts';
import { check, judge, type Target } from '../lib/target.ts';

const INFO = encode({ length: 123456, name: 'metadata-fuzz', 'piece length': 16384, pieces: new Rng(3).bytes(8 * 20), pad: new Rng(4).bytes(30000) });
const INFO_HEX = toHex(sha1(INFO));
const PIECES = Math.ceil(INFO.length / METADATA_PIECE);


function messages(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < b.length; ) {
    const n = p + 1 < b.length ? (b[p]! << 8) | b[p + 1]! : 0;
    out.push(b.subarray(p + 2, p + 2 + n));
    p += 2 + n;
  }
  return out;
}

function fakePeer(sent: Uint8Array[], destroyed: string[], metadataSize: number): Peer {
  return {
    ext: { m: { ut_metadata: 1 }, metadataSize },
    closed: false,
    sendExtended: (name: string, payload: Uint8Array) => {
      check(name === 'ut_metadata', `sent a ${name} message`);
      sent.push(payload.slice());
    },
    destroy: (reason: string) => void destroyed.push(reason),
  } as unknown as Peer;
}

/** Feeds messages to a MetadataExchange; `serving` = it has the info dict and answers requests. */
function exchange(msgs: Uint8Array[], serving: boolean): void {
  const sent: Uint8Array[] = [];
  const destroyed: string[] = [];
  let completed: Uint8Array | undefined;
  // Once the fetched bytes hash right, the exchange serves them like a seeder would.
  const has = () => serving || completed !== undefined;
  const x = new MetadataExchange(INFO_HEX, serving ? INFO : undefined, (info) => (completed = info));
  // A 4-byte first message is the metadata_size this peer claims (default: the true size).
  const size = msgs.length > 0 && msgs[0]!.length === 4 ? new DataView(msgs[0]!.buffer, msgs[0]!.byteOffset).getUint32(0) : INFO.length;
  const peer = fakePeer(sent, destroyed, size);
  x.peerReady(peer);
  for (const b of sent) {
    const r = decodeMetadata(b);
    check(!serving && r.type === 'request' && r.piece >= 0 && r.piece < Math.ceil(size / METADATA_PIECE), 'first requests out of range');
  }
  for (const m of msgs) {
    const before = sent.length;
    let req: ReturnType<typeof decodeMetadata> | undefined;
    try {
      req = decodeMetadata(m);
    } catch {}
    try {
      x.handle(peer, m);
    } catch (err) {
      if (err instanceof BencodeError || (err as Error).constructor === Error) continue;
      throw err;
    }
    const answers = sent.slice(before).map((b) => decodeMetadata(b));
    if (req?.type !== 'request') {
      for (const a of answers) {
        check(!has() && a.type === 'request' && a.piece >= 0 && a.piece < Math.ceil(size / METADATA_PIECE), 'sent something other than an in-range request');
      }
      continue;
    }
    check(answers.length === 1 && answers[0]!.piece === req.piece, 'a request got no answer, or one for another piece');
    const ans = answers[0]!;
    const off = req.piece * METADATA_PIECE;
    if (ans.type === 'data') {
      check(has() && off < INFO.length && ans.totalSize === INFO.length, 'served a piece it does not have');
      check(Buffer.compare(ans.data, INFO.subarray(off, off + METADATA_PIECE)) === 0, 'served the wrong bytes');
    } else check(ans.type === 'reject' && (!has() || off >= INFO.length), 'rejected a piece it has');
  }
  if (completed) check(toHex(sha1(completed)) === INFO_HEX, 'completed with bytes that do not hash to the infohash');
}

/** Mode 5: messages from `from` to a Holepunch among four peers (one without ut_holepunch). */
function holepunch(msgs: Uint8Array[]): void {
  const sent: { to: string; payload: Uint8Array }[] = [];
  const dials: PeerAddress[] = [];
  const peer = (key: string, transport: string, m: Record<string, number>, port?: number) =>
    ({ key, address: key, closed: false, outgoing: false, remoteId: new Uint8Array(20), conn: { transport }, ext: { m, port }, sendExtended: (name: string, payload: Uint8Array) => {
      check(name === 'ut_holepunch', `sent a ${name} message`);
      sent.push({ to: key, payload: payload.slice() });
    } }) as unknown as Peer;
  const from = peer('127.0.0.1:40001', 'utp', { ut_holepunch: 3 });
  const peers = [from, peer('127.0.0.1:40002', 'utp', { ut_holepunch: 3 }), peer('10.0.0.3:40003', 'tcp', {}, 40003), peer('[fd00::4]:50000', 'tcp', { ut_holepunch: 4 }, 40004)];
  const hp = new Holepunch({ peers: () => peers, busy: () => false, isBanned: () => false, dial: (a) => void dials.push(a), log: () => {}, counts: undefined, now: () => 1000 });
  for (const m of msgs) {
    const before = sent.length;
    const r = decodeHolepunch(m);
    hp.message(from, m);
    if (r) check(encodeHolepunch(r).length >= 8, 'a decoded message does not encode');
    for (const s of sent.slice(before)) {
      const d = decodeHolepunch(s.payload);
      check(!!d && (d.type === HP_CONNECT || d.type === HP_ERROR) && s.payload.length === (d.addr.host.includes(':') ? 24 : 12), 'sent a malformed or unexpected ut_holepunch message');
    }
  }
  check(sent.filter((s) => s.to === from.key).length <= 5, 'answered more rendezvous than its budget');
  check(dials.length <= 3 && dials.every((a) => a.port > 0), 'dialled past its budget, or port 0');
}

function runOne(input: Uint8Array): void {
  if (input.length === 0) return;
  // Six modes; the stored corpus only has first bytes 0-4, which mean what they meant with five.
  const mode = input[0]! % 6;
  const rest = input.subarray(1);
  if (mode === 0) {
    const h = decodeExtHandshake(rest);
    for (const v of Object.values(h.m)) check(Number.isInteger(v) && v >= 0 && v <= 255, 'extension id out of range');
    for (const v of [h.metadataSize, h.port, h.reqq]) check(v === undefined || (typeof v === 'number' && v >= 0), 'negative or non-number field');
  } else if (mode === 1) {
    const { added, dropped } = decodePex(rest);
    for (const p of [...added, ...dropped]) {
      check(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(p.host) && p.host.split('.').every((x) => Number(x) <= 255), 'bad pex host');
      check(Number.isInteger(p.port) && p.port > 0 && p.port <= 65535, 'bad pex port');
    }
    check(added.length <= 200 && dropped.length <= 200, 'pex list not capped');
  } else if (mode === 2) {
    const m = decodeMetadata(rest);
    check(Number.isSafeInteger(m.piece) && m.piece >= 0, 'bad metadata piece');
  } else if (mode === 5) holepunch(messages(rest));
  else exchange(messages(rest), mode === 4);
}

const frameAll = (msgs: Uint8Array[]) => concat(...msgs.map((m) => concat(new Uint8Array([m.length >> 8, m.length & 0xff]), m.subarray(0, 0xffff))));

function fresh(rng: Rng): Uint8Array {
  const mode = rng.int(6);
  if (mode === 5) {
    const hosts = ['127.0.0.1', '127.0.0.1', '10.0.0.3', 'fd00::4', '0.0.0.0', '::', '239.1.2.3', '198.18.0.9'];
    const msgs: Uint8Array[] = [];
    for (let i = rng.small(12) + 1; i > 0; i--) {
      const addr = { host: rng.pick(hosts), port: rng.pick([40001, 40002, 40003, 40004, 50000, 0, 6881]) };
      msgs.push(encodeHolepunch({ type: rng.pick([0, 0, 0, 1, 2] as const), addr, error: rng.pick([0, 1, 4, 0xffffffff]) }).subarray(0, rng.chance(0.9) ? undefined : rng.small(24)));
    }
    return concat(new Uint8Array([5]), frameAll(msgs));
  }
  const anyPiece = () => rng.chance(0.8) ? rng.int(PIECES + 1) : rng.pick([-1, 2 ** 31, 2 ** 53, 18446744073709551616n]);
  if (mode === 0) {
    const m = { ut_metadata: rng.pick([1, 0, 255, 256, -1, 'x']), ut_pex: 2, lt_donthave: 7 };
    const h = { m, metadata_size: rng.pick([0, 1, 123456, 2 ** 40, -5]), p: rng.pick([6881, 0, 70000, -1]), v: 'Fuzz', reqq: rng.pick([0, 500, 2 ** 31]) };
    return concat(new Uint8Array([0]), encode(h));
  }
  if (mode === 1) {
    const pex = { added: rng.bytes(rng.pick([0, 6, 12, 7, 1206, 1300])), 'added.f': new Uint8Array(2), dropped: rng.bytes(rng.small(30)) };
    return concat(new Uint8Array([1]), encode(pex));
  }
  if (mode === 2) {
    const type = rng.pick(['request', 'reject', 'data'] as const);
    return concat(new Uint8Array([2]), encodeMetadata({ type, piece: rng.int(5), totalSize: 100, data: rng.bytes(rng.small(100)) }));
  }
  const msgs: Uint8Array[] = [];
  if (rng.chance(0.2)) msgs.push(new Uint8Array(new Uint32Array([rng.pick([1, 16384, 16385, INFO.length, 2 ** 25 + 1])]).buffer).reverse());
  const n = rng.small(PIECES * 2) + 1;
  for (let i = 0; i < n; i++) {
    const piece = rng.chance(0.7) ? i % (PIECES + 1) : (anyPiece() as number);
    const kind = mode === 4 ? 0 : rng.pick([1, 1, 1, 2, 0]);
    const off = Number(piece) * METADATA_PIECE;
    const data = rng.chance(0.9) && off >= 0 && off < INFO.length ? INFO.subarray(off, off + METADATA_PIECE) : rng.bytes(rng.small(METADATA_PIECE + 1));
    const head = encode({ msg_type: kind, piece, ...(kind === 1 ? { total_size: rng.chance(0.9) ? INFO.length : rng.pick([0, -1, INFO.length + 1]) } : {}) });
    msgs.push(kind === 1 ? concat(head, data) : head);
  }
  return concat(new Uint8Array([mode]), frameAll(msgs));
}

export const target: Target = {
  name: 'extended',
  minimize: true,
  mutateOptions: {
    binary: true,
    protectPrefix: 1,
    maxLen: 256 * 1024,
    dict: ['i0e', 'i-1e', 'e', 'd', '8:msg_type', '5:piecei', '10:total_size', '5:added', '1:md', 'i256e'],
  },
  seeds: () => [0, 1, 2, 3, 4, 3, 4, 5, 5].map((m, i) => {
    const rng = new Rng(100 + i);
    for (;;) {
      const f = fresh(rng);
      if (f[0] === m) return f;
    }
  }),
  fresh,
  run: (input) => judge(() => runOne(input), (e) => e instanceof BencodeError || (e as Error)?.constructor === Error),
};
