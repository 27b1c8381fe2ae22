// `npm run install:llm`: node-llama-cpp for `cascade serve --llm-gguf`, trimmed to this machine's
// CPU build. It is not a dependency of the repo: `npm ci` would fetch its optional GPU builds too
// (CUDA, Vulkan: 725 MB in all on Linux x64), and most nodes never run a local model. Installed into
// .cache/llm (its own little project, so the workspace's lockfile is untouched); @cascade/assistant
// looks there when `import('node-llama-cpp')` finds nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LLM_CACHE_DIR } from '../packages/assistant/src/llm/local-llm.ts';

export const NODE_LLAMA_CPP_VERSION = '3.22.1';

/** The prebuilt binary package for this platform, when node-llama-cpp ships a CPU-only one. */
function cpuBuild(): string | undefined {
  const { platform, arch } = process;
  if (platform === 'linux' && (arch === 'x64' || arch === 'arm64')) return `@node-llama-cpp/linux-${arch}`;
  if (platform === 'darwin') return arch === 'arm64' ? '@node-llama-cpp/mac-arm64-metal' : '@node-llama-cpp/mac-x64';
  if (platform === 'win32' && arch === 'x64') return '@node-llama-cpp/win-x64';
  return undefined;
}

export function installedVersion(dir = LLM_CACHE_DIR): string | undefined {
  const pkg = join(dir, 'node_modules', 'node-llama-cpp', 'package.json');
  if (!existsSync(pkg)) return undefined;
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export function installLlm(dir = LLM_CACHE_DIR, log: (s: string) => void = console.log): void {
  const build = cpuBuild();
  if (installedVersion(dir) === NODE_LLAMA_CPP_VERSION && (build === undefined || existsSync(join(dir, 'node_modules', ...build.split('/'))))) {
    log(`node-llama-cpp ${NODE_LLAMA_CPP_VERSION} is already in ${dir}`);
    return;
  }
  mkdirSync(dir, { recursive: true });
  // Its own package.json makes this folder the project npm installs into, not the workspace above.
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'cascade-llm-runtime', private: true }, null, 2)}\n`);
  const pkgs = [`node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, ...(build ? [`${build}@${NODE_LLAMA_CPP_VERSION}`] : [])];
  log(`installing ${pkgs.join(' ')} into ${dir}${build ? ' (CPU build only)' : ''}…`);
  // --omit=optional drops the GPU builds (the CPU one is named explicitly); --ignore-scripts: its
  // postinstall only offers to download or build binaries, which the prebuilt package makes moot.
  execFileSync('npm', ['install', ...pkgs, ...(build ? ['--omit=optional'] : []), '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (installedVersion(dir) !== NODE_LLAMA_CPP_VERSION) throw new Error(`node-llama-cpp did not install into ${dir}`);
}

if (import.meta.main) {
  try {
    installLlm();
  } catch (err) {
    console.error(`install:llm failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
