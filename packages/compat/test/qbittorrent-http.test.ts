// The qBittorrent Web API over raw HTTP: what clients other than @ctrl rely on — the SID cookie,
// 403 without it, the login ban, the CSRF rule, and qBittorrent's status codes and texts for bad
// input (400, 404, 405, 409, 415) — plus preferences, properties, files, trackers, limits, queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SessionStore, SESSION_TIMEOUT_S, BAN_DURATION_S, LOCAL_IDLE_MS, SYNC_IDLE_MS, MemorySessions, isCrossSite } from '../src/qbittorrent/session.ts';
import { KEPT_TORRENTS, PeerAnswers } from '../src/qbittorrent/peers.ts';
import { folderTorrent, magnetOf, startQbNode, waitFor } from './qbittorrent-helpers.ts';

test('auth: SID cookie, 403 without it, logout, ban after 5 failures, CSRF', async (t) => {
  const { s, call, login } = await startQbNode(t);
  const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString(),
  });
  // Without a session every action is 403 "Forbidden" (Sonarr probes webapiVersion for exactly that).
  let r = await fetch(`${s.url}/api/v2/app/webapiVersion`);
  assert.equal(r.status, 403);
  assert.equal(await r.text(), 'Forbidden');
  r = await fetch(`${s.url}/api/v2/torrents/info`, { headers: { cookie: 'SID=made-up' } });
  assert.equal(r.status, 403);

  // Login: any user name, the token as password; the cookie is HttpOnly and SameSite=Strict.
  r = await fetch(`${s.url}/api/v2/auth/login`, form({ username: 'cascade', password: s.token }));
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'Ok.');
  const setCookie = r.headers.get('set-cookie')!;
  assert.match(setCookie, /^SID=[A-Za-z0-9_-]{32}; HttpOnly; SameSite=Strict; path=\/$/);
  const cookie = setCookie.split(';')[0]!;
  assert.equal((await call('app/version', undefined, cookie)).text, 'v4.6.7');
  // GET is not allowed for login (qBittorrent: 405).
  assert.equal((await fetch(`${s.url}/api/v2/auth/login`)).status, 405);

  // Logout ends the session and expires the cookie.
  r = await fetch(`${s.url}/api/v2/auth/logout`, { method: 'POST', headers: { cookie } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('set-cookie')!, /^SID=;/);
  assert.equal((await call('app/version', undefined, cookie)).status, 403);

  // CSRF: an Origin (or Referer) that is not the Host is refused with 401, even with a good password.
  const host = new URL(s.url).host;
  r = await fetch(`${s.url}/api/v2/auth/login`, form({ username: 'x', password: s.token }, { origin: 'http://evil.example' }));
  assert.equal(r.status, 401);
  r = await fetch(`${s.url}/api/v2/auth/login`, form({ username: 'x', password: s.token }, { referer: 'http://evil.example/page' }));
  assert.equal(r.status, 401);
  r = await fetch(`${s.url}/api/v2/auth/login`, form({ username: 'x', password: s.token }, { origin: `http://${host}` }));
  assert.equal(await r.text(), 'Ok.');
  // Behind a proxy, the forwarded host is the target the Origin must match.
  r = await fetch(`${s.url}/api/v2/auth/login`, form({ username: 'x', password: s.token }, { origin: 'https://qb.example.org', 'x-forwarded-host': 'qb.example.org' }));
  assert.equal(await r.text(), 'Ok.');
  // The password is read from the form body only, never from the query string.
  r = await fetch(`${s.url}/api/v2/auth/login?password=${s.token}`, { method: 'POST' });
  assert.equal(await r.text(), 'Fails.');

  // Wrong passwords (the query-string attempt above was the 1st): "Fails." with no cookie; the 5th failure bans the address for an hour, even
  // for the right password.
  for (let i = 0; i < 4; i++) {
    r = await fetch(`${s.url}/api/v2/auth/login`, form({ username: 'cascade', password: `wrong-${i}` }));
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'Fails.');
    assert.equal(r.headers.get('set-cookie'), null);
  }
  r = await fetch(`${s.url}/api/v2/auth/login`, form({ username: 'cascade', password: s.token }));
  assert.equal(r.status, 403);
  assert.match(await r.text(), /banned/);
  await assert.rejects(login(), /403/);
  // A session made before the ban keeps working.
  assert.equal((await call('app/webapiVersion')).text, '2.9.3');
});

