// BEP 14 local service discovery: torrents announced by multicast on the LAN, peers on the LAN
// heard the same way. Platform-free: the sockets are node/lsd-socket.ts behind LsdTransport.
//
// Rates (libtorrent's): a torrent is announced when it starts and every 5 minutes, never more than
// once a minute; several infohashes share one message. What we send is bounded whatever we hear:
// at most one message per SEND_GAP_MS, and a torrent another peer announces is announced back (so
// the newcomer learns of us before our next round) only under the same once-a-minute rule. What we
// hear is bounded too: a budget of messages a second for the whole service and of peers a minute
// per sender, so a flood of BT-SEARCH neither keeps the CPU busy nor makes us dial much.

import { toHex } from '../encoding/hex.ts';
import type { PeerAddress } from '../types.ts';

export const LSD_PORT = 6771;
export const LSD_GROUP4 = '239.192.152.143';
export const LSD_GROUP6 = 'ff15::efc0:988f';

/** libtorrent's local_service_announce_interval. */
export const LSD_INTERVAL_MS = 5 * 60_000;
const MIN_GAP_MS = 60_000;
/** Between two messages we send (2 a second: 10,000 torrents at 16 a message go round in 5 min). */
const SEND_GAP_MS = 500;
/** Infohashes in one message: 16 header lines keep it far below any MTU. */
const HASHES_PER_MESSAGE = 16;
/** A datagram longer than this is no announce (one with 50 infohashes is ~2.7 KB). */
export const MAX_MESSAGE_BYTES = 4096;
/** Infohashes read from one message; the rest are ignored. */
const MAX_HASHES_READ = 50;
/** Messages handled a second (a bucket of this many, refilled each second); the rest are dropped. */
const MESSAGES_PER_SECOND = 50;
/** New peers one sender may give us a minute, every torrent together (repeats cost nothing). */
const PEERS_PER_SENDER_MINUTE = 20;
/** Senders remembered for that budget; past it the oldest are forgotten. */
const MAX_SENDERS = 1024;

/** The sockets: a message to both groups, and messages heard (node/lsd-socket.ts). */
export interface LsdTransport {
  /** Sends one datagram to the IPv4 (4) or IPv6 (6) group on port 6771; failures are silent. */
  send(family: 4 | 6, message: Uint8Array): void;
  /** The families whose socket is open. */
  readonly families: readonly (4 | 6)[];
  close(): void;
}

/** One torrent as the service sees it (Torrent implements it). */
export interface LsdTorrent {
  readonly infoHashHex: string;
  /** Its v1 infohash and, for a hybrid, its truncated v2 one: each is announced. */
  handshakeIds(): Uint8Array[];
  /** Running, and neither private (BEP 27) nor using private discovery. */
  lsdAllowed(): boolean;
  /** A peer heard on the LAN; whether it was new to the torrent. */
  lsdPeer(addr: PeerAddress): boolean;
}

export interface LsdCounters {
  lsdSent: number;
  lsdReceived: number;
  lsdDropped: number;
  lsdPeers: number;
  /** The hosts peers were learned from, each once, the last PEER_HOSTS_KEPT (newest last): what an
   *  operator (or a test) reads to tell a neighbour's announce from a stranger's. */
  lsdPeerHosts: string[];
  /** Peers learned from each host in lsdPeerHosts: a flood is judged by its sender's own count. */
  lsdPeersByHost: Map<string, number>;
}

const PEER_HOSTS_KEPT = 16;

/** Notes `host` as the newest a peer was learned from (kept once, the last PEER_HOSTS_KEPT). */
function notePeerHost(c: LsdCounters, host: string): void {
  const at = c.lsdPeerHosts.indexOf(host);
  if (at >= 0) c.lsdPeerHosts.splice(at, 1);
  c.lsdPeerHosts.push(host);
  c.lsdPeersByHost.set(host, (c.lsdPeersByHost.get(host) ?? 0) + 1);
  if (c.lsdPeerHosts.length > PEER_HOSTS_KEPT) c.lsdPeersByHost.delete(c.lsdPeerHosts.shift()!);
}

export interface LsdMessage {
  port: number;
  /** Lowercase hex, 40 characters each, none all zeros. */
  infoHashes: string[];
  cookie: string | null;
}

