// A seeder judging the receipts a hostile Cascade downloader sends it over the wire (issue 13): a
// real engine session proves an identity through the extension, downloads from the node, then
// sends receipts as a cheater would. Forged, re-signed by someone else, inflated after signing,
// for another torrent, naming another downloader or seeder, self-dealt and malformed ones are
// refused, each with its reason, and each counts against the sender's reputation; one for another
// chain is dropped without a strike (an honest difference of configuration); a valid one is kept
// and acknowledged; an older one after it changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signReceipt, type Receipt } from '@cascade/chain';
import { Session, type TorrentHandle } from '@cascade/engine';
import { cascadeExtension, generateIdentity, sendExtensionMessage, type WirePeer } from '@cascade/identity';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { toHex } from 'viem';
import type { NodeLog } from '@cascade/node';
import { formWith, patternBytes, startTestServer } from './server-helpers.ts';

const MiB = 1024 * 1024;
const CLI = join(import.meta.dirname, '../../cli/bin/cascade.js');
// Not spawnSync: the node answering it runs in this very process.
const run = (args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args], { encoding: 'utf8' });

function capture(): NodeLog & { events: Record<string, any>[] } {
  const events: Record<string, any>[] = [];
  return { events, event: (name, fields = {}) => void events.push({ event: name, ...fields }), say: () => {}, note: () => {} };
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a seeder refuses forged, inflated, misdirected and malformed receipts, with a strike each; keeps the valid one', { timeout: 120_000 }, async (t) => {
  const log = capture();
  const s = await startTestServer(t, { chain: {}, log });
  const chain = await until('the chain running', async () => {
    const c = (await s.json('/api/health')).body.chain;
    return c.state === 'running' ? c : undefined;
  }, 60_000);
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['clip.bin', patternBytes(2 * MiB, 5)]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const ih = up.body.infoHash as string;

  // The cheater: a real engine session with its own identity, downloading from the node.
  const cheater = generateIdentity();
  const cheaterAccount = privateKeyToAccount(toHex(cheater.ethSecret));
  let wire: WirePeer | undefined;
  const acks: Record<string, unknown>[] = [];
  const ext = cascadeExtension(cheater, {
    client: 'Cheater 1.0',
    onIdentified: (peer) => (wire = peer),
    onMessage: (_peer, m) => void acks.push(m),
  });
  const session = await Session.create({ host: '127.0.0.1', port: 0, dht: false, webrtc: false, extensions: [ext] });
  t.after(() => session.close());
  const handle: TorrentHandle = await session.add(up.body.magnet as string, { savePath: join(s.root, 'cheater'), peers: [`127.0.0.1:${s.node.session.port}`] });
  await until('the node identified', () => wire);
  assert.ok(handle);
  await until('the cheater identified by the node', () => (log.events.some((e) => e.event === 'peer-identified' && e.did === cheater.did) ? true : undefined));

  const now = BigInt(Math.floor(Date.now() / 1000));
  const good: Receipt = {
    chainId: BigInt(chain.chainId), pool: chain.contracts.pool, infoHash: `0x${ih}`, seeder: chain.account,
    downloader: cheaterAccount.address, cumulativeBytes: BigInt(MiB), expiry: now + 3600n,
  };
  const wireOf = (r: Receipt, signature: string) => ({
    t: 'receipt', v: 1, chainId: r.chainId.toString(), pool: r.pool, infoHash: r.infoHash, seeder: r.seeder, downloader: r.downloader,
    cumulativeBytes: r.cumulativeBytes.toString(), expiry: r.expiry.toString(), signature,
  });
  const refusals = () => log.events.filter((e) => e.event === 'receipt-refused');
  const send = async (m: Record<string, unknown>) => {
    const before = log.events.length;
    sendExtensionMessage(wire!, m);
    return until('the node’s verdict', () => log.events.slice(before).find((e) => e.event === 'receipt-refused' || e.event === 'receipt'), 10_000);
  };
  const strikes = () => s.node.identified.ledger.record(cheater.did)?.hashFailures ?? 0;

  const mallory = privateKeyToAccount(generatePrivateKey());
  const other = privateKeyToAccount(generatePrivateKey());
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['signed by someone else', wireOf(good, await signReceipt(mallory, { ...good, downloader: mallory.address })), /not by the downloader/],
    ['inflated after signing', wireOf({ ...good, cumulativeBytes: 100n * BigInt(MiB) }, await signReceipt(cheaterAccount, good)), /not by the downloader/],
    ['for another torrent', wireOf({ ...good, infoHash: `0x${'ab'.repeat(20)}` }, await signReceipt(cheaterAccount, { ...good, infoHash: `0x${'ab'.repeat(20)}` })), /another torrent/],
    ['naming another downloader', wireOf({ ...good, downloader: other.address }, await signReceipt(other, { ...good, downloader: other.address })), /not the account the peer proved/],
    ['naming another seeder', wireOf({ ...good, seeder: mallory.address }, await signReceipt(cheaterAccount, { ...good, seeder: mallory.address })), /not this node's account/],
    ['malformed', { ...wireOf(good, '0x12'), cumulativeBytes: 1e300 }, /not a decimal string/],
    ['garbage signature', wireOf(good, `0x${'11'.repeat(65)}`), /malformed signature|not by the downloader/],
  ];
  for (const [what, message, reason] of cases) {
    const before = strikes();
    const verdict = await send(message);
    assert.equal(verdict.event, 'receipt-refused', what);
    assert.match(verdict.reason, reason, what);
    assert.equal(strikes(), before + 1, `${what}: a strike`);
  }
  // Another chain: dropped, no strike.
  const elsewhere = { ...good, chainId: 1n };
  const before = strikes();
  const v = await send(wireOf(elsewhere, await signReceipt(cheaterAccount, elsewhere)));
  assert.match(v.reason, /not this node's chain/);
  assert.equal(strikes(), before);

  // The valid one: kept (rewards count it) and acknowledged.
  const ok = await send(wireOf(good, await signReceipt(cheaterAccount, good)));
  assert.equal(ok.event, 'receipt');
  assert.equal(ok.cumulativeBytes, MiB);
  await until('the acknowledgement', () => acks.find((m) => m.t === 'receipt-ack'));
  const older = { ...good, cumulativeBytes: 1000n };
  sendExtensionMessage(wire!, wireOf(older, await signReceipt(cheaterAccount, older)));
  await new Promise((r) => setTimeout(r, 500));
  // What the node holds: the valid receipt, not the older one after it.
  const rewards = JSON.parse((await run(['rewards', '--json', '--state-dir', join(s.root, 'state')])).stdout);
  assert.deepEqual([rewards.earnedBytes, rewards.claimedBytes, rewards.pendingBytes, rewards.receipts], [MiB, 0, MiB, 1]);
  assert.equal(refusals().length, cases.length + 1);
  // Each refusal counts as a failed piece against its did (reputation, and no fast lane next time).
  assert.equal(strikes(), cases.length);
});
