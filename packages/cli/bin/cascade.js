#!/bin/sh
':' //; f=$(readlink -f -- "$0" 2>/dev/null) || f=$0; d=${f%/*}; while [ "$d" != "${d%/*}" ]; do [ -x "$d/node_modules/node/bin/node" ] && exec env GLIBC_TUNABLES=glibc.malloc.arena_max=2 "$d/node_modules/node/bin/node" --max-semi-space-size=8 --no-memory-reducer "$f" "$@"; d=${d%/*}; done; exec env GLIBC_TUNABLES=glibc.malloc.arena_max=2 node --max-semi-space-size=8 --no-memory-reducer "$f" "$@"
// Launcher: a file that is both a shell script (its first two lines) and JavaScript (to which the
// second line is a string and a comment). The shell part starts the Node 24 the project pins (the
// `node` devDependency, found in a node_modules above this file) when there is one, else whatever
// `node` is on PATH, with the flags and environment below: started through the shell, a `cascade`
// on a machine whose own Node is older (Node 20 here) no longer pays for starting that Node only to
// start Node 24 from it (~0.12 CPU-s and ~0.1 s per command, issue 40). (npm on Windows would need
// a sh for this link; Cascade runs on Linux and macOS.)
// --max-semi-space-size=8 bounds V8's young generation to 2 × 8 MB: left alone, V8 grows it to
// 2 × 64 MB while a node takes in thousands of torrents and keeps it, some 50 MB of a node's
// memory for nothing (issue 25: a node with 10,000 torrents in ≤ 300 MB); adds are no slower.
// --no-memory-reducer: the node gives back a burst's garbage itself, once, when it is quiet again
// (node/src/core/memory-reducer.ts); V8's own reducer would follow with two more full collections.
// GLIBC_TUNABLES=glibc.malloc.arena_max=2: glibc gives each thread that allocates (V8's helpers,
// libuv's pool) an arena of its own, and what a burst (10,000 adds, a restart) leaves in them stays
// resident: two arenas hold a node with 10,000 torrents at ~260 MB instead of ~290 MB (issue 25).
// Other C libraries ignore it.
// Cascade's sources are TypeScript that Node 24 runs directly (type stripping). Without the pinned
// Node, or started as `node cascade.js`, the `node` that runs it may be older (Node 20 here), so this
// file stays plain JavaScript that any Node can parse: on an older Node it runs itself again
// on the Node 24 the project pins (the `node` devDependency), or says what to do.
import { existsSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import path from 'node:path';

const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);

if (major >= REQUIRED_MAJOR) {
  delete process.env.CASCADE_RELAUNCHED; // so a cascade this one starts may relaunch itself too
  // Node's compile cache, on before any TypeScript loads: from the second run on the sources load
  // already stripped and compiled, so Node's type stripper (a WebAssembly module whose memory never
  // shrinks) is not even loaded. `cascade list` starts faster and `cascade serve` holds some 20 MB
  // less. The cache lives in the OS temp dir (NODE_COMPILE_CACHE moves it, NODE_DISABLE_COMPILE_CACHE=1
  // turns it off) and Node checks each entry against its source, so an edited file is recompiled.
  module.enableCompileCache?.();
  // Node writes the cache at a clean exit; a node that is killed (a test's, a crash, an OOM kill, a
  // service manager's SIGKILL) never does, and its next start strips and compiles everything again
  // (10-18% of a start). Written once the start is over, too; the timer keeps nothing alive.
  setTimeout(() => module.flushCompileCache?.(), 5000).unref();
  // Relative imports resolved without a stat and a realpath each (why: its comment). main.ts imports
  // it too; imported here first, main.ts's own imports take the shortcut as well.
  await import('../src/core/load-hooks.ts');
  // runAndExit ends the process once the command is done (why: its comment in main.ts).
  const { runAndExit } = await import('../src/main.ts');
  await runAndExit(process.argv.slice(2));
} else {
  const pinned = pinnedNode();
  if (!pinned || process.env.CASCADE_RELAUNCHED) {
    process.stderr.write(
      `cascade needs Node ${REQUIRED_MAJOR} or newer; this is Node ${process.versions.node} (${process.execPath}).\n` +
        'Run `npm install` in the Cascade folder (it installs the pinned Node 24), then `npx cascade …` or `npm start`,\n' +
        `or install Node ${REQUIRED_MAJOR} and put it first on PATH.\n`,
    );
    process.exit(1);
  }
  // The launcher's Node flags (V8's heap settings) go along: execArgv holds them.
  // Imported here: node:child_process costs every other start ~4 ms of CPU for nothing.
  const { spawn } = await import('node:child_process');
  const child = spawn(pinned, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, CASCADE_RELAUNCHED: '1' },
  });
  // Ctrl-C reaches the child through the terminal's process group; a signal sent to this pid alone
  // (kill, a service manager) is passed on so the child can stop cleanly.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
  child.on('error', (err) => {
    process.stderr.write(`cannot start ${pinned}: ${err.message}\n`);
    process.exit(1);
  });
}

/** The `node` devDependency's binary, if installed and new enough to be worth trying. */
function pinnedNode() {
  try {
    const require = createRequire(import.meta.url);
    const pkgJson = require.resolve('node/package.json');
    const version = require(pkgJson).version;
    const bin = path.join(path.dirname(pkgJson), 'bin', 'node');
    return Number(String(version).split('.')[0]) >= REQUIRED_MAJOR && existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}
