// The node's chain (issue 13): started after the node listens, in the background, so a slow or
// missing chain never holds the node up. Its state is what /api/health, `cascade health` and the
// Network page show: starting, running (chain id, block, contracts, account, balances), off, or
// the error that stopped it.
import type { ChainStatus, NodeChain } from '@cascade/chain';
import type { RpcHandlers } from './control.ts';
import { errorMessage } from './errors.ts';

/** false: no chain. Otherwise the embedded dev chain, or `rpcUrl` + `chainId` + `contracts`. */
export type ChainConfig =
  | false
  | {
      rpcUrl?: string;
      chainId?: number;
      contracts?: { registry: `0x${string}`; token: `0x${string}`; pool: `0x${string}` };
    };

export type ChainHealth =
  | ({ state: 'running' } & ChainStatus)
  | { state: 'starting' | 'off' }
  | { state: 'error'; error: string };

const STATUS_TIMEOUT_MS = 3000;

export class ChainService {
  #chain: NodeChain | undefined;
  #error: string | undefined;
  #closed = false;
  readonly #config: ChainConfig;
  started: Promise<void> = Promise.resolve();

  constructor(config: ChainConfig) {
    this.#config = config;
  }

  /** Starts the chain in the background (see started). */
  start(stateDir: string, ethSecret: Uint8Array, log: (line: string) => void): void {
    const config = this.#config;
    if (config === false) return;
    this.started = (async () => {
      try {
        // Loaded here: viem and the artifacts are only paid for by nodes that run a chain.
        const { NodeChain } = await import('@cascade/chain');
        const chain = await NodeChain.start({ stateDir, ethSecret, ...config });
        if (this.#closed) return void (await chain.close());
        this.#chain = chain;
        log(`chain: ${chain.embedded ? 'embedded dev chain' : chain.rpcUrl}, id ${chain.chain.id}, registry ${chain.contracts.registry}, account ${chain.account.address}`);
      } catch (err) {
        this.#error = errorMessage(err);
        log(`chain: not started: ${this.#error}`);
      }
    })();
  }

  get chain(): NodeChain | undefined {
    return this.#chain;
  }

  async status(): Promise<ChainHealth> {
    if (this.#config === false) return { state: 'off' };
    if (this.#error !== undefined) return { state: 'error', error: this.#error };
    const chain = this.#chain;
    if (!chain) return { state: 'starting' };
    try {
      const s = await Promise.race([
        chain.status(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer from ${chain.rpcUrl} within ${STATUS_TIMEOUT_MS / 1000} s`)), STATUS_TIMEOUT_MS).unref()),
      ]);
      return { state: 'running', ...s };
    } catch (err) {
      return { state: 'error', error: errorMessage(err) };
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.started;
    await this.#chain?.close();
  }
}

/** The control RPC `chain` → ChainHealth (for `cascade health`). */
export function chainRpc(service: ChainService): RpcHandlers {
  return { chain: () => service.status() };
}
