// Issue 43 item 6: every torrent libtorrent opens, Cascade opens the same way. libtorrent's own
// edge corpus (fixtures/lt-corpus, 108 files from its test/test_torrents) goes through Cascade's
// parser and through python3-libtorrent (lt_corpus.py, one process for all of them); for each file
// the verdict must agree (both open or both refuse) and, opened, the infohashes, the name and every
// file's sanitized path, size, BEP 47 flags and symlink target. The table (same / both refuse /
// differ) is printed as the test's diagnostic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bencode, parseTorrent, type Metainfo } from '../index.ts';

const DIR = fileURLToPath(new URL('./fixtures/lt-corpus/', import.meta.url));
const LT_CORPUS = fileURLToPath(new URL('./lt_corpus.py', import.meta.url));

interface LtFile { path: string; size: number; flags: string[]; target?: string }
type Verdict =
  | { ok: false; error: string }
  | { ok: true; v1: string | null; v2: string | null; name: string; size: number; files: LtFile[] };

function libtorrent(dir: string, files: string[]): Map<string, Verdict> {
  const run = spawnSync('/usr/bin/python3', [LT_CORPUS, ...files], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
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
function cascade(dir: string, file: string): Verdict {
  let meta: Metainfo;
  try {
    meta = parseTorrent(fs.readFileSync(path.join(dir, file)));
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

/** Every .torrent of `dir` read by both: same, both refuse, known difference, or differ. */
function compare(dir: string) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.torrent')).sort();
  const theirs = libtorrent(dir, files);
  const rows = { same: [] as string[], bothRefuse: [] as string[], known: [] as string[], differ: [] as string[] };
  for (const file of files) {
    const lt = theirs.get(file);
    assert.ok(lt, `libtorrent read ${file}`);
    const ours = cascade(dir, file);
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
  return { files, rows };
}

test("libtorrent's torrent corpus: Cascade opens what libtorrent opens, the same way, and refuses the rest", (t) => {
  const { files, rows } = compare(DIR);
  assert.ok(files.length >= 100, `the corpus is there (${files.length} files)`);
  t.diagnostic(`corpus of ${files.length}: same ${rows.same.length}, both refuse ${rows.bothRefuse.length}, differ ${rows.known.length + rows.differ.length} (${rows.known.length} known)`);
  for (const d of rows.known) t.diagnostic(`differs, known: ${d}`);
  for (const d of rows.differ) t.diagnostic(`differs: ${d}`);
  assert.deepEqual(rows.differ, []);
  // A known difference that went away is news too: the list must be kept true.
  assert.equal(rows.known.length, Object.keys(KNOWN).length, 'every known difference still differs');
});

// More edge cases of the same kind, made here: each rule where the corpus has one example or
// none, against libtorrent itself.
test('made edge cases: names, duplicates, links and attributes read as libtorrent reads them', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cascade-corpus-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const v1 = (files: unknown[], name: unknown = 'n') => {
    const total = (files as { length?: number; attr?: string }[]).reduce((n, f) => n + (f.attr?.includes('l') ? 0 : f.length ?? 0), 0);
    return bencode({ info: { name, 'piece length': 16384, pieces: new Uint8Array(20 * Math.max(1, Math.ceil(total / 16384))), files } });
  };
  const f = (p: (string | Buffer)[], length = 5, more: Record<string, unknown> = {}) => ({ length, path: p, ...more });
  const root = () => randomBytes(32);
  const v2 = (tree: Record<string, unknown>) => bencode({ info: { name: 'n', 'piece length': 16384, 'meta version': 2, 'file tree': tree } });
  const leaf = (more: Record<string, unknown> = {}) => ({ '': { length: 100, 'pieces root': root(), ...more } });
  const cases: Record<string, Uint8Array> = {
    'case-duplicates': v1([f(['Readme.TXT']), f(['readme.txt']), f(['README.txt'])]),
    'file-then-folder': v1([f(['a']), f(['a', 'b']), f(['A', 'c'])]),
    'renamed-into-taken': v1([f(['x.txt']), f(['x.1.txt']), f(['x.txt'])]),
    'dots-and-empties': v1([f(['.', '..', '', 'x']), f(['...']), f(['a.']), f(['.a'])]),
    'control-and-bidi': v1([f(['tab\there']), f(['rtl\u202eexe.txt']), f(['nul\0x'])]),
    'invalid-utf8': v1([f([bytes('a', [0xe2], 'bc')]), f([bytes([0xc0, 0x80], 'x')]), f([bytes('z', [0xf8, 0x88, 0x80, 0x80, 0x80], 'y')]), f([bytes([0xed, 0xa0, 0x80])])]),
    'long-names': v1([f(['é'.repeat(200) + '.mkv']), f(['x'.repeat(300)]), f(['y'.repeat(250) + '.tar.gz'])]),
    'name-cleaned': v1([f(['x'])], bytes('a/', [0xff], '/b')),
    'name-empty': v1([f(['x'])], ''),
    'pads-named-alike': v1([f(['a'], 100), f(['.pad', '7'], 7, { attr: 'p' }), f(['b'], 100), f(['.pad', '7'], 9, { attr: 'p' }), f(['c'], 1), f(['_____padding_file_1'], 3)]),
    'link-chain': v1([
      f(['Versions', 'A', 'lib.so'], 50),
      f(['Versions', 'Current'], 0, { attr: 'l', 'symlink path': ['A'] }),
      f(['lib.so'], 0, { attr: 'lx', 'symlink path': ['Versions', 'Current', 'lib.so'] }),
      f(['loop'], 0, { attr: 'l', 'symlink path': ['loop', 'x'] }),
      f(['nowhere'], 0, { attr: 'l', 'symlink path': ['Versions', 'B', 'lib.so'] }),
      f(['hidden'], 5, { attr: 'h' }),
    ]),
    'v2-case-duplicates': v2({ 'A.txt': leaf(), 'a.txt': leaf(), b: { '..': leaf(), '/x': leaf() } }),
    'v2-attributes': v2({ bin: { run: leaf({ attr: 'x' }), link: { '': { attr: 'l', length: 0, 'symlink path': ['bin', 'run'] } } }, '.note': leaf({ attr: 'h' }) }),
  };
  for (const [name, b] of Object.entries(cases)) fs.writeFileSync(path.join(dir, `${name}.torrent`), b);
  const { rows } = compare(dir);
  t.diagnostic(`made cases: same ${rows.same.length}, both refuse ${rows.bothRefuse.length}, differ ${rows.differ.length}`);
  for (const d of rows.differ) t.diagnostic(`differs: ${d}`);
  assert.deepEqual(rows.differ, []);
  assert.equal(rows.same.length, Object.keys(cases).length, 'every one opens, the same way');
});
