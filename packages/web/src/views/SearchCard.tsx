// Find on the network: the node's library, then the DHT's signed records (GET /api/search) — by
// words of a name, a content id or an infohash — each result with its publisher and providers, and
// an Add button that adds it to the node with those providers as peers.
import { useState } from 'react';
import { api, type SearchRow } from '../api/api.ts';
import { formatBytes } from '../format/format.ts';
import { shortDid } from '../format/short-id.ts';

/** A magnet for a search result: its infohash(es), name, and its providers as BEP 9 x.pe peers. */
export function magnetOf(r: SearchRow): string {
  const xt = [r.infoHash ? `xt=urn:btih:${r.infoHash}` : '', r.infoHashV2 ? `xt=urn:btmh:1220${r.infoHashV2}` : ''].filter(Boolean);
  const peers = r.providers.map((p) => `x.pe=${encodeURIComponent(p)}`);
  return `magnet:?${[...xt, `dn=${encodeURIComponent(r.name)}`, ...peers].join('&')}`;
}

export function SearchCard({ onAdd, busy }: { onAdd: (magnet: string) => void; busy: boolean }) {
  const [q, setQ] = useState('');
  const [rows, setRows] = useState<SearchRow[]>();
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<string>();

  const search = async () => {
    if (!q.trim()) return;
    setSearching(true);
    setError(undefined);
    try {
      setRows(await api.search(q.trim()));
    } catch (err) {
      setError((err as Error).message);
      setRows(undefined);
    } finally {
      setSearching(false);
    }
  };

  return (
    <div className="card search-card" data-testid="dht-search">
      <h2>Find on the network</h2>
      <p className="muted small">Words of a name, a content id (bafkrei…) or an infohash: this node's torrents first, then the DHT. Results are what their publishers signed.</p>
      <form
        className="search-form"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <input className="input" value={q} onChange={(e) => setQ(e.target.value)} placeholder="e.g. aurora timelapse" aria-label="Search words, content id or infohash" data-testid="dht-search-input" spellCheck={false} />
        <button type="submit" className="btn" disabled={searching || !q.trim()} data-testid="dht-search-submit">
          {searching ? 'Searching…' : 'Search'}
        </button>
      </form>
      {error && <div className="alert alert-error" data-testid="dht-search-error">{error}</div>}
      {rows && rows.length === 0 && <p className="muted" data-testid="dht-search-none">Nothing found.</p>}
      {rows && rows.length > 0 && (
        <ul className="search-results">
          {rows.map((r) => (
            <li key={`${r.publisher} ${r.infoHash ?? r.infoHashV2} ${r.market?.link ?? ''}`} className="search-result" data-testid="dht-search-result">
              <div className="search-main">
                <div className="file-name" title={r.name}>{r.name}</div>
                <div className="muted small">
                  {formatBytes(r.length)} · published by <span className="mono" title={r.publisher}>{shortDid(r.publisher)}</span>
                  {r.providers.length > 0 && <> · from <span className="mono">{r.providers.join(', ')}</span></>}
                </div>
                {r.cids.map((c) => (
                  <div key={c} className="mono small muted search-cid" title="Content id of a file">{c}</div>
                ))}
                {/* A market listing's record (issue 62): access is sold; the link names its chain and contract. */}
                {r.market && <div className="mono small muted" data-testid="dht-search-market">For sale: {r.market.link}</div>}
              </div>
              {r.market ? (
                <a className="btn btn-primary" href={`#/market/${r.market.listingId}`} data-testid="dht-search-listing">See the listing</a>
              ) : (
                <button type="button" className="btn btn-primary" disabled={busy} onClick={() => onAdd(magnetOf(r))} data-testid="dht-search-add">
                  Add
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
