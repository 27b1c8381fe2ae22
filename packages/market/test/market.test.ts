// The market service on a real anvil (one chain for the file): a sale in SEED with a royalty to the
// registered owner — sell, buy, the seller's delivery, the buyer opening the envelope to the very key
// — with exact balances and the gas of each call; a second buyer's key cannot open the first's
// envelope; a refund after the deadline; bad inputs refused with their reasons and nothing changed.
// The nodes are stood in for by hosts over a real private share's key and salt; the end to end with
// running nodes is packages/cli/test/market.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex, type Address } from 'viem';
import { NodeChain, cascadeToken, contentRegistry } from '@cascade/chain';
import { generateIdentity } from '@cascade/identity';
import { newContentKey, openWithSecret, sealInfo, type PrivateInfo } from '@cascade/private-shares';
import { testChain, DEPLOYER } from '../../chain/test/helpers.ts';
import { MarketService, type MarketHost } from '../index.ts';

const IH = 'ab'.repeat(20);

function host(share?: { key: Uint8Array; salt: Uint8Array }) {
  const id = generateIdentity('t');
  const opened = new Map<string, Uint8Array>();
  const logs: string[] = [];
  const h: MarketHost = {
    identity: () => id,
    resolve: (a) => a,
    async share(ih) {
      if (!share) throw new Error(`this node cannot open ${ih}: it holds no key for it`);
      return { infoHash: ih, key: share.key, salt: share.salt, name: 'film.mkv', size: 1234, magnet: `magnet:?xt=urn:btih:${ih}` };
    },
    hasKey: async (ih) => opened.has(ih),
    async open(ih, _magnet, key) {
      opened.set(ih, key);
    },
    log: (line) => void logs.push(line),
  };
  return { h, id, opened, logs };
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return '';
  } catch (err) {
    return `${(err as { errorName?: string }).errorName ?? ''}: ${(err as Error).message}`;
  }
}

