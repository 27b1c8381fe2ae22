// `seed` and `download` --json print `peer-identified` when the other end is a Cascade peer whose
// signed hello (the wire extension) verifies: each names the other's did and account.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { tempDir } from './helpers.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
type Ev = Record<string, any>;

function identityOf(stateDir: string): { did: string; address: string } {
  return JSON.parse(spawnSync(process.execPath, [MAIN, 'identity', '--json', '--state-dir', stateDir], { encoding: 'utf8' }).stdout);
}

test('seed and download each print the other as a peer-identified Cascade peer', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'file.bin'), randomBytes(1_500_000));
  const { torrent } = await createTorrent(join(dir, 'data', 'file.bin'), { pieceLength: 64 * 1024 });
  writeFileSync(join(dir, 'file.torrent'), torrent);
  const [stateA, stateB] = [join(dir, 'a'), join(dir, 'b')];

  const seedEvents: Ev[] = [];
  const seeder = spawn(process.execPath, [MAIN, 'seed', join(dir, 'file.torrent'), '--dir', join(dir, 'data'), '--json', '--no-dht', '--host', '127.0.0.1', '--port', '0', '--state-dir', stateA], {
    stdio: ['ignore', 'pipe', 'inherit'], timeout: 50_000, killSignal: 'SIGKILL',
  });
  t.after(() => seeder.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    seeder.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const e = JSON.parse(buf.slice(0, nl)) as Ev;
        buf = buf.slice(nl + 1);
        seedEvents.push(e);
        if (e.event === 'seeding') resolve(seedEvents.find((x) => x.event === 'listening')!.port);
      }
    });
    seeder.once('exit', (code) => reject(new Error(`seed exited ${code}: ${JSON.stringify(seedEvents)}`)));
  });

  const dl = spawnSync(process.execPath, [MAIN, 'download', join(dir, 'file.torrent'), '-o', join(dir, 'out'), '--peer', `127.0.0.1:${port}`, '--json', '--no-dht', '--host', '127.0.0.1', '--port', '0', '--state-dir', stateB], {
    encoding: 'utf8', timeout: 40_000,
  });
  assert.equal(dl.status, 0, dl.stdout + dl.stderr);
  const dlEvents = dl.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
  const [a, b] = [identityOf(stateA), identityOf(stateB)];

  const seen = dlEvents.find((e) => e.event === 'peer-identified');
  assert.ok(seen, `download printed no peer-identified: ${dl.stdout}`);
  assert.deepEqual({ did: seen.did, address: seen.address, peer: seen.peer }, { did: a.did, address: a.address, peer: `127.0.0.1:${port}` });
  const deadline = Date.now() + 5000;
  while (!seedEvents.some((e) => e.event === 'peer-identified') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seenBySeeder = seedEvents.find((e) => e.event === 'peer-identified');
  assert.ok(seenBySeeder, `seed printed no peer-identified: ${JSON.stringify(seedEvents)}`);
  assert.equal(seenBySeeder.did, b.did);
  assert.equal(seenBySeeder.address, b.address);
  assert.match(seenBySeeder.peer, /^127\.0\.0\.1:\d+$/);

  // The same identity back for the same torrent (a second download from the same state): the seed
  // knows it already and does not print it again (a cluster's members reconnect to each other for
  // every torrent they share: reprinted, that was most of a member's log, issue 63).
  const again = spawnSync(process.execPath, [MAIN, 'download', join(dir, 'file.torrent'), '-o', join(dir, 'out2'), '--peer', `127.0.0.1:${port}`, '--json', '--no-dht', '--host', '127.0.0.1', '--port', '0', '--state-dir', stateB], {
    encoding: 'utf8', timeout: 40_000,
  });
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.ok(again.stdout.includes('"peer-identified"'), 'the new download process prints the seed');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(seedEvents.filter((e) => e.event === 'peer-identified' && e.did === b.did).length, 1, 'printed once by the seed');
});
