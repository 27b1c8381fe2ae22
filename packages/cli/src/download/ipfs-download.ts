// `cascade download <cid> --ipfs-gateway URL…` (issue 61): the file from IPFS trustless gateways,
// beside the swarm (download.ts races the two). @cascade/content/gateway checks every block against
// its CID and drops a gateway that gives a wrong or missing one; here its bytes go to `<dir>/.<cid>.part`,
// renamed to `<dir>/<cid>` once all of it is in (a CAR cut short leaves no file under the CID's name).
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchFromGateways, GatewayFetchError, type GatewayAttempt } from '@cascade/content/gateway';
import { CliError } from '../core/errors.ts';
import { connectionFailure, optionService, Unreachable } from '../core/unreachable.ts';
import type { Output } from '../output/output.ts';

/** What went wrong at one gateway, in the CLI's words: a connection that failed says so (issue 65). */
function attemptText(a: GatewayAttempt): string {
  const f = connectionFailure(a.cause);
  return f ? `cannot reach the IPFS gateway at ${a.gateway} (${f.reason})` : `IPFS gateway ${a.gateway} refused: ${a.error}`;
}

/** No gateway gave the file: one line that says why for each, and what to do. */
export function gatewaysFailed(err: unknown): CliError | undefined {
  if (!(err instanceof GatewayFetchError)) return undefined;
  const unreachable = err.attempts.length > 0 && err.attempts.every((a) => connectionFailure(a.cause));
  const only = err.attempts.length === 1 ? err.attempts[0]! : undefined;
  if (unreachable && only) return new Unreachable(optionService('the IPFS gateway', only.gateway, '--ipfs-gateway'), connectionFailure(only.cause)!.reason, err);
  const why = err.attempts.map(attemptText).join('; ') || 'no gateway given';
  return new CliError(`${why}${unreachable ? '; start it or pass another --ipfs-gateway' : ''}`, 1, { cause: err });
}

export interface GatewayResult {
  path: string;
  bytes: number;
  blocks: number;
  gateway: string;
}

export async function downloadFromGateways(cid: string, gateways: readonly string[], dir: string, out: Output, signal: AbortSignal): Promise<GatewayResult> {
  const part = join(dir, `.${cid}.part`);
  const h = await open(part, 'w');
  let at = 0;
  let closed = false;
  const close = async () => {
    if (!closed) await h.close();
    closed = true;
  };
  try {
    out.note(`asking ${gateways.length} IPFS gateway${gateways.length === 1 ? '' : 's'} for ${cid}`);
    const r = await fetchFromGateways(cid, gateways, {
      write: async (bytes) => {
        await h.write(bytes, 0, bytes.length, at);
        at += bytes.length;
      },
      reset: async () => {
        await h.truncate(0);
        at = 0;
      },
    }, {
      signal,
      onRefused: (a) => {
        out.event('gateway-refused', { cid, gateway: a.gateway, error: a.error });
        // The last gateway's failure is said by the error that follows (once, not twice).
        if (a.gateway !== gateways.at(-1)) out.note(attemptText(a));
      },
    });
    await close();
    const path = join(dir, cid);
    await rename(part, path);
    return { path, bytes: r.bytes, blocks: r.blocks, gateway: r.gateway };
  } finally {
    await close();
    await rm(part, { force: true });
  }
}
