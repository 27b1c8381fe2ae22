// How a verb reaches its node: through the running node's control endpoint, or, with none running,
// through the state DB directly (what the next `cascade serve` will load).

import { StateDB, type ControlClient } from '@cascade/node/verbs';
import { CliError } from '../core/errors.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';
import type { ParseLib } from '../download/source.ts';

export interface VerbDeps {
  loadEngine: () => Promise<ParseLib>;
  connect: (stateDir: string) => Promise<ControlClient | undefined>;
}

export type Verb = (inv: Invocation, out: Output, node: ControlClient | undefined, deps: VerbDeps) => Promise<number>;

export const NO_NODE = 'no running node (start one with `cascade serve`)';

/** Runs fn on the state DB and closes it after (after the promise settles, when fn returns one). */
export function withDb<T>(inv: Invocation, fn: (db: StateDB) => T): T {
  const db = StateDB.open(inv.options.stateDir);
  let result: T;
  try {
    result = fn(db);
  } catch (err) {
    db.close();
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => db.close()) as T;
  db.close();
  return result;
}

export function requireNode(node: ControlClient | undefined, what?: string): ControlClient {
  if (!node) throw new CliError(what ? `${what} needs a running node: ${NO_NODE}` : NO_NODE);
  return node;
}

export function short(ih: string): string {
  return ih.slice(0, 8);
}
