// Issue 25, the add path and the restart at scale (a few hundred torrents here; bench/add measures
// 10,000): an add costs no full queue plan, the queue still honours its limits for torrents admitted
// without one, the traffic accounting has no timer of its own and looks only at torrents that
// changed, and a restarted node lists its whole library and seeds it again from resume data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bencode } from '@cascade/engine';
import { startTestServer, type TestServer } from './server-helpers.ts';
import { addMagnet, eventually, patchSettings, restartOf, rows, states } from './queue-helpers.ts';


/** n single-file torrents of 4 KiB whose data is already in dir (they seed once checked). */
function seedTorrents(dir: string, n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const data = randomBytes(4096);
    const name = `scale-${i}.bin`;
    writeFileSync(join(dir, name), data);
    return bencode({ info: { length: 4096, name, 'piece length': 16384, pieces: createHash('sha1').update(data).digest() } });
  });
}

/** POSTs each .torrent as the web app does (multipart field "torrent"), four requests in flight. */
async function upload(s: TestServer, torrents: Uint8Array[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < torrents.length; i = next++) {
      const form = new FormData();
      form.append('torrent', new Blob([new Uint8Array(torrents[i]!)]), `t${i}.torrent`);
      const res = await s.request('/api/torrents', { method: 'POST', body: form });
      assert.equal(res.status, 201, await res.text());
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

const allSeeding = async (s: TestServer, n: number) => {
  const r = await s.json('/api/torrents');
  const seeding = (r.body.torrents as { state: string }[]).filter((t) => t.state === 'seeding').length;
  assert.equal(seeding, n, `${seeding} of ${n} seeding`);
};

test('300 uploads: far fewer queue plans than adds, every torrent seeds, and a restart lists them all and seeds them again without checking', async (t) => {
  const s = await startTestServer(t);
  await s.ready;
  const torrents = seedTorrents(s.downloadDir, 300);
  const plansBefore = s.node.queue.plans;
  await upload(s, torrents);
  const plans = s.node.queue.plans - plansBefore;
  // One full plan per add was 300 (each reading every row: O(n²) over a library being built).
  assert.ok(plans < 30, `${plans} full queue plans for 300 adds`);
  await eventually(() => allSeeding(s, 300), 60_000);
  const r = await s.json('/api/torrents');
  assert.equal(r.body.total ?? r.body.torrents.length, 300);

  await s.close();
  const again = await restartOf(t, s);
  // Listed at once, before (and while) the library loads into the engine.
  const listed = await again.json('/api/torrents');
  assert.equal(listed.status, 200);
  assert.equal(listed.body.total ?? listed.body.torrents.length, 300);
  // Every torrent the engine gets from now on is watched for a data check: its state at every turn
  // of the event loop, and its 'checking' progress events.
  const checked = new Set<string>();
  const watched = new Set<string>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      for (const h of again.node.session.list()) {
        if (h.stats().state === 'checking') checked.add(h.infoHashHex);
        if (watched.has(h.infoHashHex)) continue;
        watched.add(h.infoHashHex);
        h.on('checking', () => checked.add(h.infoHashHex));
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  t.after(() => (watching = false));
  assert.equal(await again.ready, 300);
  await eventually(() => allSeeding(again, 300), 60_000);
  watching = false;
  await watch;
  // Resume data says what the first run verified: nothing is hashed again (needs the engine's
  // resume-without-checking, issue 25).
  assert.deepEqual([...checked], [], `${checked.size} torrents were checked again after the restart`);
});

test('torrents admitted without a full plan still respect the queue limits; a download found complete moves to the seeds', async (t) => {
  const s = await startTestServer(t);
  await s.ready;
  await patchSettings(s, { maxActiveDownloads: 2 });
  // Complete data: admitted as a download (nothing is verified before its check), it seeds once
  // checked and leaves the download slots to others.
  await upload(s, seedTorrents(s.downloadDir, 1));
  await eventually(() => allSeeding(s, 1));
  // Downloads nobody can serve: they stay running ("metadata") or queued.
  const hashes: string[] = [];
  for (let i = 0; i < 4; i++) hashes.push(await addMagnet(s));
  assert.deepEqual(await states(s, hashes), ['running', 'running', 'queued', 'queued']);
  // The user's pause frees a slot: the next in the queue runs.
  assert.equal((await s.json(`/api/torrents/${hashes[0]}/pause`, { method: 'POST' })).status, 200);
  await eventually(async () => assert.deepEqual(await states(s, hashes), ['paused', 'running', 'running', 'queued']));
  // Adding after that plan: still two downloads at most.
  hashes.push(await addMagnet(s));
  assert.deepEqual(await states(s, hashes), ['paused', 'running', 'running', 'queued', 'queued']);
});

test('the traffic accounting has no timer of its own and reads only torrents whose revision moved', async (t) => {
  const s = await startTestServer(t, { queue: { tickMs: 3_600_000 } });
  await s.ready;
  await upload(s, seedTorrents(s.downloadDir, 20));
  await eventually(() => allSeeding(s, 20), 30_000);
  const before = s.node.model.accountingVisits;
  // No tick of the queue: nothing samples (the accounting's old 2 s timer would have).
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(s.node.model.accountingVisits, before);
  s.node.queue.tick();
  assert.ok(s.node.model.accountingVisits > before, 'the tick looks at torrents that changed');
  // Right after a tick no revision moved: the next tick reads no torrent at all.
  const afterFirst = s.node.model.accountingVisits;
  s.node.queue.tick();
  assert.equal(s.node.model.accountingVisits - afterFirst, 0);
});

test('an idle library does not wake the queue each tick, and a change wakes it at once', async (t) => {
  const s = await startTestServer(t, { queue: { tickMs: 50 } });
  await s.ready;
  await upload(s, seedTorrents(s.downloadDir, 5));
  await eventually(() => allSeeding(s, 5), 30_000);
  const queue = s.node.queue;
  const tick = queue.tick.bind(queue);
  let ticks = 0;
  queue.tick = () => (ticks++, tick());
  // Once the trackers stop answering (nothing changes), half a second holds ~10 ticks of 50 ms
  // when the queue ticks regardless; a quiet queue waits for the change feed.
  await eventually(async () => {
    ticks = 0;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(ticks <= 1, `${ticks} ticks in 500 ms of an idle library`);
  }, 20_000);
  const [first] = (await s.json('/api/torrents')).body.torrents as { infoHash?: string; infoHashHex?: string }[];
  assert.equal((await s.json(`/api/torrents/${first!.infoHash ?? first!.infoHashHex}/pause`, { method: 'POST' })).status, 200);
  await eventually(() => assert.ok(ticks > 1, 'the pause woke the queue'), 5_000);
});
