// Peers given by hand (`cascade add --peer`, `cascade connect`, the API's `peers`) are often a
// torrent's only source: a LAN box with no tracker and no DHT. They are kept per torrent in the
// state DB so a restarted node (a crash included) tries them again; the engine keeps such
// candidates for good and retries them with back-off.

import type { StateDB } from '../state/state-db.ts';

/** Most peers kept per torrent (the newest win): enough for a LAN, bounded for a script gone wrong. */
export const MAX_MANUAL_PEERS = 50;

/** host:port or [v6]:port, as the engine's parseAddress takes them (without loading the engine). */
function isHostPort(s: string): boolean {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : 0;
  return s.length <= 300 && port > 0 && port < 65536;
}

/** The addresses that are host:port, each once; callers refuse or ignore the rest, never stored. */
export function validPeers(peers: readonly string[]): string[] {
  return [...new Set(peers.filter(isHostPort))];
}

export function rememberPeers(db: StateDB, infoHash: string, peers: readonly string[]): void {
  const list = validPeers(peers).slice(-MAX_MANUAL_PEERS);
  if (list.length === 0) return;
  db.transaction(() => {
    const now = Date.now();
    const put = db.prepare(
      'INSERT INTO torrent_peers (info_hash, address, added_at) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET added_at = excluded.added_at',
    );
    for (const [i, p] of list.entries()) put.run(infoHash, p, now + i);
    db.prepare(
      `DELETE FROM torrent_peers WHERE info_hash = ? AND address NOT IN
         (SELECT address FROM torrent_peers WHERE info_hash = ? ORDER BY added_at DESC LIMIT ?)`,
    ).run(infoHash, infoHash, MAX_MANUAL_PEERS);
  });
}

export function storedPeers(db: StateDB, infoHash: string): string[] {
  const rows = db.prepare('SELECT address FROM torrent_peers WHERE info_hash = ? ORDER BY added_at').all(infoHash) as { address: string }[];
  return rows.map((r) => r.address);
}