test('market: a sale with a royalty, delivery, opening, a refund and bad inputs, on anvil', { timeout: 120_000 }, async (t) => {
  const c = await testChain(t, { poolFunding: 10n ** 26n });
  const dir = mkdtempSync(join(tmpdir(), 'cascade-market-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const chainOf = async (name: string) => {
    const secret = generateIdentity(name).ethSecret;
    const chain = await NodeChain.start({ stateDir: join(dir, name), ethSecret: secret, rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, contracts: c.deployment });
    await c.client.request({ method: 'anvil_setBalance' as never, params: [chain.account.address, toHex(10n ** 20n)] as never });
    return chain;
  };
  const [sellerChain, buyerChain, buyer2Chain, ownerChain] = await Promise.all(['seller', 'buyer', 'buyer2', 'owner'].map(chainOf));
  const token = c.deployment.token;
  const balance = (a: Address) => c.client.readContract({ address: token, abi: cascadeToken.abi, functionName: 'balanceOf', args: [a] }) as Promise<bigint>;
  const deployer = c.wallet(DEPLOYER);
  for (const b of [buyerChain, buyer2Chain]) await c.client.waitForTransactionReceipt({ hash: await deployer.writeContract({ address: token, abi: cascadeToken.abi, functionName: 'transfer', args: [b.account.address, 100n * 10n ** 18n] }) });
  // The owner registers the content: the royalty goes to it.
  await ownerChain.mined(await ownerChain.write({ address: c.deployment.registry, abi: contentRegistry.abi, functionName: 'register', args: [`0x${IH}`, `0x${'00'.repeat(32)}`, 'cid', ''] }), 'register');

  const key = newContentKey();
  const info = await sealInfo(key, { name: 'film.mkv', files: [{ path: ['film.mkv'], length: 1234 }], length: 1234 }, []);
  const seller = host({ key, salt: info.salt });
  const buyer = host();
  const buyer2 = host();
  const sellerM = new MarketService(async () => sellerChain, seller.h);
  const buyerM = new MarketService(async () => buyerChain, buyer.h);
  const buyer2M = new MarketService(async () => buyer2Chain, buyer2.h);

  const gas: Record<string, string> = {};
  const listed = await sellerM.sell({ share: IH, price: '5', token: 'SEED', royalty: '5%', deadline: '1h' });
  gas.list = listed.gasUsed;
  assert.equal(listed.listing!.priceShown, '5 SEED');
  assert.equal(listed.listing!.royaltyBps, 500);
  assert.equal(listed.listing!.name, 'film.mkv');
  assert.equal(listed.listing!.mine, true);
  const seen = await buyerM.listings();
  assert.deepEqual(seen.map((l) => [l.id, l.mine, l.active, l.sales]), [['1', false, true, 0]]);

  const before = { seller: await balance(sellerChain.account.address), owner: await balance(ownerChain.account.address), buyer: await balance(buyerChain.account.address) };
  const bought = await buyerM.buy('1');
  gas['approve + buy (SEED)'] = bought.gasUsed;
  assert.equal(bought.order!.status, 'paid');
  assert.equal(bought.order!.role, 'buyer');
  assert.equal((await buyerM.openDelivered()), 0, 'nothing to open before delivery');

  const d = await sellerM.deliverDue();
  assert.deepEqual(d.failed, []);
  assert.equal(d.delivered.length, 1);
  gas.deliver = d.delivered[0]!.gasUsed;
  assert.equal((await sellerM.deliverDue()).delivered.length, 0, 'delivered once');
  assert.equal(await buyerM.openDelivered(), 1);
  assert.deepEqual(buyer.opened.get(IH), key, 'the buyer opened the envelope to the very key');
  const price = 5n * 10n ** 18n;
  const royalty = price / 20n;
  assert.equal(await balance(sellerChain.account.address), before.seller + price - royalty, 'price minus royalty to the seller');
  assert.equal(await balance(ownerChain.account.address), before.owner + royalty, 'royalty to the owner');
  assert.equal(await balance(buyerChain.account.address), before.buyer - price, 'the price from the buyer');
  assert.deepEqual((await buyerM.orders()).map((o) => o.status), ['opened']);
  assert.deepEqual((await sellerM.orders()).map((o) => [o.role, o.status]), [['seller', 'delivered']]);
  assert.equal((await sellerM.listings())[0]!.sales, 1);

  // The first buyer's envelope does not open with the second buyer's key.
  const { envelopeOf } = await import('../src/contract.ts');
  const envelope = (await envelopeOf(buyerChain, 1n))!;
  await assert.rejects(openWithSecret({ salt: info.salt, envelopes: [envelope] } as unknown as PrivateInfo, buyer2.id.dhSecret), /not-for-you|other people|envelope/);

  // Refund: a short deadline, nobody delivers, the buyer gets its price back after it.
  const short = await sellerM.sell({ share: IH, price: '0.001', token: 'ETH', deadline: '2s' });
  const ethBefore = await c.client.getBalance({ address: buyer2Chain.account.address });
  const paid = await buyer2M.buy(short.listing!.id);
  gas['buy (ETH)'] = paid.gasUsed;
  assert.match(await errorOf(buyer2M.refund(paid.order!.id)), /DeadlineNotPassed: .*a refund comes after that/);
  await new Promise((r) => setTimeout(r, 3000));
  const late = await sellerM.deliverDue();
  assert.deepEqual(late.failed.map((f) => f.reason), ['its deadline passed: the buyer gets a refund']);
  const refunded = await buyer2M.refund(paid.order!.id);
  gas.refund = refunded.gasUsed;
  assert.equal(refunded.order!.status, 'refunded');
  const ethAfter = await c.client.getBalance({ address: buyer2Chain.account.address });
  const gasPaid = ethBefore - ethAfter;
  assert.ok(gasPaid > 0n && gasPaid < 10n ** 15n, `only gas spent, the price came back (${gasPaid} wei spent)`);
  assert.match(await errorOf(buyer2M.refund(paid.order!.id)), /NotPaid: .*the order is refunded, not paid/);

  // The watchers: the seller's delivers a new purchase by itself, the buyer's opens it (each pass reads
  // only the blocks since the last one, after a first pass from block 0).
  sellerM.watch(100);
  buyer2M.watch(100);
  t.after(() => {
    sellerM.close();
    buyer2M.close();
  });
  await buyer2M.buy('1');
  for (let i = 0; i < 200 && !buyer2.opened.has(IH); i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(buyer2.opened.get(IH), key, `delivered and opened by the watchers (seller: ${seller.logs.join(' | ')}; buyer: ${buyer2.logs.join(' | ')})`);
  assert.equal((await sellerM.listings()).find((l) => l.id === '1')!.sales, 2);

  // An idle node (no listings, no orders) asks the chain once a minute, not at the fast pace; wake()
  // makes the next pass immediate. The seller, with a listing, stays at the fast pace.
  let blockAsks = 0;
  const countingClient = new Proxy(ownerChain.client, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (prop === 'getBlockNumber') return (...a: unknown[]) => { blockAsks++; return (v as (...x: unknown[]) => unknown).apply(target, a); };
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const counted = new Proxy(ownerChain, { get: (target, prop) => (prop === 'client' ? countingClient : ((v) => (typeof v === 'function' ? v.bind(target) : v))(Reflect.get(target, prop, target))) });
  const idleM = new MarketService(async () => counted as typeof ownerChain, host().h);
  idleM.watch(100, 60_000);
  t.after(() => idleM.close());
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(idleM.busy(), false);
  assert.equal(blockAsks, 1, `an idle watcher made one pass in 1.5 s at a 100 ms fast pace (${blockAsks})`);
  idleM.wake();
  for (let i = 0; i < 50 && blockAsks < 2; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(blockAsks, 2, 'wake() made a pass at once');
  assert.equal(sellerM.busy(), true, 'a node with a listing watches at the fast pace');

  // Bad inputs: refused with a reason, nothing listed or bought.
  const count = async () => (await buyerM.listings()).length;
  const n = await count();
  assert.match(await errorOf(buyerM.sell({ share: IH, price: '5' })), /cannot open .* no key/);
  assert.match(await errorOf(sellerM.sell({ share: IH, price: '0' })), /a price must be more than 0/);
  assert.match(await errorOf(sellerM.sell({ share: IH, price: '5', royalty: '60%' })), /between 0 and 50%/);
  assert.match(await errorOf(sellerM.sell({ share: IH, price: '5', deadline: 'soon' })), /a duration/);
  assert.match(await errorOf(sellerM.sell({ share: IH, price: '5', token: 'DOGE' })), /SEED, ETH or an ERC-20/);
  assert.equal(await count(), n, 'no listing made');
  assert.match(await errorOf(buyerM.buy('99')), /UnknownListing: no listing 99/);
  assert.match(await errorOf(buyerM.buy('1', { token: 'ETH' })), /WrongToken: .*the listing takes/);
  assert.match(await errorOf(buyerM.buy('1', { price: '1' })), /WrongPrice: .*price is now 5000000000000000000/);
  assert.match(await errorOf(buyerM.buy('x1')), /is not a listing id/);
  assert.match(await errorOf(buyerM.refund('42')), /UnknownOrder: .*no order 42/);
  assert.equal((await buyerM.orders()).length, 1, 'no order made by the bad inputs');
  const del = await sellerM.delist('1');
  gas.delist = del.gasUsed;
  assert.match(await errorOf(buyerM.buy('1')), /NotListed: listing 1 is delisted/);
  t.diagnostic(`gas per call: ${JSON.stringify(gas)}`);
  for (const ch of [sellerChain, buyerChain, buyer2Chain, ownerChain]) await ch.close();
});
