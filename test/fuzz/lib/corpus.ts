// The corpus: test/fuzz/corpus/<target>/<sha1 of the input>.<bin|json>. Findings are written here by
// the runner (with a .txt note saying what they did); corpus.test.ts replays every entry.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CORPUS_DIR = new URL('../corpus/', import.meta.url).pathname;

export function sha1Hex(b: Uint8Array): string {
  return createHash('sha1').update(b).digest('hex');
}

/** Writes the entry unless it is there already; returns its path. */
export function saveEntry(target: string, ext: 'bin' | 'json', input: Uint8Array, note?: string): string {
  const dir = join(CORPUS_DIR, target);
  mkdirSync(dir, { recursive: true });
  const base = join(dir, sha1Hex(input));
  const file = `${base}.${ext}`;
  if (!existsSync(file)) writeFileSync(file, input);
  if (note !== undefined && !existsSync(`${base}.txt`)) writeFileSync(`${base}.txt`, note.endsWith('\n') ? note : `${note}\n`);
  return file;
}

export function listEntries(target: string): { file: string; input: Uint8Array }[] {
  const dir = join(CORPUS_DIR, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin') || f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: join(dir, f), input: new Uint8Array(readFileSync(join(dir, f))) }));
}
