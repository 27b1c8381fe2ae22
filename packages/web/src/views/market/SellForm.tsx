// Selling access to a private share (issue 62): its price and token, an optional royalty to the
// content's registered owner and how long the seller's node has to deliver the key. The node
// refuses a share it cannot open itself (it could never deliver its key).
import { useState } from 'react';
import type { MarketSellRequest } from '../../api/market-api.ts';

export function SellForm({ share, busy, onSell }: { share: string; busy: boolean; onSell: (req: MarketSellRequest) => void }) {
  const [price, setPrice] = useState('');
  const [token, setToken] = useState('SEED');
  const [royalty, setRoyalty] = useState('');
  const [deadline, setDeadline] = useState('1h');
  const valid = /^\d+(\.\d+)?$/.test(price.trim()) && Number(price) > 0;
  return (
    <form
      className="card market-sell"
      data-testid="market-sell-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!valid) return;
        onSell({ share, price: price.trim(), token, ...(royalty.trim() ? { royalty: royalty.trim() } : {}), deadline: deadline.trim() || '1h' });
      }}
    >
      <h2>Sell access to this share</h2>
      <p className="muted small mono" data-testid="market-sell-share">{share}</p>
      <div className="field">
        <label className="field-label" htmlFor="market-sell-price">Price</label>
        <input id="market-sell-price" className="input" inputMode="decimal" placeholder="5" value={price} onChange={(e) => setPrice(e.target.value)} data-testid="market-sell-price" />
      </div>
      <div className="field">
        <label className="field-label" htmlFor="market-sell-token">Paid in</label>
        <select id="market-sell-token" className="input" value={token} onChange={(e) => setToken(e.target.value)} data-testid="market-sell-token">
          <option value="SEED">SEED (the node’s token)</option>
          <option value="ETH">Ether</option>
        </select>
      </div>
      <div className="field">
        <label className="field-label" htmlFor="market-sell-royalty">Royalty to the registered owner (optional)</label>
        <input id="market-sell-royalty" className="input" placeholder="5%" value={royalty} onChange={(e) => setRoyalty(e.target.value)} data-testid="market-sell-royalty" />
      </div>
      <div className="field">
        <label className="field-label" htmlFor="market-sell-deadline">Deliver within</label>
        <input id="market-sell-deadline" className="input" placeholder="1h" value={deadline} onChange={(e) => setDeadline(e.target.value)} data-testid="market-sell-deadline" />
      </div>
      <button type="submit" className="btn btn-primary" disabled={busy || !valid} data-testid="market-sell-submit">
        {busy ? 'Listing…' : 'List it'}
      </button>
    </form>
  );
}
