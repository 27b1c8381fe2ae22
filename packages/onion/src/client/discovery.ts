// Private discovery for the engine: its tracker transport and DHT look-up, carried by circuits.
// Shapes are the engine's (PrivateDiscovery, TrackerTransport), written out here so the onion
// package needs nothing of the engine; the announce itself is @cascade/shapes' AnnounceParams.
import type { OnionClient } from './client.ts';
import { circuitWebSocket } from './circuit-websocket.ts';
import type { AnnounceAnswer, PeerAddr } from '../exit/exit.ts';
import type { AnnounceParams } from '@cascade/shapes';

export interface PrivateDiscoveryLike {
  tracker: {
    announce(url: string, p: AnnounceParams): Promise<AnnounceAnswer>;
    scrape(url: string, infoHashes: Uint8Array[]): Promise<Map<string, { complete: number; incomplete: number; downloaded: number }>>;
  };
  dhtLookup(infoHashHex: string): Promise<PeerAddr[]>;
  WebSocket: typeof WebSocket;
}

/** A tracker's refusal, passed on as the engine's TrackerError would be (no retry helps). */
export class ExitRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrackerError';
  }
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

async function ask(client: OnionClient, doc: Record<string, unknown> & { op: string }): Promise<unknown> {
  const answer = (await client.request(doc)) as { ok?: boolean; result?: unknown; error?: string };
  if (!answer || answer.ok !== true) throw new ExitRefusal(`through the exit: ${answer?.error ?? 'no answer'}`);
  return answer.result;
}

export function onionDiscovery(client: OnionClient): PrivateDiscoveryLike {
  return {
    tracker: {
      async announce(url, p) {
        const r = (await ask(client, {
          op: 'announce',
          url,
          infoHash: hex(p.infoHash),
          peerId: hex(p.peerId),
          port: p.port,
          uploaded: p.uploaded,
          downloaded: p.downloaded,
          left: p.left,
          ...(p.event ? { event: p.event } : {}),
          ...(p.numwant !== undefined ? { numwant: Math.min(200, Math.max(0, p.numwant)) } : {}),
        })) as AnnounceAnswer;
        return { ...r, peers: validPeers(r?.peers) };
      },
      async scrape(url, infoHashes) {
        const r = (await ask(client, { op: 'scrape', url, infoHashes: infoHashes.map(hex) })) as Record<string, { complete: number; incomplete: number; downloaded: number }>;
        return new Map(Object.entries(r ?? {}));
      },
    },
    async dhtLookup(infoHashHex) {
      return validPeers(await ask(client, { op: 'dht-lookup', infoHash: infoHashHex.toLowerCase() }));
    },
    WebSocket: circuitWebSocket(client),
  };
}

/** An exit is a stranger: keep only well-formed addresses, and not too many. */
function validPeers(list: unknown): PeerAddr[] {
  if (!Array.isArray(list)) return [];
  const out: PeerAddr[] = [];
  for (const p of list.slice(0, 200)) {
    const q = p as { host?: unknown; port?: unknown };
    if (typeof q?.host === 'string' && q.host.length <= 64 && Number.isInteger(q.port) && (q.port as number) > 0 && (q.port as number) < 65536) {
      out.push({ host: q.host, port: q.port as number });
    }
  }
  return out;
}
