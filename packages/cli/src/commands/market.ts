// `cascade market …`: sell and buy access to private shares on the running node's chain (issue 62,
// docs/market.md). The market lives in `cascade serve` (its control RPCs are market.*); every form
// takes --json and answers the shapes the HTTP API does (@cascade/shapes).
import { connectControl, NodeError, type ControlClient } from '@cascade/node';
import type { MarketDeliverResult, MarketListing, MarketOrder, MarketTxResult } from '@cascade/shapes';
import { CliError, UsageError } from '../core/errors.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';
import { formatBytes } from '../output/format.ts';

const USAGE = 'market [list] | market sell <share> --price N [--token SEED|ETH|ADDRESS] [--royalty PCT] [--deadline TIME] | market buy <listing> | market orders | market refund <order> | market deliver | market delist <listing>';
/** A purchase approves and buys (two transactions), a deliver pass sends one per order: beyond a verb's usual wait. */
const MARKET_CALL_MS = 5 * 60_000;
const SELL_ONLY = ['price', 'token', 'royalty', 'deadline'] as const;

function listingLine(l: MarketListing): string {
  const size = l.size === null ? '' : ` (${formatBytes(l.size)})`;
  const royalty = l.royaltyBps > 0 ? `, ${l.royaltyBps / 100}% royalty` : '';
  const state = l.active ? '' : ' [delisted]';
  return `${l.id.padStart(3)}  ${l.name ?? l.infoHash}${size}  ${l.priceShown}${royalty}  ${l.sales} sold${state}${l.mine ? ' (yours)' : ''}\n` +
    `     seller ${l.sellerDid ?? l.seller}, delivers within ${l.deliverySeconds} s\n     ${l.link}`;
}

function orderLine(o: MarketOrder): string {
  const when = new Date(o.deadline * 1000).toISOString().replace('T', ' ').slice(0, 19);
  const who = o.role === 'buyer' ? `bought from ${o.seller}` : `sold to ${o.buyer}`;
  return `${o.id.padStart(3)}  ${o.status.padEnd(9)}  ${o.name ?? o.infoHash}  ${o.priceShown}  ${who} (listing ${o.listingId}, deadline ${when} UTC)`;
}

function txLine(r: MarketTxResult, what: string): string {
  return `${what} (tx ${r.tx}, gas ${r.gasUsed})`;
}

export async function marketCommand(inv: Invocation, out: Output, connect: (dir: string) => Promise<ControlClient | undefined> = (d) => connectControl(d, MARKET_CALL_MS)): Promise<number> {
  const [sub = 'list', arg, ...rest] = inv.positionals;
  const v = inv.values;
  const known = ['list', 'sell', 'buy', 'orders', 'refund', 'deliver', 'delist'];
  if (!known.includes(sub)) throw new UsageError(`unknown market command "${sub}"\nusage: cascade ${USAGE}`);
  const stray = SELL_ONLY.find((k) => v[k] !== undefined && sub !== 'sell');
  if (stray) throw new UsageError(`--${stray} belongs to \`cascade market sell\``);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"\nusage: cascade ${USAGE}`);
  const wantsArg = ['sell', 'buy', 'refund', 'delist'].includes(sub);
  if (wantsArg && arg === undefined) throw new UsageError(`market ${sub} needs ${sub === 'sell' ? 'the share (its infohash)' : sub === 'refund' ? 'the order id' : 'the listing id'}\nusage: cascade ${USAGE}`);
  if (!wantsArg && arg !== undefined) throw new UsageError(`unexpected argument "${arg}"\nusage: cascade ${USAGE}`);
  if (sub === 'sell' && typeof v.price !== 'string') throw new UsageError('market sell needs --price N (in tokens: 5, 0.25)');

  const node = await connect(inv.options.stateDir);
  if (!node) throw new CliError('no running node (start one with `cascade serve`; the market runs there)');
  const call = async <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
    try {
      return await node.call<T>(method, params);
    } catch (err) {
      if (err instanceof NodeError && /^unknown method "market\./.test(err.message)) throw new CliError('the running node has no market: it runs in `cascade serve`, not in `download`/`seed`');
      throw err;
    }
  };

  switch (sub) {
    case 'list': {
      const r = await call<{ listings: MarketListing[] }>('market.list');
      out.result(r, () => (r.listings.length === 0 ? 'no listings; sell a private share with `cascade market sell <share> --price N`' : r.listings.map(listingLine).join('\n')));
      return 0;
    }
    case 'sell': {
      const params: Record<string, unknown> = { share: arg };
      for (const k of SELL_ONLY) if (typeof v[k] === 'string') params[k] = v[k];
      const r = await call<MarketTxResult>('market.sell', params);
      out.result(r, () => `${txLine(r, `listed ${r.listing!.name ?? r.listing!.infoHash} as listing ${r.listing!.id} for ${r.listing!.priceShown}`)}\n${r.listing!.link}`);
      return 0;
    }
    case 'buy': {
      const r = await call<MarketTxResult>('market.buy', { listing: arg });
      out.result(r, () => `${txLine(r, `bought listing ${arg}: order ${r.order!.id}, ${r.order!.priceShown} in escrow until the seller delivers (by ${new Date(r.order!.deadline * 1000).toISOString()})`)}\n` +
        'this node opens the share once the key arrives; `cascade market orders` shows where it is');
      return 0;
    }
    case 'orders': {
      const r = await call<{ orders: MarketOrder[] }>('market.orders');
      out.result(r, () => (r.orders.length === 0 ? 'no purchases or sales' : r.orders.map(orderLine).join('\n')));
      return 0;
    }
    case 'refund': {
      const r = await call<MarketTxResult>('market.refund', { order: arg });
      out.result(r, () => txLine(r, `refunded order ${arg}: ${r.order!.priceShown} back to ${r.order!.buyer}`));
      return 0;
    }
    case 'delist': {
      const r = await call<MarketTxResult>('market.delist', { listing: arg });
      out.result(r, () => txLine(r, `delisted ${arg}`));
      return 0;
    }
    default: {
      const r = await call<MarketDeliverResult>('market.deliver');
      out.result(r, () => [
        r.delivered.length === 0 ? 'nothing to deliver' : r.delivered.map((d) => txLine(d, `delivered order ${d.order!.id} to ${d.order!.buyer}`)).join('\n'),
        ...r.failed.map((f) => `order ${f.order} not delivered: ${f.reason}`),
      ].join('\n'));
      return r.failed.length > 0 && r.delivered.length === 0 ? 1 : 0;
    }
  }
}
