// What must hold in a cluster after each member kill and restart (issue 63, item 3), against the
// churn's model: every member lists every acknowledged add and no acknowledged remove; every copy a
// holder row calls complete, and every piece a live copy's map calls verified, hashes as the .torrent
// says on that member's disk, and its files are in one of that member's folders only; the killed
// member's copies kept every piece they had verified; no holder or resume row outlives its torrent
// (tombstones apart). At the end, with the churn stopped and every torrent resumed: each torrent has
// min(replicas, members) complete copies on live members, each whole, and no member keeps files of a
// torrent it does not hold.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Metainfo } from '@cascade/engine';
import { readSpan, type Finding } from './checks.ts';
import { FOLDERS, type ClusterChurn } from './cluster-churn.ts';
import type { ClusterRig, Member } from './cluster-rig.ts';
import { sleep, type Payload } from './rig.ts';

export interface Holder {
  member: string;
  state: string;
  progress: number;
  alive: boolean;
  url: string | null;
  savePath: string | null;
  moveTo: string | null;
}

/** A copy's files on its member's disk, each with the SHA-256 its source has. */
export function copyFiles(p: Payload, savePath: string): { path: string; sha256: string }[] {
  const meta = p.meta!;
  if (p.files.size === 1 && p.files.has('')) return [{ path: join(savePath, meta.name), sha256: p.files.get('')! }];
  return meta.files.map((f) => ({ path: join(savePath, meta.name, ...f.path), sha256: p.files.get(f.path.join('/'))! }));
}

/** '' when piece `i` of the copy at `savePath` hashes as the .torrent says, else what is wrong. */
function pieceAt(meta: Metainfo, paths: string[], i: number): string {
  const len = Math.min(meta.pieceLength, meta.length - i * meta.pieceLength);
  const data = readSpan(paths, meta.files.map((f) => f.length), i * meta.pieceLength, len);
  if (!data) return 'is not on disk';
  return createHash('sha1').update(data).digest().equals(Buffer.from(meta.pieceHashes.subarray(i * 20, i * 20 + 20))) ? '' : 'fails its hash';
}

const sample = <T>(xs: T[], n: number): T[] => Array.from({ length: Math.min(n, xs.length) }, () => xs[Math.floor(Math.random() * xs.length)]!);

/** The pieces (indices) a member's running copy calls verified; undefined when it runs none. */
export async function verifiedOn(rig: ClusterRig, m: Member, ih: string): Promise<number[] | undefined> {
  const map = await rig.json<{ states: string }>(m, `/api/torrents/${ih}/pieces`).catch(() => undefined);
  return map && [...map.states].flatMap((c, i) => (c === '2' ? [i] : []));
}

export async function holdersOf(rig: ClusterRig, via: Member, ih: string): Promise<Holder[]> {
  const d = await rig.json<{ holders?: Holder[] }>(via, `/api/torrents/${ih}`);
  return d.holders ?? [];
}

/** Waits (up to `ms`) until no copy is moving or checking; false if that did not come. */
async function quiet(rig: ClusterRig, via: Member, churn: ClusterChurn, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    let busy = false;
    for (const ih of churn.torrents.keys()) {
      const hs = await holdersOf(rig, via, ih).catch(() => []);
      if (hs.some((h) => h.alive && (h.moveTo || h.state === 'checking'))) busy = true;
    }
    if (!busy) return true;
    if (Date.now() > end) return false;
    await sleep(500);
  }
}

/** Where a member's log ends now (read before its kill: what it says after is the restart's). */
export function logEnd(m: Member): number {
  try {
    return statSync(m.logPath).size;
  } catch {
    return 0;
  }
}

/** The torrents whose copy the member deleted after `from` in its log: a surplus copy trimmed
 *  ('copies trimmed') or a tombstoned one dropped. Such a copy may be placed again and fetched
 *  anew: its verified pieces were given up, not lost. */
function copiesDroppedSince(m: Member, from: number): Set<string> {
  const out = new Set<string>();
  let text = '';
  try {
    text = readFileSync(m.logPath).subarray(from).toString('utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"copies trimmed"') && !line.includes('"removed copy dropped"')) continue;
    for (const ih of line.match(/[0-9a-f]{40}/g) ?? []) out.add(ih);
  }
  return out;
}

/** The checks after a kill: `before`, each killed member's verified pieces per torrent before it and
 *  where its log ended then. */
