// Seeding rewards end to end through real `cascade serve` nodes (issue 13): the seeder runs its
// embedded chain, the downloader points at it with --chain-rpc/--chain-contracts; the downloader's
// receipts arrive over the Cascade extension, one per MiB and a last one at the end; the seeder,
// killed with SIGKILL after acknowledging them and started again, still holds them and its chain
// still has the registration; it claims, the balance rises by exactly the bytes × the rate, and a
// second claim pays nothing. A libtorrent seeder in a swarm of the downloader is never sent one.
// The verbs through the running nodes run inside the test's process (okHere / node.here: the CLI's
// own main(), without a process's module loading each); the one-shot `cascade download` is a process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAnvil } from '@cascade/chain';
import { requireClient, startLibtorrent } from '../../../test/interop/helpers.ts';
import { tempDir } from './helpers.ts';
import { cascade, cascadeHere, entryHere, okHere, startServe, until, type ServeNode } from './node-process.ts';

const MiB = 1024 * 1024;
// anvil's second dev account (its well-known test mnemonic): funded on any fresh anvil.
const FUNDED_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

async function runningChain(node: ServeNode): Promise<Record<string, any>> {
  return until('the chain running', async () => {
    const c = (await node.here(['health', '--json'])).json.chain;
    return c?.state === 'running' ? c : undefined;
  }, 60_000);
}

