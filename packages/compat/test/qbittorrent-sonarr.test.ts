// What Sonarr's qBittorrent client (QBittorrent.cs + QBittorrentProxyV2.cs) sends, in its order, over
// raw HTTP with its form parameters and its re-login on 403: the connection test, a magnet and a
// .torrent grabbed into its category, the queue poll that decides "downloading / completed /
// can be removed", the post-import category, and the removal with data. Each call must succeed
// the way Sonarr checks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileTorrent, waitFor } from './qbittorrent-helpers.ts';
import { startTestServer } from '../../http/test/server-helpers.ts';

test('a Sonarr-style session: test connection, grab, poll, import, remove', async (t) => {
  const s = await startTestServer(t);
  const log: string[] = [];
  let cookie = '';
  const base = `${s.url}/api/v2`;

  async function login(): Promise<void> {
    const r = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'sonarr', password: s.token }).toString(),
    });
    const text = await r.text();
    log.push(`POST auth/login → ${r.status} ${text}`);
    // Sonarr: anything but "Ok." is an authentication failure.
    assert.equal(text, 'Ok.');
    cookie = r.headers.get('set-cookie')!.split(';')[0]!;
  }

  /** Sonarr's ProcessRequest: with the cached cookie; on 403 log in again and retry once. */
  async function request(method: 'GET' | 'POST', path: string, form?: Record<string, string> | FormData): Promise<{ status: number; text: string }> {
    const send = () => {
      const headers: Record<string, string> = { cookie };
      let body: string | FormData | undefined;
      if (form instanceof FormData) body = form;
      else if (form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(form).toString();
      }
      return fetch(`${base}/${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    };
    let r = await send();
    if (r.status === 403) {
      await r.text();
      await login();
      r = await send();
    }
    const text = await r.text();
    log.push(`${method} ${path.split('?')[0]}${path.includes('?') ? '?' + path.split('?')[1]!.replace(/[0-9a-f]{40}/g, '<hash>') : ''} → ${r.status}`);
    return { status: r.status, text };
  }
  const json = async (method: 'GET' | 'POST', path: string) => {
    const r = await request(method, path);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return JSON.parse(r.text);
  };

  // --- Test(): TestConnection ---
  // IsApiSupported: webapiVersion without a session; 403 means "API v2 is there".
  const probe = await fetch(`${base}/app/webapiVersion`);
  log.push(`GET app/webapiVersion (no cookie) → ${probe.status}`);
  assert.equal(probe.status, 403);
  const version = (await request('GET', 'app/webapiVersion')).text;
  assert.ok(/^\d+\.\d+(\.\d+)?$/.test(version) && Number(version.split('.')[0]) >= 2, `Sonarr parses ${version} as a Version ≥ 2.0`);
  const appVersion = (await request('GET', 'app/version')).text;
  assert.equal(appVersion.replace(/^v/, ''), '4.6.7');
  let config = await json('GET', 'app/preferences');
  // Sonarr refuses a client that removes torrents at the ratio limit.
  assert.ok(!((config.max_ratio_enabled || config.max_seeding_time_enabled) && (config.max_ratio_act === 1 || config.max_ratio_act === 3)));
  // TestCategory: list, create what is missing, list again.
  let labels = await json('GET', 'torrents/categories');
  for (const c of ['tv-sonarr', 'tv-imported']) {
    if (!(c in labels)) assert.equal((await request('POST', 'torrents/createCategory', { category: c })).status, 200);
  }
  labels = await json('GET', 'torrents/categories');
  assert.ok('tv-sonarr' in labels && 'tv-imported' in labels);
  // TestPrioritySupport: queueing must be on for "First" priority.
  config = await json('GET', 'app/preferences');
  assert.equal(config.queueing_enabled, true);
  // TestGetTorrents.
  assert.deepEqual(await json('GET', 'torrents/info?category=tv-sonarr'), []);

  // --- Download(): a magnet (AddFromMagnetLink) ---
  config = await json('GET', 'app/preferences');
  const magnetHash = '5e5e'.repeat(10);
  const magnet = `magnet:?xt=urn:btih:${magnetHash.toUpperCase()}&dn=Show.S01E02&tr=${encodeURIComponent('http://127.0.0.1:1/announce')}`;
  let add = await request('POST', 'torrents/add', { urls: magnet, category: 'tv-sonarr', paused: 'false', ratioLimit: '1.5', seedingTimeLimit: '120' });
  assert.equal(add.status, 200);
  assert.notEqual(add.text, 'Fails.');
  // WaitForTorrent → IsTorrentLoaded: properties answers 200.
  assert.equal((await request('GET', `torrents/properties?hash=${magnetHash}`)).status, 200);
  // (API < 2.8.1 would set share limits here; Sonarr still may.)
  assert.equal((await request('POST', 'torrents/setShareLimits', { hashes: magnetHash, ratioLimit: '1.5', seedingTimeLimit: '120' })).status, 200);
  // Priority "First": topPrio (a 409 would be swallowed; here queueing is on, so 200).
  assert.equal((await request('POST', 'torrents/topPrio', { hashes: magnetHash })).status, 200);
  // Initial state "Force Start".
  assert.equal((await request('POST', 'torrents/setForceStart', { hashes: magnetHash, value: 'true' })).status, 200);

  // --- Download(): a .torrent (AddFromTorrentFile), data already in the category's folder ---
  const ep = await fileTorrent(s.downloadDir, 'Show.S01E03.mkv', 120_000, 9);
  const fd = new FormData();
  fd.append('torrents', new Blob([ep.torrent]), 'Show.S01E03.torrent');
  fd.append('category', 'tv-sonarr');
  fd.append('ratioLimit', '0');
  add = await request('POST', 'torrents/add', fd);
  assert.equal(add.status, 200);
  assert.notEqual(add.text, 'Fails.');

  // --- GetItems(): the queue poll ---
  const poll = async () => {
    const v = (await request('GET', 'app/webapiVersion')).text;
    const cfg = await json('GET', 'app/preferences');
    const torrents = await json('GET', 'torrents/info?category=tv-sonarr');
    return { v, cfg, torrents: new Map<string, any>(torrents.map((x: any) => [x.hash.toUpperCase(), x])) };
  };
  let q = await poll();
  assert.equal(q.torrents.size, 2);
  const m = q.torrents.get(magnetHash.toUpperCase());
  assert.equal(m.category, 'tv-sonarr');
  assert.equal(m.force_start, true);
  assert.equal(m.ratio_limit, 1.5);
  assert.equal(m.seeding_time_limit, 120);
  // A magnet still fetching metadata: Sonarr shows it queued (DHT on) or warns (DHT off); forced: downloading.
  assert.ok(['metaDL', 'forcedMetaDL', 'forcedDL', 'stalledDL', 'downloading'].includes(m.state), m.state);
  assert.ok(m.eta === 8_640_000 || m.eta >= 0);

  // The .torrent verifies and seeds; its ratio goal of 0 is reached at once, so Cascade pauses it
  // (seedingLimitAction "pause"): pausedUP + goal reached = Sonarr may import and remove it.
  const done = await waitFor('the episode to seed and stop at its ratio goal', async () => {
    const x = (await poll()).torrents.get(ep.infoHash.toUpperCase());
    return x?.state === 'pausedUP' ? x : undefined;
  });
  assert.equal(done.progress, 1);
  assert.equal(done.ratio_limit, 0);
  assert.ok(done.ratio >= done.ratio_limit, 'HasReachedSeedLimit');
  // API ≥ 2.6.1: the output path is content_path, which must differ from save_path.
  assert.equal(done.save_path, s.downloadDir);
  assert.equal(done.content_path, `${s.downloadDir}/Show.S01E03.mkv`);
  assert.notEqual(done.content_path, done.save_path);
  // GetImportItem (older API) and the seeding-time check read files and properties.
  const files = await json('GET', `torrents/files?hash=${ep.infoHash}`);
  assert.equal(files[0].name, 'Show.S01E03.mkv');
  const props = await json('GET', `torrents/properties?hash=${ep.infoHash}`);
  assert.equal(props.save_path, s.downloadDir);
  assert.equal(typeof props.seeding_time, 'number');

  // MarkItemAsImported: the post-import category.
  assert.equal((await request('POST', 'torrents/setCategory', { hashes: ep.infoHash, category: 'tv-imported' })).status, 200);
  q = await poll();
  assert.equal(q.torrents.has(ep.infoHash.toUpperCase()), false, 'it left tv-sonarr');
  // Pause and resume (the proxy's PauseTorrent/ResumeTorrent).
  assert.equal((await request('POST', 'torrents/pause', { hashes: magnetHash })).status, 200);
  assert.equal((await poll()).torrents.get(magnetHash.toUpperCase()).state, 'pausedDL');
  assert.equal((await request('POST', 'torrents/resume', { hashes: magnetHash })).status, 200);

  // RemoveItem with data, and without (deleteFiles left out, as Sonarr does).
  assert.equal((await request('POST', 'torrents/delete', { hashes: ep.infoHash, deleteFiles: 'true' })).status, 200);
  await waitFor('the episode file to be deleted', () => (existsSync(ep.path) ? undefined : true));
  assert.equal((await request('POST', 'torrents/delete', { hashes: magnetHash })).status, 200);
  assert.deepEqual(await json('GET', 'torrents/info'), []);

  // A session that expired or was dropped: Sonarr logs in again on the 403 and carries on.
  cookie = 'SID=stale';
  assert.equal((await request('GET', 'app/webapiVersion')).text, version);
  t.diagnostic(`Sonarr sequence:\n${log.join('\n')}`);
});
