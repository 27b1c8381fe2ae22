// deploy/compose.cluster.yaml and deploy/haproxy/haproxy.cfg: three members on PostgreSQL and Redis
// behind haproxy. The files are checked against the real CLI parser and haproxy itself, then the
// cluster runs for real on loopback: a real PostgreSQL asking for the password from its secret
// file, a real redis-server, three `cascade serve` started by the image's entrypoint with the
// Compose commands (ports, addresses and the database's host moved to loopback; nothing else), and
// a real haproxy with the repository's config (only the server addresses and the bind moved).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFile, spawnSync } from 'node:child_process';
import { QBittorrent } from '@ctrl/qbittorrent';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../../packages/cli/src/parse/args.ts';
import { freePort, startRedis, waitFor } from '../../packages/tracker/test/helpers.ts';
import { startPostgres } from '../../packages/node/test/postgres-server.ts';
import { REPO, cleanups, execForm, finalInstruction, flagValue, localMember, readCompose, readDockerfile, runEntrypoint, type Running } from './deploy-helpers.ts';
import { HAPROXY_CFG, haproxyCheck, parseHaproxy, runHaproxy, section, servers } from './haproxy-helpers.ts';

const compose = readCompose('compose.cluster.yaml');
const services = compose.services as Record<string, any>;
const memberNames = Object.keys(services).filter((s) => services[s].command?.[0] === 'serve');
const cfg = parseHaproxy(readFileSync(HAPROXY_CFG, 'utf8'));
const options = (name: string) => parseCommandLine(services[name].command, {}).options;
const secretPaths = (svc: any): string[] => (svc.secrets ?? []).map((s: string) => `/run/secrets/${s}`);
const containerPort = (p: string) => /:(\d+)(?:\/\w+)?$/.exec(p)![1];

test('three members on the Compose PostgreSQL and Redis, each its own state, ports and --cluster-url', () => {
  assert.deepEqual(memberNames, ['node-1', 'node-2', 'node-3']);
  const image = parseCommandLine(execForm(finalInstruction(readDockerfile(), 'CMD').args), {}).options;
  const pg = services.postgres;
  const haproxyAddress = services.haproxy.networks.cluster.ipv4_address as string;
  const seen = { volumes: new Set<string>(), ports: new Set<string>() };
  for (const name of memberNames) {
    const svc = services[name];
    const o = options(name);
    for (const k of ['host', 'httpPort', 'trackerPort', 'downloadDir'] as const) assert.equal(o[k], image[k], `${name} ${k} as the image's CMD`);
    // The database: the Compose PostgreSQL, its user and database, and no password in the command.
    const db = new URL(o.database!);
    assert.equal(db.hostname, 'postgres');
    assert.equal(db.password, '', `${name}: the password comes from the secret, not the command line`);
    assert.equal(db.username, pg.environment.POSTGRES_USER);
    assert.equal(db.pathname, `/${pg.environment.POSTGRES_DB}`);
    assert.ok(secretPaths(svc).includes(svc.environment.CASCADE_DATABASE_PASSWORD_FILE), `${name} gets the password file it names`);
    assert.equal(svc.environment.CASCADE_DATABASE_PASSWORD_FILE, pg.environment.POSTGRES_PASSWORD_FILE, 'the same secret as PostgreSQL');
    assert.equal(svc.depends_on.postgres.condition, 'service_healthy');
    // The cluster: its own service name on its HTTP port, which it answers to; the Compose Redis.
    assert.equal(o.cluster!.url, `http://${name}:${o.httpPort}`);
    assert.ok(o.allowedHosts.includes(name), `${name} answers to the name the others reach it by`);
    const redis = new URL(o.cluster!.redis!);
    assert.ok(services[redis.hostname], `--redis names the Compose service ${redis.hostname}`);
    assert.equal(redis.port, (services.redis.command as string[]).includes('--port') ? flagValue(services.redis.command, '--port') : '6379');
    assert.deepEqual(o.trustedProxies, [haproxyAddress], 'only haproxy may name the client');
    // Its own volumes where the image keeps state and downloads; its own BitTorrent port, published as itself.
    const mounts = (svc.volumes as string[]).map((v) => v.split(':'));
    assert.deepEqual(mounts.map((m) => m[1]).sort(), execForm(finalInstruction(readDockerfile(), 'VOLUME').args).sort());
    for (const [vol] of mounts) {
      assert.ok(!seen.volumes.has(vol!), `${vol} is shared`);
      seen.volumes.add(vol!);
      assert.ok(vol! in compose.volumes, `${vol} is a named volume`);
    }
    assert.deepEqual((svc.ports as string[]).sort(), [`${o.port}:${o.port}/tcp`, `${o.port}:${o.port}/udp`]);
    assert.ok(!seen.ports.has(String(o.port)), `two members on BitTorrent port ${o.port}`);
    seen.ports.add(String(o.port));
  }
  assert.equal(pg.volumes.length, 1, 'PostgreSQL keeps its data on a volume');
  assert.ok(secretPaths(pg).includes(pg.environment.POSTGRES_PASSWORD_FILE));
  assert.equal(services.redis.image, readCompose().services.redis.image, 'the single node\'s Redis');
  for (const s of Object.values(compose.secrets) as { file: string }[]) {
    const check = spawnSync('git', ['check-ignore', '-q', join('deploy', s.file)], { cwd: REPO });
    assert.equal(check.status, 0, `the secret ${s.file} is git-ignored`);
  }
  // The single node stays what `docker compose -f deploy/compose.yaml up` runs.
  const single = readCompose().services;
  assert.ok(single.node && !Object.keys(single).some((s) => s.startsWith('node-') || s === 'haproxy' || s === 'postgres'));
});

