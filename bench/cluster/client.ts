// bench:cluster's last figure: a libtorrent client (lt_client.py) downloading a file the cluster
// holds on two members, given both as peers, at a capped rate; one of the two is killed with
// SIGKILL once the client has a third of the file. The download must complete; the figures are the
// longest time with no payload progress and the rates before and after the kill.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BenchNode, Cleanups, Cluster } from './infra.ts';
import { call } from './measure.ts';

const LT_CLIENT = join(import.meta.dirname, 'lt_client.py');

export interface ClientFigures {
  bytes: number;
  /** The holder killed, and the one left. */
  killed: string;
  left: string;
  /** Progress at the kill, 0-1. */
  atKill: number;
  /** Longest gap between two samples that brought payload, from the kill to the end (s); and over the whole download. */
  stallAfterKill: number;
  stallOverall: number;
  /** MB/s (10^6) from the first byte to the kill, and from the kill to the end. */
  rateBefore: number;
  rateAfter: number;
  /** First byte → done, s. */
  seconds: number;
}

interface Sample {
  t: number;
  downloaded: number;
}

/** Longest time between consecutive samples where the count grew, among samples from `from` on. */
function longestGap(samples: Sample[], from: number): number {
  let last: number | undefined;
  let prev = -1;
  let gap = 0;
  for (const s of samples) {
    if (s.downloaded > prev) {
      if (last !== undefined && s.t >= from) gap = Math.max(gap, s.t - Math.max(last, from));
      last = s.t;
      prev = s.downloaded;
    }
  }
  return gap / 1000;
}

export async function downloadThroughKill(later: Cleanups, cluster: Cluster, dir: string, infoHash: string, holders: [BenchNode, BenchNode], bytes: number, rate: number): Promise<ClientFigures> {
  const res = await call(cluster, `/api/torrents/${infoHash}/torrent`);
  if (!res.ok) throw new Error(`GET the .torrent of ${infoHash} through the balancer: ${res.status} ${await res.text()}`);
  mkdirSync(join(dir, 'client'), { recursive: true });
  const torrentPath = join(dir, 'client', `${infoHash}.torrent`);
  writeFileSync(torrentPath, new Uint8Array(await res.arrayBuffer()));
  const child = spawn('/usr/bin/python3', [LT_CLIENT, torrentPath, join(dir, 'client'), String(Math.round(rate)), ...holders.map((h) => h.bt)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  later.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  const samples: Sample[] = [];
  let killAt: number | undefined;
  let atKill = 0;
  let killing: Promise<void> | undefined;
  let doneAt: number | undefined;
  const lines = createInterface({ input: child.stdout! });
  const [victim, survivor] = holders;
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the client did not finish within ${Math.round((bytes / rate) * 4 + 120)} s: ${JSON.stringify(samples.at(-1))}`)), ((bytes / rate) * 4 + 120) * 1000);
    lines.on('line', (line) => {
      let ev: { event: string; t?: number; downloaded?: number; message?: string };
      try {
        ev = JSON.parse(line) as typeof ev;
      } catch {
        return;
      }
      if (ev.event === 'sample' || ev.event === 'done') samples.push({ t: ev.t!, downloaded: ev.downloaded! });
      if (ev.event === 'sample' && killAt === undefined && ev.downloaded! >= bytes / 3) {
        killAt = ev.t!;
        atKill = ev.downloaded! / bytes;
        killing = victim.kill9();
      }
      if (ev.event === 'done') {
        clearTimeout(timer);
        doneAt = ev.t!;
        resolve();
      }
      if (ev.event === 'error') {
        clearTimeout(timer);
        reject(new Error(`lt_client: ${ev.message}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (doneAt === undefined) reject(new Error(`lt_client exited ${code} before done: ${stderr}`));
    });
  });
  await finished;
  await killing;
  if (killAt === undefined) throw new Error('the download finished before a third of it: nothing was killed (lower the rate)');
  const first = samples.find((s) => s.downloaded > 0)!;
  return {
    bytes,
    killed: victim.name,
    left: survivor.name,
    atKill,
    stallAfterKill: longestGap(samples, killAt),
    stallOverall: longestGap(samples, first.t),
    rateBefore: (atKill * bytes) / 1e6 / ((killAt - first.t) / 1000),
    rateAfter: (bytes - atKill * bytes) / 1e6 / ((doneAt! - killAt) / 1000),
    seconds: (doneAt! - first.t) / 1000,
  };
}
