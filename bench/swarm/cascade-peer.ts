// One Cascade peer in its own process, so the swarm benchmark (run.ts) can measure its CPU and RSS
// apart from the harness. Protocol and accounting: peer-driver.ts. For `bench:swarm --link`
// (link-run.ts): CASCADE_PEER_HOST puts it on another address, CASCADE_PEER_UTP=first dials uTP first.

import { Session, type TorrentHandle } from '../../packages/engine/index.ts';
import { runDriver, type Added } from './peer-driver.ts';

let session: Session | undefined;

function added(t: TorrentHandle): Added {
  const done = Promise.withResolvers<void>();
  t.once('done', () => done.resolve());
  if (t.stats().state === 'seeding') done.resolve();
  return {
    done: done.promise,
    downloaded: () => t.stats().downloaded,
    uploaded: () => t.stats().uploaded,
    peers: () => t.stats().peers,
    addPeer: (p) => t.addPeer(p),
    onFirstByte(fn) {
      const onTransfer = (e: { direction: string }) => {
        if (e.direction !== 'down') return;
        t.off('transfer', onTransfer);
        fn();
      };
      t.on('transfer', onTransfer);
    },
    describe() {
      const s = t.stats();
      return `state ${s.state}, ${s.verifiedPieces}/${s.pieceCount} pieces${s.error ? `, ${s.error}` : ''}`;
    },
  };
}

runDriver('cascade-peer', {
  async listen() {
    const utp = process.env.CASCADE_PEER_UTP === 'first' ? { utp: 'first' as const } : {};
    session = await Session.create({ port: 0, host: process.env.CASCADE_PEER_HOST ?? '127.0.0.1', dht: false, ...utp });
    // CASCADE_PEER_UTP_TRACE=1 (bench:swarm --link --verbose): each uTP connection's window, flight and delay twice a second.
    type Stats = { cwnd: number; flight: number; delayUs: number; window: number; peerWindow: number; rxDelayUs: number; packetsReceived: number; statesSent: number; fastResends: number; timeouts: number; resent: number };
    const sock = (session as unknown as { utp?: { connectionStats(): Stats[] } }).utp;
    if (process.env.CASCADE_PEER_UTP_TRACE === '1' && sock) {
      setInterval(() => {
        const c = sock.connectionStats().map((x) => ({
          cwnd: x.cwnd, flight: x.flight, delayMs: Math.round(x.delayUs / 1000), peerWindow: x.peerWindow,
          fastResends: x.fastResends, timeouts: x.timeouts, resent: x.resent,
          // The receiving side: the window we advertise, the queue the peer's packets meet, packets in and STATEs out.
          window: x.window, rxDelayMs: Math.round(x.rxDelayUs / 1000), packetsIn: x.packetsReceived, statesOut: x.statesSent,
        }));
        if (c.length) process.stdout.write(JSON.stringify({ event: 'utp', t: Date.now(), conns: c }) + '\n');
      }, 500).unref();
    }
    return session.port;
  },
  async add(torrent, savePath, onError) {
    const t = await session!.add(torrent, { savePath });
    t.on('error', (err: Error) => onError(err.message));
    return added(t);
  },
  close: () => session!.close(),
});
