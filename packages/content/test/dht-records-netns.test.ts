// Records over the IPv6 DHT between hosts with unique local addresses (fd00::/8), in two network
// namespaces made here (a veth pair; nothing else is reachable from them): A on fd00:43::1 only
// publishes, B (dual-stack, with 10.43.0.2 too) finds the record with A's IPv6 address as
// provider; B publishes, C (fd00:43::2 only, beside B) finds it. ::1 would not show that real
// addresses pass the IPv6 DHT's handles and filters (dht-records-ipv6.test.ts covers loopback).
// Before: an IPv6-only session had no DHT methods of its own (A could not publish at all).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cidFromSha256, type TorrentStatement } from '../index.ts';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
const cid = (s: string) => cidFromSha256(createHash('sha256').update(s).digest());
const NODE = fileURLToPath(new URL('./records-node.ts', import.meta.url));

interface Proc {
  send(line: string): void;
  until<T>(pick: (m: Record<string, any>) => T | undefined, ms?: number): Promise<T>;
}

function nodeIn(t: { after: (fn: () => unknown) => void }, ns: string, opts: object): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, NODE, JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    child.stdin.end();
    child.kill();
  });
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  const waiters = new Set<(m: Record<string, any>) => void>();
  // Lines that came before anyone asked are kept: a waiter looks at them first.
  const past: Record<string, any>[] = [];
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    const m = JSON.parse(l) as Record<string, any>;
    if (!('nodes' in m)) past.push(m);
    for (const w of waiters) w(m);
  });
  return {
    send: (line) => void child.stdin.write(`${line}\n`),
    until: (pick, ms = 15_000) =>
      new Promise((resolve, reject) => {
        for (const [i, m] of past.entries()) {
          const v = pick(m);
          if (v !== undefined) return void (past.splice(i, 1), resolve(v));
        }
        const timer = setTimeout(() => (waiters.delete(w), reject(new Error(`${ns}: nothing matched in ${ms} ms\n${err}`))), ms);
        const w = (m: Record<string, any>) => {
          const v = pick(m);
          if (v === undefined) return;
          clearTimeout(timer);
          waiters.delete(w);
          resolve(v);
        };
        waiters.add(w);
      }),
  };
}

test('records over IPv6 between namespaces with fd00:: addresses', { timeout: 60_000 }, async (t) => {
  const n = `rec6${process.pid % 100000}`;
  ip('netns', 'add', `${n}a`);
  t.after(() => ip('netns', 'del', `${n}a`));
  ip('netns', 'add', `${n}b`);
  t.after(() => ip('netns', 'del', `${n}b`));
  ip('link', 'add', `${n}x`, 'netns', `${n}a`, 'type', 'veth', 'peer', 'name', `${n}y`, 'netns', `${n}b`);
  for (const [side, dev, last] of [['a', 'x', '1'], ['b', 'y', '2']] as const) {
    ip('-n', `${n}${side}`, 'addr', 'add', `fd00:43::${last}/64`, 'dev', `${n}${dev}`, 'nodad');
    ip('-n', `${n}${side}`, 'addr', 'add', `10.43.0.${last}/24`, 'dev', `${n}${dev}`);
    ip('-n', `${n}${side}`, 'link', 'set', 'lo', 'up');
    ip('-n', `${n}${side}`, 'link', 'set', `${n}${dev}`, 'up');
  }
  const up = (p: Proc) => p.until((m) => (m.port ? (m as { port: number; dhtPort: number; did?: string }) : undefined));
  const a = nodeIn(t, `${n}a`, { host: 'fd00:43::1', bootstrap: [], identity: 'alice' });
  const aAt = await up(a);
  const boot = [`[fd00:43::1]:${aAt.dhtPort}`];
  const b = nodeIn(t, `${n}b`, { bootstrap: boot, identity: 'bob' });
  const c = nodeIn(t, `${n}b`, { host: 'fd00:43::2', bootstrap: boot });
  const bAt = await up(b);
  await up(c);
  for (const p of [a, b, c]) await p.until((m) => (m.nodes >= (p === a ? 2 : 1) ? true : undefined));

  const fromA: TorrentStatement = { name: 'Unique local aurora.mkv', length: 4300, infoHash: '43'.repeat(20), infoHashV2: null, cids: [cid('ula')], port: aAt.port };
  a.send(`publish ${JSON.stringify(fromA)}`);
  const pa = await a.until((m) => m.published);
  assert.ok(pa.accepted > 0, JSON.stringify(pa));
  b.send('search unique aurora');
  const rows = await b.until((m) => m.rows);
  assert.deepEqual(rows.map((r: any) => [r.publisher, r.infoHash, r.providers]), [[aAt.did, fromA.infoHash, [`[fd00:43::1]:${aAt.port}`]]]);

  const fromB: TorrentStatement = { name: 'Dual stack in a namespace.txt', length: 43, infoHash: '34'.repeat(20), infoHashV2: null, cids: [cid('dual')], port: bAt.port };
  b.send(`publish ${JSON.stringify(fromB)}`);
  await b.until((m) => m.published);
  c.send(`search ${fromB.cids[0]}`);
  const got = await c.until((m) => m.rows);
  assert.deepEqual(got.map((r: any) => [r.publisher, r.infoHash, r.providers]), [[bAt.did, fromB.infoHash, [`[fd00:43::2]:${bAt.port}`]]]);
});
