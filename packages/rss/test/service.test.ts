// RssService against a real feed server on 127.0.0.1 and a real state DB, with the node's add
// replaced by a recorder: failing feeds keep their items and say why, the timer polls due feeds,
// the smart filter takes an episode once, a failed add is retried.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDB } from '@cascade/node';
import { RssService, type RssAddRequest } from '../src/service.ts';
import { RssConflict } from '../src/validate.ts';
import { startFeedServer, magnetOf, until } from './feed-server.ts';

async function setup(t: { after: (fn: () => unknown) => void }, opts: { fail?: (r: RssAddRequest) => boolean; fetchTimeoutMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-rss-'));
  const db = await StateDB.open(dir);
  const added: RssAddRequest[] = [];
  const rss = new RssService({
    db,
    allowPrivateUrls: true,
    ...(opts.fetchTimeoutMs ? { fetchTimeoutMs: opts.fetchTimeoutMs } : {}),
    add: async (req) => {
      if (opts.fail?.(req)) throw new Error('cannot fetch: HTTP 404');
      added.push(req);
      return { infoHash: String(added.length).padStart(40, '0'), existing: false };
    },
  });
  t.after(async () => {
    await rss.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { rss, db, added };
}

test('a failing feed says why and keeps the items it had', async (t) => {
  const feeds = await startFeedServer(t);
  const { rss, db } = await setup(t, { fetchTimeoutMs: 1500 });
  feeds.rss = [{ title: 'Show S01E01', torrent: magnetOf('11'.repeat(20), 'a') }];
  const f = await rss.addFeed({ url: `${feeds.url}/rss.xml` });
  const [ok] = await rss.refresh(f.id);
  assert.equal(ok!.lastError, null);
  assert.equal(ok!.itemCount, 1);
  assert.equal(ok!.title, 'Test RSS feed');

  const cases: [string, RegExp][] = [
    ['/500', /HTTP 500/],
    ['/garbage', /not XML/],
    ['/html', /not a feed/],
    ['/huge', /larger than 5242880 bytes: not a feed/],
    ['/slow', /timed out/],
  ];
  for (const [path, why] of cases) {
    // The same feed, moved to a failing address: its item stays.
    await db.store.run('UPDATE rss_feeds SET url = ? WHERE id = ?', [`${feeds.url}${path}`, f.id]);
    const [bad] = await rss.refresh(f.id);
    assert.match(bad!.lastError ?? '', why, path);
    assert.ok(bad!.lastRefreshAt! >= ok!.lastRefreshAt!);
    assert.equal(bad!.lastSuccessAt, ok!.lastSuccessAt, path);
    assert.equal(bad!.itemCount, 1, path);
    assert.equal((await rss.items(f.id)).items[0]!.title, 'Show S01E01');
  }
  // Back to a good address: the error clears.
  await db.store.run('UPDATE rss_feeds SET url = ? WHERE id = ?', [`${feeds.url}/rss.xml`, f.id]);
  assert.equal((await rss.refresh(f.id))[0]!.lastError, null);
});

test('a private address is refused unless allowed (the SSRF guard)', async (t) => {
  const feeds = await startFeedServer(t);
  const dir = mkdtempSync(join(tmpdir(), 'cascade-rss-'));
  const db = await StateDB.open(dir);
  const rss = new RssService({ db, add: async () => ({ infoHash: '0'.repeat(40), existing: false }) });
  t.after(async () => {
    await rss.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const f = await rss.addFeed({ url: `${feeds.url}/rss.xml` });
  const [r] = await rss.refresh(f.id);
  assert.match(r!.lastError ?? '', /local or private address/);
  assert.equal(feeds.hits.get('/rss.xml') ?? 0, 0);
});

test('the timer refreshes a feed when it is due', async (t) => {
  const feeds = await startFeedServer(t);
  const { rss, db } = await setup(t);
  const f = await rss.addFeed({ url: `${feeds.url}/rss.xml`, refreshInterval: 60 });
  await rss.refresh(f.id);
  const before = feeds.hits.get('/rss.xml')!;
  // Make it due in 300 ms: last refreshed 59.7 s ago.
  await db.store.run('UPDATE rss_feeds SET last_refresh_at = ? WHERE id = ?', [Date.now() - 59_700, f.id]);
  rss.start();
  await until('the scheduled refresh', async () => feeds.hits.get('/rss.xml')! > before && !(await rss.feed(f.id)).refreshing);
  const view = await rss.feed(f.id);
  assert.ok(view.nextRefreshAt > Date.now() + 50_000, 'next refresh a minute on');
  assert.equal(feeds.hits.get('/rss.xml'), before + 1);
  assert.equal(view.effectiveInterval, 60);
});

test('items are capped per feed, newest kept', async (t) => {
  const feeds = await startFeedServer(t);
  const { rss } = await setup(t);
  await rss.setSettings({ maxItemsPerFeed: 3 });
  feeds.rss = Array.from({ length: 6 }, (_, i) => ({
    title: `Item ${i}`,
    torrent: magnetOf(String(i).repeat(40), `i${i}`),
    pubDate: new Date(Date.UTC(2026, 0, 10 - i)),
  }));
  const f = await rss.addFeed({ url: `${feeds.url}/rss.xml` });
  await rss.refresh(f.id);
  assert.deepEqual((await rss.items(f.id)).items.map((i) => i.title), ['Item 0', 'Item 1', 'Item 2']);
});

test('smart filter: one take per episode, a REPACK once more; rules take unread items only once', async (t) => {
  const feeds = await startFeedServer(t);
  const { rss, added } = await setup(t);
  const m = (n: number) => magnetOf(String(n).repeat(40), `m${n}`);
  feeds.rss = [
    { title: 'Show S01E02 720p', torrent: m(4), pubDate: new Date(Date.UTC(2026, 0, 4)) },
    { title: 'Show S01E02 1080p', torrent: m(3), pubDate: new Date(Date.UTC(2026, 0, 3)) },
    { title: 'Show S01E01 720p', torrent: m(2), pubDate: new Date(Date.UTC(2026, 0, 2)) },
    { title: 'Show S01E01 1080p', torrent: m(1), pubDate: new Date(Date.UTC(2026, 0, 1)) },
  ];
  const f = await rss.addFeed({ url: `${feeds.url}/rss.xml` });
  await rss.refresh(f.id);
  const rule = await rss.addRule({ name: 'show', mustContain: 'show', smartFilter: true, savePath: '/srv/tv', tags: ['tv'], addPaused: true });
  await until('two takes', async () => (await rss.matches()).matches.length === 2);
  // Oldest first: the 1080p of E01 (1 Jan) and of E02 (3 Jan).
  assert.deepEqual(added.map((a) => a.uri), [m(1), m(3)]);
  assert.deepEqual(added[0], { uri: m(1), savePath: '/srv/tv', category: null, tags: ['tv'], paused: true });
  const taken = (await rss.matches()).matches;
  assert.deepEqual(taken.map((x) => x.episode).sort(), ['S01E01', 'S01E02']);
  assert.ok(taken.every((x) => x.ruleId === rule.id && x.ruleName === 'show' && x.error === null && x.at > 0));
  // The preview shows the 720p ones as episodes already taken.
  const pv = (await rss.preview(rule.id, {})).items;
  assert.equal(pv.length, 4);
  assert.deepEqual(pv.filter((i) => i.duplicateEpisode).map((i) => i.title).sort(), ['Show S01E01 720p', 'Show S01E02 720p']);
  assert.deepEqual(pv.filter((i) => i.taken).map((i) => i.title).sort(), ['Show S01E01 1080p', 'Show S01E02 1080p']);

  feeds.rss.unshift({ title: 'Show S01E02 REPACK 1080p', torrent: m(5) });
  await rss.refresh(f.id);
  await rss.refresh(f.id);
  assert.deepEqual(added.map((a) => a.uri), [m(1), m(3), m(5)]);
  // Taken items are read; the skipped duplicates stay unread.
  const items = (await rss.items(f.id)).items;
  assert.deepEqual(items.filter((i) => i.read).map((i) => i.title).sort(), ['Show S01E01 1080p', 'Show S01E02 1080p', 'Show S01E02 REPACK 1080p']);
  assert.equal(items.find((i) => i.title === 'Show S01E01 1080p')!.match!.ruleName, 'show');
});

test('a failed add is recorded with its error and retried, at most 5 times', async (t) => {
  const feeds = await startFeedServer(t);
  let failing = true;
  const { rss, added } = await setup(t, { fail: () => failing });
  feeds.rss = [{ title: 'Film 2026', torrent: magnetOf('77'.repeat(20), 'f') }];
  const f = await rss.addFeed({ url: `${feeds.url}/rss.xml` });
  await rss.refresh(f.id);
  await rss.addRule({ name: 'film', mustContain: 'film' });
  await until('a failed attempt', async () => (await rss.matches()).matches[0]?.error);
  assert.match((await rss.matches()).matches[0]!.error!, /HTTP 404/);
  await rss.refresh(f.id);
  assert.equal((await rss.matches()).matches[0]!.attempts, 2);
  failing = false;
  await rss.refresh(f.id);
  const [m] = (await rss.matches()).matches;
  assert.equal(m!.error, null);
  assert.equal(m!.infoHash, '1'.padStart(40, '0'));
  assert.equal(added.length, 1);
  await rss.refresh(f.id);
  assert.equal(added.length, 1);
});

test('a rule whose regex backtracks forever reports it and does not stop the others', async (t) => {
  const feeds = await startFeedServer(t);
  const { rss, added } = await setup(t);
  feeds.rss = [{ title: 'a'.repeat(40) + '!', torrent: magnetOf('88'.repeat(20), 'a') }];
  const f = await rss.addFeed({ url: `${feeds.url}/rss.xml` });
  await rss.refresh(f.id);
  const evil = await rss.addRule({ name: 'evil', useRegex: true, mustContain: '^(a+)+$' });
  await rss.addRule({ name: 'plain', mustContain: 'aaaa' });
  await until('the plain rule takes it', async () => (await rss.matches()).matches.length === 1);
  assert.equal((await rss.matches()).matches[0]!.ruleName, 'plain');
  assert.match((await rss.rule(evil.id)).lastError ?? '', /took longer than/);
  await assert.rejects(rss.preview(evil.id, {}), /mustContain: matching took longer/);
  assert.equal(added.length, 1);
});

test('feeds overdue when the node starts are read at once; a rule change applies to unread items', async (t) => {
  const feeds = await startFeedServer(t);
  const { rss, db, added } = await setup(t);
  feeds.rss = [{ title: 'Late S01E01', torrent: magnetOf('ab'.repeat(20), 'late') }];
  // Stored as a previous run left it: read long ago.
  const f = (await rss.store.addFeed(`${feeds.url}/rss.xml`, 60))!;
  await db.store.run('UPDATE rss_feeds SET last_refresh_at = ? WHERE id = ?', [Date.now() - 3_600_000, f.id]);
  rss.start();
  await until('the read at start', async () => (await rss.feed(f.id)).itemCount === 1);
  const rule = await rss.addRule({ name: 'late', mustContain: 'nothing like it' });
  await rss.refresh(f.id);
  assert.equal(added.length, 0);
  await rss.updateRule(rule.id, { mustContain: 'late' });
  await until('the take after the change', () => added.length === 1);
});

test('the same torrent listed twice (two feeds, new guid) is added once', async (t) => {
  const feeds = await startFeedServer(t);
  const { rss, added } = await setup(t);
  const magnet = magnetOf('cd'.repeat(20), 'twice');
  feeds.rss = [{ title: 'Twice S01E01', torrent: magnet, guid: 'rss-1' }];
  feeds.atom = [{ title: 'Twice S01E01', torrent: magnet, guid: 'atom-1' }];
  const a = await rss.addFeed({ url: `${feeds.url}/rss.xml` });
  await rss.refresh(a.id);
  await rss.addRule({ name: 'twice', mustContain: 'twice' });
  await until('the first take', () => added.length === 1);
  const b = await rss.addFeed({ url: `${feeds.url}/atom.xml` });
  await rss.refresh(b.id);
  // The item under a new guid in the first feed too.
  feeds.rss = [{ title: 'Twice S01E01', torrent: magnet, guid: 'rss-2' }];
  await rss.refresh(a.id);
  assert.equal(added.length, 1);
  const m = (await rss.matches()).matches;
  assert.equal(m.length, 3);
  assert.ok(m.every((x) => x.infoHash === added.length.toString().padStart(40, '0') && x.error === null));
  assert.ok((await rss.items(b.id)).items.every((i) => i.read));
});

test('the same feed added twice at once: one is added, the other is told it is already there (409), never a 500', async (t) => {
  const feeds = await startFeedServer(t);
  const { rss } = await setup(t);
  const both = await Promise.allSettled([rss.addFeed({ url: `${feeds.url}/twice.xml` }), rss.addFeed({ url: `${feeds.url}/twice.xml` })]);
  assert.deepEqual(both.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const refused = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.ok(refused.reason instanceof RssConflict, String(refused.reason));
  assert.equal((await rss.feeds()).length, 1);
});
