// The Market in the web app (issue 62), in real Chromium against two nodes on one chain (A's
// embedded anvil; B given its RPC and contracts; all on 127.0.0.1): A's owner opens a private
// share's detail, follows "Sell access on the Market", lists it for 5 SEED; B's owner sees the
// listing (name, size, price, seller's did), buys it with one click; A's node delivers the key by
// itself and B's opens the share — My purchases says "opened", A's My sales "delivered" — and the
// SEED balances moved by the price. axe-core checks the page with listings and orders in both themes.
// Then B's owner buys a second listing with the browser's wallet (an injected EIP-1193 provider that
// forwards to the same anvil and signs with an anvil account, not B's): a wallet on the wrong network
// is refused in words and pays nothing; on the right one it approves and buys, B's node opens the
// purchase sealed to its key, and the page hears each change from the live feed (no re-read between).
// The listing is also found on the DHT: B's "Find on the network" shows it with a "For sale" row
// (the listing's cascade:// link), whose "See the listing" opens it on B's Market page.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { encodeFunctionData, parseAbi, toHex, type Hex } from 'viem';
import { buildUi, collectErrors, launchBrowser, nodeFetch, nodeJson, openAsOwner, screenshot, startTestServer, until, type TestServer } from './helpers.ts';
import { describeViolations, isSerious, runAxe } from './a11y.ts';

// The watchers look at the chain this often here (2 s by default).
process.env.CASCADE_MARKET_POLL_MS = '300';
const SEED = 10n ** 18n;
const erc20 = parseAbi(['function transfer(address to, uint256 amount) returns (bool)', 'function balanceOf(address who) view returns (uint256)']);

interface ChainHealth {
  state?: string;
  rpcUrl?: string;
  chainId?: number;
  contracts?: { registry: Hex; token: Hex; pool: Hex; market?: Hex };
}

before(async () => {
  await buildUi();
});

