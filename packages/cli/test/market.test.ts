// The market end to end (issue 62) with real `cascade serve` nodes on one anvil: A sells access to a
// private share, C only seeds its ciphertext (and is the content's registered owner, so it earns the
// royalty), B buys from the command line: A's node delivers by itself, B's opens the share and
// downloads it from C (A's copy paused), and the SEED balances move exactly. A share a node cannot
// open is refused at sell time; another identity cannot open B's envelope; with A offline past the
// deadline B takes its refund.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { createPublicClient, encodeFunctionData, http, toHex, type Address, type Hex } from 'viem';
import { cascadeMarket, cascadeToken, deployWithKey, startAnvil } from '@cascade/chain';
import { generateIdentity } from '@cascade/identity';
import { openWithSecret, type PrivateInfo } from '@cascade/private-shares';
import { startServe, until, type ServeNode } from './node-process.ts';
import { tempDir } from './helpers.ts';

// anvil's second dev account (its well-known test mnemonic): funded on any fresh anvil.
const FUNDED_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as const;
const SEED = 10n ** 18n;
process.env.CASCADE_MARKET_POLL_MS = '300';

test('market: A sells, B buys from the CLI, A delivers, B opens and downloads from C; exact balances; a refund with A offline', { timeout: 240_000 }, async (t) => {
  const anvil = await startAnvil();
  t.after(() => anvil.stop());
  // Deployed in-process: `cascade chain deploy` is chain.test's (one process fewer here).
  const contracts = await deployWithKey(anvil.rpcUrl, FUNDED_KEY);
  const root = tempDir(t);
  const file = join(root, 'contracts.json');
  writeFileSync(file, JSON.stringify(contracts));
  const chainArgs = ['--chain-rpc', anvil.rpcUrl, '--chain-contracts', file];
  // One DHT among the three (C first, bootstrapped from a socket that never answers): the listing's
  // record is found by the torrent search.
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  t.after(() => silent.close());
  const serve = (n: string, bootstrap: string) => startServe(t, { dhtBootstrap: [bootstrap], args: [...chainArgs, '--host', '127.0.0.1', '--download-dir', join(root, `${n}-dl`)] });
  const c = await serve('c', `127.0.0.1:${silent.address().port}`);
  const cDht = `127.0.0.1:${((await (await c.api('/api/health')).json()) as { ports: { dht: number } }).ports.dht}`;
  const [a, b] = await Promise.all([serve('a', cDht), serve('b', cDht)]);
  const rpc = (method: string, params: unknown[]) => fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) }).then((r) => r.json() as Promise<{ result: unknown }>);
  const ids = await Promise.all([a, b, c].map(async (n) => (await (await n.api('/api/identity')).json()) as { did: string; address: Address }));
  const [aId, bId, cId] = ids as [{ did: string; address: Address }, { did: string; address: Address }, { did: string; address: Address }];
  for (const id of ids) await rpc('anvil_setBalance', [id.address, toHex(10n ** 20n)]);
  // B's SEED: from the reward pool, which holds the whole supply (anvil lets the test send as it).
  await rpc('anvil_impersonateAccount', [contracts.rewards]);
  await rpc('anvil_setBalance', [contracts.rewards, toHex(10n ** 18n)]);
  const client = createPublicClient({ transport: http(anvil.rpcUrl) });
  const sent = (await rpc('eth_sendTransaction', [{ from: contracts.rewards, to: contracts.token, data: encodeFunctionData({ abi: cascadeToken.abi, functionName: 'transfer', args: [bId.address, 10n * SEED] }) }])).result as Hex;
  await client.waitForTransactionReceipt({ hash: sent });
  const seed = (who: Address) => client.readContract({ address: contracts.token, abi: cascadeToken.abi, functionName: 'balanceOf', args: [who] }) as Promise<bigint>;
  const health = async (n: ServeNode) => ((await (await n.api('/api/health')).json()) as { chain?: { state: string } }).chain?.state;
  for (const n of [a, b, c]) await until('chain running', async () => ((await health(n)) === 'running' ? true : undefined), 60_000);
  const post = async (n: ServeNode, path: string, body: unknown = {}) => {
    const r = await n.api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, any> };
  };

  // A's private share (sealed to A alone): C takes its ciphertext from A and registers it.
  const film = randomBytes(400_000);
  const form = new FormData();
  form.append('recipients', aId.did);
  form.append('files', new Blob([new Uint8Array(film)]), 'Concert/film.mkv');
  const made = await a.api('/api/torrents', { method: 'POST', body: form });
  const share = (await made.json()) as { infoHash: string; magnet: string };
  assert.equal(made.status, 201, JSON.stringify(share));
  const ih = share.infoHash;
  const cAdd = await c.api('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: share.magnet, peers: [`127.0.0.1:${a.btPort}`] }) });
  assert.ok(cAdd.status === 201 || cAdd.status === 200);
  await until('C to hold the ciphertext', async () => (((await (await c.api(`/api/torrents/${ih}`)).json()) as { progress: number }).progress === 1 ? true : undefined), 60_000);
  assert.equal((await post(c, `/api/torrents/${ih}/register`)).status, 200);

  // Sell over HTTP, refused: C cannot open the share (it holds no key), B has no such share, a price of 0.
  const cSell = await post(c, '/api/market/listings', { share: ih, price: '5' });
  assert.equal(cSell.status, 409);
  assert.match(cSell.body.message, /cannot open .*holds no key/);
  const bSell = await post(b, '/api/market/listings', { share: ih, price: '5' });
  assert.equal(bSell.status, 404);
  const zero = await post(a, '/api/market/listings', { share: ih, price: '0' });
  assert.equal(zero.status, 400);
  assert.match(zero.body.message, /a price must be more than 0/);
  assert.deepEqual(((await (await b.api('/api/market/listings')).json()) as { listings: unknown[] }).listings, [], 'nothing listed');
  // A sells from the CLI.
  const sold = await a.run(['market', 'sell', ih, '--price', '5', '--token', 'SEED', '--royalty', '5%', '--deadline', '1h', '--json']);
  assert.equal(sold.code, 0, sold.stderr);
  const listing = sold.json.listing as { id: string; name: string; size: number; priceShown: string; sellerDid: string };
  assert.deepEqual([listing.id, listing.name, listing.size, listing.priceShown, listing.sellerDid], ['1', 'Concert', film.length, '5 SEED', aId.did]);
  const shown = (await b.run(['market', 'list'])).stdout;
  assert.match(shown, /^ {5}cascade:\/\/market\/31337\/0x[0-9a-f]{40}\/1$/m);
  assert.match(shown, /^ {2}1 {2}Concert \(391 KiB\) {2}5 SEED, 5% royalty {2}0 sold/m);
  // Discovery: B's torrent search finds the listing's signed DHT record, with its link.
  const found = await until('B to find the listing by a word of its name', async () => {
    const r = await b.run(['search', 'concert', '--json']);
    const rows = (r.code === 0 ? JSON.parse(r.stdout) : []) as { publisher: string; market?: { link: string; listingId: number } }[];
    return rows.find((x) => x.market) ?? undefined;
  }, 60_000);
  assert.deepEqual([found.publisher, found.market!.listingId], [aId.did, 1]);
  assert.match(found.market!.link, /^cascade:\/\/market\/31337\/0x[0-9a-f]{40}\/1$/);
  assert.match((await b.run(['search', 'concert'])).stdout, /for sale {2}cascade:\/\/market\/31337\/0x[0-9a-f]{40}\/1 {2}\(cascade market buy 1\)/);
  // A's copy paused: what B downloads comes from C.
  assert.equal((await post(a, `/api/torrents/${ih}/pause`)).status < 300, true);

  const before = { a: await seed(aId.address), b: await seed(bId.address), c: await seed(cId.address) };
  const unknown = await post(b, '/api/market/listings/7/buy');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.message, /no listing 7/);
  const wrongToken = await post(b, '/api/market/listings/1/buy', { token: 'ETH' });
  assert.equal(wrongToken.status, 400);
  assert.match(wrongToken.body.message, /the listing takes/);
  const bought = await b.run(['market', 'buy', '1', '--json']);
  assert.equal(bought.code, 0, bought.stderr);
  const paidAt = Date.now();
  assert.equal(bought.json.order.status, 'paid');
  const opened = await until('B to open its purchase', async () => {
    const o = ((await (await b.api('/api/market/orders')).json()) as { orders: { status: string }[] }).orders;
    return o[0]?.status === 'opened' ? o : undefined;
  }, 60_000);
  const deliveredIn = Date.now() - paidAt;
  assert.equal(opened.length, 1);
  await until('B to write the plaintext from C', async () => {
    const d = (await (await b.api(`/api/torrents/${ih}`)).json()) as { decryptable: boolean; files?: { progress: number }[] };
    return d.decryptable && d.files?.length === 1 && d.files[0]!.progress === 1 ? true : undefined;
  }, 60_000);
  assert.ok(readFileSync(join(root, 'b-dl', 'Concert', 'film.mkv')).equals(film), 'B reads what A sealed');
  const after = { a: await seed(aId.address), b: await seed(bId.address), c: await seed(cId.address) };
  const price = 5n * SEED;
  const royalty = price / 20n;
  assert.equal(after.a - before.a, price - royalty, 'A: the price minus the royalty');
  assert.equal(after.c - before.c, royalty, 'C, the registered owner: the royalty');
  assert.equal(before.b - after.b, price, 'B: the price');
  const sales = ((await (await a.api('/api/market/orders')).json()) as { orders: { role: string; status: string }[] }).orders;
  assert.deepEqual(sales.map((o) => [o.role, o.status]), [['seller', 'delivered']]);
  t.diagnostic(`delivered and opened ${deliveredIn} ms after the purchase; SEED before ${JSON.stringify(before, big)} after ${JSON.stringify(after, big)}`);

  // Another identity cannot open B's envelope.
  const logs = await client.getContractEvents({ address: contracts.market, abi: cascadeMarket.abi, eventName: 'Delivered', fromBlock: 0n });
  const envelope = (logs[0] as unknown as { args: { envelope: Hex } }).args.envelope;
  const listed = await client.getContractEvents({ address: contracts.market, abi: cascadeMarket.abi, eventName: 'Listed', fromBlock: 0n });
  const salt = Buffer.from(JSON.parse((listed[0] as unknown as { args: { details: string } }).args.details).salt, 'base64url');
  const info = { salt: new Uint8Array(salt), envelopes: [new Uint8Array(Buffer.from(envelope.slice(2), 'hex'))] } as unknown as PrivateInfo;
  await assert.rejects(openWithSecret(info, generateIdentity('another buyer').dhSecret), /other people/);

  // A second listing with a 3 s deadline; A goes offline; B pays, waits, and takes its refund.
  const quick = await post(a, '/api/market/listings', { share: ih, price: '1', deadline: '3s' });
  assert.equal(quick.status, 200, JSON.stringify(quick.body));
  await a.stop();
  const b2 = await post(b, `/api/market/listings/${quick.body.listing.id}/buy`);
  assert.equal(b2.status, 200, JSON.stringify(b2.body));
  const order = b2.body.order.id as string;
  const early = await post(b, `/api/market/orders/${order}/refund`);
  assert.equal(early.status, 409);
  assert.match(early.body.message, /a refund comes after that/);
  await new Promise((r) => setTimeout(r, 4000));
  const orders = ((await (await b.api('/api/market/orders')).json()) as { orders: { id: string; status: string }[] }).orders;
  assert.equal(orders.find((o) => o.id === order)!.status, 'expired');
  const refunded = await b.run(['market', 'refund', order, '--json']);
  assert.equal(refunded.code, 0, refunded.stderr);
  assert.equal(refunded.json.order.status, 'refunded');
  assert.equal(await seed(bId.address), after.b, 'B has its price back');
  const again = await post(b, `/api/market/orders/${order}/refund`);
  assert.equal(again.status, 409);
  assert.match(again.body.message, /the order is refunded, not paid/);
});

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
