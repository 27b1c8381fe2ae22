// Checks take turns (engine: maxActiveChecks, default 1), so a start that must hash its data may wait
// long behind another check (a recheck of a big torrent). Nothing else may wait with it: an add of
// a torrent with its data answers within 3 s ("checking", its turn to come), and the queue's start
// permits go on to the next start instead of being held by starts parked at the gate. The list says
// which wait (checkWaiting), and Transmission's own client shows them as "Will Verify".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { startTestServer, patternBytes } from '../../http/test/server-helpers.ts';
import { addMagnet, eventually, patchSettings, rows } from '../../http/test/queue-helpers.ts';
import { remoteOk } from './transmission-helpers.ts';

interface Turn {
  leave(): void;
}

test('while another check holds the turn, adds with data answer "checking" and other starts run', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  await patchSettings(s, { maxActiveDownloads: 0 }); // no queue limit: only the check turns and start permits matter
  // The turn, held as a long recheck would hold it.
  const gate = (s.node.session as unknown as { context(): { checkGate: { enter(): Promise<Turn>; waiting: number } } }).context().checkGate;
  const held = await gate.enter();
  t.after(() => held.leave());

  // Six torrents with their data in the download dir, added at once: more than the queue's start
  // permits (4). Each answers (within the signal's 10 s; a check waiting its turn answers after 3 s).
  const hashes = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
    const dir = join(s.downloadDir, `with-data-${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'data.bin'), patternBytes(256 * 1024, i + 1));
    const made = await createTorrent(dir, { pieceLength: 64 * 1024 });
    const form = new FormData();
    form.append('torrent', new Blob([new Uint8Array(made.torrent)]), `with-data-${i}.torrent`);
    const r = await s.json('/api/torrents', { method: 'POST', body: form, signal: AbortSignal.timeout(10_000) });
    assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
    return made.metainfo.infoHashHex;
  }));
  const listed = await rows(s);
  assert.deepEqual(hashes.map((ih) => listed.get(ih)?.state), Array(6).fill('checking'), 'each waits its turn');
  assert.deepEqual(hashes.map((ih) => listed.get(ih)?.checkWaiting), Array(6).fill(true));
  // Its Status column, just before the name (listRows would read the ETA column's "Unknown").
  const shown = (await remoteOk(s, ['-l'])).split('\n').filter((l) => /with-data-\d\s*$/.test(l));
  assert.equal(shown.length, 6);
  assert.ok(shown.every((l) => /\s{2}Will Verify\s+with-data-\d\s*$/.test(l)), `transmission-remote: queued for verification\n${shown.join('\n')}`);
  await eventually(() => assert.equal(gate.waiting, 6, 'all six wait their turn'));
  assert.match(await (await s.request('/metrics')).text(), /^cascade_checks_waiting 6$/m, 'Prometheus sees the queue of checks');

  // A start that needs no check (a magnet, fetching its metadata) is not held up behind them.
  const magnet = await addMagnet(s);
  await eventually(async () => assert.equal((await rows(s)).get(magnet)?.state, 'metadata'));

  held.leave();
  await eventually(async () => {
    const now = await rows(s);
    for (const ih of hashes) assert.equal(now.get(ih)?.state, 'seeding', `${ih} after its turn`);
  }, 30_000);
  const after = await rows(s);
  assert.ok(hashes.every((ih) => after.get(ih)?.checkWaiting === undefined), 'no longer waiting');
});
