// A library of a few hundred torrents: GET /api/torrents pages in a stable order (ties by infohash)
// with `total`, and the live feed sends the whole list once, then only what changed
// (`torrents:changes`), nothing at all while nothing happens, and the whole list again on
// `torrents:resync`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { bencode } from '@cascade/engine';
import { startTestServer, formWith, patternBytes, type TestServer } from './server-helpers.ts';
import { summaryCache } from '@cascade/node/features';

const COUNT = 240;

interface Row {
  infoHash: string;
  name: string | null;
  state: string;
  length: number | null;
  seedingTime: number;
  seedingTimeOrigin: number | null;
}
interface Changes {
  updated: Row[];
  removed: string[];
}

/** A .torrent of one file whose data is nowhere: added paused it only sits in the list. */
function fakeTorrent(i: number): Uint8Array {
  const pieces = createHash('sha1').update(`piece ${i}`).digest();
  // Names repeat but for case (every 40th; the sort ignores case) and sizes repeat (every 7th), so
  // sorting by them leaves ties across pages; each still has its own file.
  const word = [...'item'].map((c, k) => ((Math.floor(i / 40) >> k) & 1 ? c.toUpperCase() : c)).join('');
  return bencode({ info: { length: 4096 * (1 + (i % 7)), name: `${word}-${String(i % 40).padStart(2, '0')}`, 'piece length': 65536, pieces } });
}

async function addPaused(s: TestServer, i: number): Promise<string> {
  const fd = new FormData();
  fd.append('paused', 'true');
  fd.append('torrent', new Blob([new Uint8Array(fakeTorrent(i))]), `t${i}.torrent`);
  const r = await s.json('/api/torrents', { method: 'POST', body: fd });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.infoHash as string;
}

async function library(t: { after: (fn: () => unknown) => void }): Promise<{ s: TestServer; hashes: string[] }> {
  const s = await startTestServer(t);
  const hashes: string[] = [];
  for (let i = 0; i < COUNT; i += 8) hashes.push(...(await Promise.all(Array.from({ length: 8 }, (_, k) => addPaused(s, i + k)))));
  return { s, hashes };
}

function connect(t: { after: (fn: () => unknown) => void }, s: TestServer): Socket {
  const socket = io(s.url, { forceNew: true, reconnection: false, transports: ['websocket'], extraHeaders: { authorization: `Bearer ${s.token}` } });
  t.after(() => socket.disconnect());
  return socket;
}

