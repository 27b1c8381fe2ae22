// An external signer (--chain-signer URL): a JSON-RPC endpoint holding a funded account (geth
// with Clef, a hardware-wallet bridge, a node with an unlocked account) that submits the node's
// transactions and pays their gas with `eth_sendTransaction`, so its key never reaches Cascade. Only that method
// and `eth_accounts`/`eth_chainId` are asked of it: gas and fees come from --chain-rpc (a signer
// need not answer estimates), and the nonce is the signer's own business (it may have other
// transactions of that account in flight).
import {
  BaseError, createWalletClient, encodeFunctionData, getAddress, http, HttpRequestError, RpcRequestError, TimeoutError,
  type Abi, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient,
} from 'viem';

export interface ExternalSignerOptions {
  url: string;
  /** Its account; absent: the first of its eth_accounts. */
  from?: Address;
}

/** A user may take minutes to approve on a hardware wallet or in Clef's console. */
const SEND_TIMEOUT_MS = 5 * 60_000;

export interface ContractWrite {
  address: Address;
  abi: Abi | readonly unknown[];
  functionName: string;
  args: readonly unknown[];
  /** Wei sent with the call (a purchase in ether on the market). */
  value?: bigint;
}

export class ExternalSigner {
  readonly url: string;
  /** How the account was chosen: given with --chain-from, or the signer's first. */
  readonly given: boolean;
  readonly #wallet: WalletClient<Transport, Chain>;
  #from: Address | undefined;

  constructor(opts: ExternalSignerOptions, chain: Chain) {
    this.url = opts.url;
    this.given = opts.from !== undefined;
    this.#from = opts.from !== undefined ? getAddress(opts.from) : undefined;
    this.#wallet = createWalletClient({ chain, transport: http(opts.url, { retryCount: 0, timeout: SEND_TIMEOUT_MS }) });
  }

  /** The account that pays: --chain-from, or asked of the signer once (eth_accounts[0]). */
  async account(): Promise<Address> {
    if (this.#from) return this.#from;
    let accounts: Address[];
    try {
      accounts = await this.#wallet.getAddresses();
    } catch (err) {
      throw signerError(this.url, err);
    }
    if (accounts.length === 0) throw new Error(`the signer at ${this.url} holds no account (eth_accounts is empty): name one with --chain-from ADDRESS`);
    this.#from = getAddress(accounts[0]!);
    return this.#from;
  }

  /** Sends `call` from the signer's account; resolves with the transaction hash. */
  async write(client: PublicClient, call: ContractWrite): Promise<Hex> {
    const from = await this.account();
    const data = encodeFunctionData({ abi: call.abi as Abi, functionName: call.functionName, args: call.args });
    const value = call.value ?? 0n;
    const gas = await client.estimateGas({ account: from, to: call.address, data, value });
    const fees = await client.estimateFeesPerGas().catch(async () => ({ gasPrice: await client.getGasPrice() }));
    try {
      // A fifth over the estimate: state can move between the estimate and the signer's approval.
      return await this.#wallet.sendTransaction({ account: from, to: call.address, data, value, gas: (gas * 6n) / 5n, ...fees });
    } catch (err) {
      throw signerError(this.url, err);
    }
  }
}

/** What the signer said, or that it did not answer, naming it: the user must know which program
 *  to look at (locked account, rejected in the wallet, not running). */
export function signerError(url: string, err: unknown): Error {
  if (err instanceof BaseError) {
    const http = err.walk((e) => e instanceof HttpRequestError) as HttpRequestError | null;
    if (http && http.status === undefined) {
      // fetch's own error says only "fetch failed"; its cause says why (ECONNREFUSED, bad port).
      const inner = (http.cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
      return new Error(`the signer at ${url} did not answer (${inner?.code ?? inner?.message ?? http.details})`);
    }
    if (err.walk((e) => e instanceof TimeoutError)) return new Error(`the signer at ${url} did not answer within ${SEND_TIMEOUT_MS / 60_000} minutes`);
    const rpc = err.walk((e) => e instanceof RpcRequestError) as RpcRequestError | null;
    if (rpc) return new Error(`the signer at ${url} refused: ${rpc.details}`);
    if (http) return new Error(`the signer at ${url} answered HTTP ${http.status}: ${http.details}`);
    return new Error(`the signer at ${url}: ${err.shortMessage}`);
  }
  return new Error(`the signer at ${url}: ${(err as Error).message}`);
}
