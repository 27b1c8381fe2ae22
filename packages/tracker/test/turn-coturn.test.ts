// The TURN credentials a tracker hands out (issue 23) work with a real coturn configured with
// `use-auth-secret` and the same secret: two WebRTC peers (node-datachannel) allowed relay
// candidates only exchange a message through it. Credentials minted from a wrong secret, or expired
// ones, are refused by coturn (401 in its log) and the peers never connect.
// Needs Debian's `coturn` (turnserver), which `npm test` installs (scripts/system-packages.ts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { cleanup as stopDataChannels } from 'node-datachannel';
import { mintTurnCredentials } from '@cascade/reachability';
import { spawnTracker } from './helpers.ts';

// libdatachannel keeps threads alive until told: without this the test process never exits.
after(() => stopDataChannels());

const TURN_HOST = '127.0.0.61';
const SECRET = 'coturn-shared-secret-for-tests';

interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** A free UDP port on `host`, found by binding to port 0 (coturn takes it right after). */
async function freeUdpPort(host: string): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.bind(0, host);
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Coturn {
  port: number;
  log: () => string;
  stop(): Promise<void>;
}

async function startCoturn(): Promise<Coturn> {
  const port = await freeUdpPort(TURN_HOST);
  // Its pid file and user database in a directory of its own, not /var/run and /var/lib/turn.
  const dir = mkdtempSync(path.join(tmpdir(), 'coturn-'));
  const args = [
    '-n', // no turnserver.conf: only these flags count
    '--use-auth-secret', '--static-auth-secret', SECRET, '--realm', 'cascade',
    '--listening-ip', TURN_HOST, '--relay-ip', TURN_HOST, '--listening-port', String(port),
    '--min-port', '49152', '--max-port', '65535',
    '--no-tls', '--no-dtls', '--no-cli', '--no-tcp-relay',
    // Both peers' relay addresses are on loopback: coturn refuses such peers unless told.
    '--allow-loopback-peers',
    '--pidfile', path.join(dir, 'turnserver.pid'), '--db', path.join(dir, 'turndb'),
    '--log-file', 'stdout', '--simple-log', '--verbose',
  ];
  const child = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += String(d)));
  child.stderr.on('data', (d) => (log += String(d)));
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot run turnserver (apt-get install coturn): ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`turnserver exited with ${code}: ${log}`)));
    const check = () => (/Total General servers/.test(log) ? resolve() : undefined);
    child.stdout.on('data', check);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await ready.finally(() => clearTimeout(timer));
  return {
    port,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * libdatachannel takes TURN credentials inside a URL (turn:user:pass@host:port), which the
 * polyfill builds unescaped; coturn's user names contain ':' and base64 has '/', '+', '='. So they
 * go percent-encoded, which libdatachannel decodes.
 */
function forLibdatachannel(servers: IceServer[]): IceServer[] {
  return servers.map((s) => (s.username && s.credential ? { ...s, username: encodeURIComponent(s.username), credential: encodeURIComponent(s.credential) } : s));
}

interface Outcome {
  opened: boolean;
  echoed?: string;
  local?: string;
  remote?: string;
}

/** Two peers, relay candidates only, one data channel: does a message go there and back? */
async function relayedExchange(iceServers: IceServer[], timeoutMs: number): Promise<Outcome> {
  const config = { iceServers: forLibdatachannel(iceServers), iceTransportPolicy: 'relay' as const };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  try {
    a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate).catch(() => {}));
    b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate).catch(() => {}));
    b.ondatachannel = (e) => (e.channel.onmessage = (m) => e.channel.send(`echo ${String(m.data)}`));
    const dc = a.createDataChannel('probe');
    const echoed = new Promise<string>((resolve) => {
      dc.onopen = () => dc.send('hello through the relay');
      dc.onmessage = (m) => resolve(String(m.data));
    });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    let wake = () => {};
    const timedOut = new Promise<undefined>((r) => (wake = () => r(undefined)));
    // Cleared after: a pending timer would keep the test process alive for its whole length.
    const timer = setTimeout(() => wake(), timeoutMs);
    const got = await Promise.race([echoed, timedOut]);
    clearTimeout(timer);
    if (got === undefined) return { opened: false };
    const pair = a.selectedCandidatePair();
    return { opened: true, echoed: got, local: pair?.local.type, remote: pair?.remote.type };
  } finally {
    a.close();
    b.close();
  }
}

test('credentials from `cascade tracker --turn-url … --turn-secret …` relay a data channel through coturn; wrong or expired ones are refused', async (t) => {
  const coturn = await startCoturn();
  t.after(() => coturn.stop());
  const turnUrl = `turn:${TURN_HOST}:${coturn.port}`;
  const tracker = await spawnTracker(['--host', '127.0.0.62', '--http-port', '0', '--udp-port', '0', '--turn-url', turnUrl, '--turn-secret', SECRET, '--turn-ttl', '600']);
  t.after(() => tracker.stop());

  const res = await fetch(tracker.listening.stats.replace(/\/stats$/, '/ice-servers'));
  const { iceServers, ttl } = (await res.json()) as { iceServers: IceServer[]; ttl: number };
  assert.equal(ttl, 600);
  assert.equal(iceServers.length, 2);
  const turn = iceServers[1]!;
  assert.deepEqual(turn.urls, [turnUrl]);

  const ok = await relayedExchange([turn], 15_000);
  assert.ok(ok.opened, `the data channel opened through coturn; coturn said:\n${coturn.log().slice(-3000)}`);
  assert.equal(ok.echoed, 'echo hello through the relay');
  assert.equal(ok.local, 'relay', 'the selected local candidate is a relay one');
  assert.equal(ok.remote, 'relay');
  assert.match(coturn.log(), new RegExp(`user <${turn.username!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}>`), 'coturn saw the minted user');

  // The same scheme with another secret: coturn's HMAC check fails.
  const forged = mintTurnCredentials('not-the-secret', 600, 'forger');
  const wrong = await relayedExchange([{ urls: [turnUrl], ...forged }], 4000);
  assert.equal(wrong.opened, false, 'a credential from the wrong secret relays nothing');
  // An expired credential: minted an hour ago, for ten minutes.
  const stale = mintTurnCredentials(SECRET, 600, 'late', Date.now() - 3600_000);
  const expired = await relayedExchange([{ urls: [turnUrl], ...stale }], 4000);
  assert.equal(expired.opened, false, 'an expired credential relays nothing');

  // coturn's own word: both were answered 401, and neither got an allocation.
  const log = coturn.log();
  for (const u of [forged.username, stale.username]) {
    const lines = log.split('\n').filter((l) => l.includes(`user <${u}>`));
    assert.ok(lines.some((l) => /error 401/.test(l)), `coturn answered 401 to ${u}:\n${lines.join('\n') || log.slice(-2000)}`);
    assert.ok(!lines.some((l) => /ALLOCATE processed, success/.test(l)), `no allocation for ${u}`);
  }
});