function next<T>(socket: Socket, event: string, match: (v: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`no matching "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (v: T) => {
      if (!match(v)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(v);
    };
    socket.on(event, on);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('paging: every sort pages through the same order as the whole list, ties by infohash, with total', { timeout: 120_000 }, async (t) => {
  const { s, hashes } = await library(t);
  assert.equal(new Set(hashes).size, COUNT);
  for (const [sort, key] of [['name', 'name'], ['size', 'length'], ['state', 'state'], ['', '']] as const) {
    for (const order of ['asc', 'desc']) {
      const q = `${sort ? `sort=${sort}&` : ''}order=${order}`;
      const whole = (await s.json(`/api/torrents?${q}`)).body;
      assert.equal(whole.total, COUNT);
      assert.equal(whole.torrents.length, COUNT);
      const paged: Row[] = [];
      for (let offset = 0; offset < COUNT + 50; offset += 50) {
        const page = (await s.json(`/api/torrents?${q}&offset=${offset}&limit=50`)).body;
        assert.equal(page.total, COUNT, `${q} offset ${offset}: total counts every match`);
        assert.equal(page.torrents.length, Math.max(0, Math.min(50, COUNT - offset)));
        paged.push(...page.torrents);
      }
      const ids = paged.map((e) => e.infoHash);
      assert.deepEqual(ids, whole.torrents.map((e: Row) => e.infoHash), `${q}: pages join into the whole list`);
      assert.equal(new Set(ids).size, COUNT, `${q}: no row twice, none missing`);
      if (!key) continue;
      // Equal keys: ascending infohash, whichever the order.
      let ties = 0;
      for (let i = 1; i < paged.length; i++) {
        const [a, b] = [paged[i - 1]!, paged[i]!];
        if (String(a[key]).toLowerCase() !== String(b[key]).toLowerCase()) continue;
        ties++;
        assert.ok(a.infoHash < b.infoHash, `${q}: ${a.infoHash} before ${b.infoHash} on equal ${key}`);
      }
      assert.ok(ties > 100, `${q}: the library has many ties (${ties})`);
    }
  }
  // A filter pages too, and total counts what matched.
  const bySearch = (await s.json('/api/torrents?search=item-07&sort=name&limit=2')).body;
  assert.equal(bySearch.total, COUNT / 40);
  assert.equal(bySearch.torrents.length, 2);
  for (const bad of ['limit=-1', 'offset=x', 'limit=0', 'offset=-3']) {
    const r = await s.json(`/api/torrents?${bad}`);
    assert.equal(r.status, 400, bad);
    assert.match(r.body.message, /offset|limit/);
  }
});

test('feed: the list once, nothing while idle, then a resume, a pause, an add and a removal as changes; resync sends the list', { timeout: 120_000 }, async (t) => {
  const { s, hashes } = await library(t);
  const socket = connect(t, s);
  let bytes = 0;
  let events = 0;
  socket.onAny((event: string, payload: unknown) => {
    if (event !== 'torrents' && event !== 'torrents:changes') return;
    events++;
    bytes += JSON.stringify(payload).length;
  });
  const first = await next<{ torrents: Row[] }>(socket, 'torrents');
  assert.equal(first.torrents.length, COUNT);
  assert.deepEqual(new Set(first.torrents.map((e) => e.infoHash)), new Set(hashes));

  // Idle: ~3 s of feed ticks with nothing to say, and no torrent looked at (the session's change
  // feed names none).
  await sleep(1500); // what settles after the load (the queue's plan, the first feed ticks)
  const [e0, b0, looks0] = [events, bytes, summaryCache(s.node).looks];
  await sleep(3200);
  assert.equal(events - e0, 0, `no events while idle (${bytes - b0} bytes)`);
  assert.equal(summaryCache(s.node).looks - looks0, 0, 'idle feed ticks look at no torrent');

  // A resume and a pause: the one row, not the list.
  const ih = hashes[17]!;
  const resumed = next<Changes>(socket, 'torrents:changes', (c) => c.updated.some((e) => e.infoHash === ih && e.state !== 'paused'));
  assert.equal((await s.json(`/api/torrents/${ih}/resume`, { method: 'POST' })).status, 200);
  const r = await resumed;
  assert.ok(r.updated.length < 5, `only what changed (${r.updated.length} rows)`);
  assert.deepEqual(r.removed, []);
  const paused = next<Changes>(socket, 'torrents:changes', (c) => c.updated.some((e) => e.infoHash === ih && e.state === 'paused'));
  assert.equal((await s.json(`/api/torrents/${ih}/pause`, { method: 'POST' })).status, 200);
  await paused;

  // A new torrent: its row; it seeds what was uploaded, and its seeding clock runs without new rows.
  const added = next<Changes>(socket, 'torrents:changes', (c) => c.updated.some((e) => e.name === 'new.bin' && e.state === 'seeding'));
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['new.bin', patternBytes(20_000)]]) });
  assert.equal(up.status, 201);
  const row = (await added).updated.find((e) => e.name === 'new.bin')!;
  assert.equal(row.infoHash, up.body.infoHash);
  assert.equal(typeof row.seedingTimeOrigin, 'number', 'a seeding row says where its seeding time counts from');
  assert.ok(Math.abs(row.seedingTimeOrigin! + row.seedingTime * 1000 - Date.now()) < 60_000);
  await sleep(1500); // what settles after it starts seeding (rates, the tracker's first answer)
  const [e1, b1] = [events, bytes];
  await sleep(3200);
  assert.equal(events - e1, 0, `a seeding torrent sends nothing while its seeding time grows (${bytes - b1} bytes)`);

  // A removal: its infohash.
  const gone = next<Changes>(socket, 'torrents:changes', (c) => c.removed.includes(hashes[3]!));
  assert.equal((await s.json(`/api/torrents/${hashes[3]}`, { method: 'DELETE' })).status, 200);
  const g = await gone;
  assert.ok(!g.updated.some((e) => e.infoHash === hashes[3]), 'never both updated and removed');

  // Resync: the whole list as it is now.
  const again = next<{ torrents: Row[] }>(socket, 'torrents');
  socket.emit('torrents:resync');
  const list = (await again).torrents;
  assert.equal(list.length, COUNT);
  assert.ok(list.some((e) => e.infoHash === up.body.infoHash));
  assert.ok(!list.some((e) => e.infoHash === hashes[3]));
  // The HTTP list agrees, seeding time read from the same clock.
  const viaHttp = (await s.json(`/api/torrents?search=new.bin`)).body.torrents[0] as Row;
  assert.equal(viaHttp.seedingTimeOrigin, row.seedingTimeOrigin);
});
