// Message Stream Encryption: real libtorrent peers that insist on MSE (plaintext stream or full RC4)
// download from a Cascade seeder, Cascade's own initiator talks to libtorrent and to Cascade, and
// hostile or stalled handshakes close only their own connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Session, createTorrent, type TorrentHandle } from '../index.ts';
import { acceptMse, encryptOutgoing } from '../src/node/mse.ts';
import { DhKey } from '../src/node/mse-crypto.ts';
import { Rc4 } from '../src/node/rc4.ts';
import { socketConnection } from '../src/node/tcp.ts';
import { encodeHandshake } from '../src/wire/protocol.ts';
import type { Connection } from '../src/platform.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

// python3-libtorrent is importable only from the system python.
const PYTHON = '/usr/bin/python3';

type Ctx = { after: (fn: () => unknown) => void };

async function tmp(t: Ctx): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-mse-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

function done(h: TorrentHandle, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(h.stats())}`)), ms);
    if (h.stats().state === 'seeding') return clearTimeout(timer), resolve();
    h.once('done', () => (clearTimeout(timer), resolve()));
    h.once('error', (e: Error) => (clearTimeout(timer), reject(e)));
  });
}

const sha1 = (...parts: (Uint8Array | string)[]) => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** A Cascade session seeding ~1.2 MB of random data, plus the .torrent on disk for libtorrent. */
async function cascadeSeeder(t: Ctx, encryption?: 'prefer-plaintext' | 'require' | 'disabled') {
  const root = await tmp(t);
  await fs.mkdir(path.join(root, 'seed'));
  const payload = randomBytes(1_234_567);
  await fs.writeFile(path.join(root, 'seed', 'data.bin'), payload);
  const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength: 32 * 1024 });
  const torrentPath = path.join(root, 'data.torrent');
  await fs.writeFile(torrentPath, torrent);
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, encryption });
  t.after(() => session.close());
  const handle = await session.add(torrent, { savePath: path.join(root, 'seed') });
  await done(handle);
  return { root, payload, torrent, torrentPath, metainfo, session, handle };
}

// ---- libtorrent driver ----
// Settings as in test/interop/lt.py (loopback, TCP only, no DHT), plus the encryption knobs.
// `download` reports how the connection to the peer was encrypted (libtorrent's own view of it).
const LT_SCRIPT = String.raw`
import json, os, sys, threading, time
import libtorrent as lt

def emit(o):
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()

def session(out_policy, in_policy, level, prefer_rc4):
    return lt.session({
        "listen_interfaces": "127.0.0.1:0", "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_incoming_utp": False, "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True, "min_reconnect_time": 1, "max_failcount": 100,
        "peer_connect_timeout": 5,
        "out_enc_policy": out_policy, "in_enc_policy": in_policy,
        "allowed_enc_level": level, "prefer_rc4": prefer_rc4,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.storage_notification,
    })

def flush(h):
    # Seeding means every piece passed its hash check, not that it is in the file: libtorrent 2.0
    # hashes blocks from its store buffer, which its disk threads write out later, and os._exit
    # loses what they had not. The test reads the file next (it once found 16 KiB blocks of zeros,
    # and assert's diff of two 1.2 MB buffers then held the event loop for minutes).
    h.flush_cache()
    deadline = time.time() + 20
    while time.time() < deadline:
        if any(isinstance(a, lt.cache_flushed_alert) for a in ses.pop_alerts()): return True
        ses.wait_for_alert(100)
    return False

def enc_of(flags):
    if flags & lt.peer_info.rc4_encrypted: return "rc4"
    if flags & lt.peer_info.plaintext_encrypted: return "plaintext"
    return "none"

def watch_stdin(stop):
    def run():
        while sys.stdin.buffer.read(1): pass
        stop.set()
    threading.Thread(target=run, daemon=True).start()

