// Reading a request's `arguments`: Transmission's types (numbers, booleans — which it also takes as
// 0/1 —, strings, lists of file indexes) with an RpcError naming the key when a value has the wrong
// shape. An RpcError's message becomes the response's `result`, Transmission's way of failing.

export class RpcError extends Error {}

/** Transmission's kB (speeds in kB/s). */
export const KB = 1000;

export type Args = Record<string, unknown>;

export function has(args: Args, key: string): boolean {
  return Object.hasOwn(args, key) && args[key] !== undefined;
}

export function num(args: Args, key: string): number | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RpcError(`"${key}" must be a number`);
  return v;
}

/** A whole number (Transmission's ints); fractions are cut like its JSON reader does with reals. */
export function int(args: Args, key: string): number | undefined {
  const v = num(args, key);
  return v === undefined ? undefined : Math.trunc(v);
}

export function bool(args: Args, key: string): boolean | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new RpcError(`"${key}" must be true or false`);
}

export function str(args: Args, key: string): string | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new RpcError(`"${key}" must be a string`);
  return v;
}

export function strings(args: Args, key: string): string[] | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new RpcError(`"${key}" must be a list of strings`);
  return v as string[];
}

/** A list of file indexes (files-wanted, priority-high …). */
export function indexes(args: Args, key: string): number[] | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0)) {
    throw new RpcError(`"${key}" must be a list of file indexes (whole numbers from 0)`);
  }
  return v as number[];
}

/** Transmission's paths: absolute only (a relative one would land wherever the daemon runs). */
export function absolutePath(args: Args, key: string, what: string): string | undefined {
  const v = str(args, key);
  if (v === undefined) return undefined;
  if (!v.startsWith('/') && !/^[a-zA-Z]:[\\/]/.test(v)) throw new RpcError(`${what} path is not absolute`);
  return v;
}

/** An error from the node's operations as a result string (their messages are fit to show). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
