// The Market (issue 62): access to private shares sold on chain. Listings (name, size, price,
// seller, sales) with Buy, paid from the node's account into escrow until the seller's node
// delivers the key; this node's listings (Delist), its purchases (paid, delivered, opened,
// refunded; Refund once a deadline passed) and its sales. Selling starts from a private share's
// Sell button (#/market?sell=<infohash>). With a wallet in the browser (EIP-1193) a listing can also
// be bought with it, for this node (market/wallet-buy.ts). Rows follow the live feed's `market`
// events; the page reads everything again every 30 s (5 s while the feed is down) for others' listings.
import { useCallback, useEffect, useState } from 'react';
import { chainAvailability } from '../api/chain-api.ts';
import { marketApi, marketChanged, type MarketFeedEvent, type MarketListing, type MarketOrder } from '../api/market-api.ts';
import { hasWallet } from '../identity/wallet.ts';
import { useLive } from '../state/live.ts';
import { buyWithWallet, type WalletStep } from './market/wallet-buy.ts';
import { Empty } from '../components/ui.tsx';
import { formatBytes, formatDate } from '../format/format.ts';
import { shortAddress0x, shortDid } from '../format/short-id.ts';
import { useRoute } from '../state/router.ts';
import { SellForm } from './market/SellForm.tsx';
import { ListingCard } from './market/ListingCard.tsx';
import './chain.css';

const POLL_MS = 5000;
const FEED_POLL_MS = 30_000;
const WALLET_STEP: Record<WalletStep, string> = { connect: 'Asking the wallet…', approve: 'Approve in the wallet…', buy: 'Confirm in the wallet…', confirm: 'Paying…' };

const STATUS_TEXT: Record<MarketOrder['status'], string> = {
  paid: 'Paid — waiting for the seller’s node to deliver the key',
  delivered: 'Delivered — opening the share',
  opened: 'Opened — the share downloads like any other',
  refunded: 'Refunded',
  expired: 'Not delivered in time — the refund is yours to take',
  'bad-key': 'The key delivered does not match the listing',
};

/** The node's own words for a price ("5 SEED"); the symbol added only if they lack it. */
function price(x: { priceShown: string; symbol: string }): string {
  return x.priceShown.endsWith(x.symbol) ? x.priceShown : `${x.priceShown} ${x.symbol}`;
}

