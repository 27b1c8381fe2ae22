// deploy/compose.yaml and deploy/prometheus/prometheus.yml, checked against the processes they
// describe: the commands parse with the real CLIs, published ports and scrape targets are the ports
// those commands listen on, and then the real thing runs — a node and two trackers started with
// the Compose commands on a real Redis (one swarm across both), scraped by a real Prometheus
// with the Compose Prometheus config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseCommandLine } from '../../packages/cli/src/parse/args.ts';
import { parseTrackerArgs } from '../../packages/tracker/src/cli.ts';
import { announceQuery, freePort, getBencoded, id, startRedis, waitFor } from '../../packages/tracker/test/helpers.ts';
import { DEPLOY, REPO, execForm, finalInstruction, localServe, localTracker, readCompose, readDockerfile, runEntrypoint, cleanups } from './deploy-helpers.ts';

const compose = readCompose();
const services = compose.services as Record<string, any>;
const promConfig = parse(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8'));
const trackerNames = Object.keys(services).filter((s) => services[s].command?.[0] === 'tracker');

/** Container ports a service publishes, as "port/proto". */
const published = (svc: any): string[] => (svc.ports as string[]).map((p) => { const [, c] = /:(\d+(?:\/\w+)?)$/.exec(p)!; return c!.includes('/') ? c! : `${c}/tcp`; });
/** "/run/secrets/<name>" for a secret the service is given. */
const secretPaths = (svc: any): string[] => (svc.secrets ?? []).map((s: string) => `/run/secrets/${s}`);

test('the node: the image\'s CMD plus the name Prometheus uses, its ports published, state and downloads on volumes', () => {
  const node = services.node;
  const cmd = execForm(finalInstruction(readDockerfile(), 'CMD').args);
  assert.deepEqual(node.command.slice(0, cmd.length), cmd, 'starts with the image CMD, so the two do not drift apart');
  const o = parseCommandLine(node.command, {}).options;
  assert.deepEqual(published(node).sort(), [`${o.httpPort}/tcp`, `${o.port}/tcp`, `${o.port}/udp`, `${o.trackerPort}/tcp`, `${o.trackerPort}/udp`].sort());
  const targets = (node.volumes as string[]).map((v) => v.split(':')[1]);
  assert.deepEqual(targets.sort(), execForm(finalInstruction(readDockerfile(), 'VOLUME').args).sort());
  assert.equal(node.build.dockerfile, 'deploy/Dockerfile');
  assert.ok(existsSync(join(DEPLOY, node.build.context, node.build.dockerfile)));
});

test('two trackers on the Compose Redis, WebSocket on, their ports published', () => {
  assert.ok(trackerNames.length >= 2, 'at least two trackers');
  for (const name of trackerNames) {
    const svc = services[name];
    const { opts } = parseTrackerArgs(svc.command.slice(1));
    assert.equal(opts.ws, true);
    const redis = new URL(opts.redis!);
    assert.ok(services[redis.hostname], `--redis names the Compose service ${redis.hostname}`);
    assert.equal(redis.port, '6379');
    assert.equal(svc.depends_on[redis.hostname].condition, 'service_healthy');
    assert.deepEqual(published(svc).sort(), [`${opts.httpPort}/tcp`, `${opts.udpPort}/udp`].sort());
  }
  assert.throws(() => parseTrackerArgs(['--redis', 'http://redis:6379']), /redis:\/\//, 'the parser does refuse bad values');
});

test('Prometheus scrapes every Cascade service on the port it listens on, the node with the shared metrics token', () => {
  const prom = services.prometheus;
  const configFile = (prom.command as string[]).find((a) => a.startsWith('--config.file='))!.split('=')[1];
  assert.ok((prom.volumes as string[]).includes(`./prometheus/prometheus.yml:${configFile}:ro`));
  const listening: Record<string, number> = { node: parseCommandLine(services.node.command, {}).options.httpPort! };
  for (const t of trackerNames) listening[t] = parseTrackerArgs(services[t].command.slice(1)).opts.httpPort ?? 0;
  const scraped = new Set<string>();
  for (const job of promConfig.scrape_configs) {
    for (const target of job.static_configs.flatMap((s: any) => s.targets) as string[]) {
      const [host, port] = target.split(':');
      assert.equal(Number(port), listening[host!], `${job.job_name} scrapes ${target}, but ${host} listens on ${listening[host!]}`);
      scraped.add(host!);
      if (host === 'node') {
        assert.ok(parseCommandLine(services.node.command, {}).options.allowedHosts.includes('node'), 'the node answers to the Host "node"');
        assert.equal(job.authorization.type, 'Bearer');
        assert.ok(secretPaths(prom).includes(job.authorization.credentials_file), 'Prometheus gets the token file');
        assert.equal(services.node.environment.CASCADE_METRICS_TOKEN_FILE, job.authorization.credentials_file, 'the node reads the same secret');
      }
    }
  }
  assert.deepEqual([...scraped].sort(), Object.keys(listening).sort());
  for (const s of Object.values(compose.secrets) as { file: string }[]) {
    const check = spawnSync('git', ['check-ignore', '-q', join('deploy', s.file)], { cwd: REPO });
    assert.equal(check.status, 0, `the secret ${s.file} is git-ignored`);
  }
});

test('Grafana is provisioned from deploy/grafana: the datasource is the Compose Prometheus, dashboards where the provider looks', () => {
  const vols = services.grafana.volumes as string[];
  assert.ok(vols.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'));
  const dashboardsAt = vols.find((v) => v.startsWith('./grafana/dashboards:'))?.split(':')[1];
  assert.ok(dashboardsAt);
  const prov = join(DEPLOY, 'grafana/provisioning');
  const yamls = (dir: string) => readdirSync(join(prov, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => parse(readFileSync(join(prov, dir, f), 'utf8')));
  const sources = yamls('datasources').flatMap((y) => y.datasources ?? []);
  const prometheus = sources.find((d: any) => d.type === 'prometheus');
  assert.ok(prometheus, 'a Prometheus datasource');
  const port = (services.prometheus.ports as string[])[0]!.split(':').at(-1);
  assert.equal(prometheus.url, `http://prometheus:${port}`);
  const paths = yamls('dashboards').flatMap((y) => y.providers ?? []).map((p: any) => p.options?.path);
  assert.ok(paths.includes(dashboardsAt), `a dashboard provider reads ${dashboardsAt} (found ${paths.join(', ')})`);
  assert.ok(readdirSync(join(DEPLOY, 'grafana/dashboards')).some((f) => f.endsWith('.json')));
});

test("every container's log is bounded, in both Compose files: json-file kept to max-file files of max-size (issue 63)", () => {
  const size = (v: string) => { const m = /^(\d+)([kmg])$/.exec(v); assert.ok(m, `max-size ${v}`); return Number(m[1]) * 1024 ** ('kmg'.indexOf(m[2]!) + 1); };
  for (const file of ['compose.yaml', 'compose.cluster.yaml']) {
    for (const [name, svc] of Object.entries(readCompose(file).services as Record<string, any>)) {
      const log = svc.logging;
      assert.equal(log?.driver, 'json-file', `${file}: ${name} names its log driver`);
      const total = size(String(log.options?.['max-size'])) * Number(log.options?.['max-file']);
      assert.ok(total > 0 && total <= 100 * 1024 ** 2, `${file}: ${name} keeps at most 100 MB of log, not ${total} bytes`);
    }
  }
});

test('the Compose trackers, run for real on one Redis, share their swarms; their health check path answers', async (t) => {
  const later = cleanups(t);
  const redis = await startRedis();
  later(() => redis.stop());
  const trackers = [];
  for (const name of trackerNames) {
    const tr = await runEntrypoint(localTracker(services[name].command, redis.url));
    later(() => tr.stop());
    trackers.push(tr);
  }
  const [a, b] = trackers as [typeof trackers[0], typeof trackers[0]];
  const hash = id(0x5a);
  const viaA = await getBencoded(`${a.listening.http}${announceQuery(hash, id(1), 6001, '&left=0&event=started')}`);
  assert.equal(viaA['failure reason'], undefined);
  const viaB = await getBencoded(`${b.listening.http}${announceQuery(hash, id(2), 6002, '&left=100&event=started')}`);
  const peers = viaB.peers as Uint8Array;
  assert.equal(peers.length, 6, 'tracker B hands out the seed that announced to tracker A');
  assert.equal(Buffer.from(peers).readUInt16BE(4), 6001);
  for (const tr of trackers) {
    const hc = services[trackerNames[0]!].healthcheck.test as string[];
    const url = /fetch\('([^']+)'\)/.exec(hc.join(' '))![1]!;
    const res = await fetch(new URL(new URL(url).pathname, tr.listening.stats));
    assert.equal(res.status, 200, `${url} on a running tracker`);
  }
});

test('a real Prometheus with the Compose config scrapes the node and both trackers', { timeout: 120_000 }, async (t) => {
  const later = cleanups(t);
  const root = mkdtempSync(join(tmpdir(), 'cascade-compose-'));
  later(() => rmSync(root, { recursive: true, force: true }));
  const redis = await startRedis();
  later(() => redis.stop());
  const tokenFile = join(root, 'metrics-token');
  writeFileSync(tokenFile, 'compose-test-metrics-token-0123456789\n');
  const node = await runEntrypoint(localServe(services.node.command, join(root, 'downloads')), {
    env: { CASCADE_HOME: join(root, 'data'), CASCADE_METRICS_TOKEN_FILE: tokenFile },
  });
  later(() => node.stop());
  const at: Record<string, string> = { node: `127.0.0.1:${node.listening.httpPort}` };
  for (const name of trackerNames) {
    const tr = await runEntrypoint(localTracker(services[name].command, redis.url));
    later(() => tr.stop());
    at[name] = new URL(tr.listening.stats).host;
  }

  // The Compose config with only what Compose would provide changed: service names → these
  // addresses, the secret's mount → the token file, and a 1 s interval so the test is quick.
  const config = structuredClone(promConfig);
  config.global.scrape_interval = '1s';
  for (const job of config.scrape_configs) {
    if (job.authorization?.credentials_file) job.authorization.credentials_file = tokenFile;
    for (const sc of job.static_configs) sc.targets = sc.targets.map((tg: string) => at[tg.split(':')[0]!] ?? tg);
  }
  const configPath = join(root, 'prometheus.yml');
  writeFileSync(configPath, stringify(config));
  const check = spawnSync('promtool', ['check', 'config', configPath], { encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool check config: ${check.stdout}${check.stderr}`);

  const port = await freePort();
  const prom = spawn('prometheus', [`--config.file=${configPath}`, `--storage.tsdb.path=${join(root, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const promExit = once(prom, 'exit');
  later(async () => {
    prom.kill('SIGTERM');
    await promExit;
  });
  const api = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.status === 200, 30_000, 'Prometheus ready');

  const want = new Set(Object.values(at));
  let targets: { scrapeUrl: string; health: string; lastError: string }[] = [];
  await waitFor(async () => {
    const body = (await (await fetch(`${api}/api/v1/targets`)).json()) as { data: { activeTargets: typeof targets } };
    targets = body.data.activeTargets;
    return [...want].every((a) => targets.some((tg) => tg.scrapeUrl.includes(a) && tg.health === 'up'));
  }, 60_000, `targets up: ${JSON.stringify(targets)}`).catch((err: Error) => assert.fail(`${err.message}: ${JSON.stringify(targets)}`));
  assert.equal(targets.length, Object.keys(at).length);
  // And the series are there to query: the trackers' own, and the node's when it serves metrics.
  const query = async (q: string) => ((await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: unknown[] } }).data.result;
  assert.equal((await query('up{job="cascade-tracker"} == 1')).length, trackerNames.length);
  assert.equal((await query('up{job="cascade-node"} == 1')).length, 1);
  assert.ok((await query('cascade_node_info')).length > 0, 'the node\'s own series are stored');
});
