// What `cascade serve` does with what the command line gives it (issue 44, item 7): --host binds
// the BitTorrent listener as well as HTTP, and a torrent added with `cascade add` gets a magnet
// that names the node's tracker, as a torrent shared over HTTP does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { cascade, ok, startServe, NO_CHAIN } from './node-process.ts';

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

test('serve --host binds the BitTorrent listener too', { timeout: 120_000 }, async (t) => {
  const node = await startServe(t, { args: ['--host', '127.0.0.3', ...NO_CHAIN] });
  // Before: only HTTP took the address; BitTorrent listened on 0.0.0.0, reachable at 127.0.0.1.
  assert.equal(await connects('127.0.0.3', node.btPort), true, 'BitTorrent answers on the address given');
  assert.equal(await connects('127.0.0.1', node.btPort), false, 'and on no other');
  assert.match(node.url, /^http:\/\/127\.0\.0\.3:/);
  await node.stop();
});

test('a .torrent added with `cascade add` has a magnet naming the node’s tracker', { timeout: 120_000 }, async (t) => {
  const node = await startServe(t, { args: NO_CHAIN });
  const dir = tempDir(t);
  writeFileSync(join(dir, 'notes.txt'), 'x'.repeat(40_000));
  // A torrent with no tracker of its own, made apart from the node.
  const made = await cascade(['create', join(dir, 'notes.txt'), '-o', join(dir, 'notes.torrent'), '--json']);
  assert.equal(made.code, 0, made.stderr);
  assert.doesNotMatch(made.json.magnet, /tr=/);
  const added = await ok(node, ['add', join(dir, 'notes.torrent'), '--save-path', dir, '--json']);
  const ih = added.json.infoHash as string;
  const detail = (await (await node.api(`/api/torrents/${ih}`)).json()) as { magnet: string; shareWarning: string | null };
  const tr = new URLSearchParams(detail.magnet.slice('magnet:?'.length)).getAll('tr');
  assert.ok(tr.includes(`http://127.0.0.1:${node.trackerHttpPort}/announce`), `magnet ${detail.magnet}`);
  await node.stop();
});
