// Issue 44, item 1: the chain verbs need no running node. A user who earned receipts with
// `cascade seed` sees them with `cascade rewards` and claims them with `cascade rewards claim`, no
// node running: the verbs open the state directory (identity, receipts, the embedded chain's state
// in <state dir>/chain) themselves; register and verify the same. With a node running they go
// through it. A transaction the chain takes longer than 30 s to mine is waited for, with progress
// events, through the node and without one.
// The one-shot verbs run inside the test's process (cascadeHere: the CLI's own main(), each opening
// its state dir and chain as a `cascade` process would, without its module loading); `cascade seed`,
// `cascade download` and the pending registers are real processes. The two registers left pending
// past 30 s (one through a node, one with none, each on its own state dir) wait side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAnvil } from '@cascade/chain';
import { tempDir } from './helpers.ts';
import { cascade, cascadeHere, startCascade, startServe, until, type RunningCascade } from './node-process.ts';

const MiB = 1024 * 1024;
// anvil's second dev account (its well-known test mnemonic): funded on any fresh anvil.
const FUNDED_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

async function run(args: string[]): Promise<Record<string, any>> {
  const r = await cascadeHere([...args, '--json']);
  if (r.code !== 0) throw new Error(`cascade ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r.json;
}

test('earned with cascade seed on the embedded chain, seen and claimed with no node running; register and verify too', { timeout: 240_000 }, async (t) => {
  const root = tempDir(t);
  const data = join(root, 'data');
  mkdirSync(data);
  const content = randomBytes(3 * MiB + 777);
  writeFileSync(join(data, 'lecture.mp4'), content);
  const torrent = join(root, 'lecture.torrent');
  const ih = (await run(['create', join(data, 'lecture.mp4'), '-o', torrent])).infoHash as string;
  const seedState = join(root, 'seeder');
  const me = await run(['identity', '--state-dir', seedState]);

  // No node: register starts the state directory's embedded chain (deploying on this first use), registers, stops it.
  const reg = await run(['register', torrent, '--state-dir', seedState]);
  assert.deepEqual([reg.infoHash, reg.owner], [ih, me.address]);
  assert.match(reg.tx, /^0x[0-9a-f]{64}$/);
  // …and the chain's state outlived it: verify (no node) finds the record, and the did in the block the state dir holds.
  const ver = await run(['verify', ih, '--state-dir', seedState]);
  assert.deepEqual([ver.owner, ver.did, ver.metadataCid, ver.block], [me.address, me.did, reg.metadataCid, reg.block]);
  const again = await run(['register', ih, '--state-dir', join(root, 'other')]).catch((err: Error) => err.message);
  assert.match(String(again), /no torrent with infohash/, 'an infohash alone needs the torrent in that library');

  // Earned: a one-shot download (its own embedded chain's terms) sends `cascade seed` its receipts.
  const seeder = startCascade(t, ['seed', torrent, '--dir', data, '--no-dht', '--host', '127.0.0.1', '--port', '0', '--state-dir', seedState]);
  const port = (await seeder.event('listening')).port as number;
  await seeder.event('seeding');
  const dl = await cascade(['download', torrent, '-o', join(root, 'dl'), '--peer', `127.0.0.1:${port}`, '--no-dht', '--host', '127.0.0.1', '--port', '0', '--state-dir', join(root, 'downloader'), '--json']);
  assert.equal(dl.code, 0, dl.stdout + dl.stderr);
  assert.ok(readFileSync(join(root, 'dl', 'lecture.mp4')).equals(content));
  assert.equal(Math.max(...dl.lines.filter((e) => e.event === 'receipt-acknowledged').map((e) => e.cumulativeBytes)), content.length);
  assert.ok(seeder.events.some((e) => e.event === 'receipt' && e.cumulativeBytes === content.length), JSON.stringify(seeder.events));
  assert.equal(await seeder.stop(), 0, seeder.stderr());

  // No node running: the receipts the seed kept, read against the chain it ran.
  const held = await run(['rewards', '--state-dir', seedState]);
  assert.deepEqual([held.earnedBytes, held.claimedBytes, held.pendingBytes, held.balance, held.receipts, held.account], [content.length, 0, content.length, '0', 1, me.address]);
  const claim = await run(['rewards', 'claim', '--state-dir', seedState]);
  assert.match(claim.tx, /^0x[0-9a-f]{64}$/);
  assert.deepEqual([claim.claimedBytes, claim.skipped], [content.length, []]);
  const after = await run(['rewards', '--state-dir', seedState]);
  assert.equal(BigInt(after.balance), BigInt(content.length) * BigInt(after.rewardPerByte), 'exactly the bytes × the rate, kept in <state dir>/chain');
  assert.deepEqual([after.claimedBytes, after.pendingBytes], [content.length, 0]);
  const second = await run(['rewards', 'claim', '--state-dir', seedState]);
  assert.deepEqual([second.tx, second.claimedBytes], [null, 0]);
  const text = await cascadeHere(['rewards', '--state-dir', seedState]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`earned {3}${content.length} bytes in 1 receipt\\n`));

  // Asked about another chain, the receipts are not counted there, and the verb says where they are.
  const anvil = await startAnvil();
  t.after(() => anvil.stop());
  const contracts = join(root, 'contracts.json');
  writeFileSync(contracts, JSON.stringify(await run(['chain', 'deploy', '--chain-rpc', anvil.rpcUrl, '--key', FUNDED_KEY])));
  const elsewhere = await cascadeHere(['rewards', '--state-dir', seedState, '--chain-rpc', anvil.rpcUrl, '--chain-contracts', contracts]);
  assert.equal(elsewhere.code, 0, elsewhere.stderr);
  assert.match(elsewhere.stdout, /earned {3}0 bytes in 0 receipts/);
  const pool = JSON.parse(readFileSync(join(seedState, 'chain', 'deployment.json'), 'utf8')).pool as string;
  assert.ok(elsewhere.stderr.toLowerCase().includes(`1 more receipt is held for chain 31337 (pool ${pool.toLowerCase()})`), elsewhere.stderr);
});

test('through a running node and without one, a transaction mined after more than 30 s is waited for with progress events', { timeout: 300_000 }, async (t) => {
  const anvil = await startAnvil();
  t.after(() => anvil.stop());
  const rpc = async (method: string, params: unknown[]) => {
    const res = await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    return ((await res.json()) as { result: unknown }).result;
  };
  const root = tempDir(t);
  const contracts = join(root, 'contracts.json');
  writeFileSync(contracts, JSON.stringify(await run(['chain', 'deploy', '--chain-rpc', anvil.rpcUrl, '--key', FUNDED_KEY])));
  const chainArgs = ['--chain-rpc', anvil.rpcUrl, '--chain-contracts', contracts];
  // Two state dirs, two identities: `state` has a node running, `alone` none (a node holds its state dir).
  const state = join(root, 'node');
  const aloneState = join(root, 'alone');
  const me = await run(['identity', '--state-dir', state]);
  const me2 = await run(['identity', '--state-dir', aloneState]);
  for (const who of [me, me2]) await rpc('anvil_setBalance', [who.address, '0x56bc75e2d63100000']);
  const torrents = await Promise.all(['one', 'two'].map(async (name) => {
    writeFileSync(join(root, `${name}.bin`), randomBytes(100_000));
    const made = await run(['create', join(root, `${name}.bin`), '-o', join(root, `${name}.torrent`)]);
    return { file: join(root, `${name}.torrent`), ih: made.infoHash as string };
  }));

  /** `register`s, left pending by a chain that mines nothing until the test says so, past 30 s. */
  const slowRegisters = async (argvs: string[][]): Promise<RunningCascade[]> => {
    await rpc('evm_setAutomine', [false]);
    const rs = argvs.map((argv) => startCascade(t, ['register', ...argv, ...chainArgs]));
    for (const r of rs) await until('a progress event past 30 s', async () => (r.events.some((e) => e.event === 'transaction-pending' && e.seconds > 30) ? true : undefined), 90_000);
    for (const r of rs) assert.equal(r.child.exitCode, null, 'still waiting, not abandoned');
    await rpc('evm_mine', []);
    await rpc('evm_setAutomine', [true]);
    return rs;
  };
  const resultOf = async (r: RunningCascade) => {
    assert.equal(await new Promise((resolve) => (r.child.exitCode !== null ? resolve(r.child.exitCode) : r.child.once('exit', resolve))), 0, r.stderr());
    const result = r.events.find((e) => e.event === undefined)!;
    const progress = r.events.filter((e) => e.event === 'transaction-pending');
    assert.ok(progress.every((e) => e.tx === result.tx && /^registration of [0-9a-f]{40}$/.test(e.what)), JSON.stringify(progress));
    return result;
  };

  // A node running on `state`: its verb goes through it (its pending transaction is what the progress
  // names). No node on `alone`: that verb's own chain client waits just the same.
  const node = await startServe(t, { stateDir: state, args: chainArgs });
  await until('the chain running', async () => ((await node.here(['health', '--json'])).json.chain?.state === 'running' ? true : undefined), 60_000);
  const [viaNode, alone] = await Promise.all((await slowRegisters([[torrents[0]!.file, '--state-dir', state], [torrents[1]!.file, '--state-dir', aloneState]])).map(resultOf));
  assert.deepEqual([viaNode!.infoHash, viaNode!.owner], [torrents[0]!.ih, me.address]);
  assert.match(viaNode!.tx, /^0x[0-9a-f]{64}$/);
  assert.equal((await node.here(['verify', torrents[0]!.ih, '--json'])).json.owner, me.address);
  await node.stop();

  assert.deepEqual([alone!.infoHash, alone!.owner], [torrents[1]!.ih, me2.address]);
  const ver = await run(['verify', torrents[1]!.ih, '--state-dir', aloneState, ...chainArgs]);
  assert.deepEqual([ver.owner, ver.did, ver.metadataCid], [me2.address, me2.did, alone!.metadataCid]);
  const r = await run(['rewards', '--state-dir', aloneState, ...chainArgs]);
  assert.deepEqual([r.earnedBytes, r.receipts, r.account], [0, 0, me2.address]);
});
