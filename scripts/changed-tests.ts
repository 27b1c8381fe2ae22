// `npm run test:changed`: the test files a change can break, from the packages' own dependency graph
// (each packages/*/package.json's dependencies and devDependencies, as the architecture check reads
// them). A changed package brings its own tests and those of every package that depends on it,
// directly or not; a test under test/ comes when it names one of those packages (`@cascade/x` or a
// `packages/x/` path: the interop and attack tests run the CLI or a package's source by path). A
// change outside the packages that every test stands on (the root package.json and lock, tsconfig,
// scripts/) brings the whole suite. The change is what differs from `base` plus untracked files:
// by default the uncommitted change, or the last commit when nothing is uncommitted.
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
export const ALL_TESTS = ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'];

/** The test files under `dir` (a package or a folder of test/), or the file itself. */
export function testFilesUnder(path: string): string[] {
  if (path.endsWith('.test.ts')) return [path];
  const dir = path.replace(/\/+$/, '');
  const inPackage = /^packages\/[^/]+$/.test(dir) ? [`${dir}/test/**/*.test.ts`] : [`${dir}/**/*.test.ts`];
  return globSync(inPackage, { cwd: ROOT }).sort();
}

/** Each workspace package's directory name → the directory names of the packages that depend on it. */
function dependents(): Map<string, Set<string>> {
  const byName = new Map<string, string>();
  const deps = new Map<string, string[]>();
  for (const dir of readdirSync(join(ROOT, 'packages'))) {
    const file = join(ROOT, 'packages', dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; dependencies?: object; devDependencies?: object };
    byName.set(pkg.name, dir);
    deps.set(dir, [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
  }
  const out = new Map<string, Set<string>>();
  for (const [dir, names] of deps) {
    for (const name of names) {
      const dep = byName.get(name);
      if (dep === undefined) continue;
      if (!out.has(dep)) out.set(dep, new Set());
      out.get(dep)!.add(dir);
    }
  }
  return out;
}

/** The packages a change to `changed` can break: those and everything above them. */
export function affectedPackages(changed: Iterable<string>): Set<string> {
  const up = dependents();
  const seen = new Set<string>();
  const todo = [...changed];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    todo.push(...(up.get(p) ?? []));
  }
  return seen;
}

function git(args: string[]): string[] {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** The files a change touches: against `base` (a commit, `main`…), or the uncommitted change, or the last commit. */
export function changedFiles(base?: string): { base: string; files: string[] } {
  const untracked = git(['ls-files', '--others', '--exclude-standard']);
  if (base !== undefined) return { base, files: [...new Set([...git(['diff', '--name-only', base]), ...untracked])] };
  const uncommitted = [...git(['diff', '--name-only', 'HEAD']), ...untracked];
  if (uncommitted.length > 0) return { base: 'HEAD (the uncommitted change)', files: [...new Set(uncommitted)] };
  return { base: 'HEAD~1 (the last commit)', files: git(['diff', '--name-only', 'HEAD~1', 'HEAD']) };
}

/** Files that every test stands on: a change to one of them runs the whole suite. */
const EVERYTHING = /^(package\.json|package-lock\.json|tsconfig\.json|scripts\/|\.ci\/)/;

export function testsForChange(files: string[]): { packages: string[]; tests: string[]; everything: boolean } {
  if (files.some((f) => EVERYTHING.test(f))) return { packages: [], tests: globSync(ALL_TESTS, { cwd: ROOT }).sort(), everything: true };
  const touched = new Set(files.flatMap((f) => /^packages\/([^/]+)\//.exec(f)?.[1] ?? []));
  const affected = affectedPackages(touched);
  const tests = new Set<string>();
  for (const p of affected) for (const t of testFilesUnder(`packages/${p}`)) tests.add(t);
  // Tests under test/: those naming an affected package, those changed, and a changed helper's folder.
  for (const t of globSync('test/**/*.test.ts', { cwd: ROOT })) {
    const text = readFileSync(join(ROOT, t), 'utf8');
    const named = [...text.matchAll(/@cascade\/([a-z-]+)|packages\/([a-z-]+)\//g)].map((m) => m[1] ?? m[2]!);
    if (named.some((p) => affected.has(p))) tests.add(t);
  }
  for (const f of files) {
    if (!existsSync(join(ROOT, f))) continue;
    if (f.endsWith('.test.ts')) tests.add(f);
    else if (f.startsWith('test/')) for (const t of testFilesUnder(f.slice(0, f.lastIndexOf('/')))) tests.add(t);
    // The docs are checked against the CLI and the shapes (test/docs, packages/cli/test/docs-commands).
    else if (/\.md$/.test(f)) for (const t of [...testFilesUnder('test/docs'), 'packages/cli/test/docs-commands.test.ts']) tests.add(t);
  }
  return { packages: [...affected].sort(), tests: [...tests].filter((t) => existsSync(join(ROOT, t))).sort(), everything: false };
}
