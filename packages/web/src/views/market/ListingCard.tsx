// One listing's page (#/market/<id>, issue 62): what it sells and on what terms, with the two links a
// buyer can be given: `cascade://market/<chain id>/<contract>/<id>` (names the chain and contract, for
// any Cascade node) and the https address of this page on this node. Buying stays in the table below.
import type { MarketListing } from '../../api/market-api.ts';
import { formatBytes } from '../../format/format.ts';

/** This page's address on this node (as the browser reached it: a reverse proxy's public name too). */
export function listingPageUrl(id: string): string {
  return `${location.origin}${location.pathname}#/market/${encodeURIComponent(id)}`;
}

export function ListingCard({ id, listing: l }: { id: string; listing: MarketListing | undefined }) {
  if (!l) {
    return (
      <div className="alert alert-warn" role="status" data-testid="market-listing-missing">
        No listing {id} on this node’s market: it may be on another chain, or the id is wrong.
      </div>
    );
  }
  const page = listingPageUrl(l.id);
  return (
    <section className="card market-listing-card" data-testid="market-listing-card" aria-labelledby="market-listing-title">
      <h2 id="market-listing-title">{l.name ?? l.infoHash}</h2>
      <p className="muted">
        {l.size === null ? '' : `${formatBytes(l.size)} · `}
        {l.priceShown}
        {l.royaltyBps > 0 ? ` · ${l.royaltyBps / 100}% royalty` : ''} · {l.sales} sold{l.active ? '' : ' · delisted'}
      </p>
      <p className="small mono">Seller: {l.sellerDid ?? l.seller}</p>
      <p className="small">
        Cascade link: <a className="mono" href={l.link} data-testid="market-cascade-link">{l.link}</a>
      </p>
      <p className="small">
        On this node: <a className="mono" href={page} data-testid="market-page-link">{page}</a>
      </p>
    </section>
  );
}
