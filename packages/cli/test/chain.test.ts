// The chain through the real `cascade` command (issue 13): `serve` brings its embedded chain up with
// no extra step; `chain deploy` puts the contracts on a separately started anvil and `serve
// --chain-rpc URL --chain-contracts FILE` uses them; wrong chain options are usage errors.
// The verbs through a running node, the deploys and the usage errors run inside the test's process
// (cascadeHere / node.here: the CLI's own main(), without a process's module loading each); an
// exact one-line error and the verbs with no node running stay real `cascade` processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetadataBlock, startAnvil } from '@cascade/chain';
import { tempDir } from './helpers.ts';
import { cascade, cascadeHere, startServe, until } from './node-process.ts';

// anvil's second dev account (its well-known test mnemonic): funded on any fresh anvil.
const FUNDED_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

test('serve runs its embedded chain by default; cascade health shows it', { timeout: 120_000 }, async (t) => {
  const node = await startServe(t);
  const chain = await until('the chain running', async () => {
    const c = (await node.here(['health', '--json'])).json.chain;
    return c?.state === 'running' ? c : undefined;
  });
  assert.equal(chain.embedded, true);
  assert.equal(chain.chainId, 31337);
  const identity = (await node.here(['identity', '--json'])).json;
  assert.equal(chain.account, identity.address, "the node identity's account");
  const text = await node.here(['health']);
  assert.match(text.stdout, /chain {4}embedded, id 31337, block \d+/);
  assert.match(text.stdout, /100 ETH, 0 SEED/);
});

test('chain deploy on a separately started anvil, then serve --chain-rpc --chain-contracts uses it', { timeout: 120_000 }, async (t) => {
  const anvil = await startAnvil();
  t.after(() => anvil.stop());
  const deployed = await cascadeHere(['chain', 'deploy', '--chain-rpc', anvil.rpcUrl, '--key', FUNDED_KEY, '--json']);
  assert.equal(deployed.code, 0, deployed.stderr);
  const file = deployed.json;
  assert.equal(file.chainId, 31337);
  for (const k of ['registry', 'rewards', 'token', 'market']) assert.match(file[k], /^0x[0-9a-fA-F]{40}$/, k);
  const contractsFile = join(tempDir(t), 'contracts.json');
  writeFileSync(contractsFile, JSON.stringify(file));

  const node = await startServe(t, { args: ['--chain-rpc', anvil.rpcUrl, '--chain-contracts', contractsFile] });
  const chain = await until('the chain running', async () => {
    const c = (await node.here(['health', '--json'])).json.chain;
    return c?.state === 'running' ? c : undefined;
  });
  assert.equal(chain.embedded, false);
  assert.equal(chain.rpcUrl, anvil.rpcUrl);
  assert.deepEqual(chain.contracts, { registry: file.registry, token: file.token, pool: file.rewards, market: file.market });

  // Nothing answers there (fetch never connects to port 9): one line that says so, exit 1.
  const nowhere = await cascade(['chain', 'deploy', '--chain-rpc', 'http://127.0.0.1:9', '--key', FUNDED_KEY]);
  assert.equal(nowhere.code, 1);
  assert.equal(nowhere.stderr, 'cascade: cannot reach the chain at http://127.0.0.1:9/ (a port fetch never connects to); run it on another port and pass that with --chain-rpc\n');
});

