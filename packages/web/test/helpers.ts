// Harness for the web app's browser tests: a Cascade server on loopback serving the built app,
// Chromium launched with the options ../../../../shared/browser-webrtc.md prescribes (its headless
// shell: ../../engine/test/chromium.ts), libtorrent via
// test/interop/lt.py, screenshots, WebRTC candidate-pair checks, and signing in to the node (the
// first browser claims it as owner; others sign in with their own key and are made members with the
// node's API token).
//
// Run inside a network namespace with only `lo` up (npm test does that for *.browser.test.ts).

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type RunningServer, type ServerOptions } from '@cascade/http';
import { ensureWebBuilt } from '../index.ts';
import { CHROMIUM_ARGS, FULL_CHROMIUM, HEADLESS_SHELL, sharedContext } from '../../engine/test/chromium.ts';

export const WEB_DIR = resolve(import.meta.dirname, '..');
export const REPO_ROOT = resolve(WEB_DIR, '../..');
export const SCREENSHOT_DIR = join(WEB_DIR, 'test/screenshots');
export const PYTHON = '/usr/bin/python3';
export const LT_PY = join(REPO_ROOT, 'test/interop/lt.py');

/** Builds packages/web/dist once if it is missing (the server serves it). */
export async function buildUi(): Promise<void> {
  await ensureWebBuilt({ quiet: true });
}

/** A fresh directory under the OS temp dir, removed when the test ends (unless `keep`: then the
 *  caller removes it after whatever uses it has stopped). */
export async function tempDir(t: TestContext | undefined, prefix: string, keep = false): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `cascade-web-${prefix}-`));
  if (!keep) t?.after(() => removeDir(dir));
  return dir;
}

function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

export interface TestServer {
  server: RunningServer;
  url: string;
  stateDir: string;
  downloadDir: string;
  bittorrentPort: number;
}

/** A whole node on 127.0.0.1 with every port OS-assigned and no DHT (`opts` adds to that, e.g.
 *  allowPrivateUrls for a feed or .torrent served on 127.0.0.1). */
export async function startTestServer(t: TestContext, opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const stateDir = await tempDir(t, 'state', true);
  const downloadDir = join(stateDir, 'downloads');
  const server = await startServer({
    stateDir,
    downloadDir,
    httpPort: 0,
    host: '127.0.0.1',
    btPort: 0,
    btHost: '127.0.0.1',
    dht: false,
    trackerPorts: { http: 0, udp: 0 },
    // The chain only where a test asks for it (ui.browser.test.ts): no anvil per test node.
    chain: false,
    ...opts,
  }).catch(async (err: unknown) => {
    await removeDir(stateDir);
    throw err;
  });
  // Stop the node first, then remove its directory (hooks run in the order they were added).
  t.after(async () => {
    try {
      await server.close();
    } finally {
      await removeDir(stateDir);
    }
  });
  await server.ready;
  rememberStateDir(server.url, stateDir);
  return { server, url: server.url, stateDir, downloadDir, bittorrentPort: server.node.session.port };
}

/** A fresh browser for the test, with exactly the launch options of shared/browser-webrtc.md: a
 *  context of the file's one Chromium (browserContext), or with `devToolsPort` a Chromium of its own
 *  in a fresh profile on disk (where tools that connect by port find it). The page gets no ICE
 *  servers (loopback only) and every RTCPeerConnection is recorded so the test can check the
 *  selected candidate pairs. */
export async function launchBrowser(
  t: TestContext,
  opts: BrowserOptions & { devToolsPort?: boolean } = {},
): Promise<BrowserContext> {
  if (!opts.devToolsPort) return browserContext(t, opts);
  const profile = await tempDir(t, 'chromium', true);
  // The desktop Chromium (../../engine/test/chromium.ts): what connects by port here is Lighthouse,
  // whose PWA audits ask for the install prompt's checks, which only it has.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: FULL_CHROMIUM,
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      // For tools that connect by port (Lighthouse): 127.0.0.1, a port of the OS's choosing.
      ...(opts.devToolsPort ? ['--remote-debugging-port=0'] : []),
    ],
    ...contextOptions(opts),
  });
  t.after(async () => {
    try {
      await context.close();
    } finally {
      await removeDir(profile);
    }
  });
  profiles.set(context, profile);
  await prepareContext(context);
  return context;
}

