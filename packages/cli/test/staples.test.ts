// The staples from the CLI against a real `cascade serve` (issue 20): settings, speed limits,
// categories, tags, add options and the list's columns, sort and filters — each checked against what
// the node's HTTP API then says (one model behind both doors); then the same verbs offline on the
// state DB, and a restarted node that keeps what they stored.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { startServe, ok, type Run, type ServeNode, NO_CHAIN } from './node-process.ts';

const MiB = 1024 * 1024;
const magnet = (hex: string, name: string) => `magnet:?xt=urn:btih:${hex}&dn=${name}`;
const A = 'a1'.repeat(20);
const B = 'b2'.repeat(20);
const C = 'c3'.repeat(20);

/** A verb run inside this process (the CLI's own main(), its output and exit code: node-process.ts's
 *  cascadeHere), insisting it succeeds. Some ~70 verbs would otherwise be ~70 `cascade` processes
 *  at ~0.4 CPU-s of module loading each. A few stay real processes (`ok`, `node.run`): a JSON
 *  result, a text table, a refusal's exit status 2, and a verb on the stopped node's state. */
async function here(node: ServeNode, args: string[]): Promise<Run> {
  const r = await node.here(args);
  if (r.code !== 0) throw new Error(`cascade ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

async function apiJson(node: ServeNode, path: string): Promise<any> {
  const r = await node.api(path);
  assert.equal(r.status, 200, path);
  return r.json();
}

test('settings and limits: set from the CLI, seen by the API, kept offline and after a restart', { timeout: 180_000 }, async (t) => {
  const root = tempDir(t);
  const stateDir = join(root, 'state');
  let node = await startServe(t, { stateDir, args: NO_CHAIN });

  const all = (await ok(node, ['settings', '--json'])).json;
  for (const k of ['downloadLimit', 'uploadLimit', 'maxActiveDownloads', 'ratioLimit', 'downloadDir', 'publicUrl']) assert.ok(k in all, k);
  assert.match((await ok(node, ['settings'])).stdout, /^downloadLimit\s+none$/m);

  const set = await here(node, ['settings', 'maxActiveDownloads', '2', '--json']);
  assert.deepEqual([set.json.key, set.json.value], ['maxActiveDownloads', 2]);
  assert.equal((await apiJson(node, '/api/settings')).maxActiveDownloads, 2);
  await here(node, ['settings', 'ratioLimit', '1.5']);
  assert.equal((await here(node, ['settings', 'ratioLimit'])).stdout.trim(), 'ratioLimit 1.5');
  await here(node, ['settings', 'ratioLimit', 'none']);
  assert.equal((await apiJson(node, '/api/settings')).ratioLimit, null);

  const limits = await here(node, ['limits', '--down', '1.5M', '--up', '500k', '--alt-down', '100k', '--alt-up', 'none', '--json']);
  assert.deepEqual(
    [limits.json.downloadLimit, limits.json.uploadLimit, limits.json.altDownloadLimit, limits.json.altUploadLimit],
    [1.5 * MiB, 500 * 1024, 100 * 1024, 0],
  );
  const api = await apiJson(node, '/api/settings');
  assert.deepEqual([api.downloadLimit, api.uploadLimit, api.altDownloadLimit, api.altUploadLimit], [1.5 * MiB, 500 * 1024, 100 * 1024, 0]);
  const shown = (await here(node, ['limits'])).stdout;
  assert.match(shown, /node-wide\s+download 1\.5 MiB\/s, upload 500 KiB\/s/);
  assert.match(shown, /alternative\s+download 100 KiB\/s, upload none \(off\)/);
  // The turtle switch.
  assert.equal((await here(node, ['limits', '--alt', 'on', '--json'])).json.altSpeedEnabled, true);
  assert.equal((await apiJson(node, '/api/settings')).altSpeedEnabled, true);
  assert.match((await here(node, ['limits'])).stdout, /not in force: alternative limits on[^]*\(on\)/);
  await here(node, ['limits', '--alt', 'off']);
  assert.equal((await apiJson(node, '/api/settings')).altSpeedEnabled, false);

  // The node's own checks answer bad values: exit 2 naming the setting, nothing changed.
  for (const [args, re] of [
    [['settings', 'maxActiveDownloads', '-3'], /maxActiveDownloads/],
    [['settings', 'nope', '1'], /unknown setting "nope"/],
    [['settings', 'downloadLimit', 'fast'], /downloadLimit: invalid rate "fast"/],
    [['settings', 'seedingLimitAction', 'explode'], /seedingLimitAction/],
  ] as [string[], RegExp][]) {
    const r = await node.here(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.equal((await apiJson(node, '/api/settings')).maxActiveDownloads, 2);

  await node.stop();
  // Offline: the stored settings, changed for the next serve.
  const offline = await ok(node, ['limits', '--down', '4MiB', '--json']);
  assert.equal(offline.json.online, false);
  assert.equal(offline.json.downloadLimit, 4 * MiB);
  assert.equal((await here(node, ['settings', 'maxActiveDownloads', '--json'])).json.value, 2);
  await here(node, ['settings', 'maxActiveUploads', '3']);

  node = await startServe(t, { stateDir, args: NO_CHAIN });
  const after = await apiJson(node, '/api/settings');
  assert.deepEqual([after.downloadLimit, after.uploadLimit, after.maxActiveDownloads, after.maxActiveUploads], [4 * MiB, 500 * 1024, 2, 3]);
  await node.stop();
});

test('categories, tags, add options, per-torrent limits and the list: online, then offline', { timeout: 180_000 }, async (t) => {
  const root = tempDir(t);
  const stateDir = join(root, 'state');
  const movies = join(root, 'movies');
  let node = await startServe(t, { stateDir, args: NO_CHAIN });

  assert.match((await here(node, ['category', 'list'])).stdout, /no categories/);
  const made = await here(node, ['category', 'add', 'Movies', '--save-path', movies, '--json']);
  assert.deepEqual([made.json.name, made.json.savePath], ['Movies', movies]);
  await here(node, ['category', 'add', 'Music']);
  const again = await node.here(['category', 'add', 'Movies']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /Movies.*exists/);
  assert.deepEqual((await apiJson(node, '/api/categories')).categories.map((c: any) => c.name).sort(), ['Movies', 'Music']);

  // add: the category's save path, tags, paused.
  const added = await here(node, ['add', magnet(A, 'alpha'), '--category', 'Movies', '--tag', 'hd', '--tag', 'new,2026', '--paused', '--json']);
  assert.equal(added.json.savePath, movies);
  await here(node, ['add', magnet(B, 'beta'), '--save-path', join(root, 'b')]);
  // An add naming a category not made yet makes it (as qBittorrent's add does); setting one does not.
  const D = 'd4'.repeat(20);
  await here(node, ['add', magnet(D, 'delta'), '--category', 'Docs']);
  assert.equal((await apiJson(node, `/api/torrents/${D}`)).category, 'Docs');
  await here(node, ['remove', D]);
  await here(node, ['category', 'remove', 'Docs']);
  const unknown = await node.here(['category', 'set', B, 'Nope']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /Nope/);
  const detail = await apiJson(node, `/api/torrents/${A}`);
  assert.deepEqual([detail.category, detail.tags, detail.state, detail.savePath], ['Movies', ['hd', 'new', '2026'], 'paused', movies]);

  // tags
  await here(node, ['tags', A.slice(0, 10), 'remove', 'new']);
  const tagged = await here(node, ['tags', B, 'add', 'hd', 'x', '--json']);
  assert.deepEqual(tagged.json.tags, ['hd', 'x']);
  assert.deepEqual((await here(node, ['tags', '--json'])).json.tags.sort(), ['2026', 'hd', 'x']);
  assert.deepEqual((await apiJson(node, '/api/tags')).tags.sort(), ['2026', 'hd', 'x']);
  assert.match((await here(node, ['tags', A])).stdout, /hd, 2026/);

  // category set / clear
  await here(node, ['category', 'set', B, 'Music']);
  assert.equal((await apiJson(node, `/api/torrents/${B}`)).category, 'Music');
  const cleared = await here(node, ['category', 'set', B, '', '--json']);
  assert.equal(cleared.json.category, null);
  assert.equal((await apiJson(node, `/api/torrents/${B}`)).category, null);

  // per-torrent limits
  const own = await here(node, ['limits', '--down', '2M', '--up', '0', A, '--json']);
  assert.deepEqual([own.json.downloadLimit, own.json.uploadLimit], [2 * MiB, 0]);
  assert.equal((await apiJson(node, `/api/torrents/${A}`)).downloadLimit, 2 * MiB);
  assert.match((await here(node, ['limits', A])).stdout, /download 2\.0 MiB\/s, upload none/);

  // list: columns, JSON fields, sort, limit, filters
  const text = (await ok(node, ['list'])).stdout;
  assert.match(text, /^HASH\s+STATE\s+DONE\s+SIZE\s+QUEUE\s+RATIO\s+CATEGORY\s+NAME$/m);
  assert.match(text, new RegExp(`^${A.slice(0, 8)}\\s+paused\\s+\\?\\s+\\?\\s+\\S+\\s+0\\.00\\s+Movies\\s+alpha\\s+\\[hd, 2026\\]`, 'm'));
  const json = (await here(node, ['list', '--json'])).json;
  for (const k of ['category', 'tags', 'savePath', 'queuePosition', 'ratio', 'downloadLimit', 'uploadLimit', 'forceStart', 'addedAt']) {
    assert.ok(k in json.torrents[0], `list --json has ${k}`);
  }
  const names = async (...args: string[]) => (await here(node, ['list', '--json', ...args])).json.torrents.map((e: any) => e.name);
  assert.deepEqual(await names('--sort', 'name'), ['alpha', 'beta']);
  assert.deepEqual(await names('--sort', 'name', '--order', 'desc', '--limit', '1'), ['beta']);
  const page = await here(node, ['list', '--limit', '1', '--json']);
  assert.deepEqual([page.json.torrents.length, page.json.total], [1, 2]);
  assert.match((await here(node, ['list', '--limit', '1'])).stdout, /\(1 of 2; --limit shows more\)/);
  assert.deepEqual(await names('--category', 'Movies'), ['alpha']);
  assert.deepEqual(await names('--category', ''), ['beta']);
  assert.deepEqual(await names('--tag', 'x'), ['beta']);
  assert.deepEqual(await names('--state', 'paused'), ['alpha']);
  const badState = await node.run(['list', '--state', 'sleepy']);
  assert.equal(badState.code, 2);
  assert.match(badState.stderr, /state.*sleepy/);
  const badSort = await node.here(['list', '--sort', 'colour']);
  assert.equal(badSort.code, 2);
  assert.match(badSort.stderr, /sort.*colour/);

  // remove a category: its torrents leave it
  await here(node, ['category', 'remove', 'Music']);
  assert.deepEqual((await here(node, ['category', 'list', '--json'])).json.categories.map((c: any) => c.name), ['Movies']);

  await node.stop();
  // Offline: the same verbs on the state DB.
  assert.deepEqual((await here(node, ['category', '--json'])).json.categories.map((c: any) => c.name), ['Movies']);
  await here(node, ['category', 'add', 'Books']);
  await here(node, ['tags', B, 'add', 'offline']);
  await here(node, ['category', 'set', B, 'Books']);
  await here(node, ['limits', '--up', '64k', B]);
  const queued = await here(node, ['add', magnet(C, 'gamma'), '--category', 'Movies', '--tag', 'later', '--json']);
  assert.deepEqual([queued.json.queued, queued.json.savePath], [true, movies]);
  const refused = await node.here(['category', 'set', B, 'Nope']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Nope/);
  assert.deepEqual((await here(node, ['list', '--json', '--category', 'Movies', '--sort', 'name'])).json.torrents.map((e: any) => e.name), ['alpha', 'gamma']);
  const offlinePage = await here(node, ['list', '--json', '--sort', 'name', '--order', 'desc', '--limit', '2']);
  assert.deepEqual([offlinePage.json.online, offlinePage.json.torrents.map((e: any) => e.name), offlinePage.json.total], [false, ['gamma', 'beta'], 3]);

  node = await startServe(t, { stateDir, args: NO_CHAIN });
  const b = await apiJson(node, `/api/torrents/${B}`);
  assert.deepEqual([b.category, b.tags, b.uploadLimit], ['Books', ['hd', 'x', 'offline'], 64 * 1024]);
  const c = await apiJson(node, `/api/torrents/${C}`);
  assert.deepEqual([c.category, c.tags, c.savePath], ['Movies', ['later'], movies]);
  await node.stop();
});
