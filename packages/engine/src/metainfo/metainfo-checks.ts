// Checks shared by the v1 (metainfo.ts) and v2 (metainfo-v2.ts) parsers: the error type, and what
// a length or a path component from an untrusted .torrent must satisfy.

import { BencodeError, type BValue, type FieldValue } from '../encoding/bencode.ts';

export class MetainfoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetainfoError';
  }
}

export const fail = (why: string): never => {
  throw new MetainfoError(`invalid torrent: ${why}`);
};

/** Runs a decode step, turning its BencodeError (bytes the outer decode skipped unchecked) into ours. */
export function bencoded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BencodeError) throw new MetainfoError(`invalid torrent: ${err.message}`, { cause: err });
    throw err;
  }
}

/** `file` is the index of the file whose field this is (its messages are made only on failure). */
export function checkLength(v: BValue | FieldValue | undefined, what: string, file?: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    return fail(`${file === undefined ? what : `file ${file} ${what}`} must be a non-negative integer`);
  }
  return v;
}

/** One path component (or the name); anything that could climb out of, or root, a path is fatal. */
export function checkComponent(c: string, field: string, file?: number): string {
  const problem = componentProblem(c);
  if (problem) fail(`${file === undefined ? field : `file ${file} ${field}`}${problem}`);
  return c;
}

// Module-level: a regex literal inside the function is a new object at every call (100,000 files).
const SEPARATOR_OR_NUL = /[/\\\0]/;
const DRIVE_LETTER = /^[a-zA-Z]:/;

function componentProblem(c: string): string | undefined {
  if (c.trim() === '') return ' has an empty component';
  if (c === '.' || c === '..') return ` contains '${c}'`;
  if (SEPARATOR_OR_NUL.test(c)) return ` component "${printable(c)}" contains a path separator or NUL`;
  if (DRIVE_LETTER.test(c)) return ` component "${printable(c)}" looks like a drive letter`;
  return undefined;
}

function printable(s: string): string {
  const short = s.length > 60 ? `${s.slice(0, 60)}…` : s;
  return short.replace(/[\0-\x1f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
