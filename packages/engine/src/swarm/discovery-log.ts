// What a torrent tried in order to find peers, for torrent.discovery() (issue 20, defect 9: a
// magnet nobody has must say what was tried and what answered). Plain counters and a ring of the
// last attempts: recording costs nothing on the data path (only dials, handshakes and lookups).

import type { DiscoveryReport, PeerAttempt, TrackerStatus } from '../api.ts';

const KEPT_ATTEMPTS = 20;

export class DiscoveryLog {
  private attempts: PeerAttempt[] = [];
  private lookups = 0;
  private peersFound = 0;
  private lastLookupAt: number | null = null;
  private lsdFound = 0;

  dhtLookup(): void {
    this.lookups++;
    this.lastLookupAt = Date.now();
  }

  dhtPeers(n: number): void {
    this.peersFound += n;
  }

  lsdPeers(n: number): void {
    this.lsdFound += n;
  }

  /** One dial (or incoming connection) ended as `result`; `reason` is turned into plain words. */
  attempt(address: string, source: string, reason: string): void {
    this.attempts.push({ address, source, result: attemptResult(reason), at: Date.now() });
    if (this.attempts.length > KEPT_ATTEMPTS) this.attempts.splice(0, this.attempts.length - KEPT_ATTEMPTS);
  }

  /** `dht`: the session's DHT, or undefined when it has none (or the torrent is private); `lsd`:
   *  whether local service discovery announces it. */
  report(trackers: TrackerStatus[], dht: { nodeCount?(): number } | undefined, lsd = false): DiscoveryReport {
    return {
      trackers,
      dht: { enabled: !!dht, nodes: dht?.nodeCount?.() ?? 0, lookups: this.lookups, peersFound: this.peersFound, lastLookupAt: this.lastLookupAt },
      lsd: { enabled: lsd, peersFound: this.lsdFound },
      peersTried: this.attempts.map((a) => ({ ...a })),
    };
  }
}

/** Socket errors and close reasons as a user reads them. */
export function attemptResult(reason: string): string {
  const r = reason.toLowerCase();
  if (r === 'connected') return 'connected';
  if (r.includes('econnrefused')) return 'connection refused';
  if (r.includes('ehostunreach') || r.includes('enetunreach')) return 'host unreachable';
  if (r.includes('econnreset')) return 'connection reset';
  if (r.includes('connect') && r.includes('timed out')) return 'connect timeout';
  if (r.includes('no handshake in time')) return 'handshake timeout';
  if (r.includes('infohash mismatch') || r.includes('torrent we do not have')) return 'infohash mismatch';
  if (r.includes('connected to ourselves')) return 'connected to ourselves';
  if (r.includes('encryption')) return `encryption handshake failed: ${reason}`;
  if (r === 'connection closed') return 'closed before the handshake';
  return reason;
}
