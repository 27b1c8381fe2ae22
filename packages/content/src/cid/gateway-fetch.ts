// A file by its CID from IPFS trustless gateways (`cascade download <cid> --ipfs-gateway URL`,
// issue 61): each gateway in turn is asked for a CAR of the DAG (`?format=car`, depth-first, each
// block once); every block is hashed against its CID before anything is written, and the blocks must
// come in the order the DAG itself names them, so the bytes written are the file's, in order, and
// only those. A gateway whose block does not hash to its CID, that sends a block the DAG does not
// name next, or whose CAR ends with blocks still missing, is an error for that gateway alone: what it
// gave is dropped (the sink is reset) and the next gateway is asked. Platform-free (fetch); memory:
// one block at a time and the CIDs still to come.
import { CarBlockIterator } from '@ipld/car/iterator';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { CAR_TYPE } from './car.ts';
import { DAG_PB } from './unixfs.ts';

const RAW = 0x55;

/** Where the file's bytes go, in order; reset() drops what a refused gateway gave. */
export interface FileSink {
  write(bytes: Uint8Array): Promise<void>;
  reset(): Promise<void>;
}

export interface GatewayAttempt {
  gateway: string;
  error: string;
  /** The error itself (a failed connection's code and address are in its causes). */
  cause?: unknown;
}

export class GatewayFetchError extends Error {
  readonly attempts: GatewayAttempt[];
  constructor(cid: string, attempts: GatewayAttempt[]) {
    super(`no IPFS gateway gave ${cid}: ${attempts.map((a) => `${a.gateway}: ${a.error}`).join('; ') || 'none given'}`);
    this.name = 'GatewayFetchError';
    this.attempts = attempts;
  }
}

/** The file `cid` names from the first gateway that gives all of it, verified block by block. */
export async function fetchFromGateways(
  cid: string,
  gateways: readonly string[],
  sink: FileSink,
  opts: { signal?: AbortSignal; onRefused?: (a: GatewayAttempt) => void } = {},
): Promise<{ gateway: string; blocks: number; bytes: number; attempts: GatewayAttempt[] }> {
  const root = CID.parse(cid);
  const attempts: GatewayAttempt[] = [];
  for (const gateway of gateways) {
    opts.signal?.throwIfAborted();
    try {
      const got = await fromGateway(root, gateway, sink, opts.signal);
      return { gateway, ...got, attempts };
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const a = { gateway, error: (err as Error).message, cause: err };
      attempts.push(a);
      opts.onRefused?.(a);
      await sink.reset();
    }
  }
  throw new GatewayFetchError(cid, attempts);
}

async function fromGateway(root: CID, gateway: string, sink: FileSink, signal?: AbortSignal): Promise<{ blocks: number; bytes: number }> {
  const url = `${gateway.replace(/\/+$/, '')}/ipfs/${root}?format=car&dag-scope=all`;
  const res = await fetch(url, { headers: { accept: CAR_TYPE }, ...(signal ? { signal } : {}) });
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    throw new Error(`HTTP ${res.status}`);
  }
  const body = res.body;
  try {
    const car = await CarBlockIterator.fromIterable(body as unknown as AsyncIterable<Uint8Array>);
    const roots = await car.getRoots();
    if (!roots.some((r) => r.equals(root))) throw new Error(`its CAR names ${roots.join(', ') || 'no root'}, not ${root}`);
    // Depth-first: the next block expected is the last CID pushed.
    const want: CID[] = [root];
    let blocks = 0;
    let bytes = 0;
    for await (const block of car) {
      const next = want.pop();
      if (!next) break; // the DAG is complete; anything after it is not ours to read
      if (!block.cid.equals(next)) throw new Error(`sent block ${block.cid} where the DAG names ${next}`);
      await verify(block.cid, block.bytes);
      blocks++;
      if (block.cid.code === RAW) {
        await sink.write(block.bytes);
        bytes += block.bytes.length;
        continue;
      }
      // A dag-pb UnixFS file node: its own data (leaves of other importers), then its children.
      const node = dagPb.decode(block.bytes);
      const fs = node.Data ? UnixFS.unmarshal(node.Data) : undefined;
      if (!fs || (fs.type !== 'file' && fs.type !== 'raw')) throw new Error(`${block.cid} is not a UnixFS file (${fs?.type ?? 'no data'})`);
      if (fs.data && fs.data.length > 0) {
        await sink.write(fs.data);
        bytes += fs.data.length;
      }
      for (let i = node.Links.length - 1; i >= 0; i--) want.push(node.Links[i]!.Hash);
    }
    if (want.length > 0) throw new Error(`its CAR ended with block ${want[want.length - 1]} (and ${want.length - 1} more) missing`);
    return { blocks, bytes };
  } finally {
    await body.cancel().catch(() => {});
  }
}

/** A block is taken only when it hashes to its CID (sha2-256, raw or dag-pb). */
async function verify(cid: CID, bytes: Uint8Array): Promise<void> {
  if (cid.multihash.code !== sha256.code) throw new Error(`${cid} is not hashed with sha2-256`);
  if (cid.code !== RAW && cid.code !== DAG_PB) throw new Error(`${cid}: codec 0x${cid.code.toString(16)} is not a UnixFS file's`);
  const d = await sha256.digest(bytes);
  if (!d.digest.every((b, i) => b === cid.multihash.digest[i])) throw new Error(`its block ${cid} does not hash to its CID: refused`);
}
