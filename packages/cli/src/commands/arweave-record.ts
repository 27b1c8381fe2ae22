// `cascade register --arweave URL --arweave-wallet FILE` and `cascade verify --arweave URL` (issue 61
// item 4): the registered metadata block stored on Arweave, and fetched back and checked. The
// transaction id is kept in the node's record, <state-dir>/chain/arweave/<cid>.json, beside the
// block itself (<state-dir>/chain/blocks/<cid>): the registry's fields are the metadata CID and the
// content id, each with its own meaning, so carrying the id on chain would need a contract change.
// @cascade/arweave (and the arweave client under it) is loaded only when these options are given,
// @cascade/chain only when a block is checked.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWKInterface } from '@cascade/arweave';
import { CliError, UsageError } from '../core/errors.ts';

export interface ArweaveRecord {
  cid: string;
  tx: string;
  /** The gateway it was posted through (any gateway serves it once mined). */
  gateway: string;
  /** The wallet's address that signed and paid. */
  owner: string;
  storedAt: string;
}

export type ArweaveCheck =
  | { state: 'matches'; tx: string; gateway: string; owner: string; confirmations: number | null }
  | { state: 'mismatch' | 'unreachable' | 'not-found'; tx: string; gateway: string; reason: string }
  | { state: 'not-stored'; reason: string };

const recordPath = (stateDir: string, cid: string) => join(stateDir, 'chain', 'arweave', `${cid}.json`);

/** The transaction register kept for metadata block `cid`, if any. */
export function arweaveRecordOf(stateDir: string, cid: string): ArweaveRecord | undefined {
  if (!/^[a-z2-7]{20,100}$/.test(cid)) return undefined;
  const path = recordPath(stateDir, cid);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ArweaveRecord;
  } catch {
    return undefined;
  }
}

/** The wallet, read before anything is registered: a file that is not one stops the command at once (exit 2). */
export async function loadArweaveWallet(path: string): Promise<JWKInterface> {
  const { readWallet } = await import('@cascade/arweave');
  try {
    return readWallet(path);
  } catch (err) {
    throw new UsageError(`--arweave-wallet: ${(err as Error).message}`);
  }
}

/**
 * Stores the block `cid` this state directory holds on Arweave through `gateway`, unless a
 * transaction is recorded for it already; keeps the record. Throws CliError with why not.
 */
export async function storeBlockOnArweave(stateDir: string, cid: string, gateway: string, wallet: JWKInterface): Promise<ArweaveRecord & { stored: boolean }> {
  const had = arweaveRecordOf(stateDir, cid);
  if (had) return { ...had, stored: false };
  const blockPath = join(stateDir, 'chain', 'blocks', cid);
  if (!existsSync(blockPath)) throw new CliError(`the metadata block ${cid} is not in ${join(stateDir, 'chain', 'blocks')}: register it from the state directory that made it`);
  const bytes = new Uint8Array(readFileSync(blockPath));
  // Loaded here, as the registry verbs load the chain package: only when it is used.
  const { readMetadataBlock } = await import('@cascade/chain');
  await readMetadataBlock(cid, bytes);
  const { storeOnArweave } = await import('@cascade/arweave');
  let stored;
  try {
    // Tagged so a reader on Arweave finds it by CID and knows how to read it.
    stored = await storeOnArweave(gateway, wallet, bytes, { 'Content-Type': 'application/vnd.ipld.dag-json', 'IPFS-CID': cid, 'App-Name': 'Cascade' });
  } catch (err) {
    throw new CliError((err as Error).message, 1, { cause: err });
  }
  const record: ArweaveRecord = { cid, tx: stored.id, gateway, owner: stored.owner, storedAt: new Date().toISOString() };
  const path = recordPath(stateDir, cid);
  mkdirSync(join(stateDir, 'chain', 'arweave'), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(record, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
  return { ...record, stored: true };
}

/** Fetches the block recorded for `cid` from `gateway` and checks it is that block and describes `infoHash`. */
export async function checkOnArweave(stateDir: string | undefined, cid: string, infoHash: string, gateway: string, onChainTx: string | null = null): Promise<ArweaveCheck> {
  // The registry's word first (setArweaveTx, issue 61): it needs no state directory; else the node's record.
  const kept = stateDir === undefined ? undefined : arweaveRecordOf(stateDir, cid);
  const rec = onChainTx ? { tx: onChainTx } : kept;
  if (!rec) {
    return { state: 'not-stored', reason: stateDir === undefined ? 'the Arweave transaction is kept in the state directory that registered it, and none was read' : `no Arweave transaction is recorded for metadata ${cid} in ${stateDir} (cascade register --arweave URL --arweave-wallet FILE stores it), nor on chain` };
  }
  const { fetchFromArweave, ArweaveError } = await import('@cascade/arweave');
  const { readMetadataBlock } = await import('@cascade/chain');
  const at = { tx: rec.tx, gateway };
  try {
    const got = await fetchFromArweave(gateway, rec.tx);
    const meta = await readMetadataBlock(cid, got.bytes).catch((err: unknown) => {
      throw new ArweaveError('mismatch', `transaction ${rec.tx} holds other data than metadata ${cid}: ${(err as Error).message}`);
    });
    if (meta.infoHash !== infoHash) return { state: 'mismatch', ...at, reason: `transaction ${rec.tx} holds the metadata of ${meta.infoHash}, not ${infoHash}` };
    return { state: 'matches', ...at, owner: got.owner, confirmations: got.confirmed?.confirmations ?? null };
  } catch (err) {
    if (!(err instanceof ArweaveError)) throw err;
    const state = err.kind === 'mismatch' ? 'mismatch' : err.kind === 'not-found' ? 'not-found' : 'unreachable';
    return { state, ...at, reason: err.message };
  }
}

/** One line for text output. */
export function arweaveLine(c: ArweaveCheck): string {
  if (c.state === 'matches') return `arweave: transaction ${c.tx} at ${c.gateway} holds this metadata block (signed by ${c.owner}${c.confirmations !== null ? `, ${c.confirmations} confirmation${c.confirmations === 1 ? '' : 's'}` : ', pending'})`;
  if (c.state === 'not-stored') return `arweave: ${c.reason}`;
  return `arweave: ${c.state === 'mismatch' ? 'MISMATCH' : c.state}: ${c.reason}`;
}
