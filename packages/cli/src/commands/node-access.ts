// How a verb reaches its node: through the running node's control endpoint, or, with none running,
// through the state DB directly (what the next `cascade serve` will load).

import { StateDB, connectControl, errorMessage, stateOpenOptions, type ControlClient } from '@cascade/node/verbs';
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

/** The node running on the state dir, or undefined when none runs; one that does not answer (a
 *  stuck process behind control.json) is an error that says what to do about it. */
export async function connectNode(stateDir: string, timeoutMs?: number): Promise<ControlClient | undefined> {
  try {
    return await connectControl(stateDir, timeoutMs);
  } catch (err) {
    throw new CliError(`${errorMessage(err)}: if it is stuck, stop it and start \`cascade serve\` again`, 1, { cause: err });
  }
}

/** Opens the node's state: <state-dir>/cascade.db, or the PostgreSQL database of --database. */
export function openState(inv: Invocation): Promise<StateDB> {
  return StateDB.open(inv.options.stateDir, stateOpenOptions(inv.options.stateDir, inv.options.database));
}

/** Opens the state (read into memory: state-db.ts), runs fn on it and closes it after. */
export async function withDb<T>(inv: Invocation, fn: (db: StateDB) => T | Promise<T>): Promise<T> {
  const db = await openState(inv);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export function requireNode(node: ControlClient | undefined, what?: string): ControlClient {
  if (!node) throw new CliError(what ? `${what} needs a running node: ${NO_NODE}` : NO_NODE);
  return node;
}

export function short(ih: string): string {
  return ih.slice(0, 8);
}
