// qBittorrent's rss/* and search/* groups (WebUI API of qBittorrent 5.0, rsscontroller.cpp and
// searchcontroller.cpp) on a real node: a feed served on 127.0.0.1 read through Cascade's RSS and
// shown as qBittorrent's items tree (folders, paths, articles), rules through @ctrl/qbittorrent's
// rss methods, the rest over raw HTTP; search as the one "cascade" plugin over the node's library.
// And an idle sync/maindata after its rid: a small body naming no torrent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileTorrent, magnetOf, startQbNode, waitFor } from './qbittorrent-helpers.ts';
import { startFeedServer } from '../../rss/test/feed-server.ts';

test('rss/*: the items tree over Cascade’s feeds (folders, paths, articles, read flags), rules by name, qBittorrent’s 409s', async (t) => {
  const feeds = await startFeedServer(t);
  feeds.rss = [
    { title: 'Show.S01E02.1080p', torrent: 'Show.S01E02.1080p' },
    { title: 'Show.S01E01.1080p', torrent: 'Show.S01E01.1080p' },
    { title: 'Other.Thing.720p', torrent: 'Other.Thing.720p' },
  ];
  const { s, client, call } = await startQbNode(t, { allowPrivateUrls: true });
  const feedUrl = `${feeds.url}/rss.xml`;

  assert.equal((await call('rss/addFolder', { path: 'TV' })).status, 200);
  assert.deepEqual(await call('rss/addFolder', { path: 'TV' }).then((r) => [r.status, r.text]), [409, 'RSS item with given path already exists: TV.']);
  assert.deepEqual(await call('rss/addFolder', { path: 'Nope\\Sub' }).then((r) => [r.status, r.text]), [409, "Parent folder doesn't exist: Nope."]);
  assert.deepEqual(await call('rss/addFolder', { path: 'a\\\\b' }).then((r) => [r.status, r.text]), [409, 'Incorrect RSS Item path: a\\\\b.']);
  assert.equal((await call('rss/addFeed', { url: feedUrl, path: 'TV\\Shows' })).status, 200);
  assert.deepEqual(await call('rss/addFeed', { url: feedUrl, path: 'Again' }).then((r) => [r.status, r.text]), [409, `RSS feed with given URL already exists: ${feedUrl}.`]);
  const bad = await call('rss/addFeed', { url: 'ftp://example.org/feed', path: '' });
  assert.equal(bad.status, 409);
  assert.match(bad.text, /http/);
  assert.equal((await call('rss/addFeed', { url: feedUrl })).status, 400, 'path is required');
  assert.equal((await call('rss/items')).status, 200, 'GET reads');
  assert.equal((await call('rss/addFolder')).status, 405, 'changes are POST only');

  // The feed is Cascade's own: its API lists it, and its first refresh fills the articles.
  const own = await s.json('/api/rss/feeds');
  assert.deepEqual(own.body.feeds.map((f: any) => f.url), [feedUrl]);
  const tree = await waitFor('the feed’s articles', async () => {
    const r = await call('rss/items?withData=true');
    return r.json.TV?.Shows?.articles?.length === 3 ? r.json : undefined;
  });
  const shows = tree.TV.Shows;
  assert.match(shows.uid, /^\{[0-9a-f-]{36}\}$/);
  assert.equal(shows.url, feedUrl);
  assert.equal(shows.title, 'Test RSS feed');
  assert.equal(shows.hasError, false);
  assert.equal(shows.isLoading, false);
  const e1 = shows.articles.find((a: any) => a.title === 'Show.S01E01.1080p');
  assert.equal(e1.id, 'Show.S01E01.1080p');
  assert.equal(e1.torrentURL, `${feeds.url}/t/Show.S01E01.1080p.torrent`);
  assert.equal(e1.isRead, false);
  assert.ok(!Number.isNaN(Date.parse(e1.date)), e1.date);
  assert.deepEqual((await call('rss/items')).json, { TV: { Shows: { uid: shows.uid, url: feedUrl } } });

  // Read flags: one article of a feed, then everything under a folder; an unknown path does nothing.
  assert.equal((await call('rss/markAsRead', { itemPath: 'TV\\Shows', articleId: 'Show.S01E01.1080p' })).status, 200);
  const read1 = (await call('rss/items?withData=true')).json.TV.Shows.articles;
  assert.deepEqual(read1.filter((a: any) => a.isRead).map((a: any) => a.id), ['Show.S01E01.1080p']);
  assert.equal((await call('rss/markAsRead', { itemPath: 'TV' })).status, 200);
  assert.ok((await call('rss/items?withData=true')).json.TV.Shows.articles.every((a: any) => a.isRead));
  assert.equal((await call('rss/markAsRead', { itemPath: 'Nowhere' })).status, 200);
  assert.equal((await call('rss/refreshItem', { itemPath: 'Nowhere' })).status, 200);
  assert.equal((await call('rss/refreshItem', { itemPath: 'TV' })).status, 200);

  // Moves take the paths below along; the tree is kept with the node's RSS state.
  assert.equal((await call('rss/moveItem', { itemPath: 'TV\\Shows', destPath: 'Series' })).status, 200);
  assert.deepEqual((await call('rss/items')).json, { TV: {}, Series: { uid: shows.uid, url: feedUrl } });
  assert.deepEqual(await call('rss/moveItem', { itemPath: 'TV', destPath: 'TV\\In' }).then((r) => [r.status, r.text]), [409, "Couldn't move folder into itself."]);
  assert.deepEqual(await call('rss/moveItem', { itemPath: 'gone', destPath: 'x' }).then((r) => [r.status, r.text]), [409, "Item doesn't exist: gone."]);
  assert.deepEqual(await call('rss/moveItem', { itemPath: '', destPath: 'x' }).then((r) => [r.status, r.text]), [409, 'Cannot move root folder.']);
  assert.equal((await call('rss/setFeedURL', { path: 'Series', url: feedUrl })).status, 200);
  assert.deepEqual(await call('rss/setFeedURL', { path: 'TV', url: feedUrl }).then((r) => [r.status, r.text]), [409, "Feed doesn't exist: TV."]);

  // Rules, named as qBittorrent names them, through @ctrl/qbittorrent.
  assert.equal(await client.setRssRule('Show', {
    enabled: true, mustContain: 'Show 1080p', mustNotContain: '', useRegex: false, episodeFilter: '', smartFilter: false,
    affectedFeeds: [feedUrl], torrentParams: { category: '', save_path: join(s.root, 'tv'), stopped: true, tags: ['rss'] },
  }), true);
  const rules = await client.getRssRules();
  assert.deepEqual(Object.keys(rules), ['Show']);
  assert.equal(rules.Show!.enabled, true);
  assert.equal(rules.Show!.mustContain, 'Show 1080p');
  assert.deepEqual(rules.Show!.affectedFeeds, [feedUrl]);
  assert.equal((rules.Show!.torrentParams as any).stopped, true);
  assert.deepEqual((rules.Show!.torrentParams as any).tags, ['rss']);
  assert.equal(rules.Show!.savePath, join(s.root, 'tv'));
  const cascadeRules = (await s.json('/api/rss/rules')).body.rules;
  assert.deepEqual(cascadeRules.map((r: any) => [r.name, r.feeds.length, r.addPaused]), [['Show', 1, true]]);
  const matching = (await call('rss/matchingArticles?ruleName=Show')).json;
  assert.deepEqual(Object.keys(matching), ['Series']);
  assert.deepEqual([...matching.Series].sort(), ['Show.S01E01.1080p', 'Show.S01E02.1080p']);
  assert.deepEqual((await call('rss/matchingArticles?ruleName=None')).json, {});
  // A rule naming no feed Cascade has is kept, disabled (Cascade's empty list means every feed).
  await client.setRssRule('Elsewhere', { enabled: true, mustContain: 'x', affectedFeeds: ['http://127.0.0.1:9/none.xml'] });
  assert.equal((await client.getRssRules()).Elsewhere!.enabled, false);
  assert.equal((await call('rss/setRule', { ruleName: 'Bad', ruleDef: '{"useRegex": true, "mustContain": "("}' })).status, 400);
  assert.equal((await call('rss/setRule', { ruleName: 'Bad', ruleDef: 'not json' })).status, 400);
  assert.equal((await call('rss/renameRule', { ruleName: 'Show', newRuleName: 'Shows' })).status, 200);
  assert.equal((await call('rss/renameRule', { ruleName: 'Shows', newRuleName: 'Elsewhere' })).status, 200, 'a taken name: nothing happens');
  assert.deepEqual(Object.keys(await client.getRssRules()).sort(), ['Elsewhere', 'Shows']);
  // cloneRule (API 2.15.4, @ctrl/qbittorrent's cloneRssRule): the same rule under a new name.
  assert.equal(await client.cloneRssRule('Shows', 'Shows copy'), true);
  const rulesNow = await client.getRssRules();
  assert.deepEqual({ ...rulesNow['Shows copy'], lastMatch: '' }, { ...rulesNow.Shows, lastMatch: '' });
  assert.deepEqual(await call('rss/cloneRule', { sourceName: 'Nope', cloneName: 'X' }).then((r) => [r.status, r.text]), [404, "Rule doesn't exist: Nope"]);
  assert.equal((await call('rss/cloneRule', { sourceName: 'Shows', cloneName: 'Elsewhere' })).status, 409, 'a taken name');
  assert.equal((await call('rss/cloneRule', { sourceName: 'Shows', cloneName: '  ' })).status, 400);
  assert.equal((await call('rss/cloneRule', { sourceName: 'Shows' })).status, 400);
  assert.equal(await client.removeRssRule('Shows copy'), true);
  assert.deepEqual(Object.keys(await client.getRssRules()).sort(), ['Elsewhere', 'Shows']);
  assert.equal(await client.removeRssRule('Shows'), true);
  assert.equal(await client.removeRssRule('Shows'), true, 'removing an unknown rule is no error');
  assert.deepEqual(Object.keys(await client.getRssRules()), ['Elsewhere']);

  // Removing: the root never; a feed leaves Cascade's RSS too; a folder takes what is below it.
  assert.deepEqual(await call('rss/removeItem', { path: '' }).then((r) => [r.status, r.text]), [409, 'Cannot delete root folder.']);
  assert.deepEqual(await call('rss/removeItem', { path: 'gone' }).then((r) => [r.status, r.text]), [409, "Item doesn't exist: gone."]);
  assert.equal((await call('rss/removeItem', { path: 'Series' })).status, 200);
  assert.deepEqual((await s.json('/api/rss/feeds')).body.feeds, []);
  assert.equal((await call('rss/removeItem', { path: 'TV' })).status, 200);
  assert.deepEqual((await call('rss/items')).json, {});
});

