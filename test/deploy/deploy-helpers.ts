// Shared by the deployment tests: reading deploy/ (Dockerfile, compose.yaml, the rendered kustomize
// manifests) and starting the real node and tracker with the command lines found there, moved to
// loopback and OS-assigned ports (the only change: the flags stay those the image would run).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse, parseAllDocuments } from 'yaml';

export const REPO = join(import.meta.dirname, '../..');
export const DEPLOY = join(REPO, 'deploy');
export const ENTRYPOINT = join(DEPLOY, 'entrypoint.sh');

// --- Dockerfile ---------------------------------------------------------------------------------

export interface Instruction {
  /** Index of the FROM this instruction belongs to (0 = first stage). */
  stage: number;
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^([A-Za-z]+)\s+(.*)$/s.exec(full);
    assert.ok(m, `not a Dockerfile instruction: ${full}`);
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ stage, keyword, args: m[2]!.trim() });
  }
  return out;
}

/** An exec-form (JSON array) argument, as CMD/ENTRYPOINT/HEALTHCHECK CMD must be here. */
export function execForm(args: string): string[] {
  const v: unknown = JSON.parse(args);
  assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), `not an exec-form array: ${args}`);
  return v as string[];
}

export function readDockerfile(): Instruction[] {
  return parseDockerfile(readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8'));
}

/** The last stage's instruction of this keyword (what the image runs with). */
export function finalInstruction(ins: Instruction[], keyword: string): Instruction {
  const last = Math.max(...ins.map((i) => i.stage));
  const found = ins.filter((i) => i.stage === last && i.keyword === keyword).at(-1);
  assert.ok(found, `the runtime stage has no ${keyword}`);
  return found;
}

/** HEALTHCHECK [options] CMD [...]: the exec-form command. */
export function healthcheckCommand(args: string): string[] {
  const at = args.indexOf('CMD ');
  assert.ok(at >= 0, `HEALTHCHECK without CMD: ${args}`);
  return execForm(args.slice(at + 4).trim());
}

// --- YAML ----------------------------------------------------------------------------------------

/**
 * A Compose file of deploy/ with its `<<:` merge keys resolved (YAML 1.1 style, as Compose reads
 * them) and each `extends: {file, service}` replaced by that service, this one's keys on top.
 */
export function readCompose(file = 'compose.yaml'): any {
  const doc = parse(readFileSync(join(DEPLOY, file), 'utf8'), { merge: true });
  for (const [name, svc] of Object.entries(doc.services as Record<string, any>)) {
    if (!svc.extends) continue;
    const { file: from, service } = svc.extends as { file: string; service: string };
    const base = readCompose(from).services[service];
    assert.ok(base, `${file}: ${name} extends ${service} of ${from}, which has no such service`);
    const { extends: _, ...own } = svc;
    doc.services[name] = { ...base, ...own };
  }
  return doc;
}

/** `kubectl kustomize deploy/k8s`, run for real, as a list of objects. */
export function renderK8s(kubectl = 'kubectl'): any[] {
  const r = spawnSync(kubectl, ['kustomize', join(DEPLOY, 'k8s')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.error, undefined, `cannot run ${kubectl}: ${r.error?.message}`);
  assert.equal(r.status, 0, `kubectl kustomize failed: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout);
  for (const d of docs) assert.deepEqual(d.errors, [], 'kubectl kustomize printed YAML that does not parse');
  return docs.map((d) => d.toJS()).filter((o) => o !== null);
}

/** Kubernetes' $(VAR) expansion in command and args ($$ stays a literal $). */
export function expandK8s(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) => {
    if (name === undefined) return '$';
    return env[name] ?? whole;
  });
}

// --- command lines, moved to loopback --------------------------------------------------------------

/** The value following `flag` in an argument list (the last one if repeated). */
export function flagValue(args: string[], flag: string): string | undefined {
  let v: string | undefined;
  args.forEach((a, i) => {
    if (a === flag) v = args[i + 1];
  });
  return v;
}

function replaceFlag(args: string[], flag: string, value: string): string[] {
  const out = [...args];
  for (let i = 0; i < out.length; i++) if (out[i] === flag) out[i + 1] = value;
  return out;
}

/** `serve …` as the image runs it, on 127.0.0.1 with every port OS-assigned, no DHT, JSON events. */
export function localServe(args: string[], downloadDir: string): string[] {
  assert.equal(args[0], 'serve', `expected a serve command: ${args.join(' ')}`);
  let a = replaceFlag(args, '--host', '127.0.0.1');
  for (const f of ['--http-port', '--port', '--tracker-port']) a = replaceFlag(a, f, '0');
  a = replaceFlag(a, '--download-dir', downloadDir);
  return [...a, '--no-dht', '--json'];
}

/**
 * A cluster member's `serve …` as deployed, moved to loopback like localServe, and further: its HTTP
 * port fixed (its --cluster-url names it), the database's host and port, Redis and the trusted
 * proxy those of the test; `host` another loopback address than 127.0.0.1 (bench/cluster gives each
 * member its own). The user, database name and every other flag stay.
 */
export function localMember(args: string[], downloadDir: string, at: { httpPort: number; database: string; redis: string; trustedProxy?: string; host?: string }): string[] {
  const db = new URL(at.database);
  const host = at.host ?? '127.0.0.1';
  return localServe(args, downloadDir).map((a, i, all) => {
    switch (all[i - 1]) {
      case '--host': return host;
      case '--http-port': return String(at.httpPort);
      case '--cluster-url': return `http://${host}:${at.httpPort}`;
      case '--redis': return at.redis;
      case '--trusted-proxy': return at.trustedProxy ?? a;
      case '--database': {
        const u = new URL(a);
        u.host = db.host;
        return u.href;
      }
      default: return a;
    }
  });
}

