// Issue 43 item 3, BEP 55 hole punching, in the NAT lab (network namespaces, nothing leaves them):
// two homes behind port-restricted cone NATs (iptables MASQUERADE, unsolicited packets dropped)
// and a broker outside on the public segment. Neither home can dial the other; both dial the
// broker, hear of each other by PEX (flags: uTP, holepunch), fail to dial each other directly and
// ask the broker, which tells both to dial at once: both uTP SYNs cross, each opens its own NAT for
// the other's, and a direct uTP connection carries data.
//   1. Cascade brokers: libtorrent seeds in home 1, Cascade downloads in home 2.
//   2. libtorrent brokers: Cascade seeds in home 1, Cascade downloads in home 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNatLab, requireLabTools, type NatLab } from '@cascade/reachability/lab';
import { createTorrent } from '../index.ts';
import { labProcess, type LabProcess } from '../../cli/test/nat-lab-nodes.ts';
import { tmpDir } from './session-helpers.ts';

requireLabTools(['ip', 'iptables', '/usr/bin/python3']);

const here = path.dirname(fileURLToPath(import.meta.url));
const CASCADE = path.join(here, 'holepunch-peer.ts');
const LT = path.join(here, 'lt_holepunch.py');
const SIZE = 3 * 1024 * 1024;

async function fixture(t: { after: (fn: () => unknown) => void }) {
  const root = await tmpDir(t, undefined, 'cascade-hp-');
  for (const d of ['seed', 'broker', 'leech']) mkdirSync(path.join(root, d));
  const data = randomBytes(SIZE);
  writeFileSync(path.join(root, 'seed', 'data.bin'), data);
  const { torrent } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength: 32 * 1024 });
  const file = path.join(root, 'data.torrent');
  writeFileSync(file, torrent);
  return { root, file };
}

function cascade(t: { after: (fn: () => unknown) => void }, lab: NatLab, ns: string, o: { torrent: string; save: string; port: number; peers?: string[]; upload?: number; download?: number; utpOnly?: boolean }): LabProcess {
  const p = labProcess(lab.spawn(ns, process.execPath, [CASCADE, JSON.stringify(o)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  t.after(() => p.stop());
  return p;
}

function libtorrent(t: { after: (fn: () => unknown) => void }, lab: NatLab, ns: string, args: string[]): LabProcess {
  const p = labProcess(lab.spawn(ns, '/usr/bin/python3', [LT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
  t.after(() => p.stop());
  return p;
}

/** A status line in which the peer at `address` (a NATed home, as its router shows it) is
 *  connected over uTP and has sent us piece data. */
function directFrom(address: string) {
  return (e: Record<string, any>) => e.event === 'status' && (e.peers as { address: string; transport: string; downloaded: number }[]).some((p) => p.address === address && p.transport === 'utp' && p.downloaded > 0);
}

async function homes(t: { after: (fn: () => unknown) => void }) {
  const lab = await createNatLab(t);
  const broker = await lab.addHome({ nat: 'none' });
  const one = await lab.addHome({ nat: 'cone' });
  const two = await lab.addHome({ nat: 'cone' });
  return { lab, broker, one, two };
}

// Only the downloader dials the seeder (a Cascade seed waits for downloaders to come): had both
// dialled each other directly in the same second, as both hear of the other by PEX at once, their
// SYNs would have punched the hole with no broker at all (it happened; the test is about the broker).
test('BEP 55: Cascade brokers a uTP connection between libtorrent and Cascade, each behind a cone NAT', { timeout: 60_000 }, async (t) => {
  const f = await fixture(t);
  const { lab, broker, one, two } = await homes(t);
  const b = cascade(t, lab, broker.ns, { torrent: f.file, save: path.join(f.root, 'broker'), port: 6881, upload: 32 * 1024, download: 64 * 1024 });
  await b.event((e) => e.event === 'listening', 20_000, 'the broker listening');
  const brokerAt = `${broker.wanAddress}:6881`;
  // libtorrent downloads in home 1 (uTP only); Cascade seeds in home 2.
  const leech = libtorrent(t, lab, one.ns, ['download', f.file, path.join(f.root, 'leech'), '6882', brokerAt]);
  const seed = cascade(t, lab, two.ns, { torrent: f.file, save: path.join(f.root, 'seed'), port: 6883, peers: [brokerAt], upload: 256 * 1024, utpOnly: true });
  // The NAT keeps the ports (MASQUERADE with the port free): home 1 is 198.18.0.102:6882 outside.
  const up = await seed.event((e) => e.event === 'status' && e.peers.some((p: any) => p.address === `${one.wanAddress}:6882` && p.transport === 'utp' && p.uploaded > 0), 40_000, 'Cascade uploading to libtorrent over a direct uTP connection').catch((err) => {
    console.log('BROKER', JSON.stringify(b.events.slice(-1)), 'LT', JSON.stringify(leech.events.slice(-1)), leech.stderr());
    throw err;
  });
  assert.ok(up.holepunch.connectsReceived >= 1 && up.holepunch.dials >= 1, JSON.stringify(up.holepunch));
  const brokered = await b.event((e) => e.event === 'status' && e.holepunch.introduced > 0, 5_000, 'the broker introducing');
  assert.ok(brokered.holepunch.rendezvousReceived >= 1);
  // libtorrent sees the same connection: uTP, from home 2's router, with data in it.
  await leech.event((e) => e.event === 'status' && e.peers.some((p: any) => p.ip === two.wanAddress && p.utp && p.down > 0), 10_000, 'libtorrent downloading from Cascade over uTP');
});

test('BEP 55: libtorrent brokers a uTP connection between two Cascade nodes, each behind a cone NAT', { timeout: 60_000 }, async (t) => {
  const f = await fixture(t);
  const { lab, broker, one, two } = await homes(t);
  const b = libtorrent(t, lab, broker.ns, ['broker', f.file, path.join(f.root, 'broker'), '6881']);
  await b.event((e) => e.event === 'listening', 20_000, 'libtorrent listening');
  const brokerAt = `${broker.wanAddress}:6881`;
  const seed = cascade(t, lab, one.ns, { torrent: f.file, save: path.join(f.root, 'seed'), port: 6882, peers: [brokerAt], upload: 512 * 1024, utpOnly: true });
  const leech = cascade(t, lab, two.ns, { torrent: f.file, save: path.join(f.root, 'leech'), port: 6883, peers: [brokerAt], utpOnly: true });
  const got = await leech.event(directFrom(`${one.wanAddress}:6882`), 40_000, 'piece data from the other Cascade node over a direct uTP connection').catch((err: Error) => {
    // The counters first: a CI summary shows only the start of the message.
    const last = (p: LabProcess) => JSON.stringify(p.events.findLast((e) => e.event === 'status')?.holepunch);
    throw new Error(`leech's hole punch ${last(leech)}, seed's ${last(seed)}: ${err.message}`);
  });
  assert.ok(got.holepunch.rendezvousSent >= 1, JSON.stringify(got.holepunch));
  assert.ok(got.holepunch.connectsReceived >= 1, JSON.stringify(got.holepunch));
  await seed.event((e) => e.event === 'status' && e.holepunch.connectsReceived > 0 && e.peers.some((p: any) => p.address === `${two.wanAddress}:6883` && p.transport === 'utp'), 10_000, 'the seeder told to dial, and connected');
});
