// Builds a package's Node-API addon (one C file) with the system's C compiler, for the packages'
// install scripts (packages/tracker/native/build.js, packages/private-shares/native/build.js).
// Linux only. Where it cannot build (another system, no compiler, no Node headers) it says so and
// exits 0: each addon's loader falls back to plain Node.
// Plain JavaScript: npm may run it with any Node, which need not strip types.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname ?? dirname(new URL(import.meta.url).pathname), '..');

/**
 * @param {{ pkg: string, source: string, out: string, fallback: string, headers?: string[], ldflags?: string[] }} o
 *   pkg: the package's name for the messages; source and out: paths of the C file and the .node;
 *   fallback: what is used where it is not built; headers: Node headers the file includes
 *   (node_api.h always); ldflags: extra linker flags.
 */
export function buildAddon(o) {
  const skip = (why) => {
    const fallback = existsSync(o.out) ? `the earlier build stays in ${o.out}` : o.fallback;
    process.stdout.write(`${o.pkg}: ${o.source.split('/').pop()} not built (${why}); ${fallback}\n`);
    process.exit(0);
  };
  if (process.platform !== 'linux') skip(`needs Linux, this is ${process.platform}`);
  // Node-API is stable across Node versions: any Node's headers will do.
  const execDir = dirname(realpathSync(process.execPath));
  const candidates = [
    join(ROOT, 'node_modules/node/node_modules', `node-linux-${process.arch}`, 'include/node'),
    join(execDir, '../include/node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  const headers = ['node_api.h', ...(o.headers ?? [])];
  const include = candidates.find((d) => headers.every((h) => existsSync(join(d, h))));
  if (!include) skip(`no Node headers (${headers.join(', ')}) found`);
  const cc = process.env.CC || 'cc';
  const tmp = `${o.out}.${process.pid}`;
  const name = o.source.split('/').pop().replace(/\.c$/, '').replace(/-/g, '_');
  try {
    mkdirSync(dirname(o.out), { recursive: true });
    // Undefined napi_* (and uv_*, OpenSSL) symbols are the running node's own: resolved when it loads the file.
    execFileSync(cc, ['-O2', '-Wall', '-shared', '-fPIC', '-DNAPI_VERSION=8', `-DNODE_GYP_MODULE_NAME=${name}`, `-I${include}`, '-o', tmp, o.source, ...(o.ldflags ?? [])], { stdio: ['ignore', 'inherit', 'inherit'] });
    // Renamed into place: a process running the old build keeps its own copy mapped.
    renameSync(tmp, o.out);
  } catch (err) {
    skip(`${cc} failed: ${err.message.split('\n')[0]}`);
  }
  process.stdout.write(`${o.pkg}: built ${o.out}\n`);
}