test('search/*: one "cascade" plugin over the node’s library; ids, status, results, paging; plugins cannot be installed', async (t) => {
  const { s, client, call } = await startQbNode(t);
  const made = await fileTorrent(join(s.root, 'downloads'), 'cascade-search-sample.bin', 40_000);
  assert.equal(await client.addTorrent(Buffer.from(made.torrent)), true);

  const plugins = (await call('search/plugins')).json;
  assert.deepEqual(plugins.map((p: any) => [p.name, p.enabled, p.supportedCategories.map((c: any) => c.id)]), [['cascade', true, ['all']]]);
  assert.equal((await call('search/start', { pattern: 'search sample', category: 'all' })).status, 400, 'plugins is required');
  assert.equal((await call('search/start?pattern=x&category=all&plugins=all')).status, 405);

  const { id } = (await call('search/start', { pattern: 'search sample', category: 'all', plugins: 'enabled' })).json;
  assert.ok(Number.isInteger(id) && id > 0);
  await waitFor('the search to end', async () => ((await call(`search/status?id=${id}`)).json[0].status === 'Stopped' ? true : undefined));
  const res = (await call(`search/results?id=${id}`)).json;
  assert.equal(res.status, 'Stopped');
  assert.equal(res.total, 1);
  const [row] = res.results;
  assert.equal(row.fileName, 'cascade-search-sample.bin');
  assert.ok(row.fileUrl.startsWith(`magnet:?xt=urn:btih:${made.infoHash}`), row.fileUrl);
  assert.equal(row.engineName, 'cascade');
  assert.equal(row.siteUrl, s.url);
  assert.equal(row.descrLink, `${s.url}/#/torrents/${made.infoHash}`);
  assert.equal(row.nbLeechers, -1);
  assert.deepEqual((await call(`search/results?id=${id}&offset=2`)).text, 'Offset is out of range');
  assert.equal((await call(`search/results?id=${id}&offset=-1&limit=1`)).json.results.length, 1);
  assert.ok((await call('search/status')).json.some((x: any) => x.id === id && x.total === 1));

  // A category the plugin does not search, or no usable plugin: a search that ends with nothing.
  const movies = (await call('search/start', { pattern: 'search sample', category: 'movies', plugins: 'all' })).json.id;
  assert.deepEqual((await call(`search/status?id=${movies}`)).json, [{ id: movies, status: 'Stopped', total: 0 }]);
  assert.equal((await call('search/enablePlugin', { names: 'cascade', enable: 'false' })).status, 200);
  assert.equal((await call('search/plugins')).json[0].enabled, false);
  const off = (await call('search/start', { pattern: 'search sample', category: 'all', plugins: 'enabled' })).json.id;
  assert.equal((await call(`search/results?id=${off}`)).json.total, 0);
  await call('search/enablePlugin', { names: 'cascade', enable: 'true' });
  // Nothing to search for: the node's reason, as a 400.
  const empty = await call('search/start', { pattern: 'a', category: 'all', plugins: 'cascade' });
  assert.equal(empty.status, 400);
  assert.match(empty.text, /nothing to search for/);

  // Plugins stay as they are: install, uninstall and update answer 200 and change nothing.
  assert.equal((await call('search/installPlugin', { sources: 'https://example.org/engine.py' })).status, 200);
  assert.equal((await call('search/uninstallPlugin', { names: 'cascade' })).status, 200);
  assert.equal((await call('search/updatePlugins', {})).status, 200);
  assert.deepEqual((await call('search/plugins')).json.map((p: any) => p.name), ['cascade']);

  assert.equal((await call('search/stop', { id: '12345' })).status, 404);
  assert.equal((await call('search/stop', { id: String(id) })).status, 200);
  assert.equal((await call('search/delete', { id: String(id) })).status, 200);
  assert.equal((await call(`search/status?id=${id}`)).status, 404);
  assert.equal((await call(`search/results?id=${id}`)).status, 404);

  // downloadTorrent adds the result's magnet.
  const other = 'ab'.repeat(20);
  assert.equal((await call('search/downloadTorrent', { torrentUrl: magnetOf(other, 'found'), pluginName: 'cascade' })).status, 200);
  assert.ok((await call('torrents/info')).json.some((x: any) => x.hash === other));
  // Sessions are required, as for every group.
  assert.equal((await call('search/plugins', undefined, 'SID=nope')).status, 403);
  assert.equal((await call('rss/items', undefined, 'SID=nope')).status, 403);
});

