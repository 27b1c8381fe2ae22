// startPortMapping against Debian's miniupnpd on a NAT lab router (lab/nat-lab.ts): UPnP IGD and
// NAT-PMP mappings that a host on the public segment connects through, renewed before the lease
// ends, gone after stop(); a router with no mapping service gives the reason within seconds.
// Needs root and the lab's tools: fails (does not skip) without them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { createNatLab, requireLabTools, type Home, type NatLab } from '../lab/nat-lab.ts';
import type { PortMappingStatus } from '../index.ts';

requireLabTools(['ip', 'iptables', 'nft', 'miniupnpd']);
const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'map-port.ts');

interface Mapper { child: ChildProcess; lines: Record<string, unknown>[]; next(pred: (s: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>> }

function startMapper(lab: NatLab, home: Home, args: string[]): Mapper {
  const child = lab.spawn(home.ns, process.execPath, [FIXTURE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  const next = (pred: (s: Record<string, unknown>) => boolean, ms = 20_000) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no such status in ${ms} ms; saw ${JSON.stringify(lines)}`)), ms);
    const look = () => {
      const hit = lines.find(pred);
      if (hit) { clearTimeout(timer); resolve(hit); } else waiters.push(look);
    };
    look();
  });
  return { child, lines, next };
}

async function stopMapper(m: Mapper) {
  const exited = new Promise((r) => m.child.once('exit', r));
  m.child.kill('SIGTERM');
  await m.next((s) => s.stopped === true, 15_000);
  await exited;
}

/** Connects from the public segment to host:port over TCP and returns what it says. */
async function tcpFromPublic(lab: NatLab, host: string, port: number): Promise<string> {
  const r = await lab.exec(lab.public.ns, process.execPath, ['-e', `require('node:net').connect(${port},'${host}').on('data',(d)=>{process.stdout.write(String(d));process.exit(0)}).on('error',(e)=>{process.stdout.write('error '+e.code);process.exit(0)}).setTimeout(3000,()=>{process.stdout.write('timeout');process.exit(0)})`]);
  return r.stdout;
}

async function udpFromPublic(lab: NatLab, host: string, port: number): Promise<string> {
  const r = await lab.exec(lab.public.ns, process.execPath, ['-e', `const s=require('node:dgram').createSocket('udp4');s.on('message',(m)=>{process.stdout.write(String(m));process.exit(0)});s.send('hi',${port},'${host}');setTimeout(()=>{process.stdout.write('timeout');process.exit(0)},3000)`]);
  return r.stdout;
}

for (const method of ['upnp', 'natpmp', 'pcp'] as const) {
  test(`${method}: TCP and UDP mapped on the router, reachable from the public segment, removed on stop`, async (t) => {
    const lab = await createNatLab(t);
    // miniupnpd answers NAT-PMP and PCP on one port when enable_natpmp is on.
    const home = await lab.addHome({ nat: 'cone', upnp: method === 'upnp', natpmp: method !== 'upnp' });
    const before = await tcpFromPublic(lab, home.wanAddress, 16881);
    assert.notEqual(before, 'hello from 16881', 'nothing reaches the home before a mapping exists');
    const m = startMapper(lab, home, [method, '16881', '16882']);
    const s = await m.next((x) => x.ready === true) as unknown as PortMappingStatus;
    assert.equal(s.method, method);
    assert.equal(s.error, null);
    assert.equal(s.externalPort, 16881);
    assert.equal(s.externalUdpPort, 16882);
    assert.equal(s.externalAddress, home.wanAddress);
    assert.deepEqual((await home.mappings()).sort((a, b) => a.externalPort - b.externalPort), [
      { protocol: 'tcp', externalPort: 16881, internalAddress: home.lanAddress, internalPort: 16881 },
      { protocol: 'udp', externalPort: 16882, internalAddress: home.lanAddress, internalPort: 16882 },
    ]);
    assert.equal(await tcpFromPublic(lab, home.wanAddress, s.externalPort!), 'hello from 16881');
    assert.equal(await udpFromPublic(lab, home.wanAddress, s.externalUdpPort!), 'hello from 16882');
    await stopMapper(m);
    assert.deepEqual(await home.mappings(), [], 'a clean stop removes both mappings');
    assert.notEqual(await tcpFromPublic(lab, home.wanAddress, 16881), 'hello from 16881');
  });
}

for (const [method, logged] of [['natpmp', /NAT-PMP port mapping request/gi], ['pcp', /PCP request received/gi]] as const) {
  test(`${method}: a short lease is renewed before it ends (the mapping outlives three leases)`, async (t) => {
    const lab = await createNatLab(t);
    const home = await lab.addHome({ nat: 'cone', natpmp: true });
    const m = startMapper(lab, home, [method, '16881', '16882', '3']);
    await m.next((x) => x.ready === true && x.method === method);
    const requests = () => (home.miniupnpdLog().match(logged) ?? []).length;
    const first = requests();
    await new Promise((r) => setTimeout(r, 9_500));
    assert.ok(requests() >= first + 4, `renewals were sent (${first} requests at first, ${requests()} after 9.5 s): ${home.miniupnpdLog().slice(-1500)}`);
    assert.equal((await home.mappings()).length, 2, 'both mappings still there');
    assert.equal(await tcpFromPublic(lab, home.wanAddress, 16881), 'hello from 16881');
    await stopMapper(m);
    assert.deepEqual(await home.mappings(), []);
  });
}

test('auto: a router with no mapping service gives the reason within seconds; one with NAT-PMP/PCP (no UPnP) is used by PCP', async (t) => {
  const lab = await createNatLab(t);
  const bare = await lab.addHome({ nat: 'cone' });
  const started = Date.now();
  const m = startMapper(lab, bare, ['auto', '16881', '16882']);
  const s = await m.next((x) => x.ready === true, 60_000) as unknown as PortMappingStatus;
  const took = Date.now() - started;
  assert.equal(s.method, null);
  assert.equal(s.externalPort, null);
  assert.match(s.error ?? '', /no gateway offered a port mapping by UPnP or NAT-PMP/);
  assert.match(s.error ?? '', /SSDP/);
  assert.match(s.error ?? '', /10\.0\.1\.1:5351/);
  assert.ok(took < 60_000, `error within 60 s (took ${took} ms)`);
  await stopMapper(m);

  const pmpOnly = await lab.addHome({ nat: 'cone', natpmp: true });
  const m2 = startMapper(lab, pmpOnly, ['auto', '16881', '16882']);
  const s2 = await m2.next((x) => x.ready === true) as unknown as PortMappingStatus;
  assert.equal(s2.method, 'pcp');
  assert.equal(s2.externalPort, 16881);
  await stopMapper(m2);
  assert.deepEqual(await pmpOnly.mappings(), []);
});

/** tcpdump inside a namespace; `stop()` returns the packets it printed (one line each). */
async function capture(lab: NatLab, ns: string, iface: string, filter: string): Promise<{ stop(): Promise<string[]> }> {
  const child = lab.spawn(ns, 'tcpdump', ['-i', iface, '-n', '-l', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise<void>((resolve) => child.stderr!.setEncoding('utf8').on('data', (c: string) => /listening on/.test(c) && resolve()));
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 300)); // let the last packets print
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      return out.split('\n').filter(Boolean);
    },
  };
}

test('several interfaces (LAN and a VPN): only the default route\'s is used — SSDP leaves by it alone, the mapping names its address', async (t) => {
  requireLabTools(['tcpdump']);
  const lab = await createNatLab(t);
  const home = await lab.addHome({ nat: 'cone', upnp: true });
  // A second interface with an address of its own and no default route: a veth whose other end
  // stays in the home (the kernel here has no dummy devices).
  await lab.exec(home.ns, 'ip', ['link', 'add', 'vpn0', 'type', 'veth', 'peer', 'name', 'vpn1']);
  await lab.exec(home.ns, 'ip', ['addr', 'add', '172.16.9.2/24', 'dev', 'vpn0']);
  await lab.exec(home.ns, 'ip', ['link', 'set', 'vpn1', 'up']);
  await lab.exec(home.ns, 'ip', ['link', 'set', 'vpn0', 'up']);
  const onVpn = await capture(lab, home.ns, 'vpn0', 'udp port 1900');
  const onLan = await capture(lab, home.ns, 'eth0', 'udp port 1900 and dst host 239.255.255.250');
  const m = startMapper(lab, home, ['upnp', '16881', '16882']);
  const s = await m.next((x) => x.ready === true) as unknown as PortMappingStatus;
  assert.equal(s.method, 'upnp');
  assert.ok((await home.mappings()).every((r) => r.internalAddress === home.lanAddress), 'mapped to the LAN address');
  await stopMapper(m);
  const vpn = await onVpn.stop();
  const lan = await onLan.stop();
  assert.ok(lan.length > 0, 'the M-SEARCH went out of the LAN interface');
  assert.deepEqual(vpn, [], 'nothing went out of the VPN interface');
});
