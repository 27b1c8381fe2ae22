// The compatible APIs behind a balancer with no stickiness (issue 42): what they remember beside
// the settings is in the state, so every member answers the same. Two `serve` members on a real
// PostgreSQL and redis-server: a Transmission limit value set while off through A (Debian's
// transmission-remote) is shown by B, and so are a torrent's limit set while off and a bandwidth
// group, and the torrents' ids; a qBittorrent search started through A is polled, read and
// deleted through B, and the search plugin turned off through A is off on B; failed logins reaching
// A and B in turn count together to the ban, in force on both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { until } from './node-process.ts';
import { share, testCluster, type Member } from './cluster-process.ts';

function remote(m: Member, args: string[]): Promise<string> {
  const port = new URL(m.node.url).port;
  return new Promise((resolve, reject) => {
    execFile('transmission-remote', [`${m.host}:${port}`, '--auth', `someone:${m.node.token}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`transmission-remote ${args.join(' ')}: ${stdout}${stderr}`)) : resolve(stdout));
  });
}

/** One Transmission RPC call on `m` (the session id asked first, as clients do); its arguments. */
async function rpc(m: Member, method: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const call = (id = '') => fetch(`${m.node.url}/transmission/rpc`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`someone:${m.node.token}`).toString('base64')}`, 'x-transmission-session-id': id },
    body: JSON.stringify({ method, arguments: args }),
  });
  let r = await call();
  if (r.status === 409) r = await call(r.headers.get('x-transmission-session-id') ?? '');
  const body = (await r.json()) as { result: string; arguments: Record<string, any> };
  assert.equal(body.result, 'success', `${method}: ${body.result}`);
  return body.arguments;
}

/** qBittorrent's Web API on `m`, with a session cookie (logged in through any member) or none. */
async function qb(m: Member, path: string, form: Record<string, string> = {}, sid?: string): Promise<Response> {
  return fetch(`${m.node.url}/api/v2/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(sid ? { cookie: `SID=${sid}` } : {}) },
    body: new URLSearchParams(form).toString(),
  });
}

async function login(m: Member, password: string): Promise<{ status: number; text: string; sid: string | undefined }> {
  const r = await qb(m, 'auth/login', { username: 'admin', password });
  const sid = /SID=([^;]+)/.exec(r.headers.get('set-cookie') ?? '')?.[1];
  return { status: r.status, text: await r.text(), sid };
}

test('the compatible APIs answer the same through every member: Transmission session values, qBittorrent searches, plugin, failed logins', { timeout: 300_000 }, async (t) => {
  const cluster = await testCluster(t, 'compat');
  const a = await cluster.start('a', '127.0.0.61');
  const b = await cluster.start('b', '127.0.0.62');

  // Transmission: a download limit set, then turned off, through A: B shows the value kept.
  await remote(a, ['-d', '300']);
  await remote(a, ['-D']);
  assert.match(await remote(b, ['-si']), /Download speed limit: Unlimited \(Disabled limit: 300 kB\/s/, 'the value set through A, shown by B');

  // Transmission's torrent ids: A gave one to a torrent since removed; a torrent added after it has
  // the same id through B, which never saw the first (a client's ids mean the same torrents on both).
  const first = await share(a, 'first.bin', randomBytes(10_000));
  const idOn = async (m: Member, hash: string) => ((await rpc(m, 'torrent-get', { ids: [hash], fields: ['id'] })).torrents as { id: number }[])[0]?.id;
  assert.equal(await idOn(a, first), 1);
  await rpc(a, 'torrent-remove', { ids: [1] });
  // A torrent's limit set while off, and a bandwidth group with it as a member, through A: B shows both.
  const ih = await share(a, 'needle-in-cluster.bin', randomBytes(20_000));
  assert.equal(await idOn(a, ih), 2);
  // (B lists it once it heard of the add: a notice on the bus, not the add's answer.)
  assert.equal(await until('B lists the torrent added through A', () => idOn(b, ih), 10_000), 2, 'the same id through B');
  await rpc(a, 'group-set', { name: 'slow', 'speed-limit-down-enabled': true, 'speed-limit-down': 40 });
  await rpc(a, 'torrent-set', { ids: [ih], uploadLimit: 55, uploadLimited: false, group: 'slow' });
  const wanted = { uploadLimit: 55, uploadLimited: false, group: 'slow', downloadLimit: 40 };
  let seen: Record<string, unknown> | undefined;
  await until('B shows the limit and group set through A', async () => {
    [seen] = (await rpc(b, 'torrent-get', { ids: [ih], fields: ['uploadLimit', 'uploadLimited', 'group', 'downloadLimit'] })).torrents as Record<string, unknown>[];
    return JSON.stringify(seen) === JSON.stringify(wanted) ? true : undefined;
  }, 10_000).catch(() => assert.deepEqual(seen, wanted));
  assert.deepEqual(((await rpc(b, 'group-get', {})).group as { name: string }[]).map((g) => g.name), ['slow']);

  // qBittorrent: a session made through A; a search started through A is B's to poll and read.
  const { sid } = await login(a, a.node.token);
  assert.ok(sid, 'a session cookie');
  const started = await qb(a, 'search/start', { pattern: 'needle', category: 'all', plugins: 'all' }, sid);
  assert.equal(started.status, 200, await started.clone().text());
  const { id } = (await started.json()) as { id: number };
  const done = await until('the search stopped, through B', async () => {
    const r = await qb(b, 'search/status', { id: String(id) }, sid);
    assert.equal(r.status, 200, `B knows search ${id}`);
    const [s] = (await r.json()) as { status: string; total: number }[];
    return s!.status === 'Stopped' ? s : undefined;
  });
  assert.ok(done.total >= 1, `found: ${JSON.stringify(done)}`);
  const results = (await (await qb(b, 'search/results', { id: String(id) }, sid)).json()) as { results: { fileName: string; fileUrl: string }[] };
  assert.ok(results.results.some((r) => r.fileName === 'needle-in-cluster.bin' && r.fileUrl.includes(ih)), JSON.stringify(results));
  assert.equal((await qb(b, 'search/delete', { id: String(id) }, sid)).status, 200);
  assert.equal((await qb(a, 'search/status', { id: String(id) }, sid)).status, 404, 'deleted through B: gone on A');

  // The plugin turned off through A is off on B.
  assert.equal((await qb(a, 'search/enablePlugin', { names: 'cascade', enable: 'false' }, sid)).status, 200);
  const plugins = (await (await qb(b, 'search/plugins', {}, sid)).json()) as { name: string; enabled: boolean }[];
  assert.deepEqual(plugins.map((p) => [p.name, p.enabled]), [['cascade', false]]);

  // Failed logins through A and B in turn: the fifth bans the address on both (last: it bans this test's address).
  for (let i = 0; i < 5; i++) assert.equal((await login(i % 2 ? b : a, 'wrong')).text, 'Fails.');
  for (const m of [a, b]) {
    const r = await login(m, m.node.token);
    assert.equal(r.status, 403, `banned on ${m.host}: ${r.text}`);
  }

  await a.node.stop();
  await b.node.stop();
});
