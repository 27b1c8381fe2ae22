// What an observer of a private share (issue 24) can learn. A shares a folder for B; B and C (another
// identity) download it through a standalone tracker that keeps its swarms in a real Redis. The
// share's real name, its files' names and a 64-byte marker from its content must appear nowhere in a
// packet capture of all loopback traffic but the nodes' own APIs (BitTorrent, trackers, WebRTC), in the
// tracker's Redis state, or in C's state and download folders. C's API says why it cannot read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startServe, until, type ServeNode } from '../../packages/cli/test/node-process.ts';
import { tempDir } from '../../packages/cli/test/helpers.ts';
import { spawnTracker, startRedis } from '../../packages/tracker/test/helpers.ts';

const NAME = 'Quarterly Board Minutes';
const FILES = ['minutes-final.odt', 'budget-draft.xlsx'];
const MARKER = Buffer.from('board-minutes-secret-marker:'.padEnd(64, '#'));

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

function secretsIn(bytes: Buffer): string[] {
  const found: string[] = [];
  if (bytes.indexOf(MARKER) >= 0) found.push('the marker');
  for (const s of [NAME, ...FILES]) if (bytes.indexOf(s) >= 0 || bytes.indexOf(encodeURIComponent(s)) >= 0) found.push(`"${s}"`);
  return found;
}

/** Every key of the Redis database and every value under it, as redis-cli prints them. */
function redisDump(port: number): Buffer {
  const cli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(port), '--raw', ...args]).stdout as Buffer;
  const keys = cli('--scan').toString().split('\n').filter((k) => k !== '');
  const parts: Buffer[] = [];
  for (const key of keys) {
    const type = cli('TYPE', key).toString().trim();
    const read: Record<string, string[]> = {
      string: ['GET', key], hash: ['HGETALL', key], set: ['SMEMBERS', key], zset: ['ZRANGE', key, '0', '-1', 'WITHSCORES'], list: ['LRANGE', key, '0', '-1'],
    };
    parts.push(Buffer.from(`${key}\n`), read[type] ? cli(...read[type]!) : Buffer.alloc(0));
  }
  return Buffer.concat(parts);
}

/**
 * Captures everything on loopback but the nodes' own HTTP APIs (where the test itself reads B's
 * plaintext names): TCP and uTP between the nodes, the trackers, and the WebRTC data channels nodes
 * open to each other after signalling through a WebSocket tracker (on ports nobody chose).
 */
async function startCapture(t: { after: (fn: () => unknown) => void }, file: string, apiPorts: number[]) {
  const filter = `not (${apiPorts.map((p) => `port ${p}`).join(' or ')})`;
  // -B: a 64 MiB kernel buffer, so a loaded machine drops no packet of the transfers (2 MiB did).
  const child = spawn('tcpdump', ['-Z', 'root', '-i', 'lo', '-U', '-n', '-s', '0', '-B', '65536', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => void child.kill('SIGKILL'));
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (/listening on lo/.test(err)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
  /** Stops the capture; resolves to what tcpdump said of it (packets captured, dropped by the kernel). */
  return async () => {
    // Packets the kernel already handed to tcpdump's buffer but tcpdump has not written yet are lost
    // at SIGINT ("received by filter" above "captured"; the capture once came up 2% short): stop
    // only once the file has stopped growing, however long a busy machine takes to drain it.
    let last = -1;
    let steady = 0;
    for (const end = Date.now() + 30_000; steady < 3 && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 300));
      const size = existsSync(file) ? statSync(file).size : 0;
      steady = size === last ? steady + 1 : 0;
      last = size;
    }
    child.kill('SIGINT');
    await once(child, 'exit');
    return err.split('\n').filter((l) => /packets/.test(l)).join('; ');
  };
}

