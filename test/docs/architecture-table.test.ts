// docs/architecture.md's and README.md's package tables are generated from packages/*/package.json
// (scripts/architecture-table.ts): they must match the repository as committed, and a change to a
// package.json, or a new package, must make --check fail naming that package. The changes are made
// on a temporary copy of the files the script reads, never on the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(REPO, 'scripts/architecture-table.ts');

function script(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** A temporary root with README.md, docs/architecture.md and every packages/<dir>/package.json. */
function copyOfRepo(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'architecture-table-'));
  for (const file of ['README.md', 'docs/architecture.md']) cpSync(path.join(REPO, file), path.join(root, file));
  for (const dir of readdirSync(path.join(REPO, 'packages'))) {
    const file = path.join('packages', dir, 'package.json');
    if (existsSync(path.join(REPO, file))) cpSync(path.join(REPO, file), path.join(root, file));
  }
  return root;
}

function editPackage(root: string, dir: string, edit: (json: { description?: string; dependencies: Record<string, string> }) => void): void {
  const file = path.join(root, 'packages', dir, 'package.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
}

test('the tables in the repository are up to date', () => {
  const r = script('--check');
  assert.equal(r.status, 0, r.stderr);
});

test('a dependency added to a package.json makes --check fail naming the package; --write brings it back', (t) => {
  const root = copyOfRepo();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  editPackage(root, 'tracker', (json) => { json.dependencies['@cascade/chain'] = '*'; });

  const stale = script('--check', '--root', root);
  assert.equal(stale.status, 1);
  assert.match(stale.stderr, /docs\/architecture\.md: the package table is stale in the rows of tracker /);
  assert.match(stale.stderr, /\+ \| `tracker` \| .* \| chain, engine, identity, onion, reachability, shapes, ioredis, ws \|/);
  assert.doesNotMatch(stale.stderr, /README\.md/, 'the README shows no dependencies');

  assert.equal(script('--write', '--root', root).status, 0);
  assert.equal(script('--check', '--root', root).status, 0);
});

test('a new package directory is all it takes to get a row in both tables', (t) => {
  const root = copyOfRepo();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'packages/gateway'));
  const json = { name: '@cascade/gateway', description: 'The HTTP side of a node. More here.', dependencies: { fastify: '^5', '@cascade/engine': '*' } };
  writeFileSync(path.join(root, 'packages/gateway/package.json'), JSON.stringify(json));

  const stale = script('--check', '--root', root);
  assert.equal(stale.status, 1);
  assert.match(stale.stderr, /docs\/architecture\.md: the package table is stale in the rows of gateway /);
  assert.match(stale.stderr, /README\.md: the package table is stale in the rows of gateway /);

  assert.equal(script('--write', '--root', root).status, 0);
  assert.equal(script('--check', '--root', root).status, 0);
  const architecture = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
  assert.match(architecture, /\n\| `gateway` \| The HTTP side of a node\. More here\. \| engine, fastify \|\n/);
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  assert.match(readme, /\n\| `packages\/gateway` \| The HTTP side of a node \|\n/);
});

test('a package.json without a description is refused, by name', (t) => {
  const root = copyOfRepo();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  editPackage(root, 'chat', (json) => { delete json.description; });
  for (const mode of ['--check', '--write']) {
    const r = script(mode, '--root', root);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /packages\/chat\/package\.json has no "description"/);
  }
});
