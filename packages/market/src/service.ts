// A node on the market (issue 62): it sells access to private shares it can open, buys, delivers the
// key to its buyers (sealed to each buyer's X25519 key with the private shares' own envelope) and,
// as a buyer, opens what it bought once the envelope is on chain, then fetches the ciphertext from
// whoever seeds it. The chain holds all the state: the node keeps nothing of the market's own.
import { parseEventLogs, toHex, type Address, type Hex } from 'viem';
import { b64u, fromB64u } from '@cascade/identity';
import { openWithSecret, sealEnvelope, type PrivateInfo } from '@cascade/private-shares';
import type { MarketDeliverResult, MarketFeedEvent, MarketListing, MarketOrder, MarketOrderStatus, MarketSellRequest, MarketTxResult, MarketWalletTerms } from '@cascade/shapes';
import { cascadeMarket } from '@cascade/chain';
import { erc20Abi } from 'viem';
import {
  MarketRefused, boughtOrders, boughtFor, refused, envelopeOf, listedDetails, marketAddress, priceShown, readListing, readOrder, send, tokenInfo,
  type ChainListing, type ChainOrder, type MarketChain,
} from './contract.ts';
import { DEFAULT_DELIVERY_SECONDS, ETHER, TermsError, keyCommitment, parseDeadline, parsePrice, parseRoyalty, type ListingDetails } from './terms.ts';

/** A private share this node can open, as a listing needs it. */
export interface ShareSecret {
  infoHash: string;
  key: Uint8Array;
  salt: Uint8Array;
  name: string;
  size: number;
  magnet: string;
}

/** What the market takes of the node it runs on (node-host.ts makes it from a running node). */
export interface MarketHost {
  identity(): { did: string; dhPublic: Uint8Array; dhSecret: Uint8Array };
  /** A torrent's full infohash from what a user typed (a prefix). */
  resolve(arg: string): string;
  /** The share's key and what a listing shows; throws, saying why, when this node cannot open it. */
  share(infoHash: string): Promise<ShareSecret>;
  /** Whether this node holds a key for the share. */
  hasKey(infoHash: string): Promise<boolean>;
  /** Adds the share with its key (or gives a share it has the key): it downloads and opens. */
  open(infoHash: string, magnet: string, key: Uint8Array): Promise<void>;
  log(line: string): void;
  /** Files a listing's signed record on the DHT (so the torrent search finds it); absent: no DHT. */
  publishListing?(l: { infoHash: string; name: string; size: number; chainId: number; contract: string; listingId: number }): Promise<void>;
  /** Something a listing or order shows changed: the live feed pushes it (with it, when given). */
  changed?(e?: MarketFeedEvent): void;
}

const now = () => Math.floor(Date.now() / 1000);

export class MarketService {
  readonly #chain: () => Promise<MarketChain>;
  readonly #host: MarketHost;
  /** Orders this node opened (or found opened) as a buyer, and those whose key did not match. */
  readonly #opened = new Set<bigint>();
  readonly #badKey = new Set<bigint>();
  readonly #details = new Map<bigint, Partial<ListingDetails>>();
  /** The watcher's state: the next block to read, this node's listings, orders to deliver and to open. */
  #from = 0n;
  readonly #mine = new Set<bigint>();
  readonly #due = new Set<bigint>();
  readonly #bought = new Set<bigint>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #watching = false;
  /** A wake() during a pass: the next pass comes at the fast pace. */
  #again = false;
  #lastError = '';

  constructor(chain: () => Promise<MarketChain>, host: MarketHost) {
    this.#chain = chain;
    this.#host = host;
  }

