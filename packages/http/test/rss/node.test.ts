// RSS on a real node: a feed served over HTTP on 127.0.0.1 is read, a rule takes the matching
// items (a real .torrent fetched and added with the rule's save path and paused, a magnet too),
// the take is recorded, and nothing is added twice — not after another poll, not after a restart.
// Then every RSS route answers bad input with a 4xx naming the field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer } from '../../index.ts';
import { startTestServer } from '../server-helpers.ts';
import { startFeedServer, magnetOf, until } from '../../../rss/test/feed-server.ts';

test('feed polled → rule matches → torrents added with the rule’s options → recorded once, also after a restart', async (t) => {
  const feeds = await startFeedServer(t);
  const e1 = await feeds.torrentFor('Show.S01E01.1080p');
  const e2 = await feeds.torrentFor('Show.S01E02.1080p');
  const other = await feeds.torrentFor('Other.Thing.1080p');
  const camInfo = await feeds.torrentFor('Show.S01E03.CAM');
  const magnetHash = 'c3'.repeat(20);
  feeds.rss = [
    { title: 'Show.S01E04.1080p', torrent: magnetOf(magnetHash, 'Show.S01E04.1080p'), as: 'magnetURI' },
    { title: 'Show.S01E03.CAM', torrent: 'Show.S01E03.CAM' },
    { title: 'Other.Thing.1080p', torrent: 'Other.Thing.1080p' },
    { title: 'Show.S01E02.1080p', torrent: 'Show.S01E02.1080p', as: 'link' },
    { title: 'Show.S01E01.1080p', torrent: 'Show.S01E01.1080p' },
  ];
  feeds.atom = [{ title: 'Atom.Only.2026', torrent: 'Other.Thing.1080p' }];

  const s = await startTestServer(t, { allowPrivateUrls: true });
  const savePath = join(s.root, 'tv');
  const feed = await s.json('/api/rss/feeds', { method: 'POST', json: { url: `${feeds.url}/rss.xml`, refreshInterval: 600 } });
  assert.equal(feed.status, 201);
  assert.equal(feed.body.refreshInterval, 600);
  const refreshed = await s.json(`/api/rss/feeds/${feed.body.id}/refresh`, { method: 'POST' });
  assert.equal(refreshed.status, 200);
  assert.equal(refreshed.body.lastError, null);
  assert.equal(refreshed.body.itemCount, 5);
  assert.equal(refreshed.body.unreadCount, 5);
  const atom = await s.json('/api/rss/feeds', { method: 'POST', json: { url: `${feeds.url}/atom.xml` } });
  await s.json(`/api/rss/feeds/${atom.body.id}/refresh`, { method: 'POST' });
  const items = await s.json(`/api/rss/feeds/${feed.body.id}/items`);
  assert.deepEqual(items.body.items.map((i: any) => i.title).sort(), feeds.rss.map((e) => e.title).sort());
  assert.equal(items.body.items.find((i: any) => i.title === 'Show.S01E01.1080p').torrentUrl, e1.url);

  // The preview of the rule before it exists: what it would take.
  const draft = { name: 'Show', mustContain: 'show 1080p', mustNotContain: 'cam', episodeFilter: '1x1-;', savePath, category: 'tv', tags: ['rss'], addPaused: true, feeds: [feed.body.id] };
  const preview = await s.json('/api/rss/rules/preview', { method: 'POST', json: draft });
  assert.equal(preview.status, 200);
  assert.deepEqual(preview.body.items.map((i: any) => i.title).sort(), ['Show.S01E01.1080p', 'Show.S01E02.1080p', 'Show.S01E04.1080p']);

  const rule = await s.json('/api/rss/rules', { method: 'POST', json: draft });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  assert.equal(rule.body.savePath, savePath);
  const matches = await until('three matches', async () => {
    const m = await s.json('/api/rss/matches');
    return m.body.matches.length === 3 && m.body.matches;
  });
  assert.deepEqual(new Set(matches.map((m: any) => m.infoHash)), new Set([e1.infoHash, e2.infoHash, magnetHash]));
  assert.ok(matches.every((m: any) => m.ruleId === rule.body.id && m.ruleName === 'Show' && m.error === null && typeof m.at === 'number'));
  assert.equal(rule.body.lastMatchAt, null);
  assert.equal((await s.json('/api/rss/rules')).body.rules[0].lastMatchAt, Math.max(...matches.map((m: any) => m.at)));

  const list = async () => (await s.json('/api/torrents')).body.torrents as any[];
  const torrents = await list();
  assert.equal(torrents.length, 3);
  for (const ih of [e1.infoHash, e2.infoHash, magnetHash]) {
    const entry = torrents.find((x) => x.infoHash === ih);
    assert.ok(entry, ih);
    assert.equal(entry.savePath, savePath);
    assert.equal(entry.category, 'tv');
    assert.deepEqual(entry.tags, ['rss']);
    assert.equal(s.node.session.get(ih)?.stats().state, 'paused');
  }
  assert.equal(torrents.find((x) => x.infoHash === e1.infoHash).name, 'Show.S01E01.1080p');
  assert.ok(!torrents.some((x) => x.infoHash === other.infoHash || x.infoHash === camInfo.infoHash));

  // Another poll: nothing new is added.
  await s.json(`/api/rss/feeds/${feed.body.id}/refresh`, { method: 'POST' });
  await s.json('/api/rss/refresh', { method: 'POST' });
  assert.equal((await s.json('/api/rss/matches')).body.matches.length, 3);
  assert.equal((await list()).length, 3);
  // Taken items are read; the others stay unread.
  const after = (await s.json(`/api/rss/feeds/${feed.body.id}/items`)).body.items as any[];
  assert.deepEqual(after.filter((i) => i.read).map((i) => i.title).sort(), ['Show.S01E01.1080p', 'Show.S01E02.1080p', 'Show.S01E04.1080p']);
  assert.equal(after.find((i) => i.title === 'Show.S01E02.1080p').match.infoHash, e2.infoHash);

  // The user removes a taken torrent: RSS does not bring it back.
  assert.equal((await s.request(`/api/torrents/${e1.infoHash}`, { method: 'DELETE' })).status, 200);

  // Restart on the same state: the feed, rule and matches are there, nothing is added again.
  const stateDir = join(s.root, 'state');
  await s.close();
  const again = await startServer({
    chain: false, // no embedded chain: not what this is about
    stateDir, downloadDir: s.downloadDir, host: '127.0.0.1', httpPort: 0, btPort: 0, btHost: '127.0.0.1', iceServers: [],
    dht: false, trackerPorts: false, webRoot: join(s.root, 'no-web'), allowPrivateUrls: true,
  });
  t.after(() => again.close());
  await again.ready;
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(again.url + path, { ...init, headers: { authorization: `Bearer ${again.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    return { status: res.status, body: (await res.json()) as any };
  };
  feeds.rss.unshift({ title: 'Show.S01E05.1080p', torrent: magnetOf('c5'.repeat(20), 'Show.S01E05.1080p') });
  const r2 = await api(`/api/rss/feeds/${feed.body.id}/refresh`, { method: 'POST' });
  assert.equal(r2.body.lastError, null);
  await until('the new episode', async () => (await api('/api/rss/matches')).body.matches.length === 4);
  const hashes = ((await api('/api/torrents')).body.torrents as any[]).map((x) => x.infoHash).sort();
  assert.deepEqual(hashes, [e2.infoHash, magnetHash, 'c5'.repeat(20)].sort());
  assert.equal((await api('/api/rss/rules')).body.rules.length, 1);
  assert.equal((await api('/api/rss/feeds')).body.feeds.length, 2);

  // A rule with a category and no save path: the category's save path is used.
  const filmsDir = join(s.root, 'films');
  assert.equal((await api('/api/categories', { method: 'POST', body: JSON.stringify({ name: 'films', savePath: filmsDir }) })).status, 201);
  const films = await api('/api/rss/rules', { method: 'POST', body: JSON.stringify({ name: 'films', mustContain: 'atom only', category: 'films', feeds: [atom.body.id] }) });
  assert.equal(films.status, 201, JSON.stringify(films.body));
  await until('the film', async () => (await api('/api/rss/matches')).body.matches.length === 5);
  const film = ((await api('/api/torrents')).body.torrents as any[]).find((x) => x.infoHash === other.infoHash);
  assert.equal(film.category, 'films');
  assert.equal(film.savePath, filmsDir);
});

test('RSS routes answer bad input with a 4xx naming the field', async (t) => {
  const feeds = await startFeedServer(t);
  const s = await startTestServer(t, { allowPrivateUrls: true });
  const post = (path: string, json: unknown, method = 'POST') => s.json(path, { method, json });
  const expect = async (p: Promise<{ status: number; body: any }>, status: number, message: RegExp) => {
    const r = await p;
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.match(r.body.message, message);
  };
  await expect(post('/api/rss/feeds', { url: 'not a url' }), 400, /^url: not a URL/);
  await expect(post('/api/rss/feeds', { url: 'ftp://x/feed' }), 400, /^url: only http and https/);
  await expect(post('/api/rss/feeds', {}), 400, /^url:/);
  await expect(post('/api/rss/feeds', { url: `${feeds.url}/rss.xml`, refreshInterval: 30 }), 400, /^refreshInterval: must be between 60/);
  await expect(post('/api/rss/feeds', { url: `${feeds.url}/rss.xml`, refreshInterval: '5' }), 400, /^refreshInterval:/);
  await expect(post('/api/rss/feeds', { url: `${feeds.url}/rss.xml`, colour: 'red' }), 400, /^colour: unknown field/);
  await expect(post('/api/rss/feeds', [1, 2]), 400, /body must be object/);
  const f = await post('/api/rss/feeds', { url: `${feeds.url}/rss.xml` });
  assert.equal(f.status, 201);
  await expect(post('/api/rss/feeds', { url: `${feeds.url}/rss.xml` }), 409, /already added \(id \d+\)/);
  await expect(post('/api/rss/feeds/abc', { refreshInterval: 120 }, 'PATCH'), 400, /feedId/);
  await expect(post('/api/rss/feeds/999', { refreshInterval: 120 }, 'PATCH'), 404, /no feed with id 999/);
  await expect(s.json('/api/rss/feeds/999', { method: 'DELETE' }), 404, /no feed with id 999/);
  await expect(s.json('/api/rss/feeds/999/items'), 404, /no feed/);
  await expect(s.json('/api/rss/feeds/0/refresh', { method: 'POST' }), 400, /feedId/);

  await expect(post('/api/rss/rules', { mustContain: 'x' }), 400, /^name: a rule needs a name/);
  await expect(post('/api/rss/rules', { name: 'r', useRegex: true, mustContain: 'show(' }), 400, /^mustContain: invalid regular expression: Unterminated group/);
  await expect(post('/api/rss/rules', { name: 'r', useRegex: true, mustNotContain: '[z-a]' }), 400, /^mustNotContain: invalid regular expression/);
  await expect(post('/api/rss/rules', { name: 'r', mustContain: 'a'.repeat(600) }), 400, /^mustContain: longer than 500/);
  await expect(post('/api/rss/rules', { name: 'r', episodeFilter: '1x9-3;' }), 400, /^episodeFilter: .*ends before it starts/);
  await expect(post('/api/rss/rules', { name: 'r', feeds: [12345] }), 400, /^feeds: no feed with id 12345/);
  await expect(post('/api/rss/rules', { name: 'r', feeds: 'all' }), 400, /^feeds:/);
  await expect(post('/api/rss/rules', { name: 'r', savePath: 'relative/dir' }), 400, /^savePath: an absolute path/);
  await expect(post('/api/rss/rules', { name: 'r', savePath: join(s.root, 'state', 'x') }), 400, /^savePath: must not be inside the node's state directory/);
  await expect(post('/api/rss/rules', { name: 'r', tags: ['a,b'] }), 400, /^tags: .*must not contain a comma/);
  await expect(post('/api/rss/rules', { name: 'r', category: 'x'.repeat(65) }), 400, /^category: must be at most 64/);
  await expect(post('/api/rss/rules', { name: 'r', addPaused: 'yes' }), 400, /^addPaused: expected true or false/);
  await expect(post('/api/rss/rules', { name: 'r', when: 'now' }), 400, /^when: unknown field/);
  const r = await post('/api/rss/rules', { name: 'r', mustContain: 'show' });
  assert.equal(r.status, 201);
  await expect(post(`/api/rss/rules/${r.body.id}`, { useRegex: true, mustContain: '(' }, 'PATCH'), 400, /^mustContain: invalid regular expression/);
  await expect(post('/api/rss/rules/77', { name: 'x' }, 'PATCH'), 404, /no rule with id 77/);
  await expect(s.json('/api/rss/rules/77', { method: 'DELETE' }), 404, /no rule with id 77/);
  await expect(post('/api/rss/rules/77/preview', {}), 404, /no rule with id 77/);
  await expect(post('/api/rss/settings', { refreshInterval: 10 }, 'PATCH'), 400, /^refreshInterval: must be between 60/);
  await expect(post('/api/rss/settings', { maxItemsPerFeed: 0 }, 'PATCH'), 400, /^maxItemsPerFeed/);

  // A catastrophic regex in a preview: a 400 within the time budget, not a hang or a 500.
  feeds.rss = [{ title: 'a'.repeat(40) + '!', torrent: magnetOf('99'.repeat(20), 'x') }];
  await s.json(`/api/rss/feeds/${f.body.id}/refresh`, { method: 'POST' });
  const t0 = Date.now();
  await expect(post('/api/rss/rules/preview', { name: 'evil', useRegex: true, mustContain: '^(a+)+$' }), 400, /^mustContain: matching took longer than/);
  assert.ok(Date.now() - t0 < 5000);

  // Changes that are fine.
  const patched = await post(`/api/rss/rules/${r.body.id}`, { enabled: false, episodeFilter: 'S01E05-S01E10' }, 'PATCH');
  assert.equal(patched.status, 200);
  assert.equal(patched.body.enabled, false);
  assert.equal(patched.body.mustContain, 'show');
  const settings = await post('/api/rss/settings', { refreshInterval: 900 }, 'PATCH');
  assert.deepEqual(settings.body, { refreshInterval: 900, maxItemsPerFeed: 200 });
  assert.equal((await s.json('/api/rss/feeds')).body.feeds[0].effectiveInterval, 900);
  const del = await s.json(`/api/rss/feeds/${f.body.id}`, { method: 'DELETE' });
  assert.deepEqual(del.body, { id: f.body.id, removed: true });
});
