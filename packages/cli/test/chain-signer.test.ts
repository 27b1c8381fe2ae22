// An external signer (issue 13: "a key or an external signer"): a node on a separately started
// anvil whose identity account holds no ether has its transactions sent and paid for by an account
// of a signer it reaches over JSON-RPC. anvil's unlocked dev accounts make it a real signer; a
// logging proxy in front of it answers only eth_sendTransaction, eth_accounts and eth_chainId, and
// a second one in front of --chain-rpc shows no transaction went there. The identity still owns the
// registration (relayed: it signs, the signer submits) and receives the rewards (the pool pays the
// receipt's seeder, whoever submits the claim).
// The verbs through the running nodes, the deploys and the usage errors run inside the test's process
// (okHere / node.here / cascadeHere: the CLI's own main(), no process's module loading each); the
// one-shot `cascade download` is a process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAnvil } from '@cascade/chain';
import { tempDir } from './helpers.ts';
import { cascade, cascadeHere, entryHere, okHere, startServe, until, type ServeNode } from './node-process.ts';

const MiB = 1024 * 1024;
// anvil's dev accounts (its well-known test mnemonic): #1 deploys, #3 is the signer's account.
const FUNDED_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const ACCOUNT_3 = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const SIGNER_METHODS = new Set(['eth_sendTransaction', 'eth_accounts', 'eth_chainId']);

interface Proxy {
  url: string;
  methods: string[];
}

/** Forwards JSON-RPC to `target`, recording each method; with `only`, other methods get "method
 *  not found" as from a signer that does nothing else. */
async function rpcProxy(t: { after: (fn: () => unknown) => void }, target: string, only?: Set<string>): Promise<Proxy> {
  const methods: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: number; method: string } | { id: number; method: string }[];
    const calls = Array.isArray(body) ? body : [body];
    for (const c of calls) methods.push(c.method);
    const refused = only ? calls.filter((c) => !only.has(c.method)) : [];
    res.setHeader('content-type', 'application/json');
    if (refused.length > 0) {
      const errors = calls.map((c) => ({ jsonrpc: '2.0', id: c.id, error: { code: -32601, message: `the signer does not answer ${c.method}` } }));
      return void res.end(JSON.stringify(Array.isArray(body) ? errors : errors[0]));
    }
    const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    res.end(await upstream.text());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, methods };
}

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const j = (await res.json()) as { result: T; error?: { message: string } };
  if (j.error) throw new Error(j.error.message);
  return j.result;
}

const wei = async (anvilUrl: string, account: string) => BigInt(await rpc<string>(anvilUrl, 'eth_getBalance', [account, 'latest']));

async function runningChain(node: ServeNode): Promise<Record<string, any>> {
  return until('the chain running', async () => {
    const c = (await node.here(['health', '--json'])).json.chain;
    return c?.state === 'running' ? c : undefined;
  }, 60_000);
}

