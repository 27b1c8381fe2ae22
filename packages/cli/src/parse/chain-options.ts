// The chain options (--chain-rpc, --chain-id, --chain-contracts, --chain-signer, --chain-from,
// --no-chain) of the commands that use the chain: checked together, since they only make sense
// together, before the node starts.
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.ts';
import { httpUrl, parseInteger } from './value-checks.ts';

/** false with --no-chain; else the embedded chain ({}), or --chain-rpc with its id and contracts. */
export type ChainOption = false | { rpcUrl?: string; chainId?: number; contracts?: { registry: Addr; token: Addr; pool: Addr }; signer?: Signer };

type Signer = { url: string; from?: Addr };

/** --chain-signer URL [--chain-from ADDRESS]: checked here, used only with --chain-rpc. */
export function signerOption(url: string | undefined, from: string | undefined): Signer | undefined {
  if (url === undefined) {
    if (from !== undefined) throw new UsageError('--chain-from names an account of the external signer: give --chain-signer URL too');
    return undefined;
  }
  httpUrl('--chain-signer', url);
  if (from === undefined) return { url };
  if (!/^0x[0-9a-fA-F]{40}$/.test(from)) throw new UsageError(`--chain-from wants an account address (0x + 40 hex digits), got "${from}"`);
  return { url, from: from as Addr };
}

export function chainOption(on: boolean, rpc: string | undefined, id: string | undefined, contracts: string | undefined, signer: Signer | undefined): ChainOption {
  const external = rpc !== undefined || id !== undefined || contracts !== undefined;
  if (!on) {
    if (external || signer) throw new UsageError('--no-chain and --chain-rpc/--chain-contracts/--chain-signer contradict each other: give one');
    return false;
  }
  if (signer && rpc === undefined) {
    throw new UsageError('--chain-signer needs --chain-rpc URL and --chain-contracts FILE: it pays gas on an external chain (the embedded chain funds the node itself)');
  }
  if (!external) return {};
  if (rpc === undefined || contracts === undefined) {
    throw new UsageError('an external chain needs both --chain-rpc URL and --chain-contracts FILE (the JSON `cascade chain deploy` prints)');
  }
  httpUrl('--chain-rpc', rpc);
  const file = readContractsFile(contracts);
  const chainId = id !== undefined ? parseInteger('chain-id', id, 1, 2 ** 53 - 1) : file.chainId;
  if (chainId !== file.chainId) throw new UsageError(`--chain-id ${chainId} and ${contracts} (chain ${file.chainId}) disagree`);
  return { rpcUrl: rpc, chainId, contracts: { registry: file.registry, token: file.token, pool: file.rewards, ...(file.market ? { market: file.market } : {}) }, ...(signer ? { signer } : {}) };
}

type Addr = `0x${string}`;

/** The JSON `cascade chain deploy` prints: {"chainId", "registry", "rewards", "token", "market"}
 *  ("market" absent in a file written before the market contract existed). */
function readContractsFile(path: string): { chainId: number; registry: Addr; rewards: Addr; token: Addr; market?: Addr } {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--chain-contracts ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not JSON'}`);
  }
  const addr = (k: string): Addr => {
    const v = data[k];
    if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v)) throw new UsageError(`--chain-contracts ${path}: "${k}" must be an address (0x + 40 hex digits)`);
    return v as Addr;
  };
  const chainId = data.chainId;
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 1) throw new UsageError(`--chain-contracts ${path}: "chainId" must be a positive integer`);
  return { chainId, registry: addr('registry'), rewards: addr('rewards'), token: addr('token'), ...(data.market !== undefined ? { market: addr('market') } : {}) };
}
