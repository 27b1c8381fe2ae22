// The move journal's start-up pass (src/node/move-journal.ts): a move cut short is put back, a
// finished one only dropped, and a journal a kill cut off before it was linked into place (its
// temporary file) goes too, instead of staying in the state dir for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MoveFailed, beginMove, moveJournalled, undoUnfinishedMoves } from '../src/node/move-journal.ts';

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

// Two moves of one torrent at once (a cluster member's own, and one asked through another member:
// bench:crash --cluster): the second used to write its journal over the first's and, refused by the
// engine ("a move of this torrent is already under way"), remove it, so the first ran unjournalled.
test('two moves of one torrent at once go one after the other, each under its own journal', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-move-journal-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const state = join(root, 'state');
  const ih = 'dd'.repeat(20);
  const journal = join(state, 'moves', `${ih}.json`);
  const seen: string[] = [];
  let moving = false;
  const torrent = {
    metainfo: { name: 'one.bin', multiFile: false, files: [] },
    savePath: join(root, 'a'),
    async move(to: string) {
      if (moving) throw new Error('a move of this torrent is already under way'); // as the engine refuses
      moving = true;
      await new Promise((r) => setTimeout(r, 30));
      // The journal names this very move while its files move.
      const j = JSON.parse(readFileSync(journal, 'utf8')) as { from: string; to: string };
      seen.push(`${j.from.slice(root.length)}->${j.to.slice(root.length)}`);
      this.savePath = to;
      moving = false;
    },
  };
  const stored: string[] = [];
  const store = async (p: string) => void stored.push(p.slice(root.length));
  assert.deepEqual(await Promise.all([moveJournalled(state, ih, torrent, join(root, 'b'), [], store), moveJournalled(state, ih, torrent, join(root, 'c'), [], store)]), [true, true]);
  assert.deepEqual(seen, ['/a->/b', '/b->/c']);
  // Already there: nothing moves, nothing is stored, and it says so (a cluster member logs "moved"
  // only for a copy that moved).
  assert.equal(await moveJournalled(state, ih, torrent, join(root, 'c'), [], store), false);
  assert.deepEqual(seen, ['/a->/b', '/b->/c']);
  assert.deepEqual(stored, ['/b', '/c']);
  assert.equal(torrent.savePath, join(root, 'c'));
  assert.equal(existsSync(journal), false, 'no journal left');
  // One the engine refuses: MoveFailed, the journal gone, the next one still runs.
  const refused = { ...torrent, savePath: join(root, 'c'), move: async () => { throw new Error('EACCES'); } };
  await assert.rejects(moveJournalled(state, ih, refused, join(root, 'd'), [], store), (err: Error) => err instanceof MoveFailed && /it stays where it was: EACCES/.test(err.message));
  assert.equal(existsSync(journal), false);
});