  /** Lists a share this node can open; refused (nothing sent) when it cannot. */
  async sell(req: MarketSellRequest): Promise<MarketTxResult> {
    const chain = await this.#chain();
    const infoHash = this.#host.resolve(req.share);
    const secret = await this.#host.share(infoHash);
    const token = await this.#token(chain, req.token ?? 'SEED');
    const { decimals } = await tokenInfo(chain, token);
    const price = parsePrice(req.price, decimals);
    const royalty = req.royalty === undefined ? 0 : parseRoyalty(req.royalty);
    const deadline = req.deadline === undefined ? DEFAULT_DELIVERY_SECONDS : parseDeadline(req.deadline);
    const details: ListingDetails = { name: secret.name, size: secret.size, magnet: secret.magnet, salt: b64u(secret.salt), did: this.#host.identity().did };
    const r = await send(chain, `listing ${infoHash}`, {
      address: marketAddress(chain), abi: cascadeMarket.abi, functionName: 'list',
      args: [`0x${infoHash}`, keyCommitment(infoHash, secret.key), token, price, royalty, deadline, JSON.stringify(details)],
    });
    const id = eventArg(r.logs, 'Listed', 'listingId');
    this.#details.set(id, details);
    this.#kick();
    const listing = await this.#listingView(chain, (await readListing(chain, id, details))!, await chain.sender());
    this.#host.changed?.({ listing });
    void this.#publish(chain, listing);
    return { tx: r.tx, gasUsed: r.gasUsed.toString(), listing };
  }

  /** Pays a listing's price into escrow (approving the token first when it is an ERC-20). */
  async buy(listingArg: string, expect: { price?: string; token?: string } = {}): Promise<MarketTxResult> {
    const chain = await this.#chain();
    const l = await this.#listing(chain, listingArg);
    if (!l.active) throw new MarketRefused('NotListed', `listing ${l.id} is delisted`);
    // The buyer's word on the terms: what it was shown, else what the listing says now.
    const price = expect.price !== undefined ? BigInt(expect.price) : l.price;
    const token = expect.token !== undefined ? await this.#token(chain, expect.token) : l.token;
    // Refused here, before an approval is spent on terms the contract would refuse.
    if (token !== l.token) throw refused('WrongToken', `buying listing ${l.id}`, [l.token, token]);
    if (price !== l.price) throw refused('WrongPrice', `buying listing ${l.id}`, [String(l.price), String(price)]);
    const market = marketAddress(chain);
    const me = await chain.sender();
    let approveGas = 0n;
    if (token !== ETHER) {
      const allowed = await chain.client.readContract({ address: token, abi: erc20Abi, functionName: 'allowance', args: [me, market] });
      if (allowed < price) approveGas = (await send(chain, `approving ${price} for listing ${l.id}`, { address: token, abi: erc20Abi, functionName: 'approve', args: [market, price] })).gasUsed;
    }
    const r = await send(chain, `buying listing ${l.id}`, {
      address: market, abi: cascadeMarket.abi, functionName: 'buy',
      args: [l.id, token, price, toHex(this.#host.identity().dhPublic)],
      ...(token === ETHER ? { value: price } : {}),
    });
    const orderId = eventArg(r.logs, 'Bought', 'orderId');
    this.#kick();
    const order = await this.#orderView(chain, (await readOrder(chain, orderId))!, me);
    this.#host.changed?.({ order });
    return { tx: r.tx, gasUsed: (r.gasUsed + approveGas).toString(), order };
  }

  /** Returns an undelivered order's price to its buyer once its deadline passed (anyone may ask). */
  async refund(orderArg: string): Promise<MarketTxResult> {
    const chain = await this.#chain();
    const id = idOf(orderArg, 'order');
    const r = await send(chain, `refunding order ${id}`, { address: marketAddress(chain), abi: cascadeMarket.abi, functionName: 'refund', args: [id] });
    this.#kick();
    const order = await this.#orderView(chain, (await readOrder(chain, id))!, await chain.sender());
    this.#host.changed?.({ order });
    return { tx: r.tx, gasUsed: r.gasUsed.toString(), order };
  }

  async delist(listingArg: string): Promise<MarketTxResult> {
    const chain = await this.#chain();
    const id = idOf(listingArg, 'listing');
    const r = await send(chain, `delisting ${id}`, { address: marketAddress(chain), abi: cascadeMarket.abi, functionName: 'delist', args: [id] });
    // Nobody can buy it any more: the watchers need not poll fast for its purchases (paid orders
    // still due stay in #due).
    this.#mine.delete(id);
    const l = await readListing(chain, id, this.#details.get(id) ?? {});
    this.#host.changed?.(l ? { listing: await this.#listingView(chain, l, await chain.sender()) } : undefined);
    this.#kick();
    return { tx: r.tx, gasUsed: r.gasUsed.toString() };
  }

  /** Delivers every paid order of this node's listings whose deadline has not passed. */
  async deliverDue(only?: bigint[]): Promise<MarketDeliverResult> {
    const chain = await this.#chain();
    const me = await chain.sender();
    let ids = only;
    if (!ids) {
      const mine = await listedDetails(chain, { seller: me });
      for (const [id, d] of mine) this.#details.set(id, d);
      ids = await boughtOrders(chain, { listingIds: [...mine.keys()] });
    }
    const out: MarketDeliverResult = { delivered: [], failed: [] };
    const shares = new Map<string, Promise<ShareSecret>>();
    for (const id of ids) {
      const o = await readOrder(chain, id);
      if (!o || o.state !== 'paid') continue;
      if (o.deadline < now()) {
        out.failed.push({ order: String(id), reason: 'its deadline passed: the buyer gets a refund' });
        continue;
      }
      try {
        const l = (await readListing(chain, o.listingId))!;
        if (l.seller.toLowerCase() !== me.toLowerCase()) continue;
        const get = shares.get(l.infoHash) ?? this.#host.share(l.infoHash);
        shares.set(l.infoHash, get);
        const secret = await get;
        // A key that no longer matches what the listing committed to is never sent.
        if (keyCommitment(l.infoHash, secret.key) !== l.keyCommitment) throw new Error('the key this node holds is not the one the listing commits to');
        const envelope = await sealEnvelope(secret.key, hexBytes(o.buyerKey), secret.salt);
        const r = await send(chain, `delivering order ${id}`, { address: marketAddress(chain), abi: cascadeMarket.abi, functionName: 'deliver', args: [id, toHex(envelope)] });
        this.#host.log(`market: delivered order ${id} (${l.details.name ?? l.infoHash}) to ${o.buyer}`);
        const order = await this.#orderView(chain, (await readOrder(chain, id))!, me);
        out.delivered.push({ tx: r.tx, gasUsed: r.gasUsed.toString(), order });
        this.#host.changed?.({ order });
      } catch (err) {
        out.failed.push({ order: String(id), reason: (err as Error).message });
      }
    }
    return out;
  }

  /** Opens every purchase of this node whose envelope is on chain and that it does not hold yet. */
  async openDelivered(only?: bigint[]): Promise<number> {
    const chain = await this.#chain();
    const me = await chain.sender();
    let opened = 0;
    for (const id of only ?? (await boughtFor(chain, me, this.#buyerKey()))) {
      if (this.#opened.has(id) || this.#badKey.has(id)) continue;
      const o = await readOrder(chain, id);
      if (!o || o.state !== 'delivered') continue;
      const l = (await readListing(chain, o.listingId, await this.#detailsOf(chain, o.listingId)))!;
      if (await this.#host.hasKey(l.infoHash)) {
        this.#opened.add(id);
        continue;
      }
      const envelope = await envelopeOf(chain, id);
      if (!envelope || !l.details.salt || !l.details.magnet) continue;
      const share = { salt: fromB64u(l.details.salt), envelopes: [envelope] } as unknown as PrivateInfo;
      const key = await openWithSecret(share, this.#host.identity().dhSecret).catch(() => undefined);
      if (!key || keyCommitment(l.infoHash, key) !== l.keyCommitment) {
        this.#badKey.add(id);
        this.#host.log(`market: order ${id}: ${key ? 'the envelope opens to a key that is not the one listing ' + String(l.id) + ' commits to' : 'the envelope does not open with this node\'s key'}; nothing opened (docs/market.md: what a buyer can do)`);
        this.#host.changed?.({ order: await this.#orderView(chain, o, me) });
        continue;
      }
      await this.#host.open(l.infoHash, l.details.magnet, key);
      this.#opened.add(id);
      opened++;
      this.#host.log(`market: order ${id} delivered: opening ${l.details.name ?? l.infoHash}`);
      this.#host.changed?.({ order: await this.#orderView(chain, o, me) });
    }
    return opened;
  }

  /** What a browser's wallet needs to buy for this node: the chain, the contract, this node's X25519 key. */
  async walletTerms(): Promise<MarketWalletTerms> {
    const chain = await this.#chain();
    return { chainId: chain.chain.id, market: marketAddress(chain), buyerKey: this.#buyerKey() };
  }

  #buyerKey(): Hex {
    return toHex(this.#host.identity().dhPublic);
  }

  async listings(): Promise<MarketListing[]> {
    const chain = await this.#chain();
    const me = await chain.sender();
    const all = await listedDetails(chain);
    const out: MarketListing[] = [];
    for (const [id, d] of all) {
      this.#details.set(id, d);
      const l = await readListing(chain, id, d);
      if (l) out.push(await this.#listingView(chain, l, me));
    }
    return out;
  }

  /** This node's purchases and sales. */
  async orders(): Promise<MarketOrder[]> {
    const chain = await this.#chain();
    const me = await chain.sender();
    const mine = await listedDetails(chain, { seller: me });
    const ids = new Set([...(await boughtFor(chain, me, this.#buyerKey())), ...(await boughtOrders(chain, { listingIds: [...mine.keys()] }))]);
    const out: MarketOrder[] = [];
    for (const id of [...ids].sort((a, b) => (a < b ? -1 : 1))) {
      const o = await readOrder(chain, id);
      if (o) out.push(await this.#orderView(chain, o, me));
    }
    return out;
  }

  /**
   * The seller's and buyer's watchers: every `pollMs` while this node has something to watch (its own
   * listings, orders to deliver, purchases to open), every `idleMs` while it has none. An idle node
   * (most nodes never trade) then asks the chain for its block number once a minute instead of every
   * two seconds: the market's RPCs were the largest part of an idle node's profile. Anything this
   * node does on the market (sell, buy, deliver, refund, delist) and `wake()` make the next pass
   * immediate; a listing of this node's account made elsewhere (another node, the CLI with this node
   * stopped) is found within `idleMs`.
   */
  watch(pollMs = 2000, idleMs = 60_000): void {
    if (this.#watching) return;
    this.#watching = true;
    let failures = 0;
    const tick = async () => {
      if (this.#ticking || !this.#watching) return;
      this.#ticking = true;
      clearTimeout(this.#timer);
      let next: number;
      try {
        await this.#pass();
        this.#lastError = '';
        failures = 0;
        next = this.busy() ? pollMs : Math.max(pollMs, idleMs);
      } catch (err) {
        this.#note(`market: ${(err as Error).message.split('\n')[0]}`);
        // A pass that failed may have missed what it was woken for: try again soon, backing off
        // to the idle pace while the chain keeps failing.
        next = Math.min(Math.max(pollMs, idleMs), pollMs * 2 ** Math.min(10, failures++));
      } finally {
        this.#ticking = false;
      }
      if (!this.#watching) return;
      this.#timer = setTimeout(() => void tick(), next);
      this.#timer.unref();
    };
    this.#kick = () => {
      if (this.#ticking) this.#again = true;
      else void tick();
    };
    void tick();
  }

  /** Whether the watchers have anything to watch (and so poll at their fast pace). */
  busy(): boolean {
    return this.#mine.size > 0 || this.#due.size > 0 || this.#bought.size > 0 || this.#again;
  }

  /** Makes the watchers' next pass immediate (after something changed on the market that this node may care about). */
  wake(): void {
    this.#kick();
  }

  /**
   * One watcher pass. Only the blocks since the last pass are read for new listings of this node,
   * purchases of them and this node's purchases (the first pass reads from block 0: a node that was
   * offline catches up); orders stay pending until settled: delivered, refunded, past their deadline
   * (seller), opened or found not to open (buyer).
   */
  async #pass(): Promise<void> {
    this.#again = false;
    const chain = await this.#chain();
    const me = await chain.sender();
    // cacheTime 0: viem keeps a block number for seconds, and logs are read up to it.
    const latest = await chain.client.getBlockNumber({ cacheTime: 0 });
    if (latest >= this.#from) {
      for (const [id, d] of await listedDetails(chain, { seller: me }, this.#from, latest)) {
        this.#mine.add(id);
        this.#details.set(id, d);
      }
      for (const id of await boughtOrders(chain, { listingIds: [...this.#mine] }, this.#from, latest)) this.#due.add(id);
      for (const id of await boughtFor(chain, me, this.#buyerKey(), this.#from, latest)) this.#bought.add(id);
      this.#from = latest + 1n;
    }
    if (this.#host.publishListing) await this.#republish(chain, me);
    if (this.#due.size > 0) {
      const d = await this.deliverDue([...this.#due]);
      for (const f of d.failed) this.#note(`market: order ${f.order} not delivered: ${f.reason}`);
      for (const id of [...this.#due]) {
        const o = await readOrder(chain, id);
        if (!o || o.state !== 'paid' || o.deadline < now()) this.#due.delete(id);
      }
    }
    if (this.#bought.size > 0) {
      await this.openDelivered([...this.#bought]);
      for (const id of [...this.#bought]) {
        if (this.#opened.has(id) || this.#badKey.has(id) || (await readOrder(chain, id))?.state === 'refunded') this.#bought.delete(id);
      }
    }
  }

  close(): void {
    this.#watching = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #kick: () => void = () => {};

  /** When each of this node's listings was last filed on the DHT (records live 2 h: again after 1 h). */
  readonly #published = new Map<string, number>();

  /** Files the listing's record on the DHT (discovery, docs/dht-records.md): a failure is logged once. */
  async #publish(chain: MarketChain, l: MarketListing): Promise<void> {
    if (!this.#host.publishListing || !l.active || !l.mine) return;
    this.#published.set(l.id, Date.now());
    await this.#host
      .publishListing({ infoHash: l.infoHash, name: l.name ?? l.infoHash, size: l.size ?? 0, chainId: chain.chain.id, contract: marketAddress(chain).toLowerCase(), listingId: Number(l.id) })
      .catch((err: Error) => this.#note(`market: listing ${l.id} not published on the DHT: ${err.message}`));
  }

  /** The watcher's share of republishing: this node's listings not filed in the last hour. */
  async #republish(chain: MarketChain, me: Address): Promise<void> {
    for (const id of this.#mine) {
      if (Date.now() - (this.#published.get(String(id)) ?? 0) < 3_600_000) continue;
      const l = await readListing(chain, id, this.#details.get(id) ?? {});
      if (l) await this.#publish(chain, await this.#listingView(chain, l, me));
    }
  }

  /** A failure said once, not at every poll. */
  #note(line: string): void {
    if (line === this.#lastError) return;
    this.#lastError = line;
    this.#host.log(line);
  }

  async #token(chain: MarketChain, name: string): Promise<Address> {
    const n = name.trim();
    if (/^seed$/i.test(n)) return chain.contracts.token;
    if (/^eth(er)?$/i.test(n)) return ETHER;
    if (!/^0x[0-9a-fA-F]{40}$/.test(n)) throw new TermsError(`--token ${name}: SEED, ETH or an ERC-20's address`);
    await tokenInfo(chain, n as Address);
    return n as Address;
  }

  async #listing(chain: MarketChain, arg: string): Promise<ChainListing> {
    const id = idOf(arg, 'listing');
    const l = await readListing(chain, id, await this.#detailsOf(chain, id));
    if (!l) throw new MarketRefused('UnknownListing', `no listing ${id} on the market ${marketAddress(chain)}`);
    return l;
  }

  async #detailsOf(chain: MarketChain, id: bigint): Promise<Partial<ListingDetails>> {
    if (!this.#details.has(id)) for (const [k, d] of await listedDetails(chain)) this.#details.set(k, d);
    return this.#details.get(id) ?? {};
  }

  async #listingView(chain: MarketChain, l: ChainListing, me: Address): Promise<MarketListing> {
    const p = await priceShown(chain, l.token, l.price);
    return {
      id: String(l.id), infoHash: l.infoHash, seller: l.seller, sellerDid: l.details.did ?? null, name: l.details.name ?? null, size: l.details.size ?? null,
      magnet: l.details.magnet ?? null, token: l.token, symbol: p.symbol, price: l.price.toString(), priceShown: p.shown, royaltyBps: l.royaltyBps,
      deliverySeconds: l.deliverySeconds, active: l.active, sales: Number(l.sales), keyCommitment: l.keyCommitment, mine: l.seller.toLowerCase() === me.toLowerCase(),
      link: `cascade://market/${chain.chain.id}/${marketAddress(chain)}/${l.id}`,
    };
  }

  async #orderView(chain: MarketChain, o: ChainOrder, me: Address): Promise<MarketOrder> {
    const l = (await readListing(chain, o.listingId, await this.#detailsOf(chain, o.listingId)))!;
    const p = await priceShown(chain, o.token, o.price);
    // A purchase sealed to this node's key is this node's, whoever paid (a browser's wallet).
    const role = o.buyer.toLowerCase() === me.toLowerCase() || o.buyerKey.toLowerCase() === this.#buyerKey() ? 'buyer' : 'seller';
    let status: MarketOrderStatus = o.state === 'paid' && o.deadline < now() ? 'expired' : (o.state as MarketOrderStatus);
    if (role === 'buyer' && o.state === 'delivered') status = this.#badKey.has(o.id) ? 'bad-key' : (await this.#host.hasKey(l.infoHash)) ? 'opened' : 'delivered';
    return {
      id: String(o.id), listingId: String(o.listingId), infoHash: l.infoHash, name: l.details.name ?? null, role, buyer: o.buyer, seller: l.seller,
      token: o.token, symbol: p.symbol, price: o.price.toString(), priceShown: p.shown, royalty: o.royalty.toString(),
      royaltyTo: o.royaltyTo === ETHER ? null : o.royaltyTo, deadline: o.deadline, status,
    };
  }
}

function idOf(arg: string, what: string): bigint {
  const m = /^#?(\d{1,30})$/.exec(String(arg).trim());
  if (!m || BigInt(m[1]!) === 0n) throw new TermsError(`"${arg}" is not a ${what} id (a number from 1, as \`cascade market ${what === 'order' ? 'orders' : 'list'}\` shows)`);
  return BigInt(m[1]!);
}

function hexBytes(h: Hex): Uint8Array {
  return new Uint8Array(Buffer.from(h.slice(2), 'hex'));
}

function eventArg(logs: { topics: readonly Hex[]; data: Hex }[], eventName: 'Listed' | 'Bought', arg: 'listingId' | 'orderId'): bigint {
  const events = parseEventLogs({ abi: cascadeMarket.abi, logs: logs as never, eventName }) as unknown as { args: Record<string, bigint> }[];
  const v = events[0]?.args[arg];
  if (v === undefined) throw new Error(`the ${eventName} event is missing from the transaction`);
  return v;
}
