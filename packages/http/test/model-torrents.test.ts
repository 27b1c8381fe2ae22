// Each torrent's own options on a real node: add options (JSON and multipart), PATCH (limits live in
// the engine, category, tags, seeding goals, force start, move), the entry fields, list filters and
// sort, the control RPC, and bad input refused with a 4xx that changes nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { restartableServer, makeTorrent, until } from './model-helpers.ts';
import { formWith, patternBytes } from './server-helpers.ts';
import { connectControl } from '@cascade/node';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

function torrentForm(bytes: Uint8Array, fields: [string, string][] = []): FormData {
  const fd = new FormData();
  for (const [k, v] of fields) fd.append(k, v);
  fd.append('torrent', new Blob([new Uint8Array(bytes)]), 'x.torrent');
  return fd;
}

test('add options: savePath, category (its save path; made when new), tags, paused — JSON and multipart', async (t) => {
  const n = await restartableServer(t);
  const src = join(n.root, 'src');
  const movies = join(n.root, 'movies');
  await n.json('/api/categories', { method: 'POST', json: { name: 'Movies', savePath: movies } });

  // multipart .torrent with a category that has a save path, tags repeated and comma-separated, paused
  const a = await makeTorrent(src, 'alpha', { 'a.bin': 20_000 }, 1);
  const r1 = await n.json('/api/torrents', { method: 'POST', body: torrentForm(a.torrent, [['category', 'Movies'], ['tags', 'hd'], ['tags', 'x, y'], ['paused', 'true']]) });
  assert.equal(r1.status, 201, JSON.stringify(r1.body));
  const d1 = (await n.json(`/api/torrents/${r1.body.infoHash}`)).body;
  assert.equal(d1.savePath, movies, "the category's save path");
  assert.equal(d1.category, 'Movies');
  assert.deepEqual(d1.tags, ['hd', 'x', 'y']);
  assert.equal(d1.state, 'paused');

  // JSON magnet with its own savePath (relative = under the download dir) and a new category
  const b = await makeTorrent(src, 'beta', { 'b.bin': 20_000 }, 2);
  const magnet = `magnet:?xt=urn:btih:${b.metainfo.infoHashHex}&dn=beta`;
  const r2 = await n.json('/api/torrents', { method: 'POST', json: { uri: magnet, savePath: 'shows/s1', category: 'TV', tags: ['new'], paused: true } });
  assert.equal(r2.status, 201, JSON.stringify(r2.body));
  const d2 = (await n.json(`/api/torrents/${r2.body.infoHash}`)).body;
  assert.equal(d2.savePath, join(n.downloadDir, 'shows', 's1'));
  assert.equal(d2.category, 'TV');
  assert.deepEqual((await n.json('/api/categories')).body.categories, [
    { name: 'Movies', savePath: movies },
    { name: 'TV', savePath: null },
  ]);
  assert.deepEqual((await n.json('/api/tags')).body.tags, ['hd', 'new', 'x', 'y']);

  // nothing given: the download dir setting (changed at run time), not paused
  await n.json('/api/settings', { method: 'PATCH', json: { downloadDir: join(n.root, 'dl2') } });
  const c = await makeTorrent(src, 'gamma', { 'c.bin': 20_000 }, 3);
  const r3 = await n.json('/api/torrents', { method: 'POST', body: torrentForm(c.torrent) });
  const d3 = (await n.json(`/api/torrents/${r3.body.infoHash}`)).body;
  assert.equal(d3.savePath, join(n.root, 'dl2'));
  assert.notEqual(d3.state, 'paused');
  assert.equal(d3.category, null);
  assert.deepEqual(d3.tags, []);

  // startPaused applies to adds that do not say
  await n.json('/api/settings', { method: 'PATCH', json: { startPaused: true } });
  const d = await makeTorrent(src, 'delta', { 'd.bin': 20_000 }, 4);
  const r4 = await n.json('/api/torrents', { method: 'POST', body: torrentForm(d.torrent) });
  assert.equal((await n.json(`/api/torrents/${r4.body.infoHash}`)).body.state, 'paused');

  // sharing files with options: the content goes to the save path and is seeded from there
  const share = formWith([['movie.bin', patternBytes(30_000, 5)]]);
  share.append('savePath', join(n.root, 'shared'));
  share.append('tags', 'mine');
  share.append('paused', 'false');
  const r5 = await n.json('/api/torrents', { method: 'POST', body: share });
  assert.equal(r5.status, 201, JSON.stringify(r5.body));
  const d5 = (await n.json(`/api/torrents/${r5.body.infoHash}`)).body;
  assert.equal(d5.savePath, join(n.root, 'shared'));
  assert.ok(existsSync(join(n.root, 'shared', 'movie.bin')));
  assert.deepEqual(d5.tags, ['mine']);
  await until('the share seeding', async () => (await n.json(`/api/torrents/${r5.body.infoHash}`)).body.state === 'seeding');

  // everything survives a restart
  await n.restart();
  const again = (await n.json(`/api/torrents/${r1.body.infoHash}`)).body;
  assert.equal(again.category, 'Movies');
  assert.deepEqual(again.tags, ['hd', 'x', 'y']);
  assert.equal(again.savePath, movies);
});

