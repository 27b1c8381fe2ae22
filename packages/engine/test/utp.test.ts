// uTP (BEP 29) against libtorrent with its TCP turned off both ways, so every byte crosses uTP:
// libtorrent downloads from a Cascade seeder (Cascade accepts uTP) and seeds to a Cascade
// downloader (Cascade dials uTP), byte for byte; once with MSE forced (RC4 over uTP).
// One libtorrent process serves every subtest.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Session, createTorrent } from '../index.ts';
import { tmpDir, whenDone } from './session-helpers.ts';

/** The shared libtorrent: commands in, lines out (lt_utp.py). */
class Lt {
  private readonly proc = spawn('/usr/bin/python3', [fileURLToPath(new URL('./lt_utp.py', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  port = 0;
  constructor() {
    readline.createInterface({ input: this.proc.stdout }).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async ready(): Promise<void> {
    this.port = Number((await this.next((l) => l.startsWith('port '))).slice(5));
  }
  send(cmd: string): void {
    this.proc.stdin.write(cmd + '\n');
  }
  /** The first line (kept or to come) that passes `pred`, taken off the list. */
  async next(pred: (l: string) => boolean, ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.lines.findIndex(pred);
      if (i >= 0) return this.lines.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`libtorrent said: ${this.lines.join(' | ')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 500);
      });
    }
  }
  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

let shared: Lt | undefined;
async function lt(): Promise<Lt> {
  if (!shared) {
    shared = new Lt();
    await shared.ready();
  }
  return shared;
}
after(() => shared?.close());

async function fixture(t: { after: (fn: () => unknown) => void }, size = 1_500_000) {
  const root = await tmpDir(t, undefined, 'cascade-utp-');
  await fs.mkdir(path.join(root, 'seed'));
  const payload = randomBytes(size);
  await fs.writeFile(path.join(root, 'seed', 'data.bin'), payload);
  const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength: 64 * 1024 });
  const torrentPath = path.join(root, 'data.torrent');
  await fs.writeFile(torrentPath, torrent);
  return { root, payload, torrent, torrentPath, infoHash: metainfo.infoHashHex };
}

test('libtorrent over uTP only downloads from a Cascade seeder', async (t) => {
  const f = await fixture(t);
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const seed = await session.add(f.torrent, { savePath: path.join(f.root, 'seed') });
  await whenDone(seed);
  const l = await lt();
  l.send(`fetch ${f.torrentPath} ${path.join(f.root, 'lt')} 127.0.0.1:${session.port}`);
  await l.next((s) => s === `done ${f.infoHash}`);
  assert.ok((await fs.readFile(path.join(f.root, 'lt', 'data.bin'))).equals(f.payload));
  assert.ok(session.counters().bytesSent.utp >= f.payload.length, JSON.stringify(session.counters().bytesSent));
  assert.equal(session.counters().bytesSent.tcp, 0);
});

test('a Cascade downloader gets a torrent from libtorrent over uTP only', async (t) => {
  const f = await fixture(t);
  const l = await lt();
  l.send(`seed ${f.torrentPath} ${path.join(f.root, 'seed')}`);
  await l.next((s) => s === `seeding ${f.infoHash}`);
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const h = await session.add(f.torrent, { savePath: path.join(f.root, 'dl'), peers: [`127.0.0.1:${l.port}`] });
  await whenDone(h);
  assert.ok((await fs.readFile(path.join(f.root, 'dl', 'data.bin'))).equals(f.payload));
  assert.ok(session.counters().bytesReceived.utp >= f.payload.length);
  assert.equal(session.counters().bytesReceived.tcp, 0);
});

test('MSE (RC4 forced by libtorrent) runs over uTP both ways', async (t) => {
  const f = await fixture(t);
  const g = await fixture(t);
  const l = await lt();
  l.send('encryption forced');
  await l.next((s) => s === 'ok');
  t.after(() => l.send('encryption enabled'));
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, encryption: 'require' });
  t.after(() => session.close());
  // libtorrent fetches f from Cascade, and seeds g to it.
  const seed = await session.add(f.torrent, { savePath: path.join(f.root, 'seed') });
  await whenDone(seed);
  l.send(`seed ${g.torrentPath} ${path.join(g.root, 'seed')}`);
  await l.next((s) => s === `seeding ${g.infoHash}`);
  l.send(`fetch ${f.torrentPath} ${path.join(f.root, 'lt')} 127.0.0.1:${session.port}`);
  const h = await session.add(g.torrent, { savePath: path.join(g.root, 'dl'), peers: [`127.0.0.1:${l.port}`] });
  await Promise.all([l.next((s) => s === `done ${f.infoHash}`), whenDone(h)]);
  assert.ok((await fs.readFile(path.join(f.root, 'lt', 'data.bin'))).equals(f.payload));
  assert.ok((await fs.readFile(path.join(g.root, 'dl', 'data.bin'))).equals(g.payload));
  assert.equal(session.counters().bytesReceived.tcp + session.counters().bytesSent.tcp, 0);
});
