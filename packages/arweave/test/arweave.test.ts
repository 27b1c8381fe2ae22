// The arweave client against the stand-in gateway: a block stored and read back (in the
// transaction's body, and in chunks when larger than 256 KiB), a forged transaction refused, a
// gateway serving other bytes caught, an unreachable gateway and a wallet that is not a JWK named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import Arweave from 'arweave';
import { fetchFromArweave, readWallet, startStandInGateway, storeOnArweave } from '../index.ts';

test('the arweave client stores and reads back through the stand-in gateway; forgeries and lies are caught', { timeout: 60_000 }, async (t) => {
  const gw = await startStandInGateway();
  t.after(() => gw.close());
  const ar = Arweave.init({ host: '127.0.0.1', port: Number(new URL(gw.url).port), protocol: 'http' });
  const wallet = await ar.wallets.generate();
  const dir = mkdtempSync(join(tmpdir(), 'arweave-'));
  writeFileSync(join(dir, 'wallet.json'), JSON.stringify(wallet));
  assert.deepEqual(readWallet(join(dir, 'wallet.json')), wallet);

  const small = new TextEncoder().encode(JSON.stringify({ v: 1, name: 'talk' }));
  const s = await storeOnArweave(gw.url, wallet, small, { 'Content-Type': 'application/vnd.ipld.dag-json', 'IPFS-CID': 'bafy-test' });
  assert.match(s.id, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(s.owner, await ar.wallets.jwkToAddress(wallet));
  const back = await fetchFromArweave(gw.url, s.id);
  assert.deepEqual(Buffer.from(back.bytes), Buffer.from(small));
  assert.equal(back.tags['IPFS-CID'], 'bafy-test');
  assert.equal(back.owner, s.owner);
  assert.equal(back.confirmed?.confirmations, 1);
  // The client itself reads it back the same (its own get, getStatus, getData).
  assert.equal((await ar.transactions.getStatus(s.id)).status, 200);
  assert.deepEqual(Buffer.from((await ar.transactions.getData(s.id, { decode: true })) as Uint8Array), Buffer.from(small));
  const raw = await fetch(`${gw.url}/${s.id}`);
  assert.equal(raw.headers.get('content-type'), 'application/vnd.ipld.dag-json');
  assert.deepEqual(Buffer.from(await raw.arrayBuffer()), Buffer.from(small));
  assert.equal(await (await fetch(`${gw.url}/tx/${s.id}/data`)).text(), Arweave.utils.bufferTob64Url(small));

  // 600 KiB: the client posts the header, then each chunk with its proof.
  const big = new Uint8Array(600 * 1024).map((_, i) => (i * 7) % 251);
  const b = await storeOnArweave(gw.url, wallet, big, { 'Content-Type': 'application/octet-stream' });
  assert.ok(gw.requests.filter((r) => r === 'POST /chunk').length >= 2, gw.requests.join(', '));
  assert.deepEqual(Buffer.from((await fetchFromArweave(gw.url, b.id)).bytes), Buffer.from(big));

  // Forged: a tag changed after signing. Refused by the gateway, as a real one does.
  const tx = await ar.createTransaction({ data: small }, wallet);
  await ar.transactions.sign(tx, wallet);
  tx.addTag('Injected', 'yes');
  const posted = await ar.transactions.post(tx);
  assert.equal(posted.status, 400);
  assert.equal(gw.held.has(tx.id), false);

  // A gateway that serves other bytes for a transaction: caught against the signed data root.
  const other = new Uint8Array(small);
  other[0] ^= 1;
  gw.tamper(s.id, other);
  await assert.rejects(fetchFromArweave(gw.url, s.id), (e: Error & { kind?: string }) => e.kind === 'mismatch' && /does not match the data root/.test(e.message));
  await assert.rejects(fetchFromArweave(gw.url, 'x'.repeat(43)), (e: Error & { kind?: string }) => e.kind === 'not-found');

  // Nobody listening; a file that is not a wallet.
  const gone = await closedPort();
  await assert.rejects(storeOnArweave(`http://127.0.0.1:${gone}`, wallet, small, {}), (e: Error & { kind?: string }) => e.kind === 'unreachable' && new RegExp(`127\\.0\\.0\\.1:${gone} did not answer: ECONNREFUSED`).test(e.message));
  await assert.rejects(fetchFromArweave(`http://127.0.0.1:${gone}`, s.id), (e: Error & { kind?: string }) => e.kind === 'unreachable');
  writeFileSync(join(dir, 'notes.json'), JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }));
  assert.throws(() => readWallet(join(dir, 'notes.json')), /is not an Arweave wallet: a JWK with kty "RSA"/);
  writeFileSync(join(dir, 'text.txt'), 'hello');
  assert.throws(() => readWallet(join(dir, 'text.txt')), /is not an Arweave wallet: not JSON/);
});

/** A port nobody listens on: one the system gave and took back. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}
