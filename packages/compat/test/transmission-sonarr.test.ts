// What Sonarr/Radarr's Transmission client does, call by call (their TransmissionProxy and
// TransmissionBase): GET for the session id with Basic credentials, session-get for the version and
// download-dir, torrent-add with the .torrent's bytes into "<download-dir>/<category>", torrent-set
// of the indexer's seed goals, queue-move-top, torrent-get polls until the item is complete, then
// torrent-remove keeping the data it has imported. A second Cascade node seeds the release.

import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formWith, patternBytes, startTestServer } from '../../http/test/server-helpers.ts';
import { until } from './transmission-helpers.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

// The fields Sonarr asks for ("fileCount" is not Transmission's: skipped).
const SONARR_FIELDS = ['id', 'hashString', 'name', 'downloadDir', 'totalSize', 'leftUntilDone', 'isFinished', 'eta', 'status',
  'secondsDownloading', 'secondsSeeding', 'errorString', 'uploadedEver', 'downloadedEver', 'seedRatioLimit', 'seedRatioMode',
  'seedIdleLimit', 'seedIdleMode', 'fileCount'];

test('a Sonarr-style client: handshake, version, add into a category folder, seed goals, queue top, poll to completion, remove', { timeout: 60_000 }, async (t) => {
  const seed = await startTestServer(t);
  const episode = patternBytes(150_000, 21);
  const shared = await seed.json('/api/torrents', { method: 'POST', body: formWith([['Show.S01E01.mkv', episode]]) });
  const hash: string = shared.body.infoHash;
  const torrentBytes = Buffer.from(await (await seed.request(`/api/torrents/${hash}/torrent`)).arrayBuffer());

  const s = await startTestServer(t);
  const url = `${s.url}/transmission/rpc`;
  const auth = `Basic ${Buffer.from(`sonarr:${s.token}`).toString('base64')}`;

  // AuthenticateClient: a GET with the credentials must answer 409 with the id.
  const hello = await fetch(url, { headers: { authorization: auth } });
  assert.equal(hello.status, 409);
  const sessionId = hello.headers.get('X-Transmission-Session-Id')!;
  assert.ok(sessionId);
  const call = async (method: string, args?: Record<string, unknown>) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: auth, 'X-Transmission-Session-Id': sessionId, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ method, ...(args ? { arguments: args } : {}) }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { result: string; arguments: any };
    assert.equal(body.result, 'success', `${method}: ${body.result}`);
    return body.arguments;
  };

  // Test connection: session-get, then the version through Sonarr's own pattern (needs 2.40+), then a torrent-get.
  const config = await call('session-get');
  const version = /(?<!\(|(\d|\.)+)(\d|\.)+(?!\)|(\d|\.)+)/.exec(config.version)![0];
  assert.ok(Number(version.split('.')[0]) >= 3, config.version);
  assert.deepEqual((await call('torrent-get', { fields: SONARR_FIELDS })).torrents, []);

  // Grab: the .torrent's bytes into <download-dir>/tv-sonarr (the category as a folder), seed goals, first in queue.
  const dir = `${config['download-dir'].replace(/\/$/, '')}/tv-sonarr`;
  const added = await call('torrent-add', { metainfo: torrentBytes.toString('base64'), paused: false, 'download-dir': dir });
  assert.equal(added['torrent-added'].hashString, hash);
  await call('torrent-set', { ids: [hash], seedRatioLimit: 1.0, seedRatioMode: 1, seedIdleLimit: 60, seedIdleMode: 1 });
  await call('queue-move-top', { ids: [hash] });

  // Polling: the item goes from Downloading to Completed by Sonarr's rules.
  const done = await until('completed', async () => {
    const [x] = (await call('torrent-get', { fields: SONARR_FIELDS })).torrents;
    if (x.totalSize === 0) return undefined; // Sonarr skips magnets still fetching metadata
    return x.leftUntilDone === 0 && [0, 5, 6].includes(x.status) ? x : undefined;
  }, 200);
  assert.equal(done.hashString, hash);
  assert.equal(done.name, 'Show.S01E01.mkv');
  assert.ok(done.downloadDir.split('/').includes('tv-sonarr'), 'Sonarr finds its items by the category folder');
  assert.equal(done.totalSize, episode.length);
  assert.equal(done.errorString, '');
  assert.equal(done.downloadedEver >= episode.length, true);
  assert.deepEqual([done.seedRatioMode, done.seedRatioLimit, done.seedIdleMode, done.seedIdleLimit], [1, 1, 1, 60]);
  assert.ok(!('fileCount' in done));
  // Not yet at its seed goals: Sonarr would not remove it (ratio 0 < 1, seeded < 60 min).
  assert.equal(done.isFinished, false);
  assert.ok(done.secondsSeeding < 3600);
  // The output path Sonarr imports from: downloadDir + name.
  assertSameBytes(readFileSync(join(done.downloadDir, done.name)), Buffer.from(episode));

  // After import: remove, keeping the data.
  await call('torrent-remove', { ids: [hash], 'delete-local-data': false });
  assert.deepEqual((await call('torrent-get', { fields: SONARR_FIELDS })).torrents, []);
  assert.equal((await s.json(`/api/torrents/${hash}`)).status, 404);
  assert.ok(existsSync(join(dir, 'Show.S01E01.mkv')));
});
