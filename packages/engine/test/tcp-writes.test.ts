// An uploader corks a connection and writes up to 64 blocks (1 MiB) per batch while write() says
// there is room (swarm/uploader.ts). Node's default 64 KiB high-water mark cut each batch to four
// blocks: one writev, one 'drain' and one turn of the loop per 64 KiB (issue 40: 16,600 writev per
// GiB a seeder sent, 1,400 with this). Both ends of a TCP connection, listened and dialed, take a
// whole batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import type { Connection } from '../src/platform.ts';
import { listenTcp, tcpDialer } from '../src/node/tcp.ts';

const BLOCK = 16 * 1024;

/** How many of 64 block-sized writes a corked connection takes before write() says to wait. */
function batch(conn: Connection): number {
  const block = new Uint8Array(BLOCK + 13);
  let taken = 0;
  conn.cork!();
  while (taken < 64 && conn.write(block)) taken++;
  conn.uncork!();
  return taken + 1; // the write that said "wait" was queued too
}

test('a corked TCP connection takes a whole 64-block batch, listened and dialed', async (t) => {
  let accepted!: (c: Connection) => void;
  const incoming = new Promise<Connection>((r) => (accepted = r));
  const server: net.Server = await listenTcp(0, '127.0.0.1', (c) => accepted(c));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const dialed = await tcpDialer.dial({ host: '127.0.0.1', port }, new AbortController().signal);
  const listened = await incoming;
  t.after(() => {
    dialed.close();
    listened.close();
  });
  assert.equal(batch(listened), 64, 'the listening side');
  assert.equal(batch(dialed), 64, 'the dialing side');
});
