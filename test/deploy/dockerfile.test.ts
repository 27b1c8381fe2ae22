// deploy/Dockerfile and its build context, checked without a Docker engine (there is none here):
// the instructions parse and say what the image promises (Node 24 slim, non-root, volumes, ports,
// health check), the CMD is one the real CLI accepts, the .dockerignore lets in what the COPYs need,
// and — the part that matters — the image's start command runs the node from a clean
// `npm ci --omit=dev` tree, on Node 24 without the `node` devDependency, and answers its health check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, matchesGlob } from 'node:path';
import { parseCommandLine } from '../../packages/cli/src/parse/args.ts';
import { ensureWebBuilt, webDistDir } from '../../packages/web/index.ts';
import {
  DEPLOY, REPO, execForm, exitCodeOf, finalInstruction, healthcheckCommand, localServe, pathWithNode24, readDockerfile, runEntrypoint, cleanups,
} from './deploy-helpers.ts';

const ins = readDockerfile();
const cmd = execForm(finalInstruction(ins, 'CMD').args);

/** The image's ports from its CMD, as the real CLI parses it. */
function cmdPorts() {
  const o = parseCommandLine(cmd, {}).options;
  assert.ok(o.httpPort !== undefined && o.trackerPort !== undefined);
  return { http: o.httpPort, bittorrent: o.port, tracker: o.trackerPort, host: o.host, downloadDir: o.downloadDir };
}

test('stages: Node 24 slim, production node_modules from npm ci --omit=dev, the web app built in', () => {
  const args = Object.fromEntries(ins.filter((i) => i.stage === -1 && i.keyword === 'ARG').map((i) => i.args.split('=') as [string, string]));
  const froms = ins.filter((i) => i.keyword === 'FROM').map((i) => i.args.replace(/\$\{(\w+)\}/g, (_, n: string) => args[n] ?? '?'));
  assert.ok(froms.length >= 2, 'multi-stage');
  const [runtimeFrom] = froms.at(-1)!.split(/\s+/);
  assert.equal(runtimeFrom, 'node:24-slim');
  const runs = (stage: number) => ins.filter((i) => i.stage === stage && i.keyword === 'RUN').map((i) => i.args).join('\n');
  const stageOf = (name: string) => ins.findIndex((i) => i.keyword === 'FROM' && new RegExp(`\\bAS ${name}$`, 'i').test(i.args));
  const last = froms.length - 1;
  assert.match(runs(ins[stageOf('deps')]!.stage), /npm ci --omit=dev/);
  assert.match(runs(ins[stageOf('build')]!.stage), /npm run build/);
  const copies = ins.filter((i) => i.stage === last && i.keyword === 'COPY').map((i) => i.args);
  assert.ok(copies.includes('--from=deps /app ./'), 'runtime node_modules come from the --omit=dev install');
  assert.ok(copies.includes('--from=build /app/packages/web/dist packages/web/dist'), 'the built web app is in the image');
  assert.doesNotMatch(runs(last), /npm (ci|install)(?!.*--omit=dev)/, 'no dev install in the runtime stage');
});

test('every workspace manifest is copied before npm ci (a new package would otherwise break the install)', () => {
  const copied = new Set(ins.filter((i) => i.stage === 0 && i.keyword === 'COPY').map((i) => i.args.split(/\s+/)[0]));
  const workspaces = readdirSync(join(REPO, 'packages')).filter((p) => existsSync(join(REPO, 'packages', p, 'package.json')));
  assert.ok(workspaces.length >= 7);
  for (const w of workspaces) assert.ok(copied.has(`packages/${w}/package.json`), `deploy/Dockerfile does not COPY packages/${w}/package.json`);
});

test('runtime: non-root, state and downloads on volumes, ports exposed, health check on the CMD port', () => {
  const user = finalInstruction(ins, 'USER').args;
  assert.match(user, /^[1-9]\d*(:\d+)?$/, 'a numeric non-root uid (Kubernetes can check runAsNonRoot)');
  const volumes = execForm(finalInstruction(ins, 'VOLUME').args);
  assert.deepEqual(volumes.sort(), ['/data', '/downloads']);
  const env = ins.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
  assert.match(env, /CASCADE_HOME=\/data\b/, 'the state dir is the /data volume');

  const p = cmdPorts();
  assert.deepEqual(p, { http: 8080, bittorrent: 6881, tracker: 6969, host: '0.0.0.0', downloadDir: '/downloads' });
  const exposed = ins.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).sort();
  assert.deepEqual(exposed, [`${p.bittorrent}/tcp`, `${p.bittorrent}/udp`, `${p.tracker}/tcp`, `${p.tracker}/udp`, `${p.http}/tcp`].sort());

  const hc = healthcheckCommand(finalInstruction(ins, 'HEALTHCHECK').args);
  assert.equal(hc[0], 'node');
  const url = /fetch\('([^']+)'\)/.exec(hc.join(' '))?.[1];
  assert.equal(url, `http://127.0.0.1:${p.http}/api/health`);
});

