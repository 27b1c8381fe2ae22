// The move journal's start-up pass (src/node/move-journal.ts): a move cut short is put back, a
// finished one only dropped, and a journal a kill cut off before it was linked into place (its
// temporary file) goes too, instead of staying in the state dir for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beginMove, undoUnfinishedMoves } from '../src/node/move-journal.ts';

test('move journal at start: a cut move is put back, a finished one dropped, a cut-off temporary journal removed', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-move-journal-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const state = join(root, 'state');
  const [a, b] = [join(root, 'a'), join(root, 'b')];
  mkdirSync(a);
  mkdirSync(b);
  const meta = { name: 'one.bin', multiFile: false, files: [] };
  // Cut short: the journal written, the file already in b, the record still says a.
  await beginMove(state, 'aa'.repeat(20), meta, a, b);
  writeFileSync(join(b, 'one.bin'), 'moved');
  // Finished: recorded at b already.
  await beginMove(state, 'bb'.repeat(20), { ...meta, name: 'two.bin' }, a, b);
  writeFileSync(join(b, 'two.bin'), 'moved');
  // A kill between the temporary file's write and its link.
  writeFileSync(join(state, 'moves', `${'cc'.repeat(20)}.json.4242.abc.tmp`), '{"infoHash":');
  const notes = await undoUnfinishedMoves(state, (ih) => ({ savePath: ih.startsWith('a') ? a : b, renamedFiles: null }));
  assert.equal(notes.length, 1, notes.join('\n'));
  assert.match(notes[0]!, /was cut short: its 1 files are back in /);
  assert.ok(existsSync(join(a, 'one.bin')) && !existsSync(join(b, 'one.bin')), 'the cut move put back');
  assert.ok(existsSync(join(b, 'two.bin')), 'the finished move left where it went');
  assert.deepEqual(readdirSync(join(state, 'moves')), [], 'no journal and no temporary file left');
});
