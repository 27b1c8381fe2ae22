// One torrent's check reads the disk at a time (pieces/check-gate.ts): a "recheck all" over a
// library added with its data held 4 piece buffers per torrent at once, and made the disk seek
// between every torrent's files. The gate first; then sessions, with one torrent's reads held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';
import type { Storage } from '../index.ts';
import { CheckGate } from '../src/pieces/check-gate.ts';
import { tmpDir, whenDone } from './session-helpers.ts';

const tick = () => new Promise((r) => setImmediate(r));

test('the gate: first come first served, the place handed over, limits raised and lowered', async () => {
  const gate = new CheckGate(1);
  const order: string[] = [];
  const a = await gate.enter();
  assert.equal(a.waited, false);
  const b = gate.enter().then((turn) => (order.push('b'), turn));
  const c = gate.enter().then((turn) => (order.push('c'), turn));
  await tick();
  assert.equal(order.length, 0);
  assert.equal(gate.waiting, 2);
  a.leave();
  a.leave(); // a second leave hands nothing over
  // A check arriving between the hand-over and b's wake-up must not take the place too.
  const late = gate.enter().then((turn) => (order.push('late'), turn));
  const tb = await b;
  await tick();
  assert.deepEqual(order, ['b']);
  assert.equal(tb.waited, true);
  assert.equal(gate.running, 1);
  gate.limit = 3; // raised: both waiting come in at once
  const [tc, tl] = await Promise.all([c, late]);
  assert.deepEqual(order, ['b', 'c', 'late']);
  assert.equal(gate.running, 3);
  gate.limit = 1; // lowered: running checks finish, nobody new comes in until one place is left
  const d = gate.enter().then((turn) => (order.push('d'), turn));
  tb.leave();
  tc.leave();
  await tick();
  assert.deepEqual(order, ['b', 'c', 'late']);
  tl.leave();
  (await d).leave();
  assert.deepEqual(order, ['b', 'c', 'late', 'd']);
  assert.equal(gate.running, 0);
  const unlimited = new CheckGate(0);
  const turns = await Promise.all([unlimited.enter(), unlimited.enter(), unlimited.enter()]);
  assert.ok(turns.every((t) => !t.waited));
});

test('a check that reads nothing for the stalled time gives its turn up; one that reads keeps it', async () => {
  const gate = new CheckGate(1, { stalledMs: 150 });
  const reading = await gate.enter();
  const timer = setInterval(() => reading.progress(), 30); // a piece every 30 ms
  let entered = false;
  const waiting = gate.enter().then((turn) => ((entered = true), turn));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(entered, false, 'a check that reads keeps its turn');
  clearInterval(timer); // its storage hangs: no piece any more
  const second = await waiting; // the hung check gave its turn up
  reading.leave(); // it ends later: nothing more is handed over
  assert.equal(gate.running, 1);
  second.leave();
  assert.equal(gate.running, 0);
});

/** Three torrents with their data on disk; the first one's reads wait for `release`. */
async function threeWithData(t: Parameters<typeof tmpDir>[0], maxActiveChecks?: number, whileHeld?: (session: Session) => Promise<void>) {
  const root = await tmpDir(t);
  const reads: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let firstRead!: () => void;
  const firstReadSeen = new Promise<void>((r) => (firstRead = r));
  const session = await Session.create({
    host: '127.0.0.1', dht: false, webrtc: false, lsd: false, maxActiveChecks,
    storageFor: (meta, _savePath, standard) => {
      const inner = standard();
      const name = meta.name;
      return new Proxy(inner, {
        get(target, key) {
          if (key === 'readPiece') {
            return async (...args: Parameters<Storage['readPiece']>) => {
              reads.push(name);
              if (name === 'a') {
                firstRead();
                await released;
              }
              return target.readPiece(...args);
            };
          }
          const v = Reflect.get(target, key);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    },
  });
  t.after(() => session.close());
  const torrents = [];
  for (const name of ['a', 'b', 'c']) {
    const dir = path.join(root, name);
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, `${name}.bin`), randomBytes(5 * 64 * 1024));
    torrents.push((await createTorrent(dir, { pieceLength: 64 * 1024 })).torrent);
  }
  // add() resolves once the torrent's check is done: a's waits for release().
  const adds = torrents.map((torrent) => session.add(torrent, { savePath: root }));
  await firstReadSeen;
  await new Promise((r) => setTimeout(r, 300)); // room for the others' reads, were they let in
  const states = session.list().map((h) => h.state);
  const waiting = session.list().map((h) => h.checkWaiting);
  await whileHeld?.(session);
  const readsHeld = [...reads];
  release();
  return { handles: await Promise.all(adds), reads, readsHeld, states, waiting };
}

test('checks of torrents added with their data run one at a time: the others wait as checking', async (t) => {
  const { handles, reads, readsHeld, states, waiting } = await threeWithData(t);
  assert.deepEqual([...new Set(readsHeld)], ['a'], `only the first check reads while it is held: ${readsHeld.join('')}`);
  assert.deepEqual(states, ['checking', 'checking', 'checking'], 'the others wait as checking');
  assert.deepEqual(waiting, [false, true, true], 'and say they wait their turn');
  await Promise.all(handles.map((h) => whenDone(h)));
  assert.deepEqual(handles.map((h) => h.stats().progress), [1, 1, 1], 'each found its data');
  // Each torrent's reads in one run: never two checks reading at once.
  const runs = reads.filter((n, i) => i === 0 || reads[i - 1] !== n);
  assert.equal(runs.length, 3, `reads: ${reads.join('')}`);
  // A recheck takes its turn the same way, and finds everything again.
  await Promise.all(handles.map((h) => h.recheck()));
  assert.deepEqual(handles.map((h) => h.stats().progress), [1, 1, 1]);
});

test('maxActiveChecks 3: three checks read at once (the limit is the option)', async (t) => {
  const { handles, readsHeld } = await threeWithData(t, 3);
  assert.deepEqual([...new Set(readsHeld)].sort(), ['a', 'b', 'c'], `all three read: ${readsHeld.join('')}`);
  await Promise.all(handles.map((h) => whenDone(h)));
});

test('a torrent removed while its check waits its turn reads nothing; the next check goes on', async (t) => {
  let removed = '';
  const { handles, reads } = await threeWithData(t, undefined, async (session) => {
    const b = session.list()[1]!;
    removed = b.infoHashHex;
    await session.remove(b.infoHashHex);
  });
  const [a, , c] = handles;
  await Promise.all([whenDone(a!), whenDone(c!)]);
  assert.ok(!reads.includes('b'), `b was never read: ${reads.join('')}`);
  assert.equal(c!.stats().progress, 1);
  assert.ok(removed.length === 40);
});
