// Idle is idle (issue 25): a seeded torrent nobody talks to runs no timer of its own, its revision
// stands still until something happens, announces after a start are spread rather than sent all at
// once, and a restart from resume data reaches seeding without 'checking' or reading a piece.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Session, bencode, createTorrent, type ResumeData, type ResumeStore, type Torrent } from '../index.ts';
import { tmpDir } from './session-helpers.ts';

function memoryStore(): ResumeStore & { data: Map<string, ResumeData> } {
  const data = new Map<string, ResumeData>();
  return { data, load: async (h) => data.get(h), save: async (h, d) => void data.set(h, d), delete: async (h) => void data.delete(h) };
}

/** `n` tiny (4 KiB) single-file torrents with their data in `dir`. */
async function tinyTorrents(dir: string, n: number, announce?: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `t${i}.bin`);
    await fs.writeFile(file, randomBytes(4096));
    out.push((await createTorrent(file, { pieceLength: 16384, announce: announce ? [announce] : undefined })).torrent);
  }
  return out;
}

/** A session seeding `n` torrents from resume data (so they seed at once, without hashing). */
async function seededSession(t: { after: (fn: () => unknown) => void }, n: number) {
  const dir = await tmpDir(t);
  const torrents = await tinyTorrents(dir, n);
  const store = memoryStore();
  const first = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, resumeStore: store });
  for (const bytes of torrents) await first.add(bytes, { savePath: dir });
  await first.close(); // writes the resume data
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, resumeStore: store });
  t.after(() => session.close());
  const handles: Torrent[] = [];
  for (const bytes of torrents) handles.push(await session.add(bytes, { savePath: dir }));
  return { session, handles, dir };
}

