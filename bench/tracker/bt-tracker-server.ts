// Runs bittorrent-tracker (the npm package WebTorrent uses) as a benchmark target in its own
// process: HTTP and UDP on one port of 127.0.0.1, no WebSocket. Prints {"port":N} when ready.
import { Server } from 'bittorrent-tracker';

const port = Number(process.argv[2]);
const server = new Server({ udp: true, http: true, ws: false, stats: false, interval: 1_800_000, trustProxy: false });
server.on('error', (err: Error) => {
  process.stderr.write(`bittorrent-tracker error: ${err.message}\n`);
  process.exit(1);
});
// Warnings are per-request client errors; the benchmark counts those itself.
server.on('warning', () => {});
// Its UDP6 socket binds too, so each family gets its own loopback address.
server.listen(port, { http: '127.0.0.1', udp: '127.0.0.1', udp6: '::1' }, () => process.stdout.write(JSON.stringify({ port }) + '\n'));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
