// A Cascade session for the BEP 55 lab test (holepunch.lab.test.ts), run inside a namespace.
//   node holepunch-peer.ts '{"torrent","save","port","peers":[…],"upload":bytes/s,"download":bytes/s,"utpOnly"}'
// utpOnly (the nodes behind a NAT, as libtorrent's lab peers run with outgoing TCP off): a TCP
// dial that beats a slow uTP SYN-ACK on a loaded machine leaves from an ephemeral port, which a
// libtorrent broker cannot name (it looks peers up by their connection's remote end).
// JSON lines on stdout: {"event":"listening","port"}, then every 300 ms
// {"event":"status","progress","peers":[{address,transport,source,downloaded,uploaded}],"holepunch"}.
// Ends on SIGTERM or when stdin closes.
import { readFileSync } from 'node:fs';
import { Session } from '../index.ts';

const o = JSON.parse(process.argv[2]!) as { torrent: string; save: string; port: number; peers?: string[]; upload?: number; download?: number; utpOnly?: boolean };
const session = await Session.create({ host: '0.0.0.0', port: o.port, dht: false, webrtc: false, ...(o.utpOnly ? { utp: 'only' as const } : {}) });
const t = await session.add(readFileSync(o.torrent), { savePath: o.save, peers: o.peers ?? [] });
if (o.upload || o.download) t.setRateLimits({ ...(o.upload ? { upload: o.upload } : {}), ...(o.download ? { download: o.download } : {}) });
const say = (e: object) => process.stdout.write(JSON.stringify(e) + '\n');
say({ event: 'listening', port: session.port });
const timer = setInterval(() => {
  say({
    event: 'status',
    progress: t.stats().progress,
    peers: t.peers().map((p) => ({ address: p.address, transport: p.transport, source: p.source, downloaded: p.downloaded, uploaded: p.uploaded })),
    holepunch: session.counters().holepunch,
    tried: t.discovery().peersTried.slice(-8),
  });
}, 300);
let ending = false;
const end = async () => {
  if (ending) return;
  ending = true;
  clearInterval(timer);
  await session.close();
  process.exit(0);
};
process.on('SIGTERM', () => void end());
process.stdin.on('end', () => void end()).resume();
