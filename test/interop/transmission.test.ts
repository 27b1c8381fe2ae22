// Interop with Transmission 3.00 (`transmission-cli`, Debian package `transmission-cli`), both ways:
//  - Transmission downloads from `cascade seed`. Transmission 3.00 treats 127.0.0.0/8 as "martian"
//    and never dials such peers, but it accepts incoming connections from them. So Transmission
//    starts first and announces its listening port to @cascade/tracker; `cascade seed` then
//    announces, learns Transmission's address from the tracker and dials it.
//  - `cascade download --peer 127.0.0.1:<port>` downloads from a Transmission seeder (`-v` makes
//    Transmission verify the data already on disk before it seeds). The torrent has no tracker.
//  - Over uTP both ways: a Cascade session downloads from Transmission, and Transmission downloads
//    from a Cascade session that dials it over uTP alone (utp 'only'); bytes counted by transport.
//
// transmission-cli has no flags for DHT / PEX / LPD / uTP, so each run gets a fresh config dir
// (`-g`) holding a settings.json that turns them off and binds to loopback only; nothing is read
// from or written to ~/.config/transmission. transmission-cli never exits by itself: it prints a
// status line every second ("Progress: …" while downloading, "Verifying local files …",
// "Seeding, uploading to …" once complete), separated by "\r", not "\n".

import { after, suite, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTracker } from '../../packages/tracker/index.ts';
import { Session } from '../../packages/engine/index.ts';
import { readFile } from 'node:fs/promises';
import {
  assertCascadeDone,
  cascade,
  cascadeCreate,
  compareTrees,
  describeProc,
  freePort,
  makeRandomFiles,
  requireClient,
  spawnJson,
  startCascadeSeed,
  stop,
  tempDir,
  track,
  type FileSpec,
  type JsonProc,
} from './helpers.ts';

/** A few MiB over nested files with odd sizes, so 64 KiB pieces span file boundaries. */
const SPEC: FileSpec = {
  'a-big.bin': 2_500_003,
  'b-odd.dat': 777_777,
  'c-dir/d-inner.bin': 300_001,
  'c-dir/e-sub/f-small.txt': 1_000,
};
const NAME = 'transmission-fixture';
const PIECE_LENGTH = 64 * 1024;

function requireTransmission(): void {
  const r = spawnSync('transmission-cli', ['--version'], { encoding: 'utf8' });
  const version = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0 || !/transmission-cli/.test(version)) {
    throw new Error(
      'interop prerequisite missing: transmission-cli is not installed (or not on PATH; ' +
        `${r.error ? r.error.message : version}); install it with \`apt-get install transmission-cli\``,
    );
  }
}

interface Transmission {
  proc: JsonProc;
  port: number;
  /** The last few complete status lines transmission-cli printed. */
  statusLines(): string[];
  /** Status lines, stderr (its log) and exit state, for assertion messages. */
  describe(): string;
}

/**
 * Starts transmission-cli on `torrent` with `-w downloadDir`, listening on a free 127.0.0.1 port,
 * with a fresh config dir. `verify` adds `-v` (check the data already in downloadDir, then seed).
 * Killed when the test ends.
 */
async function startTransmission(t: TestContext, torrent: string, downloadDir: string, opts: { verify?: boolean; utp?: boolean } = {}): Promise<Transmission> {
  requireTransmission();
  const configDir = await tempDir(t, 'cascade-transmission-config-');
  const port = await freePort();
  await mkdir(downloadDir, { recursive: true });
  const settings = {
    'dht-enabled': false,
    'pex-enabled': false,
    'lpd-enabled': false,
    'utp-enabled': opts.utp === true,
    'port-forwarding-enabled': false,
    'rpc-enabled': false,
    'watch-dir-enabled': false,
    'blocklist-enabled': false,
    'bind-address-ipv4': '127.0.0.1',
    'bind-address-ipv6': '::1',
    'peer-port': port,
    'peer-port-random-on-start': false,
    // Files keep their final names while incomplete (no ".part"), and go straight to -w.
    'rename-partial-files': false,
    'incomplete-dir-enabled': false,
    'start-added-torrents': true,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'speed-limit-up-enabled': false,
    'speed-limit-down-enabled': false,
    'alt-speed-enabled': false,
    'message-level': 3,
  };
  await writeFile(join(configDir, 'settings.json'), JSON.stringify(settings, null, 2));
  const args = [
    '--config-dir', configDir,
    '--download-dir', downloadDir,
    '--port', String(port),
    '--encryption-tolerated',
    '--no-portmap',
    '--no-blocklist',
    '--no-uplimit',
    '--no-downlimit',
    ...(opts.verify ? ['--verify'] : []),
    torrent,
  ];
  // Through stdbuf -o0: to a pipe, transmission-cli's stdio buffers its status lines 4 KiB at a time
  // (~10 s of them), so "Seeding" was seen up to 10 s after it was printed.
  const proc = track(t, spawnJson('transmission-cli', 'stdbuf', ['-o0', 'transmission-cli', ...args], { cwd: configDir }));
  proc.child.stdin!.end();
  // spawnJson only splits stdout on "\n"; transmission-cli's status lines end in "\r".
  let pending = '';
  const lines: string[] = [];
  proc.child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split(/[\r\n]/);
    pending = parts.pop()!;
    for (const p of parts) {
      const line = p.trim();
      if (line && line !== lines.at(-1)) lines.push(line);
    }
    if (lines.length > 200) lines.splice(0, lines.length - 100);
  });
  const describe = () =>
    `[transmission-cli pid ${proc.pid}, port ${port}] exit=${proc.exit ? `${proc.exit.code}/${proc.exit.signal}` : 'running'}\n` +
    `  last status lines:\n    ${lines.slice(-12).join('\n    ') || '(none)'}\n` +
    `  log (stderr):\n    ${proc.stderr.slice(-4000).trim().split('\n').join('\n    ') || '(empty)'}`;
  return { proc, port, statusLines: () => lines.slice(-5), describe };
}