test('sessions expire after an hour idle; bans end after an hour; CSRF rule', async () => {
  let now = 1_000_000;
  const store = new SessionStore(() => now);
  const a = await store.start(store.credential());
  now += (SESSION_TIMEOUT_S - 1) * 1000;
  assert.equal((await store.get(a.id))?.id, a.id, 'used within the hour: kept, its clock restarted');
  now += (SESSION_TIMEOUT_S - 1) * 1000;
  assert.ok(await store.get(a.id));
  now += (SESSION_TIMEOUT_S + 1) * 1000;
  assert.equal(await store.get(a.id), undefined, 'idle for over an hour: gone');
  for (let i = 0; i < 4; i++) await store.loginFailed('10.0.0.1');
  assert.equal(await store.isBanned('10.0.0.1'), false);
  await store.loginFailed('10.0.0.1');
  assert.equal(await store.isBanned('10.0.0.1'), true);
  assert.equal(await store.isBanned('10.0.0.2'), false);
  now += BAN_DURATION_S * 1000;
  assert.equal(await store.isBanned('10.0.0.1'), false);
  assert.equal(isCrossSite({ host: 'a:1' }), false);
  assert.equal(isCrossSite({ host: 'a:1', origin: 'http://a:1' }), false);
  assert.equal(isCrossSite({ host: 'a:1', origin: 'http://a:2' }), true);
  assert.equal(isCrossSite({ host: 'a:1', referer: 'http://b:1/x' }), true);
  assert.equal(isCrossSite({ host: 'a:1', origin: 'null' }), true);
});

test('sessions left behind by clients that log in again let go of what they hold (issue 63)', async () => {
  let now = 1_000_000;
  // A backend other processes share (as the node's state is): sessions are cached here.
  const mem = new MemorySessions(() => now);
  const store = new SessionStore(() => now, { start: (c) => mem.start(c), use: (id) => mem.use(id), end: (id) => mem.end(id) });
  const poller = await store.start(store.credential());
  const base = store.size;
  // 200 logins 10 s apart, each polled once (its sync state made) and never used again.
  for (let i = 0; i < 200; i++) {
    const s = await store.start(store.credential());
    s.sync = { lastRid: 1, snapshots: new Map() };
    now += 10_000;
    await store.get(poller.id);
  }
  assert.ok(store.size <= base + Math.ceil(LOCAL_IDLE_MS / 10_000) + 1, `${store.size} sessions held here`);
  // Of those still held, only the ones used in the last SYNC_IDLE_MS keep their sync answers.
  const probe = await store.start(store.credential());
  probe.sync = { lastRid: 3, snapshots: new Map() };
  now += SYNC_IDLE_MS - 1000;
  await store.get(poller.id);
  assert.ok(probe.sync, 'kept while used within SYNC_IDLE_MS');
  now += 2000;
  await store.get(poller.id);
  assert.equal(probe.sync, undefined, 'let go once unused for longer');
  assert.equal((await store.get(probe.id))?.id, probe.id, 'the session itself stays');
  now += LOCAL_IDLE_MS + 1;
  assert.ok(await store.get(poller.id), 'the poller kept its session');
  assert.equal(store.size, base, 'the abandoned ones are let go');
  // One let go here is still a session of the backend's: its next use finds it, with no sync state.
  const left = await store.start(store.credential());
  left.sync = { lastRid: 7, snapshots: new Map() };
  now += LOCAL_IDLE_MS + 1;
  await store.get(poller.id);
  const again = await store.get(left.id);
  assert.equal(again?.id, left.id);
  assert.equal(again?.sync, undefined);
});

