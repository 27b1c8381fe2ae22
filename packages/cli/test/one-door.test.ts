// Defect 7 (issue 20): a torrent added from the CLI is saved and announced as one added in the web UI
// or API — the node's download directory when no save path is given (online: the node's; offline:
// the one `serve` would use), the node's own trackers whichever door it came through — and
// `cascade announce` says what it did (trackers, DHT on or off). Real `cascade serve` processes; the
// verbs whose working directory matters (and the offline add) are real `cascade` processes, the
// others run inside the test's process (node.here: the CLI's main(), no process's module loading).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { tempDir } from './helpers.ts';
import { cascade, startServe, NO_CHAIN } from './node-process.ts';

const magnet = (hex: string) => `magnet:?xt=urn:btih:${hex}&dn=${hex.slice(0, 4)}`;

test('add without a save path: the node\'s download dir, not the CLI\'s working directory (online and offline)', { timeout: 120_000 }, async (t) => {
  const root = tempDir(t);
  const elsewhere = join(root, 'shell-cwd');
  mkdirSync(elsewhere);
  const downloads = join(root, 'node-downloads');
  const node = await startServe(t, { args: ['--download-dir', downloads, ...NO_CHAIN] });

  const added = await node.run(['add', magnet('1'.repeat(40)), '--json'], { cwd: elsewhere });
  assert.equal(added.code, 0, added.stderr);
  assert.equal(added.json.savePath, downloads);
  const list = await node.here(['list', '--json']);
  assert.equal(list.json.torrents.find((e: any) => e.infoHash === '1'.repeat(40)).savePath, downloads);
  // --save-path (and -o) still choose, relative to the shell's directory.
  const chosen = await node.run(['add', magnet('2'.repeat(40)), '--save-path', 'mine', '--json'], { cwd: elsewhere });
  assert.equal(chosen.json.savePath, join(elsewhere, 'mine'));
  await node.stop();

  // Offline: queued with the directory the next `serve` uses by default (<state-dir>/downloads).
  const stateDir = join(root, 'offline-state');
  const queued = await cascade(['add', magnet('3'.repeat(40)), '--json', '--state-dir', stateDir], { cwd: elsewhere });
  assert.equal(queued.code, 0, queued.stderr);
  assert.equal(queued.json.queued, true);
  assert.equal(queued.json.savePath, join(stateDir, 'downloads'));
});

test('every door gives a torrent the node\'s trackers: CLI add, API add and web upload alike', { timeout: 120_000 }, async (t) => {
  const root = tempDir(t);
  const node = await startServe(t, { args: NO_CHAIN });
  const own = `http://127.0.0.1:${node.trackerHttpPort}/announce`;
  const urls = (trackers: { url: string }[]) => trackers.map((x) => x.url).sort();

  // A magnet with no trackers, through the CLI.
  const viaCli = '4'.repeat(40);
  assert.equal((await node.here(['add', magnet(viaCli)])).code, 0);
  // A .torrent made without any announce URL, through the CLI.
  const data = join(root, 'song.bin');
  writeFileSync(data, 'x'.repeat(40_000));
  const made = await createTorrent(data);
  const file = join(root, 'song.torrent');
  writeFileSync(file, made.torrent);
  assert.equal((await node.here(['add', file, '--paused'])).code, 0);
  await node.here(['resume', made.metainfo.infoHashHex]);
  // The same kind of magnet through the API.
  const viaApi = '5'.repeat(40);
  const r = await node.api('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: magnet(viaApi) }) });
  assert.equal(r.status, 201);
  // A file shared from the web UI (multipart upload): the node makes the torrent with its trackers.
  const form = new FormData();
  form.append('files', new Blob(['y'.repeat(30_000)]), 'shared.bin');
  const upload = await node.api('/api/torrents', { method: 'POST', body: form });
  const shared = (await upload.json()) as { infoHash: string };
  assert.equal(upload.status, 201, JSON.stringify(shared));

  const apiTrackers = async (ih: string) => {
    const detail = (await (await node.api(`/api/torrents/${ih}`)).json()) as { trackers?: { url: string }[] };
    assert.ok(detail.trackers, `GET /api/torrents/${ih}: ${JSON.stringify(detail)}`);
    return urls(detail.trackers);
  };
  const reference = await apiTrackers(shared.infoHash);
  assert.ok(reference.includes(own), `the web upload announces to the node's tracker: ${reference}`);
  for (const ih of [viaCli, made.metainfo.infoHashHex, viaApi]) {
    assert.deepEqual(await apiTrackers(ih), reference, `trackers of ${ih}`);
  }
  // And `cascade announce` shows them too.
  const ann = await node.here(['announce', viaCli, '--json']);
  assert.deepEqual(urls(ann.json.torrents[0].trackers), reference);
});

test('announce says what it did: the trackers it reached, and that the DHT is off', { timeout: 120_000 }, async (t) => {
  const node = await startServe(t, { args: NO_CHAIN });
  const ih = '6'.repeat(40);
  assert.equal((await node.here(['add', magnet(ih)])).code, 0);
  const text = await node.here(['announce', ih]);
  assert.equal(text.code, 0, text.stderr);
  assert.doesNotMatch(text.stdout, /DHT only|announced to (the )?DHT/i);
  assert.match(text.stdout, /DHT: off/);
  assert.match(text.stdout, new RegExp(`trackers: announced to \\d+[^]*127\\.0\\.0\\.1:${node.trackerHttpPort}/announce  ok`));
  const json = await node.here(['announce', '--json']);
  assert.equal(json.json.dht, false);
  assert.equal(json.json.torrents[0].dht, 'off');
  assert.equal(json.json.torrents[0].announced, true);

  // A paused torrent is not announced, and the answer says so.
  await node.here(['pause', ih]);
  const paused = await node.here(['announce', ih]);
  assert.match(paused.stdout, /not announced: the torrent is paused/);
});
