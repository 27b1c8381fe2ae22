// `cascade rss …` against a real node (startServer in this process, its control endpoint on
// 127.0.0.1) reading a real feed server: add a feed, a rule, see the match, items, remove; bad
// input is a usage error (exit 2) naming the problem; --json on each form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer } from '@cascade/http';
import { parseCommandLine } from '../src/parse/args.ts';
import { rssCommand } from '../src/commands/rss.ts';
import { main } from '../src/main.ts';
import { capture, tempDir } from './helpers.ts';
import { startFeedServer, magnetOf, until } from '../../rss/test/feed-server.ts';

test('cascade rss: feeds, rules, matches, items, with --json and in words', async (t) => {
  const feeds = await startFeedServer(t);
  const e1 = await feeds.torrentFor('Series.S02E01.1080p');
  feeds.rss = [
    { title: 'Series.S02E01.1080p', torrent: 'Series.S02E01.1080p' },
    { title: 'Series.S02E02.720p', torrent: magnetOf('d2'.repeat(20), 'x') },
  ];
  const root = tempDir(t);
  const stateDir = join(root, 'state');
  const server = await startServer({
    chain: false, // no embedded chain: not what this is about
    stateDir, downloadDir: join(root, 'dl'), host: '127.0.0.1', httpPort: 0, btPort: 0, btHost: '127.0.0.1', iceServers: [],
    dht: false, trackerPorts: false, webRoot: join(root, 'no-web'), allowPrivateUrls: true,
  });
  t.after(() => server.close());
  await server.ready;

  const run = async (json: boolean, ...argv: string[]) => {
    const c = capture(json);
    const code = await rssCommand(parseCommandLine(['rss', ...argv, '--state-dir', stateDir]), c.out);
    return { code, ...c };
  };

  const empty = await run(false);
  assert.match(empty.stdout(), /no feeds/);

  const added = await run(true, 'add', `${feeds.url}/rss.xml`, '--interval', '15');
  assert.equal(added.code, 0);
  const feed = added.events()[0]!;
  assert.equal(feed.refreshInterval, 900);

  const refreshed = await run(true, 'refresh', String(feed.id));
  assert.equal(refreshed.code, 0);
  assert.equal(refreshed.events()[0]!.feeds[0].itemCount, 2);

  const list = await run(false, 'list');
  assert.match(list.stdout(), /Test RSS feed/);
  assert.match(list.stdout(), /2 items, 2 unread; read .* ago, every 15 min; ok/);

  const savePath = join(root, 'series');
  const rule = await run(true, 'rule', 'add', 'Series 1080p', '--must-contain', 'series 1080p', '--must-not-contain', '720p', '--episode', 'S02E01-', '--smart',
    '--feed', String(feed.id), '--save-path', savePath, '--tag', 'tv', '--paused');
  assert.equal(rule.code, 0, rule.stdout());
  const r = rule.events()[0]!;
  assert.deepEqual(
    { name: r.name, mustContain: r.mustContain, mustNotContain: r.mustNotContain, episodeFilter: r.episodeFilter, smartFilter: r.smartFilter, feeds: r.feeds, savePath: r.savePath, tags: r.tags, addPaused: r.addPaused },
    { name: 'Series 1080p', mustContain: 'series 1080p', mustNotContain: '720p', episodeFilter: 'S02E01-', smartFilter: true, feeds: [feed.id], savePath, tags: ['tv'], addPaused: true },
  );

  const matches = await until('the match', async () => {
    const m = await run(true, 'matches');
    return m.events()[0]!.matches.length > 0 && m.events()[0]!.matches;
  });
  assert.equal(matches.length, 1);
  assert.equal(matches[0].infoHash, e1.infoHash);
  assert.equal(matches[0].ruleName, 'Series 1080p');
  assert.ok(server.node.session.get(e1.infoHash), 'added to the node');
  assert.equal(server.node.db.getTorrent(e1.infoHash)?.savePath, savePath);

  const words = await run(false, 'matches');
  assert.match(words.stdout(), /Series 1080p: Series\.S02E01\.1080p  [0-9a-f]{8}/);
  const items = await run(false, 'items', String(feed.id));
  assert.match(items.stdout(), /Series\.S02E01\.1080p.*taken by "Series 1080p"/);
  assert.match(items.stdout(), /\* Series\.S02E02\.720p/);
  const rules = await run(false, 'rules');
  assert.match(rules.stdout(), /Series 1080p\n.*contains "series 1080p"; not "720p"; episodes S02E01-; smart filter; feeds \d+; last match \d+s ago/);
  const preview = await run(false, 'rule', 'preview', String(r.id));
  assert.match(preview.stdout(), /Series\.S02E01\.1080p  \(taken\)/);

  // Bad input: usage errors, exit 2, naming what is wrong.
  await assert.rejects(run(true, 'rule', 'add', 'bad', '--regex', '--must-contain', 'x('), (err: any) => err.exitCode === 2 && /mustContain: invalid regular expression/.test(err.message));
  await assert.rejects(run(true, 'rule', 'add', 'bad', '--episode', '1x5-2;'), (err: any) => err.exitCode === 2 && /episodeFilter/.test(err.message));
  await assert.rejects(run(true, 'add', 'not-a-url'), (err: any) => err.exitCode === 2 && /url: not a URL/.test(err.message));
  await assert.rejects(run(true, 'add', `${feeds.url}/x`, '--interval', '0'), (err: any) => err.exitCode === 2 && /--interval wants whole minutes/.test(err.message));
  await assert.rejects(run(true, 'remove', 'abc'), (err: any) => err.exitCode === 2 && /feed id must be a positive whole number/.test(err.message));
  await assert.rejects(run(true, 'remove', '999'), (err: any) => err.exitCode === 1 && /no feed with id 999/.test(err.message));
  await assert.rejects(run(true, 'frobnicate'), (err: any) => err.exitCode === 2 && /unknown rss command "frobnicate"/.test(err.message));
  await assert.rejects(run(true, 'list', '--must-contain', 'x'), (err: any) => err.exitCode === 2 && /--must-contain belongs to `cascade rss rule add`/.test(err.message));
  await assert.rejects(run(true, 'rule', 'drop', '1'), (err: any) => err.exitCode === 2 && /takes add, edit, enable, disable, remove or preview/.test(err.message));
  await assert.rejects(run(true, 'rule', 'edit', String(r.id)), (err: any) => err.exitCode === 2 && /needs an option to change/.test(err.message));

  // Editing: only what is given changes; --no-smart turns it off; disable/enable.
  const edited = (await run(true, 'rule', 'edit', String(r.id), '--must-not-contain', '720p|cam', '--no-smart', '--feed', 'all')).events()[0]!;
  assert.deepEqual([edited.mustContain, edited.mustNotContain, edited.smartFilter, edited.feeds, edited.addPaused], ['series 1080p', '720p|cam', false, [], true]);
  assert.equal((await run(true, 'rule', 'disable', String(r.id))).events()[0]!.enabled, false);
  assert.match((await run(false, 'rule', 'enable', String(r.id))).stdout(), /^enabled rule \d+\n\s*\d+  Series 1080p\n/);
  assert.equal((await run(true, 'rules')).events()[0]!.rules[0].enabled, true);

  const settings = await run(false, 'settings', '--interval', '45', '--max-items', '50');
  assert.match(settings.stdout(), /every 45 min .*; 50 items kept per feed/);
  assert.deepEqual((await run(true, 'settings')).events()[0], { refreshInterval: 2700, maxItemsPerFeed: 50 });
  await assert.rejects(run(true, 'settings', '--max-items', '0'), (err: any) => err.exitCode === 2 && /maxItemsPerFeed/.test(err.message));
  await assert.rejects(run(true, 'list', '--max-items', '5'), (err: any) => err.exitCode === 2 && /--max-items belongs to/.test(err.message));

  // A failing feed: `refresh` says so and exits 1.
  const bad = await run(true, 'add', `${feeds.url}/500`);
  const failed = await run(false, 'refresh', String(bad.events()[0]!.id));
  assert.equal(failed.code, 1);
  assert.match(failed.stdout(), /ERROR: cannot fetch .*HTTP 500/);

  assert.equal((await run(true, 'rule', 'remove', String(r.id))).events()[0]!.removed, true);
  assert.equal((await run(true, 'remove', String(feed.id))).events()[0]!.removed, true);
  assert.deepEqual((await run(true, 'rules')).events()[0], { rules: [] });
  // The matches stay after their rule and feed are gone.
  assert.equal((await run(true, 'matches')).events()[0]!.matches.length, 1);
});

test('cascade rss without a running node says so; help rss describes every form', async (t) => {
  const dir = tempDir(t);
  const c = capture(true);
  await assert.rejects(rssCommand(parseCommandLine(['rss', 'list', '--state-dir', dir]), c.out), /no running node .*cascade serve/);
  const writes: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(['help', 'rss']);
  } finally {
    process.stdout.write = orig;
  }
  assert.equal(code, 0);
  const help = writes.join('');
  for (const form of ['rss add URL [--interval MIN]', 'rss remove ID', 'rss refresh [ID]', 'rss items ID', 'rss rules', 'rss rule add NAME', 'rss rule remove ID', 'rss rule edit ID', 'rss rule enable ID', 'rss matches', 'rss settings', '--must-contain', '--episode', '--regex', '--feed ID', '--save-path', '--json']) {
    assert.ok(help.includes(form), `help mentions ${form}`);
  }
});
