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
  process.stdout.write(`@cascade/tracker: batched UDP not built (${why}); the tracker uses node:dgram\n`);
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
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}`;
try {
  // Undefined napi_* and uv_* symbols are the running node's own: resolved when it loads the file.
  execFileSync(cc, ['-O2', '-Wall', '-shared', '-fPIC', '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=udp_mmsg', `-I${include}`, '-o', tmp, join(here, 'udp-mmsg.c')], { stdio: ['ignore', 'inherit', 'inherit'] });
} catch (err) {
  skip(`${cc} failed: ${err.message.split('\n')[0]}`);
}
renameSync(tmp, out);
process.stdout.write(`@cascade/tracker: built ${out}\n`);
