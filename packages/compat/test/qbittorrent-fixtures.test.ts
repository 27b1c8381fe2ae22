// Our answers, field by field, against qBittorrent's documentation (test/fixtures/qbittorrent/*.json:
// each documented field with its documented type, and the documented example object): every field
// is present with that JSON type, and the example's keys are all there with the example's types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileTorrent, startQbNode, waitFor } from './qbittorrent-helpers.ts';

interface Fixture {
  endpoint: string;
  fields: Record<string, string>;
  example: Record<string, unknown>;
}

const fixture = (name: string): Fixture => JSON.parse(readFileSync(new URL(`./fixtures/qbittorrent/${name}.json`, import.meta.url), 'utf8'));

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case 'integer':
      return Number.isInteger(v);
    case 'float':
      return typeof v === 'number' && Number.isFinite(v);
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'integer array':
      return Array.isArray(v) && v.every((x) => Number.isInteger(x));
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    default:
      throw new Error(`unknown documented type ${type}`);
  }
}

const jsonType = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

function checkAgainst(name: string, answer: Record<string, unknown>, opts: { skipExample?: boolean } = {}): void {
  const f = fixture(name);
  for (const [field, type] of Object.entries(f.fields)) {
    assert.ok(field in answer, `${f.endpoint}: documented field "${field}" is missing`);
    assert.ok(hasType(answer[field], type), `${f.endpoint}: "${field}" should be ${type}, is ${JSON.stringify(answer[field])}`);
  }
  if (opts.skipExample) return;
  for (const [field, v] of Object.entries(f.example)) {
    assert.ok(field in answer, `${f.endpoint}: the documented example's "${field}" is missing`);
    assert.equal(jsonType(answer[field]), jsonType(v), `${f.endpoint}: "${field}" has the example's JSON type`);
  }
}

test('answers carry every documented field with its documented type', async (t) => {
  const { s, call } = await startQbNode(t);
  await call('torrents/createCategory', { category: 'Video', savePath: join(s.root, 'video') });
  const film = await fileTorrent(join(s.root, 'video'), 'film.mkv', 70_000);
  const fd = new FormData();
  fd.append('torrents', new Blob([film.torrent]), 'film.torrent');
  fd.append('category', 'Video');
  fd.append('tags', 'hd');
  const sid = await (async () => {
    const r = await fetch(`${s.url}/api/v2/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${s.token}` });
    return r.headers.get('set-cookie')!.split(';')[0]!;
  })();
  const r = await fetch(`${s.url}/api/v2/torrents/add`, { method: 'POST', headers: { cookie: sid }, body: fd });
  assert.equal(await r.text(), 'Ok.');
  // A magnet without metadata too: its answers must keep the documented types (-1 for unknowns).
  await call('torrents/add', { urls: `magnet:?xt=urn:btih:${'cd'.repeat(20)}&dn=pending`, paused: 'true' });
  await waitFor('the film to verify', async () => ((await call(`torrents/info?hashes=${film.infoHash}`)).json[0]?.progress === 1 ? true : undefined));

  const list = (await call('torrents/info')).json as Record<string, unknown>[];
  assert.equal(list.length, 2);
  // The documented state values (the fixture's note), plus forcedMetaDL which 4.6 also sends.
  const note = (fixture('torrents-info') as Fixture & { note: string }).note;
  const states = new Set([...note.replace(/^.*one of: /, '').split(', '), 'forcedMetaDL']);
  for (const t of list) {
    checkAgainst('torrents-info', t);
    assert.ok(states.has(t.state as string), `state ${t.state} is one qBittorrent documents`);
  }
  for (const hash of [film.infoHash, 'cd'.repeat(20)]) {
    checkAgainst('torrents-properties', (await call(`torrents/properties?hash=${hash}`)).json);
    for (const tr of (await call(`torrents/trackers?hash=${hash}`)).json) checkAgainst('torrents-trackers', tr);
  }
  const files = (await call(`torrents/files?hash=${film.infoHash}`)).json;
  assert.equal(files.length, 1);
  checkAgainst('torrents-files', files[0]);
  assert.deepEqual((await call(`torrents/files?hash=${'cd'.repeat(20)}`)).json, [], 'no metadata yet: no files');
  checkAgainst('transfer-info', (await call('transfer/info')).json);
  const cats = (await call('torrents/categories')).json;
  // The documented example is the whole map: each of its category objects has our object's shape.
  checkAgainst('categories', cats.Video, { skipExample: true });
  for (const c of Object.values(fixture('categories').example) as Record<string, unknown>[]) {
    assert.deepEqual(Object.keys(c).sort(), Object.keys(cats.Video).sort());
  }
  assert.equal(cats.Video.savePath, join(s.root, 'video'));
  checkAgainst('preferences', (await call('app/preferences')).json);

  const full = (await call('sync/maindata?rid=0')).json;
  checkAgainst('sync-maindata', full, { skipExample: true });
  checkAgainst('transfer-info', full.server_state);
  for (const k of ['queueing', 'use_alt_speed_limits', 'refresh_interval']) assert.ok(k in full.server_state, `server_state.${k}`);
  // The torrents in maindata are torrents/info objects keyed by hash (without the hash field).
  for (const [hash, obj] of Object.entries(full.torrents as Record<string, Record<string, unknown>>)) {
    checkAgainst('torrents-info', { ...obj, hash });
  }
  // The documented example of an incremental answer: a rid and the changed field only.
  await call('torrents/pause', { hashes: film.infoHash });
  const delta = (await call(`sync/maindata?rid=${full.rid}`)).json;
  assert.equal(typeof delta.rid, 'number');
  assert.equal(delta.torrents[film.infoHash].state, 'pausedUP');
  assert.equal('name' in delta.torrents[film.infoHash], false);
});
