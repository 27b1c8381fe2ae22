// `cascade serve --cluster-url URL [--redis URL]` and `cascade cluster [--json]` (issue 42 step 3):
// the options checked before anything starts (exit 2, nothing written), a node not in a cluster
// listing itself, two members on a real PostgreSQL (the single node joining as itself, a fresh state
// dir as a new member), one killed and declared dead, and, once stopped, listed from the database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine } from '../src/parse/args.ts';
import { UsageError } from '../src/core/errors.ts';
import { startPostgres } from '../../node/test/state-engines.ts';
import { cascade, cascadeHere, startServe } from './node-process.ts';
import { tempDir } from './helpers.ts';

const PG = 'postgres://cascade@127.0.0.1:5432/state';
const env = { CASCADE_HOME: '/tmp/cascade-home' };

test('serve --cluster-url and --redis: kept when right, a usage error naming what is wrong otherwise', () => {
  const serve = (args: string[], e: Record<string, string> = env) => parseCommandLine(['serve', ...args], e).options.cluster;
  assert.equal(serve([]), undefined);
  assert.equal(serve(['--database', PG], { ...env, CASCADE_REDIS_URL: 'redis://127.0.0.1:6379' }), undefined, 'the variable alone makes no member');
  assert.deepEqual(serve(['--database', PG, '--cluster-url', 'http://10.0.0.5:8080/']), { url: 'http://10.0.0.5:8080' });
  assert.deepEqual(serve(['--database', PG, '--cluster-url', 'https://node-1.example.org', '--redis', 'redis://:pw@127.0.0.1:6379/2']), {
    url: 'https://node-1.example.org',
    redis: 'redis://:pw@127.0.0.1:6379/2',
  });
  assert.deepEqual(serve(['--cluster-url', 'http://[fd00::5]:8080'], { ...env, CASCADE_DATABASE_URL: PG, CASCADE_REDIS_URL: 'rediss://cache:6380' }), {
    url: 'http://[fd00::5]:8080',
    redis: 'rediss://cache:6380',
  });
  const bad: [string[], Record<string, string>, RegExp][] = [
    [['--cluster-url', 'http://10.0.0.5:8080'], env, /--cluster-url .* give --database postgres/],
    [['--redis', 'redis://127.0.0.1:6379', '--database', PG], env, /--redis is for a cluster member: give --cluster-url/],
    [['--database', PG, '--cluster-url', 'ftp://10.0.0.5'], env, /--cluster-url wants this member's http\(s\):\/\/ address/],
    [['--database', PG, '--cluster-url', 'not a url'], env, /--cluster-url wants a URL/],
    [['--database', PG, '--cluster-url', 'http://0.0.0.0:8080'], env, /not a wildcard/],
    [['--database', PG, '--cluster-url', 'http://u:secret@10.0.0.5:8080'], env, /no user, query or fragment/],
    [['--database', PG, '--cluster-url', 'http://10.0.0.5:8080', '--redis', 'http://127.0.0.1:6379'], env, /--redis wants a redis:\/\//],
    [['--database', PG, '--cluster-url', 'http://10.0.0.5:8080', '--redis', 'redis://127.0.0.1:6379/cache'], env, /database number/],
    [['--database', PG, '--cluster-url', 'http://10.0.0.5:8080'], { ...env, CASCADE_REDIS_URL: 'memcached://x' }, /\$CASCADE_REDIS_URL wants a redis:\/\//],
  ];
  for (const [args, e, message] of bad) {
    assert.throws(() => serve(args, e), (err: Error) => err instanceof UsageError && message.test(err.message), args.join(' '));
  }
  // Only serve takes them.
  assert.throws(() => parseCommandLine(['list', '--cluster-url', 'http://10.0.0.5:8080'], env), UsageError);
});

test('serve with a bad cluster option exits 2 before anything starts', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const r = await cascade(['serve', '--http-port', '0', '--port', '0', '--no-dht', '--state-dir', stateDir, '--cluster-url', 'http://127.0.0.1:8080']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--cluster-url makes this node a member of a cluster.*--database/);
  assert.equal(existsSync(stateDir), false, 'nothing was made');
  const none = await cascadeHere(['cluster', '--state-dir', stateDir]);
  assert.equal(none.code, 1, 'no node and no database: nothing to ask');
  assert.match(none.stderr, /cluster needs a running node, or --database URL/);
});

test('cascade cluster --json: a node not in a cluster lists itself', async (t) => {
  const node = await startServe(t, { args: ['--no-chain'] });
  const r = await node.here(['cluster', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.replicas, 1);
  assert.equal(r.json.members.length, 1);
  const me = r.json.members[0];
  assert.match(me.id, /^did:key:z/);
  assert.equal(me.url, node.url);
  assert.deepEqual([me.alive, me.self, me.torrents], [true, true, 0]);
  const human = await node.here(['cluster']);
  assert.match(human.stdout, /^1 member, 1 alive; each torrent on 1\nalive  http:\/\/127\.0\.0\.1:\d+ {2}\(this one\)\n {7}did:key:z/);
  await node.stop();
});

test('two members on one PostgreSQL: the single node joins as itself, a second state dir as a new member; a member killed is declared dead; stopped, both are listed from the database', { timeout: 240_000 }, async (t) => {
  const pg = await startPostgres(t);
  const database = await pg.database('members');
  const root = tempDir(t);
  const base = ['--no-chain', '--database', database];
  // The single node first: its node key and its rows become member A's when it joins.
  const single = await startServe(t, { stateDir: join(root, 'a'), args: base });
  const singleId = (await single.here(['cluster', '--json'])).json.members[0].id as string;
  await single.stop();

  const a = await startServe(t, { stateDir: join(root, 'a'), args: [...base, '--cluster-url', 'http://127.0.0.1:18081', '--redis', 'redis://127.0.0.1:6379'] });
  const serving = a.events.find((e) => e.event === 'serving')!;
  assert.equal(serving.cluster.url, 'http://127.0.0.1:18081');
  assert.equal(serving.cluster.id, singleId, 'the single node joined as someone else');
  const b = await startServe(t, { stateDir: join(root, 'b'), args: [...base, '--cluster-url', 'http://127.0.0.1:18082'] });
  const bId = b.events.find((e) => e.event === 'serving')!.cluster.id as string;
  assert.notEqual(bId, singleId, 'a second state dir took the first member\'s node key');
  const both = await a.here(['cluster', '--json']);
  assert.equal(both.code, 0, both.stderr);
  const rows = (r: any) => r.json.members.map((m: any) => [m.id, m.url, m.alive, m.self]).sort();
  assert.deepEqual(rows(both), [[singleId, 'http://127.0.0.1:18081', true, true], [bId, 'http://127.0.0.1:18082', true, false]].sort());
  assert.equal(both.json.replicas, 2);

  // A single node (no --cluster-url) is refused while members are alive.
  const lone = await cascade(['serve', '--json', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht', '--state-dir', join(root, 'c'), ...base]);
  assert.equal(lone.code, 1);
  assert.match(lone.stdout + lone.stderr, /2 members of a cluster use the database .*--cluster-url/);

  // B killed without a goodbye: its lease runs out and A (the coordinator, alone) declares it dead.
  b.child.kill('SIGKILL');
  await once(b.child, 'exit');
  let seen: any;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
    seen = await a.here(['cluster', '--json']);
    if (seen.json?.members?.some((m: any) => m.id === bId && !m.alive)) break;
  }
  assert.deepEqual(rows(seen), [[singleId, 'http://127.0.0.1:18081', true, true], [bId, 'http://127.0.0.1:18082', false, false]].sort());

  // Stopped, A leaves: the database lists both, neither alive.
  a.child.kill('SIGTERM');
  await once(a.child, 'exit');
  const offline = await cascadeHere(['cluster', '--json', '--state-dir', join(root, 'a'), '--database', database]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(offline.json.members.map((m: any) => [m.id, m.alive, m.self]).sort(), [[singleId, false, false], [bId, false, false]].sort());
  const text = await cascadeHere(['cluster', '--state-dir', join(root, 'a'), '--database', database]);
  assert.match(text.stdout, /^2 members, 0 alive; each torrent on 1\n/);
});