/** Polls `cond` every 100 ms; fails with `explain()` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, cond: () => boolean, explain: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}:\n${explain()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let trackerless: Promise<{ src: string; torrent: string; infoHash: string }> | undefined;
let trackerlessDir: string | undefined;
// Registered here, at the top: an after() called inside a test would run after that test.
after(() => (trackerlessDir ? rm(trackerlessDir, { recursive: true, force: true, maxRetries: 3 }) : undefined));
/**
 * The fixture's files in <dir>/src and a torrent of them with no tracker (peers are given), made
 * once for the file's three trackerless tests (they only read it: each downloads into a dir of its
 * own, `root`) and removed after the last; `cascade create` runs in the first test that asks.
 */
async function trackerlessFixture(t: TestContext): Promise<{ root: string; src: string; torrent: string; infoHash: string }> {
  requireTransmission();
  trackerless ??= (async () => {
    const dir = (trackerlessDir = await tempDir(undefined));
    const src = join(dir, 'src');
    await makeRandomFiles(join(src, NAME), SPEC);
    const torrent = join(dir, 'transmission.torrent');
    const created = await cascadeCreate(t, join(src, NAME), torrent, ['--piece-length', String(PIECE_LENGTH)]);
    return { src, torrent, infoHash: created.infoHash };
  })();
  return { root: await tempDir(t), ...(await trackerless) };
}

const seeding = (trx: Transmission) => trx.statusLines().some((l) => l.startsWith('Seeding'));

/**
 * transmission-cli on data it verifies, once it says "Seeding". It sometimes exits at once with status
 * 0 before printing any status line (seen on a loaded machine, once in a full run): its main loop
 * ends when the torrent's activity reads "stopped", which it can between the verify being asked for
 * and queued. Such a start is tried again, twice at most; a transmission-cli that never seeds fails.
 */
async function startSeeding(t: TestContext, torrent: string, src: string, opts: { verify: true; utp?: boolean }): Promise<Transmission> {
  for (let attempt = 1; ; attempt++) {
    const trx = await startTransmission(t, torrent, src, opts);
    await until('transmission to verify the data and seed ("Seeding" status)', 30_000, () => seeding(trx) || trx.proc.exit !== undefined, trx.describe);
    if (seeding(trx)) return trx;
    const quitAtOnce = trx.proc.exit?.code === 0 && trx.statusLines().length <= 1;
    if (!quitAtOnce || attempt === 3) assert.fail(`transmission-cli exited before seeding:\n${trx.describe()}`);
    t.diagnostic(`transmission-cli quit before its first status line (attempt ${attempt}); starting it again`);
  }
}

