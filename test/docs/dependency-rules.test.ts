// The package graph's rules (.dependency-cruiser.cjs, issue 41) hold on the repository, and each
// rule really fails: on a small tree of packages made in a temp dir, a relative import into another
// package, an undeclared package, a cycle, node:* in the engine's core (directly or through a file),
// and an arrow up the layers are each reported by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkDependencies } from '../../scripts/check-dependencies.ts';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'check-dependencies.ts');

/** The check on a planted tree, in this process (as `node scripts/check-dependencies.ts --root DIR`
 *  does it: exit status 1 on a violation). */
async function cruise(root: string): Promise<{ status: number; out: string }> {
  const r = await checkDependencies(root);
  return { status: r.ok ? 0 : 1, out: r.report };
}

test('the repository keeps the rules (no violation beyond the known list, which only shrinks); the command says so', () => {
  // The command itself, once: its exit status is what CI and people read.
  const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

/** A tree of packages: files by path, each package with a package.json, linked in node_modules. */
function tree(t: { after(fn: () => void): void }, files: Record<string, string>, deps: Record<string, string[]> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-deps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pkgs = new Set(Object.keys(files).map((f) => f.split('/')[1]!));
  for (const p of pkgs) {
    const dependencies = Object.fromEntries((deps[p] ?? []).map((d) => [`@cascade/${d}`, '*']));
    mkdirSync(join(dir, 'packages', p), { recursive: true });
    writeFileSync(join(dir, 'packages', p, 'package.json'), JSON.stringify({ name: `@cascade/${p}`, type: 'module', exports: { '.': './index.ts' }, dependencies }));
    mkdirSync(join(dir, 'node_modules', '@cascade'), { recursive: true });
    symlinkSync(join('..', '..', 'packages', p), join(dir, 'node_modules', '@cascade', p));
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'planted', private: true, type: 'module', workspaces: ['packages/*'] }));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

const clean = {
  'packages/engine/index.ts': "export { one } from './src/one.ts';\n",
  'packages/engine/src/one.ts': 'export const one = 1;\n',
  'packages/content/index.ts': "import { one } from '@cascade/engine';\nexport const two = one + 1;\n",
};

test('a clean tree passes', async (t) => {
  const r = await cruise(tree(t, clean, { content: ['engine'] }));
  assert.equal(r.status, 0, r.out);
});

test('a relative import into another package fails', async (t) => {
  const r = await cruise(tree(t, { ...clean, 'packages/content/src/bad.ts': "import { one } from '../../engine/src/one.ts';\nexport const bad = one;\n" }, { content: ['engine'] }));
  assert.notEqual(r.status, 0);
  assert.match(r.out, /no-relative-import-across-packages: packages\/content\/src\/bad\.ts → packages\/engine\/src\/one\.ts/);
});

test('an import of a package the importer does not declare fails', async (t) => {
  const r = await cruise(tree(t, clean));
  assert.notEqual(r.status, 0);
  assert.match(r.out, /no-undeclared-dependency: packages\/content\/index\.ts → node_modules\/@cascade\/engine/);
});

test('an import cycle fails, type imports included', async (t) => {
  const r = await cruise(tree(t, {
    ...clean,
    'packages/content/src/a.ts': "import type { B } from './b.ts';\nexport interface A { b?: B }\n",
    'packages/content/src/b.ts': "import type { A } from './a.ts';\nexport interface B { a?: A }\n",
  }, { content: ['engine'] }));
  assert.notEqual(r.status, 0);
  assert.match(r.out, /no-cycle: packages\/content\/src\/(a|b)\.ts/);
});

test('node:* in the engine core fails, directly or through a Node adapter', async (t) => {
  const r = await cruise(tree(t, {
    ...clean,
    'packages/engine/src/direct.ts': "import { createHash } from 'node:crypto';\nexport const h = createHash;\n",
    'packages/engine/src/node/disk.ts': "import { readFile } from 'node:fs/promises';\nexport const read = readFile;\n",
    'packages/engine/src/indirect.ts': "import { read } from './node/disk.ts';\nexport const r = read;\n",
  }, { content: ['engine'] }));
  assert.notEqual(r.status, 0);
  assert.match(r.out, /engine-core-without-node: packages\/engine\/src\/direct\.ts → (node:)?crypto/);
  assert.match(r.out, /engine-core-never-reaches-node-code: packages\/engine\/src\/indirect\.ts/);
});

test('an arrow up the layers fails: the engine importing a feature, a feature importing the node, the node importing HTTP', async (t) => {
  const r = await cruise(tree(t, {
    ...clean,
    'packages/engine/src/up.ts': "import { two } from '@cascade/content';\nexport const up = two;\n",
    'packages/node/index.ts': "import { h } from '@cascade/http';\nexport const node = h;\n",
    'packages/http/index.ts': 'export const h = 1;\n',
    'packages/sources/index.ts': "import { node } from '@cascade/node';\nexport const s = node;\n",
  }, { content: ['engine'], engine: ['content'], node: ['http'], sources: ['node'] }));
  assert.notEqual(r.status, 0);
  assert.match(r.out, /engine-and-identity-import-no-package-of-ours: packages\/engine\/src\/up\.ts/);
  assert.match(r.out, /features-do-not-import-the-node: packages\/sources\/index\.ts/);
  assert.match(r.out, /the-node-does-not-import-http-or-cli: packages\/node\/index\.ts/);
});

test('a package above the node (ABOVE_NODE: rss) may import it; the node may not import it, nor it HTTP, nor a feature it', async (t) => {
  const above = {
    ...clean,
    'packages/node/index.ts': "export const node = 1;\n",
    'packages/http/index.ts': 'export const h = 1;\n',
    'packages/rss/index.ts': "import { node } from '@cascade/node';\nexport const rss = node;\n",
  };
  const ok = await cruise(tree(t, above, { content: ['engine'], rss: ['node'] }));
  assert.equal(ok.status, 0, ok.out);
  const bad = await cruise(tree(t, {
    ...above,
    'packages/node/src/down.ts': "import { rss } from '@cascade/rss';\nexport const down = rss;\n",
    'packages/rss/src/up.ts': "import { h } from '@cascade/http';\nexport const up = h;\n",
    'packages/content/src/up.ts': "import { rss } from '@cascade/rss';\nexport const up = rss;\n",
  }, { content: ['engine', 'rss'], node: ['rss'], rss: ['node', 'http'] }));
  assert.notEqual(bad.status, 0);
  assert.match(bad.out, /the-node-does-not-import-what-sits-above-it: packages\/node\/src\/down\.ts/);
  assert.match(bad.out, /above-the-node-not-its-doors: packages\/rss\/src\/up\.ts/);
  assert.match(bad.out, /features-do-not-import-the-node: packages\/content\/src\/up\.ts/);
});

test('@cascade/shapes sits under everything: the engine may import it, it imports nothing', async (t) => {
  const shapes = { 'packages/shapes/index.ts': "export type { Row } from './src/row.ts';\n", 'packages/shapes/src/row.ts': 'export interface Row { id: string }\n' };
  const ok = await cruise(tree(t, {
    ...clean,
    ...shapes,
    'packages/engine/src/row.ts': "import type { Row } from '@cascade/shapes';\nexport const row: Row = { id: 'a' };\n",
  }, { content: ['engine'], engine: ['shapes'] }));
  assert.equal(ok.status, 0, ok.out);
  const bad = await cruise(tree(t, {
    ...clean,
    ...shapes,
    'packages/shapes/src/up.ts': "import type { two } from '@cascade/content';\nexport type Up = typeof two;\n",
  }, { content: ['engine'], shapes: ['content'] }));
  assert.notEqual(bad.status, 0);
  assert.match(bad.out, /shapes-import-nothing: packages\/shapes\/src\/up\.ts/);
});

test('a package other than the engine past 12,000 lines of source fails; its tests do not count; the engine is exempt', async (t) => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n';
  // content's index.ts has 2 lines: 11,998 more make 12,000 (allowed), 11,999 more 12,001.
  const at = await cruise(tree(t, { ...clean, 'packages/content/src/big.ts': lines(11_998), 'packages/content/test/huge.test.ts': lines(20_000) }, { content: ['engine'] }));
  assert.equal(at.status, 0, `exactly 12,000 lines of source (and 20,000 of tests) pass: ${at.out}`);
  const over = await cruise(tree(t, { ...clean, 'packages/content/src/big.ts': lines(11_999), 'packages/engine/src/big.ts': lines(13_000) }, { content: ['engine'] }));
  assert.notEqual(over.status, 0);
  assert.match(over.out, /package-size: packages\/content has 12001 lines of source \(more than 12000\)/);
  assert.doesNotMatch(over.out, /packages\/engine has/, 'the engine is exempt');
});
