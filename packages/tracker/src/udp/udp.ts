// BEP 15 UDP tracker, with BEP 41 URL data so private-mode passkeys work over UDP too.
// Connection ids are MACs of the client's address (see connection-id.ts), so announces from
// spoofed addresses are refused without keeping per-client state.
// The same port answers STUN binding requests (stun.ts), told apart by STUN's magic cookie.
// Datagrams come and go through a transport (transport.ts): batched on Linux, node:dgram elsewhere.

import { randomBytes } from 'node:crypto';
import { ConnectionIds } from './connection-id.ts';
import type { AnnounceOutcome, ScrapeOutcome, TrackerCore } from '../core/core.ts';
import { familyOf, normalizeIp, peerHost, writeCompactPeers } from '../core/peers.ts';
import { trackerPath } from '../http/query.ts';
import type { RateLimiter } from '../core/rate-limit.ts';
import { then } from '../store/store.ts';
import type { AnnounceInput, CompactSink } from '../store/store.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { DgramTransport } from './transport-dgram.ts';
import { MmsgTransport, mmsgAddon } from './transport-mmsg.ts';
import type { UdpHandler, UdpIo, UdpRemote, UdpTransport } from './transport.ts';
import { isStunMessage, stunAddress, stunAnswer } from '../ice/stun.ts';
import type { StunAddress } from '@cascade/reachability/stun-message';
import { MAGIC_COOKIE } from '@cascade/reachability/stun-message';

export interface UdpOptions {
  core: TrackerCore;
  limiter: RateLimiter;
  /** How datagrams move (transport.ts). Default 'auto': batched where the addon is built. */
  io?: UdpIo;
  /** Another transport, made from the handler (the fuzzer's, which sends nothing). */
  transport?: (onMessage: UdpHandler) => UdpTransport;
}

export interface UdpServer {
  /** The transport in use. */
  readonly io: 'mmsg' | 'dgram';
  listen(port: number, host: string): Promise<void>;
  /** The bound port (after listen). */
  readonly port: number;
  close(): Promise<void>;
}

const STUN_COOKIE_BYTE = MAGIC_COOKIE >>> 24;
const PROTOCOL_ID_HI = 0x417;
const PROTOCOL_ID_LO = 0x27101980;
const CONNECT = 0;
const ANNOUNCE = 1;
const SCRAPE = 2;
const ERROR = 3;
const EVENTS = [undefined, 'completed', 'started', 'stopped'] as const;
// Largest legitimate request: a scrape of 74 hashes (16 + 74*20); announces with BEP 41 options
// stay well under it. Anything bigger is dropped unread.
const MAX_PACKET = 16 + 74 * 20;
const MAX_SCRAPE = 74;
const BAD_ID = 'invalid connection id';
// Keeps a reply under the 1500-byte Ethernet MTU even with IPv6 peers (20 + 74*18).
const MAX_UDP_PEERS = 74;

