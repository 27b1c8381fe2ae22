// The cluster's kill loop (issue 63, item 3: "cluster placement and repair"): the churn runs through
// the members for a random while, then a random member is SIGKILLed — now and then during its own
// start instead, and now and then a second member while the first is down and its copies are being
// placed again on the others (repair) — and stays down a random 0-9 s (its lease is 6 s: longer and
// it is declared dead, its torrents placed elsewhere, and trimmed back when it returns). It is started
// again on the same dirs and must serve within its normal start time; the churn stops, and
// cluster-checks.ts holds the cluster to what it acknowledged. At the end every torrent must reach
// its replicas, whole. `npm run bench:crash -- --cluster --kills N`.

import type { Finding } from './checks.ts';
import { ClusterChurn } from './cluster-churn.ts';
import { checkCluster, checkConverged, holdersOf, logEnd, verifiedOn } from './cluster-checks.ts';
import { ClusterRig, type Member } from './cluster-rig.ts';
import { sleep, type Payload } from './rig.ts';
import type { CrashReport, KillRecord } from './crash.ts';

export interface ClusterCrashOptions {
  kills: number;
  /** Payloads in the pool (a third of them folders of three files), and how many the library holds. */
  payloads: number;
  library: number;
  payloadBytes: number;
  /** The libtorrent seeder's upload cap, bytes/s. */
  rate: number;
  churnMs: [number, number];
  /** Share of kills that come during the member's start instead, and of a second member's kill. */
  startKills: number;
  secondKills: number;
  /** The end's wait for every torrent's replicas, ms. */
  convergeMs: number;
  log?: (line: string) => void;
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

export async function clusterCrashRun(o: ClusterCrashOptions): Promise<CrashReport> {
  const log = o.log ?? (() => {});
  const rig = new ClusterRig(o.rate);
  let churn: ClusterChurn | undefined;
  const kills: KillRecord[] = [];
  try {
    const starts = await rig.open();
    const baselineStartMs = Math.max(...starts);
    const startLimitMs = Math.max(3 * baselineStartMs, baselineStartMs + 5000);
    const pool: Payload[] = [];
    for (let i = 0; i < o.payloads; i++) pool.push(await rig.seeder.publicPayload(o.payloadBytes, i % 3 === 2 ? 3 : 1));
    log(`3 members (${rig.members.map((m) => `${m.name} ${m.host}`).join(', ')}), ${pool.length} payloads of ${o.payloadBytes} B seeded by libtorrent at ${o.rate} B/s; first starts ${starts.map((s) => (s / 1000).toFixed(1)).join(' / ')} s`);
    churn = new ClusterChurn(rig, pool, o.library);
    for (let n = 1; n <= o.kills; n++) {
      const record: KillRecord = { n, inFlight: [], downloading: 0, during: Math.random() < o.startKills ? 'start' : 'churn', integrity: '', restartMs: 0, findings: [] };
      churn.run(2);
      await sleep(o.churnMs[0] + Math.random() * (o.churnMs[1] - o.churnMs[0]));
      const victims: Member[] = [pick(rig.live())];
      const before = new Map<string, { pieces: Map<string, number[]>; logFrom: number; removes: ReadonlyMap<string, number> }>();
      before.set(victims[0]!.name, { removes: new Map(churn.removesAsked), pieces: await heldPieces(rig, victims[0]!, churn), logFrom: logEnd(victims[0]!) });
      const filling = await rig.sql<{ n: string }>("SELECT count(*) AS n FROM torrent_holders WHERE progress < 1 AND state NOT IN ('removed', 'removed+data')");
      record.downloading = Number(filling[0]!.n);
      record.inFlight = [...churn.inFlight].map(([ih, op]) => `${op} ${ih.slice(0, 8)}`);
      rig.trace(`kill ${n}: ${victims[0]!.name} killed`);
      await rig.kill(victims[0]!);
      const downMs = Math.random() * 9000;
      if (Math.random() < o.secondKills) {
        // A second member, while the first's copies are placed again on the survivors (repair).
        await sleep(downMs);
        const second = pick(rig.live());
        before.set(second.name, { removes: new Map(churn.removesAsked), pieces: await heldPieces(rig, second, churn), logFrom: logEnd(second) });
        record.inFlight.push(`${second.name} killed ${(downMs / 1000).toFixed(1)} s after ${victims[0]!.name}${downMs > 6000 ? ' (repair under way)' : ''}`);
        rig.trace(`kill ${n}: ${second.name} killed too`);
        await rig.kill(second);
        victims.push(second);
        await sleep(Math.random() * 3000);
      } else {
        await sleep(downMs);
      }
      record.inFlight.unshift(`${victims[0]!.name} down ${(downMs / 1000).toFixed(1)} s`);
      if (record.during === 'start') {
        // Killed again somewhere in its start: opening the database, joining, loading its copies.
        const starting = rig.start(victims[0]!).catch(() => undefined);
        await sleep(Math.random() * baselineStartMs);
        await rig.kill(victims[0]!);
        await starting;
      }
      for (const m of victims) {
        rig.trace(`kill ${n}: ${m.name} starting`);
        let ms: number;
        try {
          ms = await rig.start(m);
        } catch (err) {
          record.findings.push({ check: 'starts after the kill', ok: false, detail: (err as Error).message.slice(0, 1500) });
          ms = await rig.start(m);
        }
        record.restartMs = Math.max(record.restartMs, ms);
        record.findings.push({ check: 'serving within its start time', ok: ms <= startLimitMs, detail: `${m.name} ${(ms / 1000).toFixed(1)} s (limit ${(startLimitMs / 1000).toFixed(1)} s)` });
      }
      await churn.pause();
      rig.trace(`kill ${n}: checks`);
      try {
        record.findings.push(...(await checkCluster(rig, churn, before)));
      } catch (err) {
        record.findings.push({ check: 'checks ran', ok: false, detail: (err as Error).message.slice(0, 600) });
      }
      kills.push(record);
      for (const f of record.findings) if (!f.ok) rig.trace(`kill ${n}: FAILED ${f.check}: ${f.detail}`);
      // CRASH_KEEP: the rows as the checks saw them, beside ops.log and the members' stamped logs.
      if (process.env.CRASH_KEEP && record.findings.some((f) => !f.ok)) await rig.dumpRows(`kill-${n}`).catch(() => {});
      log(describeCluster(record, victims));
    }
    const end: Finding[] = await checkConverged(rig, churn, Math.min(2, rig.members.length), o.convergeMs);
    log(`end: ${end.map((f) => `${f.check} ${f.ok ? 'ok' : 'FAILED'}: ${f.detail}`).join(' | ')}`);
    kills.push({ n: o.kills + 1, inFlight: ['the end: churn stopped, every torrent resumed'], downloading: 0, during: 'churn', integrity: '', restartMs: 0, findings: end });
    const failures = kills.flatMap((k) => k.findings.filter((f) => !f.ok).map((f) => `kill ${k.n}: ${f.check}: ${f.detail}`));
    const ops = { ...churn.counts, errors: churn.errors.length };
    if (churn.errors.length) log(`refused or unanswered (not failures): ${churn.errors.slice(0, 10).join(' | ')}`);
    return { kills, baselineStartMs, startLimitMs, ops, failures };
  } finally {
    await churn?.pause();
    await rig.dispose();
  }
}

/** The pieces the member's copies hold verified, by torrent (what it must still hold after the kill). */
async function heldPieces(rig: ClusterRig, m: Member, churn: ClusterChurn): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const ih of churn.torrents.keys()) {
    const holds = (await holdersOf(rig, m, ih).catch(() => [])).some((h) => rig.memberOfUrl(h.url) === m);
    if (!holds) continue;
    const v = await verifiedOn(rig, m, ih);
    if (v?.length) out.set(ih, v);
  }
  return out;
}

function describeCluster(k: KillRecord, victims: Member[]): string {
  const bad = k.findings.filter((f) => !f.ok);
  const checks = bad.length ? `FAILED ${bad.map((f) => `${f.check}: ${f.detail}`).join(' | ')}` : `${k.findings.length} checks ok`;
  return `kill ${String(k.n).padStart(3)} [${k.during}] ${victims.map((m) => m.name).join('+')}; copies filling ${k.downloading}; in flight: ${k.inFlight.join('; ') || 'nothing'}; restart ${(k.restartMs / 1000).toFixed(1)} s; ${checks}`;
}