test('earn → claim → balance: receipts per MiB over the wire, kept across kill -9, claimed once at the rate', { timeout: 240_000 }, async (t) => {
  requireClient('libtorrent');
  const root = tempDir(t);
  const data = join(root, 'data');
  mkdirSync(data);
  const content = randomBytes(6 * MiB);
  writeFileSync(join(data, 'film.mkv'), content);

  const seederState = join(root, 'seeder');
  let seeder = await startServe(t, { stateDir: seederState, args: ['--payment-threshold', '4m'] });
  const chain = await runningChain(seeder);
  const contracts = join(root, 'contracts.json');
  writeFileSync(contracts, JSON.stringify({ chainId: chain.chainId, registry: chain.contracts.registry, rewards: chain.contracts.pool, token: chain.contracts.token }));
  const made = await okHere(seeder, ['create', join(data, 'film.mkv'), '-o', join(root, 'film.torrent'), '--json']);
  const ih = made.json.infoHash as string;
  await okHere(seeder, ['add', join(root, 'film.torrent'), '--save-path', data]);
  // The pool pays for registered torrents only.
  const reg = await okHere(seeder, ['register', join(root, 'film.torrent'), '--json']);
  assert.equal(reg.json.owner, chain.account);
  await until('the seeder seeding', async () => ((await entryHere(seeder, ih)).state === 'seeding' ? true : undefined));
  const before = await okHere(seeder, ['rewards', '--json']);
  assert.deepEqual(before.json, { ...before.json, earnedBytes: 0, claimedBytes: 0, pendingBytes: 0, balance: '0' });

  const downloader = await startServe(t, { args: ['--chain-rpc', chain.rpcUrl, '--chain-contracts', contracts] });
  const dAccount = (await runningChain(downloader)).account as string;
  const dl = join(root, 'dl');
  await okHere(downloader, ['add', join(root, 'film.torrent'), '--save-path', dl, '--peer', `127.0.0.1:${seeder.btPort}`]);
  await until('the download complete', async () => ((await entryHere(downloader, ih)).state === 'seeding' ? true : undefined), 120_000);
  assert.ok(readFileSync(join(dl, 'film.mkv')).equals(content));

  // Every receipt names the seeder's account; the last one states every byte, acknowledged.
  const acked = await until('the last receipt acknowledged', async () =>
    downloader.events.some((e) => e.event === 'receipt-acknowledged' && e.cumulativeBytes === 6 * MiB) ? true : undefined);
  assert.ok(acked);
  const sent = downloader.events.filter((e) => e.event === 'receipt-sent');
  // Every MiB at most once a second (issue 40): the first MiB at once, the rest in the last one.
  assert.ok(sent.length >= 2, `the first MiB and the end: ${sent.length}`);
  for (const e of sent) assert.equal(e.seeder.toLowerCase(), chain.account.toLowerCase());
  assert.equal(Math.max(...sent.map((e) => e.cumulativeBytes)), 6 * MiB);
  const got = seeder.events.filter((e) => e.event === 'receipt');
  assert.ok(got.length >= 1 && got.every((e) => e.downloader === dAccount.toLowerCase()));
  // --payment-threshold 4m: one payment-required, when the unclaimed bytes passed 4 MiB.
  const due = seeder.events.filter((e) => e.event === 'payment-required');
  assert.equal(due.length, 1, JSON.stringify(due));
  assert.ok(due[0]!.unclaimedBytes >= 4 * MiB && due[0]!.unclaimedBytes <= 6 * MiB, JSON.stringify(due));

  // SIGKILL: what it acknowledged is on disk; its chain (registration, contracts) comes back too.
  seeder.child.kill('SIGKILL');
  await new Promise((r) => seeder.child.once('exit', r));
  seeder = await startServe(t, { stateDir: seederState });
  const again = await runningChain(seeder);
  assert.deepEqual(again.contracts, chain.contracts);
  assert.equal((await okHere(seeder, ['verify', ih, '--json'])).json.owner, chain.account);
  const held = await okHere(seeder, ['rewards', '--json']);
  assert.equal(held.json.earnedBytes, 6 * MiB);
  assert.equal(held.json.pendingBytes, 6 * MiB);
  assert.equal(held.json.claimedBytes, 0);
  assert.equal(held.json.balance, '0');

  const claim = await okHere(seeder, ['rewards', 'claim', '--json']);
  assert.match(claim.json.tx, /^0x[0-9a-f]{64}$/);
  assert.equal(claim.json.claimedBytes, 6 * MiB);
  const after = await okHere(seeder, ['rewards', '--json']);
  const rate = BigInt(after.json.rewardPerByte);
  assert.equal(BigInt(after.json.balance), BigInt(6 * MiB) * rate, 'exactly the bytes × the rate');
  assert.deepEqual([after.json.earnedBytes, after.json.claimedBytes, after.json.pendingBytes], [6 * MiB, 6 * MiB, 0]);
  const second = await okHere(seeder, ['rewards', 'claim', '--json']);
  assert.deepEqual({ tx: second.json.tx, claimedBytes: second.json.claimedBytes }, { tx: null, claimedBytes: 0 });
  assert.equal((await okHere(seeder, ['rewards', '--json'])).json.balance, after.json.balance, 'the second claim paid nothing');
  const text = await okHere(seeder, ['rewards']);
  assert.match(text.stdout, /earned {3}6291456 bytes in 1 receipt/);

  // A libtorrent seeder: the downloader fetches a torrent from it alone, whole, and sends it no receipt.
  const other = randomBytes(2 * MiB);
  const ltData = join(root, 'lt');
  mkdirSync(ltData);
  writeFileSync(join(ltData, 'other.bin'), other);
  const made2 = await cascadeHere(['create', join(ltData, 'other.bin'), '-o', join(root, 'other.torrent'), '--json']);
  const ih2 = made2.json.infoHash as string;
  const lt = await startLibtorrent(t, join(root, 'other.torrent'), ltData);
  const sentBefore = downloader.events.filter((e) => e.event === 'receipt-sent').length;
  await okHere(downloader, ['add', join(root, 'other.torrent'), '--save-path', dl, '--peer', `127.0.0.1:${lt.port}`]);
  await until('the libtorrent download complete', async () => ((await entryHere(downloader, ih2)).state === 'seeding' ? true : undefined), 60_000);
  assert.ok(readFileSync(join(dl, 'other.bin')).equals(other));
  const toLt = downloader.events.filter((e) => e.event === 'receipt-sent').slice(sentBefore);
  assert.deepEqual(toLt, [], 'libtorrent proved no identity: nothing counted, nothing sent');
});

