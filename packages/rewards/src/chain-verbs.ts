// The chain verbs with no node running (issue 44): `cascade register`, `verify`, `rewards` and
// `rewards claim` open the state directory themselves — its identity (the account that owns
// registrations and receives rewards), the receipts a `seed`, `download` or `serve` kept in
// <state dir>/chain/receipts.db, and its chain (the embedded dev chain with its state in
// <state dir>/chain, or --chain-rpc) — and answer with the handlers a running node serves
// (chainRpc), so the answers are the same.
import type { NodeChain } from '@cascade/chain';
import { NodeError, StateDB, errorMessage, loadEngine, resolveInfoHash, stateOpenOptions, storedMetainfo } from '@cascade/node/verbs';
import { nodeIdentity, type NodeLog, type RpcHandlers } from '@cascade/node/rewards-host';
import { ChainService, chainRpc, metainfoOfTorrent, type ChainConfig, type RegistryHost } from './chain-service.ts';
import { ReceiptExchange, type ReceiptPeers } from './receipt-exchange.ts';
import { ReceiptStore } from './receipt-store.ts';

export interface ChainVerbs {
  /** register, verify, rewards, rewards.claim, chain, chain.pending: as a running node answers them. */
  handlers: RpcHandlers;
  /** The chain once it runs; throws why it does not. */
  ready(): Promise<NodeChain>;
  /** Receipts held for another chain or pool than the one opened (a `seed` run with other chain
   *  options): counted by chain and pool, so the verb can say which options reach them. */
  heldElsewhere(): Promise<{ chainId: string; pool: string; receipts: number }[]>;
  /** Stops the embedded chain (anvil writes its state on the way out) and closes the stores. */
  close(): Promise<void>;
}

/** No node runs, so no peer connects: the receipts are only counted and claimed. */
const NO_PEERS: ReceiptPeers = { onMessage() {}, of: () => undefined, wirePeer: () => undefined, ledger: { hashFailed() {} } };

/** Opens the state directory's chain and receipts; `log` gets the chain's start-up lines. */
export async function openChainVerbs(stateDir: string, config: Exclude<ChainConfig, false>, log: NodeLog, opts: { ipfsApi?: string; database?: string } = {}): Promise<ChainVerbs> {
  const db = await StateDB.open(stateDir, stateOpenOptions(stateDir, opts.database));
  const identity = nodeIdentity(db);
  const service = new ChainService(config, opts);
  const store = new ReceiptStore(db, (err) => log.note(`receipts: ${errorMessage(err)}`));
  const receipts = new ReceiptExchange(store, NO_PEERS, {
    get chain() {
      return service.chain;
    },
    terms: () => service.terms(stateDir, identity),
    whenRunning: () => service.started,
  }, log);
  // A chain that does not start is said once, by the verb's call (ready() throws with what stopped it).
  service.start(stateDir, identity, (line, failure) => {
    if (failure === undefined) log.note(line);
  });
  const host: RegistryHost = {
    resolve: (arg) => resolveInfoHash(arg, db.infoHashes()),
    async metainfoOf(p) {
      if (typeof p.torrent === 'string') return metainfoOfTorrent(p.torrent);
      if (typeof p.infoHash !== 'string') throw new NodeError('invalid', 'register wants an infohash or a .torrent file');
      const rec = db.getTorrent(host.resolve(p.infoHash));
      if (!rec) throw new NodeError('not-found', `no torrent ${p.infoHash} in the library at ${stateDir}: give its .torrent file`);
      const lib = await loadEngine();
      const meta = await storedMetainfo(rec, db, lib);
      if (!meta) throw new NodeError('failed', `${rec.infoHash} has no metadata yet: its name and files are unknown (give its .torrent file)`);
      const magnet = lib.toMagnet({ infoHashHex: meta.infoHashHex, ...(meta.infoHashV2Hex ? { infoHashV2Hex: meta.infoHashV2Hex } : {}), name: meta.name, trackers: meta.announce.flat() });
      return { meta, magnet };
    },
  };
  return {
    handlers: chainRpc(service, host, receipts),
    ready: () => service.ready(),
    async heldElsewhere() {
      const chain = await service.ready();
      const here = `${chain.chain.id} ${chain.contracts.pool.toLowerCase()}`;
      const other = new Map<string, { chainId: string; pool: string; receipts: number }>();
      await store.ready;
      for (const h of store.allHeld()) {
        const key = `${h.chainId} ${h.pool.toLowerCase()}`;
        if (key === here) continue;
        const entry = other.get(key) ?? { chainId: h.chainId.toString(), pool: h.pool, receipts: 0 };
        entry.receipts++;
        other.set(key, entry);
      }
      return [...other.values()];
    },
    async close() {
      receipts.close();
      try {
        await service.close();
      } finally {
        await store.ready;
        await db.close();
      }
    },
  };
}
