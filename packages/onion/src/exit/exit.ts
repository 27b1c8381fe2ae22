// What an exit does for a circuit: discovery only. A request names one operation — a tracker
// announce or scrape, or a DHT look-up — and the exit performs it from its own address and answers
// with the result. Anything else is refused: exits are not proxies.
import type { ExitOperation } from '../directory/descriptor.ts';
import type { AnnounceCounts } from '@cascade/shapes';

export interface PeerAddr {
  host: string;
  port: number;
}

/** A tracker announce for the exit to make, ids in hex. */
export interface AnnounceRequest extends AnnounceCounts {
  op: 'announce';
  url: string;
  infoHash: string;
  peerId: string;
}

export interface ScrapeRequest {
  op: 'scrape';
  url: string;
  infoHashes: string[];
}

export interface DhtLookupRequest {
  op: 'dht-lookup';
  infoHash: string;
}

export type ExitRequest = AnnounceRequest | ScrapeRequest | DhtLookupRequest;

export interface AnnounceAnswer {
  interval: number;
  minInterval?: number;
  complete?: number;
  incomplete?: number;
  peers: PeerAddr[];
  warning?: string;
}

/** The exit's means of discovery (Node: the engine's tracker transports and a DHT). */
export interface ExitExecutor {
  announce(r: AnnounceRequest): Promise<AnnounceAnswer>;
  scrape?(r: ScrapeRequest): Promise<Record<string, { complete: number; incomplete: number; downloaded: number }>>;
  dhtLookup?(infoHash: string): Promise<PeerAddr[]>;
}

export type ExitAnswer = { ok: true; result: unknown } | { ok: false; error: string };

const HEX40 = /^[0-9a-f]{40}$/;
const TRACKER_URL = /^(https?|udp):\/\//;

/** Why a request is refused, or undefined when it is well-formed. */
export function requestProblem(r: unknown): string | undefined {
  if (!r || typeof r !== 'object') return 'request is not an object';
  const q = r as Record<string, unknown>;
  switch (q.op) {
    case 'announce': {
      if (typeof q.url !== 'string' || !TRACKER_URL.test(q.url) || q.url.length > 2048) return 'announce wants an http(s) or udp tracker URL';
      if (typeof q.infoHash !== 'string' || !HEX40.test(q.infoHash)) return 'infoHash must be 40 hex digits';
      if (typeof q.peerId !== 'string' || !HEX40.test(q.peerId)) return 'peerId must be 40 hex digits';
      for (const k of ['port', 'uploaded', 'downloaded', 'left'] as const) {
        if (typeof q[k] !== 'number' || !Number.isSafeInteger(q[k]) || (q[k] as number) < 0) return `${k} must be a whole number`;
      }
      if ((q.port as number) > 65535) return 'port out of range';
      if (q.event !== undefined && !['started', 'completed', 'stopped'].includes(q.event as string)) return 'unknown event';
      if (q.numwant !== undefined && !(Number.isInteger(q.numwant) && (q.numwant as number) >= 0 && (q.numwant as number) <= 200)) return 'numwant must be 0..200';
      return undefined;
    }
    case 'scrape':
      if (typeof q.url !== 'string' || !TRACKER_URL.test(q.url)) return 'scrape wants an http(s) or udp tracker URL';
      if (!Array.isArray(q.infoHashes) || q.infoHashes.length === 0 || q.infoHashes.length > 50) return 'infoHashes: 1 to 50';
      if (!q.infoHashes.every((h) => typeof h === 'string' && HEX40.test(h))) return 'infoHashes must be 40 hex digits each';
      return undefined;
    case 'dht-lookup':
      if (typeof q.infoHash !== 'string' || !HEX40.test(q.infoHash)) return 'infoHash must be 40 hex digits';
      return undefined;
    default:
      return 'this exit does discovery only (announce, scrape, dht-lookup)';
  }
}

/** The exit handler a RelayCore takes: checks the request, runs it, wraps the outcome. */
export function exitHandler(executor: ExitExecutor): (request: unknown) => Promise<ExitAnswer> {
  return async (request) => {
    const problem = requestProblem(request);
    if (problem) return { ok: false, error: problem };
    const r = request as ExitRequest;
    try {
      if (r.op === 'announce') return { ok: true, result: await executor.announce(r) };
      if (r.op === 'scrape' && executor.scrape) return { ok: true, result: await executor.scrape(r) };
      if (r.op === 'dht-lookup' && executor.dhtLookup) return { ok: true, result: await executor.dhtLookup(r.infoHash) };
      return { ok: false, error: `this exit does not do ${r.op}` };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  };
}

export function exitOperations(executor: ExitExecutor): ExitOperation[] {
  const ops: ExitOperation[] = ['announce'];
  if (executor.scrape) ops.push('scrape');
  if (executor.dhtLookup) ops.push('dht-lookup');
  return ops;
}

/** A WebSocket tracker session through the exit (WebTorrent signaling): what opens it. */
export interface WsTrackerTunnelRequest {
  op: 'ws-tracker';
  url: string;
}

/** Why a tunnel request is refused, or undefined. */
export function tunnelProblem(r: unknown): string | undefined {
  const q = r as Partial<WsTrackerTunnelRequest> | null;
  if (!q || typeof q !== 'object' || q.op !== 'ws-tracker') return 'this exit tunnels WebSocket tracker sessions only (op ws-tracker)';
  if (typeof q.url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(q.url) || q.url.length > 2048) return 'ws-tracker wants a ws:// or wss:// tracker URL';
  return undefined;
}

/** Why a message from the client may not go to the tracker: only announces and scrapes do. */
export function trackerMessageProblem(m: unknown): string | undefined {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return 'not a JSON object';
  const action = (m as { action?: unknown }).action;
  if (action !== 'announce' && action !== 'scrape') return 'only announce and scrape go to a tracker';
  return undefined;
}