test('sync/maindata: an idle poll after its rid is a small body with no torrents; a piece-order toggle shows as its one field', async (t) => {
  const { s, client, call } = await startQbNode(t);
  const a = await fileTorrent(join(s.root, 'downloads'), 'idle-a.bin', 30_000, 3);
  for (const h of ['a1', 'b2', 'c3']) await call('torrents/add', { urls: magnetOf(h.repeat(20), h), paused: 'true' });
  assert.equal(await client.addTorrent(Buffer.from(a.torrent)), true);
  const full = (await call('sync/maindata?rid=0')).json;
  assert.equal(Object.keys(full.torrents).length, 4);
  const idle = await call(`sync/maindata?rid=${full.rid}`);
  assert.equal(idle.json.torrents, undefined);
  assert.equal(idle.json.torrents_removed, undefined);
  assert.ok(idle.text.length < 1024, `${idle.text.length} bytes: ${idle.text.slice(0, 200)}`);
  const again = await call(`sync/maindata?rid=${idle.json.rid}`);
  assert.equal(again.json.torrents, undefined);

  const before = (await call(`sync/maindata?rid=${again.json.rid}`)).json;
  assert.equal((await call('torrents/toggleSequentialDownload', { hashes: a.infoHash })).status, 200);
  const toggled = (await call(`sync/maindata?rid=${before.rid}`)).json;
  assert.deepEqual(Object.keys(toggled.torrents ?? {}), [a.infoHash]);
  assert.equal(toggled.torrents[a.infoHash].seq_dl, true);
});
