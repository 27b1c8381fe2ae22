// What must hold after each kill and restart (issue 63, item 3), against the churn's model of what
// the node acknowledged: every acknowledged add is there (and every acknowledged remove gone);
// no piece marked verified fails its hash (spot-checked by reading the file data and hashing it
// against the .torrent's piece hashes); no file reported complete differs from its source; a move
// or rename in flight at the kill leaves the data in exactly one place, the one the node names;
// nothing verified before the kill is lost (the piece map after ⊇ before), and the bytes the node
// downloads after the restart stay within what was not verified before the kill. The database's
// integrity and the start time are checked by the run itself (run.ts).

import { createHash } from 'node:crypto';
import { existsSync, openSync, readSync, closeSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Churn, Tracked } from './churn.ts';
import { SETTING } from './churn.ts';
import { sleep, type Rig } from './rig.ts';

export interface Finding {
  check: string;
  ok: boolean;
  detail?: string;
}

interface Detail {
  name: string;
  state: string;
  savePath: string;
  verifiedPieces: number;
  pieceCount: number;
  pieceLength: number;
  downloaded: number;
  files: { index: number; path: string; length: number; progress: number }[] | null;
}

/** Bytes a download may fetch beyond what was missing: blocks in flight, endgame duplicates, and
 *  blocks asked again of a rate-capped seed after a request timed out (the node's counter holds
 *  every block received). Whether anything verified was fetched again is the piece-map check's. */
export const SLACK_PIECES = 8;
export const SLACK_SHARE = 0.5;

function filePath(t: Tracked, d: Detail, rel: string, savePath = d.savePath): string {
  const multi = t.p.files.size > 1;
  return multi ? join(savePath, d.name, rel) : join(savePath, rel);
}

/** Reads bytes [offset, offset+length) of the torrent's concatenated files as they are on disk. */
export function readSpan(paths: string[], lengths: number[], offset: number, length: number): Buffer | undefined {
  const out = Buffer.alloc(length);
  let fileStart = 0;
  let done = 0;
  for (let i = 0; i < paths.length && done < length; i++) {
    const fileEnd = fileStart + lengths[i]!;
    if (offset + done < fileEnd && offset + length > fileStart) {
      const from = offset + done - fileStart;
      const n = Math.min(fileEnd - (offset + done), length - done);
      if (!existsSync(paths[i]!)) return undefined;
      const fd = openSync(paths[i]!, 'r');
      try {
        if (readSync(fd, out, done, n, from) !== n) return undefined;
      } finally {
        closeSync(fd);
      }
      done += n;
    }
    fileStart = fileEnd;
  }
  return done === length ? out : undefined;
}

