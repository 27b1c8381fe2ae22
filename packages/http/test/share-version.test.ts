// Sharing as BitTorrent v1, v2 or hybrid (BEP 52) through POST /api/torrents, and finding a torrent
// by its v2 infohash: the multipart field `version`, the answer's infoHashV2, the detail's version,
// GET /api/torrents/<64 hex>, and the refusals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseTorrent } from '@cascade/engine';
import { startTestServer, patternBytes, type TestServer } from './server-helpers.ts';

function form(fields: Record<string, string>, files: [string, Uint8Array][], field = 'file'): FormData {
  const fd = new FormData();
  // Options go before the files: the node reads them first.
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const [name, data] of files) fd.append(field, new Blob([new Uint8Array(data)]), name);
  return fd;
}

const share = (s: TestServer, fields: Record<string, string>, files: [string, Uint8Array][], field?: string) =>
  s.json('/api/torrents', { method: 'POST', body: form(fields, files, field) });

test('a hybrid share has both infohashes, and the v2 one finds it', async (t) => {
  const s = await startTestServer(t);
  const data = patternBytes(100_000, 7);
  const r = await share(s, { version: 'hybrid' }, [['hybrid.bin', data]]);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.match(r.body.infoHash, /^[0-9a-f]{40}$/);
  assert.match(r.body.infoHashV2, /^[0-9a-f]{64}$/);
  assert.match(r.body.magnet, new RegExp(`xt=urn:btih:${r.body.infoHash}`, 'i'));
  assert.match(r.body.magnet, new RegExp(`xt=urn:btmh:1220${r.body.infoHashV2}`, 'i'));

  // The .torrent the node serves is the one it answered for: SHA-1 and SHA-256 of the same info dict.
  const file = await s.request(`/api/torrents/${r.body.infoHash}/torrent`);
  assert.equal(file.status, 200);
  const meta = parseTorrent(new Uint8Array(await file.arrayBuffer()));
  assert.equal(meta.version, 'hybrid');
  assert.equal(meta.infoHashHex, r.body.infoHash);
  assert.equal(createHash('sha256').update(meta.infoBytes).digest('hex'), r.body.infoHashV2);

  // The list's row carries it too (and so cascade list --json and the qBittorrent door).
  const list = await s.json('/api/torrents');
  const row = (list.body.torrents ?? list.body).find((x: { infoHash: string }) => x.infoHash === r.body.infoHash);
  assert.equal(row.infoHashV2, r.body.infoHashV2);

  for (const id of [r.body.infoHash, r.body.infoHashV2, r.body.infoHashV2.toUpperCase()]) {
    const d = await s.json(`/api/torrents/${id}`);
    assert.equal(d.status, 200, `GET by ${id}: ${JSON.stringify(d.body)}`);
    assert.equal(d.body.infoHash, r.body.infoHash);
    assert.equal(d.body.infoHashV2, r.body.infoHashV2);
    assert.equal(d.body.version, 'hybrid');
  }
});

test('a v2-only share is found by its v2 infohash and by its truncated id', async (t) => {
  const s = await startTestServer(t);
  const r = await share(s, { version: 'v2' }, [['v2.bin', patternBytes(40_000, 9)]]);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.infoHash, r.body.infoHashV2.slice(0, 40), "a v2-only torrent's id is its truncated v2 infohash");
  assert.doesNotMatch(r.body.magnet, /urn:btih:/i, 'a v2-only magnet has no v1 infohash');
  const d = await s.json(`/api/torrents/${r.body.infoHashV2}`);
  assert.equal(d.status, 200);
  assert.equal(d.body.version, 'v2');
  assert.equal(d.body.infoHash, r.body.infoHash);
});

test('v1 stays the default, and a v1 torrent has no v2 infohash', async (t) => {
  const s = await startTestServer(t);
  const r = await share(s, {}, [['v1.bin', patternBytes(20_000, 3)]]);
  assert.equal(r.status, 201);
  assert.equal(r.body.infoHashV2, null);
  const d = await s.json(`/api/torrents/${r.body.infoHash}`);
  assert.equal(d.body.version, 'v1');
  assert.equal(d.body.infoHashV2, null);
  // A 64-hex id nobody has is a 404, not a crash or a prefix match.
  assert.equal((await s.json(`/api/torrents/${'e'.repeat(64)}`)).status, 404);
});

test('bad versions are refused before anything is stored', async (t) => {
  const s = await startTestServer(t);
  const bogus = await share(s, { version: 'v3' }, [['x.bin', patternBytes(1000)]]);
  assert.equal(bogus.status, 400);
  assert.match(bogus.body.message, /"version" must be v1, v2 or hybrid/);
  const onTorrent = await share(s, { version: 'v2' }, [['a.torrent', new TextEncoder().encode('d4:infod4:name1:aee')]], 'torrent');
  assert.equal(onTorrent.status, 400);
  assert.match(onTorrent.body.message, /"version" applies to files you share/);
  const privateV2 = await share(s, { encrypt: 'true', version: 'v2' }, [['p.bin', patternBytes(1000)]]);
  assert.equal(privateV2.status, 400);
  assert.match(privateV2.body.message, /private share is a v1 torrent/);
  assert.deepEqual((await s.json('/api/torrents')).body.torrents ?? (await s.json('/api/torrents')).body, []);
});
