// A stored torrent being loaded into the engine while it is removed (issue 63, bench:crash --cluster
// "acknowledged removes gone"): a cluster's member loads what is placed on it, and a removal through
// that member may come at the same moment. The removal found no engine torrent to stop and removed
// the rows; the load, which had read them just before, then handed the torrent to the engine, where
// it was listed and run again for good. Now the two take turns per torrent: whichever comes second
// sees what the first did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNode } from '../src/core/node-start.ts';
import { silentLog } from '../src/core/node.ts';
import { loadStored } from '../src/core/library.ts';
import { createTorrent } from '@cascade/engine';
import { tempDir } from './helpers.ts';

test('a removal that comes while the torrent is being loaded: not in the engine, nor listed, after both', async (t) => {
  const dir = tempDir(t);
  const n = await startNode({ stateDir: join(dir, 'state'), port: 0, host: '127.0.0.1', dht: false, dhtBootstrap: [], trackers: [] }, silentLog);
  t.after(() => n.stop());
  mkdirSync(join(dir, 'data'));
  const hashes: string[] = [];
  for (let i = 0; i < 4; i++) {
    writeFileSync(join(dir, 'data', `f${i}.bin`), randomBytes(64 * 1024 + i));
    const { torrent } = await createTorrent(join(dir, 'data', `f${i}.bin`), { pieceLength: 16 * 1024 });
    hashes.push((await n.addWith(torrent, { savePath: join(dir, 'data'), paused: true })).infoHashHex);
  }
  for (const [i, ih] of hashes.entries()) {
    // Stored, not in the engine: as a copy placed on a member before it takes it.
    await n.session.remove(ih);
    assert.equal(n.session.get(ih), undefined);
    const loading = loadStored(n, ih, silentLog);
    // Half with the data, so the files go too (the engine's copy or, not loaded, the stored metainfo).
    const removing = n.removeMany([ih], i % 2 === 1);
    const [loaded, removed] = await Promise.all([loading, removing]);
    assert.equal(removed.get(ih), undefined, 'the removal succeeded');
    assert.equal(n.session.get(ih), undefined, `torrent ${i}: not in the engine after the removal (loaded: ${loaded})`);
    assert.equal(n.db.records.has(ih), false, `torrent ${i}: not listed`);
    if (i % 2 === 1) assert.equal(existsSync(join(dir, 'data', `f${i}.bin`)), false, `torrent ${i}: its file is gone`);
  }
});

test("another member's removal while the torrent is being loaded here: not left running", async (t) => {
  const dir = tempDir(t);
  const n = await startNode({ stateDir: join(dir, 'state'), port: 0, host: '127.0.0.1', dht: false, dhtBootstrap: [], trackers: [] }, silentLog);
  t.after(() => n.stop());
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'g.bin'), randomBytes(64 * 1024 + 9));
  const { torrent } = await createTorrent(join(dir, 'data', 'g.bin'), { pieceLength: 16 * 1024 });
  const ih = (await n.addWith(torrent, { savePath: join(dir, 'data'), paused: true })).infoHashHex;
  await n.session.remove(ih);
  // The load reads the rows; the removal's transaction (as another member's removal writes it, and
  // this member's view hears) comes right behind that read, before the load hands it to the engine.
  const loading = loadStored(n, ih, silentLog);
  await n.db.records.remove([ih]);
  const loaded = await loading;
  assert.equal(n.session.get(ih), undefined, `not in the engine (loaded: ${loaded})`);
  assert.equal(n.db.records.has(ih), false);
});
