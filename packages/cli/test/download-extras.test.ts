// Extras stay off the data path (issue 40), between real `cascade seed` and `cascade download`
// processes with their defaults (the embedded chain on both ends):
//   - receipts come at most once a second (and at the end), however fast the bytes come, and the
//     last one still states every byte, signed without starting the embedded chain;
//   - a one-shot download exits without reading its file back for content ids (none is in its
//     state DB afterwards), while `download --seed`, which serves the file, computes the right one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cidFromSha256 } from '@cascade/content';
import { FileCids } from '@cascade/content-node';
import { StateDB } from '@cascade/node';
import { tempDir } from './helpers.ts';
import { cascade, startCascade } from './node-process.ts';

const MiB = 1024 * 1024;

/** The embedded chain writes its state (anvil's --state) there when it stops: it ran. (Its log
 *  line is no evidence: with --json, notes are not printed.) */
const chainRan = (stateDir: string) => existsSync(join(stateDir, 'chain', 'state.json'));

async function cidsIn(stateDir: string, infoHash: string): Promise<ReadonlyMap<number, string>> {
  const db = await StateDB.open(stateDir);
  try {
    const cids = new FileCids(db);
    await cids.load(infoHash);
    return cids.of(infoHash);
  } finally {
    await db.close();
  }
}

test('receipts at most once a second with the last stating every byte; a one-shot download hashes nothing after its last piece; download --seed computes the right content id', { timeout: 240_000 }, async (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  mkdirSync(data);
  // 48 pieces of 256 KiB: the picker takes them in random order.
  const content = randomBytes(12 * MiB + 4321);
  writeFileSync(join(data, 'take.mov'), content);
  const made = await cascade(['create', join(data, 'take.mov'), '-o', join(root, 'take.torrent'), '--piece-length', '256k', '--json']);
  assert.equal(made.code, 0, made.stderr);
  const ih = made.json.infoHash as string;

  const seeder = startCascade(t, ['seed', join(root, 'take.torrent'), '--dir', data, '--port', '0', '--no-dht', '--state-dir', join(root, 'seed-state')]);
  const port = (await seeder.event('listening')).port as number;
  await seeder.event('seeding');

  const state = join(root, 'dl-state');
  const dl = await cascade(['download', join(root, 'take.torrent'), '-o', join(root, 'dl'), '--peer', `127.0.0.1:${port}`, '--no-dht', '--port', '0', '--state-dir', state, '--json']);
  assert.equal(dl.code, 0, dl.stderr);
  assert.ok(readFileSync(join(root, 'dl', 'take.mov')).equals(content));
  const done = dl.lines.find((e) => e.event === 'done')!;
  const sent = dl.lines.filter((e) => e.event === 'receipt-sent').map((e) => e.cumulativeBytes as number);
  assert.ok(sent.length >= 1, 'the seeder is a Cascade peer: it gets receipts');
  assert.equal(Math.max(...sent), content.length, 'the last receipt states every byte');
  // One a second at most, plus the first MiB's and the last: never one per MiB at speed.
  assert.ok(sent.length <= Math.ceil(done.seconds) + 2, `${sent.length} receipts in ${done.seconds} s`);
  for (let i = 1; i < sent.length; i++) assert.ok(sent[i]! > sent[i - 1]!, 'each receipt states a greater total');
  const held = await seeder.event('receipt');
  assert.equal(held.infoHash, ih);
  // --json progress carries the bytes both ways, and the seed's the copies its peers hold (issue 60's lab).
  const last = dl.lines.filter((e) => e.event === 'progress').at(-1)!;
  assert.ok(typeof last.downloaded === 'number' && typeof last.uploaded === 'number' && 'distributedCopies' in last, JSON.stringify(last));
  // The seed reports every 0.5 s: wait for a report after the transfer (its stdout may lag on a loaded machine).
  const reported = Date.now() + 30_000;
  const uploadedReport = () => seeder.events.filter((e) => e.event === 'progress' && e.uploaded > 0).at(-1);
  while (!uploadedReport() && Date.now() < reported) await new Promise((r) => setTimeout(r, 100));
  const seedReport = uploadedReport() ?? seeder.events.filter((e) => e.event === 'progress').at(-1)!;
  assert.ok(seedReport.uploaded > 0 && 'distributedCopies' in seedReport && typeof seedReport.peers === 'number', JSON.stringify(seedReport));
  // Receipts name the embedded chain's id and pool, known before it runs: the one-shot download
  // signed them all without starting its chain, which would have shared the CPU with the transfer.
  assert.ok(dl.lines.some((e) => e.event === 'receipt-acknowledged' && e.cumulativeBytes === content.length));
  assert.ok(!chainRan(state), 'the one-shot download started its chain');

  // No pass over the file after the download: its state DB has no content id for it.
  assert.equal((await cidsIn(state, ih)).size, 0, 'a one-shot download computed content ids');

  // download --seed serves the file: its content id comes (at idle time), and it is right although
  // the pieces came out of order.
  const state2 = join(root, 'dl2-state');
  const serving = startCascade(t, ['download', join(root, 'take.torrent'), '-o', join(root, 'dl2'), '--peer', `127.0.0.1:${port}`, '--no-dht', '--no-chain', '--port', '0', '--state-dir', state2, '--seed']);
  await serving.event('seeding');
  const cid = cidFromSha256(createHash('sha256').update(content).digest());
  const end = Date.now() + 30_000;
  // The node's own DB is open in that process; SQLite lets a second reader look.
  while ((await cidsIn(state2, ih)).get(0) === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  assert.equal((await cidsIn(state2, ih)).get(0), cid);
  serving.child.kill('SIGINT');
  await once(serving.child, 'exit');
});

test('a one-shot download never starts its embedded chain, not even when the bytes come slowly (quiet is no sign the transfer is over)', { timeout: 120_000 }, async (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  mkdirSync(data);
  const content = randomBytes(2 * MiB);
  writeFileSync(join(data, 'slow.bin'), content);
  const made = await cascade(['create', join(data, 'slow.bin'), '-o', join(root, 'slow.torrent'), '--piece-length', '256k', '--json']);
  assert.equal(made.code, 0, made.stderr);
  // Under 1 MiB/s the downloader's node counts as quiet: before, its chain started a second after
  // the seeder proved its identity, in the middle of the download. The seeder's node-wide upload
  // limit, set offline on its state directory, makes it so.
  const limited = await cascade(['limits', '--up', '256k', '--state-dir', join(root, 'seed-state')]);
  assert.equal(limited.code, 0, limited.stderr);
  const seeder = startCascade(t, ['seed', join(root, 'slow.torrent'), '--dir', data, '--port', '0', '--no-dht', '--state-dir', join(root, 'seed-state')]);
  const port = (await seeder.event('listening')).port as number;
  await seeder.event('seeding');
  const dl = await cascade(['download', join(root, 'slow.torrent'), '-o', join(root, 'dl'), '--peer', `127.0.0.1:${port}`, '--no-dht', '--port', '0', '--state-dir', join(root, 'dl-state'), '--json']);
  assert.equal(dl.code, 0, dl.stderr);
  assert.ok(readFileSync(join(root, 'dl', 'slow.bin')).equals(content));
  assert.ok(dl.lines.some((e) => e.event === 'receipt-sent'), 'the seeder is a Cascade peer that proved its identity');
  assert.ok((dl.lines.find((e) => e.event === 'done')!.seconds as number) > 3, 'the download was slow enough to look quiet');
  assert.ok(!chainRan(join(root, 'dl-state')), 'the download started its chain');
});
