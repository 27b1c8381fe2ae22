// Issue 23, port mapping end to end: `cascade serve --port-mapping upnp|natpmp` in a home behind a
// NAT lab router running Debian's miniupnpd maps its BitTorrent port (and the DHT's UDP port), and
// python3-libtorrent on the public segment downloads a file from the router's WAN address and the
// mapped port; after SIGTERM the mappings are gone from the router. A router with no mapping service:
// /api/network's portMapping.error says so within 60 s.
// Everything runs in namespaces the lab builds (packages/reachability/lab): no packet reaches this
// machine's network. Needs root, miniupnpd and python3-libtorrent: fails (does not skip) without.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createNatLab, requireLabTools, type NatLab } from '@cascade/reachability/lab';

requireLabTools(['ip', 'iptables', 'nft', 'miniupnpd', '/usr/bin/python3']);
const MAIN = join(import.meta.dirname, '../src/main.ts');

/** The serve's environment: the machine's, less the guards that keep every other test's node from
 *  mapping (these nodes live inside the lab, where mapping is the point). */
function labEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CASCADE_HOME: '/nonexistent-cascade-home' };
  delete env.CASCADE_PORT_MAPPING;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

interface Serve { child: ChildProcess; events: Record<string, any>[]; stderr: () => string; event(pred: (e: Record<string, any>) => boolean, ms: number, what: string): Promise<Record<string, any>> }

function serveIn(lab: NatLab, ns: string, args: string[]): Serve {
  const child = lab.spawn(ns, process.execPath, [MAIN, 'serve', '--json', '--http-port', '0', '--tracker-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: labEnv() });
  const events: Record<string, any>[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith('{')) {
        try { events.push(JSON.parse(line)); } catch { /* not an event */ }
      }
      for (const w of waiters) w();
    }
  });
  const event = (pred: (e: Record<string, any>) => boolean, ms: number, what: string) => new Promise<Record<string, any>>((resolve, reject) => {
    const done = () => { clearTimeout(timer); waiters.delete(check); child.off('exit', onExit); };
    const check = () => { const hit = events.find(pred); if (hit) { done(); resolve(hit); } };
    const onExit = () => { done(); reject(new Error(`serve ended before ${what}: ${JSON.stringify(events.slice(-6))} ${err.slice(-2000)}`)); };
    const timer = setTimeout(() => { done(); reject(new Error(`no ${what} within ${ms} ms: ${JSON.stringify(events.slice(-6))} ${err.slice(-2000)}`)); }, ms);
    waiters.add(check);
    child.once('exit', onExit);
    check();
  });
  return { child, events, stderr: () => err, event };
}

async function cascadeIn(lab: NatLab, ns: string, args: string[]): Promise<Record<string, any>> {
  const r = await lab.exec(ns, process.execPath, [MAIN, ...args, '--json'], { timeoutMs: 60_000 });
  const last = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  return last ? JSON.parse(last) : {};
}

/** python3-libtorrent on the public segment: downloads `torrent` from host:port only; prints "done". */
const LT_DOWNLOAD = `
import sys, time, libtorrent as lt
torrent, save, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = lt.session({'listen_interfaces': '0.0.0.0:0', 'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False,
                'enable_natpmp': False, 'enable_incoming_utp': False, 'enable_outgoing_utp': False})
h = s.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save})
h.connect_peer((host, port))
end = time.time() + 40
while time.time() < end:
    st = h.status()
    if st.is_seeding:
        print('done', st.num_peers, flush=True); sys.exit(0)
    if int(time.time()) % 5 == 0: h.connect_peer((host, port))
    time.sleep(0.5)
print('timeout', h.status().progress, flush=True); sys.exit(1)
`;

