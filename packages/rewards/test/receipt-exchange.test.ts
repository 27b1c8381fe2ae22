// receipt-exchange.ts on what a node hands it (ReceiptPeers, a ChainSource, the Store), with no node:
// as a seeder, a valid receipt from a verified peer is kept and acknowledged, a malformed one is
// refused with a strike against its sender, one for another chain is only dropped, and with no chain
// nothing is judged. The same over the wire, with a real node and a cheating downloader:
// packages/http/test/receipts-hostile.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signReceiptWithSecret, type Receipt } from '@cascade/chain/receipts';
import { generateIdentity, type WirePeer } from '@cascade/identity';
import type { IdentifiedPeer, NodeLog } from '@cascade/node/rewards-host';
import { ReceiptExchange, type ReceiptPeers, type ReceiptSigner } from '../src/receipt-exchange.ts';
import { ReceiptStore } from '../src/receipt-store.ts';
import { sqlite } from '../../node/test/store-engines.ts';

const IH = 'c'.repeat(40);
const POOL = `0x${'5'.repeat(40)}` as const;
const MiB = 1024 * 1024;

interface Seeder {
  receipts: ReceiptStore;
  strikes: string[];
  events: Record<string, unknown>[];
  notes: string[];
  /** Sends `message` as the verified peer `who` (or `as`); resolves at the seeder's next event or note. */
  deliver(message: Record<string, unknown>, as?: IdentifiedPeer): Promise<void>;
  /** The node's 'transfer' events, as the exchange follows them. */
  transfer(ev: { infoHashHex: string; peer: string; direction: 'up' | 'down'; bytes: number }): void;
  /** Messages the seeder sent back on the peer's connection. */
  sent: Uint8Array[];
}

async function seeder(t: TestContext, terms: ReceiptSigner | undefined, who: IdentifiedPeer, bounds: ConstructorParameters<typeof ReceiptStore>[2] = {}): Promise<Seeder> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-exchange-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const receipts = new ReceiptStore({ store: await sqlite()(t), stateDir: dir }, undefined, bounds);
  await receipts.ready;
  const strikes: string[] = [];
  const events: Record<string, unknown>[] = [];
  const notes: string[] = [];
  const sent: Uint8Array[] = [];
  let heard = () => {};
  const log: NodeLog = {
    event: (name, fields = {}) => (events.push({ event: name, ...fields }), heard()),
    say: () => {},
    note: (line) => (notes.push(line), heard()),
  };
  let handler: Parameters<ReceiptPeers['onMessage']>[0] | undefined;
  const peers: ReceiptPeers = {
    onMessage: (h) => void (handler = h),
    // Each test peer at its own address: the account of a DID named in it.
    of: (_ih, address) => known.get(address),
    wirePeer: () => undefined,
    ledger: { hashFailed: (did) => void strikes.push(did) },
  };
  const known = new Map<string, IdentifiedPeer>();
  const exchange = new ReceiptExchange(receipts, peers, { chain: undefined, terms: async () => terms, whenRunning: async () => {} }, log);
  t.after(() => exchange.close());
  const taps = new Map<string, (...args: any[]) => void>();
  exchange.follow({ onTorrentEvent: (event, fn) => (taps.set(event, fn), () => {}) });
  const addresses = new Map<string, string>();
  const addressOf = (w: IdentifiedPeer) => addresses.get(w.did) ?? (addresses.set(w.did, `127.0.0.${addresses.size + 2}:6881`), addresses.get(w.did)!);
  const wire: WirePeer = {
    infoHash: Uint8Array.from(Buffer.from(IH, 'hex')),
    localPeerId: new Uint8Array(20),
    remotePeerId: new Uint8Array(20),
    address: '127.0.0.1:6881',
    send: (payload) => void sent.push(payload),
  };
  return {
    receipts, strikes, events, notes, sent,
    deliver: (message, as = who) => new Promise<void>((resolve) => {
      heard = resolve;
      const address = as === who ? wire.address : addressOf(as);
      known.set(address, as);
      handler!({ ...wire, address }, as, message);
    }),
    transfer: (ev) => taps.get('transfer')!(undefined, ev),
  };
}

const onWire = (r: Receipt, signature: string) => ({
  t: 'receipt', v: 1, signature,
  chainId: r.chainId.toString(), pool: r.pool, infoHash: r.infoHash, seeder: r.seeder, downloader: r.downloader,
  cumulativeBytes: r.cumulativeBytes.toString(), expiry: r.expiry.toString(),
});

