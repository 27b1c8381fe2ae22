// A remove "with its data" cut short (issue 63, item 3; found by bench:crash: a remove in flight
// at the kill left the torrent in the library, paused, with its data and resume record gone, so it
// had "5 verified pieces before the kill; after it 0"). The node deleted the files first and the
// library rows last. The instant is held here: the state DB is write-locked by the test (as a long
// write of another process would), so the node's remove stops at its first write, and the node is
// killed there. After the restart the torrent must be gone with its files, or there with all of its
// data. remove-killed-midway.test (packages/cli) holds the instant just after the rows went.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Rig, sleep } from '../../bench/crash/rig.ts';

interface Detail {
  state: string;
  verifiedPieces: number;
  pieceCount: number;
  savePath: string;
  files: { path: string }[] | null;
}

test('a node killed in the middle of a remove with data keeps the torrent with its data, or neither', { timeout: 300_000 }, async () => {
  const rig = new Rig({ rate: 1024 * 1024 });
  try {
    await rig.startSeeder();
    const p = await rig.publicPayload(300_000);
    await rig.start();
    await rig.add(p);
    let d: Detail;
    for (const end = Date.now() + 90_000; (d = await rig.json<Detail>(`/api/torrents/${p.ih}`)).state !== 'seeding'; await sleep(100)) assert.ok(Date.now() < end, `not seeding in 90 s: ${d.state}`);
    const file = join(d.savePath, d.files![0]!.path);
    await sleep(2500); // its resume data saved (a second after the last piece)

    const lock = new DatabaseSync(join(rig.stateDir, 'cascade.db'));
    lock.exec('PRAGMA busy_timeout = 10000');
    lock.exec('BEGIN IMMEDIATE');
    try {
      const removing = rig.api(`/api/torrents/${p.ih}?deleteData=true`, { method: 'DELETE' }).then((r) => r.text()).catch(() => undefined);
      // Killed once the node has deleted what it would delete before the library knows (the file),
      // or when it has waited long enough at the lock (it deletes nothing before it).
      for (const end = Date.now() + 12_000; existsSync(file) && Date.now() < end; ) await sleep(50);
      await rig.kill();
      await removing;
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }

    await rig.start();
    const listed = (await rig.json<{ torrents: { infoHash: string }[] }>('/api/torrents')).torrents.some((t) => t.infoHash === p.ih);
    // Removed: its files go too, by the start's end if the kill came before they did (the removal
    // keeps the node's own tombstone until then; before, they stayed, claimed by nothing).
    if (!listed) return assert.equal(existsSync(file), false, 'the removed torrent\'s file is gone after the restart');
    for (const end = Date.now() + 60_000; ['checking', 'metadata'].includes((d = await rig.json<Detail>(`/api/torrents/${p.ih}`)).state); await sleep(100)) assert.ok(Date.now() < end, d.state);
    assert.equal(d.verifiedPieces, d.pieceCount, `the torrent is still listed (${d.state}) with ${d.verifiedPieces} of ${d.pieceCount} pieces; its file ${existsSync(file) ? 'is there' : 'is gone'}`);
    assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), p.files.get(''));
  } finally {
    await rig.dispose();
  }
});
