// BEP 32's `want` against libtorrent's dual-stack DHT (a node on 127.0.0.1 and one on [::1], same
// port): libtorrent, given our IPv4 address only, fills its IPv6 table from our IPv4 answer's
// `nodes6`; and we, given libtorrent's IPv4 address only, fill ours the same way. In both a torrent
// announced on the IPv6 DHT alone (by a node on ::1 only) is found only if that worked.
// Before: our IPv4 instance answered `want: ["n6"]` with IPv4 `nodes` (libtorrent's IPv6 node
// learned nothing), and never sent `want` (a session with IPv4 bootstrap nodes had an empty IPv6
// table for ever): both subtests timed out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Session, toMagnet } from '../index.ts';
import { libtorrent } from './lt-v6.ts';
import { tmpDir } from './session-helpers.ts';

test('BEP 32 want against libtorrent\'s dual-stack DHT', { timeout: 60_000 }, async (t) => {
  const root = await tmpDir(t);
  const sessions: Session[] = [];
  t.after(() => Promise.all(sessions.map((s) => s.close())));
  const start = async (opts: { host?: string; bootstrap: string[] }) => {
    const s = await Session.create({ ...(opts.host ? { host: opts.host } : {}), dht: { bootstrap: opts.bootstrap }, webrtc: false });
    sessions.push(s);
    return s;
  };
  /** A torrent of its own announced to the DHT (a magnet: it announces while it looks), once the
   *  session knows a node to announce to. */
  const announce = async (s: Session) => {
    await until(() => s.health().dhtNodes >= 1);
    const ih = randomBytes(20).toString('hex');
    await s.add(toMagnet({ infoHashHex: ih }), { savePath: root });
    return ih;
  };

  await t.test('libtorrent asks our IPv4 node with want n6 and gets our IPv6 nodes', async () => {
    // D: dual-stack; its IPv6 table holds C (on ::1 only), its IPv4 table nothing.
    const c = await start({ host: '::1', bootstrap: [] });
    const d = await start({ bootstrap: [`[::1]:${c.dhtPort}`] });
    const ih = await announce(c);
    // libtorrent knows D at 127.0.0.1 only: its IPv6 node bootstraps through that IPv4 router.
    const lt = await libtorrent(t, [`127.0.0.1:${d.dhtPort}`], 'lt_dht.py');
    const deadline = Date.now() + 30_000;
    let found: string[] | undefined;
    while (!found && Date.now() < deadline) {
      lt.send(`get_peers ${ih}`);
      found = await lt.until((m) => (Array.isArray(m.peers) ? (m.peers as string[]) : undefined), 2000).catch(() => undefined);
    }
    assert.deepEqual(found, [`[::1]:${c.port}`]);
  });

  await t.test('our dual-stack node, knowing libtorrent at 127.0.0.1 only, finds a torrent on the IPv6 DHT', async () => {
    const lt = await libtorrent(t, [], 'lt_dht.py');
    const c = await start({ host: '::1', bootstrap: [`[::1]:${lt.port}`] });
    lt.send(`dht ::1 ${c.dhtPort}`);
    const ih = await announce(c);
    const d = await start({ bootstrap: [`127.0.0.1:${lt.port}`] });
    // libtorrent's IPv4 node, and C (and libtorrent's IPv6 node) through its nodes6.
    await until(() => d.health().dhtNodes >= 2);
    const h = await d.add(toMagnet({ infoHashHex: ih }), { savePath: root });
    const tried = () => h.discovery().peersTried.some((p) => p.address === `[::1]:${c.port}`);
    await until(tried).catch(() => {});
    assert.ok(tried(), JSON.stringify(h.discovery()));
  });
});

async function until(ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