export function MarketView() {
  const route = useRoute();
  const sellShare = route.query.get('sell') ?? undefined;
  /** #/market/<listing id>: that listing's page (what its https link opens). */
  const shownId = route.param;
  const [listings, setListings] = useState<MarketListing[]>();
  const [orders, setOrders] = useState<MarketOrder[]>([]);
  const [unavailable, setUnavailable] = useState<string>();
  const [error, setError] = useState<string>();
  const [note, setNote] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const [walletStep, setWalletStep] = useState<WalletStep>('connect');
  const feed = useLive().connected;
  const wallet = hasWallet();

  const load = useCallback(async () => {
    try {
      const chain = await chainAvailability();
      if (!chain.running) {
        setUnavailable(chain.message);
        return;
      }
      setUnavailable(undefined);
      const [l, o] = await Promise.all([marketApi.listings(), marketApi.orders()]);
      setListings(l);
      setOrders(o);
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), feed ? FEED_POLL_MS : POLL_MS);
    return () => clearInterval(timer);
  }, [load, feed]);

  // The feed's rows, as they change on the node (sold, bought, delivered, opened, refunded, delisted).
  useEffect(() => {
    const on = (ev: Event) => {
      const e = (ev as CustomEvent<MarketFeedEvent>).detail;
      if (e.listing) setListings((ls) => upsert(ls ?? [], e.listing!, (x) => x.id === e.listing!.id));
      if (e.order) setOrders((os) => upsert(os, e.order!, (x) => x.id === e.order!.id && x.role === e.order!.role));
    };
    marketChanged.addEventListener('change', on);
    return () => marketChanged.removeEventListener('change', on);
  }, []);

  /** Runs one transaction (keyed so its button shows it is busy), then reads everything again. */
  const act = async (key: string, what: () => Promise<{ tx: string }>, done: string) => {
    setBusy(key);
    setError(undefined);
    setNote(undefined);
    try {
      const r = await what();
      await load();
      setNote(`${done} (transaction ${r.tx.slice(0, 10)}…)`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(undefined);
    }
  };

  const purchases = orders.filter((o) => o.role === 'buyer');
  const sales = orders.filter((o) => o.role === 'seller');
  return (
    <section className="page market" data-testid="market-page" aria-labelledby="market-title">
      <h1 id="market-title">Market</h1>
      <p className="muted">
        Buy access to private shares: the price waits in escrow until the seller’s node delivers the key, and comes back to you if it
        does not before the deadline. The data comes from whoever seeds it.
      </p>
      {unavailable && <div className="alert alert-warn" role="status" data-testid="market-unavailable">{unavailable}</div>}
      {error && <div className="alert alert-error" role="alert" data-testid="market-error">{error}</div>}
      {note && <div className="muted" role="status" data-testid="market-note">{note}</div>}
      {sellShare !== undefined && !unavailable && (
        <SellForm share={sellShare} busy={busy === 'sell'} onSell={(req) => act('sell', () => marketApi.sell(req), 'Listed')} />
      )}

      {shownId !== undefined && listings && <ListingCard id={shownId} listing={listings.find((l) => l.id === shownId)} />}

      <h2>Listings</h2>
      {!listings ? (
        !unavailable && <p className="muted">Reading the market…</p>
      ) : listings.filter((l) => l.active).length === 0 ? (
        <Empty title="Nothing for sale yet">A private share’s Sell button lists it here.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="market-listings">
            <thead>
              <tr>
                <th>Name</th>
                <th className="r">Size</th>
                <th className="r">Price</th>
                <th>Seller</th>
                <th className="r">Sales</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {listings.filter((l) => l.active).map((l) => (
                <tr key={l.id} data-testid="market-listing-row" data-listing-id={l.id} data-mine={String(l.mine)}>
                  <td className="clip" title={l.infoHash}>
                    <a href={`#/market/${encodeURIComponent(l.id)}`} data-testid="market-listing-open">{l.name ?? l.infoHash.slice(0, 12)}</a>
                  </td>
                  <td className="r num">{l.size === null ? '—' : formatBytes(l.size)}</td>
                  <td className="r num nowrap" data-testid="market-price">
                    {price(l)}
                    {l.royaltyBps > 0 && <div className="muted small">{l.royaltyBps / 100}% royalty</div>}
                  </td>
                  <td className="mono small" title={l.sellerDid ?? l.seller}>{l.sellerDid ? shortDid(l.sellerDid) : shortAddress0x(l.seller)}</td>
                  <td className="r num">{l.sales}</td>
                  <td className="r nowrap">
                    {l.mine ? (
                      <button type="button" className="btn btn-ghost" disabled={!!busy} data-testid="market-delist"
                        onClick={() => act(`delist-${l.id}`, () => marketApi.delist(l.id), 'Delisted')}>
                        {busy === `delist-${l.id}` ? 'Delisting…' : 'Delist'}
                      </button>
                    ) : (
                      <div className="market-buy-actions">
                        <button type="button" className="btn btn-primary" disabled={!!busy} data-testid="market-buy"
                          title={`Pay ${price(l)} from the node's account into escrow; the seller has ${Math.round(l.deliverySeconds / 60)} min to deliver`}
                          onClick={() => act(`buy-${l.id}`, () => marketApi.buy(l), `Bought ${l.name ?? 'the share'}: waiting for the key`)}>
                          {busy === `buy-${l.id}` ? 'Paying…' : `Buy for ${price(l)}`}
                        </button>
                        {wallet && (
                          <button type="button" className="btn" disabled={!!busy} data-testid="market-buy-wallet"
                            title={`Pay ${price(l)} from your browser's wallet; this node receives the key and opens the share`}
                            onClick={() => act(`wallet-${l.id}`, async () => {
                              const r = await buyWithWallet(l, await marketApi.wallet(), setWalletStep);
                              // The node looks for the order now rather than at its next pass.
                              await marketApi.wake().catch(() => undefined);
                              return r;
                            }, `Bought ${l.name ?? 'the share'} with your wallet: waiting for the key`)}>
                            {busy === `wallet-${l.id}` ? WALLET_STEP[walletStep] : 'Buy with wallet'}
                          </button>
                        )}
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>My purchases</h2>
      <OrderTable orders={purchases} testId="market-purchases" empty="You have bought nothing yet." busy={busy}
        onRefund={(o) => act(`refund-${o.id}`, () => marketApi.refund(o.id), 'Refunded')} />
      <h2>My sales</h2>
      <OrderTable orders={sales} testId="market-sales" empty="Nothing sold yet." busy={busy} />
    </section>
  );
}

/** `list` with `item` in place of the one `same` finds, or added at the end. */
function upsert<T>(list: T[], item: T, same: (x: T) => boolean): T[] {
  const i = list.findIndex(same);
  return i < 0 ? [...list, item] : list.map((x, j) => (j === i ? item : x));
}

function OrderTable({ orders, testId, empty, busy, onRefund }: {
  orders: MarketOrder[];
  testId: string;
  empty: string;
  busy: string | undefined;
  onRefund?: (o: MarketOrder) => void;
}) {
  if (orders.length === 0) return <p className="muted" data-testid={`${testId}-empty`}>{empty}</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th>Name</th>
            <th className="r">Price</th>
            <th>Status</th>
            <th>Deadline</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {orders.map((o) => (
            <tr key={o.id} data-testid="market-order-row" data-order-id={o.id} data-status={o.status}>
              <td className="clip" title={o.infoHash}>{o.name ?? o.infoHash.slice(0, 12)}</td>
              <td className="r num nowrap">{price(o)}</td>
              <td>
                <span className={`badge badge-order-${o.status}`} data-testid="market-order-status">{o.status}</span>
                <div className="muted small">{STATUS_TEXT[o.status]}</div>
              </td>
              <td className="nowrap">{formatDate(o.deadline)}</td>
              <td className="r">
                {onRefund && o.status === 'expired' && (
                  <button type="button" className="btn" disabled={!!busy} data-testid="market-refund" onClick={() => onRefund(o)}>
                    {busy === `refund-${o.id}` ? 'Refunding…' : 'Refund'}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
