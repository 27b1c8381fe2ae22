// A node's chain: the embedded dev chain it owns (anvil with its state in <stateDir>/chain, the
// contracts deployed on first start, the node's account funded with ether for gas), or any EVM
// chain over JSON-RPC with the contracts' addresses given. The node's account is its identity's
// Ethereum account: it owns registrations and receives rewards. It also pays the gas, unless an
// external signer (--chain-signer) does: then every transaction goes there (see signer.ts).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, defineChain, http, toHex, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { startAnvil, type RunningAnvil } from './anvil.ts';
import { writeWhole, type StateCheck } from './state-file.ts';
import { DEV_DEPLOYER_KEY, type NodeChainOptions } from '../receipts/receipt-terms.ts';

export type { NodeChainOptions };
import { deployContracts, deployMarket, type Deployment } from '../contracts/deploy.ts';
import { cascadeToken } from '../contracts/artifacts.ts';
import { ExternalSigner, type ContractWrite, type ExternalSignerOptions } from './signer.ts';

/** Ether the node's account gets on its embedded chain for gas. */
const NODE_FUNDING_WEI = 100n * 10n ** 18n;

export interface ChainStatus {
  embedded: boolean;
  rpcUrl: string;
  chainId: number;
  block: string;
  contracts: Deployment;
  account: Address;
  balances: { ether: string; token: string };
  /** With an external signer: the account that pays gas and its ether (null, with the error, when
   *  the signer did not say which account). */
  signer?: { url: string; account: Address | null; ether: string | null; error?: string };
}

/** A transaction the node sent and waits for: what it does, its hash, when it was sent. */
export interface PendingTx {
  what: string;
  tx: Hex;
  /** ms since the epoch */
  sentAt: number;
}

export class NodeChain {
  readonly embedded: boolean;
  readonly rpcUrl: string;
  readonly chain: Chain;
  readonly client: PublicClient;
  /** The node identity's account: owner of its registrations, seeder its receipts name. */
  readonly account: PrivateKeyAccount;
  readonly contracts: Deployment;
  /** Set: transactions go to this signer, from its account, instead of being signed here. */
  readonly signer: ExternalSigner | undefined;
  readonly #wallet: WalletClient<Transport, Chain, PrivateKeyAccount>;
  readonly #anvil: RunningAnvil | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** Transactions sent and not mined yet, by hash: what `cascade register` / `rewards claim` show
   *  while they wait. */
  readonly pending = new Map<Hex, PendingTx>();
  readonly #txListeners = new Set<(e: { event: 'sent' | 'mined'; tx: PendingTx }) => void>();

  private constructor(anvil: RunningAnvil | undefined, rpcUrl: string, chain: Chain, account: PrivateKeyAccount, contracts: Deployment, signer?: ExternalSignerOptions) {
    this.#anvil = anvil;
    this.embedded = anvil !== undefined;
    this.rpcUrl = rpcUrl;
    this.chain = chain;
    this.client = createPublicClient({ chain, transport: http(rpcUrl) }) as PublicClient;
    this.#wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
    this.account = account;
    this.contracts = contracts;
    this.signer = signer ? new ExternalSigner(signer, chain) : undefined;
  }

  /** The account that submits transactions and pays their gas. */
  sender(): Promise<Address> {
    return this.signer ? this.signer.account() : Promise.resolve(this.account.address);
  }

  /** Sends a contract call from sender(); resolves with its hash once submitted. */
  write(call: ContractWrite): Promise<Hex> {
    if (this.signer) return this.signer.write(this.client, call);
    return this.#wallet.writeContract({ ...call, account: this.account, chain: this.chain } as never);
  }

  /**
   * Waits for a transaction this node sent to be mined, however long the chain takes (a slow block,
   * a gas price the chain is slow to take): no timeout — the caller shows progress and the user may
   * interrupt; the transaction goes through or not whether anyone waits. Listed in `pending` meanwhile.
   */
  async mined(tx: Hex, what: string): Promise<Awaited<ReturnType<PublicClient['waitForTransactionReceipt']>>> {
    const p: PendingTx = { what, tx, sentAt: Date.now() };
    this.pending.set(tx, p);
    this.#emitTx('sent', p);
    try {
      return await this.client.waitForTransactionReceipt({ hash: tx, timeout: 0 });
    } finally {
      this.pending.delete(tx);
      this.#emitTx('mined', p);
    }
  }

  /** Calls `fn` as each transaction is sent and mined (or given up on); returns how to stop. */
  onTransaction(fn: (e: { event: 'sent' | 'mined'; tx: PendingTx }) => void): () => void {
    this.#txListeners.add(fn);
    return () => void this.#txListeners.delete(fn);
  }

