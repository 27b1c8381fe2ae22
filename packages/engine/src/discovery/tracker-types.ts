// Shapes shared by the HTTP and UDP tracker transports and the per-torrent TrackerClient.

import type { PeerAddress } from '../types.ts';
import { ipv6Text } from '../encoding/ip6.ts';
import type { AnnounceParams } from '@cascade/shapes';

export type { AnnounceEvent, AnnounceParams } from '@cascade/shapes';

export interface AnnounceResult {
  /** Seconds until the next regular announce. */
  interval: number;
  minInterval?: number;
  complete?: number;
  incomplete?: number;
  peers: PeerAddress[];
  warning?: string;
  trackerId?: string;
}

export interface ScrapeEntry {
  complete: number;
  incomplete: number;
  downloaded: number;
}

/** A tracker that answered with an error (failure reason, UDP action 3): retrying the same request won't help. */
export class TrackerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrackerError';
  }
}

/** One way of talking to trackers of some scheme; the UDP one lives in src/node/ and is injected. */
export interface TrackerTransport {
  announce(url: string, params: AnnounceParams): Promise<AnnounceResult>;
  scrape?(url: string, infoHashes: Uint8Array[], signal?: AbortSignal): Promise<Map<string, ScrapeEntry>>;
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** BEP 23 compact IPv4 (6 bytes per peer) or BEP 7 compact IPv6 (18 bytes per peer). */
export function parseCompactPeers(buf: Uint8Array, family: 4 | 6): PeerAddress[] {
  const size = family === 4 ? 6 : 18;
  const out: PeerAddress[] = [];
  for (let i = 0; i + size <= buf.length; i += size) {
    const port = (buf[i + size - 2]! << 8) | buf[i + size - 1]!;
    if (port === 0) continue;
    let host: string;
    if (family === 4) {
      host = `${buf[i]}.${buf[i + 1]}.${buf[i + 2]}.${buf[i + 3]}`;
    } else {
      // Canonical RFC 5952 text, so the same peer from two sources dedupes by addressKey.
      host = ipv6Text(buf, i);
    }
    out.push({ host, port });
  }
  return out;
}

