// The market's control RPCs (`cascade market …` on a running node), the same handlers the HTTP
// routes call: market.list, market.sell, market.buy, market.orders, market.refund, market.deliver,
// market.wallet (what a browser's wallet needs to buy for this node) and market.wake (look at the chain now).
import type { MarketSellRequest } from '@cascade/shapes';
import type { MarketService } from './service.ts';

type Params = Record<string, unknown>;
export type MarketRpc = Record<string, (p: Params) => Promise<unknown>>;

const str = (p: Params, k: string): string | undefined => (typeof p[k] === 'string' ? (p[k] as string) : undefined);

/** `market` is loaded when first asked (the node that never trades never loads it). */
export function marketRpc(market: () => Promise<MarketService>): MarketRpc {
  return {
    'market.list': async () => ({ listings: await (await market()).listings() }),
    'market.orders': async () => ({ orders: await (await market()).orders() }),
    'market.sell': async (p) => (await market()).sell(sellRequest(p)),
    'market.buy': async (p) => {
      const expect = { ...(str(p, 'price') !== undefined ? { price: str(p, 'price')! } : {}), ...(str(p, 'token') !== undefined ? { token: str(p, 'token')! } : {}) };
      return (await market()).buy(str(p, 'listing') ?? '', expect);
    },
    'market.refund': async (p) => (await market()).refund(str(p, 'order') ?? ''),
    'market.delist': async (p) => (await market()).delist(str(p, 'listing') ?? ''),
    'market.deliver': async () => (await market()).deliverDue(),
    'market.wallet': async () => (await market()).walletTerms(),
    'market.wake': async () => {
      (await market()).wake();
      return { ok: true };
    },
  };
}

export function sellRequest(p: Params): MarketSellRequest {
  const req: MarketSellRequest = { share: str(p, 'share') ?? '', price: str(p, 'price') ?? '' };
  for (const k of ['token', 'royalty', 'deadline'] as const) {
    const v = str(p, k);
    if (v !== undefined) req[k] = v;
  }
  return req;
}
