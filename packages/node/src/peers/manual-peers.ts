// Peers given by hand (`cascade add --peer`, `cascade connect`, the API's `peers`) are often a
// torrent's only source: a LAN box with no tracker and no DHT. They are kept per torrent in the
// state DB so a restarted node (a crash included) tries them again; the engine keeps such
// candidates for good and retries them with back-off.

import type { Queryable, Store } from '@cascade/node-state/store';

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

export async function rememberPeers(store: Store, infoHash: string, peers: readonly string[]): Promise<void> {
  if (validPeers(peers).length === 0) return;
  await store.transaction((tx) => rememberPeersIn(tx, infoHash, peers));
}

/** rememberPeers in the caller's transaction (an add stores its peers with its row). */
export async function rememberPeersIn(tx: Queryable, infoHash: string, peers: readonly string[]): Promise<void> {
  const list = validPeers(peers).slice(-MAX_MANUAL_PEERS);
  if (list.length === 0) return;
  const now = Date.now();
  for (const [i, p] of list.entries()) {
    await tx.run(
      'INSERT INTO torrent_peers (info_hash, address, added_at) VALUES (?, ?, ?) ON CONFLICT (info_hash, address) DO UPDATE SET added_at = excluded.added_at',
      [infoHash, p, now + i],
    );
  }
  await tx.run(
    `DELETE FROM torrent_peers WHERE info_hash = ? AND address NOT IN
       (SELECT address FROM torrent_peers WHERE info_hash = ? ORDER BY added_at DESC LIMIT ?)`,
    [infoHash, infoHash, MAX_MANUAL_PEERS],
  );
}

export async function storedPeers(store: Store, infoHash: string): Promise<string[]> {
  const rows = await store.all<{ address: string }>('SELECT address FROM torrent_peers WHERE info_hash = ? ORDER BY added_at', [infoHash]);
  return rows.map((r) => r.address);
}
