// What Cascade's in-memory store holds, without the noise of a whole process's RSS: loads
// torrents × peers through the store API (the same peers, ids and ports as loadgen.ts's UDP
// populate, from 127.0.0.1) in a fresh process, collects garbage, and prints one JSON line with
// the growth of the V8 heap and of ArrayBuffer memory, plus the store's own memoryUsage().
//
//   node bench/tracker/store-memory.ts <torrents> <peersPerTorrent>

import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryStore } from '../../packages/tracker/src/store/memory-store.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const fullGc = () => {
  for (let i = 0; i < 3; i++) gc();
};

const torrents = Number(process.argv[2]);
const perTorrent = Number(process.argv[3]);
if (!(torrents > 0 && perTorrent > 0)) {
  process.stderr.write('usage: store-memory.ts <torrents> <peersPerTorrent>\n');
  process.exit(2);
}
const hashes = Array.from({ length: torrents }, (_, i) => createHash('sha1').update(`cascade-bench-${i}`).digest('hex'));
const peerId = Buffer.alloc(20);
peerId.write('-BN0001-', 0, 'latin1');

fullGc();
const before = process.memoryUsage();
const store = new MemoryStore({ peerTtlMs: 3_600_000 });
const total = torrents * perTorrent;
for (let i = 0; i < total; i++) {
  const slot = Math.floor(i / torrents);
  peerId.writeUInt32BE(i, 16);
  store.announce({
    infoHashHex: hashes[i % torrents]!,
    peerIdHex: peerId.toString('hex'),
    kind: 'ip',
    host: '127.0.0.1',
    port: 10_000 + slot,
    owner: '',
    left: slot % 4 === 0 ? 0 : 1_000_000,
    uploaded: 0,
    downloaded: 0,
    event: 'started',
    numwant: 50,
    compact: true,
  });
}
fullGc();
const after = process.memoryUsage();
const usage = store.memoryUsage();
process.stdout.write(
  JSON.stringify({
    peers: total,
    heapBytes: after.heapUsed - before.heapUsed,
    arrayBufferBytes: after.arrayBuffers - before.arrayBuffers,
    rssBytes: after.rss - before.rss,
    store: usage,
  }) + '\n',
);
store.close();