test('the Market page: sell a private share from its detail, buy it on another node, delivered and opened by the nodes', { timeout: 300_000 }, async (t) => {
  // A's DHT bootstraps from a socket of ours that never answers (never the public routers); B's from A's.
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  t.after(() => silent.close());
  const a = await startTestServer(t, { chain: {}, dht: { bootstrap: [`127.0.0.1:${silent.address().port}`] } });
  const aDht = `127.0.0.1:${(await nodeJson<{ ports: { dht: number } }>(a, '/api/health')).ports.dht}`;
  const chainOf = async (n: TestServer) => (await nodeJson<{ chain?: ChainHealth }>(n, '/api/health')).chain;
  const chain = await until('A\'s embedded chain', async () => {
    const c = await chainOf(a);
    return c?.state === 'running' && c.contracts?.market ? c : undefined;
  }, 120_000, 250);
  const b = await startTestServer(t, { chain: { rpcUrl: chain.rpcUrl!, chainId: chain.chainId!, contracts: chain.contracts! as Required<ChainHealth>['contracts'] & { market: Hex } }, dht: { bootstrap: [aDht] } });
  await until('B on the same chain', async () => ((await chainOf(b))?.state === 'running' ? true : undefined), 60_000, 250);

  const rpc = async (method: string, params: unknown[]) => {
    const r = (await (await fetch(chain.rpcUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })).json()) as { result?: unknown; error?: { message: string } };
    if (r.error) throw new Error(`${method}: ${r.error.message}`);
    return r.result;
  };
  const token = chain.contracts!.token;
  const seedOf = async (who: Hex) => BigInt((await rpc('eth_call', [{ to: token, data: encodeFunctionData({ abi: erc20, functionName: 'balanceOf', args: [who] }) }, 'latest'])) as string);
  const aAddr = a.server.identity.address as Hex;
  const bAddr = b.server.identity.address as Hex;
  for (const who of [aAddr, bAddr]) await rpc('anvil_setBalance', [who, toHex(10n ** 20n)]);
  // B's SEED: from the reward pool, which holds the supply (anvil sends as it for the test).
  const pool = chain.contracts!.pool;
  await rpc('anvil_impersonateAccount', [pool]);
  await rpc('anvil_setBalance', [pool, toHex(10n ** 18n)]);
  await rpc('eth_sendTransaction', [{ from: pool, to: token, data: encodeFunctionData({ abi: erc20, functionName: 'transfer', args: [bAddr, 10n * SEED] }) }]);
  await rpc('anvil_stopImpersonatingAccount', [pool]);

  // A's private share, sealed to A alone.
  const form = new FormData();
  form.append('recipients', a.server.identity.did);
  form.append('files', new Blob([new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff)]), 'Concert/film.mkv');
  const made = await nodeFetch(a, '/api/torrents', { method: 'POST', body: form });
  assert.equal(made.status, 201, await made.clone().text());
  const ih = ((await made.json()) as { infoHash: string }).infoHash;

  // One context a node: both are 127.0.0.1, and cookies do not tell ports apart.
  const pa = await (await launchBrowser(t)).newPage();
  const pb = await (await launchBrowser(t)).newPage();
  // B's browser has a wallet: EIP-1193 over the real chain, signing with an anvil account (unlocked).
  const walletAddr = ((await rpc('eth_accounts', [])) as Hex[])[1]!;
  await pb.exposeFunction('__walletRpc', async (method: string, params: unknown[]) => {
    const r = (await (await fetch(chain.rpcUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })).json()) as { result?: unknown; error?: unknown };
    return r;
  });
  await pb.addInitScript((account: string) => {
    const w = window as unknown as { ethereum: unknown; __walletChain?: string; __walletRpc(m: string, p: unknown[]): Promise<{ result?: unknown; error?: { message: string; code: number; data?: unknown } }> };
    w.ethereum = {
      async request({ method, params }: { method: string; params?: unknown[] }) {
        if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [account];
        // A wallet left on another network (the test sets it) and one that cannot switch there.
        if (method === 'eth_chainId' && w.__walletChain) return w.__walletChain;
        if (method === 'wallet_switchEthereumChain') throw Object.assign(new Error('Unrecognized chain ID'), { code: 4902 });
        const r = await w.__walletRpc(method, params ?? []);
        if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code, data: r.error.data });
        return r.result;
      },
    };
  }, walletAddr);
  const errors = [...collectErrors(pa), ...collectErrors(pb)];
  await openAsOwner(pa, `${a.url}/#/torrents/${ih}`);
  const sell = pa.locator('[data-testid="detail-sell"]');
  await sell.waitFor({ timeout: 30_000 });
  await sell.click();
  await pa.locator('[data-testid="market-sell-form"]').waitFor({ timeout: 20_000 });
  assert.equal((await pa.locator('[data-testid="market-sell-share"]').innerText()).trim(), ih);
  await pa.locator('[data-testid="market-sell-price"]').fill('5');
  await pa.locator('[data-testid="market-sell-royalty"]').fill('');
  await screenshot(pa, 'market-01-sell-form');
  await pa.locator('[data-testid="market-sell-submit"]').click();
  const mine = pa.locator('[data-testid="market-listing-row"][data-mine="true"]');
  await mine.waitFor({ timeout: 60_000 });
  assert.match(await mine.innerText(), /Concert[\s\S]*5 SEED/);
  assert.equal(await mine.locator('[data-testid="market-delist"]').count(), 1, 'the seller may delist its own');
  await screenshot(pa, 'market-02-listed');

  // B finds it on the network: a search result with the "For sale" row naming the listing's link,
  // and "See the listing" opens that listing on B's Market page.
  const listing = (await nodeJson<{ listings: { id: string; link: string; mine: boolean }[] }>(a, '/api/market/listings')).listings.find((l) => l.mine)!;
  assert.match(listing.link, /^cascade:\/\/market\/\d+\/0x[0-9a-f]{40}\/\d+$/);
  await openAsOwner(pb, `${b.url}/#/add`);
  const forSale = pb.locator('[data-testid="dht-search-result"]').filter({ has: pb.locator('[data-testid="dht-search-market"]') });
  await until('B to find the listing on the DHT', async () => {
    await pb.locator('[data-testid="dht-search-input"]').fill('Concert');
    await pb.locator('[data-testid="dht-search-submit"]').click();
    await pb.locator('[data-testid="dht-search-result"], [data-testid="dht-search-none"]').first().waitFor({ timeout: 10_000 });
    return (await forSale.count()) > 0;
  }, 60_000, 500).catch(async (err: Error) => {
    throw new Error(`${err.message}: B's search ${JSON.stringify(await nodeJson(b, '/api/search?q=Concert'))}; A's listing ${JSON.stringify(listing)}`);
  });
  assert.equal((await forSale.first().locator('[data-testid="dht-search-market"]').innerText()).trim(), `For sale: ${listing.link}`);
  await screenshot(pb, 'market-02b-found-for-sale');
  await forSale.first().locator('[data-testid="dht-search-listing"]').click();
  await pb.waitForURL(new RegExp(`#/market/${listing.id}$`), { timeout: 10_000 });
  const listingCard = pb.locator('[data-testid="market-listing-card"]');
  await listingCard.waitFor({ timeout: 30_000 });
  assert.match(await listingCard.innerText(), /Concert[\s\S]*5 SEED/);
  assert.equal((await listingCard.locator('[data-testid="market-cascade-link"]').innerText()).trim(), listing.link);

  // B's owner (claimed B above): the listing with its seller's did, bought with one click.
  await pb.goto(`${b.url}/#/market`);
  const row = pb.locator('[data-testid="market-listing-row"]');
  await row.first().waitFor({ timeout: 30_000 });
  const shown = await row.first().innerText();
  assert.match(shown, /Concert/);
  assert.match(shown, /5 SEED/);
  assert.doesNotMatch(shown, /SEED SEED/);
  assert.match(shown, /did:key:/);
  const before = { a: await seedOf(aAddr), b: await seedOf(bAddr) };
  await screenshot(pb, 'market-03-listings');
  await row.first().locator('[data-testid="market-buy"]').click();
  const order = pb.locator('[data-testid="market-purchases"] [data-testid="market-order-row"]');
  await order.first().waitFor({ timeout: 60_000 });
  await screenshot(pb, 'market-04-paid');
  await until('B\'s purchase delivered and opened', async () => (await order.first().getAttribute('data-status')) === 'opened', 90_000, 250)
    .catch(async (err: Error) => {
      await screenshot(pb, 'market-fail-b');
      throw new Error(`${err.message}: ${await order.first().innerText()}`);
    });
  await screenshot(pb, 'market-05-opened');
  const after = { a: await seedOf(aAddr), b: await seedOf(bAddr) };
  assert.equal(before.b - after.b, 5n * SEED, 'B paid the price');
  assert.equal(after.a - before.a, 5n * SEED, 'A received it (no royalty asked)');
  // A's sales say delivered; the share is readable on B now.
  await pa.goto(`${a.url}/#/market`);
  const sale = pa.locator('[data-testid="market-sales"] [data-testid="market-order-row"]');
  await until('A\'s sale delivered', async () => (await sale.count()) === 1 && (await sale.getAttribute('data-status')) === 'delivered', 30_000, 250)
    .catch(async (err: Error) => {
      await screenshot(pa, 'market-fail-a');
      throw new Error(`${err.message}: ${JSON.stringify(await nodeJson(a, '/api/market/orders'))}`);
    });
  await screenshot(pa, 'market-06-sold');
  await until('B can read the share', async () => (await nodeJson<{ decryptable?: boolean }>(b, `/api/torrents/${ih}`)).decryptable === true, 60_000, 250);
  for (const scheme of ['light', 'dark'] as const) {
    await pb.emulateMedia({ colorScheme: scheme });
    const serious = (await runAxe(pb)).filter(isSerious);
    assert.deepEqual(serious.length, 0, `market ${scheme}: ${describeViolations(serious)}`);
  }

  // Buy with the browser's wallet: a second share of A's, listed for 3 SEED; the wallet (not B's
  // account) holds the SEED.
  const form2 = new FormData();
  form2.append('recipients', a.server.identity.did);
  form2.append('files', new Blob([new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff)]), 'Lecture/notes.pdf');
  const made2 = await nodeFetch(a, '/api/torrents', { method: 'POST', body: form2 });
  assert.equal(made2.status, 201, await made2.clone().text());
  const ih2 = ((await made2.json()) as { infoHash: string }).infoHash;
  const listed2 = await nodeFetch(a, '/api/market/listings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ share: ih2, price: '3' }) });
  assert.equal(listed2.status, 200, await listed2.clone().text());
  const id2 = ((await listed2.json()) as { listing: { id: string } }).listing.id;
  await rpc('anvil_impersonateAccount', [pool]);
  await rpc('eth_sendTransaction', [{ from: pool, to: token, data: encodeFunctionData({ abi: erc20, functionName: 'transfer', args: [walletAddr, 10n * SEED] }) }]);
  await rpc('anvil_stopImpersonatingAccount', [pool]);
  await pb.emulateMedia({ colorScheme: 'light' });
  await pb.reload();
  const row2 = pb.locator(`[data-testid="market-listing-row"][data-listing-id="${id2}"]`);
  await row2.waitFor({ timeout: 30_000 });
  const walletBuy = row2.locator('[data-testid="market-buy-wallet"]');
  const ordersBefore = (await nodeJson<{ orders: unknown[] }>(b, '/api/market/orders')).orders.length;
  const w0 = { wallet: await seedOf(walletAddr), a: await seedOf(aAddr), b: await seedOf(bAddr) };

  // On the wrong network: refused in words, nothing sent.
  await pb.evaluate(() => ((window as unknown as { __walletChain?: string }).__walletChain = '0x1'));
  await walletBuy.click();
  const err = pb.locator('[data-testid="market-error"]');
  await err.waitFor({ timeout: 20_000 });
  assert.match(await err.innerText(), new RegExp(`Wrong network: your wallet is on chain 1, this market is on chain ${chain.chainId}.*nothing was paid`));
  await screenshot(pb, 'market-07-wallet-wrong-network');
  assert.equal(await seedOf(walletAddr), w0.wallet, 'the wallet paid nothing');
  assert.equal((await nodeJson<{ orders: unknown[] }>(b, '/api/market/orders')).orders.length, ordersBefore, 'no order');

  // On the market's chain: approve + buy signed by the wallet; B's node opens what it paid for.
  await pb.evaluate(() => delete (window as unknown as { __walletChain?: string }).__walletChain);
  let orderReads = 0;
  pb.on('request', (r) => {
    if (r.method() === 'GET' && new URL(r.url()).pathname === '/api/market/orders') orderReads++;
  });
  await walletBuy.click();
  const note = pb.locator('[data-testid="market-note"]');
  await until('the wallet purchase', async () => ((await note.count()) > 0 && /with your wallet/.test(await note.innerText()) ? true : undefined), 60_000, 250)
    .catch(async (e: Error) => {
      await screenshot(pb, 'market-fail-wallet');
      throw new Error(`${e.message}: ${(await err.count()) > 0 ? await err.innerText() : ''}`);
    });
  const walletOrder = pb.locator('[data-testid="market-purchases"] [data-testid="market-order-row"]').last();
  const readsAtPaid = orderReads;
  await screenshot(pb, 'market-08-wallet-paid');
  await until('the wallet\'s purchase opened by B\'s node', async () => (await walletOrder.getAttribute('data-status')) === 'opened', 90_000, 250)
    .catch(async (e: Error) => {
      await screenshot(pb, 'market-fail-wallet-open');
      throw new Error(`${e.message}: ${await walletOrder.innerText()} ${JSON.stringify(await nodeJson(b, '/api/market/orders'))}`);
    });
  // The page heard 'opened' from the feed: it read no orders between (its timed re-read is 30 s
  // while the feed is up).
  assert.equal(orderReads - readsAtPaid, 0, 'paid → opened came by the live feed');
  await screenshot(pb, 'market-09-wallet-opened');
  const w1 = { wallet: await seedOf(walletAddr), a: await seedOf(aAddr), b: await seedOf(bAddr) };
  assert.equal(w0.wallet - w1.wallet, 3n * SEED, 'the wallet paid the price');
  assert.equal(w1.a - w0.a, 3n * SEED, 'A received it');
  assert.equal(w1.b, w0.b, 'B\'s account paid nothing');
  const bought2 = (await nodeJson<{ orders: { listingId: string; role: string; buyer: string; status: string }[] }>(b, '/api/market/orders')).orders.find((o) => o.listingId === id2)!;
  assert.deepEqual([bought2.role, bought2.buyer.toLowerCase(), bought2.status], ['buyer', walletAddr.toLowerCase(), 'opened']);
  await until('B can read the second share', async () => (await nodeJson<{ decryptable?: boolean }>(b, `/api/torrents/${ih2}`)).decryptable === true, 60_000, 250);

  // A listing's page: its name opens #/market/<id>, with the cascade:// link and this page's https link.
  await row2.locator('[data-testid="market-listing-open"]').click();
  const card = pb.locator('[data-testid="market-listing-card"]');
  await card.waitFor({ timeout: 20_000 });
  assert.match(await card.innerText(), /Lecture[\s\S]*3 SEED[\s\S]*\d+ sold/);
  assert.equal(await pb.locator('[data-testid="market-cascade-link"]').getAttribute('href'), `cascade://market/${chain.chainId}/${chain.contracts!.market!.toLowerCase()}/${id2}`.replace(chain.contracts!.market!.toLowerCase(), chain.contracts!.market!));
  assert.equal(await pb.locator('[data-testid="market-page-link"]').getAttribute('href'), `${b.url}/#/market/${id2}`);
  await screenshot(pb, 'market-10-listing-page');
  await pb.goto(`${b.url}/#/market/99`);
  await pb.locator('[data-testid="market-listing-missing"]').waitFor({ timeout: 20_000 });
  assert.deepEqual(errors, []);
});
