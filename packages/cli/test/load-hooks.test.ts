// The CLI's resolve hooks (src/core/load-hooks.ts): a workspace package's name reaches Node's own
// resolver once per process however many of our files import it, and resolves where Node puts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..', '..', '..');
const HOOKS = join(import.meta.dirname, '..', 'src', 'core', 'load-hooks.ts');
const FIXTURE = join(import.meta.dirname, 'fixtures', 'workspace-imports.ts');
// Registered before the CLI's hooks, so it runs after them: it sees what they pass on to Node.
const COUNTER = `data:text/javascript,${encodeURIComponent(`
  import { registerHooks } from 'node:module';
  const seen = [];
  registerHooks({ resolve(s, c, next) { if (s.startsWith('@cascade/')) seen.push(s); return next(s, c); } });
  process.on('exit', () => console.log(JSON.stringify({ seen })));
`)}`;

function run(withHooks: boolean): { resolved: Record<string, string>; seen: string[] } {
  const args = ['--import', COUNTER, ...(withHooks ? ['--import', pathToFileURL(HOOKS).href] : []), FIXTURE];
  const lines = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' } }).trim().split('\n');
  return { resolved: JSON.parse(lines[0]!), seen: JSON.parse(lines[1]!).seen };
}

test('a workspace package name is resolved by Node once, to the file Node resolves it to', () => {
  const plain = run(false);
  const hooked = run(true);
  const real = (rel: string) => pathToFileURL(realpathSync(join(root, rel))).href;
  assert.deepEqual(plain.resolved, { identity: real('packages/identity/index.ts'), syntax: real('packages/identity/src/keys/syntax.ts') });
  assert.deepEqual(hooked.resolved, plain.resolved, 'the same files');
  // Without the hooks each import (two files × two names) and each import.meta.resolve reaches Node.
  assert.ok(plain.seen.filter((s) => s === '@cascade/identity').length >= 3, JSON.stringify(plain.seen));
  assert.deepEqual([...hooked.seen].sort(), ['@cascade/identity', '@cascade/identity/syntax'], `each name once: ${JSON.stringify(hooked.seen)}`);
});
