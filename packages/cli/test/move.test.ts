// Moving data and recheck from the CLI against a real `cascade serve` (issue 20): a moved torrent's
// files are in the new place (and gone from the old) and it seeds from there; a failed move leaves it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { startServe, okHere, entryHere, until, type ServeNode, NO_CHAIN } from './node-process.ts';

test('move carries the data to another directory and the torrent seeds from there; recheck finds it whole', { timeout: 180_000 }, async (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  mkdirSync(data);
  const content = randomBytes(300_000);
  writeFileSync(join(data, 'clip.bin'), content);
  const node = await startServe(t, { args: NO_CHAIN });
  const made = await okHere(node, ['create', join(data, 'clip.bin'), '-o', join(root, 'clip.torrent'), '--json']);
  const ih = made.json.infoHash as string;
  await okHere(node, ['add', join(root, 'clip.torrent'), '--save-path', data]);
  await until('seeding', async () => ((await entryHere(node, ih).catch(() => undefined))?.state === 'seeding' ? true : undefined));

  const target = join(root, 'elsewhere');
  const moved = await okHere(node, ['move', ih.slice(0, 8), target, '--json']);
  assert.deepEqual([moved.json.from, moved.json.savePath], [data, target]);
  assert.ok(readFileSync(join(target, 'clip.bin')).equals(content), 'the data is in the new place');
  assert.equal(existsSync(join(data, 'clip.bin')), false, 'and gone from the old');
  const e = await entryHere(node, ih);
  assert.deepEqual([e.savePath, e.state, e.progress], [target, 'seeding', 1]);

  const recheck = await okHere(node, ['recheck', ih]);
  assert.match(recheck.stdout, /rechecking/);
  await until('seeding after the recheck', async () => {
    const x = await entryHere(node, ih);
    return x.state === 'seeding' && x.progress === 1 ? true : undefined;
  });

  const bad = await node.here(['move', ih, join(root, 'clip.torrent', 'inside-a-file')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /savePath|folder|moving/);
  assert.equal((await entryHere(node, ih)).savePath, target, 'a failed move leaves it where it was');
});
