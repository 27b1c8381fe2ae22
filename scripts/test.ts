// `npm test`: makes sure the real BitTorrent clients the interop tests drive are installed
// (installing them with apt-get when running as root), then runs every test file with node:test.
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const SYSTEM_PACKAGES: { pkg: string; present: () => boolean }[] = [
  { pkg: 'python3-libtorrent', present: () => ok('/usr/bin/python3', ['-c', 'import libtorrent']) },
  { pkg: 'aria2', present: () => ok('aria2c', ['--version']) },
  { pkg: 'transmission-cli', present: () => ok('transmission-create', ['--help']) },
  { pkg: 'mktorrent', present: () => ok('mktorrent', ['-h']) },
];

function ok(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined && r.status !== 127;
}

const missing = SYSTEM_PACKAGES.filter((p) => !p.present()).map((p) => p.pkg);
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`missing system packages: ${missing.join(' ')} — install them (apt-get install ${missing.join(' ')}) or run as root`);
    process.exit(1);
  }
  console.log(`installing ${missing.join(' ')} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : globSync(['packages/*/test/**/*.test.ts', 'test/**/*.test.ts']).sort();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=180000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
