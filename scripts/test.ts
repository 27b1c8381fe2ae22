// `npm test`: makes sure the real BitTorrent clients the interop tests drive are installed
// (installing them with apt-get when running as root) and node-llama-cpp's CPU build for the
// --llm-gguf tests (`npm run install:llm`), then runs every test file with node:test.
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { missingPackages } from './system-packages.ts';
import { installLlm } from './install-llm.ts';

const missing = missingPackages();
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
  const still = missingPackages();
  if (still.length > 0) {
    console.error(`installed, but still not working: ${still.join(' ')} (see scripts/system-packages.ts for each probe)`);
    process.exit(1);
  }
}

// Once, here: test files run side by side and two npm installs into one folder would collide.
try {
  installLlm(undefined, (line) => console.log(line));
} catch (err) {
  console.error(`cannot install node-llama-cpp for the --llm-gguf tests: ${(err as Error).message}`);
  process.exit(1);
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : globSync(['packages/*/test/**/*.test.ts', 'test/**/*.test.ts']).sort();
// Browser tests run inside a network namespace with only `lo` up, so Chromium and WebRTC cannot
// reach anything but 127.0.0.1 (see ../shared/browser-webrtc.md).
const browserFiles = files.filter((f) => f.endsWith('.browser.test.ts'));
const plainFiles = files.filter((f) => !f.endsWith('.browser.test.ts'));
const nodeTest = (list: string[]) => [process.execPath, '--test', '--test-concurrency=2', '--test-timeout=180000', ...list];

let status = 0;
if (plainFiles.length > 0) status = spawnSync(nodeTest(plainFiles)[0]!, nodeTest(plainFiles).slice(1), { stdio: 'inherit' }).status ?? 1;
if (browserFiles.length > 0) status = runInNamespace(nodeTest(browserFiles)) || status;
process.exit(status);

function runInNamespace(cmd: string[]): number {
  if (process.getuid?.() !== 0) {
    console.error('browser tests need root to create a loopback-only network namespace (ip netns)');
    return 1;
  }
  const ns = `cascade-test-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { stdio: 'inherit' });
  if (add.status !== 0) return add.status ?? 1;
  try {
    spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'inherit' });
    return spawnSync('ip', ['netns', 'exec', ns, ...cmd], { stdio: 'inherit' }).status ?? 1;
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'inherit' });
  }
}