test('haproxy: the mounted config; round-robin over every member on its HTTP port, health-checked on /api/health/ready, no stickiness but socket.io polling', () => {
  const hp = services.haproxy;
  assert.ok((hp.volumes as string[]).includes('./haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro'));
  const check = haproxyCheck(HAPROXY_CFG);
  assert.ok(check.ok, `haproxy -c: ${check.output}`);
  const front = section(cfg, 'frontend', 'http');
  const bind = front.lines.find((l) => l.startsWith('bind '))!.split(' ')[1]!;
  assert.deepEqual((hp.ports as string[]).map(containerPort), [bind.split(':').at(-1)], 'publishes the port it binds');
  assert.ok(front.lines.includes('option forwardfor'));
  for (const name of ['members', 'live']) {
    const b = section(cfg, 'backend', name);
    assert.ok(b.lines.includes('balance roundrobin'), `${name} round-robin`);
    assert.ok(b.lines.includes('option httpchk'));
    assert.ok(b.lines.some((l) => /^http-check send meth GET uri \/api\/health\/ready( |$)/.test(l)), `${name} checks /api/health/ready`);
    assert.ok(b.lines.includes('http-check expect status 200'));
    assert.ok(b.lines.some((l) => /^default-server (.* )?check( |$)/.test(l)), `${name}: every server is checked`);
    const list = servers(b);
    assert.deepEqual(list.map((s) => s.name), memberNames);
    for (const s of list) assert.deepEqual([s.host, s.port], [s.name, options(s.name).httpPort], `${name}/${s.name} is the member on its HTTP port`);
  }
  assert.ok(!section(cfg, 'backend', 'members').lines.some((l) => /^(cookie|stick|hash-type|balance source)/.test(l)), 'no sticky sessions for the UI and API');
  assert.ok(front.lines.includes('default_backend members'));
  assert.ok(front.lines.some((l) => l.startsWith('use_backend live if live !websocket')), 'only socket.io polling is pinned');
});

