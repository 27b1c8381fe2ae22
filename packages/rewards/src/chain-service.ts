// The node's chain (issue 13), started in the background so a slow or missing chain never holds the
// node up: at once (start: an external chain, the chain verbs) or at its first need (startWhenNeeded:
// the embedded dev chain of `serve`, issue 64, and of the one-shot `seed` and `download`, issue 60):
// whatever uses it, i.e. its status (/api/health, `cascade health`), ready() (register, verify,
// rewards, claims, the market) and need() (the automatic claim). Receipts are signed and checked
// without it (terms). Its state is what /api/health, `cascade health` and the Network page show:
// starting (also the first answer of a chain left to its first need: that read starts it), running
// (chain id, block, contracts, account, balances), off, or the error that stopped it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChainStatus, NodeChain, TorrentMetadata } from '@cascade/chain';
import { NodeError, errorMessage, InvalidInput } from '@cascade/node/basics';
import { loadEngine } from '@cascade/node/verbs';
import { magnetOf, type InfoHashResolver, type Metainfo, type NodeCore, type RpcHandlers, type RpcParams } from '@cascade/node/rewards-host';
import { pinBlock } from './ipfs-pin.ts';
import type { ReceiptExchange, ReceiptSigner } from './receipt-exchange.ts';

/** false: no chain. Otherwise the embedded dev chain, or `rpcUrl` + `chainId` + `contracts`. */
export type ChainConfig =
  | false
  | {
      rpcUrl?: string;
      chainId?: number;
      contracts?: { registry: `0x${string}`; token: `0x${string}`; pool: `0x${string}`; market?: `0x${string}` };
      /** --chain-signer URL [--chain-from ADDRESS]: an account there pays the gas. */
      signer?: { url: string; from?: `0x${string}` };
    };


export type ChainHealth =
  | ({ state: 'running' } & ChainStatus)
  | { state: 'starting' | 'off' }
  | { state: 'error'; error: string };

const STATUS_TIMEOUT_MS = 3000;

export class ChainService {
  #chain: NodeChain | undefined;
  #error: string | undefined;
  /** What stopped it, as thrown: ready()'s cause, so a verb can say what failed (a refused connection). */
  #failure: unknown;
  #closed = false;
  readonly #config: ChainConfig;
  #blocksDir = '';
  #did = '';
  /** The start's run, once it began. */
  #run: Promise<void> = Promise.resolve();
  /** Resolved once a start has ended (running or failed), whenever it began, or the service closed. */
  readonly #settled = Promise.withResolvers<void>();
  #begun = false;
  /** startWhenNeeded's arguments until the first need starts the chain with them. */
  #whenNeeded: Parameters<ChainService['start']> | undefined;
  #terms: Promise<ReceiptSigner | undefined> | undefined;

  readonly #ipfsApi: string | undefined;

  constructor(config: ChainConfig, opts: { ipfsApi?: string } = {}) {
    this.#config = config;
    this.#ipfsApi = opts.ipfsApi;
    if (config === false) this.#settled.resolve();
  }

  /** Resolves once the chain's start has ended (it runs, or failed: see chain), whenever it began
   *  (a chain left to its first need may never start: then when the service closes). Starts nothing. */
  get started(): Promise<void> {
    return this.#settled.promise;
  }

