// The chain and seeding receipts attached to a running node, the same way for `cascade serve` and
// for the one-shot `seed` and `download`: the chain service, the receipt store and exchange (a
// node watcher, so it must be attached before torrents are added), and the control RPCs
// (`chain`, `register`, `verify`, `rewards`, `rewards.claim`).
import { errorMessage } from '@cascade/node/basics';
import { nodeIdentity, type InfoHashResolver, type NodeCore, type NodeLog, type RpcHandlers, type TorrentEvents } from '@cascade/node/rewards-host';
import { ChainService, chainRpc, registryHost, type ChainConfig } from './chain-service.ts';
import { ReceiptExchange, type ReceiptPeers, type ReceiptTerms } from './receipt-exchange.ts';
import { ReceiptStore } from './receipt-store.ts';

export interface NodeRewards {
  chain: ChainService;
  receipts: ReceiptExchange;
  handlers: RpcHandlers;
  /** Starts the chain in the background (ChainService.start); once. */
  start(log: (line: string, failure?: unknown) => void): void;
  /** Leaves the chain to start at its first need (ChainService.startWhenNeeded): its status, a
   *  verb that uses it, the automatic claim. start() still starts it at once. */
  startWhenNeeded(log: (line: string, failure?: unknown) => void): void;
  /** Whether the embedded chain's saved state has market listings (ChainService.marketListed). */
  marketListed(): Promise<boolean>;
  /** Loads what signing and checking receipts take (and works out their terms) now, so the first
   *  receipt does not stall a transfer that is under way by then. */
  preload(): Promise<void>;
  close(): Promise<void>;
}

/** What rewards attach to: the state, every torrent's events, who the peers are, the log and the control RPCs. */
export type RewardsNode = NodeCore & InfoHashResolver & Pick<TorrentEvents, 'onTorrentEvent'> & {
  readonly identified: ReceiptPeers;
  readonly out: NodeLog;
  readonly control: { extend(handlers: RpcHandlers): void } | undefined;
};

export function attachRewards(node: RewardsNode, config: ChainConfig, terms?: ReceiptTerms, opts: { ipfsApi?: string } = {}): NodeRewards {
  const stateDir = node.db.stateDir;
  const chain = new ChainService(config, opts);
  const store = new ReceiptStore(node.db, (err) => node.out.note(`receipts: ${errorMessage(err)}`));
  const source = {
    get chain() {
      return chain.chain;
    },
    terms: () => chain.terms(stateDir, nodeIdentity(node.db)),
    // The automatic claim: a chain left to its first need starts for it; every wait ends when the
    // node closes.
    whenRunning: () => chain.need(),
  };
  const receipts = new ReceiptExchange(store, node.identified, source, node.out, terms);
  const unfollow = receipts.follow(node);
  const handlers = chainRpc(chain, registryHost(node), receipts);
  node.control?.extend(handlers);
  return {
    chain,
    receipts,
    handlers,
    start(log) {
      chain.start(stateDir, nodeIdentity(node.db), log);
    },
    startWhenNeeded(log) {
      chain.startWhenNeeded(stateDir, nodeIdentity(node.db), log);
    },
    marketListed: () => chain.marketListed(stateDir),
    async preload() {
      await source.terms().catch(() => {});
    },
    async close() {
      receipts.close();
      await chain.close();
      // Its first read (and the old file's copy) ends before the state closes.
      await store.ready;
      unfollow();
    },
  };
}
