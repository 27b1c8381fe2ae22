// The output directory is checked before a node starts: a path that cannot be made or written
// fails at once with the reason, instead of surfacing as a torrent error once data arrives.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { makeDirs } from '@cascade/engine/make-dirs';
import { CliError } from '../core/errors.ts';

/** "read-only file system (EROFS)" from "EROFS: read-only file system, access '/x'". */
function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e?.code) return String((err as Error)?.message ?? err);
  const text = e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/s, '');
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