  /** Starts the chain in the background (see started); once (a later call does nothing). A chain
   *  that does not start is logged with what stopped it (`failure`), for a log that says it its own way. */
  start(stateDir: string, identity: { ethSecret: Uint8Array; did: string }, log: (line: string, failure?: unknown) => void): void {
    const config = this.#config;
    const ethSecret = identity.ethSecret;
    this.#did = identity.did;
    this.#blocksDir = join(stateDir, 'chain', 'blocks');
    this.#whenNeeded = undefined;
    if (config === false || this.#begun || this.#closed) return;
    this.#begun = true;
    this.#run = (async () => {
      try {
        // Loaded here: viem and the artifacts are only paid for by nodes that run a chain.
        const { NodeChain } = await import('@cascade/chain');
        const chain = await NodeChain.start({ stateDir, ethSecret, ...config });
        if (this.#closed) return void (await chain.close());
        this.#chain = chain;
        const expected = await this.#terms?.catch(() => undefined);
        if (expected && (BigInt(chain.chain.id) !== expected.chainId || chain.contracts.pool.toLowerCase() !== expected.pool.toLowerCase())) {
          log(`chain: receipts exchanged before it started name chain ${expected.chainId} pool ${expected.pool}, but it runs ${chain.chain.id} with pool ${chain.contracts.pool}: those cannot be claimed here`);
        }
        log(`chain: ${chain.embedded ? 'embedded dev chain' : chain.rpcUrl}, id ${chain.chain.id}, registry ${chain.contracts.registry}, account ${chain.account.address}`);
        const state = chain.stateCheck;
        if (state.broken) {
          const went = state.lost ? 'no good copy was kept either: the chain starts empty' : `went on from its copy of ${new Date(state.restoredFrom!).toISOString()}; what the chain did after that is lost`;
          log(`chain: its state file was cut short (a power loss, a full disk or a kill in the middle of its write); kept as ${state.broken}; ${went}`);
        }
        if (chain.signer) log(await signerLine(chain));
      } catch (err) {
        this.#error = errorMessage(err);
        this.#failure = err;
        log(`chain: not started: ${this.#error}`, err);
      }
    })();
    void this.#run.then(this.#settled.resolve);
  }