export function createUdpServer(opts: UdpOptions): UdpServer {
  const { core, limiter } = opts;
  const metrics = core.metrics;
  // RFC 5780's RESPONSE-ORIGIN: the address STUN answers leave from. Unknown for a wildcard bind
  // (the kernel picks the source per reply), so then left out rather than named 0.0.0.0.
  let origin: StunAddress | undefined;
  const ids = new ConnectionIds(randomBytes(8));

  // Every reply is built in a scratch buffer and copied out by the transport, which sends them
  // together. Announce replies are built in `scratch` (the store writes the peers there itself).
  const scratch = Buffer.alloc(Math.max(20 + MAX_UDP_PEERS * 18, 8 + 12 * MAX_SCRAPE, 8 + MAX_PACKET));
  const sink: CompactSink = { buf: scratch, offset: 20, family: 4 };
  // An announce object is reused unless the store kept it (answered later: a promise).
  let spare: UdpAnnounce | undefined;
  // A store that answers later may read the request after the transport reused its bytes.
  const keepsRequests = !(core.store instanceof MemoryStore);

  const onMessage = (msg: Buffer, r: UdpRemote): void => {
    try {
      const copy = transport.reusesBuffers && keepsRequests;
      const done = handle(copy ? Buffer.from(msg) : msg, copy ? keepRemote(r) : r);
      // A store failure (Redis down) loses one reply; the client retransmits.
      if (done instanceof Promise) done.catch(noop);
    } catch {
      metrics.udpDropped++;
    }
  };
  const transport = opts.transport ? opts.transport(onMessage) : createTransport(opts.io ?? 'auto', onMessage, (n) => (metrics.udpDropped += n));
  metrics.udpIo = transport.io;
  // Replies built in the transport's own send ring, where it offers that.
  const replies = transport.replyRing && transport.reserve && transport.commit ? transport.replyRing : undefined;
  const send = (b: Buffer, length: number, r: UdpRemote) => transport.send(b, length, r);

  // An error reply is never larger than the request that caused it, proven sender or not (the
  // text is cut to fit): errors are the one reply an attacker can provoke at will.
  const error = (tid: number, message: string, r: UdpRemote, requestLength: number) => {
    metrics.failures.udp++;
    const b = scratch;
    b.writeUInt32BE(ERROR, 0);
    b.writeUInt32BE(tid, 4);
    const n = Math.min(b.write(message, 8), Math.max(0, requestLength - 8));
    send(b, 8 + n, r);
  };

  const onAnnounce = (msg: Buffer, r: UdpRemote, tid: number, now: number) => {
    if (msg.length < 98) return error(tid, 'announce packet too short', r, msg.length);
    const eventCode = msg.readUInt32BE(80);
    if (eventCode > 3) return error(tid, 'invalid event', r, msg.length);
    const claimedIp = msg.readUInt32BE(84);
    const urlData = msg.length > 98 ? bep41UrlData(msg, 98) : '';
    const passkey = urlData ? trackerPath(urlData.split('?')[0]!)?.passkey : undefined;
    const family = r.family === 'IPv4' || familyOf(normalizeIp(r.address)) !== 6 ? 4 : 6;
    const asked = msg.readInt32BE(92);
    const a = spare ?? new UdpAnnounce();
    spare = undefined;
    a.peerId = a.infoHash = msg;
    const own = normalizeIp(r.address);
    a.host = claimedIp ? peerHost(r.address, ipv4(claimedIp)) : own;
    // The sender's address bytes as the transport read them, unless the request named another.
    a.hostBytes = a.host === own ? r.bytes : undefined;
    a.hostBytesOffset = r.bytesOffset ?? 0;
    // Port 0 is a look-up, answered and not listed (TrackerCore.stored).
    a.port = msg.readUInt16BE(96);
    a.left = u64(msg, 64);
    a.uploaded = u64(msg, 72);
    a.downloaded = u64(msg, 56);
    a.event = EVENTS[eventCode];
    a.numwant = Math.min(core.numwant(asked < 0 ? undefined : asked), MAX_UDP_PEERS);
    a.passkey = passkey;
    a.now = now;
    a.compact = true;
    sink.family = family;
    // A batched transport's next reply slot, where a store that answers now writes the peers and
    // answer() the rest: the reply is never copied.
    const at = replies ? transport.reserve!() : 0;
    sink.buf = replies ?? scratch;
    sink.offset = at + 20;
    a.into = sink;
    const outcome = core.announce(a, 'udp');
    if (outcome instanceof Promise) return outcome.then((out) => answer(out, tid, r, family, msg.length, -1));
    spare = a;
    return answer(outcome, tid, r, family, msg.length, replies ? at : -1);
  };

  /** `at`: where in `replies` the sink was (the reply is built there), or -1 (in scratch). */
  const answer = (out: AnnounceOutcome, tid: number, r: UdpRemote, family: 4 | 6, requestLength: number, at: number) => {
    if (!out.ok) return error(tid, out.reason, r, requestLength);
    // BEP 15: the peer list's family is the family of the request.
    const b = at >= 0 ? replies! : scratch;
    const o = at >= 0 ? at : 0;
    b.writeUInt32BE(ANNOUNCE, o);
    b.writeUInt32BE(tid, o + 4);
    b.writeUInt32BE(core.interval, o + 8);
    b.writeUInt32BE(out.counts.incomplete, o + 12);
    b.writeUInt32BE(out.counts.complete, o + 16);
    // Peers the store wrote into the sink, then any it gave in another form (Redis, look-ups).
    let n = out.written ?? 0;
    const packed = family === 4 ? out.compact4 : out.compact6;
    if (packed) n += packed.copy(b, o + 20 + n);
    n += writeCompactPeers(out.peers, family, b, o + 20 + n);
    if (at >= 0) transport.commit!(20 + n, r);
    else send(scratch, 20 + n, r);
  };

  const onScrape = (msg: Buffer, r: UdpRemote, tid: number) => {
    const n = Math.floor((msg.length - 16) / 20);
    if (n === 0 || n > MAX_SCRAPE || msg.length !== 16 + n * 20) return error(tid, 'malformed scrape', r, msg.length);
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) hashes.push(msg.toString('hex', 16 + 20 * i, 36 + 20 * i));
    // Answered after the batch (scrapes go through the store's async path): the sender is kept.
    if (transport.reusesBuffers) r = keepRemote(r);
    // No URL data in a scrape (BEP 41 is announce-only), so private trackers cannot scrape over UDP.
    return then(core.scrape(hashes, undefined, 'udp'), (out: ScrapeOutcome) => {
      if (!out.ok) return error(tid, out.reason, r, msg.length);
      const counts = new Map(out.files);
      const b = scratch;
      b.fill(0, 8, 8 + 12 * n);
      b.writeUInt32BE(SCRAPE, 0);
      b.writeUInt32BE(tid, 4);
      // Answers follow the request's order; hashes we don't report read as zeros.
      hashes.forEach((h, i) => {
        const c = counts.get(h);
        if (!c) return;
        b.writeUInt32BE(c.complete, 8 + 12 * i);
        b.writeUInt32BE(c.downloaded, 12 + 12 * i);
        b.writeUInt32BE(c.incomplete, 16 + 12 * i);
      });
      send(b, 8 + 12 * n, r);
    });
  };

  const handle = (msg: Buffer, r: UdpRemote): unknown => {
    if (msg.length < 16 || msg.length > MAX_PACKET) return metrics.udpDropped++;
    // The clock once per datagram: the limiter, the connection id, the counters and the store all
    // read it.
    const now = Date.now();
    // Dropped, not answered: an error reply to a spoofed flood would be an amplifier.
    if (!limiter.allow(r.address, now)) return metrics.rateLimited.udp++;
    // Before any BEP 15 field is read: a STUN message is a whole other protocol. (Its cookie's
    // first byte first: no id we issue carries the whole cookie, most not even that byte.)
    if (msg[4] === STUN_COOKIE_BYTE && isStunMessage(msg)) {
      const answer = stunAnswer(msg, r, origin);
      if (!answer) return metrics.udpDropped++;
      metrics.stunAnswers++;
      return send(answer, answer.length, r);
    }
    const action = msg.readUInt32BE(8);
    const tid = msg.readUInt32BE(12);

    if (action === CONNECT) {
      if (msg.readUInt32BE(0) !== PROTOCOL_ID_HI || msg.readUInt32BE(4) !== PROTOCOL_ID_LO) return metrics.udpDropped++;
      metrics.udpConnects++;
      const b = scratch;
      b.writeUInt32BE(CONNECT, 0);
      b.writeUInt32BE(tid, 4);
      ids.write(b, 8, r.address, r.port);
      return send(b, 16, r);
    }
    if (!ids.check(msg, r.address, r.port, now)) {
      // The source is unverified here: answer only when the whole reason fits in the request's
      // size, so a spoofed packet cannot make us an amplifier.
      if (msg.length < 8 + BAD_ID.length) return metrics.udpDropped++;
      return error(tid, BAD_ID, r, msg.length);
    }
    if (action === ANNOUNCE) return onAnnounce(msg, r, tid, now);
    if (action === SCRAPE) return onScrape(msg, r, tid);
    return error(tid, 'unknown action', r, msg.length);
  };

  return {
    io: transport.io,
    async listen(port: number, host: string) {
      await transport.listen(port, host);
      const a = transport.address();
      if (a.address !== '0.0.0.0' && a.address !== '::') origin = stunAddress(a.address, a.port);
    },
    get port() {
      return transport.address().port;
    },
    close: () => transport.close(),
  };
}

