// The market (issue 62) on `serve`: its control RPCs from the start, and, once the chain runs with
// a market contract, the watchers that deliver this node's sales and open its purchases.
// @cascade/market is loaded with a dynamic import here, when first needed: a node that never
// trades, and `cascade download`, never load it.
import type { CascadeNode } from '@cascade/node';
import { NodeError } from '@cascade/node';
import type { MarketChain, MarketService } from '@cascade/market';
import type { MarketFeedEvent } from '@cascade/shapes';
import type { MarketView } from '@cascade/assistant';

type Handler = (p: Record<string, unknown>) => Promise<unknown>;
const METHODS = ['market.list', 'market.orders', 'market.sell', 'market.buy', 'market.refund', 'market.delist', 'market.deliver', 'market.wallet', 'market.wake'] as const;
/** How often the watchers look at the chain while the node has listings or orders to watch
 *  (CASCADE_MARKET_POLL_MS overrides), and while it has none (CASCADE_MARKET_IDLE_POLL_MS). */
const POLL_MS = 2000;
const IDLE_POLL_MS = 60_000;

export interface NodeMarket {
  rpc: Record<string, Handler>;
  /** Starts the watchers once the chain runs with a market contract (whenever it starts: `serve`'s
   *  embedded chain starts at its first need, or at once when its market has listings). */
  start(): void;
  /** The assistant's view of the market: this node's orders, or why there is no market (none: no chain). */
  assistantView(): Promise<MarketView | undefined>;
  close(): Promise<void>;
}

export function wireMarket(node: CascadeNode, chain: { ready(): Promise<MarketChain>; readonly started: Promise<void>; readonly chain: MarketChain | undefined }, changed: (e?: MarketFeedEvent) => void): NodeMarket {
  let service: Promise<MarketService> | undefined;
  const load = (): Promise<MarketService> =>
    (service ??= import('@cascade/market').then(
      (m) =>
        new m.MarketService(async () => {
          const c = await chain.ready();
          if (!c.contracts.market) throw new NodeError('failed', `chain ${c.chain.id} has no market contract: deploy one with \`cascade chain deploy\` and give its "market" in --chain-contracts`);
          return c;
        }, m.nodeMarketHost(node, { changed })),
    ));
  let handlers: Promise<Record<string, Handler>> | undefined;
  const rpc = Object.fromEntries(
    METHODS.map((name) => [name, async (p: Record<string, unknown>) => (await (handlers ??= import('@cascade/market').then((m) => m.marketRpc(load))))[name]!(p)]),
  );
  let closed = false;
  return {
    rpc,
    start() {
      void chain.started.then(async () => {
        if (closed || !chain.chain?.contracts.market) return;
        const s = await load();
        if (!closed) s.watch(Number(process.env.CASCADE_MARKET_POLL_MS) || POLL_MS, Number(process.env.CASCADE_MARKET_IDLE_POLL_MS) || IDLE_POLL_MS);
      }).catch((err: unknown) => node.out.note(`market: ${(err as Error).message}`));
    },
    async assistantView() {
      const c = chain.chain;
      if (!c) return undefined;
      if (!c.contracts.market) return { problem: `this node's chain (id ${c.chain.id}) has no market contract: deploy one with \`cascade chain deploy\` and give its "market" in --chain-contracts`, orders: [] };
      const orders = await (await load()).orders();
      return { orders: orders.map((o) => ({ id: o.id, name: o.name, role: o.role, status: o.status, deadline: o.deadline, priceShown: o.priceShown })) };
    },
    async close() {
      closed = true;
      (await service?.catch(() => undefined))?.close();
    },
  };
}