  /** As start, but the chain starts at its first need (see the header): a node that never uses it
   *  never loads viem nor spawns anvil. Its metadata blocks (blockBytes) are readable meanwhile. */
  startWhenNeeded(stateDir: string, identity: { ethSecret: Uint8Array; did: string }, log: (line: string, failure?: unknown) => void): void {
    this.#did = identity.did;
    this.#blocksDir = join(stateDir, 'chain', 'blocks');
    if (this.#config === false || this.#begun) return;
    this.#whenNeeded = [stateDir, identity, log];
  }

  /** A chain left to its first need starts now. Resolves once its start has ended (started). */
  need(): Promise<void> {
    const args = this.#whenNeeded;
    if (args) this.start(...args);
    return this.started;
  }

  get chain(): NodeChain | undefined {
    return this.#chain;
  }

  /** Whether the embedded chain saved in `stateDir` has market listings (no viem, no anvil:
   *  embeddedMarketListed); false for an external chain or none. */
  async marketListed(stateDir: string): Promise<boolean> {
    const config = this.#config;
    if (config === false || config.rpcUrl) return false;
    const { embeddedMarketListed } = await import('@cascade/chain/embedded');
    return embeddedMarketListed(stateDir);
  }

  /**
   * The chain id, pool and account receipts carry, known before the chain runs (receiptTermsOf):
   * receipts are signed and checked without waiting for it, so the embedded chain can start after
   * a transfer instead of during it. Undefined without a chain.
   */
  terms(stateDir: string, identity: { ethSecret: Uint8Array; address: `0x${string}` }): Promise<ReceiptSigner | undefined> {
    const config = this.#config;
    if (config === false) return Promise.resolve(undefined);
    this.#terms ??= import('@cascade/chain/receipts').then((c) => ({ ...c.receiptTermsOf({ stateDir, ...config }), address: identity.address, ethSecret: identity.ethSecret }));
    return this.#terms;
  }

  async status(): Promise<ChainHealth> {
    if (this.#config === false) return { state: 'off' };
    void this.need();
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

  /** The running chain, or an error that says why there is none. */
  async ready(): Promise<NodeChain> {
    void this.need();
    await this.#run;
    if (this.#chain) return this.#chain;
    throw new NodeError('failed', this.#config === false ? 'this node runs without a chain (--no-chain)' : `the chain is not running: ${this.#error ?? 'starting'}`, { cause: this.#failure });
  }

  /**
   * Registers a torrent for the node's account with its metadata block (kept in
   * <stateDir>/chain/blocks). Already ours: the record as it is, no transaction. Another owner's:
   * refused with who owns it.
   */
  async register(meta: Metainfo, magnet: string, description?: string): Promise<{ tx: string | null; infoHash: string; owner: string; metadataCid: string; block: number; pinned?: boolean; pinError?: string }> {
    const chain = await this.ready();
    const { metadataBlock, recordOf, register } = await import('@cascade/chain');
    const ih = meta.infoHashHex;
    const existing = await recordOf(chain, ih);
    if (existing) {
      if (existing.owner.toLowerCase() !== chain.account.address.toLowerCase()) {
        throw new NodeError('failed', `${ih} is registered to ${existing.owner} (block ${existing.block}), not to this node's account ${chain.account.address}`);
      }
      return { tx: null, infoHash: ih, owner: existing.owner, metadataCid: existing.metadataCid, block: existing.block };
    }
    const block = await metadataBlock(metadataOf(meta, magnet, this.#did, description));
    mkdirSync(this.#blocksDir, { recursive: true });
    writeFileSync(join(this.#blocksDir, block.cid), block.bytes);
    const { tx, block: at } = await register(chain, ih, block.cid);
    // Pinned after the registration: an IPFS node that is down never stops the record; the result says.
    const pin = this.#ipfsApi ? await pinBlock(this.#ipfsApi, block.cid, block.bytes) : undefined;
    return { tx, infoHash: ih, owner: chain.account.address, metadataCid: block.cid, block: at, ...(pin ? { pinned: pin.pinned, ...(pin.error ? { pinError: pin.error } : {}) } : {}) };
  }

  /** Who registered `infoHash` (undefined: nobody); the owner's did when this node holds the
   *  metadata block (checked against its CID). */
  async verify(infoHash: string): Promise<{ owner: string; did: string | null; metadataCid: string; block: number; matches: boolean | null; arweaveTx: string | null } | undefined> {
    const chain = await this.ready();
    const { recordOf } = await import('@cascade/chain');
    const rec = await recordOf(chain, infoHash);
    if (!rec) return undefined;
    const meta = await this.block(rec.metadataCid).catch(() => undefined);
    // matches: the metadata block (when held) describes this very infohash; null when not held.
    return { owner: rec.owner, did: meta?.owner ?? null, metadataCid: rec.metadataCid, block: rec.block, matches: meta ? meta.infoHash === infoHash : null, arweaveTx: rec.arweaveTx };
  }

  /** Records on chain the Arweave transaction holding a registered torrent's metadata block (issue 61):
   *  nothing to send when the registry already says it. */
  async recordArweave(infoHash: string, arweaveTx: string): Promise<{ tx: string | null; block: number | null }> {
    const chain = await this.ready();
    const { recordOf, recordArweaveTx } = await import('@cascade/chain');
    const rec = await recordOf(chain, infoHash);
    if (!rec) throw new NodeError('failed', `${infoHash} is not registered`);
    if (rec.arweaveTx === arweaveTx) return { tx: null, block: null };
    try {
      return await recordArweaveTx(chain, infoHash, arweaveTx);
    } catch (err) {
      throw new NodeError('failed', errorMessage(err));
    }
  }

  /** A metadata block this node holds, verified against its CID. */
  async block(cid: string): Promise<TorrentMetadata | undefined> {
    const bytes = await this.blockBytes(cid);
    if (!bytes) return undefined;
    const { readMetadataBlock } = await import('@cascade/chain');
    return readMetadataBlock(cid, bytes);
  }

  /** The bytes of a block this node holds (its file name is its CID: nothing else is reachable). */
  async blockBytes(cid: string): Promise<Uint8Array | undefined> {
    if (!/^[a-z2-7]{20,100}$/.test(cid) || !this.#blocksDir) return undefined;
    const path = join(this.#blocksDir, cid);
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#whenNeeded = undefined;
    await this.#run;
    this.#settled.resolve();
    await this.#chain?.close();
  }
}

/** Which account pays gas through the external signer, and how it was chosen (or why unknown). */
async function signerLine(chain: NodeChain): Promise<string> {
  const signer = chain.signer!;
  try {
    const account = await signer.account();
    return `chain: gas paid by ${account} through the external signer at ${signer.url}${signer.given ? '' : ' (the first of its eth_accounts; --chain-from picks another)'}`;
  } catch (err) {
    return `chain: external signer: ${errorMessage(err)}; transactions fail until it answers`;
  }
}

function metadataOf(meta: Metainfo, magnet: string, did: string, description?: string): TorrentMetadata {
  return {
    v: 1,
    infoHash: meta.infoHashHex,
    name: meta.name,
    files: meta.files.filter((f) => !f.pad).map((f) => ({ path: f.path.join('/'), length: f.length })),
    length: meta.length,
    magnet,
    ...(description ? { description } : {}),
    owner: did,
  };
}

/** What the registry RPCs need of the node: a torrent's metainfo and magnet by infohash (or from
 *  .torrent bytes the CLI read). */
export interface RegistryHost {
  metainfoOf(p: RpcParams): Promise<{ meta: Metainfo; magnet: string }>;
  resolve(arg: string): string;
}

/** The control RPCs `chain` → ChainHealth (for `cascade health`), `register`, `verify`, `rewards`,
 *  `rewards.claim`, and `chain.pending`: the transactions sent and not mined yet (what
 *  `cascade register` and `rewards claim` show while they wait). */
export function chainRpc(service: ChainService, host: RegistryHost, receipts: ReceiptExchange): RpcHandlers {
  return {
    chain: () => service.status(),
    'chain.pending': () => ({ pending: [...(service.chain?.pending.values() ?? [])] }),
    rewards: async () => receipts.rewards(await service.ready()),
    'rewards.claim': async () => {
      await service.ready();
      return receipts.claim();
    },
    register: async (p) => {
      const { meta, magnet } = await host.metainfoOf(p);
      return service.register(meta, magnet, typeof p.description === 'string' ? p.description : undefined);
    },
    'register.arweave': async (p) => {
      if (typeof p.infoHash !== 'string' || !/^[0-9a-fA-F]{40}$/.test(p.infoHash)) throw new InvalidInput('register.arweave wants a full 40-digit infohash');
      if (typeof p.tx !== 'string') throw new InvalidInput('register.arweave wants the Arweave transaction id (tx)');
      return service.recordArweave(p.infoHash.toLowerCase(), p.tx);
    },
    verify: async (p) => {
      if (typeof p.infoHash !== 'string' || !/^[0-9a-fA-F]{40}$/.test(p.infoHash)) throw new InvalidInput('verify wants a full 40-digit infohash');
      const ih = p.infoHash.toLowerCase();
      const r = await service.verify(ih);
      if (!r) throw new NodeError('failed', `${ih} is not registered`);
      return { infoHash: ih, ...r };
    },
  };
}

/** The registry's view of a node: a loaded torrent's metainfo by infohash (or prefix), or a
 *  .torrent the CLI read (base64 `torrent`) for one the node does not have. */
export function registryHost(node: Pick<NodeCore, 'session'> & InfoHashResolver): RegistryHost {
  return {
    resolve: (arg) => node.resolve(arg),
    async metainfoOf(p) {
      if (typeof p.torrent === 'string') return metainfoOfTorrent(p.torrent);
      if (typeof p.infoHash !== 'string') throw new InvalidInput('register wants an infohash or a .torrent file');
      const t = node.session.get(node.resolve(p.infoHash));
      if (!t) throw new NodeError('not-found', `no torrent ${p.infoHash} on this node`);
      if (!t.metainfo) throw new NodeError('failed', `${t.infoHashHex} has no metadata yet: its name and files are unknown`);
      return { meta: t.metainfo, magnet: magnetOf(t) };
    },
  };
}

/** The metainfo and magnet of .torrent bytes the CLI read (base64). */
export async function metainfoOfTorrent(base64: string): Promise<{ meta: Metainfo; magnet: string }> {
  const lib = await loadEngine();
  let meta: Metainfo;
  try {
    meta = lib.parseTorrent(new Uint8Array(Buffer.from(base64, 'base64')));
  } catch (err) {
    throw new InvalidInput(`not a .torrent file: ${errorMessage(err)}`);
  }
  return { meta, magnet: lib.toMagnet({ infoHashHex: meta.infoHashHex, name: meta.name, trackers: meta.announce.flat() }) };
}