test('the entrypoint runs the CLI on the image\'s node, never node_modules/.bin/node', () => {
  assert.deepEqual(execForm(finalInstruction(ins, 'ENTRYPOINT').args), ['cascade-entrypoint']);
  assert.ok(ins.some((i) => i.keyword === 'COPY' && i.args === 'deploy/entrypoint.sh /usr/local/bin/cascade-entrypoint'));
  const script = readFileSync(join(DEPLOY, 'entrypoint.sh'), 'utf8');
  assert.match(script, /^exec node .*packages\/cli\/bin\/cascade\.js" "\$@"$/m);
  // Both run by path in the image (ENTRYPOINT, and `cascade` for docker exec): they must be executable.
  for (const f of ['deploy/entrypoint.sh', 'packages/cli/bin/cascade.js']) assert.ok(statSync(join(REPO, f)).mode & 0o100, `${f} is executable`);
  const viaShebang = spawnSync(join(REPO, 'packages/cli/bin/cascade.js'), ['help'], { encoding: 'utf8', env: { ...process.env, PATH: pathWithNode24() } });
  assert.equal(viaShebang.status, 0, `cascade by its shebang, as /usr/local/bin/cascade runs: ${viaShebang.stderr}`);
  const code = script.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
  assert.doesNotMatch(code, /node_modules\/\.bin/);
});

test('a flag the CLI does not have is refused: the CMD check above can fail', () => {
  assert.throws(() => parseCommandLine([...cmd, '--no-such-flag'], {}), /Unknown option '--no-such-flag'/);
});

/** Docker's reading of .dockerignore: the last matching line wins; a match on a folder covers its files. */
function ignored(rules: string[], file: string): boolean {
  let out = false;
  const parts = file.split('/');
  for (const rule of rules) {
    const neg = rule.startsWith('!');
    const pattern = neg ? rule.slice(1) : rule;
    const hit = parts.some((_, i) => matchesGlob(parts.slice(0, i + 1).join('/'), pattern));
    if (hit) out = !neg;
  }
  return out;
}

test('.dockerignore: in go the sources and the entrypoint; out stay node_modules, builds, state and secrets', () => {
  const rules = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const sources = ins.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from')).map((i) => i.args.split(/\s+/)[0]!.replace(/\/$/, ''));
  const needed = [...sources, 'packages/http/src/app/server.ts', 'packages/web/index.html', 'packages/cli/bin/cascade.js', 'packages/engine/browser.ts'];
  for (const f of needed) assert.equal(ignored(rules, f), false, `${f} is needed in the build context but .dockerignore drops it`);
  for (const f of ['node_modules/vite/package.json', 'packages/web/node_modules/x', 'packages/web/dist/index.html', '.git/HEAD', '.cascade/api-token', 'deploy/secrets/metrics-token', 'deploy/compose.yaml']) {
    assert.equal(ignored(rules, f), true, `${f} should stay out of the build context`);
  }
});

test('the image start command runs the node from a clean `npm ci --omit=dev` tree', { timeout: 240_000 }, async (t) => {
  const later = cleanups(t);
  const root = mkdtempSync(join(tmpdir(), 'cascade-image-'));
  later(() => rmSync(root, { recursive: true, force: true }));
  const app = join(root, 'app');
  // The build context: every file git would hand over (tracked or new, not ignored).
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' }).stdout.split('\0').filter((f) => f !== '' && existsSync(join(REPO, f)));
  for (const f of files) cpSync(join(REPO, f), join(app, f));
  // The build stage's output, copied in after the sources and touched, as the Dockerfile does.
  await ensureWebBuilt({ quiet: true });
  cpSync(webDistDir, join(app, 'packages/web/dist'), { recursive: true });
  const now = new Date();
  utimesSync(join(app, 'packages/web/dist/index.html'), now, now);

  const started = process.hrtime.bigint();
  const ci = spawnSync('npm', ['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8', timeout: 180_000 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  t.diagnostic(`npm ci --omit=dev --offline took ${seconds.toFixed(1)} s`);
  assert.equal(ci.status, 0, `npm ci --omit=dev failed: ${ci.stderr}`);
  assert.equal(existsSync(join(app, 'node_modules/.bin/node')), false, 'the node devDependency is not installed');
  assert.equal(existsSync(join(app, 'node_modules/vite')), false, 'no dev dependencies');

  const data = join(root, 'data');
  mkdirSync(data);
  const apiToken = 'image-test-api-token-0123456789abcdef';
  const metricsToken = 'image-test-metrics-token-0123456789';
  writeFileSync(join(root, 'api-token'), apiToken + '\n');
  writeFileSync(join(root, 'metrics-token'), metricsToken + '\n');
  const node = await runEntrypoint(localServe(cmd, join(root, 'downloads')), {
    appDir: app,
    env: { CASCADE_HOME: data, CASCADE_API_TOKEN_FILE: join(root, 'api-token'), CASCADE_METRICS_TOKEN_FILE: join(root, 'metrics-token') },
  });
  let stopped = false;
  later(() => (stopped ? undefined : node.stop()));
  const base = `http://127.0.0.1:${node.listening.httpPort}`;

  const health = await fetch(`${base}/api/health`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { ok: boolean }).ok, true);
  const page = await (await fetch(`${base}/`)).text();
  assert.doesNotMatch(page, /not built yet/, 'the built web app is served');
  const script = /<script[^>]+src="\.?(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
  assert.ok(script, 'the page loads the app bundle');
  const bundle = await fetch(`${base}${script}`);
  assert.equal(bundle.status, 200, `${script} is served`);
  assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
  // The token file became the node's API token; another token is refused.
  assert.equal((await fetch(`${base}/api/torrents`, { headers: { authorization: `Bearer ${apiToken}` } })).status, 200);
  assert.equal((await fetch(`${base}/api/torrents`, { headers: { authorization: 'Bearer not-the-token-not-the-token-00000' } })).status, 401);
  assert.equal(readFileSync(join(data, 'api-token'), 'utf8').trim(), apiToken);
  const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  assert.equal(metrics.status, 200, 'the metrics token from CASCADE_METRICS_TOKEN_FILE reads /metrics');
  assert.equal((await fetch(`${base}/api/torrents`, { headers: { authorization: `Bearer ${metricsToken}` } })).status, 401, 'and nothing else');
  // The assistant has its knowledge base (docs/help, which the Dockerfile copies in).
  const assistant = (await (await fetch(`${base}/api/assistant`, { headers: { authorization: `Bearer ${apiToken}` } })).json()) as { entries: number };
  assert.ok(assistant.entries >= 60, `the assistant loaded ${assistant.entries} help entries`);

  // The HEALTHCHECK command itself, on the port this node got.
  const hc = healthcheckCommand(finalInstruction(ins, 'HEALTHCHECK').args).map((a) => a.replace(':8080/', `:${node.listening.httpPort}/`));
  const env = { ...process.env, PATH: pathWithNode24() };
  assert.equal(await exitCodeOf(hc, env), 0, 'the health check passes while the node runs');
  assert.equal(await node.stop(), 0, `the node stops cleanly on SIGTERM: ${node.stderr()}`);
  stopped = true;
  assert.equal(await exitCodeOf(hc, env), 1, 'and fails once it is gone');
});

test('the entrypoint refuses a secret file that is missing or not a token, before starting anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-entry-'));
  try {
    writeFileSync(join(dir, 'short'), 'too-short\n');
    const cases = [['API_TOKEN', 'short', /must be 32 to 128/], ['API_TOKEN', 'absent', /missing or empty/], ['METRICS_TOKEN', 'absent', /missing or empty/], ['DATABASE_PASSWORD', 'absent', /\(for PGPASSWORD\) is missing or empty/]] as const;
    for (const [name, file, says] of cases) {
      const r = spawnSync('sh', [join(DEPLOY, 'entrypoint.sh'), 'serve'], {
        encoding: 'utf8',
        env: { PATH: pathWithNode24(), CASCADE_APP: REPO, CASCADE_HOME: join(dir, 'data'), [`CASCADE_${name}_FILE`]: join(dir, file) },
      });
      assert.equal(r.status, 1, `${name} token file ${file}`);
      assert.match(r.stderr, says);
    }
    assert.equal(existsSync(join(dir, 'data')), false, 'no state dir was made');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a token rotated in the node stays rotated across restarts; a changed secret file replaces it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-entry-'));
  try {
    const secret = join(dir, 'api-token');
    const entry = (...args: string[]) => {
      const r = spawnSync('sh', [join(DEPLOY, 'entrypoint.sh'), 'token', ...args], {
        encoding: 'utf8',
        env: { PATH: pathWithNode24(), CASCADE_APP: REPO, CASCADE_HOME: join(dir, 'data'), CASCADE_API_TOKEN_FILE: secret, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off' },
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n')[0]!.trim();
    };
    const first = 'a'.repeat(40);
    writeFileSync(secret, `${first}\n`);
    assert.equal(entry(), first, 'the secret is the token on first start');
    const rotated = entry('--rotate');
    assert.match(rotated, /^[A-Za-z0-9_-]{32,128}$/);
    assert.notEqual(rotated, first);
    assert.equal(entry(), rotated, 'a restart keeps the rotated token (the unchanged secret is not copied again)');
    const next = 'b'.repeat(40);
    writeFileSync(secret, `${next}\n`);
    assert.equal(entry(), next, 'a new secret replaces it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
