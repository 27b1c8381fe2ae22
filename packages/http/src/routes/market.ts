// The market over HTTP (issue 62): the same handlers as `cascade market …` (@cascade/market's
// control RPCs, wired by app/market.ts), so both doors answer the same shapes (@cascade/shapes:
// MarketListing, MarketOrder, MarketTxResult, MarketDeliverResult). Reading is for any signed-in
// user; selling, buying, refunding and delivering spend the node's account: the owner's.
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { errors } from '../schemas/api.ts';

const tags = ['market'];
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,30}$' } } } as const;
const sellBody = {
  type: 'object',
  required: ['share', 'price'],
  properties: {
    share: { type: 'string', description: 'the private share: its infohash (or a unique prefix) on this node' },
    price: { type: 'string', description: 'a number of tokens: "5", "0.25"' },
    token: { type: 'string', description: 'SEED (default), ETH, or an ERC-20 address' },
    royalty: { type: 'string', description: 'to the registered owner: "5%" or "250bps"' },
    deadline: { type: 'string', description: 'how long the seller has to deliver: "1h" (default), "30m", "2d"' },
  },
} as const;
const buyBody = {
  type: ['object', 'null'],
  properties: {
    price: { type: 'string', description: 'the price the buyer saw, in base units: refused if the listing changed' },
    token: { type: 'string', description: 'the token the buyer saw' },
  },
} as const;

export function marketRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const rpc = ctx.marketRpc;
  if (!rpc) return;
  const call = (name: string, p: Record<string, unknown> = {}) => rpc[name]!(p);
  type Id = { Params: { id: string } };

  app.get('/api/market/listings', {
    config: { access: 'viewer' },
    schema: { summary: 'Every listing on the market contract (name, size, price, seller and did, sales, active)', tags, response: errors(409) },
    handler: () => call('market.list'),
  });
  app.post<{ Body: Record<string, unknown> }>('/api/market/listings', {
    config: { access: 'owner' },
    schema: { summary: 'Sell access to a private share this node can open (refused for one it cannot)', tags, body: sellBody, response: errors(400, 404, 409) },
    handler: async (req) => {
      const r = await call('market.sell', req.body);
      ctx.changed();
      return r;
    },
  });
  app.post<Id & { Body: Record<string, unknown> | null }>('/api/market/listings/:id/buy', {
    config: { access: 'owner' },
    schema: { summary: 'Buy a listing with the node\'s account: the price goes into escrow until the seller delivers the key', tags, params: idParams, body: buyBody, response: errors(400, 404, 409) },
    handler: async (req) => {
      const r = await call('market.buy', { ...(req.body ?? {}), listing: req.params.id });
      ctx.changed();
      return r;
    },
  });
  app.delete<Id>('/api/market/listings/:id', {
    config: { access: 'owner' },
    schema: { summary: 'Delist (open orders are still delivered or refunded)', tags, params: idParams, response: errors(400, 404, 409) },
    handler: async (req) => call('market.delist', { listing: req.params.id }),
  });
  app.get('/api/market/orders', {
    config: { access: 'viewer' },
    schema: { summary: 'This node\'s purchases and sales with their status (paid, delivered, opened, refunded, expired, bad-key)', tags, response: errors(409) },
    handler: () => call('market.orders'),
  });
  app.post<Id>('/api/market/orders/:id/refund', {
    config: { access: 'owner' },
    schema: { summary: 'Return an undelivered order\'s price to its buyer, after its deadline', tags, params: idParams, response: errors(400, 404, 409) },
    handler: async (req) => {
      const r = await call('market.refund', { order: req.params.id });
      ctx.changed();
      return r;
    },
  });
  app.get('/api/market/wallet', {
    config: { access: 'viewer' },
    schema: { summary: 'What a browser\'s wallet (EIP-1193) needs to buy for this node: chain id, market contract, this node\'s X25519 key as buyerKey', tags, response: errors(409) },
    handler: () => call('market.wallet'),
  });
  app.post('/api/market/wake', {
    config: { access: 'member' },
    schema: { summary: 'Have the node look at the chain now (after a wallet bought for it): it opens the purchase once delivered', tags, response: errors(409) },
    handler: () => call('market.wake'),
  });
  app.post('/api/market/deliver', {
    config: { access: 'owner' },
    schema: { summary: 'Deliver every paid order of this node\'s listings now (serve also does it by itself)', tags, response: errors(409) },
    handler: () => call('market.deliver'),
  });
}