test('a private share leaks no name or content to the wire, the tracker or a node it is not for', { timeout: 180_000 }, async (t) => {
  const root = tempDir(t);
  const redis = await startRedis();
  t.after(() => redis.stop());
  const tracker = await spawnTracker(['--http-port', '0', '--udp-port', '0', '--host', '127.0.0.1', '--redis', redis.url]);
  t.after(() => tracker.stop());
  const announce = tracker.listening.http;
  const serve = (who: string) => startServe(t, { args: ['--download-dir', join(root, `${who}-dl`), '--tracker', announce] });
  const [a, b, c] = await Promise.all([serve('a'), serve('b'), serve('c')]);
  const pcap = join(root, 'swarm.pcap');
  const stopCapture = await startCapture(t, pcap, [a, b, c].map((n: ServeNode) => Number(new URL(n.url).port)));

  const bDid = JSON.parse((await b.run(['identity', '--json'])).stdout).did as string;
  const content = randomBytes(1_200_000);
  MARKER.copy(content, 700_000);
  const form = new FormData();
  form.append('recipients', bDid);
  form.append('files', new Blob([new Uint8Array(content)]), `${NAME}/${FILES[0]}`);
  form.append('files', new Blob([new Uint8Array(MARKER)]), `${NAME}/${FILES[1]}`);
  const res = await a.api('/api/torrents', { method: 'POST', body: form });
  const share = (await res.json()) as { infoHash: string; magnet: string; name: string };
  assert.equal(res.status, 201, JSON.stringify(share));
  assert.deepEqual(secretsIn(Buffer.from(share.magnet)), []);

  // B and C have the magnet only: they find A through the trackers.
  for (const n of [b, c]) {
    const r = await n.api('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: share.magnet }) });
    assert.equal(r.status, 201);
  }
  const detail = async (n: ServeNode) => (await (await n.api(`/api/torrents/${share.infoHash}`)).json()) as Record<string, any>;
  await until('B to read the share', async () => ((await detail(b)).files?.every((f: { progress: number }) => f.progress === 1) && (await detail(b)).files.length === 2 ? true : undefined), 90_000);
  await until('C to hold the whole ciphertext', async () => ((await detail(c)).progress === 1 ? true : undefined), 90_000);
  const captureStats = await stopCapture();

  // B read it; C was told plainly why it cannot.
  assert.ok(readFileSync(join(root, 'b-dl', NAME, FILES[0]!)).equals(content));
  const cView = await detail(c);
  assert.equal(cView.encrypted, true);
  assert.equal(cView.decryptable, false);
  assert.match(cView.error, /encrypted for other people/);
  assert.deepEqual(secretsIn(Buffer.from(JSON.stringify(cView))), []);

  // The wire: the whole transfer was captured (two downloads of the ciphertext), and none of it tells.
  const captured = readFileSync(pcap);
  const cipherLength = statSync(join(root, 'a-dl', share.name)).size;
  assert.ok(captured.length > 2 * cipherLength, `the capture holds both transfers (${captured.length} bytes for 2 × ${cipherLength}; tcpdump: ${captureStats})`);
  assert.deepEqual(secretsIn(captured), [], 'in the packet capture');

  // The tracker's Redis state knows the swarm, and nothing else.
  const state = redisDump(Number(new URL(redis.url).port));
  assert.ok(state.length > 0, 'the tracker kept its swarms in Redis');
  assert.ok(state.includes(share.infoHash) || state.includes(Buffer.from(share.infoHash, 'hex')), 'the swarm is in Redis');
  assert.deepEqual(secretsIn(state), [], 'in the tracker’s Redis state');

  // C's folders: the ciphertext and its state, nothing readable.
  for (const file of [...filesUnder(join(root, 'c-dl')), ...filesUnder(c.stateDir)]) {
    assert.deepEqual(secretsIn(Buffer.from(file)), [], `a path: ${file}`);
    assert.deepEqual(secretsIn(readFileSync(file)), [], `in ${file}`);
  }
});
