// Checks of many torrents at once (issue 63's weeks of use: a "recheck all", a library added with
// its data by a cross-seeding tool): K torrents of P pieces of L bytes, their data on disk, added to
// one session that checks them all. Variants, each in a process of its own, the page cache dropped
// before each when we may (as root): Cascade one check at a time (the default, maxActiveChecks 1),
// Cascade every check at once (maxActiveChecks 0, as before), and libtorrent (its default
// active_checking 1). Prints wall time, peak RSS and CPU-s of each, and ratios to libtorrent.
// Run: npm run bench:recheck [-- --torrents 24 --pieces 4 --piece-mib 8 --rounds 2 --warm]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createTorrent } from '../../packages/engine/index.ts';

const { values } = parseArgs({
  options: {
    torrents: { type: 'string', default: '24' },
    pieces: { type: 'string', default: '4' },
    'piece-mib': { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    /** Keep the page cache (beside other work whose reads it would slow). */
    warm: { type: 'boolean', default: false },
  },
});
const K = Number(values.torrents), P = Number(values.pieces), L = Number(values['piece-mib']) * 2 ** 20, rounds = Number(values.rounds);
const dir = mkdtempSync(join(tmpdir(), 'bench-recheck-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'data'));
mkdirSync(join(dir, 'torrents'));
const chunk = randomBytes(4 * 2 ** 20);
for (let k = 0; k < K; k++) {
  const file = join(dir, 'data', `t${String(k).padStart(3, '0')}.bin`);
  const fd = openSync(file, 'w');
  // Different bytes in each torrent: its index up front of every chunk.
  for (let written = 0; written < P * L; written += chunk.length) {
    chunk.writeUInt32BE(k, 0);
    chunk.writeUInt32BE(written, 4);
    writeSync(fd, chunk, 0, Math.min(chunk.length, P * L - written));
  }
  closeSync(fd);
  writeFileSync(join(dir, 'torrents', `t${k}.torrent`), (await createTorrent(file, { pieceLength: L })).torrent);
}

function dropCaches(): string {
  if (values.warm) return 'warm (--warm)';
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return 'cold';
  } catch {
    return 'warm (page cache not dropped: not root)';
  }
}

interface Result { ms: number; peakRss: number; cpuS: number; complete: number }
const variants: { name: string; cmd: string; args: string[] }[] = [
  { name: 'libtorrent (active_checking 1)', cmd: '/usr/bin/python3', args: [join(import.meta.dirname, 'lt_check.py'), dir] },
  { name: 'Cascade, one check at a time', cmd: process.execPath, args: [join(import.meta.dirname, 'check.ts'), '--dir', dir, '--limit', '1'] },
  { name: 'Cascade, every check at once', cmd: process.execPath, args: [join(import.meta.dirname, 'check.ts'), '--dir', dir, '--limit', '0'] },
];
const results = new Map<string, Result[]>();
let cache = '';
console.log(`recheck: ${K} torrents × ${P} pieces × ${L / 2 ** 20} MiB (${(K * P * L / 2 ** 30).toFixed(2)} GiB), ${rounds} rounds; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    cache = dropCaches();
    const out = execFileSync(v.cmd, v.args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const res = JSON.parse(out.trim().split('\n').pop()!) as Result;
    if (res.complete !== K) throw new Error(`${v.name}: ${res.complete} of ${K} complete`);
    (results.get(v.name) ?? results.set(v.name, []).get(v.name)!).push(res);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ref = results.get(variants[0]!.name)!;
const refMs = median(ref.map((x) => x.ms)), refRss = median(ref.map((x) => x.peakRss));
console.log(`page cache: ${cache}; medians of ${rounds}`);
for (const v of variants) {
  const xs = results.get(v.name)!;
  const ms = median(xs.map((x) => x.ms)), rss = median(xs.map((x) => x.peakRss)), cpu = median(xs.map((x) => x.cpuS));
  console.log(`  ${v.name.padEnd(32)} ${(ms / 1000).toFixed(2).padStart(7)} s (${(ms / refMs).toFixed(2)}x)  peak RSS ${(rss / 2 ** 20).toFixed(0).padStart(5)} MiB (${(rss / refRss).toFixed(2)}x)  CPU ${cpu.toFixed(2)} s`);
}
