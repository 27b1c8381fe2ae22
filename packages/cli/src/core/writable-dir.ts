// Directories checked before a node starts: a path that cannot be made or written fails at once with
// the reason, instead of surfacing as a torrent error once data arrives (the output directory) or as
// a database error, or a library's message on some file in it, halfway through a start (the state
// directory: issue 63, a read-only or full file system).
import { constants } from 'node:fs';
import { access, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirs } from '@cascade/engine/make-dirs';
import { CliError } from './errors.ts';

/** "read-only file system (EROFS)" from "EROFS: read-only file system, access '/x'". */
function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e?.code) return String((err as Error)?.message ?? err);
  const text = e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/s, '').replace(/, write$/, '');
  return `${text} (${e.code})`;
}

export async function ensureOutputDir(dir: string): Promise<void> {
  try {
    await makeDirs(dir);
  } catch (err) {
    throw new CliError(`cannot create the output directory ${dir}: ${reason(err)}`);
  }
  try {
    if (!(await stat(dir)).isDirectory()) throw new CliError(`the output path ${dir} is not a directory`);
    await access(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot write to the output directory ${dir}: ${reason(err)}`);
  }
}

/** What the probe writes: a few of SQLite's pages, so a disk with no room for the WAL's next write
 *  fails here rather than in the database (which then says only "database or disk is full"). */
const PROBE_BYTES = 64 * 1024;

/**
 * The state directory of a node about to start: made when missing, and a probe file written, synced
 * and removed in it, before anything of the state is opened. A read-only, full or forbidden file
 * system is then one line (and exit 1) that names the directory and what to do, and nothing in it was
 * changed; before, the start failed on whichever file came first ("EROFS: … chmod '…/api-token'",
 * "ENOSPC: …, write"), or told the owner of a full disk that the database was corrupted.
 */
export async function ensureStateDir(dir: string): Promise<void> {
  const fix = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException)?.code;
    const what = code === 'ENOSPC' || code === 'EDQUOT' ? 'free space on its disk' : 'make it writable (or choose another with --state-dir)';
    return new CliError(`cannot write to the state directory ${dir}: ${reason(err)}; nothing in it was changed — ${what} and start again`, 1, { cause: err });
  };
  try {
    await makeDirs(dir);
    if (!(await stat(dir)).isDirectory()) throw new CliError(`the state directory ${dir} is not a directory`);
  } catch (err) {
    throw err instanceof CliError ? err : fix(err);
  }
  const probe = join(dir, `.write-check-${process.pid}`);
  try {
    const f = await open(probe, 'w', 0o600);
    try {
      await f.write(new Uint8Array(PROBE_BYTES));
      await f.sync();
    } finally {
      await f.close();
    }
  } catch (err) {
    throw fix(err);
  } finally {
    await rm(probe, { force: true }).catch(() => {});
  }
}