test('sync/torrentPeers keeps the answers of a few torrents per session (issue 63)', () => {
  const answers = new PeerAnswers();
  for (let i = 0; i < 100; i++) answers.next(i.toString(16).padStart(40, '0'), 0, new Map());
  assert.equal(answers.size, KEPT_TORRENTS);
  // The torrent shown now still gets only what changed since the rid it names.
  const ih = 'ff'.repeat(20);
  const first = answers.next(ih, 0, new Map([['10.0.0.1:6881', { client: 'x' }]]));
  const second = answers.next(ih, first.rid, new Map());
  assert.equal(first.prev, undefined);
  assert.ok(second.prev?.has('10.0.0.1:6881'));
  assert.equal(answers.size, KEPT_TORRENTS);
});

test('a session ends once the credential it was opened with is not the current one (issue 65)', async () => {
  let credential = 'token:one';
  const store = new SessionStore(Date.now, undefined, () => credential);
  const a = await store.start(store.credential());
  assert.equal((await store.get(a.id))?.credential, 'token:one');
  credential = 'token:two';
  assert.equal(await store.get(a.id), undefined, 'the token rotated: over');
  credential = 'token:one';
  assert.equal(await store.get(a.id), undefined, 'and ended for good, not only hidden');
  const b = await store.start(store.credential());
  assert.ok(await store.get(b.id));
});

test('bad input gets qBittorrent status codes and a short text', async (t) => {
  const { s, call } = await startQbNode(t);
  const unknown = 'ff'.repeat(20);
  const expect = async (p: Promise<{ status: number; text: string }>, status: number, text: RegExp) => {
    const r = await p;
    assert.equal(r.status, status, r.text);
    assert.match(r.text, text);
  };
  await expect(call('torrents/nope'), 404, /^Not Found$/);
  await expect(call('nope/info'), 404, /^Not Found$/);
  await expect(call('torrents/properties'), 400, /hash/);
  await expect(call('torrents/properties?hash=' + unknown), 404, /Torrent hash was not found/);
  await expect(call('torrents/properties?hash=not-a-hash'), 404, /Torrent hash was not found/);
  await expect(call('torrents/files?hash=' + unknown), 404, /not found/);
  await expect(call('torrents/trackers?hash=' + unknown), 404, /not found/);
  // Mutations are POST only (qBittorrent ≥ 4.4.4: 405).
  await expect(call('torrents/pause?hashes=all'), 405, /Method Not Allowed/);
  await expect(call('torrents/pause', {}), 400, /hashes/);
  await expect(call('torrents/setCategory', { hashes: 'all' }), 400, /category/);
  await expect(call('torrents/setCategory', { hashes: 'all', category: 'nope' }), 409, /Incorrect category name/);
  await expect(call('torrents/createCategory', { category: '' }), 400, /Category cannot be empty/);
  await expect(call('torrents/createCategory', { category: 'a,b' }), 409, /Unable to create category/);
  await expect(call('torrents/createCategory', { category: 'ok' }), 200, /^$/);
  await expect(call('torrents/createCategory', { category: 'ok' }), 409, /exists/);
  await expect(call('torrents/editCategory', { category: 'missing', savePath: '/tmp' }), 409, /Unable to edit category/);
  await expect(call('torrents/info?sort=no_such_field&filter=all'), 200, /^\[\]$/);
  await expect(call('torrents/setShareLimits', { hashes: 'all', ratioLimit: 'x', seedingTimeLimit: '1' }), 400, /ratioLimit/);
  await expect(call('torrents/setShareLimits', { hashes: 'all', ratioLimit: '1', seedingTimeLimit: '-7' }), 400, /seedingTimeLimit/);
  await expect(call('torrents/setDownloadLimit', { hashes: 'all', limit: 'fast' }), 400, /limit/);
  await expect(call('torrents/setLocation', { hashes: 'all', location: ' ' }), 400, /Save path cannot be empty/);
  await expect(call('app/setPreferences', {}), 400, /json/);
  await expect(call('app/setPreferences', { json: '{nope' }), 400, /not valid JSON/);
  await expect(call('app/setPreferences', { json: '{"dl_limit":"fast"}' }), 400, /dl_limit/);
  await expect(call('app/setPreferences', { json: '{"max_ratio_act":2}' }), 400, /max_ratio_act/);
  await expect(call('transfer/setSpeedLimitsMode', { mode: 'x' }), 400, /mode/);
  // A .torrent file that is none: 415 with qBittorrent's text; nothing added.
  const fd = new FormData();
  fd.append('torrents', new Blob(['this is no torrent']), 'junk.torrent');
  const sid = await (async () => {
    const r = await fetch(`${s.url}/api/v2/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${s.token}` });
    return r.headers.get('set-cookie')!.split(';')[0]!;
  })();
  let r = await fetch(`${s.url}/api/v2/torrents/add`, { method: 'POST', headers: { cookie: sid }, body: fd });
  assert.equal(r.status, 415);
  assert.equal(await r.text(), "Error: 'junk.torrent' is not a valid torrent file.");
  // Nothing usable at all: "Fails." (qBittorrent 4.6 answers it with 200).
  r = await fetch(`${s.url}/api/v2/torrents/add`, { method: 'POST', headers: { cookie: sid, 'content-type': 'application/x-www-form-urlencoded' }, body: 'urls=not%20a%20magnet' });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'Fails.');
  await expect(call('torrents/add', { urls: magnetOf('ab'.repeat(20), 'x'), ratioLimit: '-5' }), 400, /ratioLimit/);
  assert.equal((await call('torrents/info')).json.length, 0, 'nothing was added by the bad requests');
  // Adding the same torrent twice: qBittorrent refuses the second ("Fails.").
  await expect(call('torrents/add', { urls: magnetOf('ab'.repeat(20), 'x'), paused: 'true' }), 200, /^Ok\.$/);
  await expect(call('torrents/add', { urls: magnetOf('ab'.repeat(20), 'x'), paused: 'true' }), 200, /^Fails\.$/);
  // filePrio before metadata: 409; bad priority: 400.
  await expect(call('torrents/filePrio', { hash: 'ab'.repeat(20), id: '0', priority: '3' }), 400, /Priority is not valid/);
  await expect(call('torrents/filePrio', { hash: 'ab'.repeat(20), id: '0', priority: '0' }), 409, /metadata/);
  // A body over the form limit is refused as too large, not a crash.
  r = await fetch(`${s.url}/api/v2/torrents/addTags`, { method: 'POST', headers: { cookie: sid, 'content-type': 'application/x-www-form-urlencoded' }, body: 'tags=' + 'x'.repeat(2 * 1024 * 1024) });
  assert.equal(r.status, 413);
});