/** The message libtorrent sends, with every infohash given. */
export function formatLsdMessage(family: 4 | 6, port: number, infoHashes: readonly string[], cookie: string): string {
  const host = family === 4 ? `${LSD_GROUP4}:${LSD_PORT}` : `[${LSD_GROUP6}]:${LSD_PORT}`;
  return `BT-SEARCH * HTTP/1.1\r\nHost: ${host}\r\nPort: ${port}\r\n${infoHashes.map((h) => `Infohash: ${h}\r\n`).join('')}cookie: ${cookie}\r\n\r\n\r\n`;
}

const HEX40 = /^[0-9a-fA-F]{40}$/;
const ZEROS = '0'.repeat(40);

/** A BT-SEARCH message, or null for anything else (never throws: the bytes come from anyone). */
export function parseLsdMessage(data: Uint8Array): LsdMessage | null {
  if (data.length < 20 || data.length > MAX_MESSAGE_BYTES) return null;
  let text: string;
  try {
    text = new TextDecoder('latin1').decode(data);
  } catch {
    return null;
  }
  const lines = text.split(/\r?\n/);
  if (!/^BT-SEARCH \* HTTP\/1\.[01]$/i.test(lines[0]!.trim())) return null;
  let port = 0;
  let cookie: string | null = null;
  const infoHashes: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break; // the end of the headers
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'port') {
      if (!/^\d{1,5}$/.test(value)) return null;
      port = Number(value);
    } else if (name === 'infohash') {
      const h = value.toLowerCase();
      if (HEX40.test(h) && h !== ZEROS && infoHashes.length < MAX_HASHES_READ && !infoHashes.includes(h)) infoHashes.push(h);
    } else if (name === 'cookie') {
      cookie = value.slice(0, 64).toLowerCase();
    }
  }
  if (!(port > 0 && port < 65536) || infoHashes.length === 0) return null;
  return { port, infoHashes, cookie };
}

export interface LocalDiscoveryOptions {
  /** The TCP port peers should dial (the listen port: on the LAN no gateway maps it). */
  port(): number;
  /** The torrent a 40-hex id names (its infohash or a hybrid's truncated v2 hash). */
  find(hex: string): LsdTorrent | undefined;
  /** Between a torrent's announces; default 5 minutes. Tests make it short; the once-a-minute
   *  floor follows it down when it is shorter. */
  intervalMs?: number;
  counters?: LsdCounters;
  /** Our cookie, 8 hex digits; random when omitted. */
  cookie?: string;
}

interface Entry {
  last: number;
  due: number;
}

export class LocalDiscovery {
  readonly cookie: string;
  private transport: LsdTransport | undefined;
  private readonly opts: LocalDiscoveryOptions;
  private readonly interval: number;
  private readonly minGap: number;
  private readonly counters: LsdCounters;
  private readonly entries = new Map<LsdTorrent, Entry>();
  /** Torrents to announce in the next messages, in order. */
  private readonly queue = new Set<LsdTorrent>();
  private sendTimer: ReturnType<typeof setTimeout> | undefined;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private lastSend = -Infinity;
  private budget = MESSAGES_PER_SECOND;
  private budgetAt = 0;
  private readonly senders = new Map<string, { n: number; since: number }>();
  private closed = false;