test('a seeder keeps a valid receipt and acknowledges it; a malformed one strikes its sender; one for another chain is only dropped', async (t) => {
  const me = generateIdentity();
  const them = generateIdentity();
  const who: IdentifiedPeer = { did: them.did, account: them.address, claimedReputation: 0 };
  const s = await seeder(t, { chainId: 31337n, pool: POOL, address: me.address, ethSecret: me.ethSecret }, who);

  await s.deliver({ t: 'receipt', v: 1, chainId: 'x' });
  assert.deepEqual(s.events.at(-1), { event: 'receipt-refused', infoHash: IH, peer: '127.0.0.1:6881', did: them.did, reason: 'chainId is not a decimal string' });
  assert.deepEqual(s.strikes, [them.did]);

  const receipt: Receipt = {
    chainId: 31337n, pool: POOL, infoHash: `0x${IH}`, seeder: me.address, downloader: them.address,
    cumulativeBytes: BigInt(5 * MiB), expiry: BigInt(Math.floor(Date.now() / 1000) + 3600),
  };
  const elsewhere = { ...receipt, chainId: 1n };
  await s.deliver(onWire(elsewhere, signReceiptWithSecret(them.ethSecret, elsewhere)));
  assert.equal(s.events.at(-1)!.event, 'receipt-refused');
  assert.match(String(s.events.at(-1)!.reason), /not this node's chain 31337/);
  assert.equal(s.strikes.length, 1, 'another chain is an honest difference: no strike');

  await s.deliver(onWire(receipt, signReceiptWithSecret(them.ethSecret, receipt)));
  assert.deepEqual(s.events.at(-1), { event: 'receipt', infoHash: IH, downloader: them.address.toLowerCase(), did: them.did, cumulativeBytes: 5 * MiB });
  assert.equal(s.receipts.held(IH, them.address.toLowerCase())!.cumulativeBytes, BigInt(5 * MiB), 'kept before it is acknowledged');
  assert.equal(s.sent.length, 1, 'one acknowledgement, on the connection it came from');
  assert.equal(s.strikes.length, 1);
});

test('with no chain a receipt is dropped unjudged, and nothing counts against its sender', async (t) => {
  const them = generateIdentity();
  const s = await seeder(t, undefined, { did: them.did, account: them.address, claimedReputation: 0 });
  await s.deliver({ t: 'receipt', v: 1, chainId: 'x' });
  assert.match(s.notes.at(-1)!, /dropped: this node runs no chain/);
  assert.deepEqual([s.events, s.strikes, s.sent], [[], [], []]);
});

test("past half the receipts it keeps, a seeder holds only the receipts of downloaders it sent data to (docs/retention.md)", async (t) => {
  const me = generateIdentity();
  const terms = { chainId: 31337n, pool: POOL, address: me.address, ethSecret: me.ethSecret };
  const [a, b] = [generateIdentity(), generateIdentity()];
  const whoOf = (x: ReturnType<typeof generateIdentity>): IdentifiedPeer => ({ did: x.did, account: x.address, claimedReputation: 0 });
  // Two per torrent: the first may be anyone's, the second only a served downloader's. Each
  // downloader is at its own address, in the order first heard: a at 127.0.0.2, b at 127.0.0.3.
  const s = await seeder(t, terms, whoOf(a), { maxHeldPerTorrent: 2 });
  const receiptOf = (x: ReturnType<typeof generateIdentity>): Receipt => ({
    chainId: 31337n, pool: POOL, infoHash: `0x${IH}`, seeder: me.address, downloader: x.address,
    cumulativeBytes: BigInt(MiB), expiry: BigInt(Math.floor(Date.now() / 1000) + 3600),
  });
  const send = (x: ReturnType<typeof generateIdentity>) => s.deliver(onWire(receiptOf(x), signReceiptWithSecret(x.ethSecret, receiptOf(x))), whoOf(x));

  await send(a);
  assert.equal(s.events.at(-1)!.event, 'receipt', 'the first, served or not');
  await send(b);
  assert.match(s.notes.at(-1) ?? '', /not kept: .*sent this downloader nothing of the torrent/);
  assert.equal(s.receipts.held(IH, b.address.toLowerCase()), undefined, 'not held');
  assert.equal(s.sent.length, 1, 'nor acknowledged: it sends a newer one later');
  // Sent a block of the torrent (another torrent's does not count): its receipt is held.
  s.transfer({ infoHashHex: 'd'.repeat(40), peer: '127.0.0.3:6881', direction: 'up', bytes: 16_384 });
  s.transfer({ infoHashHex: IH, peer: '127.0.0.3:6881', direction: 'down', bytes: 16_384 });
  await send(b);
  assert.match(s.notes.at(-1) ?? '', /not kept/, 'a download from it, or another torrent sent, does not count');
  s.transfer({ infoHashHex: IH, peer: '127.0.0.3:6881', direction: 'up', bytes: 16_384 });
  await send(b);
  assert.equal(s.events.at(-1)!.event, 'receipt');
  assert.equal(s.receipts.held(IH, b.address.toLowerCase())!.cumulativeBytes, BigInt(MiB));
  assert.equal(s.sent.length, 2);
});
