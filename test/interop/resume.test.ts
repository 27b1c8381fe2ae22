// Fast resume: a `cascade download` from a rate-limited libtorrent seeder is SIGKILLed half way,
// then the same command (same --state-dir, same -o) is run again. It must finish with correct data
// and must not fetch again the pieces it had already verified: the restarted session's
// `done.downloaded` must be about the missing half, not the whole payload.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  assertCascadeDone,
  cascade,
  compareTrees,
  describeProc,
  kill,
  ltCheck,
  ltCreate,
  makeRandomFiles,
  requireClient,
  spawnCascade,
  startLibtorrent,
  tempDir,
  waitForExit,
  type JsonEvent,
} from './helpers.ts';

const MiB = 1024 * 1024;
const TOTAL = 8 * MiB;
const PIECE = 16 * 1024;
/** libtorrent seeder upload limit: ~8 s for the whole payload. */
const RATE = 1 * MiB;
const KILL_AT = 0.45;

test('cascade download resumes after SIGKILL without re-downloading verified pieces', { timeout: 60_000 }, async (t) => {
  requireClient('cascade');
  requireClient('libtorrent');
  const root = await tempDir(t);
  const src = join(root, 'src');
  const name = 'resume-fixture';
  // Two files with an odd boundary so pieces span files.
  await makeRandomFiles(join(src, name), { 'first.bin': 5 * MiB + 12_345, 'second.bin': 3 * MiB - 12_345 });
  const torrent = join(root, 'resume.torrent');
  const created = await ltCreate(join(src, name), torrent, { pieceLength: PIECE });
  const seeder = await startLibtorrent(t, torrent, src, { uploadRate: RATE });

  const stateDir = await tempDir(t, 'cascade-state-');
  const out = join(root, 'out');
  const args = [torrent, '-o', out, '--peer', `127.0.0.1:${seeder.port}`];

  // Run 1: kill it with SIGKILL as soon as it reports >= KILL_AT progress.
  let killProgress: number | undefined;
  const first = await spawnCascade(t, 'download', args, {
    stateDir,
    onEvent: (e: JsonEvent) => {
      if (killProgress === undefined && e.event === 'progress' && typeof e.progress === 'number' && e.progress >= KILL_AT) {
        killProgress = e.progress;
        kill(first, 'SIGKILL');
      }
    },
  });
  const exit1 = await waitForExit(first, 30_000);
  assert.ok(
    killProgress !== undefined,
    `first run ended before reaching ${KILL_AT * 100}% (is the seeder's rate limit working?):\n${describeProc(first)}`,
  );
  assert.equal(exit1.signal, 'SIGKILL', `first run was not the one we killed:\n${describeProc(first)}`);
  assert.ok(
    killProgress <= 0.75,
    `first run was already at ${(killProgress * 100).toFixed(1)}% when killed; progress events too sparse or seeder not rate-limited`,
  );

  // Diagnostic only: how many valid pieces libtorrent finds on disk after the kill (read-only check).
  const onDisk = await ltCheck(torrent, out);
  const killedVerified = Number((first.events.findLast((e) => e.event === 'progress') ?? {}).verifiedPieces ?? NaN);

  // Run 2: same command, same state dir and output dir.
  const { proc: second, exit: exit2 } = await cascade(t, 'download', args, { stateDir, timeoutMs: 40_000 });
  const firstProgress = second.events.find((e) => e.event === 'progress');
  const done = assertCascadeDone(second, exit2, created.infoHash);
  await compareTrees(join(src, name), join(out, name));

  assert.equal(typeof done.downloaded, 'number', `done event has no numeric "downloaded":\n${JSON.stringify(done)}`);
  const downloaded = done.downloaded as number;
  // What was missing at the kill, plus 10% of the payload for in-flight pieces and slack.
  const story =
    `killed at ${(killProgress * 100).toFixed(1)}% (verifiedPieces ${killedVerified}); libtorrent found ` +
    `${String(onDisk.event.piecesHave)}/${String(onDisk.event.numPieces)} valid pieces on disk; the restart's first progress ` +
    `event: ${JSON.stringify(firstProgress)}; restart downloaded ${downloaded} B = ${((downloaded / TOTAL) * 100).toFixed(1)}% of the payload`;
  t.diagnostic(story);
  const allowed = Math.max(0.6, 1 - killProgress + 0.1) * TOTAL;
  assert.ok(
    downloaded <= allowed,
    `restarted download fetched ${downloaded} bytes (${((downloaded / TOTAL) * 100).toFixed(1)}% of ${TOTAL}) after being ` +
      `killed at ${(killProgress * 100).toFixed(1)}%; allowed ≤ ${Math.round(allowed)} — verified pieces were downloaded again.\n${story}`,
  );
  assert.ok(downloaded > 0, 'restarted download claims it downloaded nothing, but it was killed half way');
});