// The four transfers at once: each spends most of its time in Transmission's own 10-second rechoke
// pulse (it sets interest and unchokes only then), not in work, and each has its own
// transmission-cli, ports and download dir (the trackerless ones share only the read-only fixture).
suite('transmission-cli interop', { concurrency: true }, () => {
  test('transmission downloads from cascade seed, which dials it after finding it through @cascade/tracker', { timeout: 90_000 }, async (t) => {
    requireClient('cascade');
    requireTransmission();
    const tracker = await startTracker({ host: '127.0.0.1', httpPort: 0, udpPort: 0, interval: 5 });
    t.after(() => tracker.close());

    const root = await tempDir(t);
    const src = join(root, 'src');
    await makeRandomFiles(join(src, NAME), SPEC);
    const torrent = join(root, 'transmission.torrent');
    const created = await cascadeCreate(t, join(src, NAME), torrent, [
      '--announce',
      tracker.httpAnnounceUrl,
      '--piece-length',
      String(PIECE_LENGTH),
    ]);

    // Transmission first: it will not dial a 127.0.0.1 seeder, so it must already be in the swarm
    // (as a leecher with its listening port) when the seeder asks the tracker for peers.
    const out = join(root, 'out');
    const trx = await startTransmission(t, torrent, out);
    await until('transmission to announce itself to the tracker', 20_000, () => tracker.swarm(created.infoHash).incomplete >= 1, trx.describe);

    const seeder = await startCascadeSeed(t, torrent, src);
    await until('transmission to finish downloading ("Seeding" status)', 60_000, () => seeding(trx) || trx.proc.exit !== undefined, () =>
      `${trx.describe()}\n\n${describeProc(seeder.proc)}`,
    );
    assert.ok(seeding(trx), `transmission-cli exited before it completed:\n${trx.describe()}\n\n${describeProc(seeder.proc)}`);

    // SIGINT is transmission-cli's clean shutdown (flushes its write cache; SIGTERM just kills it).
    trx.proc.child.kill('SIGINT');
    await until('transmission-cli to exit after SIGINT', 15_000, () => trx.proc.exit !== undefined, trx.describe);
    await compareTrees(join(src, NAME), join(out, NAME));
  });

  test('cascade download --peer fetches from a transmission seeder (transmission verifies existing data, accepts the incoming connection)', { timeout: 90_000 }, async (t) => {
    requireClient('cascade');
    const { root, src, torrent, infoHash } = await trackerlessFixture(t);
    const trx = await startSeeding(t, torrent, src, { verify: true });

    const out = join(root, 'out');
    const { proc, exit } = await cascade(t, 'download', [torrent, '-o', out, '--peer', `127.0.0.1:${trx.port}`, '--timeout', '60'], {
      timeoutMs: 70_000,
    });
    try {
      const done = assertCascadeDone(proc, exit, infoHash);
      const total = Object.values(SPEC).reduce((a, b) => a + b, 0);
      assert.ok(Number(done.downloaded) >= total, `done.downloaded=${done.downloaded} < ${total}: the data did not come from transmission`);
    } catch (err) {
      (err as Error).message += `\n\n${trx.describe()}`;
      throw err;
    }
    await compareTrees(join(src, NAME), join(out, NAME));
    await stop(trx.proc, 2000);
  });

  test('a Cascade session downloads from a transmission seeder over uTP (BEP 29)', { timeout: 90_000 }, async (t) => {
    const { root, src, torrent } = await trackerlessFixture(t);
    const trx = await startSeeding(t, torrent, src, { verify: true, utp: true });
    // The engine itself, so that the bytes can be counted by transport: uTP is tried first (even to a
    // local peer, with utp 'first') and Transmission answers it, so nothing should come over TCP.
    const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, utp: 'first' });
    t.after(() => session.close());
    const out = join(root, 'out');
    const h = await session.add(await readFile(torrent), { savePath: out, peers: [`127.0.0.1:${trx.port}`] });
    await until('the download over uTP', 60_000, () => h.stats().state === 'seeding', () => `${JSON.stringify(h.stats())}\n${trx.describe()}`);
    const total = Object.values(SPEC).reduce((a, b) => a + b, 0);
    const c = session.counters();
    assert.ok(c.bytesReceived.utp >= total && c.bytesReceived.tcp === 0, `bytes by transport: ${JSON.stringify(c.bytesReceived)}`);
    await compareTrees(join(src, NAME), join(out, NAME));
    await stop(trx.proc, 2000);
  });

  test('transmission downloads from a Cascade seeder over uTP (BEP 29): Cascade dials it over uTP alone', { timeout: 90_000 }, async (t) => {
    const { root, src, torrent } = await trackerlessFixture(t);
    // Transmission 3.00 never dials a 127.0.0.1 peer but accepts one: the Cascade seeder dials it, and
    // with utp 'only' it dials over uTP alone (transmission-cli cannot turn its TCP off).
    const out = join(root, 'out');
    const trx = await startTransmission(t, torrent, out, { utp: true });
    const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, utp: 'only' });
    t.after(() => session.close());
    const h = await session.add(await readFile(torrent), { savePath: src, peers: [`127.0.0.1:${trx.port}`] });
    await until('transmission to finish downloading ("Seeding" status)', 60_000, () => seeding(trx) || trx.proc.exit !== undefined, () => `${JSON.stringify(h.stats())}\n${trx.describe()}`);
    assert.ok(seeding(trx), `transmission-cli exited before it completed:\n${trx.describe()}`);
    const total = Object.values(SPEC).reduce((a, b) => a + b, 0);
    const sent = session.counters().bytesSent;
    assert.ok(sent.utp >= total && sent.tcp === 0, `bytes by transport: ${JSON.stringify(sent)}`);
    trx.proc.child.kill('SIGINT');
    await until('transmission-cli to exit after SIGINT', 15_000, () => trx.proc.exit !== undefined, trx.describe);
    await compareTrees(join(src, NAME), join(out, NAME));
  });
});