/**
 * The transport for `io`; 'mmsg' throws where its addon is not built. `onDropped` hears of replies
 * the kernel refused (its send buffer full).
 */
export function createTransport(io: UdpIo, onMessage: UdpHandler, onDropped: (n: number) => void): UdpTransport {
  if (io === 'dgram') return new DgramTransport(onMessage);
  const addon = mmsgAddon();
  if (addon) return new MmsgTransport(addon, onMessage, onDropped);
  if (io === 'mmsg') throw new Error('udp io mmsg: the addon is not built (node packages/tracker/native/build.js; Linux only)');
  return new DgramTransport(onMessage);
}

/**
 * An announce read from a datagram. The memory store reads the infohash and peer id bytes in
 * place; their hex forms (for the Redis store, private-mode checks) are made only when asked for.
 */
class UdpAnnounce implements AnnounceInput {
  peerId: Buffer = EMPTY;
  readonly peerIdOffset = 36;
  infoHash: Buffer = EMPTY;
  readonly infoHashOffset = 16;
  readonly kind = 'ip' as const;
  readonly owner = '';
  compact = true;
  into: CompactSink | undefined = undefined;
  host = '';
  hostBytes: Uint8Array | undefined = undefined;
  hostBytesOffset = 0;
  port = 0;
  left = 0;
  uploaded = 0;
  downloaded = 0;
  event: AnnounceInput['event'] = undefined;
  numwant = 0;
  now = 0;
  passkey: string | undefined = undefined;
  get infoHashHex(): string {
    return this.infoHash.toString('hex', 16, 36);
  }
  get peerIdHex(): string {
    return this.peerId.toString('hex', 36, 56);
  }
}

/** A sender's fields in an object of its own, for a reply sent after its batch (UdpHandler). */
function keepRemote(r: UdpRemote): UdpRemote {
  return { address: r.address, family: r.family, port: r.port, size: r.size };
}

/** BEP 41: options after the announce; type 2 carries pieces of the announce URL's path and query. */
function bep41UrlData(msg: Buffer, off: number): string {
  let out = '';
  while (off < msg.length) {
    const type = msg[off]!;
    if (type === 0) break;
    if (type === 1) {
      off++;
      continue;
    }
    if (off + 1 >= msg.length) break;
    const len = msg[off + 1]!;
    if (type === 2) out += msg.toString('latin1', off + 2, Math.min(msg.length, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

/** A 64-bit counter as a double, without a BigInt per field. */
function u64(b: Buffer, off: number): number {
  return b.readUInt32BE(off) * 0x1_0000_0000 + b.readUInt32BE(off + 4);
}

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function noop(): void {}

const EMPTY = Buffer.alloc(0);
