// The marketplace (issue 62): a listing, an order, and what selling and buying answer. Amounts are
// decimal strings of the token's base units (they exceed 2^53); `priceShown` is for people.

/** A listing on the market contract, as a node reads it from the chain. */
export interface MarketListing {
  id: string;
  infoHash: string;
  /** The seller's Ethereum account. */
  seller: string;
  /** The seller node's did, from the listing's details (null when it gave none). */
  sellerDid: string | null;
  name: string | null;
  /** Bytes of the share's plaintext (null when not given). */
  size: number | null;
  magnet: string | null;
  /** The ERC-20's address, or 0x000…000 for ether. */
  token: string;
  symbol: string;
  price: string;
  priceShown: string;
  royaltyBps: number;
  deliverySeconds: number;
  active: boolean;
  /** Deliveries made: completed sales. */
  sales: number;
  keyCommitment: string;
  /** Listed by this node's account. */
  mine: boolean;
  /** cascade://market/<chain id>/<contract>/<id>: what a buyer opens. */
  link: string;
}

/**
 * paid: in escrow, waiting for the seller's envelope; delivered: the envelope is on chain and the
 * escrow released; opened: delivered and this node holds the key; refunded: the price went back;
 * expired: paid, the deadline passed, nobody has asked for the refund yet; bad-key: the envelope
 * opened to a key that does not match the listing's commitment.
 */
export type MarketOrderStatus = 'paid' | 'delivered' | 'opened' | 'refunded' | 'expired' | 'bad-key';

export interface MarketOrder {
  id: string;
  listingId: string;
  infoHash: string;
  name: string | null;
  /** buyer: this node bought it; seller: this node sold it. */
  role: 'buyer' | 'seller';
  buyer: string;
  seller: string;
  token: string;
  symbol: string;
  price: string;
  priceShown: string;
  royalty: string;
  royaltyTo: string | null;
  /** Unix seconds: deliver before, refund after. */
  deadline: number;
  status: MarketOrderStatus;
}

/** `market sell`'s request (HTTP body and control RPC alike). */
export interface MarketSellRequest {
  /** The share: its infohash (or a unique prefix) on this node. */
  share: string;
  /** A number of tokens: "5", "0.25". */
  price: string;
  /** "SEED" (the node's token), "ETH", or an ERC-20's address. Default SEED. */
  token?: string;
  /** "5%" or "250bps". */
  royalty?: string;
  /** "1h", "30m", "2d". Default 1h. */
  deadline?: string;
}

/** What a market transaction answers: the transaction and the listing or order it made or changed. */
export interface MarketTxResult {
  tx: string;
  gasUsed: string;
  listing?: MarketListing;
  order?: MarketOrder;
}

/** `market deliver`'s answer: the orders delivered in this pass, and those it could not deliver and why. */
export interface MarketDeliverResult {
  delivered: MarketTxResult[];
  failed: { order: string; reason: string }[];
}

/**
 * What a browser's wallet (EIP-1193) needs to buy for this node (GET /api/market/wallet): the chain
 * and contract to send `buy` to, and the key the envelope is to be sealed to — this node's X25519
 * public key, so the node the user is signed in to opens what the wallet paid for.
 */
export interface MarketWalletTerms {
  chainId: number;
  market: string;
  /** 0x + 64 hex: this node's X25519 public key (the `buyerKey` of `buy`). */
  buyerKey: string;
}

/** The live feed's `market` event: a listing or an order as it is now, each time one changes on this node. */
export interface MarketFeedEvent {
  listing?: MarketListing;
  order?: MarketOrder;
}
