// Issue 43 item 6: every torrent libtorrent opens, Cascade opens the same way. libtorrent's own
// edge corpus (fixtures/lt-corpus, 108 files from its test/test_torrents) goes through Cascade's
// parser and through python3-libtorrent (lt_corpus.py, one process for all of them); for each file
// the verdict must agree (both open or both refuse) and, opened, the infohashes, the name and every
// file's sanitized path, size, BEP 47 flags and symlink target. The table (same / both refuse /
// differ) is printed as the test's diagnostic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTorrent, type Metainfo } from '../index.ts';

const DIR = fileURLToPath(new URL('./fixtures/lt-corpus/', import.meta.url));
const LT_CORPUS = fileURLToPath(new URL('./lt_corpus.py', import.meta.url));

interface LtFile { path: string; size: number; flags: string[]; target?: string }
type Verdict =
  | { ok: false; error: string }
  | { ok: true; v1: string | null; v2: string | null; name: string; size: number; files: LtFile[] };

function libtorrent(files: string[]): Map<string, Verdict> {
  const run = spawnSync('/usr/bin/python3', [LT_CORPUS, ...files], { cwd: DIR, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr);
  const out = new Map<string, Verdict>();
  for (const line of run.stdout.split('\n')) {
    if (!line) continue;
    const v = JSON.parse(line) as Verdict & { file: string };
    out.set(v.file, v);
  }
  return out;
}

/** Cascade's reading in libtorrent's terms: paths joined under the name as file_storage lists them. */
function cascade(file: string): Verdict {
  let meta: Metainfo;
  try {
    meta = parseTorrent(fs.readFileSync(path.join(DIR, file)));
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const under = (p: readonly string[]) => (meta.multiFile ? [meta.name, ...p] : p).join('/');
  return {
    ok: true,
    v1: meta.version === 'v2' ? null : meta.infoHashHex,
    v2: meta.infoHashV2Hex ?? null,
    name: meta.name,
    size: meta.length,
    files: meta.files.map((f) => {
      const flags = [f.pad && 'pad', f.hidden && 'hidden', f.executable && 'executable', f.symlink && 'symlink'].filter((x): x is string => !!x);
      return { path: under(f.path), size: f.length, flags, ...(f.symlink ? { target: [meta.name, ...f.symlink].join('/') } : {}) };
    }),
  };
}

/** What differs between two openings, or undefined when they agree. */
function difference(lt: Verdict & { ok: true }, ours: Verdict & { ok: true }): string | undefined {
  // A pad file is never on disk, so where it is listed does not matter: libtorrent lists a pad
  // without a path (and a single v2 file's tail pad) outside the torrent's folder.
  const padPath = (v: Verdict & { ok: true }) => v.files.forEach((f) => {
    const at = f.path.indexOf('.pad/');
    if (f.flags.includes('pad') && at > 0) f.path = f.path.slice(at);
  });
  padPath(lt);
  padPath(ours);
  // libtorrent pads a lone v2 file to the piece boundary; Cascade lists no such pad (it only fills
  // the last piece, which the file's v2 hashes do not cover: the same bytes on disk and the wire).
  const last = lt.files[lt.files.length - 1];
  if (ours.v1 === null && ours.files.length === 1 && lt.files.length === 2 && last?.flags.includes('pad')) {
    lt.files.pop();
    lt.size -= last.size;
  }
  for (const key of ['v1', 'v2', 'name', 'size'] as const) {
    if (lt[key] !== ours[key]) return `${key}: libtorrent ${lt[key]}, Cascade ${ours[key]}`;
  }
  if (lt.files.length !== ours.files.length) {
    return `${lt.files.length} files in libtorrent, ${ours.files.length} in Cascade: ${JSON.stringify(lt.files.map((f) => f.path))} vs ${JSON.stringify(ours.files.map((f) => f.path))}`;
  }
  for (let i = 0; i < lt.files.length; i++) {
    const a = JSON.stringify(lt.files[i]);
    const b = JSON.stringify(ours.files[i]);
    if (a !== b) return `file ${i}: libtorrent ${a}, Cascade ${b}`;
  }
  return undefined;
}

/** Files both open where Cascade knowingly lists something else, and why. */
const KNOWN: Record<string, string> = {
  'v2_invalid_filename2.torrent':
    "a file tree key '\\' cleans to nothing, so libtorrent lists that file at the torrent folder's own path " +
    '("test", beside the folder of the same name, where no file can be); Cascade keeps every file inside ' +
    'the folder: "_", renamed "_.1" as another file took "_"',
};

test("libtorrent's torrent corpus: Cascade opens what libtorrent opens, the same way, and refuses the rest", (t) => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.torrent')).sort();
  assert.ok(files.length >= 100, `the corpus is there (${files.length} files)`);
  const theirs = libtorrent(files);
  const rows = { same: [] as string[], bothRefuse: [] as string[], known: [] as string[], differ: [] as string[] };
  for (const file of files) {
    const lt = theirs.get(file);
    assert.ok(lt, `libtorrent read ${file}`);
    const ours = cascade(file);
    if (!lt.ok && !ours.ok) {
      rows.bothRefuse.push(file);
      // A refusal says why, as libtorrent's does.
      assert.match(ours.error, /^invalid torrent: ./, file);
    } else if (lt.ok && ours.ok) {
      const why = difference(lt, ours);
      if (!why) rows.same.push(file);
      else if (KNOWN[file]) rows.known.push(`${file} — ${KNOWN[file]} (${why})`);
      else rows.differ.push(`${file} — ${why}`);
    } else {
      rows.differ.push(`${file} — ${lt.ok ? `libtorrent opens it, Cascade refuses: ${(ours as { error: string }).error}` : `libtorrent refuses (${lt.error}), Cascade opens it`}`);
    }
  }
  t.diagnostic(`corpus of ${files.length}: same ${rows.same.length}, both refuse ${rows.bothRefuse.length}, differ ${rows.known.length + rows.differ.length} (${rows.known.length} known)`);
  for (const d of rows.known) t.diagnostic(`differs, known: ${d}`);
  for (const d of rows.differ) t.diagnostic(`differs: ${d}`);
  assert.deepEqual(rows.differ, []);
  // A known difference that went away is news too: the list must be kept true.
  assert.equal(rows.known.length, Object.keys(KNOWN).length, 'every known difference still differs');
});