for (const method of ['upnp', 'natpmp'] as const) {
  test(`serve --port-mapping ${method}: libtorrent outside the NAT downloads through the mapped port; a clean stop removes the mappings`, { timeout: 150_000 }, async (t) => {
    const lab = await createNatLab(t);
    const home = await lab.addHome({ nat: 'cone', upnp: method === 'upnp', natpmp: method === 'natpmp' });
    const work = mkdtempSync(join(tmpdir(), 'cascade-pm-lab-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const data = join(work, 'seed');
    mkdirSync(data);
    const payload = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(data, 'file.bin'), payload);
    const torrent = join(work, 'file.torrent');
    await lab.exec(home.ns, process.execPath, [MAIN, 'create', join(data, 'file.bin'), '-o', torrent, '--piece-length', '262144']);

    // NAT-PMP also gets the DHT (bootstrapping from a lab address where nothing answers): its UDP
    // port is mapped too.
    const dht = method === 'natpmp' ? ['--dht-bootstrap', '198.18.0.1:6881'] : ['--no-dht'];
    const serve = serveIn(lab, home.ns, ['--state-dir', join(work, 'state'), '--port', '0', ...dht, '--port-mapping', method]);
    const listening = await serve.event((e) => e.event === 'listening', 60_000, 'listening');
    const btPort = listening.bittorrentPort as number;
    // A first round can miss on a loaded host (SSDP answer or IGD description late): the mapper's early
    // retries (5 s, then 15 s) still land well within this window.
    const mapped = await serve.event((e) => e.event === 'portMapping' && e.externalPort !== null, 45_000, 'a port mapping');
    assert.equal(mapped.method, method);
    assert.equal(mapped.externalPort, btPort, 'miniupnpd grants the port asked for');
    assert.equal(mapped.externalAddress, home.wanAddress);
    const rules = await home.mappings();
    assert.ok(rules.some((r) => r.protocol === 'tcp' && r.externalPort === mapped.externalPort && r.internalAddress === home.lanAddress && r.internalPort === btPort), `TCP mapping on the router: ${JSON.stringify(rules)}`);
    if (method === 'natpmp') {
      const dhtPort = serve.events.find((e) => e.event === 'dht')?.port as number;
      assert.ok(dhtPort > 0);
      assert.ok(rules.some((r) => r.protocol === 'udp' && r.internalPort === dhtPort), `the DHT's UDP port mapped too: ${JSON.stringify(rules)}`);
    }

    await cascadeIn(lab, home.ns, ['add', torrent, '--save-path', data, '--state-dir', join(work, 'state')]);
    const got = join(work, 'lt');
    mkdirSync(got);
    const lt = await lab.exec(lab.public.ns, '/usr/bin/python3', ['-c', LT_DOWNLOAD, torrent, got, home.wanAddress, String(mapped.externalPort)], { allowFail: true, timeoutMs: 60_000 });
    assert.match(lt.stdout, /^done/, `libtorrent downloaded through ${home.wanAddress}:${mapped.externalPort}: ${lt.stdout} ${lt.stderr.slice(-1500)}`);
    assert.ok(readFileSync(join(got, 'file.bin')).equals(payload), 'the same bytes');

    serve.child.kill('SIGTERM');
    const [code] = await once(serve.child, 'exit');
    assert.equal(code, 0, serve.stderr().slice(-2000));
    assert.deepEqual(await home.mappings(), [], 'a clean stop removes the mappings from the router');
  });
}

test('serve with port mapping on, behind a router that offers none: /api/network gives the reason within 60 s', { timeout: 90_000 }, async (t) => {
  const lab = await createNatLab(t);
  const home = await lab.addHome({ nat: 'cone' });
  const work = mkdtempSync(join(tmpdir(), 'cascade-pm-lab-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const state = join(work, 'state');
  const started = Date.now();
  const serve = serveIn(lab, home.ns, ['--state-dir', state, '--port', '0', '--no-dht']); // the default: auto
  const listening = await serve.event((e) => e.event === 'listening', 60_000, 'listening');
  await serve.event((e) => e.event === 'portMapping' && typeof e.error === 'string', 60_000, 'a port mapping error');
  const token = (await cascadeIn(lab, home.ns, ['token', '--state-dir', state])).token as string;
  const r = await lab.exec(home.ns, process.execPath, ['-e', `fetch(${JSON.stringify(`${listening.url}/api/network`)}, { headers: { authorization: 'Bearer ${token}' } }).then((r) => r.text()).then((b) => console.log(b))`]);
  const network = JSON.parse(r.stdout) as { portMapping: { method: string | null; externalPort: number | null; error: string | null } };
  const took = Date.now() - started;
  assert.equal(network.portMapping.method, null);
  assert.equal(network.portMapping.externalPort, null);
  assert.match(network.portMapping.error ?? '', /no gateway offered a port mapping by UPnP or NAT-PMP/);
  assert.ok(took < 60_000, `reported within 60 s of the start (${took} ms)`);
  serve.child.kill('SIGTERM');
  await once(serve.child, 'exit');
});

test('the external port, not the listen port, is announced: a gateway that maps another port still gets libtorrent to the node through the tracker', { timeout: 90_000 }, async (t) => {
  const lab = await createNatLab(t);
  const home = await lab.addHome({ nat: 'cone', upnp: true });
  const work = mkdtempSync(join(tmpdir(), 'cascade-pm-lab-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  // The listen port's number is taken on the router already, by another host of the home (10.0.1.3:
  // miniupnpd's secure mode lets a host map only to itself, so its request must come from there), and
  // miniupnpd's AddAnyPortMapping hands the node another external port.
  const listen = 17000;
  await lab.exec(home.ns, 'ip', ['addr', 'add', '10.0.1.3/24', 'dev', 'eth0']);
  await lab.exec(home.ns, 'ip', ['route', 'add', `${home.gateway}/32`, 'dev', 'eth0', 'src', '10.0.1.3']);
  await lab.exec(home.ns, 'upnpc', ['-u', home.upnpUrl!, '-e', 'another host', '-a', '10.0.1.3', '17999', String(listen), 'TCP', '3600']);
  await lab.exec(home.ns, 'ip', ['route', 'del', `${home.gateway}/32`]);
  assert.deepEqual((await home.mappings()).map((r) => `${r.externalPort}->${r.internalAddress}`), [`${listen}->10.0.1.3`]);

  const tracker = lab.spawn(lab.public.ns, process.execPath, [MAIN, 'tracker', '--host', '198.18.0.1', '--http-port', '6969', '--udp-port', '0', '--interval', '30', '--json'], { stdio: ['ignore', 'pipe', 'inherit'], env: labEnv() });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    tracker.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; if (/"listening"/.test(out)) resolve(); });
    tracker.once('exit', (code) => reject(new Error(`tracker exited ${code}: ${out}`)));
  });

  const data = join(work, 'seed');
  mkdirSync(data);
  const payload = randomBytes(2 * 1024 * 1024 + 5);
  writeFileSync(join(data, 'file.bin'), payload);
  const torrent = join(work, 'file.torrent');
  await lab.exec(home.ns, process.execPath, [MAIN, 'create', join(data, 'file.bin'), '-o', torrent, '--piece-length', '262144', '--announce', 'http://198.18.0.1:6969/announce']);

  const state = join(work, 'state');
  const serve = serveIn(lab, home.ns, ['--state-dir', state, '--port', String(listen), '--no-dht', '--port-mapping', 'upnp']);
  const mapped = await serve.event((e) => e.event === 'portMapping' && e.externalPort !== null, 30_000, 'a port mapping');
  assert.notEqual(mapped.externalPort, listen, 'the gateway mapped another external port');
  await cascadeIn(lab, home.ns, ['add', torrent, '--save-path', data, '--state-dir', state]);

  // libtorrent is given no peer: only what the tracker heard from the node can lead it there.
  const got = join(work, 'lt');
  mkdirSync(got);
  const viaTracker = LT_DOWNLOAD.replace(/h\.connect_peer\(\(host, port\)\)/g, 'pass');
  const lt = await lab.exec(lab.public.ns, '/usr/bin/python3', ['-c', viaTracker, torrent, got, home.wanAddress, '0'], { allowFail: true, timeoutMs: 60_000 });
  assert.match(lt.stdout, /^done/, `libtorrent found the node through the tracker at ${home.wanAddress}:${mapped.externalPort}: ${lt.stdout} ${lt.stderr.slice(-1500)}`);
  assert.ok(readFileSync(join(got, 'file.bin')).equals(payload));
  serve.child.kill('SIGTERM');
  await once(serve.child, 'exit');
  assert.deepEqual((await home.mappings()).map((r) => r.internalAddress), ['10.0.1.3'], 'a clean stop removes the node\'s mapping, and only that');
});
