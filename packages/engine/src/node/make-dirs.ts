// `mkdir -p` without `{ recursive: true }`: Node's recursive mkdir never returns for a path under
// /proc (it spins at full CPU retrying, Node 24), so a user's `-o /proc/nope` froze the process.
// Here each missing level is made on its own, and the first failure is the answer.
import fs from 'node:fs';
import path from 'node:path';

function notADirectory(p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${p}'`), { code: 'ENOTDIR', path: p });
}

/** The missing directories from `dir` up to its deepest existing ancestor, shallowest first. */
function missingLevels(dir: string, exists: (p: string) => boolean | undefined): string[] {
  const missing: string[] = [];
  let p = path.resolve(dir);
  for (;;) {
    const found = exists(p);
    if (found === true) break;
    if (found === false) throw notADirectory(p);
    const parent = path.dirname(p);
    missing.push(p);
    if (parent === p) break;
    p = parent;
  }
  return missing.reverse();
}

/** true: a directory; false: something else; undefined: nothing there. Other errors throw. */
function statSync(p: string): boolean | undefined {
  try {
    return fs.statSync(p).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function makeDirsSync(dir: string, mode?: number): void {
  for (const p of missingLevels(dir, statSync)) {
    try {
      fs.mkdirSync(p, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || statSync(p) !== true) throw err;
    }
  }
}

export async function makeDirs(dir: string, mode?: number): Promise<void> {
  // The walk up is a few stat calls on paths that mostly exist; sync keeps it simple, the
  // mkdirs that may touch a slow disk are async.
  for (const p of missingLevels(dir, statSync)) {
    try {
      await fs.promises.mkdir(p, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || statSync(p) !== true) throw err;
    }
  }
}