test('preferences, properties, files, trackers, limits, share limits, force start, queue, transfer', async (t) => {
  const { s, call } = await startQbNode(t);
  // setPreferences maps onto Cascade's settings, which Cascade's API shows.
  const prefs = { dl_limit: 1_048_576, up_limit: 524_288, max_active_downloads: 2, max_ratio_enabled: true, max_ratio: 1.5, max_seeding_time_enabled: true, max_seeding_time: 90, start_paused_enabled: true, max_active_checking_torrents: 2, unknown_key: 1 };
  assert.equal((await call('app/setPreferences', { json: JSON.stringify(prefs) })).status, 200);
  const own = (await s.json('/api/settings')).body;
  assert.equal(own.downloadLimit, 1_048_576);
  assert.equal(own.uploadLimit, 524_288);
  assert.equal(own.maxActiveDownloads, 2);
  assert.equal(own.ratioLimit, 1.5);
  assert.equal(own.seedingTimeLimit, 90 * 60);
  assert.equal(own.startPaused, true);
  assert.equal(own.maxActiveChecks, 2);
  const p = (await call('app/preferences')).json;
  assert.equal(p.dl_limit, 1_048_576);
  assert.equal(p.max_ratio_enabled, true);
  assert.equal(p.max_ratio, 1.5);
  assert.equal(p.max_seeding_time, 90);
  assert.equal(p.max_active_uploads, -1, "Cascade's 0 = no limit is qBittorrent's -1");
  assert.equal(p.max_active_checking_torrents, 2);
  assert.equal((await call('transfer/info')).json.dl_rate_limit, 1_048_576);
  assert.equal((await call('transfer/downloadLimit')).text, '1048576');
  assert.equal((await call('app/setPreferences', { json: '{"max_ratio_enabled":false,"start_paused_enabled":false}' })).status, 200);
  assert.equal((await s.json('/api/settings')).body.ratioLimit, null);

  // Alternative speed mode.
  assert.equal((await call('transfer/speedLimitsMode')).text, '0');
  await call('transfer/toggleSpeedLimitsMode', {});
  assert.equal((await call('transfer/speedLimitsMode')).text, '1');
  assert.equal((await s.json('/api/settings')).body.altSpeedEnabled, true);
  await call('transfer/setSpeedLimitsMode', { mode: '0' });
  assert.equal((await call('transfer/speedLimitsMode')).text, '0');

  // A multi-file torrent with its data in place.
  const dir = join(s.root, 'shows');
  const show = await folderTorrent(dir, 'Show.S01', [['e01.mkv', 50_000], ['e02.mkv', 30_000], ['notes.txt', 100]]);
  await call('torrents/createCategory', { category: 'shows', savePath: dir });
  const sid = await (async () => {
    const r = await fetch(`${s.url}/api/v2/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${s.token}` });
    return r.headers.get('set-cookie')!.split(';')[0]!;
  })();
  const fd = new FormData();
  fd.append('torrents', new Blob([new Uint8Array(show.torrent)]), 'show.torrent');
  fd.append('savepath', dir);
  fd.append('category', 'shows');
  fd.append('upLimit', '2048');
  fd.append('ratioLimit', '2');
  fd.append('seedingTimeLimit', '30');
  const added = await fetch(`${s.url}/api/v2/torrents/add`, { method: 'POST', headers: { cookie: sid }, body: fd });
  assert.equal(await added.text(), 'Ok.');
  const h = show.infoHash;
  const row = await waitFor('the show to verify', async () => {
    const [x] = (await call(`torrents/info?hashes=${h}`)).json;
    return x?.progress === 1 ? x : undefined;
  });
  assert.equal(row.up_limit, 2048);
  assert.equal(row.ratio_limit, 2);
  assert.equal(row.seeding_time_limit, 30);
  assert.equal(row.max_ratio, 2);
  assert.equal(row.content_path, join(dir, 'Show.S01'));

  const props = (await call(`torrents/properties?hash=${h.toUpperCase()}`)).json;
  assert.equal(props.save_path, dir);
  assert.equal(props.total_size, 80_100);
  assert.equal(props.piece_size, 16384);
  assert.equal(props.pieces_num, Math.ceil(80_100 / 16384));
  assert.equal(props.pieces_have, props.pieces_num);
  assert.equal(props.up_limit, 2048);
  assert.equal(props.dl_limit, -1, 'unlimited is -1 in properties');
  assert.ok(props.completion_date > 0);

  const files = (await call(`torrents/files?hash=${h}`)).json;
  assert.deepEqual(files.map((f: any) => f.name), ['Show.S01/e01.mkv', 'Show.S01/e02.mkv', 'Show.S01/notes.txt']);
  assert.deepEqual(files.map((f: any) => f.priority), [1, 1, 1]);
  assert.equal(files[0].is_seed, true);
  assert.equal('is_seed' in files[1], false);
  assert.deepEqual(files[0].piece_range, [0, 3]);
  assert.deepEqual(files[2].piece_range, [4, 4]);
  assert.equal((await call(`torrents/files?hash=${h}&indexes=2`)).json[0].name, 'Show.S01/notes.txt');
  assert.equal((await call(`torrents/files?hash=${h}&indexes=9`)).status, 409);
  // Priority 0 = do not download: Cascade's file selection.
  assert.equal((await call('torrents/filePrio', { hash: h, id: '2', priority: '0' })).status, 200);
  assert.deepEqual((await call(`torrents/files?hash=${h}`)).json.map((f: any) => f.priority), [1, 1, 0]);
  assert.equal((await call('torrents/filePrio', { hash: h, id: '7', priority: '1' })).status, 409);
  assert.equal((await call('torrents/filePrio', { hash: h, id: 'x', priority: '1' })).status, 400);
  await call('torrents/filePrio', { hash: h, id: '2', priority: '7' });
  assert.deepEqual((await call(`torrents/files?hash=${h}`)).json.map((f: any) => f.priority), [1, 1, 1]);

  const trackers = (await call(`torrents/trackers?hash=${h}`)).json;
  assert.deepEqual(trackers.slice(0, 3).map((x: any) => x.url), ['** [DHT] **', '** [PeX] **', '** [LSD] **']);
  assert.equal(trackers[0].status, 0, 'DHT is off on this node');
  assert.equal(trackers[2].status, 0);
  assert.ok(trackers.every((x: any) => [0, 1, 2, 3, 4].includes(x.status)));

  // Limits and share limits.
  await call('torrents/setDownloadLimit', { hashes: h, limit: '4096' });
  assert.deepEqual((await call('torrents/downloadLimit', { hashes: `${h}|${'ee'.repeat(20)}` })).json, { [h]: 4096, ['ee'.repeat(20)]: -1 });
  await call('torrents/setUploadLimit', { hashes: 'all', limit: '-1' });
  assert.deepEqual((await call('torrents/uploadLimit', { hashes: h })).json, { [h]: 0 });
  await call('torrents/setShareLimits', { hashes: h, ratioLimit: '-2', seedingTimeLimit: '-1', inactiveSeedingTimeLimit: '-2' });
  const own2 = (await s.json(`/api/torrents/${h}`)).body;
  assert.equal(own2.ratioLimit, null);
  assert.equal(own2.seedingTimeLimit, -1);

  // Force start, and the queue: a download to move.
  await call('torrents/setForceStart', { hashes: h, value: 'true' });
  assert.equal((await call(`torrents/info?hashes=${h}`)).json[0].force_start, true);
  const a = 'a1'.repeat(20);
  const b = 'b2'.repeat(20);
  await call('torrents/add', { urls: `${magnetOf(a, 'a')}\n${magnetOf(b, 'b')}`, paused: 'true' });
  const prio = async () => Object.fromEntries((await call('torrents/info')).json.map((x: any) => [x.hash, x.priority]));
  assert.deepEqual(await prio(), { [h]: 0, [a]: 1, [b]: 2 });
  assert.equal((await call('torrents/topPrio', { hashes: b })).status, 200);
  assert.deepEqual(await prio(), { [h]: 0, [a]: 2, [b]: 1 });
  await call('torrents/decreasePrio', { hashes: b });
  assert.deepEqual(await prio(), { [h]: 0, [a]: 1, [b]: 2 });
  await call('torrents/increasePrio', { hashes: b });
  await call('torrents/bottomPrio', { hashes: b });
  assert.deepEqual(await prio(), { [h]: 0, [a]: 1, [b]: 2 });
  // Queueing off (no maximum at all): the prio calls are 409, as in qBittorrent.
  await call('app/setPreferences', { json: '{"queueing_enabled":false}' });
  assert.equal((await call('app/preferences')).json.queueing_enabled, false);
  assert.equal((await call('torrents/topPrio', { hashes: b })).status, 409);
  await call('app/setPreferences', { json: '{"queueing_enabled":true}' });
  assert.equal((await call('app/preferences')).json.max_active_downloads, 3);

  // Recheck, reannounce, tags made and deleted, location.
  assert.equal((await call('torrents/recheck', { hashes: h })).status, 200);
  assert.equal((await call('torrents/reannounce', { hashes: 'all' })).status, 200);
  await call('torrents/addTags', { hashes: `${a}|${b}`, tags: 'one, two' });
  assert.deepEqual((await call('torrents/tags')).json.sort(), ['one', 'two']);
  await call('torrents/deleteTags', { tags: 'one' });
  assert.deepEqual((await call('torrents/tags')).json, ['two']);
  await call('torrents/removeTags', { hashes: 'all' });
  assert.deepEqual((await call('torrents/tags')).json, []);
  const moved = join(s.root, 'moved');
  assert.equal((await call('torrents/setLocation', { hashes: a, location: moved })).status, 200);
  assert.equal((await call(`torrents/info?hashes=${a}`)).json[0].save_path, moved);
  await call('torrents/delete', { hashes: 'all', deleteFiles: 'false' });
  assert.deepEqual((await call('torrents/info')).json, []);
});