test('a one-shot cascade download on --chain-rpc sends its last receipt before it exits; the seeder holds every byte and claims by itself past --auto-claim', { timeout: 180_000 }, async (t) => {
  const anvil = await startAnvil();
  t.after(() => anvil.stop());
  const deployed = await cascadeHere(['chain', 'deploy', '--chain-rpc', anvil.rpcUrl, '--key', FUNDED_KEY, '--json']);
  assert.equal(deployed.code, 0, deployed.stderr);
  const root = tempDir(t);
  const contracts = join(root, 'contracts.json');
  writeFileSync(contracts, JSON.stringify(deployed.json));
  const chainArgs = ['--chain-rpc', anvil.rpcUrl, '--chain-contracts', contracts];
  const data = join(root, 'data');
  mkdirSync(data);
  const content = randomBytes(3 * MiB + 1234);
  writeFileSync(join(data, 'set.iso'), content);
  // --auto-claim 2m: the seeder claims by itself once 2 MiB of receipts are unclaimed.
  const seeder = await startServe(t, { args: [...chainArgs, '--auto-claim', '2m'] });
  const account = (await runningChain(seeder)).account as string;
  // Gas for the seeder's claims (an external chain funds nobody).
  await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setBalance', params: [account, '0x56bc75e2d63100000'] }) });
  const made = await okHere(seeder, ['create', join(data, 'set.iso'), '-o', join(root, 'set.torrent'), '--json']);
  const ih = made.json.infoHash as string;
  await okHere(seeder, ['add', join(root, 'set.torrent'), '--save-path', data]);
  await okHere(seeder, ['register', ih]);
  await until('the seeder seeding', async () => ((await entryHere(seeder, ih)).state === 'seeding' ? true : undefined));

  const dl = await cascade(['download', join(root, 'set.torrent'), '-o', join(root, 'dl'), '--peer', `127.0.0.1:${seeder.btPort}`, '--no-dht', '--port', '0', '--state-dir', join(root, 'dl-state'), '--json', ...chainArgs]);
  assert.equal(dl.code, 0, dl.stderr);
  assert.ok(readFileSync(join(root, 'dl', 'set.iso')).equals(content));
  const sent = dl.lines.filter((e) => e.event === 'receipt-sent').map((e) => e.cumulativeBytes);
  assert.equal(Math.max(...sent), content.length, 'the last receipt states every byte');
  const acked = dl.lines.filter((e) => e.event === 'receipt-acknowledged').map((e) => e.cumulativeBytes);
  assert.equal(Math.max(...acked), content.length, 'and the seeder acknowledged it before the download exited');
  // The seeder holds it: the download waited for its receipts to go out before it closed.
  const r = await until('the seeder holding every byte', async () => {
    const j = (await okHere(seeder, ['rewards', '--json'])).json;
    return j.earnedBytes === content.length ? j : undefined;
  }, 10_000);
  // The automatic claim, once 2 MiB were unclaimed, without `rewards claim`; what came after waits
  // until another 2 MiB are unclaimed.
  const paid = await until('the automatic claim', async () => {
    const j = (await okHere(seeder, ['rewards', '--json'])).json;
    return j.claimedBytes >= 2 * MiB ? j : undefined;
  }, 30_000);
  assert.equal(paid.claimedBytes + paid.pendingBytes, content.length);
  assert.ok(paid.pendingBytes < 2 * MiB);
  assert.equal(BigInt(paid.balance), BigInt(paid.claimedBytes) * BigInt(paid.rewardPerByte));
  assert.ok(seeder.events.some((e) => e.event === 'rewards-claimed' && e.automatic === true && e.tx));
});