mode, torrent, save = sys.argv[1], sys.argv[2], sys.argv[3]
out_policy, in_policy, level = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
prefer_rc4 = sys.argv[7] == "1"
ses = session(out_policy, in_policy, level, prefer_rc4)
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save
atp.flags &= ~lt.torrent_flags.auto_managed
atp.flags &= ~lt.torrent_flags.paused
stop = threading.Event()
watch_stdin(stop)

if mode == "download":
    host, port = sys.argv[8].rsplit(":", 1)
    timeout = float(sys.argv[9])
    h = ses.add_torrent(atp)
    start = time.time()
    h.connect_peer((host, int(port)))
    first = None
    seen = None
    enc = set()
    while True:
        st = h.status()
        now = time.time()
        peers = h.get_peer_info()
        # libtorrent dials connect_peer() addresses on its next one-second tick: time the
        # handshake from when the connection first shows up, not from connect_peer().
        if seen is None and peers:
            seen = now - start
        for p in peers:
            if not (p.flags & (lt.peer_info.handshake | lt.peer_info.connecting)):
                enc.add(enc_of(p.flags))
        if first is None and st.total_payload_download > 0:
            first = now - start
        if st.is_seeding:
            first = first if first is not None else now - start
            if not flush(h):
                emit({"event": "error", "message": "no cache_flushed_alert within 20 s of finishing"})
                os._exit(1)
            emit({"event": "done", "seconds": round(now - start, 3), "firstByte": round(first, 3),
                  "handshake": round(first - (seen if seen is not None else 0), 3),
                  "enc": sorted(enc), "downloaded": st.total_payload_download})
            os._exit(0)
        if now - start > timeout or stop.is_set():
            emit({"event": "error", "message": "timeout: progress %.3f peers %d" % (st.progress, st.num_peers), "enc": sorted(enc)})
            os._exit(1)
        time.sleep(0.005)
else:  # seed: stays up until stdin closes, reporting how each connected peer is encrypted
    h = ses.add_torrent(atp)
    deadline = time.time() + 30
    while not h.status().is_seeding:
        if time.time() > deadline:
            emit({"event": "error", "message": "not seeding"})
            os._exit(1)
        time.sleep(0.02)
    emit({"event": "seeding", "port": ses.listen_port()})
    while not stop.is_set():
        encs = sorted({enc_of(p.flags) for p in h.get_peer_info()
                       if not (p.flags & (lt.peer_info.handshake | lt.peer_info.connecting))})
        if encs: emit({"event": "peers", "enc": encs})
        stop.wait(0.01)
