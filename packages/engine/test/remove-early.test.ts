// A torrent removed with its data before its start reached its files (just added or loaded: the
// look at what is on disk comes after a few awaits) kept them: close() destroyed the storage, which
// the start had not made yet (issue 63, found by bench:crash --cluster: a member back from a kill
// trims a surplus copy ~35 ms after it serves, and the copy's files stayed for good). Now its own
// files go all the same; another torrent's files at that place are not its to delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';

test('a torrent removed with its data before its start reached its files (added paused, or removed at once): its files go', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-remove-early-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  for (const [multi, paused] of [[false, true], [true, true], [false, false], [true, false]] as const) {
    const dir = join(root, `${multi ? 'multi' : 'single'}-${paused ? 'paused' : 'running'}`);
    mkdirSync(join(dir, 'folder', 'sub'), { recursive: true });
    const files = multi ? [join(dir, 'folder', 'a.bin'), join(dir, 'folder', 'sub', 'b.bin')] : [join(dir, 'one.bin')];
    for (const f of files) writeFileSync(f, randomBytes(100_000));
    const made = await createTorrent(multi ? join(dir, 'folder') : files[0]!, { pieceLength: 16384 });
    const h = await session.add(made.torrent, { savePath: dir, paused });
    await session.remove(h.infoHashHex, { deleteData: true }); // before its start looked at the files
    for (const f of files) assert.equal(existsSync(f), false, `${multi ? 'folder' : 'single file'}${paused ? ', added paused' : ''}: ${f} deleted`);
  }
});
