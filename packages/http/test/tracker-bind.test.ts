// The tracker built into `serve` listens where the BitTorrent listener does ('::' by default: IPv6
// and IPv4 on every interface, as libtorrent's and qBittorrent's embedded trackers listen where
// peers can reach them), not on the web UI's 127.0.0.1; its URLs still name the web UI's address;
// `trackerHost` (serve --tracker-host) binds it elsewhere. Loopback only: [::1] and 127.0.0.1.
// Before: it shared the web UI's address, so [::1] (and every other interface) was refused.
import assert from 'node:assert/strict';
import test from 'node:test';
import { startTestServer } from './server-helpers.ts';

const stats = (host: string, port: number) => fetch(`http://${host}:${port}/stats.json`).then((r) => r.status, (err: Error) => (err.cause as { code?: string })?.code ?? err.message);

test('the built-in tracker follows the BitTorrent listener; trackerHost overrides it', async (t) => {
  const dual = await startTestServer(t, { btHost: undefined });
  const tr = dual.tracker!;
  assert.equal(await stats('127.0.0.1', tr.httpPort), 200);
  assert.equal(await stats('[::1]', tr.httpPort), 200);
  assert.equal(tr.httpAnnounceUrl, `http://127.0.0.1:${tr.httpPort}/announce`, 'its URLs name the web UI\'s address, as before');

  const own = await startTestServer(t, { btHost: undefined, trackerHost: '127.0.0.1' });
  assert.equal(await stats('127.0.0.1', own.tracker!.httpPort), 200);
  assert.equal(await stats('[::1]', own.tracker!.httpPort), 'ECONNREFUSED');
});