test('add options: bad values are 4xx naming the field, and nothing is added', async (t) => {
  const n = await restartableServer(t);
  const src = join(n.root, 'src');
  const a = await makeTorrent(src, 'alpha', { 'a.bin': 20_000 }, 1);
  const magnet = `magnet:?xt=urn:btih:${a.metainfo.infoHashHex}`;
  const bad: [unknown, RegExp][] = [
    [{ uri: magnet, savePath: '../../etc' }, /savePath/],
    [{ uri: magnet, savePath: '/tmp/a/../../etc' }, /savePath/],
    [{ uri: magnet, savePath: n.stateDir }, /savePath/],
    [{ uri: magnet, savePath: 'x\u0000y' }, /savePath/],
    [{ uri: magnet, tags: Array.from({ length: 65 }, (_, i) => `t${i}`) }, /tags/],
    [{ uri: magnet, tags: ['a,b'] }, /tags/],
    [{ uri: magnet, tags: [''] }, /tags/],
    [{ uri: magnet, tags: 'one' }, /tags/],
    [{ uri: magnet, category: 'x'.repeat(100) }, /category/],
    [{ uri: magnet, category: 7 }, /category/],
    [{ uri: magnet, paused: 'yes' }, /paused/],
  ];
  for (const [body, message] of bad) {
    const r = await n.json('/api/torrents', { method: 'POST', json: body });
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 100)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(r.body.message, message);
  }
  const form = await n.json('/api/torrents', { method: 'POST', body: torrentForm(a.torrent, [['paused', 'maybe']]) });
  assert.equal(form.status, 400);
  assert.match(form.body.message, /paused/);
  const traversal = await n.json('/api/torrents', { method: 'POST', body: torrentForm(a.torrent, [['savePath', '../../../etc']]) });
  assert.equal(traversal.status, 400);
  assert.match(traversal.body.message, /savePath/);
  const share = formWith([['f.bin', patternBytes(1000, 1)]]);
  share.append('savePath', join(n.stateDir, 'x'));
  const badShare = await n.json('/api/torrents', { method: 'POST', body: share });
  assert.equal(badShare.status, 400);
  assert.ok(!existsSync(join(n.downloadDir, 'f.bin')), 'a refused share leaves nothing behind');
  assert.deepEqual((await n.json('/api/torrents')).body, { torrents: [], total: 0, shareWarning: null });
  assert.deepEqual((await n.json('/api/categories')).body.categories, []);
});

