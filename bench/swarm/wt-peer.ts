// One WebTorrent (Node, TCP) peer in its own process, for the swarm benchmark's WebTorrent pairs.
// Protocol and accounting: peer-driver.ts. WebTorrent has no option to bind its listener to one
// address; with DHT, trackers, LSD, UPnP/NAT-PMP, uTP and web seeds off it only ever dials the
// 127.0.0.1 peers it is given.

import WebTorrent from 'webtorrent';
import { runDriver, type Added } from './peer-driver.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type WtTorrent = any;

let client: WtTorrent;

function added(t: WtTorrent): Added {
  const done = Promise.withResolvers<void>();
  if (t.done) done.resolve();
  else t.once('done', () => done.resolve());
  return {
    done: done.promise,
    downloaded: () => t.downloaded,
    uploaded: () => t.uploaded,
    peers: () => t.numPeers,
    addPeer: (p) => void t.addPeer(p),
    onFirstByte: (fn) => void t.once('download', fn),
    describe: () => `${t.pieces.filter((p: unknown) => p === null).length}/${t.pieces.length} pieces`,
  };
}

runDriver('wt-peer', {
  async listen() {
    client = new WebTorrent({ dht: false, tracker: false, lsd: false, utp: false, webSeeds: false, natUpnp: false, natPmp: false, torrentPort: 0 });
    await new Promise<void>((resolve, reject) => {
      client.once('error', reject);
      if (client.listening) resolve();
      else client.once('listening', () => resolve());
    });
    return (client.address() as { port: number }).port;
  },
  async add(torrent, savePath, onError) {
    const t: WtTorrent = client.add(Buffer.from(torrent), { path: savePath });
    client.on('error', (err: Error) => onError(String(err?.message ?? err)));
    t.on('error', (err: Error) => onError(err.message));
    // 'ready' comes after existing data is verified.
    if (!t.ready) await new Promise((r) => t.once('ready', r));
    return added(t);
  },
  close: () => new Promise<void>((resolve) => client.destroy(() => resolve())),
});
