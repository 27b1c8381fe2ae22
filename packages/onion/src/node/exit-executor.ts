// The Node exit: tracker announces and scrapes through the engine's transports, DHT look-ups
// through a DHT of its own, all from the relay's address.
import type { AnnounceRequest, AnnounceAnswer, ExitExecutor, PeerAddr, ScrapeRequest } from '../exit/exit.ts';

/** The engine's tracker transport shape (AnnounceParams/Result), kept structural here. */
export interface TrackerTransportLike {
  announce(url: string, p: {
    infoHash: Uint8Array; peerId: Uint8Array; port: number; uploaded: number; downloaded: number; left: number;
    event?: 'started' | 'completed' | 'stopped'; numwant?: number; signal?: AbortSignal;
  }): Promise<{ interval: number; minInterval?: number; complete?: number; incomplete?: number; peers: PeerAddr[]; warning?: string }>;
  scrape?(url: string, infoHashes: Uint8Array[], signal?: AbortSignal): Promise<Map<string, { complete: number; incomplete: number; downloaded: number }>>;
}

export interface DhtLike {
  lookup(infoHashHex: string, onPeers: (p: PeerAddr[]) => void, onDone?: () => void): void;
}

export interface NodeExitOptions {
  http: TrackerTransportLike;
  udp?: TrackerTransportLike;
  /** Started on the first look-up (a relay that never looks anything up never joins the DHT). */
  dht?: () => Promise<DhtLike>;
  /** How long a DHT look-up collects peers before answering. */
  dhtLookupMs?: number;
  timeoutMs?: number;
}

const MAX_PEERS = 200;

function fromHex(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h, 'hex'));
}

export function nodeExitExecutor(o: NodeExitOptions): ExitExecutor {
  const transport = (url: string) => {
    if (url.startsWith('udp:')) {
      if (!o.udp) throw new Error('this exit has no UDP tracker client');
      return o.udp;
    }
    return o.http;
  };
  const exec: ExitExecutor = {
    async announce(r: AnnounceRequest): Promise<AnnounceAnswer> {
      const res = await transport(r.url).announce(r.url, {
        infoHash: fromHex(r.infoHash),
        peerId: fromHex(r.peerId),
        port: r.port,
        uploaded: r.uploaded,
        downloaded: r.downloaded,
        left: r.left,
        ...(r.event ? { event: r.event } : {}),
        ...(r.numwant !== undefined ? { numwant: r.numwant } : {}),
        signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
      });
      return {
        interval: res.interval,
        ...(res.minInterval !== undefined ? { minInterval: res.minInterval } : {}),
        ...(res.complete !== undefined ? { complete: res.complete } : {}),
        ...(res.incomplete !== undefined ? { incomplete: res.incomplete } : {}),
        ...(res.warning ? { warning: res.warning } : {}),
        peers: res.peers.slice(0, MAX_PEERS).map((p) => ({ host: p.host, port: p.port })),
      };
    },
    async scrape(r: ScrapeRequest) {
      const t = transport(r.url);
      if (!t.scrape) throw new Error('this tracker cannot be scraped');
      const m = await t.scrape(r.url, r.infoHashes.map(fromHex), AbortSignal.timeout(o.timeoutMs ?? 15_000));
      return Object.fromEntries(m);
    },
  };
  if (o.dht) {
    const start = o.dht;
    let dht: Promise<DhtLike> | undefined;
    exec.dhtLookup = async (infoHash: string) => {
      const d = await (dht ??= start());
      return new Promise<PeerAddr[]>((resolve) => {
        const found = new Map<string, PeerAddr>();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const finish = () => {
          clearTimeout(timer);
          resolve([...found.values()].slice(0, MAX_PEERS));
        };
        timer = setTimeout(finish, o.dhtLookupMs ?? 8000);
        d.lookup(infoHash, (peers) => {
          for (const p of peers) found.set(`${p.host}:${p.port}`, { host: p.host, port: p.port });
        }, finish);
      });
    };
  }
  return exec;
}
