// Peers given by hand survive a crash (issue 19, item 15). A torrent whose only source is a peer
// named with `cascade add --peer` (or `cascade connect`) — no tracker, no DHT, no PEX — must find
// that peer again after `cascade serve` is killed with SIGKILL and started again: the node stores
// such peers with the torrent and retries them with back-off like any other candidate.
//
// The seeder (a Cascade engine session on 127.0.0.1) only starts listening a few seconds after the
// restarted node is up, so the first node could never have finished, and the restarted one must
// keep retrying the address after its first attempts were refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, createTorrent, toMagnet } from '../../packages/engine/index.ts';

const MAIN = join(import.meta.dirname, '../../packages/cli/src/main.ts');
const NODE_ARGS = ['--json', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht'];

interface Proc {
  child: ChildProcess;
  events: Record<string, any>[];
  next(event: string, match?: (e: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
  text(): string;
}

function cascade(args: string[], timeout = 60_000): Proc {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout, killSignal: 'SIGKILL', env: { ...process.env, CASCADE_PORT_MAPPING: 'off' } });
  const events: Record<string, any>[] = [];
  let raw = '';
  let buf = '';
  const waiters = new Set<() => void>();
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (raw += d));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    raw += chunk;
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as Record<string, any>);
      } catch {
        continue;
      }
      for (const w of waiters) w();
    }
  });
  const next = (event: string, match: (e: Record<string, any>) => boolean = () => true, ms = 30_000) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const look = () => {
        const e = events.find((x) => x.event === event && match(x));
        if (!e) return false;
        cleanup();
        resolve(e);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no "${event}" within ${ms} ms:\n${raw.slice(-3000)}`));
      }, ms);
      const onExit = () => {
        cleanup();
        reject(new Error(`exited before "${event}":\n${raw.slice(-3000)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', onExit);
      };
      const check = () => void look();
      if (look()) return;
      waiters.add(check);
      child.once('exit', onExit);
    });
  return { child, events, next, text: () => raw };
}

async function run(args: string[]): Promise<{ code: number | null; events: Record<string, any>[]; text: string }> {
  const p = cascade(args, 30_000);
  const [code] = (await once(p.child, 'exit')) as [number | null];
  return { code, events: p.events, text: p.text() };
}

/** A loopback port nobody listens on right now (the seeder takes it later). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function content(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('peers given with add --peer and connect are tried again after serve is killed with SIGKILL and restarted', { timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-manual-peers-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const stateDir = join(root, 'state');
  const seedDir = join(root, 'seed');
  const out = join(root, 'out');
  mkdirSync(seedDir, { recursive: true });
  mkdirSync(out, { recursive: true });

  // Three torrents: A is added with --peer to the running node, B (a bare magnet: its metadata must
  // come from the peer too) is added without and given its peer with `cascade connect`, and C is
  // added with --peer while no node runs (queued in the library for the next serve).
  const dataA = content(1, 300_000);
  const dataB = content(2, 200_000);
  const dataC = content(3, 100_000);
  writeFileSync(join(seedDir, 'a.bin'), dataA);
  writeFileSync(join(seedDir, 'b.bin'), dataB);
  writeFileSync(join(seedDir, 'c.bin'), dataC);
  const a = await createTorrent(join(seedDir, 'a.bin'), { pieceLength: 16384 });
  const b = await createTorrent(join(seedDir, 'b.bin'), { pieceLength: 16384 });
  const c = await createTorrent(join(seedDir, 'c.bin'), { pieceLength: 16384 });
  const torrentFile = join(root, 'a.torrent');
  writeFileSync(torrentFile, a.torrent);
  writeFileSync(join(root, 'c.torrent'), c.torrent);
  const port = await freePort();
  const peer = `127.0.0.1:${port}`;

  const offline = await run(['add', join(root, 'c.torrent'), '-o', out, '--peer', peer, '--json', '--state-dir', stateDir]);
  assert.equal(offline.code, 0, offline.text);

  const first = cascade(['serve', ...NODE_ARGS, '--state-dir', stateDir, '--download-dir', out]);
  t.after(() => first.child.kill('SIGKILL'));
  await first.next('serving');
  const addA = await run(['add', torrentFile, '-o', out, '--peer', peer, '--json', '--state-dir', stateDir]);
  assert.equal(addA.code, 0, addA.text);
  const addB = await run(['add', toMagnet({ infoHashHex: b.metainfo.infoHashHex }), '-o', out, '--json', '--state-dir', stateDir]);
  assert.equal(addB.code, 0, addB.text);
  const connect = await run(['connect', b.metainfo.infoHashHex, peer, '--json', '--state-dir', stateDir]);
  assert.equal(connect.code, 0, connect.text);

  first.child.kill('SIGKILL');
  await once(first.child, 'exit');

  const second = cascade(['serve', ...NODE_ARGS, '--state-dir', stateDir, '--download-dir', out]);
  t.after(() => second.child.kill('SIGKILL'));
  await second.next('serving');
  // Its first tries are refused: nothing listens at the address yet.
  await new Promise((r) => setTimeout(r, 3000));

  // Now the peer exists: a Cascade session seeding all three, reachable only at the address given by hand.
  const seeder = await Session.create({ port, host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => seeder.close());
  for (const x of [a, b, c]) await seeder.add(x.torrent, { savePath: seedDir });
  await waitFor('the seeder to verify its data', async () => seeder.list().every((x) => x.stats().state === 'seeding'), 20_000);

  const status = async () => {
    const r = await run(['list', '--json', '--state-dir', stateDir]);
    return (r.events[0]?.torrents ?? []) as { infoHash: string; state?: string; status?: string; progress?: number }[];
  };
  await waitFor(
    'all three torrents to complete from the peer given by hand',
    async () => {
      const list = await status();
      return [a, b, c].every((x) => list.find((e) => e.infoHash === x.metainfo.infoHashHex)?.progress === 1);
    },
    45_000,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(await status())}`);
  });
  assert.ok(readFileSync(join(out, 'a.bin')).equals(dataA));
  assert.ok(readFileSync(join(out, 'b.bin')).equals(dataB));
  assert.ok(readFileSync(join(out, 'c.bin')).equals(dataC));
});
