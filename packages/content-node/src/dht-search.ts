// `cascade search` with no node running (issue 44): the library in the state DB first, then the
// DHT's signed records, the DHT joined for the look-up alone — an engine session with the DHT and
// nothing else (no torrents, no WebRTC), closed once the walks are over. What the records say is
// checked as a running node checks it: the publishers this state directory caught lying stay
// ignored, and one caught now is remembered for the next start.
import { DhtRecords, isContentId, isUnixfsCid, keywordsOf, RecordError, Reputation, type DhtTransport, type SearchRow } from '@cascade/content';
import { InvalidInput } from '@cascade/node/basics';
import type { StateDB } from '@cascade/node/content-host';
import { FileCids, offlineSearchRows, unixfsRootsOf } from './file-cids.ts';

/** Where the look-up's DHT node listens and whom it joins through (empty: the public routers). */
export interface DhtJoin {
  port: number;
  host?: string | undefined;
  dhtBootstrap: string[];
}

export interface DhtSearch {
  rows: SearchRow[];
  /** DHT nodes that answered the look-up (0: nobody did); null: no look-up. */
  answered: number | null;
}

/** Whether the DHT has anything to look up for `q`: a content id, an infohash or a word of 2+ letters. */
export function dhtSearchable(q: string): boolean {
  return isContentId(q) || isUnixfsCid(q) || /^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(q) || keywordsOf(q).length > 0;
}

/** The library's matches, then the DHT's (false: the library only, as with --no-dht). */
export async function searchWithoutNode(db: StateDB, query: string, dht: DhtJoin | false): Promise<DhtSearch> {
  const q = query.trim();
  const cids = new FileCids(db);
  const local = await offlineSearchRows(db, q, cids);
  if (dht === false || !dhtSearchable(q)) return { rows: local, answered: null };
  const lib = await import('@cascade/engine');
  const session = await lib.Session.create({
    port: dht.port,
    ...(dht.host !== undefined ? { host: dht.host } : {}),
    dht: dht.dhtBootstrap.length > 0 ? { bootstrap: dht.dhtBootstrap } : {},
    webrtc: false,
  });
  let records: DhtRecords | undefined;
  /** Blames being stored: the state is closed after this returns, so they are awaited first. */
  const storing: Promise<void>[] = [];
  try {
    const queries = session.dhtQueries;
    if (!queries) return { rows: local, answered: 0 };
    const dhtQueries = queries as DhtTransport;
    const answered = new Set<string>();
    const heard = (from: { host: string; port: number }) => answered.add(`${from.host}:${from.port}`);
    records = new DhtRecords({
      dht: {
        handle: (method, handler, opts) => dhtQueries.handle(method, handler, opts),
        walk: (target, method, args, onReply) => dhtQueries.walk(target, method, args, (r) => (heard(r.from), onReply?.(r))),
        send: (contacts, method, args, onReply) => dhtQueries.send(contacts, method, args, (r) => (heard(r.from), onReply?.(r))),
      },
      // A complete torrent of the library: what its files hash to disproves a record that says otherwise.
      knownCids: (ih) => {
        const rec = db.getTorrent(ih.slice(0, 40).toLowerCase());
        const known = rec?.status === 'seeding' ? [...cids.of(rec.infoHash).values()] : [];
        return known.length > 0 ? known : undefined;
      },
      knownUnixfs: (ih) => {
        const rec = db.getTorrent(ih.slice(0, 40).toLowerCase());
        return rec?.status === 'seeding' ? unixfsRootsOf(cids, rec.infoHash) : undefined;
      },
      reputation: new Reputation(await cids.blames(), (b) => storing.push(cids.addBlame(b))),
    });
    let remote: SearchRow[];
    try {
      remote = await records.search(q);
    } catch (err) {
      if (err instanceof RecordError) throw new InvalidInput(err.message);
      throw err;
    }
    const seen = new Set(local.map(rowId));
    return { rows: [...local, ...remote.filter((r) => !seen.has(rowId(r)))], answered: answered.size };
  } finally {
    records?.close();
    await session.close();
    await Promise.all(storing);
  }
}

function rowId(r: SearchRow): string {
  return `${r.publisher} ${r.infoHash ?? r.infoHashV2}`;
}
