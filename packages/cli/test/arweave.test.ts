// `cascade register --arweave URL --arweave-wallet FILE` stores a torrent's metadata block on Arweave
// and records the transaction id beside the record on chain (setArweaveTx) and in the node's record;
// `cascade verify --arweave URL` fetches it back (the registry's id first) and checks it. Against the stand-in gateway (@cascade/arweave; arlocal does not install here), which
// checks every transaction's signature as a real one does. Bad inputs: a gateway serving other
// bytes, a transaction holding another block, an unreachable gateway, a wallet that is not a JWK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetadataBlock } from '@cascade/chain';
import { fetchFromArweave, newWallet, startStandInGateway, storeOnArweave } from '@cascade/arweave';
import { tempDir } from './helpers.ts';
import { cascade, startServe, until } from './node-process.ts';

test('register stores the metadata block on Arweave, verify fetches it back; mismatches, a dead gateway and a bad wallet are said', { timeout: 120_000 }, async (t) => {
  const gw = await startStandInGateway();
  t.after(() => gw.close());
  const wallet = await newWallet();
  const dir = tempDir(t);
  const walletFile = join(dir, 'wallet.json');
  writeFileSync(walletFile, JSON.stringify(wallet));
  const node = await startServe(t);
  await until('the chain running', async () => ((await node.run(['health', '--json'])).json.chain?.state === 'running' ? true : undefined), 60_000);
  const torrent = async (name: string) => {
    writeFileSync(join(dir, name), name.repeat(10_000));
    return (await cascade(['create', join(dir, name), '-o', join(dir, `${name}.torrent`), '--json'])).json.infoHash as string;
  };

  // A file that is not a wallet: refused before anything is registered.
  const ih = await torrent('talk.mp3');
  writeFileSync(join(dir, 'not-a-wallet.json'), JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }));
  const bad = await node.run(['register', join(dir, 'talk.mp3.torrent'), '--arweave', gw.url, '--arweave-wallet', join(dir, 'not-a-wallet.json')]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--arweave-wallet: .*not-a-wallet\.json is not an Arweave wallet: a JWK with kty "RSA"/);
  assert.equal((await node.run(['register', ih, '--arweave', gw.url])).code, 2, '--arweave without a wallet');

  // The round trip.
  const reg = await node.run(['register', join(dir, 'talk.mp3.torrent'), '--arweave', gw.url, '--arweave-wallet', walletFile, '--json']);
  assert.equal(reg.code, 0, reg.stderr);
  const tx = reg.json.arweave.tx as string;
  assert.match(tx, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(reg.json.arweave.stored, true);
  // The transaction id on chain beside the record (setArweaveTx), sent by the record's owner.
  assert.equal(reg.json.arweave.onChain, true, JSON.stringify(reg.json.arweave));
  assert.match(reg.json.arweave.onChainTx, /^0x[0-9a-f]{64}$/);
  const onArweave = await fetchFromArweave(gw.url, tx);
  assert.equal((await readMetadataBlock(reg.json.metadataCid, onArweave.bytes)).infoHash, ih);
  assert.equal(onArweave.tags['IPFS-CID'], reg.json.metadataCid);
  const ok = await node.run(['verify', ih, '--arweave', gw.url, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  t.diagnostic(`round trip: metadata ${reg.json.metadataCid} (${onArweave.bytes.length} bytes) in Arweave transaction ${tx}, signed by ${reg.json.arweave.owner}; verify: ${ok.json.arweave.state}, ${ok.json.arweave.confirmations} confirmation(s); gateway calls: ${[...new Set(gw.requests)].join(', ')}`);
  assert.equal(ok.json.arweaveTx, tx);
  assert.equal(ok.json.arweaveTxOnChain, true, 'verify read the transaction id from the registry');
  assert.equal(ok.json.arweave.state, 'matches');
  assert.equal(ok.json.arweave.owner, reg.json.arweave.owner);
  // Again: already stored, no second transaction.
  const again = await node.run(['register', join(dir, 'talk.mp3.torrent'), '--arweave', gw.url, '--arweave-wallet', walletFile, '--json']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual([again.json.tx, again.json.arweave.tx, again.json.arweave.stored, again.json.arweave.onChain, again.json.arweave.onChainTx], [null, tx, false, true, undefined]);
  assert.equal(gw.held.size, 1);

  // Unreachable: verify says so and exits 1.
  const gone = await closedPort();
  const dead = await node.run(['verify', ih, '--arweave', `http://127.0.0.1:${gone}`, '--json']);
  assert.equal(dead.code, 1);
  assert.equal(dead.json.arweave.state, 'unreachable');
  assert.match(dead.json.arweave.reason, /did not answer: ECONNREFUSED/);
  // …and register: the record stands, the Arweave part fails with why (exit 1), a retry stores it.
  await torrent('other.mp3');
  const r2 = await node.run(['register', join(dir, 'other.mp3.torrent'), '--arweave', `http://127.0.0.1:${gone}`, '--arweave-wallet', walletFile, '--json']);
  assert.equal(r2.code, 1);
  assert.match(r2.json.tx, /^0x/);
  assert.match(r2.json.arweave.error, /did not answer: ECONNREFUSED/);
  const retry = await node.run(['register', join(dir, 'other.mp3.torrent'), '--arweave', gw.url, '--arweave-wallet', walletFile, '--json']);
  assert.equal(retry.code, 0, retry.stdout + retry.stderr);
  assert.equal(retry.json.arweave.stored, true);

  // A gateway that serves other bytes for the transaction: a mismatch, exit 1.
  const block = onArweave.bytes;
  const lied = new Uint8Array(block);
  lied[lied.length - 2] ^= 1;
  gw.tamper(tx, lied);
  const m1 = await node.run(['verify', ih, '--arweave', gw.url, '--json']);
  assert.equal(m1.code, 1);
  assert.equal(m1.json.arweave.state, 'mismatch');
  assert.match(m1.json.arweave.reason, /does not match the data root/);
  // The node's record edited to point at a validly signed transaction holding another block: the
  // registry's id is the one checked (still the lying gateway's: a mismatch), and the disagreement said.
  const other = await storeOnArweave(gw.url, wallet, new TextEncoder().encode('{"v":1}'), {});
  const recPath = join(node.stateDir, 'chain', 'arweave', `${reg.json.metadataCid}.json`);
  writeFileSync(recPath, JSON.stringify({ ...JSON.parse(readFileSync(recPath, 'utf8')), tx: other.id }));
  const m2 = await node.run(['verify', ih, '--arweave', gw.url]);
  assert.equal(m2.code, 1);
  assert.match(m2.stdout, new RegExp(`arweave: MISMATCH: the data .* for transaction ${tx} does not match`));
  assert.match(m2.stderr, new RegExp(`the node's record names Arweave transaction ${other.id}, the registry ${tx}: the registry's was checked`));
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = (s.address() as AddressInfo);
  await new Promise((r) => s.close(r));
  return port;
}