  constructor(opts: LocalDiscoveryOptions) {
    this.opts = opts;
    this.interval = Math.max(100, opts.intervalMs ?? LSD_INTERVAL_MS);
    this.minGap = Math.min(MIN_GAP_MS, this.interval);
    this.counters = opts.counters ?? { lsdSent: 0, lsdReceived: 0, lsdDropped: 0, lsdPeers: 0, lsdPeerHosts: [], lsdPeersByHost: new Map() };
    this.cookie = opts.cookie ?? Math.floor(Math.random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  }

  /** The sockets, once open; announces queued before go out then. */
  attach(transport: LsdTransport): void {
    this.transport = transport;
    this.kick();
  }

  /** A torrent started: announced now (in line with others) and every interval while it runs. */
  join(t: LsdTorrent): void {
    if (this.closed || this.entries.has(t)) return;
    this.entries.set(t, { last: -Infinity, due: 0 });
    this.queue.add(t);
    this.sweepTimer ??= unref(setInterval(() => this.sweep(), Math.max(50, this.interval / 10)));
    this.kick();
  }

  leave(t: LsdTorrent): void {
    this.entries.delete(t);
    this.queue.delete(t);
    if (this.entries.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** Torrents announced by this service now. */
  get size(): number {
    return this.entries.size;
  }

  /** A datagram from `from` (an IP address) on port 6771. Never throws. */
  receive(data: Uint8Array, from: string): void {
    try {
      this.handle(data, from);
    } catch {
      this.counters.lsdDropped++;
    }
  }

  private handle(data: Uint8Array, from: string): void {
    const c = this.counters;
    c.lsdReceived++;
    const now = Date.now();
    if (now - this.budgetAt >= 1000) {
      this.budget = MESSAGES_PER_SECOND;
      this.budgetAt = now;
    }
    if (this.closed || this.budget <= 0) return void c.lsdDropped++;
    this.budget--;
    const m = parseLsdMessage(data);
    if (!m) return void c.lsdDropped++;
    // A scoped IPv6 address (fe80::…%eth0) is no address a peer list can hold: a peer with no other
    // IPv6 address announces over IPv4 too.
    if (from.includes('%') || from === '') return;
    // Ours, looped back by the kernel (libtorrent reads the cookie as a hex number too).
    if (m.cookie !== null && Number.parseInt(m.cookie, 16) === Number.parseInt(this.cookie, 16)) return;
    for (const hex of m.infoHashes) {
      const t = this.opts.find(hex);
      if (!t || !this.entries.has(t) || !t.lsdAllowed()) continue;
      // Only new peers spend the sender's budget: a neighbour repeating what we know costs a lookup.
      const sender = this.sender(from, now);
      if (sender.n >= PEERS_PER_SENDER_MINUTE) return void c.lsdDropped++;
      if (t.lsdPeer({ host: from, port: m.port })) {
        c.lsdPeers++;
        notePeerHost(c, from);
        sender.n++;
      }
      // Announce it back, so the newcomer need not wait for our next round (once a minute at most).
      const e = this.entries.get(t)!;
      if (now - e.last >= this.minGap && !this.queue.has(t)) {
        this.queue.add(t);
        this.kick();
      }
    }
  }

  /** What `from` gave us this minute. */
  private sender(from: string, now: number): { n: number; since: number } {
    let s = this.senders.get(from);
    if (!s || now - s.since >= 60_000) {
      this.senders.delete(from);
      if (this.senders.size >= MAX_SENDERS) this.senders.delete(this.senders.keys().next().value!);
      this.senders.set(from, (s = { n: 0, since: now }));
    }
    return s;
  }

  /** Torrents whose interval is up join the queue. */
  private sweep(): void {
    const now = Date.now();
    let any = false;
    for (const [t, e] of this.entries) {
      if (e.due <= now && !this.queue.has(t)) {
        this.queue.add(t);
        any = true;
      }
    }
    if (any) this.kick();
  }

  private kick(): void {
    if (this.closed || this.sendTimer || this.queue.size === 0 || !this.transport) return;
    const wait = Math.max(0, this.lastSend + SEND_GAP_MS - Date.now());
    this.sendTimer = unref(setTimeout(() => this.flush(), wait));
  }

  /** One message: the first torrents in the queue that may be announced now. */
  private flush(): void {
    this.sendTimer = undefined;
    const transport = this.transport;
    if (this.closed || !transport) return;
    const now = Date.now();
    const hashes: string[] = [];
    for (const t of this.queue) {
      if (hashes.length >= HASHES_PER_MESSAGE) break;
      this.queue.delete(t);
      const e = this.entries.get(t);
      if (!e) continue;
      if (!t.lsdAllowed()) {
        // Private after all (a magnet's metadata said so), or stopping: asked again next interval.
        e.due = now + this.interval;
        continue;
      }
      if (now - e.last < this.minGap) {
        e.due = e.last + this.minGap;
        continue;
      }
      e.last = now;
      e.due = now + this.interval;
      for (const id of t.handshakeIds()) {
        const hex = toHex(id);
        if (!hashes.includes(hex)) hashes.push(hex);
      }
    }
    if (hashes.length > 0) {
      const port = this.opts.port();
      for (const family of transport.families) {
        transport.send(family, new TextEncoder().encode(formatLsdMessage(family, port, hashes, this.cookie)));
        this.counters.lsdSent++;
      }
      this.lastSend = now;
    }
    this.kick();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.sendTimer);
    clearInterval(this.sweepTimer);
    this.sendTimer = this.sweepTimer = undefined;
    this.entries.clear();
    this.queue.clear();
    this.senders.clear();
    this.transport?.close();
    this.transport = undefined;
  }
}

function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
