// @cascade/shapes holds types only (issue 41): every file under packages/shapes declares interfaces
// and type aliases and re-exports them with `export type`, and nothing else (no const, enum, class,
// function or value import), so `import type` of it erases to nothing; each file opens with a
// one-line comment saying what it holds; the package exports one entry and has no dependencies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const DIR = join(import.meta.dirname, '..', '..', 'packages', 'shapes');
const files = globSync(['index.ts', 'src/**/*.ts'], { cwd: DIR }).sort();

test('every file of @cascade/shapes declares types only', () => {
  assert.ok(files.length > 1, 'no source files found');
  for (const f of files) {
    const text = readFileSync(join(DIR, f), 'utf8');
    const source = ts.createSourceFile(f, text, ts.ScriptTarget.Latest, true);
    for (const s of source.statements) {
      const at = `${f}:${source.getLineAndCharacterOfPosition(s.getStart()).line + 1}`;
      if (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) continue;
      if (ts.isExportDeclaration(s) && s.isTypeOnly) continue;
      if (ts.isImportDeclaration(s) && s.importClause?.isTypeOnly) {
        assert.match((s.moduleSpecifier as ts.StringLiteral).text, /^\.\.?\//, `${at}: shapes import nothing but their own files`);
        continue;
      }
      assert.fail(`${at}: only interfaces, type aliases and type-only imports and exports belong in @cascade/shapes (found ${ts.SyntaxKind[s.kind]})`);
    }
  }
});

test('every file of @cascade/shapes opens with a comment saying what it holds', () => {
  for (const f of files) {
    const first = readFileSync(join(DIR, f), 'utf8').split('\n')[0]!;
    assert.match(first, /^\/\/ \S/, `${f} opens with "${first}"`);
  }
});

test('@cascade/shapes exports one entry and depends on nothing', () => {
  const pkg = JSON.parse(readFileSync(join(DIR, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(pkg.exports, { '.': './index.ts' });
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.devDependencies, undefined);
});
