// The WebSocket tracker protocol WebTorrent browsers speak (as served by bittorrent-tracker):
// JSON messages whose info_hash / peer_id are 20-character binary (latin1) strings. A browser
// cannot be dialled, so its announce carries WebRTC offers that we forward to other browsers in
// the swarm; their answers come back addressed `to_peer_id` and are forwarded to the offerer.
// Forwarding goes through the store's relay, so under Redis the two browsers may be connected to
// different tracker processes.
// The `ws` package (~15 modules with its native helpers, ~0.04 CPU-s) loads with the first
// WebSocket announce, which waits for it: a node no browser announces to never loads it.

import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer, RawData } from 'ws';
import type { AnnounceOutcome, TrackerCore } from '../core/core.ts';
import type { TrustedProxies } from '../core/proxy.ts';
import { trackerPath } from '../http/query.ts';
import type { RateLimiter } from '../core/rate-limit.ts';
import type { RelayMessage } from '../store/store.ts';
import { LocalWebSocket } from './local-ws.ts';

export interface WsOptions {
  core: TrackerCore;
  limiter: RateLimiter;
  /** This process's id in the relay. */
  owner: string;
  /** Proxies whose X-Forwarded-For names the real client. */
  proxies: TrustedProxies;
}

// WebTorrent sends at most 10 offers per announce; SDP blobs are a few kB each.
const MAX_OFFERS = 10;
const MAX_PAYLOAD = 128 * 1024;
// A browser that does not read its socket stops getting relayed offers rather than growing our memory.
const MAX_BUFFERED = 1024 * 1024;
const PING_MS = 60_000;
// Browsers announce more often than native clients: offers go stale within a minute. A seed that
// sent no offers has none to refresh: it gets the core interval (the peer ttl, 2 × interval + 60 s,
// covers it; its socket closing drops it at once anyway), and leechers' offers reach it in between.
const MAX_WS_INTERVAL = 120;
// A seed of the node's own torrents on the in-process connection, with nothing to offer, is pinned
// in its swarms (it leaves when it stops or the connection closes): a day between re-announces is
// only a check. At 10,000 seeds the core interval kept 5.6 announces a second going for nothing.
const PINNED_SEED_INTERVAL = 86_400;
const EVENTS = new Set(['started', 'completed', 'stopped']);

interface Conn {
  sock: ConnSocket;
  /** The node's own torrents, in-process (connectLocal): not rate limited, never half-open. */
  local: boolean;
  ip: string;
  passkey: string | undefined;
  peerIdHex: string | undefined;
  /** Swarms this socket announced in (hex infohashes): the node's own connection is in every one
   *  of its torrents', so no second string per swarm. */
  swarms: Set<string>;
  alive: boolean;
}

/** What a connection needs of its socket: a `ws` WebSocket, or the in-process end (local-ws.ts). */
interface ConnSocket {
  /** Drops the message when the socket is not open or its reader is too far behind. */
  send(payload: string): void;
  ping(): void;
  terminate(): void;
}

class WsFailure extends Error {
  infoHash: string | undefined;
  action: string;
  constructor(action: string, message: string, infoHash?: string) {
    super(message);
    this.action = action;
    this.infoHash = infoHash;
  }
}

export interface WsTracker {
  /** A connection from this very process (a node's own torrents): see local-ws.ts. */
  connectLocal(): LocalWebSocket;
  close(): Promise<void>;
}

