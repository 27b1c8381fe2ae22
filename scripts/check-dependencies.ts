// The package graph's check (issue 41): dependency-cruiser with .dependency-cruiser.cjs (relative
// imports across packages, cycles, node:* in the engine core, arrows up the layers), violations
// already listed in .dependency-cruiser-known-violations.json ignored, then with
// .dependency-cruiser-declared.cjs (every imported package declared). Exits 1 on any violation.
//   node scripts/check-dependencies.ts [--root DIR]   (DIR holds packages/; default: this repo)
//   node scripts/check-dependencies.ts --baseline    rewrites the known list (after fixing some)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'node_modules', 'dependency-cruiser', 'bin');
const KNOWN = join(REPO, '.dependency-cruiser-known-violations.json');

export function checkDependencies(root = REPO): { ok: boolean; report: string } {
  const run = (config: string, extra: string[] = []) =>
    spawnSync(process.execPath, [join(BIN, 'dependency-cruiser.mjs'), 'packages', '--config', join(REPO, config), '--output-type', 'err', ...extra], {
      cwd: root,
      encoding: 'utf8',
      timeout: 300_000,
    });
  const known = root === REPO && existsSync(KNOWN) ? ['--ignore-known', KNOWN] : [];
  const graph = run('.dependency-cruiser.cjs', known);
  const declared = run('.dependency-cruiser-declared.cjs');
  return {
    ok: graph.status === 0 && declared.status === 0,
    report: [graph, declared].map((r) => `${r.stdout}${r.stderr}`.trim()).join('\n'),
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args.includes('--baseline')) {
    const r = spawnSync(process.execPath, [join(BIN, 'depcruise-baseline.mjs'), 'packages', '--config', join(REPO, '.dependency-cruiser.cjs'), '--output-to', KNOWN], { cwd: REPO, stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const at = args.indexOf('--root');
  const { ok, report } = checkDependencies(at >= 0 ? args[at + 1] : REPO);
  console.log(report);
  process.exit(ok ? 0 : 1);
}
