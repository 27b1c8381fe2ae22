// Interop: real clients (libtorrent, aria2) find each other through our tracker on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '../../engine/src/bencode.ts';
import { startTracker } from '../index.ts';
import type { RunningTracker } from '../index.ts';

// libtorrent's Python bindings are only installed for the system interpreter.
const PY = '/usr/bin/python3';
const HELPER = new URL('./lt_peer.py', import.meta.url).pathname;

let tracker: RunningTracker;
let dir: string;
const children = new Set<ChildProcess>();

before(async () => {
  // Short interval: clients that somehow announce early still get to retry within the test.
  tracker = await startTracker({ host: '127.0.0.1', interval: 5 });
  dir = await mkdtemp(join(tmpdir(), 'cascade-tracker-interop-'));
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await tracker.close();
  await rm(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): { child: ChildProcess; lines: AsyncIterable<string>; log: string[]; exited: Promise<number | null> } {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const log: string[] = [];
  child.stderr!.on('data', (d) => log.push(String(d)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => (children.delete(child), r(code))));
  async function* lines() {
    let buf = '';
    for await (const chunk of child.stdout!) {
      buf += String(chunk);
      log.push(String(chunk));
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
  }
  return { child, lines: lines(), log, exited };
}

async function firstLine(lines: AsyncIterable<string>, re: RegExp, ms: number): Promise<RegExpExecArray> {
  const timer = new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no line matching ${re}`)), ms).unref());
  const find = (async () => {
    for await (const l of lines) {
      const m = re.exec(l);
      if (m) return m;
    }
    throw new Error(`process ended before ${re}`);
  })();
  return Promise.race([find, timer]);
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A fresh payload + v1 torrent announcing to `trackerUrl`; returns paths and the infohash. */
async function makeTorrent(name: string, trackerUrl: string) {
  const root = join(dir, name);
  const seedDir = join(root, 'seed');
  const dlDir = join(root, 'dl');
  await mkdir(seedDir, { recursive: true });
  await mkdir(dlDir, { recursive: true });
  const payload = randomBytes(700_000);
  await writeFile(join(seedDir, 'payload.bin'), payload);
  const torrent = join(root, 'payload.torrent');
  const made = spawnSync(PY, [HELPER, 'make', join(seedDir, 'payload.bin'), trackerUrl, torrent]);
  assert.equal(made.status, 0, String(made.stderr));
  const bytes = new Uint8Array(await readFile(torrent));
  const span = decode(bytes, { spanOf: 'info' }).span!;
  const infoHashHex = createHash('sha1').update(bytes.subarray(span.start, span.end)).digest('hex');
  return { seedDir, dlDir, torrent, payload, infoHashHex };
}

async function startSeeder(t: { torrent: string; seedDir: string; infoHashHex: string }) {
  const seeder = run(PY, [HELPER, 'seed', t.torrent, t.seedDir]);
  try {
    await firstLine(seeder.lines, /^seeding (\d+)/, 20_000);
    // Only once the tracker counts the seed can a downloader's first announce return it.
    await waitFor(() => tracker.swarm(t.infoHashHex).complete === 1, 10_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${seeder.log.join('')}`);
  }
  return seeder;
}

for (const kind of ['http', 'udp'] as const) {
  test(`libtorrent seeder and libtorrent downloader meet through the ${kind} tracker`, async () => {
    const t = await makeTorrent(`lt-${kind}`, kind === 'http' ? tracker.httpAnnounceUrl : tracker.udpAnnounceUrl);
    const seeder = await startSeeder(t);
    const dl = run(PY, [HELPER, 'download', t.torrent, t.dlDir, '60']);
    await Promise.race([firstLine(dl.lines, /^done$/, 70_000), dl.exited.then(() => assert.fail(dl.log.join('')))]);
    assert.deepEqual(await readFile(join(t.dlDir, 'payload.bin')), t.payload);
    // The downloader's `completed` announce turns it into a second seed.
    await waitFor(() => tracker.swarm(t.infoHashHex).complete === 2, 10_000);
    dl.child.stdin!.end();
    seeder.child.stdin!.end();
    assert.equal(await dl.exited, 0);
    await seeder.exited;
    // Both sent `stopped` on the way out.
    await waitFor(() => tracker.swarm(t.infoHashHex).complete === 0, 10_000);
  });
}

test('aria2 downloads from a libtorrent seeder found through the tracker', async () => {
  const t = await makeTorrent('aria2', tracker.httpAnnounceUrl);
  const seeder = await startSeeder(t);
  const aria = run('aria2c', [
    '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
    '--seed-time=0', `--listen-port=${await freePort()}`, `--dir=${t.dlDir}`, '--file-allocation=none',
    '--summary-interval=0', '--console-log-level=warn', '--bt-stop-timeout=60', t.torrent,
  ]);
  aria.lines[Symbol.asyncIterator]().next().catch(() => {}); // drain stdout into the log
  const code = await aria.exited;
  assert.equal(code, 0, aria.log.join(''));
  assert.deepEqual(await readFile(join(t.dlDir, 'payload.bin')), t.payload);
  seeder.child.stdin!.end();
  await seeder.exited;
});