test('PATCH a torrent: limits live in the engine, category, tags, goals, force start, move; bad input refused', async (t) => {
  const n = await restartableServer(t);
  const src = join(n.root, 'src');
  const a = await makeTorrent(src, 'alpha', { 'a.bin': 40_000, 'b.bin': 20_000 }, 1);
  // Seeded from where it was made: the data is there.
  const add = await n.server.node.addWith(a.torrent, { savePath: src });
  const ih = add.infoHashHex;
  await until('seeding', () => n.server.node.session.get(ih)?.stats().state === 'seeding');
  await n.json('/api/categories', { method: 'POST', json: { name: 'Keep' } });

  const patched = await n.json(`/api/torrents/${ih}`, {
    method: 'PATCH',
    json: { downloadLimit: 100_000, uploadLimit: 50_000, category: 'Keep', tags: ['b', 'a', 'b'], ratioLimit: 2, seedingTimeLimit: -1, forceStart: true, superSeeding: true },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.infoHash, ih, 'answers the detail');
  assert.equal(patched.body.downloadLimit, 100_000);
  assert.equal(patched.body.uploadLimit, 50_000);
  assert.equal(patched.body.category, 'Keep');
  assert.deepEqual(patched.body.tags, ['b', 'a']);
  assert.equal(patched.body.ratioLimit, 2);
  assert.equal(patched.body.seedingTimeLimit, -1);
  assert.equal(patched.body.forceStart, true);
  assert.equal(patched.body.superSeeding, true);
  assert.deepEqual(n.server.node.session.get(ih)!.rateLimits(), { download: 100_000, upload: 50_000 }, 'applied in the engine at once');
  assert.equal(n.server.node.session.get(ih)!.superSeeding, true, 'super-seeding switched on in the engine');

  // bad input: 400 naming the field, 409 for an unknown category, nothing changed
  const bad: [unknown, number, RegExp][] = [
    [{ downloadLimit: -1 }, 400, /downloadLimit/],
    [{ uploadLimit: 'lots' }, 400, /uploadLimit/],
    [{ uploadLimit: 1.25 }, 400, /uploadLimit/],
    [{ ratioLimit: -2 }, 400, /ratioLimit/],
    [{ seedingTimeLimit: 0.5 }, 400, /seedingTimeLimit/],
    [{ forceStart: 'yes' }, 400, /forceStart/],
    [{ superSeeding: 1 }, 400, /superSeeding/],
    [{ tags: Array.from({ length: 500 }, (_, i) => `t${i}`) }, 400, /tags/],
    [{ tags: [{}] }, 400, /tags/],
    [{ category: 'Nope' }, 409, /Nope/],
    [{ savePath: '../../etc' }, 400, /savePath/],
    [{ savePath: join(n.stateDir, 'in') }, 400, /savePath/],
    [{ savePath: 42 }, 400, /savePath/],
    [{ colour: 'red' }, 400, /colour/],
    [{ downloadLimit: 5, uploadLimit: -5 }, 400, /uploadLimit/],
  ];
  for (const [body, status, message] of bad) {
    const r = await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: body });
    assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 80)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.match(r.body.message, message);
  }
  assert.equal((await n.json(`/api/torrents/${'f'.repeat(40)}`, { method: 'PATCH', json: { downloadLimit: 1 } })).status, 404);
  assert.equal((await n.json('/api/torrents/nothex', { method: 'PATCH', json: { downloadLimit: 1 } })).status, 400);
  const same = (await n.json(`/api/torrents/${ih}`)).body;
  assert.equal(same.downloadLimit, 100_000, 'unchanged after the refusals');
  assert.equal(same.category, 'Keep');
  assert.deepEqual(n.server.node.session.get(ih)!.rateLimits(), { download: 100_000, upload: 50_000 });

  // move the data: it goes, the torrent seeds from the new place, the old place is empty
  const dest = join(n.root, 'moved');
  const moved = await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { savePath: dest } });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  assert.equal(moved.body.savePath, dest);
  assert.ok(existsSync(join(dest, 'alpha', 'a.bin')));
  assert.ok(!existsSync(join(src, 'alpha', 'a.bin')));
  assertSameBytes(readFileSync(join(dest, 'alpha', 'b.bin')), Buffer.from(patternBytes(20_000, 2)));

  // clearing: null category and goals, no tags, no limits
  const cleared = await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { category: null, tags: [], ratioLimit: null, downloadLimit: 0 } });
  assert.equal(cleared.body.category, null);
  assert.deepEqual(cleared.body.tags, []);
  assert.equal(cleared.body.ratioLimit, null);
  assert.equal(n.server.node.session.get(ih)!.rateLimits().download, 0);

  // kept and applied again after a restart
  await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { uploadLimit: 70_000, tags: ['kept'] } });
  await n.restart();
  const after = (await n.json(`/api/torrents/${ih}`)).body;
  assert.equal(after.savePath, dest);
  assert.equal(after.uploadLimit, 70_000);
  assert.deepEqual(after.tags, ['kept']);
  assert.equal(n.server.node.session.get(ih)!.rateLimits().upload, 70_000);
  assert.equal(after.superSeeding, true, 'super-seeding kept');
  assert.equal(n.server.node.session.get(ih)!.superSeeding, true, 'and applied to the engine again');
  assert.equal((await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { superSeeding: false } })).body.superSeeding, false);
  assert.equal(n.server.node.session.get(ih)!.superSeeding, false);

  // deleting the category uncategorises its torrents
  await n.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { category: 'Keep' } });
  await n.json('/api/categories/Keep', { method: 'DELETE' });
  assert.equal((await n.json(`/api/torrents/${ih}`)).body.category, null);

  // the control RPC: the same operation, prefixes allowed
  const control = await connectControl(n.stateDir);
  assert.ok(control);
  const viaRpc = await control.call<{ downloadLimit: number }>('torrent.set', { infoHash: ih.slice(0, 8), downloadLimit: 12_345 });
  assert.equal(viaRpc.downloadLimit, 12_345);
  await assert.rejects(control.call('torrent.set', { infoHash: ih, downloadLimit: -4 }), /downloadLimit/);
  const tags = await control.call<{ tags: string[] }>('torrent.tags', { infoHash: ih, tags: ['z', 'kept'] });
  assert.deepEqual(tags.tags, ['kept', 'z']);
  assert.deepEqual((await control.call<{ tags: string[] }>('torrent.tags', { infoHash: ih, tags: ['kept'], remove: true })).tags, ['z']);
});

