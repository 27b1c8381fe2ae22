// The queue and force start from the CLI against a real `cascade serve` (issue 20): positions change
// as the API then reports them; one slot leaves the others "queued" until forced; offline they say a
// running node is needed. The verbs through the running node run inside the test's process
// (okHere: the CLI's main(), without a process's module loading each); the offline ones, after the
// node stops, stay real `cascade` processes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServe, ok, okHere, entryHere, until, type ServeNode, NO_CHAIN } from './node-process.ts';

const magnet = (hex: string, name: string) => `magnet:?xt=urn:btih:${hex}&dn=${name}`;

test('queue up/down/top/bottom and force start', { timeout: 180_000 }, async (t) => {
  const node = await startServe(t, { args: NO_CHAIN });
  await okHere(node, ['settings', 'maxActiveDownloads', '1']);
  const [a, b, c] = ['d1', 'e2', 'f3'].map((x) => x.repeat(20)) as [string, string, string];
  for (const [ih, name] of [[a, 'one'], [b, 'two'], [c, 'three']] as const) await okHere(node, ['add', magnet(ih, name)]);
  const order = async () =>
    (await okHere(node, ['list', '--json', '--sort', 'queuePosition'])).json.torrents.map((e: any) => [e.name, e.queuePosition]);
  assert.deepEqual(await order(), [['one', 1], ['two', 2], ['three', 3]]);

  const top = await okHere(node, ['queue', c.slice(0, 6), 'top', '--json']);
  assert.deepEqual([top.json.infoHash, top.json.queuePosition], [c, 1]);
  assert.deepEqual(await order(), [['three', 1], ['one', 2], ['two', 3]]);
  assert.match((await okHere(node, ['queue', c, 'down'])).stdout, /moved down: now #2 in the queue/);
  await okHere(node, ['queue', b, 'up']);
  assert.deepEqual(await order(), [['one', 1], ['two', 2], ['three', 3]]);
  await okHere(node, ['queue', a, 'bottom']);
  assert.deepEqual(await order(), [['two', 1], ['three', 2], ['one', 3]]);
  // The API sees the same order.
  const api = (await (await node.api('/api/torrents?sort=queuePosition')).json()) as { torrents: { name: string }[] };
  assert.deepEqual(api.torrents.map((e) => e.name), ['two', 'three', 'one']);

  // One slot: the others wait as "queued" until forced.
  const waiting = await until('a queued torrent', async () => ((await entryHere(node, a)).state === 'queued' ? true : undefined));
  assert.ok(waiting);
  const forced = await okHere(node, ['force-start', a, '--json']);
  assert.equal(forced.json.forceStart, true);
  assert.notEqual(forced.json.state, 'queued');
  assert.equal((await entryHere(node, a)).forceStart, true);
  const off = await okHere(node, ['force-start', a, '--off', '--json']);
  assert.equal(off.json.forceStart, false);

  // The order its pieces come in (issue 43 item 7): qBittorrent's two toggles, as verbs.
  assert.equal((await okHere(node, ['sequential', a, '--json'])).json.sequential, true);
  assert.equal((await okHere(node, ['first-last', a.slice(0, 8), '--json'])).json.firstLastPiece, true);
  assert.equal((await okHere(node, ['sequential', a, '--off', '--json'])).json.sequential, false);
  const shown = (await (await node.api(`/api/torrents/${a}`)).json()) as { sequential: boolean; firstLastPiece: boolean };
  assert.deepEqual([shown.sequential, shown.firstLastPiece], [false, true]);
  assert.match((await okHere(node, ['first-last', a, '--off'])).stdout, /first and last pieces first off/);

  const unknown = await node.here(['queue', '9'.repeat(40), 'up']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no torrent/);
  await node.stop();
  const offline = await node.run(['queue', a, 'up']);
  assert.equal(offline.code, 1);
  assert.match(offline.stderr, /needs a running node/);
  assert.match((await node.run(['sequential', a])).stderr, /needs a running node/);
});

test('pause, resume and remove several torrents at once (or all): one bulk call, a line each; offline too', { timeout: 180_000 }, async (t) => {
  const node = await startServe(t, { args: NO_CHAIN });
  const hashes = ['a7', 'b8', 'c9'].map((x) => x.repeat(20));
  for (const [i, ih] of hashes.entries()) await okHere(node, ['add', magnet(ih, `t${i}`)]);
  const states = async () => (await okHere(node, ['list', '--json', '--sort', 'name'])).json.torrents.map((e: any) => e.state);

  const paused = await okHere(node, ['pause', 'all', '--json']);
  assert.deepEqual(paused.json.results.map((r: any) => r.ok), [true, true, true]);
  assert.deepEqual(await states(), ['paused', 'paused', 'paused']);
  const resumed = await okHere(node, ['resume', hashes[0]!.slice(0, 6), hashes[2]!]);
  assert.match(resumed.stdout, new RegExp(`resumed ${hashes[0]!.slice(0, 8)}\\nresumed ${hashes[2]!.slice(0, 8)}`));
  const after = await states();
  assert.equal(after[1], 'paused');
  assert.notEqual(after[0], 'paused');
  const unknown = await node.here(['pause', hashes[0]!, 'f'.repeat(40)]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no torrent/);

  await okHere(node, ['remove', hashes[0]!, hashes[1]!.slice(0, 5)]);
  assert.deepEqual((await okHere(node, ['list', '--json'])).json.torrents.map((e: any) => e.infoHash), [hashes[2]]);

  await node.stop();
  await ok(node, ['add', magnet(hashes[0]!, 'again')]);
  await ok(node, ['pause', hashes[0]!, hashes[2]!]);
  assert.deepEqual((await ok(node, ['list', '--json'])).json.torrents.map((e: any) => e.state), ['paused', 'paused']);
  const removeAll = await node.run(['remove', 'all']);
  assert.equal(removeAll.code, 2);
  assert.match(removeAll.stderr, /needs a running node/);
});