export interface BrowserOptions {
  dark?: boolean;
  viewport?: { width: number; height: number };
  hasTouch?: boolean;
  /** The desktop Chromium instead of the headless shell (../../engine/test/chromium.ts), for what
   *  only it does: the shell reports Notification.permission 'denied' whatever was granted. */
  fullChromium?: boolean;
}

function contextOptions(opts: BrowserOptions) {
  return {
    permissions: ['camera', 'microphone'],
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    colorScheme: opts.dark ? ('dark' as const) : ('light' as const),
    acceptDownloads: true,
    // A touch screen: CSS sees (pointer: coarse), as on a phone.
    hasTouch: opts.hasTouch ?? false,
  };
}

/**
 * launchBrowser's browser as a new context of one Chromium the file shares
 * (../../engine/test/chromium.ts): a context is a fresh profile of its own (storage, IndexedDB keys,
 * cookies, permissions), without a Chromium start (~1.5 CPU-s each, and its GPU, network and zygote
 * processes' CPU while it runs) per "fresh browser". For tests that need no profile on disk and no
 * DevTools port.
 */
export async function browserContext(t: TestContext, opts: BrowserOptions = {}): Promise<BrowserContext> {
  const context = await sharedContext(t, contextOptions(opts), opts.fullChromium ? FULL_CHROMIUM : HEADLESS_SHELL);
  await prepareContext(context);
  return context;
}

/** What every test browser gets: no ICE servers, and every RTCPeerConnection recorded. */
async function prepareContext(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    // The app's in-browser peer: no STUN/TURN (nothing outside 127.0.0.1 is reachable here).
    // (Documents without storage — a new tab's first about:blank, the browser's own media player —
    // throw on localStorage: nothing to set there.)
    try {
      localStorage.setItem('cascade.peer', JSON.stringify({ iceServers: [] }));
    } catch {}
    // Record every RTCPeerConnection and, once it connects, the candidate pair it selected (peers
    // hang up when a download completes, so this is noted while the connection is up).
    type Pair = { local: string; remote: string; remoteType: string };
    const w = window as unknown as { __pcs: RTCPeerConnection[]; __pairs: Pair[]; RTCPeerConnection: typeof RTCPeerConnection };
    w.__pcs = [];
    w.__pairs = [];
    const selectedPair = async (pc: RTCPeerConnection): Promise<Pair | undefined> => {
      const stats = await pc.getStats();
      const byId = new Map<string, Record<string, unknown>>();
      stats.forEach((r: Record<string, unknown>) => byId.set(r.id as string, r));
      let pairId: string | undefined;
      stats.forEach((r: Record<string, unknown>) => {
        if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') pairId = r.selectedCandidatePairId;
      });
      stats.forEach((r: Record<string, unknown>) => {
        if (!pairId && r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pairId = r.id as string;
      });
      const pair = pairId ? byId.get(pairId) : undefined;
      if (!pair) return undefined;
      const l = byId.get(pair.localCandidateId as string);
      const r = byId.get(pair.remoteCandidateId as string);
      return { local: String(l?.address ?? l?.ip ?? ''), remote: String(r?.address ?? r?.ip ?? ''), remoteType: String(r?.candidateType ?? '') };
    };
    (w as unknown as { __selectedPair: typeof selectedPair }).__selectedPair = selectedPair;
    const Orig = w.RTCPeerConnection;
    if (typeof Orig === 'function') {
      const Recorded = function (...args: ConstructorParameters<typeof RTCPeerConnection>) {
        const pc = new Orig(...args);
        w.__pcs.push(pc);
        pc.addEventListener('connectionstatechange', () => {
          if (pc.connectionState !== 'connected') return;
          void selectedPair(pc).then((p) => p && w.__pairs.push(p));
        });
        return pc;
      } as unknown as typeof RTCPeerConnection;
      Recorded.prototype = Orig.prototype;
      Object.setPrototypeOf(Recorded, Orig);
      w.RTCPeerConnection = Recorded;
    }
  });
}

