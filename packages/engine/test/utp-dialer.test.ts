// The dialer's local rule (node/utp-dialer.ts): TCP first to a loopback peer, uTP when TCP is shut.
// A TCP-off client (libtorrent's enable_incoming_tcp off) accepts and closes; when it is too busy to
// close within the dialer's short watch, the connection is handed on and closes later without a
// byte. That silent close must send the next dial over uTP, or the peer stays out of reach for as
// long as its process is slow (utp.test's downloader timed out so in CI). A peer that spoke before
// closing, or a connection we closed ourselves, keeps TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Connection } from '../src/platform.ts';
import { UtpSocket } from '../src/node/utp-socket.ts';
import { UtpFirstDialer } from '../src/node/utp-dialer.ts';
import { tcpDialer } from '../src/node/tcp.ts';

type T = { after: (fn: () => unknown) => void };

/** A uTP listener and, on the same port number, a TCP server doing `onTcp` to each connection. */
async function peer(t: T, onTcp: (s: net.Socket) => void): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const utp = await UtpSocket.bind(0, '127.0.0.1');
    const accepted: Connection[] = [];
    utp.onAccept = (c) => void accepted.push(c);
    const server = net.createServer((s) => {
      s.on('error', () => {}); // our side resets what it closes
      onTcp(s);
    });
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(utp.port, '127.0.0.1', () => resolve(true));
    });
    if (!ok) {
      await utp.close();
      if (attempt < 20) continue; // that TCP port was taken: another pair
      throw new Error('no port free for both TCP and UDP');
    }
    t.after(async () => {
      for (const c of accepted) c.close();
      server.close();
      await utp.close();
    });
    return utp.port;
  }
}

async function dialer(t: T): Promise<UtpFirstDialer> {
  const own = await UtpSocket.bind(0, '127.0.0.1');
  t.after(() => own.close());
  return new UtpFirstDialer(() => own, tcpDialer);
}

const dial = (d: UtpFirstDialer, port: number) => d.dial({ host: '127.0.0.1', port }, new AbortController().signal);

/** Listens for data (as the wire does) and resolves when the connection closes. */
function closing(c: Connection): Promise<void> {
  return new Promise((resolve) => {
    c.onData(() => {});
    c.onClose(() => resolve());
  });
}

test('a local TCP connection closed by the peer without a byte, after the watch: the next dial goes uTP', async (t) => {
  // Closes 300 ms after accepting: far past the dialer's watch on any machine.
  const port = await peer(t, (s) => void setTimeout(() => s.destroy(), 300));
  const d = await dialer(t);
  const first = await dial(d, port);
  assert.equal(first.transport, 'tcp', 'TCP answered, and did not close within the watch');
  await closing(first);
  const second = await dial(d, port);
  t.after(() => second.close());
  assert.equal(second.transport, 'utp');
});

test('a local TCP peer that spoke before it closed keeps TCP', async (t) => {
  const port = await peer(t, (s) => {
    s.write(Buffer.from([19]));
    setTimeout(() => s.destroy(), 300);
  });
  const d = await dialer(t);
  const first = await dial(d, port);
  assert.equal(first.transport, 'tcp');
  await closing(first);
  const second = await dial(d, port);
  t.after(() => second.close());
  assert.equal(second.transport, 'tcp');
});

test('a local TCP connection we closed ourselves says nothing of the peer: the next dial is TCP', async (t) => {
  const port = await peer(t, () => {});
  const d = await dialer(t);
  const first = await dial(d, port);
  assert.equal(first.transport, 'tcp');
  const closed = closing(first);
  first.close();
  await closed;
  const second = await dial(d, port);
  t.after(() => second.close());
  assert.equal(second.transport, 'tcp');
});

test('a local TCP connection the peer closes at once goes on over uTP, with what was written before', async (t) => {
  // A TCP-off client (libtorrent's enable_incoming_tcp off) accepts and closes at once. The dial no
  // longer waits to see that before handing the connection on (issue 40: 25 ms on every local
  // connection), so what the caller wrote on TCP meanwhile must reach the peer over uTP.
  const utp = await UtpSocket.bind(0, '127.0.0.1');
  const got = Promise.withResolvers<Uint8Array>();
  utp.onAccept = (c) => {
    t.after(() => c.close());
    c.onData((chunk) => void got.resolve(Uint8Array.from(chunk)));
  };
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.destroy();
  });
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(utp.port, '127.0.0.1', () => resolve(true));
  });
  t.after(async () => {
    server.close();
    await utp.close();
  });
  assert.ok(listening, 'the TCP port beside the uTP one is free');
  const d = await dialer(t);
  const c = await dial(d, utp.port);
  t.after(() => c.close());
  let closed = false;
  c.onClose(() => (closed = true));
  c.onData(() => {});
  c.write(new TextEncoder().encode('handshake'));
  assert.equal(new TextDecoder().decode(await got.promise), 'handshake');
  assert.equal(c.transport, 'utp');
  assert.equal(closed, false, 'the caller saw no close');
  // The next dial to that address knows it: uTP straight away.
  const again = await dial(d, utp.port);
  t.after(() => again.close());
  assert.equal(again.transport, 'utp');
});
