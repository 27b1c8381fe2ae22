// Interop: real clients (libtorrent, aria2) find each other through our tracker on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '@cascade/engine/bencode';
import type { BDict } from '@cascade/engine/bencode';
import { esc, freePort, udpClient, udpScrape, waitFor } from './helpers.ts';
import { startTracker } from '../index.ts';
import type { RunningTracker } from '../index.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

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

async function startSeeder(t: { torrent: string; seedDir: string; infoHashHex: string }, on: RunningTracker = tracker) {
  const seeder = run(PY, [HELPER, 'seed', t.torrent, t.seedDir]);
  try {
    await firstLine(seeder.lines, /^seeding (\d+)/, 20_000);
    // Only once the tracker counts the seed can a downloader's first announce return it.
    await waitFor(() => on.swarm(t.infoHashHex).complete === 1, 10_000);
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
    assertSameBytes(await readFile(join(t.dlDir, 'payload.bin')), t.payload);
    // The downloader's `completed` announce turns it into a second seed.
    await waitFor(() => tracker.swarm(t.infoHashHex).complete === 2, 10_000);
    // And a scrape over the same protocol says so: two seeds, no leechers, one completed download.
    assert.deepEqual(await scrape(kind, t.infoHashHex), { complete: 2, incomplete: 0, downloaded: 1 });
    dl.child.stdin!.end();
    seeder.child.stdin!.end();
    assert.equal(await dl.exited, 0);
    await seeder.exited;
    // Both sent `stopped` on the way out.
    await waitFor(() => tracker.swarm(t.infoHashHex).complete === 0, 10_000);
  });
}

for (const kind of ['http', 'udp'] as const) {
  test(`aria2 downloads from a libtorrent seeder found through the ${kind} tracker`, async () => {
    const t = await makeTorrent(`aria2-${kind}`, kind === 'http' ? tracker.httpAnnounceUrl : tracker.udpAnnounceUrl);
    const seeder = await startSeeder(t);
    // aria2 speaks UDP trackers only through its DHT socket, so UDP needs the DHT on; with no
    // entry point and a fresh routing table file it contacts nobody.
    const dht = kind === 'udp'
      ? ['--enable-dht=true', `--dht-listen-port=${await freePort()}`, `--dht-file-path=${join(t.dlDir, '..', 'dht.dat')}`]
      : ['--enable-dht=false'];
    const aria = run('aria2c', [
      ...dht, '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
      '--seed-time=0', `--listen-port=${await freePort()}`, `--dir=${t.dlDir}`, '--file-allocation=none',
      '--summary-interval=0', '--console-log-level=warn', '--bt-stop-timeout=60', t.torrent,
    ]);
    aria.lines[Symbol.asyncIterator]().next().catch(() => {}); // drain stdout into the log
    const code = await aria.exited;
    assert.equal(code, 0, aria.log.join(''));
    assertSameBytes(await readFile(join(t.dlDir, 'payload.bin')), t.payload);
    // aria2 (with --seed-time=0) leaves with `stopped` and no `completed`: the seeder remains.
    await waitFor(async () => (await scrape(kind, t.infoHashHex)).incomplete === 0, 10_000);
    assert.deepEqual(await scrape(kind, t.infoHashHex), { complete: 1, incomplete: 0, downloaded: 0 });
    seeder.child.stdin!.end();
    await seeder.exited;
  });
}