`;

const LT = { forced: 0, enabled: 1, disabled: 2 } as const;
const LEVEL = { plaintext: 1, rc4: 2, both: 3 } as const;

interface LtRun {
  events: Record<string, any>[];
  stderr: string;
  exited: Promise<number | null>;
  waitFor(event: string, ms: number): Promise<Record<string, any>>;
}

async function runLt(t: Ctx, root: string, args: string[]): Promise<LtRun> {
  const script = path.join(root, 'mse_lt.py');
  await fs.writeFile(script, LT_SCRIPT);
  // stdin stays a pipe: the script exits when it closes, so it cannot outlive the test.
  const child = spawn(PYTHON, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const run: LtRun = { events: [], stderr: '', exited: new Promise((r) => child.on('close', (code) => r(code))), waitFor: undefined! };
  // A spawn that fails (EAGAIN or ENOMEM on a starved machine) fails this test with the reason,
  // rather than an unhandled 'error' event ending the whole file with no test named.
  child.on('error', (err) => ((run.stderr += `spawn failed: ${err.message}\n`), child.emit('close', null)));
  const waiters: { event: string; fn: (e: Record<string, any>) => void }[] = [];
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    let nl;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      try {
        const e = JSON.parse(line);
        run.events.push(e);
        for (const w of waiters.filter((w) => w.event === e.event)) w.fn(e);
      } catch {
        run.stderr += line + '\n';
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
  run.waitFor = (event, ms) =>
    new Promise((resolve, reject) => {
      const hit = run.events.find((e) => e.event === event);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => reject(new Error(`libtorrent: no ${event} in ${ms} ms\n${JSON.stringify(run.events)}\n${run.stderr}`)), ms);
      waiters.push({ event, fn: (e) => (clearTimeout(timer), resolve(e)) });
      void run.exited.then(() => setTimeout(() => reject(new Error(`libtorrent exited without ${event}\n${JSON.stringify(run.events)}\n${run.stderr}`)), 50));
    });
  return run;
}

async function ltDownloadFrom(
  t: Ctx,
  seed: Awaited<ReturnType<typeof cascadeSeeder>>,
  enc: { out: number; level: number; preferRc4?: boolean },
) {
  const out = path.join(seed.root, 'lt-out');
  const run = await runLt(t, seed.root, [
    'download', seed.torrentPath, out, String(enc.out), String(enc.out), String(enc.level), enc.preferRc4 ? '1' : '0',
    `127.0.0.1:${seed.session.port}`, '20',
  ]);
  const result = await run.waitFor('done', 25_000);
  assert.equal(await run.exited, 0);
  assertSameBytes(await fs.readFile(path.join(out, 'data.bin')), seed.payload, 'downloaded data must hash-match');
  return result;
}

// ---- RC4 ----

test('RC4 matches the published test vectors', () => {
  const enc = (k: string, p: string) => Buffer.from(new Rc4(Buffer.from(k)).process(new Uint8Array(Buffer.from(p)))).toString('hex');
  assert.equal(enc('Key', 'Plaintext'), 'bbf316e8d940af0ad3');
  assert.equal(enc('Wiki', 'pedia'), '1021bf0420');
  assert.equal(enc('Secret', 'Attack at dawn'), '45a01f645fc35b383552544b9bf5');
  // Streaming in pieces continues the same keystream; out-of-place leaves the input alone.
  const data = randomBytes(5000);
  const whole = new Rc4(Buffer.from('k')).process(new Uint8Array(data), new Uint8Array(data.length));
  const parts = new Rc4(Buffer.from('k'));
  const split = Buffer.concat([parts.process(data.subarray(0, 1234), new Uint8Array(1234)), parts.process(data.subarray(1234), new Uint8Array(5000 - 1234))]);
  assert.deepEqual(split, Buffer.from(whole));
});

// ---- libtorrent downloads from a Cascade seeder ----

test('libtorrent with MSE forced (plaintext or RC4 offered) downloads from Cascade over an MSE handshake', { timeout: 60_000 }, async (t) => {
  const seed = await cascadeSeeder(t);
  const r = await ltDownloadFrom(t, seed, { out: LT.forced, level: LEVEL.both, preferRc4: false });
  // Forced mode never falls back to plaintext, so completing at all proves the MSE handshake;
  // libtorrent reports the negotiated stream: Cascade picks plaintext when it is offered.
  assert.deepEqual(r.enc, ['plaintext']);
  // One connection, no reconnect: a plaintext fallback would list another ('none'). Times are
  // printed, not asserted (no timing assertions: a loaded machine is slow, not wrong).
  t.diagnostic(`first byte ${r.handshake} s after the connection appeared; download ${r.seconds} s`);
});

test('libtorrent allowing only RC4 downloads from Cascade over a fully RC4-encrypted stream', { timeout: 60_000 }, async (t) => {
  const seed = await cascadeSeeder(t);
  const r = await ltDownloadFrom(t, seed, { out: LT.forced, level: LEVEL.rc4 });
  assert.deepEqual(r.enc, ['rc4']);
  t.diagnostic(`download ${r.seconds} s`);
});

test('libtorrent with default settings (MSE first, plaintext allowed) connects without the plaintext retry', { timeout: 60_000 }, async (t) => {
  const seed = await cascadeSeeder(t);
  const r = await ltDownloadFrom(t, seed, { out: LT.enabled, level: LEVEL.both });
  // 'plaintext' here is libtorrent's flag for "MSE handshake, plaintext stream": a fallback
  // reconnect would show 'none'.
  assert.deepEqual(r.enc, ['plaintext']);
  t.diagnostic(`first byte ${r.handshake} s after the connection appeared`);
});

test('libtorrent with encryption disabled still downloads from Cascade over the plaintext handshake', { timeout: 60_000 }, async (t) => {
  const seed = await cascadeSeeder(t);
  const r = await ltDownloadFrom(t, seed, { out: LT.disabled, level: LEVEL.both });
  assert.deepEqual(r.enc, ['none']);
});

test("a Cascade seeder with encryption 'require' serves RC4 to libtorrent and refuses plaintext handshakes", { timeout: 60_000 }, async (t) => {
  const seed = await cascadeSeeder(t, 'require');
  const r = await ltDownloadFrom(t, seed, { out: LT.forced, level: LEVEL.both });
  assert.deepEqual(r.enc, ['rc4']);
  // A plaintext handshake for the same torrent is cut off without an answer.
  const got = await rawExchange(seed.session.port, encodeHandshake(seed.metainfo.infoHash, randomBytes(20), { extended: true, fast: true, dht: false }));
  assert.equal(got.length, 0);
});

// ---- Cascade as the MSE initiator ----

test("a Cascade leecher with encryption 'require' downloads from a libtorrent seeder that forces RC4", { timeout: 60_000 }, async (t) => {
  const root = await tmp(t);
  await fs.mkdir(path.join(root, 'seed'));
  const payload = randomBytes(654_321);
  await fs.writeFile(path.join(root, 'seed', 'data.bin'), payload);
  const { torrent } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength: 16 * 1024 });
  const torrentPath = path.join(root, 'data.torrent');
  await fs.writeFile(torrentPath, torrent);
  const lt = await runLt(t, root, ['seed', torrentPath, path.join(root, 'seed'), String(LT.forced), String(LT.forced), String(LEVEL.rc4), '0']);
  const { port } = await lt.waitFor('seeding', 30_000);

  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, encryption: 'require' });
  t.after(() => leecher.close());
  const started = Date.now();
  const h = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${port}`] });
  await done(h, 20_000);
  t.diagnostic(`download ${Date.now() - started} ms`);
  assertSameBytes(await fs.readFile(path.join(root, 'out', 'data.bin')), payload);
  assert.ok(lt.events.some((e) => e.event === 'peers' && e.enc.includes('rc4')), JSON.stringify(lt.events));
});