/** `tracker …` as deployed, on 127.0.0.1, OS-assigned ports, the test's Redis, JSON events. */
export function localTracker(args: string[], redisUrl: string): string[] {
  assert.equal(args[0], 'tracker', `expected a tracker command: ${args.join(' ')}`);
  let a = replaceFlag(args, '--host', '127.0.0.1');
  for (const f of ['--http-port', '--udp-port']) a = replaceFlag(a, f, '0');
  a = replaceFlag(a, '--redis', redisUrl);
  return [...a, '--json'];
}

// --- processes ---------------------------------------------------------------------------------------

export interface Running {
  child: ChildProcess;
  /** The first `{"event":"listening",…}` line. */
  listening: Record<string, any>;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** PATH with this test's Node 24 first: the image's `node` is Node 24, the machine's may be older. */
export function pathWithNode24(): string {
  return `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
}

/**
 * Runs deploy/entrypoint.sh (as the image's ENTRYPOINT does) with these CLI arguments, `appDir`
 * standing for the image's /app, and waits for the listening event.
 */
export async function runEntrypoint(args: string[], opts: { appDir?: string; env?: Record<string, string> } = {}): Promise<Running> {
  const child = spawn('sh', [ENTRYPOINT, ...args], {
    cwd: opts.appDir ?? REPO,
    env: { ...process.env, PATH: pathWithNode24(), CASCADE_APP: opts.appDir ?? REPO, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit');
  // --json puts a failure's message on stdout: the last lines go into the error.
  let out = '';
  const listening = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening event within 60 s: ${err}${out}`)), 60_000);
    lines.on('line', (line) => {
      out = `${out}${line}\n`.slice(-2000);
      try {
        const ev = JSON.parse(line) as Record<string, any>;
        if (ev.event === 'listening') {
          clearTimeout(timer);
          resolve(ev);
        }
      } catch {}
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code} before listening: ${err}${out}`));
    });
  });
  return {
    child,
    listening,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/** Runs a command to its end; resolves with the exit code (no output kept). */
export async function exitCodeOf(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', env });
  const [code] = await once(child, 'exit');
  return code as number | null;
}

/** Cleanups run last-registered first (t.after runs them in order): processes stop before their dirs go. */
export function cleanups(t: { after: (fn: () => unknown) => void }): (fn: () => unknown) => void {
  const fns: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return (fn) => void fns.push(fn);
}
