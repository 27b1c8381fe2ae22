// bench/soak/heap-diff.ts on two real heap snapshots of a small Node process, taken before and after
// a store of its (`LeakyStore`, a Map of strings behind a private field, held by `Holder.store`)
// grows: the tool must name that store, and the field that holds it, as what grew most, both by the
// size charged to its nearest named-class owner (section 2) and by the objects new in the later
// snapshot (section 3). A second store that grows less (`QuietStore`) must rank below it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TOOL = join(import.meta.dirname, '..', '..', 'bench', 'soak', 'heap-diff.ts');

const CHILD = `
import { writeHeapSnapshot } from 'node:v8';
class LeakyStore { #entries = new Map(); put(k, v) { this.#entries.set(k, v); } }
class QuietStore { items = []; }
class Holder { store = new LeakyStore(); quiet = new QuietStore(); }
const holder = (globalThis.holder = new Holder());
writeHeapSnapshot(process.argv[1] + '/a.heapsnapshot');
for (let i = 0; i < 20000; i++) holder.store.put('key ' + i, String(i).padStart(200, 'x'));
for (let i = 0; i < 2000; i++) holder.quiet.items.push({ i });
writeHeapSnapshot(process.argv[1] + '/b.heapsnapshot');
`;

/** The rows of the section whose heading starts with `n.`. */
function section(out: string, n: number): string[] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${n}. `));
  assert.ok(start >= 0, `no section ${n} in:\n${out}`);
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

test('heap-diff names the store that grew, and the field holding it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-heap-diff-'));
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', CHILD, dir], { stdio: 'inherit' });
    const out = execFileSync(process.execPath, [TOOL, join(dir, 'a.heapsnapshot'), join(dir, 'b.heapsnapshot')], { encoding: 'utf8' });

    const charged = section(out, 2);
    assert.match(charged[0]!, /^\s+\+[\d.]+ MB .* 1 → 1 +LeakyStore via Holder\.store$/, out);
    const quiet = charged.findIndex((l) => l.endsWith('QuietStore via Holder.quiet'));
    assert.ok(quiet > 0, `QuietStore below LeakyStore:\n${out}`);

    const added = section(out, 3);
    assert.match(added[0]!, /^\s+[\d.]+ MB +\d+ objects, mostly \(string\) +LeakyStore via Holder\.store › #entries\.table\[\]$/, out);
    assert.ok(added.findIndex((l) => l.includes('QuietStore via Holder.quiet › items')) > 0, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
