// store.ts on the node's Store, on both its engines (the node's test helpers, store-engines.ts: the
// embedded SQLite file and a real PostgreSQL server): feeds, items kept newest first and capped,
// unread counts, rules with their last take, matches recorded once per item (a retry counts up),
// settings and the feed tree.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { RssStore, DEFAULT_RSS_SETTINGS, MATCH_RETENTION_MS } from '../src/store.ts';
import { postgres, sqlite, type Open } from '../../node/test/store-engines.ts';

const item = (guid: string, publishedAt: number) => ({ guid, title: `Show ${guid}`, torrentUrl: `magnet:?xt=urn:btih:${guid}`, link: null, publishedAt, size: 1 << 40 });

async function rssCases(t: TestContext, open: Open): Promise<void> {
  await t.test('RSS (store.ts): feeds and items, capped newest first, read flags and counts', async (t) => {
    const rss = new RssStore(await open(t), '/state');
    const f = (await rss.addFeed('http://127.0.0.1/feed?x=1', null))!;
    assert.equal(f.id, (await rss.feedByUrl('http://127.0.0.1/feed?x=1'))!.id);
    // The same URL again (two adds at once, each past the service's look-up): no second row, no error.
    assert.equal(await rss.addFeed('http://127.0.0.1/feed?x=1', 60), undefined);
    assert.equal((await rss.feeds()).length, 1);
    const fresh = await rss.feedRefreshed(f.id, 'A feed', [item('e3', 3000), item('e2', 2000), item('e1', 1000)], 2, 5000);
    assert.deepEqual([...fresh].sort(), ['e1', 'e2', 'e3']);
    assert.deepEqual((await rss.items(f.id)).map((i) => [i.guid, i.size, i.read]), [['e3', 1 << 40, false], ['e2', 1 << 40, false]]);
    assert.equal(await rss.markRead(f.id, ['e3', 'none']), 1);
    assert.deepEqual(await rss.counts(f.id), { items: 2, unread: 1 });
    assert.deepEqual([...(await rss.feedRefreshed(f.id, null, [item('e4', 4000), item('e3', 3000)], 2, 6000))], ['e4']);
    const feed = (await rss.feed(f.id))!;
    assert.deepEqual([feed.title, feed.lastSuccessAt, feed.lastError], ['A feed', 6000, null]);
    await rss.feedFailed(f.id, 'HTTP 500', 7000);
    assert.deepEqual([(await rss.feed(f.id))!.lastError, (await rss.feed(f.id))!.lastRefreshAt], ['HTTP 500', 7000]);
    assert.equal(await rss.markRead(f.id, 'all', false), 2);
    await rss.updateFeed(f.id, { url: 'http://127.0.0.1/other', refreshInterval: 60 });
    assert.deepEqual((await rss.feeds()).map((x) => [x.url, x.refreshInterval]), [['http://127.0.0.1/other', 60]]);
    await rss.removeFeed(f.id);
    assert.deepEqual([await rss.feeds(), await rss.allItems()], [[], []]);
  });

  await t.test('RSS (store.ts): rules, matches once per item, settings and the feed tree', async (t) => {
    const rss = new RssStore(await open(t), '/state');
    const f = (await rss.addFeed('http://127.0.0.1/feed', 30))!;
    const fields = { name: 'show', enabled: true, mustContain: 'show', mustNotContain: '', useRegex: false, episodeFilter: '', smartFilter: true, feeds: [f.id], category: null, savePath: null, tags: ['tv'], addPaused: false };
    const r = await rss.addRule(fields);
    assert.deepEqual([r.name, r.feeds, r.tags, r.lastMatchAt], ['show', [f.id], ['tv'], null]);
    const base = { feedId: f.id, guid: 'e1', ruleId: r.id, ruleName: 'show', title: 'Show S01E01', source: 'magnet:?a', episode: 'S01E01' };
    const failed = await rss.recordMatch({ ...base, infoHash: null, error: 'HTTP 404', at: 100 });
    assert.equal(failed.attempts, 1);
    assert.equal((await rss.takenSource('magnet:?a')), undefined, 'a failed take is not a take');
    const taken = await rss.recordMatch({ ...base, infoHash: 'a'.repeat(40), error: null, at: 200 });
    assert.deepEqual([taken.id, taken.attempts, taken.error], [failed.id, 2, null]);
    assert.equal((await rss.takenSource('magnet:?a'))!.infoHash, 'a'.repeat(40));
    assert.deepEqual([...(await rss.takenEpisodes(r.id))], ['S01E01']);
    assert.equal((await rss.matchOf(f.id, 'e1'))!.at, 200);
    assert.equal((await rss.rule(r.id))!.lastMatchAt, 200);
    assert.equal((await rss.matches(10)).length, 1);
    // Retention (docs/retention.md): a match stays while its item is in the feed, however old, and
    // goes at a refresh once the item left and MATCH_RETENTION_MS passed; a newer one stays.
    await rss.feedRefreshed(f.id, null, [item('e1', 100)], 2, 300);
    const later = 200 + MATCH_RETENTION_MS + 1;
    await rss.recordMatch({ ...base, guid: 'e0', infoHash: 'b'.repeat(40), error: null, at: later - 1000 });
    await rss.feedRefreshed(f.id, null, [item('e1', 100)], 2, later);
    assert.deepEqual((await rss.matches(10)).map((m) => m.guid), ['e0', 'e1'], 'the item e1 is still in the feed');
    await rss.feedRefreshed(f.id, null, [item('e2', 300)], 1, later);
    assert.deepEqual((await rss.matches(10)).map((m) => m.guid), ['e0'], 'e1 left the feed a year after its take');
    await rss.setRuleError(r.id, 'bad regex');
    await rss.updateRule(r.id, { ...fields, enabled: false });
    assert.deepEqual([(await rss.rules())[0]!.enabled, (await rss.rules())[0]!.lastError], [false, null]);
    await rss.removeRule(r.id);
    assert.deepEqual(await rss.rules(), []);

    assert.deepEqual(await rss.settings(), DEFAULT_RSS_SETTINGS);
    assert.deepEqual(await rss.saveSettings({ maxItemsPerFeed: 7 }), { ...DEFAULT_RSS_SETTINGS, maxItemsPerFeed: 7 });
    assert.equal(await rss.feedTree(), null);
    await rss.saveFeedTree('{"folders":["News"]}');
    await rss.saveFeedTree('{"folders":[]}');
    assert.equal(await rss.feedTree(), '{"folders":[]}');
    assert.deepEqual(await rss.settings(), { ...DEFAULT_RSS_SETTINGS, maxItemsPerFeed: 7 }, 'the tree is not a setting');
  });
}

test('the RSS tables on SQLite (the embedded state file)', async (t) => {
  await rssCases(t, sqlite());
});

test('the RSS tables on PostgreSQL (a server started for the test)', { timeout: 180_000 }, async (t) => {
  await rssCases(t, postgres(t).open);
});