/** During the churn: the piece maps the kill will be judged against, and the re-download bound. */
export async function poll(rig: Rig, churn: Churn, findings: Finding[]): Promise<void> {
  for (const t of churn.torrents.values()) {
    if (!t.acked || t.removed) continue;
    let d: Detail;
    try {
      d = await rig.json<Detail>(`/api/torrents/${t.p.ih}`);
    } catch {
      continue; // killed meanwhile, or removed
    }
    if (!d.pieceCount) continue;
    t.pieceLength = d.pieceLength;
    if (t.missingAtStart !== undefined && d.downloaded > t.missingAtStart * (1 + SLACK_SHARE) + SLACK_PIECES * d.pieceLength) {
      const map = process.env.CRASH_TRACE ? await rig.json<{ states: string }>(`/api/torrents/${t.p.ih}/pieces`).catch(() => undefined) : undefined;
      findings.push({ check: 're-download', ok: false, detail: `${t.p.ih.slice(0, 8)} downloaded ${d.downloaded} B since the restart; ${t.missingAtStart} B were missing before the kill (state ${d.state}; acknowledged since: ${t.history?.join(', ') || 'nothing'})${process.env.CRASH_TRACE ? ` [map before the kill ${t.beforeKill} at the restart's check ${t.lastStates} now ${map?.states}; ${JSON.stringify(d).slice(0, 1500)}]` : ''}` });
      t.missingAtStart = undefined; // once
    }
    if (d.verifiedPieces > t.lastVerified || !t.lastStates) {
      const map = await rig.json<{ states: string }>(`/api/torrents/${t.p.ih}/pieces`).catch(() => undefined);
      if (map) (t.lastStates = map.states), (t.lastVerified = [...map.states].filter((c) => c === '2').length);
    }
  }
}

export async function checkAfterRestart(rig: Rig, churn: Churn): Promise<Finding[]> {
  const out: Finding[] = [];
  const fail = (check: string, detail: string) => out.push({ check, ok: false, detail });
  const list = await rig.json<{ torrents: { infoHash: string; state: string }[] }>('/api/torrents');
  const present = new Set(list.torrents.map((r) => r.infoHash));

  // Acknowledged adds there, acknowledged removes gone; in-flight ones either way.
  let adds = 0;
  for (const [ih, t] of [...churn.torrents]) {
    const pending = churn.pendingOn(ih, 'add') ?? churn.pendingOn(ih, 'remove');
    if (present.has(ih)) (t.acked = true), adds++;
    else if (t.acked && !pending) fail('acknowledged add is there', `${ih.slice(0, 8)} (${t.p.kind}) is gone`);
    else {
      if (churn.pendingOn(ih, 'remove')) churn.noteRemovedFiles(t); // removed with its data at the kill
      churn.torrents.delete(ih), churn.forgotten(t.p);
    }
  }
  for (const ih of churn.removedAcked) if (present.has(ih)) fail('acknowledged remove stays', `${ih.slice(0, 8)} is back`);
  // A removal with the data leaves none of it, though the kill came between its rows and its files
  // (the node's tombstone; its start deletes what is left).
  let removedChecked = 0;
  for (const [ih, paths] of churn.removedFiles) {
    const left = paths.filter((p) => existsSync(p));
    if (left.length > 0) fail('removed data gone', `${ih.slice(0, 8)} removed with its data; still on disk: ${left.join(', ')}`);
    removedChecked++;
  }
  out.push({ check: 'acknowledged adds present', ok: !out.some((f) => f.check === 'acknowledged add is there'), detail: `${adds} torrents` });

  // The setting acknowledged last (or the one in flight).
  const s = await rig.json<Record<string, unknown>>('/api/settings');
  if (churn.setting !== undefined) {
    const value = s[SETTING] as number;
    const ok = value === churn.setting || churn.settingPending.has(value);
    out.push({ check: 'acknowledged setting kept', ok, detail: `${SETTING} ${value} (acknowledged ${churn.setting}${churn.settingPending.size ? `, in flight ${[...churn.settingPending].join(', ')}` : ''})` });
    if (churn.settingPending.has(value)) churn.setting = value;
    churn.settingPending.clear();
  }

  // Let the restart's checks of files written since the last save finish.
  const end = Date.now() + 60_000;
  let details = new Map<string, Detail>();
  for (;;) {
    details = new Map();
    for (const t of churn.torrents.values()) details.set(t.p.ih, await rig.json<Detail>(`/api/torrents/${t.p.ih}`));
    if (![...details.values()].some((d) => d.state === 'checking') || Date.now() > end) break;
    await sleep(200);
  }

  let pieces = 0, spot = 0, whole = 0, places = 0;
  for (const t of churn.torrents.values()) {
    const d = details.get(t.p.ih)!;
    const ih = t.p.ih.slice(0, 8);
    t.folder = d.name;
    // The re-download bound of the run that begins: what the node had not verified before the kill
    // (its last map), held against its download counter, which starts at 0 with the new process.
    // Never from this check's own reads: a torrent downloading meanwhile had its counter read before
    // its map (details above, the map below), so pieces fetched in between counted as neither
    // missing nor downloaded — a whole torrent fetched during a slow check (a loaded machine) was
    // then 'downloaded again' (267,232 B with 32,768 'missing'), and a real re-download finished
    // before the map was read would pass unseen.
    t.beforeKill = t.lastStates;
    t.missingAtStart = t.lastStates && t.pieceLength ? (t.lastStates.length - t.lastVerified) * t.pieceLength : undefined;
    // The save path: the acknowledged one, or either end of a move in flight.
    const move = churn.pendingOn(t.p.ih, 'move');
    if (move ? d.savePath !== move.from && d.savePath !== move.to : d.savePath !== t.savePath) fail('save path as acknowledged', `${ih} at ${d.savePath}, expected ${move ? `${move.from} or ${move.to}` : t.savePath}`);
    t.savePath = d.savePath;
    if (!d.pieceCount || !d.files?.length) {
      // No metadata: only a magnet whose info dict never reached the state before the kill may be so.
      if (t.lastStates?.includes('2')) fail('metadata kept', `${ih} had ${t.lastVerified} verified pieces before the kill and no metadata after it (state ${d.state})`);
      continue;
    }
    // File names: the acknowledged ones, or either of a rename in flight.
    const rename = churn.pendingOn(t.p.ih, 'rename');
    const current = new Map<string, string>(); // original rel → path on disk now
    const origOf = [...t.p.files.keys()].sort();
    d.files.forEach((f, i) => {
      const orig = t.p.files.size > 1 ? (origOf.find((o) => t.names.get(o) === f.path) ?? (rename?.to === f.path ? rename.file! : undefined)) : '';
      if (orig === undefined) return fail('file names as acknowledged', `${ih} file ${i} is "${f.path}", acknowledged ${[...t.names.values()].join(', ')}`);
      t.names.set(orig, f.path);
      current.set(orig, filePath(t, d, f.path));
    });
    // Exactly one place: no copy of any of its files under another name or in another folder.
    for (const orig of t.p.files.keys()) {
      const names = new Set([orig, t.names.get(orig)!, ...(rename?.file === orig ? [rename.from!, rename.to!] : [])]);
      for (const place of t.places) {
        for (const n of names) {
          const p = filePath(t, d, t.p.files.size > 1 ? n : d.files[0]!.path, place);
          if (p !== current.get(orig) && existsSync(p)) fail('data in exactly one place', `${ih}: ${p} exists besides ${current.get(orig)}${move ? ` (move in flight: ${move.detail})` : ''}`);
        }
      }
    }
    places++;
    // Nothing verified before the kill lost (so nothing re-downloaded).
    // 409: the engine holds no metadata for it (a magnet that had none stored yet): no map to judge.
    const map = await rig.json<{ states: string }>(`/api/torrents/${t.p.ih}/pieces`).catch(() => undefined);
    const meta = t.p.meta;
    const paths = meta?.files.map((f) => current.get(t.p.files.size > 1 ? f.path.join('/') : '')!);
    const hashes = (i: number) => {
      const len = Math.min(meta!.pieceLength, meta!.length - i * meta!.pieceLength);
      const data = readSpan(paths!, meta!.files.map((f) => f.length), i * meta!.pieceLength, len);
      const digest = data && createHash('sha1').update(data).digest();
      return !digest ? 'is not on disk' : digest.equals(Buffer.from(meta!.pieceHashes.subarray(i * 20, i * 20 + 20))) ? '' : 'fails its hash';
    };
    if (!map) {
      // A torrent loaded paused or queued is not in the engine until it runs: its count comes from
      // the resume data, which may lag pieces verified in its last second (a pause in flight at the
      // kill); the node finds those by hashing when it runs (docs/durability.md). So the pieces
      // verified before the kill must be on disk and whole now; its map is judged when it runs.
      const gone = meta ? [...(t.lastStates ?? '')].flatMap((c, i) => (c === '2' && hashes(i) ? [i] : [])) : [];
      if (gone.length > 0 || (!meta && d.verifiedPieces < t.lastVerified)) fail('verified pieces kept', `${ih} had ${t.lastVerified} verified pieces before the kill; after it ${d.verifiedPieces} and no piece map (state ${d.state})${gone.length ? `; pieces ${gone.slice(0, 8).join(', ')} not whole on disk` : ''}`);
      continue;
    }
    if (t.lastStates && t.lastStates.length === map.states.length) {
      const lost = [...t.lastStates].filter((c, i) => c === '2' && map.states[i] !== '2').length;
      if (lost > 0) fail('verified pieces kept', `${ih} lost ${lost} of ${t.lastVerified} verified pieces (state ${d.state})`);
    }
    pieces++;
    t.lastStates = map.states;
    t.lastVerified = [...map.states].filter((c) => c === '2').length;
    t.pieceLength = d.pieceLength;
    t.history = [];
    // Spot-check: verified pieces hash as the .torrent says.
    if (meta) {
      const verified = [...map.states].flatMap((c, i) => (c === '2' ? [i] : []));
      for (let k = 0; k < Math.min(6, verified.length); k++) {
        const i = verified[Math.floor(Math.random() * verified.length)]!;
        const bad = hashes(i);
        if (bad) fail('verified pieces hash', `${ih} piece ${i} ${bad}`);
        spot++;
      }
    }
    // Files reported complete are complete.
    for (const f of d.files) {
      if (f.progress !== 1) continue;
      const orig = t.p.files.size > 1 ? [...t.names].find(([, n]) => n === f.path)?.[0] : '';
      const p = current.get(orig ?? '');
      const ok = !!p && existsSync(p) && createHash('sha256').update(readFileSync(p)).digest('hex') === t.p.files.get(orig ?? '');
      if (!ok) fail('complete files are whole', `${ih} ${f.path} is reported complete but ${p && existsSync(p) ? 'differs from its source' : 'is missing'}`);
      whole++;
    }
  }
  const summary: [string, string][] = [
    ['data in exactly one place', `${places} torrents`], ['save path as acknowledged', `${places} torrents`], ['file names as acknowledged', `${places} torrents`],
    ['verified pieces kept', `${pieces} piece maps`], ['verified pieces hash', `${spot} pieces hashed`], ['complete files are whole', `${whole} files`],
    ['removed data gone', `${removedChecked} torrents removed with their data`],
  ];
  for (const [check, detail] of summary) if (!out.some((f) => f.check === check)) out.push({ check, ok: true, detail });
  return out;
}

/** CRASH_TRACE: what a 'verified pieces kept' failure left, to the trace file: the resume rows at
 *  the kill and now, the files on disk, and (a private share) which 4 KiB pages of the plaintext
 *  differ from the source. */
export async function traceLostPieces(rig: Rig, churn: Churn, record: { n: number; findings: Finding[] }, atKill: Map<string, string>): Promise<void> {
  const now = rig.resumeRows();
  for (const f of record.findings.filter((x) => !x.ok && x.check === 'verified pieces kept')) {
    const t = [...churn.torrents.values()].find((x) => f.detail?.startsWith(x.p.ih.slice(0, 8)));
    if (!t) continue;
    const d = await rig.json<Detail>(`/api/torrents/${t.p.ih}`).catch(() => undefined);
    const lines = [`kill ${record.n}: LOST ${t.p.kind} ${t.p.ih} ${f.detail}`, `  before the kill ${t.beforeKill}; history ${t.history?.join(',')}`, `  resume at the kill: ${atKill.get(t.p.ih)}`, `  resume now: ${now.get(t.p.ih)}`, `  detail: ${JSON.stringify(d)?.slice(0, 800)}`];
    for (const file of d?.files ?? []) {
      const p = join(d!.savePath, file.path);
      const st = statSync(p, { throwIfNoEntry: false });
      lines.push(`  ${p}: ${st ? `${st.size} B mtime ${st.mtimeMs}` : 'absent'}`);
      const src = st && t.p.kind === 'private' ? findSource(rig.root, basename(p)) : undefined;
      if (src) {
        const [a, b] = [readFileSync(src), readFileSync(p)];
        const bad: string[] = [];
        for (let o = 0; o < a.length; o += 4096) {
          const [x, y] = [a.subarray(o, o + 4096), b.subarray(o, o + 4096)];
          if (!x.equals(y)) bad.push(`${o}${y.every((v) => v === 0) ? '(zeros)' : ''}`);
        }
        lines.push(`  against ${src}: ${bad.length ? `pages differ at ${bad.join(' ')}` : 'equal'}`);
      }
    }
    rig.trace(lines.join('\n'));
  }
}

function findSource(root: string, name: string): string | undefined {
  for (const d of readdirSync(join(root, 'src'))) if (existsSync(join(root, 'src', d, name))) return join(root, 'src', d, name);
  return undefined;
}
