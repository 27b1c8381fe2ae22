// A save path moved through any member (src/holder-moves.ts, schema 23) on both engines: the
// path as given is left on every other copy's row (not the asker's, not a removal's tombstone);
// each holder reads the moves asked of it; settling one clears it (keeping why it failed), unless
// another move was asked meanwhile; the detail's holders report the copy's path and the request.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { HolderMoveStore } from '../../src/holder-moves.ts';
import { HolderStore } from '../../src/holder-store.ts';
import type { Open } from '../../../node/test/store-engines.ts';

const X = 'e'.repeat(40);

export async function holderMoveCases(t: TestContext, open: Open): Promise<void> {
  await t.test('save-path moves asked of every other holder (cluster/holder-moves.ts)', async (t) => {
    const s = await open(t);
    for (const [member, state] of [['asker', 'seeding'], ['b', 'seeding'], ['c', 'downloading'], ['gone', 'removed']] as const) {
      await s.run('INSERT INTO torrent_holders (info_hash, member_id, epoch, state, progress, updated_at, save_path) VALUES (?, ?, 1, ?, 1, 0, ?)', [X, member, state, `/${member}/downloads`]);
    }
    const moves = new HolderMoveStore(s);
    assert.equal(await moves.forward(X, 'asker', 'moved'), 2, 'b and c; not the asker, not a tombstone');
    assert.deepEqual(await moves.pending('b'), [{ infoHash: X, moveTo: 'moved' }]);
    assert.deepEqual(await moves.pending('asker'), []);
    assert.deepEqual(await moves.pending('gone'), []);
    await moves.settle(X, 'b', 'moved', null);
    await moves.settle(X, 'c', 'elsewhere', null);
    assert.deepEqual(await moves.pending('c'), [{ infoHash: X, moveTo: 'moved' }], 'another move asked meanwhile: left for it');
    await moves.settle(X, 'c', 'moved', 'moving the data failed: EACCES');
    const shown = Object.fromEntries((await new HolderStore(s).holdersOf(X)).map((h) => [h.member, [h.savePath, h.moveTo, h.moveError]]));
    assert.deepEqual(shown, {
      asker: ['/asker/downloads', null, null],
      b: ['/b/downloads', null, null],
      c: ['/c/downloads', null, 'moving the data failed: EACCES'],
    });
    assert.equal(await moves.forward(X, 'asker', '/srv/again'), 2);
    assert.deepEqual(Object.fromEntries((await new HolderStore(s).holdersOf(X)).map((h) => [h.member, h.moveError])), { asker: null, b: null, c: null }, 'a new move clears the last failure');
  });
}