export function attachWebSocket(server: http.Server, opts: WsOptions): Promise<WsTracker> {
  const { core, limiter, owner } = opts;
  const metrics = core.metrics;
  let wss: WebSocketServer | undefined;
  let loading: Promise<WebSocketServer> | undefined;
  let closing = false;
  const loadWss = () =>
    (loading ??= import('ws').then(({ WebSocketServer }) => (wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false, clientTracking: true }))));
  /** Local sockets by the peer id they announced with. */
  const byPeer = new Map<string, Conn>();
  const conns = new Set<Conn>();

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const route = trackerPath(url.split('?')[0]!);
    const ip = opts.proxies.clientAddress(req);
    if (!route || route.action !== 'announce') return void socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
    if (!limiter.allow(ip)) {
      metrics.rateLimited.ws++;
      return void socket.end('HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\n\r\n');
    }
    const upgrade = (w: WebSocketServer) => w.handleUpgrade(req, socket, head, (ws) => onConnection(ws, ip, route.passkey));
    if (wss) return upgrade(wss);
    loadWss().then((w) => (closing ? socket.destroy() : upgrade(w)), () => socket.destroy());
  };
  server.on('upgrade', onUpgrade);

  const send = (c: Conn, payload: string) => c.sock.send(payload);

  const deliver = (msg: RelayMessage) => {
    const c = byPeer.get(msg.toPeerIdHex);
    // Only to a socket still in that swarm: a peer that left must not keep receiving offers.
    if (c && c.swarms.has(msg.infoHashHex)) {
      metrics.wsRelayed++;
      send(c, msg.payload);
    }
  };

  const onConnection = (ws: WebSocket, ip: string, passkey: string | undefined) => {
    const sock: ConnSocket = {
      send: (payload) => {
        if (ws.readyState === ws.OPEN && ws.bufferedAmount < MAX_BUFFERED) ws.send(payload, noop);
      },
      ping: () => ws.ping(noop),
      terminate: () => ws.terminate(),
    };
    const c = opened(sock, ip, passkey, false);
    ws.on('pong', () => (c.alive = true));
    ws.on('error', noop);
    ws.on('message', (data: RawData, isBinary: boolean) => received(c, isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data)));
    ws.on('close', () => closed(c));
  };

  const connectLocal = (): LocalWebSocket => {
    const client = new LocalWebSocket();
    const c = opened({ send: (payload) => client.deliver(payload), ping: () => (c.alive = true), terminate: () => client.terminated() }, '', undefined, true);
    client.attach({ message: (text) => received(c, text), closed: () => closed(c) });
    return client;
  };

  const opened = (sock: ConnSocket, ip: string, passkey: string | undefined, local: boolean): Conn => {
    const c: Conn = { sock, local, ip, passkey, peerIdHex: undefined, swarms: new Set(), alive: true };
    conns.add(c);
    // Sockets only: the gauge says how many browsers (and remote nodes) hold a connection.
    if (!local) metrics.wsConnections++;
    return c;
  };

  const received = (c: Conn, text: string) => {
    if (!conns.has(c)) return;
    onMessage(c, text).catch((err: unknown) => {
      core.failure('ws');
      const f = err instanceof WsFailure ? err : new WsFailure('announce', 'internal error');
      const body: Record<string, unknown> = { action: f.action, 'failure reason': f.message };
      if (f.infoHash !== undefined) body.info_hash = f.infoHash;
      send(c, JSON.stringify(body));
    });
  };

  const closed = (c: Conn) => {
    if (!conns.delete(c)) return;
    if (!c.local) metrics.wsConnections--;
    if (c.peerIdHex && byPeer.get(c.peerIdHex) === c) byPeer.delete(c.peerIdHex);
    // The browser is gone, and so are its offers: leave every swarm it was in.
    for (const ihHex of c.swarms) {
      Promise.resolve(core.store.announce(leave(c, ihHex))).catch(noop);
    }
    c.swarms.clear();
  };

  const leave = (c: Conn, ihHex: string) => ({
    infoHashHex: ihHex,
    peerIdHex: c.peerIdHex!,
    kind: 'ws' as const,
    host: '',
    port: 0,
    owner,
    left: 1,
    uploaded: 0,
    downloaded: 0,
    event: 'stopped' as const,
    numwant: 0,
  });

  const onMessage = async (c: Conn, text: string) => {
    if (!c.local && !limiter.allow(c.ip)) {
      metrics.rateLimited.ws++;
      throw new WsFailure('announce', 'rate limited: slow down');
    }
    let params: unknown;
    try {
      params = JSON.parse(text);
    } catch {
      throw new WsFailure('announce', 'invalid JSON');
    }
    if (!isObject(params)) throw new WsFailure('announce', 'message must be a JSON object');
    if (params.action === 'announce') return onAnnounce(c, params);
    if (params.action === 'scrape') return onScrape(c, params);
    throw new WsFailure('announce', 'invalid action');
  };

  const onAnnounce = async (c: Conn, p: Record<string, unknown>) => {
    const ihBin = binary20(p.info_hash);
    if (ihBin === undefined) throw new WsFailure('announce', 'invalid info_hash');
    const peerBin = binary20(p.peer_id);
    if (peerBin === undefined) throw new WsFailure('announce', 'invalid peer_id', ihBin);
    const ihHex = Buffer.from(ihBin, 'latin1').toString('hex');
    let peerHex = Buffer.from(peerBin, 'latin1').toString('hex');
    // The connection's own copy: a node announcing 10,000 torrents keeps one string, not 10,000.
    if (peerHex === c.peerIdHex) peerHex = c.peerIdHex;
    if (c.peerIdHex !== undefined && c.peerIdHex !== peerHex) throw new WsFailure('announce', 'peer_id changed on this connection', ihBin);
    // The node's own peer id is not for a socket to take over: others learn it from our BitTorrent
    // handshakes, and a socket announcing with it would take the offers meant for us, or stop our
    // (pinned) seeds in their swarms.
    if (!c.local && byPeer.get(peerHex)?.local) throw new WsFailure('announce', 'peer_id in use', ihBin);

    if (p.answer !== undefined) return relayAnswer(c, p, ihBin, ihHex, peerBin, peerHex);

    const offers = Array.isArray(p.offers) ? p.offers.slice(0, MAX_OFFERS).filter(validOffer) : [];
    const event = typeof p.event === 'string' && EVENTS.has(p.event) ? (p.event as 'started' | 'completed' | 'stopped') : undefined;
    const left = finiteNonNegative(p.left) ?? 1; // unknown: a leecher, as bittorrent-tracker assumes
    const pinned = c.local && core.store.pinsLocalPeers === true;
    const out: AnnounceOutcome = await core.announce(
      {
        infoHashHex: ihHex,
        peerIdHex: peerHex,
        kind: 'ws',
        host: '',
        port: 0,
        owner,
        left,
        uploaded: finiteNonNegative(p.uploaded) ?? 0,
        downloaded: finiteNonNegative(p.downloaded) ?? 0,
        event,
        // Each offer goes to one peer, so offers are the only numwant that means anything here.
        numwant: offers.length,
        passkey: c.passkey,
        pinned,
      },
      'ws',
    );
    if (!out.ok) throw new WsFailure('announce', out.reason, ihBin);

    if (c.peerIdHex === undefined) c.peerIdHex = peerHex;
    const prior = byPeer.get(peerHex);
    if (prior !== c) {
      // Same peer id reconnected: the new socket is where it lives now.
      if (prior) prior.swarms.clear();
      byPeer.set(peerHex, c);
    }
    if (event === 'stopped') c.swarms.delete(ihHex);
    else c.swarms.add(ihHex);

    send(
      c,
      JSON.stringify({
        action: 'announce',
        interval: left === 0 && offers.length === 0 ? (pinned ? PINNED_SEED_INTERVAL : core.interval) : Math.min(core.interval, MAX_WS_INTERVAL),
        info_hash: ihBin,
        complete: out.counts.complete,
        incomplete: out.counts.incomplete,
      }),
    );
    out.peers.forEach((peer, i) => {
      const offer = offers[i] as Record<string, unknown>;
      const payload = JSON.stringify({ action: 'announce', offer: offer.offer, offer_id: offer.offer_id, peer_id: peerBin, info_hash: ihBin });
      Promise.resolve(core.store.relay(peer.owner, { toPeerIdHex: peer.peerIdHex, infoHashHex: ihHex, payload })).catch(noop);
    });
  };

  const relayAnswer = async (c: Conn, p: Record<string, unknown>, ihBin: string, ihHex: string, peerBin: string, peerHex: string) => {
    // Only a peer that announced in this swarm on this socket may answer in it.
    if (c.peerIdHex !== peerHex || !c.swarms.has(ihHex)) throw new WsFailure('announce', 'announce before answering', ihBin);
    const toBin = binary20(p.to_peer_id);
    if (toBin === undefined) throw new WsFailure('announce', 'invalid `to_peer_id` (required with `answer`)', ihBin);
    if (!isObject(p.answer) || typeof p.offer_id !== 'string' || p.offer_id.length > 64) throw new WsFailure('announce', 'invalid answer', ihBin);
    const toHex = Buffer.from(toBin, 'latin1').toString('hex');
    const target = await core.store.findPeer(ihHex, toHex, 'ws');
    // Gone already: the offerer times the offer out, as it would with any unanswered offer.
    if (!target) return;
    const payload = JSON.stringify({ action: 'announce', answer: p.answer, offer_id: p.offer_id, peer_id: peerBin, info_hash: ihBin });
    await core.store.relay(target.owner, { toPeerIdHex: toHex, infoHashHex: ihHex, payload });
  };

  const onScrape = async (c: Conn, p: Record<string, unknown>) => {
    const raw = typeof p.info_hash === 'string' ? [p.info_hash] : Array.isArray(p.info_hash) ? p.info_hash : [];
    if (raw.length === 0) throw new WsFailure('scrape', 'full scrape is not supported');
    if (raw.length > 100) throw new WsFailure('scrape', 'at most 100 info_hash per scrape');
    const bins = raw.map(binary20);
    if (bins.some((b) => b === undefined)) throw new WsFailure('scrape', 'invalid info_hash');
    const hexes = (bins as string[]).map((b) => Buffer.from(b, 'latin1').toString('hex'));
    const out = await core.scrape(hexes, c.passkey, 'ws');
    if (!out.ok) throw new WsFailure('scrape', out.reason);
    const files: Record<string, unknown> = {};
    for (const [h, counts] of out.files) files[Buffer.from(h, 'hex').toString('latin1')] = counts;
    send(c, JSON.stringify({ action: 'scrape', files, flags: { min_request_interval: core.minInterval } }));
  };

  // Half-open sockets (a browser tab that vanished) never send `close`: ping, and drop the silent.
  const pinger = setInterval(() => {
    for (const c of conns) {
      if (!c.alive) {
        c.sock.terminate();
        continue;
      }
      c.alive = false;
      c.sock.ping();
    }
  }, PING_MS);
  pinger.unref();

  return Promise.resolve(core.store.onRelay(owner, deliver)).then(() => ({
    connectLocal,
    close: async () => {
      closing = true;
      clearInterval(pinger);
      server.off('upgrade', onUpgrade);
      for (const c of [...conns]) {
        c.sock.terminate();
        // A local end has no socket whose 'close' would follow.
        if (c.local) closed(c);
      }
      // One upgraded but not yet ours would hold wss.close(), which waits for every client it tracks.
      const open = wss ?? (await loading?.catch(() => undefined));
      if (!open) return;
      for (const w of open.clients) w.terminate();
      await new Promise<void>((r) => open.close(() => r()));
    },
  }));
}

/** A 20-character string of byte-valued characters (how the protocol carries binary ids). */
function binary20(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length !== 20) return undefined;
  for (let i = 0; i < 20; i++) if (v.charCodeAt(i) > 0xff) return undefined;
  return v;
}

function validOffer(o: unknown): boolean {
  return isObject(o) && isObject(o.offer) && typeof o.offer_id === 'string' && o.offer_id.length <= 64;
}

function finiteNonNegative(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function noop(): void {}