for (const kind of ['http', 'udp'] as const) {
  test(`private ${kind} tracker: libtorrent peers with their own passkeys, the seeder's user is credited the upload`, async () => {
    const priv = await startTracker({ host: '127.0.0.1', interval: 5, private: true });
    try {
      const seedUser = await priv.registerUser({ name: 'seeder' });
      const dlUser = await priv.registerUser({ name: 'leecher' });
      const t = await makeTorrent(`private-${kind}`, seedUser.announceUrls[kind]);
      // Same info dictionary, the downloader's own passkey in the announce URL.
      const dlTorrent = join(dir, `private-${kind}`, 'dl.torrent');
      const made = spawnSync(PY, [HELPER, 'make', join(t.seedDir, 'payload.bin'), dlUser.announceUrls[kind], dlTorrent]);
      assert.equal(made.status, 0, String(made.stderr));

      // Unregistered: the seeder is refused and the tracker never counts it.
      const refused = run(PY, [HELPER, 'seed', t.torrent, t.seedDir]);
      await firstLine(refused.lines, /^seeding/, 20_000);
      // libtorrent shows HTTP failure reasons but not UDP error texts (our UDP test reads those raw).
      const refusal = kind === 'http' ? 'torrent not registered with this tracker' : 'tracker sent a failure message';
      await waitFor(() => refused.log.join('').includes(refusal), 10_000).catch(() => assert.fail(refused.log.join('')));
      assert.equal(priv.swarm(t.infoHashHex).complete, 0);
      refused.child.stdin!.end();
      await refused.exited;

      await priv.registerTorrent(t.infoHashHex);
      const seeder = await startSeeder(t, priv);
      const dl = run(PY, [HELPER, 'download', dlTorrent, t.dlDir, '60']);
      await Promise.race([firstLine(dl.lines, /^done$/, 70_000), dl.exited.then(() => assert.fail(dl.log.join('')))]);
      assertSameBytes(await readFile(join(t.dlDir, 'payload.bin')), t.payload);
      dl.child.stdin!.end();
      seeder.child.stdin!.end();
      await dl.exited;
      await seeder.exited;
      // Their `stopped` announces carry the session totals.
      await waitFor(async () => ((await priv.user(seedUser.passkey))?.uploaded ?? 0) >= t.payload.length, 10_000);
      const up = (await priv.user(seedUser.passkey))!;
      const down = (await priv.user(dlUser.passkey))!;
      assert.ok(up.uploaded >= t.payload.length && up.uploaded < t.payload.length * 2, `seeder uploaded ${up.uploaded}`);
      assert.ok(down.downloaded >= t.payload.length && down.downloaded < t.payload.length * 2, `leecher downloaded ${down.downloaded}`);
      assert.ok(up.downloaded === 0 && down.uploaded < t.payload.length / 2);
    } finally {
      await priv.close();
    }
  });
}

async function scrape(kind: 'http' | 'udp', infoHashHex: string): Promise<{ complete: number; incomplete: number; downloaded: number }> {
  const hash = Buffer.from(infoHashHex, 'hex');
  if (kind === 'http') {
    const res = await fetch(`${tracker.httpAnnounceUrl.replace('/announce', '/scrape')}?info_hash=${esc(hash)}`);
    const files = (decode(new Uint8Array(await res.arrayBuffer())).value as BDict)['files'] as BDict;
    const e = Object.values(files)[0] as BDict;
    return { complete: e['complete'] as number, incomplete: e['incomplete'] as number, downloaded: e['downloaded'] as number };
  }
  const c = await udpClient(tracker.udpPort);
  try {
    const r = (await c.request(udpScrape(await c.connect(), [hash])))!;
    return { complete: r.readUInt32BE(8), downloaded: r.readUInt32BE(12), incomplete: r.readUInt32BE(16) };
  } finally {
    c.close();
  }
}

// Transmission's peer connections to the libtorrent seeder do not complete in this sandbox (it is
// handed the seeder, connects to no one), so this checks what is the tracker's part: Transmission
// announces and scrapes unchanged over HTTP and UDP and is handed the seeder.
for (const kind of ['http', 'udp'] as const) {
  test(`Transmission announces to and scrapes the ${kind} tracker and is handed the seeder`, async () => {
    const t = await makeTorrent(`transmission-${kind}`, kind === 'http' ? tracker.httpAnnounceUrl : tracker.udpAnnounceUrl);
    const seeder = await startSeeder(t);
    const cfg = join(t.dlDir, '..', 'transmission');
    await mkdir(cfg, { recursive: true });
    await writeFile(join(cfg, 'settings.json'), JSON.stringify({
      'dht-enabled': false, 'lpd-enabled': false, 'pex-enabled': false, 'port-forwarding-enabled': false,
      'bind-address-ipv4': '127.0.0.1', 'bind-address-ipv6': '::1', 'message-level': 3,
    }));
    const tr = run('transmission-cli', ['-g', cfg, '-w', t.dlDir, '-p', String(await freePort()), t.torrent]);
    tr.lines[Symbol.asyncIterator]().next().catch(() => {});
    try {
      await waitFor(() => /Got 1 peers from tracker/.test(tr.log.join('')), 20_000).catch(() => assert.fail(tr.log.join('')));
      await waitFor(() => tracker.swarm(t.infoHashHex).incomplete === 1, 5_000);
      await waitFor(() => /Scrape successful/.test(tr.log.join('')), 20_000).catch(() => assert.fail(tr.log.join('')));
    } finally {
      tr.child.kill('SIGINT');
      await tr.exited;
      seeder.child.stdin!.end();
      await seeder.exited;
    }
  });
}