/** Debian's transmission-remote against 127.0.0.1:port with the API token. */
function transmissionRemote(port: number, token: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('transmission-remote', [`127.0.0.1:${port}`, '--auth', `someone:${token}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** GET through haproxy with the API token; the JSON body. */
async function api(base: string, path: string, token: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

test('run for real: three members through haproxy; spread over all three; one killed -9 leaves the rotation and the cluster', { timeout: 120_000 }, async (t) => {
  const later = cleanups(t);
  const root = mkdtempSync(join(tmpdir(), 'cascade-cluster-'));
  later(() => rmSync(root, { recursive: true, force: true }));
  const password = 'compose-cluster-test-password';
  const passwordFile = join(root, 'postgres-password');
  writeFileSync(passwordFile, `${password}\n`);
  const pg = await startPostgres(t, { password });
  const dbUrl = new URL(await pg.database(services.postgres.environment.POSTGRES_DB));
  const redis = await startRedis();
  later(() => redis.stop());

  // Each member's Compose command, moved to loopback: its HTTP port chosen here so that its
  // --cluster-url can name it; the database's host and port, Redis and the trusted proxy too.
  const ports = await Promise.all(memberNames.map(() => freePort()));
  const members: Running[] = await Promise.all(memberNames.map(async (name, i) => {
    const args = localMember(services[name].command, join(root, name, 'downloads'), { httpPort: ports[i]!, database: dbUrl.href, redis: redis.url, trustedProxy: '127.0.0.1' });
    const run = await runEntrypoint(args, { env: { CASCADE_HOME: join(root, name, 'data'), CASCADE_DATABASE_PASSWORD_FILE: passwordFile } });
    later(() => run.stop());
    return run;
  }));
  // One token for the cluster (PostgreSQL's): the first member stored its own, the others took it.
  const token = readFileSync(join(root, 'node-1', 'data', 'api-token'), 'utf8').trim();
  for (const name of memberNames.slice(1)) assert.equal(readFileSync(join(root, name, 'data', 'api-token'), 'utf8').trim(), token, `${name} uses the cluster's token`);
  const ids = memberNames.map((name) => readFileSync(join(root, name, 'data', 'member-id'), 'utf8').trim());
  assert.equal(new Set(ids).size, 3, 'three members, three ids');

  const [front, stats] = [await freePort(), await freePort()];
  const at = Object.fromEntries(memberNames.map((name, i) => [name, `127.0.0.1:${ports[i]}`]));
  const hp = await runHaproxy(root, at, `127.0.0.1:${front}`, stats);
  later(() => hp.stop());

  // Every member ready and in both backends, by haproxy's own checks of /api/health/ready.
  let status: Record<string, string> = {};
  await waitFor(async () => Object.values((status = await hp.status())).filter((s) => s === 'UP').length === 2 * memberNames.length, 60_000, 'every member UP')
    .catch(() => assert.fail(`haproxy's view of the members: ${JSON.stringify(status)}`));

  let cluster: any;
  await waitFor(async () => (cluster = await api(hp.url, '/api/cluster', token)).json?.members?.filter((m: any) => m.alive).length === 3, 30_000, 'three members alive')
    .catch(() => assert.fail(`GET /api/cluster through haproxy: ${JSON.stringify(cluster)}`));
  assert.equal(cluster.status, 200);
  assert.deepEqual(cluster.json.members.map((m: any) => m.url).sort(), memberNames.map((_, i) => `http://127.0.0.1:${ports[i]}`).sort());
  // Round-robin, no stickiness: six requests in a row are answered by all three ("self" is who answered).
  const answered = async (n: number) => {
    const selves: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await api(hp.url, '/api/cluster', token);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      selves.push(r.json.members.find((m: any) => m.self).id);
    }
    return selves;
  };
  assert.deepEqual(new Set(await answered(6)), new Set(ids));

  // The compatible APIs need no stickiness either: transmission-remote's session id (409, then the
  // id it was given) is the same on every member, and a qBittorrent login (its SID cookie) is a
  // session on all. Before, each member had its own: the next request, on another member, was
  // refused again (409) or forbidden (403).
  for (let i = 0; i < 4; i++) {
    const r = await transmissionRemote(front, token, ['-l']);
    assert.equal(r.code, 0, `transmission-remote -l through haproxy, run ${i}: ${r.out}`);
    assert.match(r.out, /^Sum:/m);
  }
  const qb = new QBittorrent({ baseUrl: hp.url, username: 'admin', password: token });
  assert.equal(await qb.login(), true);
  for (let i = 0; i < 6; i++) assert.ok(Array.isArray(await qb.listTorrents()), `qBittorrent API through haproxy, call ${i}`);
  // Its SID by hand: live on every member, then logged out through one, refused by all.
  const login = await fetch(`${hp.url}/api/v2/auth/login`, { method: 'POST', body: new URLSearchParams({ username: 'admin', password: token }) });
  const sidCookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const qbStatuses = async () => Promise.all([...Array(6)].map(async () => (await fetch(`${hp.url}/api/v2/app/version`, { headers: { cookie: sidCookie } })).status));
  assert.deepEqual(await qbStatuses(), [200, 200, 200, 200, 200, 200]);
  assert.equal((await fetch(`${hp.url}/api/v2/auth/logout`, { method: 'POST', headers: { cookie: sidCookie } })).status, 200);
  await new Promise((r) => setTimeout(r, 2500)); // a member re-asks the state about a session it saw live within 2 s
  assert.deepEqual(await qbStatuses(), [403, 403, 403, 403, 403, 403], 'logged out on every member');

  // The live feed: a WebSocket upgrade passes through to a member, which completes socket.io's handshake.
  const ws = new WebSocket(`ws://127.0.0.1:${front}/socket.io/?EIO=4&transport=websocket`, { headers: { authorization: `Bearer ${token}` } } as any);
  const frames: string[] = [];
  const connected = new Promise<void>((resolve, reject) => {
    ws.onmessage = (e) => {
      frames.push(String(e.data));
      if (String(e.data).startsWith('0{')) ws.send('40');
      if (String(e.data).startsWith('40')) resolve();
      if (String(e.data).startsWith('44')) reject(new Error(`socket.io refused: ${e.data}`));
    };
    ws.onerror = () => reject(new Error(`WebSocket through haproxy failed: ${frames.join(' ')}`));
  });
  await connected;
  ws.close();
  // socket.io's long-polling fallback: one session, several requests, all to the member that opened it.
  const auth = { authorization: `Bearer ${token}` };
  const open = await fetch(`${hp.url}/socket.io/?EIO=4&transport=polling`, { headers: auth });
  assert.equal(open.status, 200);
  const sid = JSON.parse((await open.text()).slice(1)).sid as string;
  const cookie = open.headers.get('set-cookie')!.split(';')[0]!;
  assert.match(cookie, /^cascade-live=node-\d$/);
  const polling = `${hp.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  const send = async (body: string) => {
    const r = await fetch(polling, { method: 'POST', body, headers: { ...auth, cookie, 'content-type': 'text/plain' } });
    return [r.status, await r.text()];
  };
  assert.deepEqual(await send('40'), [200, 'ok']);
  const ack = await fetch(polling, { headers: { ...auth, cookie } });
  const ackBody = await ack.text();
  assert.equal(ack.status, 200, ackBody);
  assert.match(ackBody, /^40/, 'socket.io connected over polling');
  // (Another GET would wait for the next ping; posts are answered at once.)
  for (let i = 0; i < 3; i++) assert.deepEqual(await send('42["unsubscribe","none"]'), [200, 'ok'], `post ${i} reached the member that holds the session`);

  // kill -9 one member: haproxy's checks take it out, requests keep succeeding on the others, and
  // the cluster declares it dead once its lease runs out.
  const victim = 1;
  members[victim]!.child.kill('SIGKILL');
  await waitFor(async () => {
    status = await hp.status();
    return ['members', 'live'].every((b) => status[`${b}/${memberNames[victim]}`] === 'DOWN');
  }, 30_000, 'the killed member DOWN').catch(() => assert.fail(`haproxy's view after the kill: ${JSON.stringify(status)}`));
  assert.equal(Object.values(status).filter((s) => s === 'UP').length, 4, 'the others stay UP');
  const after = await answered(6);
  assert.ok(!after.includes(ids[victim]!), 'nothing sent to the dead member');
  assert.deepEqual(new Set(after), new Set(ids.filter((_, i) => i !== victim)), 'the two others share the load');
  await waitFor(async () => {
    cluster = await api(hp.url, '/api/cluster', token);
    return cluster.json.members.some((m: any) => m.id === ids[victim] && !m.alive);
  }, 40_000, 'the killed member declared dead').catch(() => assert.fail(`GET /api/cluster after the kill: ${JSON.stringify(cluster)}`));
  assert.deepEqual(cluster.json.members.map((m: any) => [m.id, m.alive]).sort(), ids.map((id, i) => [id, i !== victim]).sort());
});
