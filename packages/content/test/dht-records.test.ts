// Records on a DHT of local engine sessions: published by one node, found from a node that only
// knows another; forged puts refused by the storing nodes; a hostile storing node's doctored replies
// and a publisher contradicting what the reader holds dropped by the reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Session } from '@cascade/engine';
import { generateIdentity, signBytes } from '@cascade/identity';
import { randomBytes } from 'node:crypto';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';
import { decode, encode } from '@cascade/engine/bencode';
import { cidFromSha256, DhtRecords, GET_METHOD, openRecord, PUT_METHOD, RECORD_SIGNING_DOMAIN, recordKey, signRecord, targetOf, type DhtTransport, type TorrentStatement } from '../index.ts';

const HOST = '127.0.0.1';
const cid = (s: string) => cidFromSha256(createHash('sha256').update(s).digest());

test('publish on A, find from C by keyword, content id and infohash; forgeries refused', async (t) => {
  const sessions: Session[] = [];
  const start = async (bootstrap: string[]) => {
    const s = await Session.create({ port: 0, host: HOST, dht: { bootstrap }, webrtc: false });
    sessions.push(s);
    return s;
  };
  const b = await start([]);
  const a = await start([`${HOST}:${b.dhtPort}`]);
  const c = await start([`${HOST}:${b.dhtPort}`]);
  const extra = await Promise.all([1, 2].map(() => start([`${HOST}:${b.dhtPort}`])));
  const records: DhtRecords[] = [];
  t.after(async () => {
    for (const r of records) r.close();
    await Promise.all(sessions.map((s) => s.close()));
  });
  const alice = generateIdentity('alice');
  const mallory = generateIdentity('mallory');
  const nodeOf = (s: Session, opts: Partial<ConstructorParameters<typeof DhtRecords>[0]> = {}) => {
    const r = new DhtRecords({ dht: s.dhtQueries as DhtTransport, ...opts });
    records.push(r);
    return r;
  };
  const onA = nodeOf(a, { identity: alice });
  const onB = nodeOf(b);
  const truth: TorrentStatement = { name: 'Quarterly Report 2026.pdf', length: 4242, infoHash: '11'.repeat(20), infoHashV2: null, cids: [cid('report')], port: a.port };
  // C holds another torrent (the one mallory will lie about) and knows its files' content ids.
  const other = { infoHash: '22'.repeat(20), cids: [cid('holiday photos')] };
  const onC = nodeOf(c, { knownCids: (ih) => (ih === other.infoHash ? other.cids : undefined) });
  for (const s of extra) nodeOf(s);
  await waitFor(() => sessions.every((s) => s.health().dhtNodes >= 2), 5000);

  const published = await onA.publish(truth);
  assert.equal(published.keys, 1 + 1 + 4); // infohash, content id, "quarterly" "report" "2026" "pdf"
  assert.ok(published.accepted >= published.keys * 3, `puts accepted: ${published.accepted} (${published.errors.join('; ')})`);

  const byWord = await onC.search('report quarterly');
  assert.equal(byWord.length, 1);
  const { port: _port, ...described } = truth;
  assert.deepEqual({ ...byWord[0], providers: [] }, { ...described, publisher: alice.did, providers: [] });
  assert.deepEqual(byWord[0]!.providers, [`${HOST}:${a.port}`]);
  const byCid = await onC.resolveContentId(truth.cids[0]!);
  assert.equal(byCid[0]?.infoHash, truth.infoHash);
  assert.equal(byCid[0]?.publisher, alice.did);
  assert.equal((await onC.search(truth.infoHash!.toUpperCase()))[0]?.cids[0], truth.cids[0]);
  assert.deepEqual(await onC.search('report linux'), [], 'every word must be in the name');

  // Forged signature: every storing node refuses the put.
  const dhtC = c.dhtQueries!;
  const key = recordKey('keyword_idx', 'report');
  const forged = signRecord(mallory, key, { ...truth, infoHash: '33'.repeat(20) }, Date.now() / 1000);
  forged.sig[0]! ^= 1;
  const contacts = await dhtC.walk(targetOf(key), GET_METHOD, { k: key });
  const refused = await dhtC.send(contacts, PUT_METHOD, { r: forged.bytes, s: forged.sig, target: targetOf(key) });
  assert.equal(refused.accepted, 0);
  assert.match(refused.errors[0]!, /bad signature/);
  // A record re-filed under a key its content does not give (replayed under another word).
  const replay = signRecord(mallory, key, truth, Date.now() / 1000);
  const wrongTarget = await dhtC.send(contacts, PUT_METHOD, { r: replay.bytes, s: replay.sig, target: targetOf('keyword_idx::linux') });
  assert.equal(wrongTarget.accepted, 0);
  assert.match(wrongTarget.errors[0]!, /another target/);

  // Mallory, with a key of her own, says the report's content id is in the torrent C holds.
  const lie: TorrentStatement = { name: 'Quarterly Report 2026.pdf', length: 4242, infoHash: other.infoHash, infoHashV2: null, cids: [cid('report')], port: 1 };
  const onMallory = new DhtRecords({ dht: extra[0]!.dhtQueries as DhtTransport, identity: mallory });
  records.push(onMallory);
  await onMallory.publish(lie);
  const seenByB = await onB.resolveContentId(truth.cids[0]!);
  assert.deepEqual(seenByB.map((r) => r.publisher).sort(), [alice.did, mallory.did].sort(), 'B knows nothing to refute it with');
  const seenByC = await onC.resolveContentId(truth.cids[0]!);
  assert.deepEqual(seenByC.map((r) => r.publisher), [alice.did], 'C drops the record contradicting the torrent it holds');
  assert.ok(onC.reputation.ignores(mallory.did));
  // ... and ignores everything else mallory publishes from then on.
  await onMallory.publish({ ...lie, name: 'Quarterly Report 2026 final.pdf', infoHash: '44'.repeat(20) });
  assert.deepEqual((await onC.search('quarterly')).map((r) => r.publisher), [alice.did]);
  assert.equal((await onB.search('quarterly')).length, 3);
});