test('list: every entry has the model fields; filters, search, sort with ties by infohash, total', async (t) => {
  const n = await restartableServer(t);
  const src = join(n.root, 'src');
  await n.json('/api/categories', { method: 'POST', json: { name: 'A' } });
  const made = [];
  for (const [i, name] of ['Charlie', 'alpha', 'Bravo', 'delta'].entries()) {
    const m = await makeTorrent(src, name, { 'f.bin': 17_000 * (i + 1) }, 10 + i);
    const r = await n.json('/api/torrents', {
      method: 'POST',
      body: torrentForm(m.torrent, [['paused', 'true'], ...(i % 2 === 0 ? ([['category', 'A']] as [string, string][]) : []), ['tags', i < 2 ? 'x' : 'y']]),
    });
    assert.equal(r.status, 201);
    made.push({ name, infoHash: r.body.infoHash as string, length: 17_000 * (i + 1) });
  }
  const all = (await n.json('/api/torrents')).body;
  assert.equal(all.total, 4);
  for (const e of all.torrents) {
    for (const k of ['category', 'tags', 'savePath', 'queuePosition', 'downloadLimit', 'uploadLimit', 'ratioLimit', 'seedingTimeLimit',
      'forceStart', 'ratio', 'seedingTime', 'addedAt', 'completedAt', 'tracker']) {
      assert.ok(k in e, `entry has ${k}`);
    }
  }
  // queue positions 1..4 in the order added (none is complete)
  assert.deepEqual(made.map((m) => all.torrents.find((e: any) => e.infoHash === m.infoHash).queuePosition), [1, 2, 3, 4]);

  const names = async (q: string) => {
    const r = await n.json(`/api/torrents?${q}`);
    assert.equal(r.status, 200, `${q} → ${JSON.stringify(r.body)}`);
    return { names: r.body.torrents.map((e: { name: string }) => e.name), total: r.body.total };
  };
  assert.deepEqual((await names('sort=name')).names, ['alpha', 'Bravo', 'Charlie', 'delta'], 'case-insensitive');
  assert.deepEqual((await names('sort=name&order=desc')).names, ['delta', 'Charlie', 'Bravo', 'alpha']);
  assert.deepEqual((await names('sort=size&order=desc')).names, ['delta', 'Bravo', 'alpha', 'Charlie']);
  assert.deepEqual((await names('category=A&sort=name')).names, ['Bravo', 'Charlie']);
  assert.deepEqual((await names('category=&sort=name')).names, ['alpha', 'delta'], 'empty category = uncategorised');
  assert.deepEqual((await names('tag=x&sort=name')).names, ['alpha', 'Charlie']);
  assert.deepEqual((await names('search=AL&sort=name')).names, ['alpha']);
  assert.deepEqual((await names(`search=${made[3]!.infoHash.slice(0, 10)}`)).names, ['delta']);
  assert.deepEqual((await names('state=paused&sort=name')).names, ['alpha', 'Bravo', 'Charlie', 'delta']);
  assert.deepEqual((await names('state=seeding')).names, []);
  assert.deepEqual((await names('state=inactive')).total, 4);
  assert.deepEqual((await names('sort=name&limit=2&offset=1')), { names: ['Bravo', 'Charlie'], total: 4 });
  // equal keys: ties by infohash, both orders
  const ties = (await n.json('/api/torrents?sort=state')).body.torrents.map((e: { infoHash: string }) => e.infoHash);
  assert.deepEqual(ties, [...made.map((m) => m.infoHash)].sort());
  const tiesDesc = (await n.json('/api/torrents?sort=category&order=desc')).body.torrents.map((e: { infoHash: string; category: string | null }) => [e.category, e.infoHash]);
  assert.deepEqual(tiesDesc.map((x: [string | null, string]) => x[0]), ['A', 'A', null, null], 'nulls last');

  for (const [q, message] of [['sort=colour', /sort/], ['state=sleeping', /state/], ['order=sideways', /order/], ['limit=0', /limit/]] as const) {
    const r = await n.json(`/api/torrents?${q}`);
    assert.equal(r.status, 400, q);
    assert.match(r.body.message, message);
  }

  const control = await connectControl(n.stateDir);
  const viaRpc = await control!.call<{ torrents: { name: string }[]; total: number }>('list', { tag: 'y', sort: 'name' });
  assert.deepEqual(viaRpc.torrents.map((e) => e.name), ['Bravo', 'delta']);
  await assert.rejects(control!.call('list', { state: 'sleeping' }), /state/);
});