test('wrong chain options are usage errors that say what is wrong', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ chainId: 31337, registry: '0x12', rewards: '0x12', token: '0x12' }));
  const cases: [string[], RegExp][] = [
    [['serve', '--chain-rpc', 'http://127.0.0.1:8545'], /needs both --chain-rpc URL and --chain-contracts FILE/],
    [['serve', '--no-chain', '--chain-rpc', 'http://127.0.0.1:8545'], /contradict/],
    [['serve', '--chain-rpc', 'ftp://x', '--chain-contracts', bad], /http\(s\) URL/],
    [['serve', '--chain-rpc', 'http://127.0.0.1:8545', '--chain-contracts', join(dir, 'missing.json')], /no such file/],
    [['serve', '--chain-rpc', 'http://127.0.0.1:8545', '--chain-contracts', bad], /"registry" must be an address/],
    [['chain', 'deploy', '--chain-rpc', 'http://127.0.0.1:8545'], /needs --key/],
    [['chain', 'deploy', '--chain-rpc', 'http://127.0.0.1:8545', '--key', 'abc'], /64 hex digits/],
    [['chain', 'launch'], /unknown verb/],
    [['rewards', 'launch'], /unknown verb/],
    [['register', 'not-a-torrent'], /register wants a .torrent file or an infohash/],
    [['verify', 'abc'], /full 40-digit infohash/],
    [['serve', '--receipt-every', 'lots'], /--receipt-every/],
    [['serve', '--auto-claim', '0'], /--auto-claim must be at least one byte/],
    [['download', 'x.torrent', '--payment-threshold', '-5m'], /--payment-threshold/],
    [['verify', 'ab'.repeat(20), '--chain-rpc', 'http://127.0.0.1:8545'], /needs both --chain-rpc URL and --chain-contracts FILE/],
  ];
  for (const [args, message] of cases) {
    const r = await cascadeHere([...args, '--state-dir', join(dir, 'state')]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('register and verify: two nodes on one chain; the first registration wins, the second is refused with its owner', { timeout: 120_000 }, async (t) => {
  const anvil = await startAnvil();
  t.after(() => anvil.stop());
  const deployed = await cascadeHere(['chain', 'deploy', '--chain-rpc', anvil.rpcUrl, '--key', FUNDED_KEY, '--json']);
  assert.equal(deployed.code, 0, deployed.stderr);
  const dir = tempDir(t);
  const contractsFile = join(dir, 'contracts.json');
  writeFileSync(contractsFile, JSON.stringify(deployed.json));
  const args = ['--chain-rpc', anvil.rpcUrl, '--chain-contracts', contractsFile];
  const [a, b] = await Promise.all([startServe(t, { args }), startServe(t, { args })]);
  // Gas for both nodes' own accounts (an external chain funds nobody).
  const rpc = (method: string, params: unknown[]) =>
    fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const ids = await Promise.all([a, b].map(async (n) => (await n.here(['identity', '--json'])).json as { did: string; address: string }));
  for (const id of ids) await rpc('anvil_setBalance', [id.address, '0x56bc75e2d63100000']);
  for (const n of [a, b]) await until('chain running', async () => ((await n.here(['health', '--json'])).json.chain?.state === 'running' ? true : undefined));

  writeFileSync(join(dir, 'song.flac'), 'la'.repeat(40_000));
  const made = await cascadeHere(['create', join(dir, 'song.flac'), '-o', join(dir, 'song.torrent'), '--json']);
  assert.equal(made.code, 0, made.stderr);
  const ih = made.json.infoHash as string;

  const first = await a.here(['register', join(dir, 'song.torrent'), '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.json.infoHash, ih);
  assert.equal(first.json.owner, ids[0]!.address);
  assert.match(first.json.tx, /^0x[0-9a-f]{64}$/);
  assert.match(first.json.metadataCid, /^bagu/, 'a CIDv1 of a DAG-JSON block');

  const again = await a.here(['register', join(dir, 'song.torrent'), '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.json.tx, null, 'already ours: no second transaction');

  const taken = await b.here(['register', ih.slice(0, 12), '--json']);
  assert.notEqual(taken.code, 0, 'b cannot register what a owns (b does not even have the torrent)');
  const stolen = await b.here(['register', join(dir, 'song.torrent'), '--json']);
  assert.equal(stolen.code, 1);
  assert.match(stolen.stdout + stolen.stderr, new RegExp(`registered to ${ids[0]!.address}`));

  const byA = await a.here(['verify', ih, '--json']);
  assert.equal(byA.code, 0, byA.stderr);
  assert.deepEqual({ owner: byA.json.owner, did: byA.json.did, metadataCid: byA.json.metadataCid }, { owner: ids[0]!.address, did: ids[0]!.did, metadataCid: first.json.metadataCid });
  assert.ok(byA.json.block > 0);
  const byB = await b.here(['verify', ih, '--json']);
  assert.equal(byB.json.owner, ids[0]!.address, 'b sees the owner too');
  assert.equal(byB.json.did, null, 'b holds no metadata block to read the did from');

  // The metadata block, from a's gateway: the bytes hash to the CID on chain.
  const cid = first.json.metadataCid as string;
  const raw = await fetch(`${a.url}/ipfs/${cid}`, { headers: { accept: 'application/vnd.ipld.raw' } });
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get('content-type'), 'application/vnd.ipld.raw');
  const meta = await readMetadataBlock(cid, new Uint8Array(await raw.arrayBuffer()));
  assert.equal(meta.infoHash, ih);
  assert.equal(meta.owner, ids[0]!.did);
  assert.deepEqual(meta.files, [{ path: 'song.flac', length: 80_000 }]);
  assert.equal((await fetch(`${a.url}/ipfs/${cid}?format=raw`)).status, 200);
  assert.equal((await fetch(`${a.url}/ipfs/${cid}`)).status, 406, 'raw blocks only');
  assert.equal((await fetch(`${b.url}/ipfs/${cid}?format=raw`)).status, 404, 'b holds no such block');
  assert.equal((await fetch(`${a.url}/ipfs/..%2f..%2fcontracts.json?format=raw`)).status, 400, 'not a CID');

  // The chain options on the verbs: the node's own chain is fine, another is refused, and with no
  // node running verify reads the registry itself.
  const same = await a.here(['verify', ih, '--json', ...args]);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.json.owner, ids[0]!.address);
  assert.equal((await a.here(['rewards', '--json', ...args])).code, 0);
  const elsewhere = join(dir, 'elsewhere.json');
  writeFileSync(elsewhere, JSON.stringify({ ...deployed.json, registry: `0x${'12'.repeat(20)}` }));
  const wrong = await a.here(['verify', ih, '--chain-rpc', anvil.rpcUrl, '--chain-contracts', elsewhere]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /not the one given/);
  const offline = await cascade(['verify', ih, '--json', '--state-dir', join(dir, 'no-node'), ...args]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual([offline.json.owner, offline.json.metadataCid, offline.json.did], [ids[0]!.address, first.json.metadataCid, null]);
  const offlineNone = await cascade(['verify', 'cd'.repeat(20), '--json', '--state-dir', join(dir, 'no-node'), ...args]);
  assert.equal(offlineNone.code, 1);
  assert.equal(offlineNone.json.registered, false);

  const nobody = await a.here(['verify', 'ab'.repeat(20), '--json']);
  assert.equal(nobody.code, 1);
  assert.equal(nobody.json.registered, false);
  const text = await a.here(['verify', 'ab'.repeat(20)]);
  assert.match(text.stdout, /not registered/);
});
