// Issue 65 item 6: a verb that acts on "all" (or on several torrents) says how many it acted on,
// zero included: `cascade pause all` with nothing to pause once exited 0 and printed nothing. In text
// the last line ("paused 0 torrents", "paused 1 torrent"); in --json an event with the count.
// Offline (the state DB) and through a running node. Each zero count is read from a real `cascade`
// process (all it prints, exactly); the rest run inside this process (cascadeHere: the main() a
// process runs, its output and exit code): ~25 processes' module loading was most of the file's CPU.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { cascade, cascadeHere, startServe, ok, okHere, type Run, NO_CHAIN } from './node-process.ts';

const magnet = (hex: string, name: string) => `magnet:?xt=urn:btih:${hex}&dn=${name}`;

function lastLine(r: Run): string {
  return r.stdout.trimEnd().split('\n').at(-1)!;
}

/** The count event of a --json run: the last line. */
function countEvent(r: Run): Record<string, any> {
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return r.lines.at(-1)!;
}

test('with no node: pause all and resume all say how many they marked, none too', { timeout: 120_000 }, async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const run = (args: string[]) => cascadeHere([...args, '--state-dir', stateDir]);
  for (const [verb, done] of [['pause', 'paused'], ['resume', 'resumed']] as const) {
    const none = await cascade([verb, 'all', '--state-dir', stateDir]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, `${done} 0 torrents\n`);
    assert.deepEqual(countEvent(await run([verb, 'all', '--json'])), { event: done, count: 0, failed: 0 });
  }
  assert.equal((await run(['add', magnet('ab'.repeat(20), 'one')])).code, 0);
  const one = await run(['pause', 'all']);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(lastLine(one), 'paused 1 torrent');
  assert.equal((await run(['add', magnet('cd'.repeat(20), 'two')])).code, 0);
  const json = await run(['resume', 'all', '--json']);
  assert.deepEqual(countEvent(json), { event: 'resumed', count: 2, failed: 0 });
  assert.equal(json.lines.filter((l) => l.state === 'queued').length, 2, 'the line for each torrent stays');
  assert.equal(lastLine(await run(['pause', 'ab'.repeat(20), 'cdcd'])), 'paused 2 torrents', 'several named: counted the same');
});

test('through a running node: pause, resume, recheck, remove and announce of all say how many', { timeout: 180_000 }, async (t) => {
  const node = await startServe(t, { args: NO_CHAIN });
  for (const [args, text] of [
    [['pause', 'all'], 'paused 0 torrents'],
    [['resume', 'all'], 'resumed 0 torrents'],
    [['recheck', 'all'], 'rechecking 0 torrents'],
    [['remove', 'all'], 'removed 0 torrents'],
    [['announce'], 'announced 0 torrents'],
  ] as const) {
    const r = await ok(node, [...args]);
    assert.equal(r.stdout, `${text}\n`, args.join(' '));
  }
  assert.deepEqual(countEvent(await node.here(['pause', 'all', '--json'])), { event: 'paused', count: 0, failed: 0 });
  assert.deepEqual(countEvent(await node.here(['announce', '--json'])), { event: 'announced', count: 0, failed: 0, skipped: 0 });

  const hashes = ['a1', 'b2'].map((x) => x.repeat(20));
  for (const [i, ih] of hashes.entries()) await okHere(node, ['add', magnet(ih, `t${i}`)]);
  const paused = await okHere(node, ['pause', 'all']);
  assert.equal(lastLine(paused), 'paused 2 torrents');
  const json = await node.here(['pause', 'all', '--json']);
  assert.deepEqual(json.json.results.map((r: any) => r.ok), [true, true], 'the bulk result stays the first line');
  assert.deepEqual(countEvent(json), { event: 'paused', count: 2, failed: 0 });
  // Paused torrents are not announced: the count says what was done, each torrent's block why not.
  assert.equal(lastLine(await okHere(node, ['announce'])), 'announced 0 of 2 torrents');
  assert.equal(lastLine(await okHere(node, ['resume', 'all'])), 'resumed 2 torrents');
  assert.deepEqual(countEvent(await node.here(['announce', '--json'])), { event: 'announced', count: 2, failed: 0, skipped: 0 });
  // One that fails is counted apart, and the exit says so.
  const mixed = await node.here(['pause', hashes[0]!, 'f'.repeat(40)]);
  assert.equal(mixed.code, 1);
  const removed = await okHere(node, ['remove', 'all', '--json']);
  assert.deepEqual(countEvent(removed), { event: 'removed', count: 2, failed: 0 });
});
