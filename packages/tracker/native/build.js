#!/usr/bin/env node
// Builds udp-mmsg.node, the tracker's batched UDP socket (udp-mmsg.c), with the system's C
// compiler: `node packages/tracker/native/build.js`, also run by `npm install` (the package's
// install script). Linux only. Where it cannot build (another system, no compiler, no Node
// headers) it says so and exits 0: the tracker then answers UDP through node:dgram.
// Plain JavaScript: npm may run it with any Node, which need not strip types.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build', 'udp-mmsg.node');
const skip = (why) => {
  const fallback = existsSync(out) ? `the earlier build stays in ${out}` : 'the tracker uses node:dgram';
  process.stdout.write(`@cascade/tracker: batched UDP not built (${why}); ${fallback}\n`);
  process.exit(0);
};

if (process.platform !== 'linux') skip(`needs Linux, this is ${process.platform}`);
// Node-API is stable across Node versions: any Node's headers will do.
const execDir = dirname(realpathSync(process.execPath));
const candidates = [
  join(here, '../../../node_modules/node/node_modules', `node-linux-${process.arch}`, 'include/node'),
  join(execDir, '../include/node'),
  '/usr/include/node',
  '/usr/local/include/node',
];
const include = candidates.find((d) => existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));
if (!include) skip('no Node headers (node_api.h, uv.h) found');
const cc = process.env.CC || 'cc';
const tmp = `${out}.${process.pid}`;
try {
  mkdirSync(dirname(out), { recursive: true });
  // Undefined napi_* and uv_* symbols are the running node's own: resolved when it loads the file.
  execFileSync(cc, ['-O2', '-Wall', '-shared', '-fPIC', '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=udp_mmsg', `-I${include}`, '-o', tmp, join(here, 'udp-mmsg.c')], { stdio: ['ignore', 'inherit', 'inherit'] });
  // Renamed into place: a tracker running the old build keeps its own copy mapped.
  renameSync(tmp, out);
} catch (err) {
  skip(`${cc} failed: ${err.message.split('\n')[0]}`);
}
process.stdout.write(`@cascade/tracker: built ${out}\n`);