const profiles = new WeakMap<BrowserContext, string>();

/** The DevTools port of a browser launched with `devToolsPort: true` (Chromium writes it into its
 *  profile). */
export function devToolsPortOf(context: BrowserContext): number {
  const profile = profiles.get(context);
  if (!profile) throw new Error('not a browser of launchBrowser');
  const port = Number(readFileSync(join(profile, 'DevToolsActivePort'), 'utf8').split('\n')[0]);
  if (!port) throw new Error(`no DevTools port in ${profile}: launch with devToolsPort: true`);
  return port;
}

/** Every page error and console error, for assertion messages. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** The node's API token (Authorization: Bearer …): what the tests use to act as the node's operator. */
export function apiToken(node: TestServer): string {
  return node.server.token;
}

/** fetch against the node with its API token (the test acting as the node's operator). */
export function nodeFetch(node: TestServer, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${apiToken(node)}`);
  if (typeof init.body === 'string' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return fetch(new URL(path, node.url), { ...init, headers });
}

/** GET /api/… as the operator, parsed. */
export async function nodeJson<T>(node: TestServer, path: string): Promise<T> {
  const res = await nodeFetch(node, path);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface Me {
  signedIn: boolean;
  did: string | null;
  address: string | null;
  role: 'owner' | 'admin' | 'member' | 'viewer' | 'visitor' | null;
  claimed: boolean;
  claimable: boolean;
  node: { did: string; address: string };
}

/** GET /api/auth/me from inside the page (its session cookie). */
export function meOf(page: Page): Promise<Me> {
  return page.evaluate(async () => (await (await fetch('/api/auth/me')).json()) as Me);
}

/** Adds a did:key or 0x address as a member, with the API token. */
export async function addMember(node: TestServer, id: string): Promise<void> {
  const res = await nodeFetch(node, '/api/users', { method: 'POST', body: JSON.stringify({ id }) });
  if (res.status !== 201) throw new Error(`POST /api/users ${id}: ${res.status} ${await res.text()}`);
}

/** The state dir of each node a test started, by its origin: where its claim code is. */
const stateDirs = new Map<string, string>();

/** Tells openAsOwner where the claim code of the node at `url` is (startTestServer does it itself). */
export function rememberStateDir(url: string, stateDir: string): void {
  stateDirs.set(new URL(url).origin, stateDir);
}

/** The claim code as the machine's owner reads it: <state-dir>/claim-code (what `cascade claim-code` prints). */
export function claimCodeFor(url: string): string {
  const dir = stateDirs.get(new URL(url).origin);
  if (!dir) throw new Error(`no state dir known for ${url}: call rememberStateDir`);
  return readFileSync(join(dir, 'claim-code'), 'utf8').trim();
}

/** Loads `url` and claims the fresh node from the first-run screen with the claim code from its
 *  state dir, as its owner would: this page's browser is the owner. */
export async function openAsOwner(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('[data-testid="claim-code"]').fill(claimCodeFor(url));
  await page.locator('[data-testid="claim-node"]').click();
  await page.locator('[data-testid="whoami"].role-owner').waitFor({ timeout: 20_000 });
}

/** Loads `url` and signs in with this browser's key (from the sign-in or the first-run screen);
 *  on a claimed node that makes a visitor. */
export async function signInWithKey(page: Page, url: string): Promise<Me> {
  await page.goto(url);
  await page.locator('[data-testid="sign-in-key"]').click();
  await page.locator('[data-testid="whoami"]').waitFor({ timeout: 20_000 });
  return meOf(page);
}

/** Signs in with the key, then the operator adds this browser's did as a member; resolves once the
 *  page shows it is one (it re-reads who it is every few seconds, no reload). */
export async function openAsMember(page: Page, node: TestServer, url = node.url): Promise<Me> {
  const me = await signInWithKey(page, url);
  if (!me.did) throw new Error(`signed in without a did: ${JSON.stringify(me)}`);
  await addMember(node, me.did);
  await page.locator('[data-testid="whoami"].role-member').waitFor({ timeout: 20_000 });
  return meOf(page);
}

export interface SelectedPair {
  local: string;
  /** Empty when Chromium hides it: a peer-reflexive remote candidate (remoteType 'prflx'). */
  remote: string;
  remoteType: string;
}

/** The selected candidate pair of every RTCPeerConnection the page connected so far (noted when
 *  each connected) and of those connected now. */
export async function selectedPairs(page: Page): Promise<SelectedPair[]> {
  return page.evaluate(async () => {
    type Pair = { local: string; remote: string; remoteType: string };
    const w = window as unknown as { __pcs: RTCPeerConnection[]; __pairs: Pair[]; __selectedPair(pc: RTCPeerConnection): Promise<Pair | undefined> };
    const out = [...w.__pairs];
    for (const pc of w.__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const p = await w.__selectedPair(pc);
      if (p) out.push(p);
    }
    return out;
  });
}

export function sha1File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha1');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', rej)
      .on('end', () => res(h.digest('hex')));
  });
}

export function sha1(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

/** A file of random bytes; returns its path and SHA-1. */
export async function randomFile(dir: string, name: string, size: number): Promise<{ path: string; sha1: string; size: number }> {
  const data = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, data);
  return { path, sha1: sha1(data), size };
}

/** Every file below dir, recursively (relative paths). */
export async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  }
  return out;
}

export interface LtProc {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr: string;
  /** Resolves with the first event named `name`; rejects on an error event, exit or timeout. */
  waitFor(name: string, timeoutMs: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** Runs test/interop/lt.py (JSON lines on stdout); killed when the test ends. */
export function lt(t: TestContext, args: string[]): LtProc {
  const child = spawn(PYTHON, [LT_PY, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buf = '';
  let exitCode: number | null | undefined;
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {}
    }
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-20_000);
  });
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((r) =>
    child.on('close', (code) => {
      exitCode = code;
      for (const w of waiters) w();
      r(code);
    }),
  );
  t.after(() => {
    if (exitCode === undefined) child.kill('SIGKILL');
  });
  const describe = () => `lt.py ${args.join(' ')}\n  events: ${events.slice(-8).map((e) => JSON.stringify(e)).join('\n          ')}\n  stderr: ${stderr.slice(-2000)}`;
  return {
    child,
    events,
    get stderr() {
      return stderr;
    },
    exited,
    waitFor(name, timeoutMs) {
      return new Promise((res, rej) => {
        const check = () => {
          const hit = events.find((e) => e.event === name);
          if (hit) return done(() => res(hit));
          if (events.some((e) => e.event === 'error')) return done(() => rej(new Error(`lt.py failed before "${name}":\n${describe()}`)));
          if (exitCode !== undefined) return done(() => rej(new Error(`lt.py exited (${exitCode}) before "${name}":\n${describe()}`)));
        };
        const timer = setTimeout(() => done(() => rej(new Error(`timed out waiting for "${name}":\n${describe()}`))), timeoutMs);
        const done = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          fn();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Polls `fn` until it returns a truthy value. */
export async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs: number, everyMs = 200): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Samples the node's open WebRTC candidate pairs ("address:port" of both ends) until stop(). */
export function sampleNodePairs(server: RunningServer): { pairs: Map<string, { local: string; remote: string }>; stop(): void } {
  const session = server.node.session as unknown as { webrtcCandidatePairs?(): Promise<{ local: string; remote: string }[]> };
  const pairs = new Map<string, { local: string; remote: string }>();
  const timer = setInterval(() => {
    void session.webrtcCandidatePairs?.().then((list) => {
      for (const p of list) pairs.set(`${p.local}|${p.remote}`, p);
    }, () => {});
  }, 50);
  return { pairs, stop: () => clearInterval(timer) };
}