export async function checkCluster(rig: ClusterRig, churn: ClusterChurn, before: Map<string, { pieces: Map<string, number[]>; logFrom: number; removes: ReadonlyMap<string, number> }>): Promise<Finding[]> {
  const out: Finding[] = [];
  const fail = (check: string, detail: string) => out.push({ check, ok: false, detail });
  const live = rig.live();
  const via = live[0]!;

  // 1. The library, as every member lists it (the same library on each, once the bus told them).
  let lists: Set<string>[] = [];
  for (let tries = 0; tries < 20; tries++) {
    lists = await Promise.all(live.map(async (m) => new Set((await rig.json<{ torrents: { infoHash: string }[] }>(m, '/api/torrents?limit=1000')).torrents.map((t) => t.infoHash))));
    if (lists.every((l) => l.size === lists[0]!.size && [...l].every((ih) => lists[0]!.has(ih)))) break;
    await sleep(500);
  }
  churn.settle(lists[0]!);
  for (const [i, l] of lists.entries()) {
    for (const [ih, t] of churn.torrents) if (t.acked && !l.has(ih)) fail('acknowledged adds listed', `${live[i]!.name} does not list ${ih.slice(0, 8)}`);
    for (const ih of churn.removed) if (l.has(ih)) fail('acknowledged removes gone', `${live[i]!.name} lists ${ih.slice(0, 8)}, removed`);
  }
  out.push({ check: 'acknowledged adds listed', ok: !out.some((f) => f.check === 'acknowledged adds listed'), detail: `${churn.torrents.size} torrents on ${live.length} members` });

  // 2. Every copy, on its member's disk.
  const settled = await quiet(rig, via, churn, 30_000);
  let copies = 0, pieces = 0, kept = 0, givenUp = 0;
  const dropped = new Map([...before].map(([name, b]) => [name, copiesDroppedSince(rig.members.find((m) => m.name === name)!, b.logFrom)]));
  for (const [ih, t] of churn.torrents) {
    const meta = t.p.meta!;
    for (const h of await holdersOf(rig, via, ih).catch(() => [])) {
      const m = rig.memberOfUrl(h.url);
      if (!m || !h.alive || !h.savePath || h.moveTo) continue;
      const files = copyFiles(t.p, h.savePath);
      const paths = files.map((f) => f.path);
      const verified = m.node ? await verifiedOn(rig, m, ih) : undefined;
      // A holder row at progress 1 is a complete copy whether or not the engine runs it now (paused).
      const claimed = verified ?? (h.progress === 1 ? [...Array(meta.pieceCount).keys()] : []);
      for (const i of sample(claimed, 4)) {
        const bad = pieceAt(meta, paths, i);
        if (bad) fail('verified pieces hash', `${m.name} ${ih.slice(0, 8)} piece ${i} ${bad} (holder ${h.state} ${h.progress}, at ${h.savePath})`);
        pieces++;
      }
      // One place: none of its files in another of the member's folders.
      if (settled) {
        for (const folder of FOLDERS) {
          const dir = join(m.downloadDir, folder);
          if (dir === h.savePath) continue;
          for (const f of copyFiles(t.p, dir)) if (existsSync(f.path)) fail('data in exactly one place', `${m.name} ${ih.slice(0, 8)}: ${f.path} exists besides its copy at ${h.savePath}`);
        }
      }
      // The killed member's copy kept what it had verified.
      const had = before.get(m.name)?.pieces.get(ih);
      // Deleted as surplus since, or the torrent removed since (a removal asked just before the
      // kill, and the torrent added again): pieces given up, not lost.
      const removedSince = (churn.removesAsked.get(ih) ?? 0) !== (before.get(m.name)?.removes.get(ih) ?? 0);
      if (had && verified && (dropped.get(m.name)?.has(ih) || removedSince)) givenUp++;
      else if (had && verified) {
        const now = new Set(verified);
        const lost = had.filter((i) => !now.has(i));
        if (lost.length > 0) fail('verified pieces kept', `${m.name} ${ih.slice(0, 8)} lost ${lost.length} of ${had.length} verified pieces (pieces ${lost.slice(0, 6).join(', ')})`);
        kept++;
      }
      copies++;
    }
  }
  for (const [check, detail] of [['verified pieces hash', `${pieces} pieces of ${copies} copies hashed`], ['verified pieces kept', `${kept} copies of the killed member${givenUp ? ` (${givenUp} more deleted as surplus or removed since, and placed again: not judged)` : ''}`], ['data in exactly one place', settled ? `${copies} copies` : 'not judged: moves still running after 30 s']] as const) {
    if (!out.some((f) => f.check === check)) out.push({ check, ok: true, detail });
  }

  // 3. No holder or resume row outlives its torrent (a removal's tombstones go once their member acts).
  const orphans = await rowsWithoutTorrent(rig, 15_000);
  out.push({ check: 'no rows without their torrent', ok: orphans.length === 0, detail: orphans.length ? orphans.slice(0, 5).join('; ') : 'holders and resume rows' });
  return out;
}