test('a file is found on the DHT by the UnixFS CID `ipfs add` gives it; a record naming a root the reader knows is not there is dropped', async (t) => {
  const sessions: Session[] = [];
  const b = await Session.create({ port: 0, host: HOST, dht: { bootstrap: [] }, webrtc: false });
  sessions.push(b);
  for (let i = 0; i < 3; i++) sessions.push(await Session.create({ port: 0, host: HOST, dht: { bootstrap: [`${HOST}:${b.dhtPort}`] }, webrtc: false }));
  const records: DhtRecords[] = [];
  t.after(async () => {
    for (const r of records) r.close();
    await Promise.all(sessions.map((s) => s.close()));
  });
  await waitFor(() => sessions.every((s) => s.health().dhtNodes >= 2), 5000);
  // What IPFS names 1.5 MiB by, imported as @helia/unixfs does by default (docs/storage/ipfs.md).
  const bytes = randomBytes(1_572_864);
  let unixfs = '';
  const store = { put: async () => undefined };
  for await (const e of importer([{ content: [bytes] }], store as never, { cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 1_048_576 }), layout: balanced({ maxChildrenPerNode: 1024 }) })) unixfs = e.cid.toString();
  assert.match(unixfs, /^bafybei/);
  const alice = generateIdentity('alice');
  const mallory = generateIdentity('mallory');
  const [, a, c, m] = sessions as [Session, Session, Session, Session];
  const onA = new DhtRecords({ dht: a.dhtQueries as DhtTransport, identity: alice });
  const held = { infoHash: '66'.repeat(20), unixfs: ['bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'] };
  const onC = new DhtRecords({ dht: c.dhtQueries as DhtTransport, knownUnixfs: (ih) => (ih === held.infoHash ? held.unixfs : undefined) });
  const onM = new DhtRecords({ dht: m.dhtQueries as DhtTransport, identity: mallory });
  records.push(onA, onC, onM, new DhtRecords({ dht: b.dhtQueries as DhtTransport }));
  const film: TorrentStatement = { name: 'Glacier Survey.mkv', length: bytes.length, infoHash: '55'.repeat(20), infoHashV2: null, cids: [cidFromSha256(createHash('sha256').update(bytes).digest())], unixfsCids: [unixfs], port: a.port };
  const published = await onA.publish(film);
  assert.equal(published.keys, 1 + 2 + 3, 'infohash, content id and UnixFS CID, three words');
  const found = await onC.search(unixfs);
  assert.equal(found.length, 1, `search by ${unixfs}`);
  assert.equal(found[0]!.infoHash, film.infoHash);
  assert.deepEqual(found[0]!.cids, film.cids);
  assert.deepEqual(found[0]!.unixfsCids, [unixfs]);
  assert.deepEqual((await onC.resolveContentId(film.cids[0]!))[0]?.unixfsCids, [unixfs], 'the content id\'s record carries the UnixFS CID too');
  // Mallory says the torrent C holds has a root it does not: C drops it and ignores her.
  await onM.publish({ name: 'Glacier Survey.mkv', length: 1, infoHash: held.infoHash, infoHashV2: null, cids: [], unixfsCids: [unixfs], port: 1 });
  const seen = await onC.search(unixfs);
  assert.deepEqual(seen.map((r) => r.publisher), [alice.did]);
  assert.ok(onC.reputation.ignores(mallory.did));
  // Bad inputs: a search by a CID that is neither kind, a record whose u holds something else.
  await assert.rejects(onC.search('bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'), /not a content id of file bytes: codec 0x71 is not raw \(0x55\) \(nor a UnixFS root/);
  const signed = signRecord(alice, recordKey('cid_idx', unixfs), film, Date.now() / 1000);
  const doctored = encode({ ...(decode(signed.bytes).value as Record<string, unknown>), u: [new Uint8Array(36)] } as never);
  assert.throws(() => openRecord(doctored, signBytes(alice, RECORD_SIGNING_DOMAIN, doctored), { now: Date.now() / 1000 }), /u holds a value that is not a UnixFS root/);
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('keepPublished publishes again before records expire; a closed client stops', async (t) => {
  const first = await Session.create({ port: 0, host: HOST, dht: { bootstrap: [] }, webrtc: false });
  const second = await Session.create({ port: 0, host: HOST, dht: { bootstrap: [`${HOST}:${first.dhtPort}`] }, webrtc: false });
  let now = 1_800_000_000;
  const publisher = new DhtRecords({ dht: second.dhtQueries as DhtTransport, identity: generateIdentity('p'), now: () => now });
  const holder = new DhtRecords({ dht: first.dhtQueries as DhtTransport, now: () => now });
  t.after(async () => {
    publisher.close();
    holder.close();
    await Promise.all([first.close(), second.close()]);
  });
  await waitFor(() => second.health().dhtNodes >= 1, 5000);
  const s: TorrentStatement = { name: 'republished thing', length: 1, infoHash: '55'.repeat(20), infoHashV2: null, cids: [cid('thing')], port: 1 };
  const key = recordKey('info_hash_idx', s.infoHash!);
  const issuedAtHolder = () => holder.store.get(targetOf(key)).map((e) => e.record.issued);
  publisher.keepPublished(() => [s], { firstAfterMs: 0, everyMs: 300 });
  await waitFor(() => issuedAtHolder().length === 1, 5000);
  const firstIssue = issuedAtHolder()[0]!;
  now += 3600; // an hour on: the first record is still alive, the next run replaces it with a newer one
  await waitFor(() => (issuedAtHolder()[0] ?? 0) > firstIssue, 5000);
  now += 7200 + 1;
  publisher.close();
  assert.deepEqual(issuedAtHolder(), [], 'expired, and nobody publishes it again');
});

test('a stranger gets a small answer (amplification bound); a reader with our token gets the rest', async (t) => {
  const first = await Session.create({ port: 0, host: HOST, dht: { bootstrap: [] }, webrtc: false });
  const second = await Session.create({ port: 0, host: HOST, dht: { bootstrap: [`${HOST}:${first.dhtPort}`] }, webrtc: false });
  const holder = new DhtRecords({ dht: first.dhtQueries as DhtTransport });
  const reader = new DhtRecords({ dht: second.dhtQueries as DhtTransport });
  t.after(async () => {
    holder.close();
    reader.close();
    await Promise.all([first.close(), second.close()]);
  });
  const key = recordKey('keyword_idx', 'popular');
  const now = Date.now() / 1000;
  for (let i = 0; i < 8; i++) {
    const s: TorrentStatement = { name: `popular thing ${i}`, length: i, infoHash: String(i).repeat(40), infoHashV2: null, cids: [cid(`thing ${i}`)], port: 1 };
    const { bytes, sig } = signRecord(generateIdentity(`p${i}`), key, s, now);
    holder.store.put(bytes, sig, targetOf(key), HOST);
  }
  await waitFor(() => second.health().dhtNodes >= 1, 5000);
  const answers: { bytes: number; more: boolean }[] = [];
  await second.dhtQueries!.walk(targetOf(key), GET_METHOD, { k: key }, ({ r }) => {
    const rs = (r.rs as { r: Uint8Array }[]) ?? [];
    answers.push({ bytes: rs.reduce((n, x) => n + x.r.length, 0), more: r.more === 1 });
  });
  assert.ok(answers.length >= 1);
  assert.ok(answers.every((a) => a.bytes <= 800 && a.more), JSON.stringify(answers));
  assert.equal((await reader.search('popular')).length, 8, 'asked again with the token, the reader gets all eight');
});
