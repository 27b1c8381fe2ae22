// The market on an RPC that behaves like a public one (issue 62): eth_getLogs from block 0, or over
// more than 200 blocks, is refused ("block range is too wide"). Listings and orders are still read
// — from the contract's deployment block, in ranges the RPC accepts — across 1,000 empty blocks.
// The RPC is a small proxy in front of a real anvil that counts and checks each eth_getLogs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { toHex } from 'viem';
import { NodeChain, cascadeMarket, cascadeToken } from '@cascade/chain';
import { generateIdentity } from '@cascade/identity';
import { newContentKey, sealInfo } from '@cascade/private-shares';
import { testChain, DEPLOYER } from '../../chain/test/helpers.ts';
import { MarketService, type MarketHost } from '../index.ts';

const IH = 'cd'.repeat(20);
const MAX_RANGE = 200;

function host(share?: { key: Uint8Array; salt: Uint8Array }): MarketHost {
  const id = generateIdentity('t');
  return {
    identity: () => id,
    resolve: (a) => a,
    async share(ih) {
      if (!share) throw new Error('no key');
      return { infoHash: ih, key: share.key, salt: share.salt, name: 'album.flac', size: 99, magnet: `magnet:?xt=urn:btih:${ih}` };
    },
    hasKey: async () => false,
    open: async () => {},
    log: () => {},
  };
}

test('market: listings and orders read in bounded ranges from the deployment block, on an RPC that refuses block 0 and wide ranges', { timeout: 120_000 }, async (t) => {
  const c = await testChain(t, { poolFunding: 10n ** 26n });
  const calls: { from: number; to: number }[] = [];
  let refused = 0;
  // The "public RPC": anvil behind a proxy with a public provider's getLogs limits.
  const proxy = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', async () => {
      const msg = JSON.parse(body) as { id: number; method: string; params: { fromBlock?: string; toBlock?: string }[] };
      if (msg.method === 'eth_getLogs') {
        const from = Number(msg.params[0]!.fromBlock);
        const latest = Number((await (await fetch(c.anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }) })).json() as { result: string }).result);
        const to = msg.params[0]!.toBlock === undefined || msg.params[0]!.toBlock === 'latest' ? latest : Number(msg.params[0]!.toBlock);
        if (from === 0 || to - from + 1 > MAX_RANGE) {
          refused++;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32600, message: `block range is too wide (max ${MAX_RANGE})` } }));
          return;
        }
        calls.push({ from, to });
      }
      const r = await fetch(c.anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      res.setHeader('content-type', 'application/json');
      res.end(await r.text());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => proxy.close());
  const rpcUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const dir = mkdtempSync(join(tmpdir(), 'cascade-market-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const chainOf = async (name: string) => {
    const chain = await NodeChain.start({ stateDir: join(dir, name), ethSecret: generateIdentity(name).ethSecret, rpcUrl, chainId: c.anvil.chainId, contracts: c.deployment });
    await c.client.request({ method: 'anvil_setBalance' as never, params: [chain.account.address, toHex(10n ** 20n)] as never });
    return chain;
  };
  const [sellerChain, buyerChain] = await Promise.all(['seller', 'buyer'].map(chainOf));
  await c.client.waitForTransactionReceipt({ hash: await c.wallet(DEPLOYER).writeContract({ address: c.deployment.token, abi: cascadeToken.abi, functionName: 'transfer', args: [buyerChain.account.address, 10n ** 19n] }) });
  const deployedAt = (await c.client.readContract({ address: c.deployment.market!, abi: cascadeMarket.abi, functionName: 'deployedAt' })) as bigint;
  assert.ok(deployedAt > 0n, 'the contract knows its deployment block');

  const key = newContentKey();
  const info = await sealInfo(key, { name: 'album.flac', files: [{ path: ['album.flac'], length: 99 }], length: 99 }, []);
  const seller = new MarketService(async () => sellerChain, host({ key, salt: info.salt }));
  const buyer = new MarketService(async () => buyerChain, host());
  await seller.sell({ share: IH, price: '1', token: 'SEED' });
  // 1,000 empty blocks, then a second listing and a purchase of the first.
  await c.client.request({ method: 'anvil_mine' as never, params: [toHex(1000)] as never });
  await seller.sell({ share: IH, price: '2', token: 'SEED' });
  await buyer.buy('1');

  calls.length = 0;
  const listings = await buyer.listings();
  assert.deepEqual(listings.map((l) => [l.id, l.priceShown]), [['1', '1 SEED'], ['2', '2 SEED']]);
  const orders = await buyer.orders();
  assert.deepEqual(orders.map((o) => [o.id, o.role, o.status]), [['1', 'buyer', 'paid']]);
  assert.deepEqual((await seller.orders()).map((o) => [o.id, o.role]), [['1', 'seller']]);
  assert.ok(calls.length > 0);
  assert.ok(refused > 0, 'the RPC refused the first, wide ranges: the reader halved them');
  for (const call of calls) {
    assert.ok(BigInt(call.from) >= deployedAt, `no read before the deployment block ${deployedAt}: ${JSON.stringify(call)}`);
    assert.ok(call.to - call.from + 1 <= MAX_RANGE);
  }
  t.diagnostic(`deployed at block ${deployedAt}; ${calls.length} eth_getLogs accepted, ${refused} refused as too wide over the whole test (each halved the range, and the range that worked is kept), latest block ${await c.client.getBlockNumber({ cacheTime: 0 })}`);
});
