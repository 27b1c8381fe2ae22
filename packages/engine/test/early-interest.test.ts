// A download says it is interested with its bitfield, before the peer's (torrent-swarm.ts onReady):
// a seeder that unchokes on interest then answers with its bitfield and unchoke together, and the
// first requests go out without another round trip (issue 40). Only to fast-extension peers, which
// always say what they have; have_none takes the interest back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, createTorrent } from '../index.ts';
import { encodeHandshake, MSG } from '../src/wire/protocol.ts';

/** A peer that answers the handshake (fast extension on or off) and reports the ids of the messages it gets. */
async function listeningPeer(t: { after: (fn: () => unknown) => void }, infoHash: Uint8Array, fast: boolean) {
  const ids: number[] = [];
  /** For each message in ids: how many sends of ours had gone out when it came. */
  const after: number[] = [];
  let sent = 0;
  const waiters: { id: number; resolve: () => void }[] = [];
  let socket: net.Socket | undefined;
  const server = net.createServer((sock) => {
    socket = sock;
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let answered = false;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      // The downloader's 68-byte handshake first, answered with ours; messages after it.
      if (!answered && buf.length >= 68) {
        answered = true;
        buf = buf.subarray(68);
        sock.write(encodeHandshake(infoHash, Buffer.from('-XX0001-' + 'i'.repeat(12)), { extended: false, fast, dht: false, v2: false }));
      }
      if (!answered) return;
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        if (len > 0) {
          const id = buf[4]!;
          ids.push(id);
          after.push(sent);
          for (const w of waiters.splice(0)) if (w.id === id) w.resolve();
          else waiters.push(w);
        }
        buf = buf.subarray(4 + len);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    socket?.destroy();
    server.close();
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    ids,
    after,
    /** Resolves once a message with this id has come. */
    got(id: number): Promise<void> {
      if (ids.includes(id)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ id, resolve }));
    },
    send(bytes: Uint8Array) {
      sent++;
      socket!.write(bytes);
    },
  };
}

async function downloadFrom(t: { after: (fn: () => unknown) => void }, fast: boolean) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-interest-'));
  t.after(() => fs.rm(root, { recursive: true, force: true }));
  await fs.writeFile(path.join(root, 'd.bin'), randomBytes(4 * 16384));
  const { torrent, metainfo } = await createTorrent(path.join(root, 'd.bin'), { pieceLength: 16384 });
  const peer = await listeningPeer(t, metainfo.infoHash, fast);
  const session = await Session.create({ host: '127.0.0.1', dht: false, utp: false });
  t.after(() => session.close());
  await session.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${peer.port}`] });
  return peer;
}

test('a download is interested in a fast-extension peer before it says what it has; have_none takes it back', { timeout: 20_000 }, async (t) => {
  const peer = await downloadFrom(t, true);
  // The peer has sent its handshake and nothing else: no bitfield, no have_all.
  await peer.got(MSG.interested);
  peer.send(Buffer.from([0, 0, 0, 1, MSG.haveNone]));
  await peer.got(MSG.notInterested);
  assert.ok(peer.ids.indexOf(MSG.interested) < peer.ids.indexOf(MSG.notInterested));
});

test('a plain peer (no fast extension) hears interest only once it has shown something', { timeout: 20_000 }, async (t) => {
  const peer = await downloadFrom(t, false);
  // A plain peer with nothing may never send a bitfield: interest before one would never be taken
  // back. The bitfield goes out a moment after the handshake; the interest must come after it.
  await new Promise((r) => setTimeout(r, 200));
  peer.send(Buffer.from([0, 0, 0, 2, MSG.bitfield, 0xf0]));
  await peer.got(MSG.interested);
  assert.equal(peer.after[peer.ids.indexOf(MSG.interested)], 1, `messages ${peer.ids.join(',')} came after ${peer.after.join(',')} of our sends`);
});
