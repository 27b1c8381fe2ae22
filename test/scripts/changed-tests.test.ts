// Issue 64: `npm run test:changed` runs the tests of the packages a change touches and of every
// package above them; `npm test -- packages/x` one package's (scripts/changed-tests.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { testFilesUnder, testsForChange } from '../../scripts/changed-tests.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const inPackage = (tests: string[], dir: string) => tests.filter((t) => t.startsWith(`packages/${dir}/`));

test('a change to a package runs its tests and those of the packages above it, not those below', () => {
  const web = testsForChange(['packages/web/src/app.tsx']);
  assert.equal(web.everything, false);
  assert.ok(web.packages.includes('web') && web.packages.includes('cli'), web.packages.join());
  assert.deepEqual(inPackage(web.tests, 'web'), testFilesUnder('packages/web'));
  assert.ok(inPackage(web.tests, 'cli').length > 0, 'the CLI serves the web app: its tests run');
  assert.deepEqual(inPackage(web.tests, 'engine'), [], 'the engine sits below the web app');

  const engine = testsForChange(['packages/engine/src/session.ts']);
  for (const above of ['node', 'http', 'cli', 'tracker']) assert.ok(inPackage(engine.tests, above).length > 0, `${above} stands on the engine`);
  assert.ok(engine.tests.some((t) => t.startsWith('test/interop/')), 'the interop tests drive the engine');
  assert.ok(engine.tests.length < testsForChange(['package.json']).tests.length, 'not quite everything');
});

test('a changed test file runs itself; a shared root file runs everything; docs run the docs checks', () => {
  assert.deepEqual(testsForChange(['test/link/link-emulator.test.ts']).tests, ['test/link/link-emulator.test.ts']);
  for (const f of ['package-lock.json', 'scripts/test.ts', 'tsconfig.json']) assert.equal(testsForChange([f]).everything, true, f);
  const docs = testsForChange(['docs/cluster.md']).tests;
  assert.ok(docs.includes('packages/cli/test/docs-commands.test.ts') && docs.some((t) => t.startsWith('test/docs/')), docs.join());
});

test('npm test -- <package folder> names the test files of that package; an empty folder is an error', () => {
  const files = testFilesUnder('packages/identity');
  assert.ok(files.length > 0 && files.every((f) => f.startsWith('packages/identity/test/') && f.endsWith('.test.ts')), files.join());
  // The runner refuses a folder with no tests (exit 2) before it installs or starts anything.
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/test.ts'), 'packages/no-such-package'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr + r.stdout);
  assert.match(r.stderr, /no test files in packages\/no-such-package/);
});