test("Cascade to Cascade with encryption 'require' on the leecher: RC4 both ways, multi-file, hash-matched", { timeout: 60_000 }, async (t) => {
  const root = await tmp(t);
  const src = path.join(root, 'seed', 'pack');
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(path.join(src, 'a.bin'), randomBytes(700_001));
  await fs.writeFile(path.join(src, 'b.bin'), randomBytes(300_003));
  const { torrent } = await createTorrent(src, { pieceLength: 16 * 1024 });
  const seeder = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, encryption: 'require' });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  await done(await seeder.add(torrent, { savePath: path.join(root, 'seed') }));
  const l = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
  await done(l);
  for (const f of ['a.bin', 'b.bin']) {
    assertSameBytes(await fs.readFile(path.join(root, 'out', 'pack', f)), await fs.readFile(path.join(src, f)));
  }
});

test('an MSE initiator offering plaintext gets the plaintext stream from Cascade (IA decrypted, rest clear)', { timeout: 30_000 }, async (t) => {
  const seed = await cascadeSeeder(t);
  const sock = net.connect({ host: '127.0.0.1', port: seed.session.port });
  await new Promise((r) => sock.once('connect', r));
  t.after(() => sock.destroy());
  const conn = encryptOutgoing(socketConnection(sock), { policy: 'prefer-plaintext' });
  const chunks: Buffer[] = [];
  conn.onData((c) => chunks.push(Buffer.from(c)));
  conn.onClose(() => {});
  conn.write(encodeHandshake(seed.metainfo.infoHash, randomBytes(20), { extended: false, fast: false, dht: false }));
  // Cascade's handshake (68 bytes) then its bitfield: readable as-is, so the stream is plaintext.
  const deadline = Date.now() + 5000;
  while (Buffer.concat(chunks).length < 68 + 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const got = Buffer.concat(chunks);
  assert.equal(got.subarray(0, 20).toString('latin1'), '\x13BitTorrent protocol');
  assert.deepEqual(new Uint8Array(got.subarray(28, 48)), seed.metainfo.infoHash);
});

// ---- hostile and broken handshakes ----

/** Connects, sends `data`, and collects whatever comes back until the other end closes. */
function rawExchange(port: number, data: Uint8Array, opts: { end?: boolean; ms?: number } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connection still open after ${opts.ms ?? 5000} ms (received ${Buffer.concat(got).length} bytes)`));
    }, opts.ms ?? 5000);
    sock.on('data', (d) => got.push(d));
    sock.on('error', () => {}); // a reset is one way of being closed
    sock.on('close', () => (clearTimeout(timer), resolve(Buffer.concat(got))));
    sock.write(data);
    if (opts.end) sock.end();
  });
}

/** A hand-rolled MSE step 1 + 3 so each field can be broken on purpose. */
function craftedStep3(yb: Uint8Array, dh: DhKey, opts: { infoHash: Uint8Array; vc?: Uint8Array; provide?: number; padC?: number }): Uint8Array {
  const s = dh.secret(yb)!;
  const keyA = new Rc4(sha1('keyA', s, opts.infoHash));
  keyA.discard(1024);
  const body = Buffer.alloc(8 + 4 + 2 + (opts.padC ?? 0) + 2);
  Buffer.from(opts.vc ?? new Uint8Array(8)).copy(body, 0);
  body.writeUInt32BE(opts.provide ?? 3, 8);
  body.writeUInt16BE(opts.padC ?? 0, 12);
  const req2 = sha1('req2', opts.infoHash);
  const req3 = sha1('req3', s);
  return Buffer.concat([sha1('req1', s), req2.map((b, i) => b ^ req3[i]!), keyA.process(new Uint8Array(body))]);
}

/** Runs steps 1–3 against `port` with the given fields. Resolves when the seeder closes the
 *  connection, or after `openMs` with it still open; `replied` says whether the bytes after Yb hold
 *  E_keyB(VC), i.e. the seeder accepted step 3. */
function craftedHandshake(port: number, fields: Parameters<typeof craftedStep3>[2], openMs = 1500): Promise<{ closed: boolean; replied: boolean }> {
  return new Promise((resolve) => {
    const dh = new DhKey();
    const sock = net.connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    let sent = false;
    const result = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      let replied = false;
      if (got.length >= 96) {
        const keyB = new Rc4(sha1('keyB', dh.secret(got.subarray(0, 96))!, fields.infoHash));
        keyB.discard(1024);
        replied = got.subarray(96).indexOf(keyB.process(new Uint8Array(8))) >= 0;
      }
      resolve({ closed, replied });
    };
    const timer = setTimeout(() => result(false), openMs);
    sock.on('error', () => {});
    sock.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (!sent && got.length >= 96) {
        sent = true;
        sock.write(craftedStep3(got.subarray(0, 96), dh, fields));
      }
    });
    sock.on('close', () => result(true));
    sock.write(Buffer.concat([dh.publicKey, randomBytes(17)]));
  });
}

test('garbage, degenerate, truncated and mismatched MSE handshakes close the connection; the seeder keeps serving', { timeout: 60_000 }, async (t) => {
  const seed = await cascadeSeeder(t);
  const port = seed.session.port;
  const ih = seed.metainfo.infoHash;

  // Random bytes: taken for Ya + PadA, answered with Yb + PadB, then no sync hash within 628 bytes.
  const garbage = await rawExchange(port, randomBytes(2000));
  assert.ok(garbage.length >= 96 && garbage.length <= 96 + 512, `got ${garbage.length} bytes`);
  // Ya = 0 or ≥ P would make the shared secret guessable: closed without a reply.
  assert.equal((await rawExchange(port, new Uint8Array(96))).length, 0);
  assert.equal((await rawExchange(port, new Uint8Array(96).fill(0xff))).length, 0);
  // Truncated: half a Ya, then EOF.
  assert.equal((await rawExchange(port, randomBytes(50), { end: true })).length, 0);
  // Truncated after Ya: Yb is sent, then EOF closes it.
  const dh = new DhKey();
  assert.ok((await rawExchange(port, Buffer.concat([dh.publicKey, randomBytes(10)]), { end: true })).length >= 96);
  // The crafted handshake is accepted when nothing is wrong with it (a control for the cases below).
  assert.deepEqual(await craftedHandshake(port, { infoHash: ih }), { closed: false, replied: true });
  const rejected = { closed: true, replied: false };
  // Well-formed but for a torrent the session does not have.
  assert.deepEqual(await craftedHandshake(port, { infoHash: randomBytes(20) }), rejected);
  // Right torrent, wrong verification constant.
  assert.deepEqual(await craftedHandshake(port, { infoHash: ih, vc: new Uint8Array(8).fill(1) }), rejected);
  // Offers no method Cascade knows; PadC longer than 512.
  assert.deepEqual(await craftedHandshake(port, { infoHash: ih, provide: 0x10 }), rejected);
  assert.deepEqual(await craftedHandshake(port, { infoHash: ih, padC: 600 }), rejected);

  // All of that cost only those connections: libtorrent still gets the data over MSE.
  assert.equal(seed.session.health().torrents, 1);
  const r = await ltDownloadFrom(t, seed, { out: LT.forced, level: LEVEL.both });
  assert.deepEqual(r.enc, ['plaintext']);
});

test('a stalled MSE handshake is closed at the deadline, with the reason', { timeout: 10_000 }, async (t) => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const closed = new Promise<{ err: Error | undefined; ms: number }>((resolve) => {
    server.once('connection', (sock) => {
      const started = Date.now();
      const conn: Connection = acceptMse(socketConnection(sock), { policy: 'prefer-plaintext', infoHashes: () => [], timeoutMs: 300 });
      conn.onData(() => assert.fail('no data may come through'));
      conn.onClose((err) => resolve({ err, ms: Date.now() - started }));
    });
  });
  const dh = new DhKey();
  const client = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  client.on('error', () => {});
  t.after(() => client.destroy());
  client.write(dh.publicKey); // Ya, then silence
  const { err, ms } = await closed;
  assert.match(err?.message ?? '', /timed out/);
  // Not before the deadline; how late after it depends on the machine's load (the test's own
  // timeout catches a handshake never closed).
  assert.ok(ms >= 250, `closed after ${ms} ms`);
});

test('a plaintext handshake arriving in pieces is passed through byte for byte', { timeout: 10_000 }, async (t) => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const hs = encodeHandshake(randomBytes(20), randomBytes(20), { extended: true, fast: true, dht: false });
  const extra = randomBytes(1000);
  const received = new Promise<Buffer>((resolve) => {
    server.once('connection', (sock) => {
      const conn = acceptMse(socketConnection(sock), { policy: 'prefer-plaintext', infoHashes: () => [] });
      const got: Buffer[] = [];
      conn.onData((c) => {
        got.push(Buffer.from(c));
        if (Buffer.concat(got).length >= hs.length + extra.length) {
          resolve(Buffer.concat(got));
          conn.close();
        }
      });
      conn.onClose(() => {});
    });
  });
  const client = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  client.on('error', () => {});
  t.after(() => client.destroy());
  client.setNoDelay(true);
  // 1, then 7, then the rest of the prefix: detection must wait for all 20 bytes.
  client.write(hs.subarray(0, 1));
  await new Promise((r) => setTimeout(r, 30));
  client.write(hs.subarray(1, 8));
  await new Promise((r) => setTimeout(r, 30));
  client.write(Buffer.concat([hs.subarray(8), extra]));
  assert.deepEqual(await received, Buffer.concat([hs, extra]));
});