async function rowsWithoutTorrent(rig: ClusterRig, ms: number): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const rows = [
      ...(await rig.sql<{ info_hash: string; member_id: string; state: string }>(
        "SELECT h.info_hash, h.member_id, h.state FROM torrent_holders h WHERE h.state NOT IN ('removed', 'removed+data') AND NOT EXISTS (SELECT 1 FROM torrents t WHERE t.info_hash = h.info_hash)",
      )).map((r) => `holder ${r.info_hash.slice(0, 8)} on ${r.member_id.slice(-8)} (${r.state})`),
      ...(await rig.sql<{ info_hash: string; member_id: string }>(
        "SELECT r.info_hash, r.member_id FROM resume r WHERE NOT EXISTS (SELECT 1 FROM torrent_holders h WHERE h.info_hash = r.info_hash AND h.member_id = r.member_id AND h.state NOT IN ('removed', 'removed+data'))",
      )).map((r) => `resume ${r.info_hash.slice(0, 8)} of ${r.member_id.slice(-8)}`),
    ];
    if (rows.length === 0 || Date.now() > end) return rows;
    await sleep(1000);
  }
}

/** The end: every torrent resumed, each with `copies` complete copies on live members, each whole,
 *  and no member keeping files of a torrent it holds no copy of. */
export async function checkConverged(rig: ClusterRig, churn: ClusterChurn, copies: number, ms: number): Promise<Finding[]> {
  const out: Finding[] = [];
  const via = rig.live()[0]!;
  for (const t of churn.torrents.values()) await rig.json(via, `/api/torrents/${t.p.ih}/resume`, { method: 'POST' }).catch(() => {});
  const end = Date.now() + ms;
  let short: string[] = [];
  let holders = new Map<string, Holder[]>();
  for (;;) {
    holders = new Map();
    short = [];
    for (const [ih] of churn.torrents) {
      const hs = (await holdersOf(rig, via, ih)).filter((h) => h.alive && h.progress === 1 && h.state === 'seeding' && !h.moveTo && h.savePath);
      holders.set(ih, hs);
      if (hs.length < copies) short.push(`${ih.slice(0, 8)} ${hs.length}`);
    }
    if (short.length === 0 || Date.now() > end) break;
    await sleep(2000);
  }
  out.push({ check: 'replicas complete', ok: short.length === 0, detail: short.length ? `fewer than ${copies} complete copies after ${ms / 1000} s: ${short.slice(0, 8).join(', ')}` : `${churn.torrents.size} torrents × ${copies}` });
  let whole = 0;
  const held = new Map<string, Set<string>>(); // member → paths its copies own
  for (const [ih, hs] of holders) {
    const t = churn.torrents.get(ih)!;
    for (const h of hs) {
      const m = rig.memberOfUrl(h.url)!;
      for (const f of copyFiles(t.p, h.savePath!)) {
        const ok = existsSync(f.path) && createHash('sha256').update(readFileSync(f.path)).digest('hex') === f.sha256;
        if (!ok) out.push({ check: 'complete copies are whole', ok: false, detail: `${m.name} ${ih.slice(0, 8)} ${f.path} ${existsSync(f.path) ? 'differs from its source' : 'is missing'}` });
        whole++;
      }
      const own = held.get(m.name) ?? new Set();
      own.add(join(h.savePath!, t.p.meta!.name));
      held.set(m.name, own);
    }
  }
  if (!out.some((f) => f.check === 'complete copies are whole')) out.push({ check: 'complete copies are whole', ok: true, detail: `${whole} files` });
  // Left behind: a torrent's file or folder in a member's folders that none of its copies owns.
  const stray: string[] = [];
  for (const m of rig.members) {
    for (const folder of FOLDERS) {
      const dir = join(m.downloadDir, folder);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (FOLDERS.includes(name) || !name.startsWith('crash-')) continue;
        if (!held.get(m.name)?.has(join(dir, name))) stray.push(`${m.name} ${join(folder, name)}`);
      }
    }
  }
  out.push({ check: 'no data left behind', ok: stray.length === 0, detail: stray.length ? stray.slice(0, 8).join(', ') : `${rig.members.length} members' folders` });
  return out;
}