  #emitTx(event: 'sent' | 'mined', tx: PendingTx): void {
    for (const fn of this.#txListeners) {
      try {
        fn({ event, tx });
      } catch {
        // a listener's bug is not the transaction's
      }
    }
  }

  /** Runs `fn` after every earlier one finished: a relayed registration signs the owner's nonce,
   *  which two at once would both use. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => fn(), () => fn());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  static async start(opts: NodeChainOptions): Promise<NodeChain> {
    const account = privateKeyToAccount(toHex(opts.ethSecret));
    if (opts.rpcUrl) {
      if (!opts.chainId) throw new Error('--chain-rpc needs --chain-id');
      if (!opts.contracts) throw new Error('--chain-rpc needs the contracts\' addresses (--chain-contracts REGISTRY,TOKEN,POOL)');
      const chain = chainOf(opts.chainId, opts.rpcUrl);
      const client = createPublicClient({ chain, transport: http(opts.rpcUrl) });
      const id = await client.getChainId();
      if (id !== opts.chainId) throw new Error(`the chain at ${opts.rpcUrl} has id ${id}, not ${opts.chainId}`);
      return new NodeChain(undefined, opts.rpcUrl, chain, account, opts.contracts, opts.signer);
    }
    if (opts.signer) throw new Error('an external signer is for an external chain (--chain-rpc): the embedded chain funds the node itself');
    const dir = join(opts.stateDir, 'chain');
    mkdirSync(dir, { recursive: true });
    const anvil = await startAnvil({ statePath: join(dir, 'state.json'), nice: 10, ...(opts.chainId ? { chainId: opts.chainId } : {}) });
    try {
      const chain = chainOf(anvil.chainId, anvil.rpcUrl);
      const client = createPublicClient({ chain, transport: http(anvil.rpcUrl) }) as PublicClient;
      const contracts = await deployedOrNew(dir, client, chain, anvil.rpcUrl);
      if ((await client.getBalance({ address: account.address })) === 0n) {
        await client.request({ method: 'anvil_setBalance' as never, params: [account.address, toHex(NODE_FUNDING_WEI)] as never });
      }
      return new NodeChain(anvil, anvil.rpcUrl, chain, account, contracts);
    } catch (err) {
      await anvil.stop();
      throw err;
    }
  }

  async status(): Promise<ChainStatus> {
    const [block, ether, token, signer] = await Promise.all([
      this.client.getBlockNumber(),
      this.client.getBalance({ address: this.account.address }),
      this.client.readContract({ address: this.contracts.token, abi: cascadeToken.abi, functionName: 'balanceOf', args: [this.account.address] }) as Promise<bigint>,
      this.#signerStatus(),
    ]);
    return {
      embedded: this.embedded,
      rpcUrl: this.rpcUrl,
      chainId: this.chain.id,
      block: block.toString(),
      contracts: this.contracts,
      account: this.account.address,
      balances: { ether: ether.toString(), token: token.toString() },
      ...(signer ? { signer } : {}),
    };
  }

  async #signerStatus(): Promise<ChainStatus['signer']> {
    if (!this.signer) return undefined;
    const url = this.signer.url;
    let account: Address;
    try {
      account = await this.signer.account();
    } catch (err) {
      return { url, account: null, ether: null, error: (err as Error).message };
    }
    return { url, account, ether: (await this.client.getBalance({ address: account })).toString() };
  }

  /** The embedded chain's state file as its start found it: cut short and restored, or lost (state-file.ts). */
  get stateCheck(): StateCheck {
    return this.#anvil?.stateCheck ?? {};
  }

  async close(): Promise<void> {
    await this.#anvil?.stop();
  }
}

function chainOf(id: number, rpcUrl: string): Chain {
  return defineChain({ id, name: `chain ${id}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
}

function devWallet(chain: Chain, rpcUrl: string) {
  return createWalletClient({ account: privateKeyToAccount(DEV_DEPLOYER_KEY), chain, transport: http(rpcUrl) });
}

/** The embedded chain's contracts: those recorded in deployment.json if the chain still has their
 *  code (its state file was kept), else deployed now and recorded (whole or not at all: a file cut
 *  short by a crash in the middle of its write would stop the chain from starting again). */
async function deployedOrNew(dir: string, client: PublicClient, chain: Chain, rpcUrl: string): Promise<Deployment> {
  const file = join(dir, 'deployment.json');
  if (existsSync(file)) {
    const known = JSON.parse(readFileSync(file, 'utf8')) as Deployment;
    const code = await client.getCode({ address: known.pool });
    if (code && code !== '0x') {
      if (known.market) return known;
      // Deployed before the market existed: the market joins the contracts there.
      const market = await deployMarket(devWallet(chain, rpcUrl), client, known.registry);
      writeWhole(file, `${JSON.stringify({ ...known, market }, null, 2)}\n`);
      return { ...known, market };
    }
  }
  const wallet = devWallet(chain, rpcUrl);
  const d = await deployContracts(wallet, client);
  writeWhole(file, `${JSON.stringify(d, null, 2)}\n`);
  return d;
}