test('--chain-signer: the signer account sends and pays for registration and claims; the identity owns the record and gets the rewards', { timeout: 240_000 }, async (t) => {
  const anvil = await startAnvil({ accounts: 4 });
  t.after(() => anvil.stop());
  const deployed = await cascadeHere(['chain', 'deploy', '--chain-rpc', anvil.rpcUrl, '--key', FUNDED_KEY, '--json']);
  assert.equal(deployed.code, 0, deployed.stderr);
  const root = tempDir(t);
  const contracts = join(root, 'contracts.json');
  writeFileSync(contracts, JSON.stringify(deployed.json));
  const chainRpc = await rpcProxy(t, anvil.rpcUrl);
  const signer = await rpcProxy(t, anvil.rpcUrl, SIGNER_METHODS);

  const seeder = await startServe(t, { args: ['--chain-rpc', chainRpc.url, '--chain-contracts', contracts, '--chain-signer', signer.url, '--chain-from', ACCOUNT_3] });
  const chain = await runningChain(seeder);
  const identity = (await okHere(seeder, ['identity', '--json'])).json as { address: string; did: string };
  assert.equal(chain.account, identity.address, 'the identity stays the node account');
  assert.equal(chain.balances.ether, '0', 'the identity holds no ether');
  assert.deepEqual({ url: chain.signer.url, account: chain.signer.account }, { url: signer.url, account: ACCOUNT_3 });
  assert.ok(BigInt(chain.signer.ether) > 0n);
  const api = (await (await seeder.api('/api/health')).json()) as { chain: Record<string, any> };
  assert.deepEqual({ account: api.chain.account, signer: api.chain.signer.account }, { account: identity.address, signer: ACCOUNT_3 }, '/api/health says both');
  assert.match((await okHere(seeder, ['health'])).stdout, new RegExp(`gas paid by ${ACCOUNT_3}: [\\d.]+ ETH \\(external signer ${signer.url}\\)`));
  const gasBefore = await wei(anvil.rpcUrl, ACCOUNT_3);

  // Registration: relayed, owned by the identity, sent by account #3, which paid for it.
  const data = join(root, 'data');
  mkdirSync(data);
  const content = randomBytes(2 * MiB + 777);
  writeFileSync(join(data, 'tape.wav'), content);
  const ih = (await okHere(seeder, ['create', join(data, 'tape.wav'), '-o', join(root, 'tape.torrent'), '--json'])).json.infoHash as string;
  await okHere(seeder, ['add', join(root, 'tape.torrent'), '--save-path', data]);
  const reg = await okHere(seeder, ['register', ih, '--json']);
  assert.equal(reg.json.owner, identity.address);
  const regTx = await rpc<{ from: string }>(anvil.rpcUrl, 'eth_getTransactionByHash', [reg.json.tx]);
  assert.equal(regTx.from.toLowerCase(), ACCOUNT_3.toLowerCase(), 'sent from the signer account');
  assert.ok((await wei(anvil.rpcUrl, ACCOUNT_3)) < gasBefore, 'the signer account paid the gas');
  assert.equal(await wei(anvil.rpcUrl, identity.address), 0n, 'the identity paid nothing');
  const verified = await okHere(seeder, ['verify', ih, '--json']);
  assert.deepEqual([verified.json.owner, verified.json.did], [identity.address, identity.did]);
  // The verbs accept the same signer options, and refuse another one.
  assert.equal((await seeder.here(['rewards', '--json', '--chain-rpc', chainRpc.url, '--chain-contracts', contracts, '--chain-signer', signer.url])).code, 0);
  const other = await seeder.here(['rewards', '--chain-rpc', chainRpc.url, '--chain-contracts', contracts, '--chain-signer', 'http://127.0.0.1:9']);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /pays gas with the external signer at .* not with the signer given/);

  // Claims: a downloader (its own identity, no ether either: it only signs receipts) fetches the
  // torrent; the seeder claims through the signer; the tokens go to the identity.
  await until('the seeder seeding', async () => ((await entryHere(seeder, ih)).state === 'seeding' ? true : undefined));
  const dl = await cascade(['download', join(root, 'tape.torrent'), '-o', join(root, 'dl'), '--peer', `127.0.0.1:${seeder.btPort}`, '--no-dht', '--port', '0',
    '--state-dir', join(root, 'dl-state'), '--json', '--chain-rpc', anvil.rpcUrl, '--chain-contracts', contracts]);
  assert.equal(dl.code, 0, dl.stderr);
  assert.ok(readFileSync(join(root, 'dl', 'tape.wav')).equals(content));
  await until('the seeder holding every byte', async () => ((await okHere(seeder, ['rewards', '--json'])).json.earnedBytes === content.length ? true : undefined), 10_000);
  const beforeClaim = await wei(anvil.rpcUrl, ACCOUNT_3);
  const claim = await okHere(seeder, ['rewards', 'claim', '--json']);
  assert.equal(claim.json.claimedBytes, content.length);
  const claimTx = await rpc<{ from: string }>(anvil.rpcUrl, 'eth_getTransactionByHash', [claim.json.tx]);
  assert.equal(claimTx.from.toLowerCase(), ACCOUNT_3.toLowerCase());
  assert.ok((await wei(anvil.rpcUrl, ACCOUNT_3)) < beforeClaim, 'the signer account paid for the claim');
  const after = (await okHere(seeder, ['rewards', '--json'])).json;
  assert.equal(after.account, identity.address);
  assert.equal(BigInt(after.balance), BigInt(content.length) * BigInt(after.rewardPerByte), 'the identity got bytes × rate');
  assert.equal(await wei(anvil.rpcUrl, identity.address), 0n);

  // Both transactions went to the signer, none to --chain-rpc; the signer was asked nothing else.
  assert.equal(signer.methods.filter((m) => m === 'eth_sendTransaction').length, 2, signer.methods.join());
  assert.deepEqual(signer.methods.filter((m) => !SIGNER_METHODS.has(m)), []);
  assert.deepEqual(chainRpc.methods.filter((m) => /^eth_send/.test(m)), []);
});

