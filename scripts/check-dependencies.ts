// The package graph's check (issue 41): dependency-cruiser with .dependency-cruiser.cjs (relative
// imports across packages, cycles, node:* in the engine core, arrows up the layers), violations
// already listed in .dependency-cruiser-known-violations.json ignored, then with
// .dependency-cruiser-declared.cjs (every imported package declared), and no package but the engine
// past MAX_PACKAGE_LINES of source (issue 64). Exits 1 on any violation.
//   node scripts/check-dependencies.ts [--root DIR]   (DIR holds packages/; default: this repo)
//   node scripts/check-dependencies.ts --baseline    rewrites the known list (after fixing some)
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'node_modules', 'dependency-cruiser', 'bin');
const KNOWN = join(REPO, '.dependency-cruiser-known-violations.json');

/** A package's size past which growth is a decision, not a drift (issue 64): split it or raise this on purpose. */
export const MAX_PACKAGE_LINES = 12_000;
/** The engine is the product's core and one bounded part however large: it is exempt. */
const SIZE_EXEMPT = new Set(['engine']);

/** Lines of each package's own source: .ts/.tsx/.js outside its tests, node_modules, builds and native code. */
export function packageLines(root = REPO): Map<string, number> {
  const out = new Map<string, number>();
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    if (!existsSync(join(root, 'packages', dir, 'package.json'))) continue;
    const files = globSync('**/*.{ts,tsx,js,mjs,cjs}', {
      cwd: join(root, 'packages', dir),
      exclude: (f: string) => /^(test|node_modules|dist|build|native)$/.test(f),
    });
    let lines = 0;
    for (const f of files) lines += readFileSync(join(root, 'packages', dir, f), 'utf8').split('\n').length - 1;
    out.set(dir, lines);
  }
  return out;
}

/** The packages past MAX_PACKAGE_LINES, as report lines. */
export function oversizedPackages(root = REPO): string[] {
  return [...packageLines(root)]
    .filter(([dir, lines]) => lines > MAX_PACKAGE_LINES && !SIZE_EXEMPT.has(dir))
    .map(([dir, lines]) => `package-size: packages/${dir} has ${lines} lines of source (more than ${MAX_PACKAGE_LINES}): give a part of it a package of its own`);
}

/** One pass of dependency-cruiser over `root`'s packages with `config`, in this process: the module
 *  loads once for every check a test makes (each was two processes of ~1 CPU-s to start). */
async function cruisePackages(root: string, config: string, knownViolations?: unknown): Promise<{ ok: boolean; text: string }> {
  const { cruise } = await import('dependency-cruiser');
  const { default: extractOptions } = await import('dependency-cruiser/config-utl/extract-depcruise-options');
  const options = await extractOptions(join(REPO, config));
  const r = await cruise(['packages'], { ...options, outputType: 'err', baseDir: root, ...(knownViolations ? { knownViolations } : {}) } as never);
  return { ok: r.exitCode === 0, text: typeof r.output === 'string' ? r.output : JSON.stringify(r.output) };
}

export async function checkDependencies(root = REPO): Promise<{ ok: boolean; report: string }> {
  const known = root === REPO && existsSync(KNOWN) ? JSON.parse(readFileSync(KNOWN, 'utf8')) : undefined;
  const graph = await cruisePackages(root, '.dependency-cruiser.cjs', known);
  const declared = await cruisePackages(root, '.dependency-cruiser-declared.cjs');
  const oversized = oversizedPackages(root);
  return {
    ok: graph.ok && declared.ok && oversized.length === 0,
    report: [graph.text.trim(), declared.text.trim(), ...oversized].filter((x) => x !== '').join('\n'),
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args.includes('--baseline')) {
    const r = spawnSync(process.execPath, [join(BIN, 'depcruise-baseline.mjs'), 'packages', '--config', join(REPO, '.dependency-cruiser.cjs'), '--output-to', KNOWN], { cwd: REPO, stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const at = args.indexOf('--root');
  const { ok, report } = await checkDependencies(at >= 0 ? args[at + 1] : REPO);
  console.log(report);
  process.exit(ok ? 0 : 1);
}
