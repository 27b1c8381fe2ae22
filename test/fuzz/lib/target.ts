// What a fuzz target is, and how an input's outcome is judged. An input may be accepted, or
// rejected with the parser's own error type (a clean error); anything else is a finding.

import type { Rng } from './rng.ts';
import { mutate, noise, type MutateOptions } from './mutate.ts';

export type Outcome =
  | { kind: 'accepted' }
  | { kind: 'rejected' }
  | { kind: 'finding'; why: string; sig: string };

export const ACCEPTED: Outcome = { kind: 'accepted' };
export const REJECTED: Outcome = { kind: 'rejected' };

export interface GenContext {
  rng: Rng;
  /** Seeds plus a rolling sample of accepted inputs: what mutations start from. */
  pool: readonly Uint8Array[];
  mutate(input: Uint8Array, o?: MutateOptions): Uint8Array;
}

export interface Target {
  name: string;
  /** Valid inputs the mutations start from. */
  seeds(): Uint8Array[];
  /** Default: mutate the pool, sometimes fresh() or noise. */
  generate?(g: GenContext): Uint8Array;
  /** A new structurally valid (or deliberately skewed) input. */
  fresh?(rng: Rng): Uint8Array;
  mutateOptions?: MutateOptions;
  run(input: Uint8Array): Outcome | Promise<Outcome>;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  /** Called every `batch` inputs; a string is a finding (the server stopped answering, say). */
  healthy?(): Promise<string | undefined>;
  batch?: number;
  /** No progress for this long is a hang. Default 10 s. */
  hangMs?: number;
  /** A synchronous run slower than this is a finding (superlinear work). Default 5 s. */
  slowMs?: number;
  /** Shrinking a finding re-runs the input many times: only for fast, in-process targets. */
  minimize?: boolean;
}

// Linear work on the largest legal inputs (a 100,000-file torrent) takes about a second.
export const SLOW_MS = 5000;

/** Thrown by targets when an accepted input breaks an invariant. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

export function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new InvariantError(what);
}

export function finding(why: string, sig = why): Outcome {
  return { kind: 'finding', why, sig: sig.replace(/\d+/g, 'N').slice(0, 200) };
}

/** A finding for an unexpected exception, keyed by its type and the first project frame. */
export function unexpected(err: unknown): Outcome {
  if (err instanceof InvariantError) return finding(`invariant: ${err.message}`, `invariant: ${err.message}`);
  const e = err instanceof Error ? err : new Error(String(err));
  const frame = (e.stack ?? '').split('\n').find((l) => /packages\/|test\/fuzz\//.test(l))?.trim() ?? '';
  const where = frame.replace(/^at /, '').replace(/:\d+\)?$/, '').replace(/\(?file:\/\/\/?[^)]*?(packages|test)\//, '$1/');
  return finding(`${e.name}: ${e.message.slice(0, 300)} @ ${where}`, `${e.name} @ ${where}`);
}

/** Runs a synchronous parser: its own error class is a clean rejection, anything else a finding. */
export function judge(fn: () => void, clean: (err: unknown) => boolean): Outcome {
  try {
    fn();
    return ACCEPTED;
  } catch (err) {
    if (err instanceof InvariantError) return unexpected(err);
    return clean(err) ? REJECTED : unexpected(err);
  }
}

/** The default generator: mostly mutations of known-good inputs, some fresh ones, a little noise. */
export function defaultGenerate(t: Target, g: GenContext): Uint8Array {
  const { rng } = g;
  const r = rng.int(100);
  if (r < 4) return noise(rng, t.mutateOptions?.dict);
  if (t.fresh && r < 30) {
    const f = t.fresh(rng);
    return r < 15 ? f : g.mutate(f, t.mutateOptions);
  }
  return g.mutate(rng.pick(g.pool), t.mutateOptions);
}

const dec = new TextDecoder();
const enc = new TextEncoder();
export const jsonBytes = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
export const fromJson = <T>(b: Uint8Array): T => JSON.parse(dec.decode(b)) as T;
export const utf8 = (b: Uint8Array): string => dec.decode(b);