/** A percent-encoded binary query parameter, as hex. */
function binaryParam(url: string, name: string): string {
  const raw = new RegExp(`[?&]${name}=([^&]*)`).exec(url)?.[1] ?? '';
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') bytes.push(parseInt(raw.slice(i + 1, i + 3), 16)), (i += 2);
    else bytes.push(raw.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('hex');
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Every timer callback of this process is counted (the engine's timers are ordinary ones): a timer
// per torrent, however it is armed, shows as firings that grow with the number of torrents.
let firings = 0;
const realSetTimeout = globalThis.setTimeout;
const realSetInterval = globalThis.setInterval;
globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
  realSetTimeout(() => (firings++, fn(...args)), ms)) as typeof setTimeout;
globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
  realSetInterval(() => (firings++, fn(...args)), ms)) as typeof setInterval;

/** Timer callbacks that ran during `ms` (the wait's own timer not counted). */
async function timerFirings(ms: number): Promise<number> {
  const from = firings;
  await new Promise((r) => realSetTimeout(r, ms));
  return firings - from;
}

test('idle seeded torrents run no timer and leave the scheduler: 300 cost what 3 cost', async (t) => {
  const few = await seededSession(t, 3);
  const many = await seededSession(t, 300);
  for (const h of [...few.handles, ...many.handles]) assert.equal(h.state, 'seeding');
  // Each torrent ticks once after its start, then finds nothing to do.
  await until('every torrent to go idle', () => few.session.schedulerState().active === 0 && many.session.schedulerState().active === 0);
  assert.deepEqual(many.session.schedulerState(), { active: 0, sleeping: 0, announcesWaiting: 0 });
  // Before the scheduler each torrent fired a one-second interval: 300 torrents, 900 firings in 3 s.
  const firings = await timerFirings(3000);
  assert.ok(firings < 30, `${firings} timer callbacks ran in 3 s with 303 idle torrents`);
});

test("an idle torrent's revision stands still, and moves when something happens", async (t) => {
  const { session, handles } = await seededSession(t, 5);
  await until('the torrents to go idle', () => session.schedulerState().active === 0);
  const before = handles.map((h) => h.revision);
  await new Promise((r) => setTimeout(r, 2500));
  assert.deepEqual(handles.map((h) => h.revision), before, 'nothing happened, so nothing changed');
  assert.deepEqual(handles.map((h) => h.stats().state), handles.map(() => 'seeding'));

  // A peer to dial (refused: nothing listens on port 1) wakes the torrent: it dials, logs the attempt
  // and ticks until the candidate's back-off is all that is left.
  const woken = handles[0]!;
  woken.addPeer('127.0.0.1:1');
  await until('the woken torrent to move', () => woken.revision > before[0]!);
  assert.ok(session.schedulerState().active + session.schedulerState().sleeping >= 1);
  const paused = handles[1]!;
  await paused.pause();
  assert.ok(paused.revision > before[1]!, 'pausing is a change');
  assert.equal(handles[2]!.revision, before[2], 'the others stay as they were');
  await paused.resume();
  assert.equal(paused.state, 'seeding');
});

test('after a start, 24 seeds announce to their tracker spread out, not all at once', async (t) => {
  const arrivals: { at: number; hash: string; event: string | null }[] = [];
  const tracker = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const hash = binaryParam(req.url ?? '', 'info_hash');
    arrivals.push({ at: Date.now(), hash, event: url.searchParams.get('event') });
    res.end(Buffer.from(bencode({ interval: 1800, peers: new Uint8Array(0) })));
  });
  await new Promise<void>((r) => tracker.listen(0, '127.0.0.1', r));
  t.after(() => tracker.close());
  const announce = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}/announce`;
  const dir = await tmpDir(t);
  const torrents = await tinyTorrents(dir, 24, announce);
  const store = memoryStore();
  // Seeded from resume data, as after a restart.
  const first = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, resumeStore: store });
  for (const bytes of torrents) await first.add(bytes, { savePath: dir });
  await first.close();
  assert.equal(store.data.size, 24);
  arrivals.length = 0;

  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, resumeStore: store });
  t.after(() => session.close());
  const handles = await Promise.all(torrents.map((bytes) => session.add(bytes, { savePath: dir })));
  // A user's announce() does not queue behind the others.
  const last = handles[handles.length - 1]!;
  last.announce();
  await until('24 started announces', () => new Set(arrivals.filter((a) => a.event === 'started').map((a) => a.hash)).size === 24, 60_000);
  const started = arrivals.filter((a) => a.event === 'started');
  const spanMs = started[started.length - 1]!.at - started[0]!.at;
  // Seeds begin at max(2, sources / 1800) a second, 2 here: 24 take some 11 s, where unpaced
  // they all went in one burst.
  assert.ok(spanMs >= 5000, `24 started announces arrived within ${spanMs} ms`);
  const firstSecond = started.filter((a) => a.at - started[0]!.at < 1000).length;
  assert.ok(firstSecond <= 12, `${firstSecond} announces in the first second`);
  const lastIndex = started.findIndex((a) => a.hash === last.infoHashHex);
  assert.ok(lastIndex >= 0 && lastIndex < 3, `the explicit announce came ${lastIndex + 1}th of 24`);
  assert.equal(session.schedulerState().announcesWaiting, 0);
});

test('200 torrents restarted from resume data seed again without checking or reading a piece', async (t) => {
  const dir = await tmpDir(t);
  const torrents = await tinyTorrents(dir, 200);
  const store = memoryStore();
  const first = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, resumeStore: store });
  const checked = await Promise.all(torrents.map((bytes) => first.add(bytes, { savePath: dir })));
  // Without resume data the first start hashes the data (so 'checking' is what it shows then).
  assert.ok(checked.every((h) => h.state === 'seeding' && (h.lastCheck?.hashed ?? 0) === 1));
  await first.close();

  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, resumeStore: store });
  t.after(() => session.close());
  const seen = new Set<string>();
  let checkingEvents = 0;
  // Watch every state each torrent shows from the moment it is added until it seeds.
  let watching = true;
  const watch = (async () => {
    while (watching) {
      for (const h of session.list()) seen.add(h.state);
      await new Promise((r) => setImmediate(r));
    }
  })();
  const handles = await Promise.all(torrents.map(async (bytes) => {
    const h = await session.add(bytes, { savePath: dir });
    h.on('checking', () => checkingEvents++);
    seen.add(h.state);
    return h;
  }));
  watching = false;
  await watch;
  assert.ok(!seen.has('checking'), `states seen: ${[...seen].join(', ')}`);
  assert.equal(checkingEvents, 0);
  assert.ok(handles.every((h) => h.state === 'seeding'));
  assert.ok(handles.every((h) => h.lastCheck?.hashed === 0), 'no piece was read and hashed');
  assert.ok(handles.every((h) => h.stats().progress === 1));
});

test('after a transfer the revision follows the rates down to 0, then stands still', async (t) => {
  const dir = await tmpDir(t);
  await fs.mkdir(path.join(dir, 'seed'));
  const file = path.join(dir, 'seed', 'data.bin');
  const payload = randomBytes(2 * 1024 * 1024);
  await fs.writeFile(file, payload);
  const { torrent } = await createTorrent(file, { pieceLength: 64 * 1024 });
  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  const s = await seeder.add(torrent, { savePath: path.join(dir, 'seed') });
  const l = await leecher.add(torrent, { savePath: path.join(dir, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
  await until('the download', () => l.state === 'seeding', 30_000);
  assert.ok((await fs.readFile(path.join(dir, 'out', 'data.bin'))).equals(payload));
  // Both seeding: the connection closes, the meters decay, and each torrent leaves the active set
  // only once its rates read 0 — so the last revision a client saw shows them at 0.
  await until('both sessions to go idle', () => seeder.schedulerState().active === 0 && leecher.schedulerState().active === 0);
  const revisions = [s.revision, l.revision];
  for (const h of [s, l]) {
    const st = h.stats();
    assert.equal(st.downloadSpeed, 0);
    assert.equal(st.uploadSpeed, 0);
    assert.equal(st.peers, 0);
  }
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual([s.revision, l.revision], revisions);
  assert.ok(s.stats().uploaded >= payload.length, 'the seeder counted what it sent');
});
