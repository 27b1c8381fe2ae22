// Talking to a test node the way Transmission clients do: raw RPC over HTTP (handling the 409
// session-id handshake) and Debian's real transmission-remote 3.00, run without blocking the event
// loop (the node under test runs in this same process).

import { execFile } from 'node:child_process';
import type { TestServer } from '../../http/test/server-helpers.ts';

export interface RpcAnswer {
  status: number;
  body: any;
  headers: Headers;
}

/** A Transmission RPC client for one node: Basic auth with the node token, session id learnt on 409. */
export function rpcClient(s: TestServer, path = '/transmission/rpc') {
  const auth = `Basic ${Buffer.from(`anyone:${s.token}`).toString('base64')}`;
  let sessionId = '';
  async function raw(body: string, headers: Record<string, string> = {}): Promise<RpcAnswer> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(s.url + path, { method: 'POST', headers: { authorization: auth, 'x-transmission-session-id': sessionId, ...headers }, body });
      const text = await res.text();
      if (res.status === 409 && attempt === 0) {
        sessionId = res.headers.get('x-transmission-session-id') ?? '';
        continue;
      }
      let parsed: any = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // an HTML page (errors before the RPC)
      }
      return { status: res.status, body: parsed, headers: res.headers };
    }
  }
  return {
    raw,
    /** method + arguments → the whole response body ({result, arguments, tag}). */
    async call(method: string, args?: unknown, tag?: number): Promise<any> {
      const r = await raw(JSON.stringify({ method, ...(args !== undefined ? { arguments: args } : {}), ...(tag !== undefined ? { tag } : {}) }));
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    },
    /** Like call, but throws unless the result is "success"; returns the arguments. */
    async ok(method: string, args?: unknown): Promise<any> {
      const r = await this.call(method, args);
      if (r.result !== 'success') throw new Error(`${method}: ${r.result}`);
      return r.arguments;
    },
  };
}

export interface RemoteRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs Debian's transmission-remote against the node (127.0.0.1:port, as its users would). */
export function remote(s: TestServer, args: string[], password = s.token): Promise<RemoteRun> {
  const port = new URL(s.url).port;
  return new Promise((resolve) => {
    execFile('transmission-remote', [`127.0.0.1:${port}`, '--auth', `someone:${password}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? 1 : 0, stdout, stderr });
    });
  });
}

/** transmission-remote, which must succeed; its output. */
export async function remoteOk(s: TestServer, args: string[]): Promise<string> {
  const r = await remote(s, args);
  if (r.code !== 0) throw new Error(`transmission-remote ${args.join(' ')} failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Polls `check` until it returns something truthy (no timed assertion: the test's own timeout bounds it);
 *  `seen` says what the last look found, in the line stderr gets every 30 s of waiting. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, everyMs = 100, seen?: () => string): Promise<T> {
  // A test timeout names no wait: every 30 s, stderr says which one still runs.
  const started = Date.now();
  let said = started;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - said >= 30_000) {
      said = Date.now();
      process.stderr.write(`still waiting for ${what} after ${Math.round((said - started) / 1000)} s${seen ? `: ${seen()}` : ''}\n`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** transmission-remote -l's rows: ID, Done, Status and Name columns. */
export function listRows(out: string): { id: number; done: string; status: string; name: string }[] {
  return out
    .split('\n')
    .slice(1)
    .filter((l) => /^\s+\d+\*?\s/.test(l))
    .map((l) => {
      const m = /^\s+(\d+)\*?\s+(\S+)\s+.*?\s{2,}(Idle|Seeding|Downloading|Up & Down|Uploading|Stopped|Finished|Queued|Verifying.*?|Will Verify.*?|Unknown)\s+(.*)$/.exec(l);
      if (!m) throw new Error(`unexpected list line: ${l}`);
      return { id: Number(m[1]), done: m[2]!, status: m[3]!, name: m[4]! };
    });
}
