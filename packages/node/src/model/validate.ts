// Checks for values that reach the node model from outside (HTTP bodies, control RPC params). Each
// failure is a InvalidInput naming the field: the HTTP API answers it with a 400, the control
// endpoint with exit code 2, and nothing has been changed when it is thrown.

import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { InvalidInput } from '@cascade/node-state/errors';

/** Rates are bytes/s; a few TB/s is past any link and still exact as a double. */
export const MAX_RATE = 2 ** 42;
export const MAX_PATH_CHARS = 1024;
export const MAX_NAME_CHARS = 64;
export const MAX_TAGS = 64;

export function fail(field: string, what: string): never {
  throw new InvalidInput(`"${field}" ${what}`);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON object of the given keys only. */
export function objectOf(v: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (!isObject(v)) throw new InvalidInput(`${what} must be a JSON object`);
  const unknown = Object.keys(v).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw new InvalidInput(`unknown field "${unknown.slice(0, 64)}" in ${what}; known: ${allowed.join(', ')}`);
  return v;
}

export function wholeNumber(field: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    fail(field, `must be a whole number from 0 to ${max}`);
  }
  return v;
}

/** Bytes/s, 0 = no limit. */
export function rate(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_RATE) {
    fail(field, `must be a whole number of bytes/s from 0 (no limit) to ${MAX_RATE}`);
  }
  return v;
}

export function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(field, 'must be true or false');
  return v;
}

/** A ratio limit: null (the default applies), -1 where allowed (no limit), or a number >= 0. */
export function ratioLimit(field: string, v: unknown, allowNone: boolean): number | null {
  if (v === null) return null;
  if (allowNone && v === -1) return -1;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e6) {
    fail(field, `must be null${allowNone ? ', -1 (no limit)' : ''} or a number from 0 to 1000000`);
  }
  return v;
}

/** A time limit in seconds: null (the default applies), -1 where allowed (no limit), or whole seconds >= 0. */
export function secondsLimit(field: string, v: unknown, allowNone: boolean): number | null {
  if (v === null) return null;
  if (allowNone && v === -1) return -1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100 * 365 * 86400) {
    fail(field, `must be null${allowNone ? ', -1 (no limit)' : ''} or whole seconds >= 0`);
  }
  return v;
}

/** A short user-given name (category, tag): trimmed, 1-64 characters, no control characters. */
export function shortName(field: string, v: unknown, extra?: { forbid: RegExp; why: string }): string {
  if (typeof v !== 'string') fail(field, 'must be a string');
  const s = v.trim();
  if (s === '') fail(field, 'must not be empty');
  if (s.length > MAX_NAME_CHARS) fail(field, `must be at most ${MAX_NAME_CHARS} characters`);
  if (/[\0-\x1f\x7f]/.test(s)) fail(field, 'must not contain control characters');
  if (extra && extra.forbid.test(s)) fail(field, extra.why);
  return s;
}

/** Tags: a list of short names without commas (multipart and the CLI take "a,b"); duplicates dropped. */
export function tagList(field: string, v: unknown): string[] {
  if (!Array.isArray(v)) fail(field, 'must be a list of strings');
  if (v.length > MAX_TAGS) fail(field, `may hold at most ${MAX_TAGS} tags (got ${v.length})`);
  const tags = v.map((t, i) => shortName(`${field}[${i}]`, t, { forbid: /,/, why: 'must not contain a comma' }));
  return [...new Set(tags)];
}

/** Whether `path` is `dir` or inside it (both absolute, normalized). */
export function within(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * A directory to save data in: absolute (a relative one is taken under `base`, the download dir), no
 * ".." part, no control characters, not inside the node's state dir (its keys and database) — except
 * under its `downloads` folder (the default download dir) or under `base` itself.
 */
export function saveDir(field: string, v: unknown, base: string, stateDir: string): string {
  if (typeof v !== 'string' || v.trim() === '') fail(field, 'must be a non-empty path');
  if (v.length > MAX_PATH_CHARS) fail(field, `must be at most ${MAX_PATH_CHARS} characters`);
  if (/[\0-\x1f\x7f]/.test(v)) fail(field, 'must not contain control characters');
  if (v.split(/[/\\]+/).includes('..')) fail(field, 'must not contain ".." (give the folder itself)');
  let path = normalize(isAbsolute(v) ? v : resolve(base, v));
  if (path.length > 1 && path.endsWith(sep)) path = path.slice(0, -1);
  const downloads = join(resolve(stateDir), 'downloads');
  if (within(path, stateDir) && !within(path, downloads) && !(base !== '/' && within(path, base))) {
    fail(field, "must not be inside the node's state directory (its downloads folder excepted)");
  }
  return path;
}
