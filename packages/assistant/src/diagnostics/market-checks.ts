// The market's failure modes (issue 62): a purchase not delivered yet (the seller's node has until its
// deadline), a deadline passed with nothing delivered (the refund is the buyer's to take), a key that
// does not match its listing, a sale this node could not deliver in time, and a chain without a market
// contract (the wrong network). Each finding names the order and the command that settles it.
import type { Finding, MarketView } from '../types.ts';
import { clock, duration } from './format.ts';

const ENTRIES = ['market'];

export function marketChecks(m: MarketView | undefined, now: number): Finding[] {
  if (!m) return [];
  const out: Finding[] = [];
  if (m.problem) {
    out.push({
      id: 'market-wrong-network',
      severity: 'warning',
      title: 'The market cannot be used on this node’s chain',
      evidence: m.problem,
      entries: ENTRIES,
      actions: [{ id: 'chain-health', label: 'Show the chain', href: '#/rewards', command: 'cascade health' }],
    });
  }
  for (const o of m.orders) {
    const what = `order ${o.id}${o.name ? ` (${o.name}, ${o.priceShown})` : ` (${o.priceShown})`}`;
    const left = o.deadline - Math.floor(now / 1000);
    if (o.role === 'buyer' && o.status === 'paid') {
      out.push({
        id: 'market-not-delivered',
        severity: 'info',
        title: `Your purchase ${what} is paid and not delivered yet`,
        evidence: `The price is in escrow; the seller’s node has until ${clock(o.deadline * 1000)} (${duration(Math.max(0, left))} from now) to post the key. If it does not, the price comes back: a refund is possible after that time.`,
        entries: ENTRIES,
        actions: [{ id: 'market-orders', label: 'Open the Market', href: '#/market', command: 'cascade market orders' }],
      });
    } else if (o.role === 'buyer' && o.status === 'expired') {
      out.push({
        id: 'market-deadline-passed',
        severity: 'problem',
        title: `The seller did not deliver ${what} in time: take your refund`,
        evidence: `The deadline was ${clock(o.deadline * 1000)}, ${duration(Math.max(0, -left))} ago, and no key was posted; the seller can no longer deliver it. The price waits in escrow for the refund.`,
        entries: ENTRIES,
        actions: [{ id: 'market-refund', label: 'Refund', request: { method: 'POST', path: `/api/market/orders/${o.id}/refund` }, command: `cascade market refund ${o.id}` }],
      });
    } else if (o.role === 'buyer' && o.status === 'bad-key') {
      out.push({
        id: 'market-bad-key',
        severity: 'problem',
        title: `The key delivered for ${what} does not match its listing`,
        evidence: 'The envelope on chain does not open to the key the listing committed to, so nothing was opened. The contract cannot check envelopes; disputing one on chain is not built (docs/market.md).',
        entries: ENTRIES,
        actions: [],
      });
    } else if (o.role === 'seller' && o.status === 'expired') {
      out.push({
        id: 'market-sale-missed',
        severity: 'warning',
        title: `Your node did not deliver ${what} before its deadline`,
        evidence: `The deadline was ${clock(o.deadline * 1000)}; the buyer gets the price back. Keep \`cascade serve\` running while you have listings: it delivers by itself.`,
        entries: ENTRIES,
        actions: [],
      });
    }
  }
  return out;
}