test('--chain-signer: an account the signer does not hold, an unreachable signer, and no eth_accounts choice: clear errors, the node keeps running', { timeout: 180_000 }, async (t) => {
  const anvil = await startAnvil();
  t.after(() => anvil.stop());
  const deployed = await cascadeHere(['chain', 'deploy', '--chain-rpc', anvil.rpcUrl, '--key', FUNDED_KEY, '--json']);
  assert.equal(deployed.code, 0, deployed.stderr);
  const root = tempDir(t);
  const contracts = join(root, 'contracts.json');
  writeFileSync(contracts, JSON.stringify(deployed.json));
  const base = ['--chain-rpc', anvil.rpcUrl, '--chain-contracts', contracts];
  const stranger = `0x${'5e'.repeat(20)}`;
  // Funded, so it is the signer's refusal that stops it, not the chain's.
  await rpc(anvil.rpcUrl, 'anvil_setBalance', [stranger, '0x56bc75e2d63100000']);
  writeFileSync(join(root, 'a.bin'), randomBytes(50_000));
  const made = await cascadeHere(['create', join(root, 'a.bin'), '-o', join(root, 'a.torrent'), '--json']);
  assert.equal(made.code, 0, made.stderr);

  // A port nothing listens on: bound by the OS, then closed.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const nowhere = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
  await new Promise((r) => closed.close(r));
  const [refusing, unreachable, defaulted] = await Promise.all([
    startServe(t, { args: [...base, '--chain-signer', anvil.rpcUrl, '--chain-from', stranger] }),
    startServe(t, { args: [...base, '--chain-signer', nowhere] }),
    startServe(t, { args: [...base, '--chain-signer', anvil.rpcUrl] }),
  ]);

  await runningChain(refusing);
  const refused = await refusing.here(['register', join(root, 'a.torrent')]);
  assert.equal(refused.code, 1);
  assert.ok(refused.stderr.includes(`the signer at ${anvil.rpcUrl} refused: No Signer available`), refused.stderr);

  // No --chain-from and no answer: the chain still runs (reads work), health says why gas cannot be paid.
  const c = await runningChain(unreachable);
  assert.deepEqual({ account: c.signer.account, ether: c.signer.ether }, { account: null, ether: null });
  assert.equal(c.signer.error, `the signer at ${nowhere} did not answer (ECONNREFUSED)`);
  const down = await unreachable.here(['register', join(root, 'a.torrent')]);
  assert.equal(down.code, 1);
  assert.ok(down.stderr.includes(`the signer at ${nowhere} did not answer (ECONNREFUSED)`), down.stderr);
  assert.equal((await unreachable.here(['health'])).code, 0, 'the node keeps running');
  assert.equal((await unreachable.here(['verify', 'ab'.repeat(20), '--json'])).json.registered, false, 'reads still work');

  // No --chain-from: the first of the signer's eth_accounts (anvil's account #0), and the log says so.
  const d = await runningChain(defaulted);
  assert.equal(d.signer.account, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  const r = await defaulted.here(['register', join(root, 'a.torrent'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.owner, d.account);
});

test('--chain-signer and --chain-from: usage errors that say what is wrong', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'contracts.json');
  const addr = `0x${'12'.repeat(20)}`;
  writeFileSync(file, JSON.stringify({ chainId: 31337, registry: addr, rewards: addr, token: addr }));
  const ext = ['--chain-rpc', 'http://127.0.0.1:8545', '--chain-contracts', file];
  const cases: [string[], RegExp][] = [
    [['serve', '--chain-signer', 'http://127.0.0.1:8550'], /--chain-signer needs --chain-rpc URL/],
    [['seed', 'x.torrent', '--chain-signer', 'http://127.0.0.1:8550'], /--chain-signer needs --chain-rpc URL/],
    [['serve', ...ext, '--chain-signer', 'ftp://signer'], /--chain-signer wants an http\(s\) URL, got "ftp:\/\/signer"/],
    [['serve', ...ext, '--chain-signer', 'http://127.0.0.1:8550', '--chain-from', '0x1234'], /--chain-from wants an account address .* got "0x1234"/],
    [['serve', ...ext, '--chain-from', addr], /--chain-from names an account of the external signer: give --chain-signer URL too/],
    [['serve', '--no-chain', '--chain-signer', 'http://127.0.0.1:8550'], /contradict/],
    [['register', 'ab'.repeat(20), '--chain-signer', 'http://127.0.0.1:8550'], /--chain-signer needs --chain-rpc URL/],
  ];
  for (const [args, message] of cases) {
    const r = await cascadeHere([...args, '--state-dir', join(dir, 'state')]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});
