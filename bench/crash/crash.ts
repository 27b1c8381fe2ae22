// The kill loop (issue 63, item 3): the churn runs against the node for a random while, the node
// is SIGKILLed (now and then during its own start instead), the state DB is checked as the kill
// left it (read-only, before anything opens it again), the node is started again and must serve
// within its normal start time, and checks.ts holds it to what it acknowledged. Used by run.ts
// (`npm run bench:crash -- --kills 200`) and test/crash/crash.test.ts (20 kills).

import { Churn, SETTING } from './churn.ts';
import { checkAfterRestart, poll, traceLostPieces, type Finding } from './checks.ts';
import { Rig, sleep, type Payload } from './rig.ts';

export interface CrashOptions {
  kills: number;
  /** Public torrents (a third of them folders of three files) and private shares in the pool. */
  publicTorrents: number;
  privateShares: number;
  /** Bytes a payload holds. */
  payloadBytes: number;
  /** The seeder's upload cap, bytes/s. */
  rate: number;
  /** The churn runs this long (uniformly) before each kill, ms. */
  churnMs: [number, number];
  /** Share of kills that come during the node's start instead. */
  startKills: number;
  chain?: boolean;
  /** Moves of private shares too (see Churn's move). */
  privateMoves?: boolean;
  /** A restart slower than this fails its check; default 3× the first start (or +5 s). */
  startLimitMs?: number;
  log?: (line: string) => void;
}

export interface KillRecord {
  n: number;
  /** What was in flight: operations, and torrents downloading (pieces being written). */
  inFlight: string[];
  downloading: number;
  during: 'churn' | 'start';
  integrity: string;
  restartMs: number;
  findings: Finding[];
}

export interface CrashReport {
  kills: KillRecord[];
  baselineStartMs: number;
  startLimitMs: number;
  ops: Record<string, number>;
  failures: string[];
}

export async function crashRun(o: CrashOptions): Promise<CrashReport> {
  const log = o.log ?? (() => {});
  const rig = new Rig({ rate: o.rate, chain: o.chain });
  const kills: KillRecord[] = [];
  let churn: Churn | undefined;
  try {
    await rig.startSeeder();
    const pool: Payload[] = [];
    for (let i = 0; i < o.publicTorrents; i++) pool.push(await rig.publicPayload(o.payloadBytes, i % 3 === 2 ? 3 : 1));
    for (let i = 0; i < o.privateShares; i++) pool.push(await rig.privatePayload(o.payloadBytes));
    pool.sort(() => Math.random() - 0.5);
    log(`${pool.length} payloads of ${o.payloadBytes} B seeded by libtorrent at ${o.rate} B/s; node on ${rig.host}`);
    const baselineStartMs = (await rig.start()).startMs;
    const startLimitMs = o.startLimitMs ?? Math.max(3 * baselineStartMs, baselineStartMs + 5000);
    churn = new Churn(rig, pool, o.chain);
    churn.setting = (await rig.json<Record<string, number>>('/api/settings'))[SETTING];
    churn.privateMoves = o.privateMoves ?? true;
    const findings: Finding[] = [];
    let during: 'churn' | 'start' = 'churn';
    for (let n = 1; n <= o.kills; n++) {
      const record: KillRecord = { n, inFlight: [], downloading: 0, during, integrity: '', restartMs: 0, findings: [] };
      if (during === 'start') {
        // The node that ran the checks goes first (killed idle), then the next is killed somewhere
        // in its start: opening the DB, loading the library, checking files.
        await rig.kill();
        const starting = rig.start().catch(() => undefined);
        await sleep(Math.random() * baselineStartMs);
        record.inFlight.push('node start');
        await rig.kill();
        await starting;
        await rig.kill();
      } else {
        const running = churn.run(2);
        const until = performance.now() + o.churnMs[0] + Math.random() * (o.churnMs[1] - o.churnMs[0]);
        while (performance.now() < until) {
          await poll(rig, churn, findings);
          await sleep(Math.min(300, Math.max(0, until - performance.now())));
        }
        record.downloading = [...churn.torrents.values()].filter((t) => t.acked && t.lastVerified < (t.lastStates?.length ?? 1)).length;
        const pending = churn.killed();
        rig.trace(`kill ${n}`);
        record.inFlight = pending.map((f) => `${f.op} ${f.detail} (${Math.round(performance.now() - f.since)} ms)`);
        await rig.kill();
        await running;
        record.findings.push(...findings.splice(0));
      }
      record.integrity = rig.integrity();
      const resumeAtKill = process.env.CRASH_TRACE ? rig.resumeRows() : undefined;
      record.findings.push({ check: 'PRAGMA integrity_check', ok: record.integrity === 'ok', detail: record.integrity });
      let node;
      try {
        node = await rig.start();
      } catch (err) {
        // A node that will not start after a kill is a finding; a second try tells whether it lasts.
        record.findings.push({ check: 'starts after the kill', ok: false, detail: (err as Error).message.slice(0, 1500) });
        node = await rig.start();
      }
      record.restartMs = node.startMs;
      record.findings.push({ check: 'serving within its start time', ok: node.startMs <= startLimitMs, detail: `${(node.startMs / 1000).toFixed(1)} s (limit ${(startLimitMs / 1000).toFixed(1)} s)` });
      try {
        record.findings.push(...(await checkAfterRestart(rig, churn)));
        if (resumeAtKill) await traceLostPieces(rig, churn, record, resumeAtKill);
      } catch (err) {
        record.findings.push({ check: 'checks ran', ok: false, detail: (err as Error).message });
      }
      if (during === 'start') churn.ambiguous = [];
      kills.push(record);
      log(describe(record));
      during = Math.random() < o.startKills ? 'start' : 'churn';
    }
    const failures = kills.flatMap((k) => k.findings.filter((f) => !f.ok).map((f) => `kill ${k.n}: ${f.check}: ${f.detail}`));
    return { kills, baselineStartMs, startLimitMs, ops: Object.fromEntries(churn.counts), failures };
  } finally {
    // Its loops would otherwise go on asking a node that is gone (a run that failed halfway).
    churn?.stop();
    await rig.dispose();
  }
}

export function describe(k: KillRecord): string {
  const bad = k.findings.filter((f) => !f.ok);
  const what = k.inFlight.length ? k.inFlight.join('; ') : 'nothing but transfers';
  const checks = bad.length ? `FAILED ${bad.map((f) => `${f.check}: ${f.detail}`).join(' | ')}` : `${k.findings.length} checks ok`;
  return `kill ${String(k.n).padStart(3)} [${k.during}] downloading ${k.downloading}; in flight: ${what}; restart ${(k.restartMs / 1000).toFixed(1)} s; ${checks}`;
}
