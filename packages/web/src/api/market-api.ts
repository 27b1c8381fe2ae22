// The node's market routes (issue 62, packages/http/src/routes/market.ts): listings on the market
// contract, this node's purchases and sales, and selling, buying, delisting and refunds with the
// node's account. Answers are @cascade/shapes' Market* shapes; a list may come bare or wrapped.
import { request } from './api.ts';
import type { MarketDeliverResult, MarketFeedEvent, MarketListing, MarketOrder, MarketSellRequest, MarketTxResult, MarketWalletTerms } from '@cascade/shapes';

export type { MarketFeedEvent, MarketListing, MarketOrder, MarketSellRequest, MarketTxResult, MarketWalletTerms };

/** The live feed's `market` events (state/live.ts dispatches them; detail: MarketFeedEvent): an open
 *  Market page updates its rows from them instead of waiting for its next read. */
export const marketChanged = new EventTarget();

function listOf<T>(raw: unknown, key: string): T[] {
  if (Array.isArray(raw)) return raw as T[];
  const inner = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
  return Array.isArray(inner) ? (inner as T[]) : [];
}

export const marketApi = {
  listings: async () => listOf<MarketListing>(await request<unknown>('GET', '/api/market/listings'), 'listings'),
  orders: async () => listOf<MarketOrder>(await request<unknown>('GET', '/api/market/orders'), 'orders'),
  sell: (req: MarketSellRequest) => request<MarketTxResult>('POST', '/api/market/listings', req),
  /** Buys at the price and token the buyer saw: the node refuses if the listing changed since. */
  buy: (l: Pick<MarketListing, 'id' | 'price' | 'token'>) => request<MarketTxResult>('POST', `/api/market/listings/${encodeURIComponent(l.id)}/buy`, { price: l.price, token: l.token }),
  delist: (id: string) => request<MarketTxResult>('DELETE', `/api/market/listings/${encodeURIComponent(id)}`),
  refund: (id: string) => request<MarketTxResult>('POST', `/api/market/orders/${encodeURIComponent(id)}/refund`),
  deliver: () => request<MarketDeliverResult>('POST', '/api/market/deliver'),
  /** The chain, contract and this node's X25519 key: what a browser's wallet needs to buy for it. */
  wallet: () => request<MarketWalletTerms>('GET', '/api/market/wallet'),
  /** The node looks at the chain now (a wallet just bought for it). */
  wake: () => request<{ ok: boolean }>('POST', '/api/market/wake'),
};
