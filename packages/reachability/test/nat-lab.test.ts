// The NAT lab itself (lab/nat-lab.ts): what its NATs do, seen from the public side. Needs root and
// iproute2/iptables/nftables/miniupnpd: it fails (does not skip) without them, since `npm test` runs
// as root and installs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNatLab, requireLabTools, type NatLab } from '../lab/nat-lab.ts';

requireLabTools(['ip', 'iptables', 'nft', 'miniupnpd', 'upnpc']);

/** Sends one datagram from `ns` to host:port from a fresh socket and returns what the echo server saw. */
async function askEcho(lab: NatLab, ns: string, targets: { host: string; port: number }[]): Promise<string[]> {
  // One socket for all targets: symmetric vs cone is about the same local port going to several places.
  const code = `
    const s = require('node:dgram').createSocket('udp4');
    const targets = ${JSON.stringify(targets)};
    const got = new Array(targets.length);
    let left = targets.length;
    s.on('message', (m, r) => { const i = targets.findIndex((t) => t.host === r.address && t.port === r.port); if (i >= 0 && got[i] === undefined) { got[i] = String(m); if (--left === 0) { console.log(JSON.stringify(got)); process.exit(0); } } });
    s.bind(0, () => { const send = () => targets.forEach((t, i) => got[i] === undefined && s.send('hi', t.port, t.host)); send(); setInterval(send, 300); });
    setTimeout(() => { console.log(JSON.stringify(got)); process.exit(1); }, 5000);`;
  const r = await lab.exec(ns, process.execPath, ['-e', code], { allowFail: true });
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
}

test('a home behind a cone NAT reaches a public UDP server, which sees the router WAN address and one port for two destinations', async (t) => {
  const lab = await createNatLab(t);
  const a = await lab.publicHost(0);
  const b = await lab.publicHost(1);
  await lab.udpEcho(a, 7000);
  await lab.udpEcho(b, 7000);
  const home = await lab.addHome({ nat: 'cone' });
  assert.equal(home.lanAddress, '10.0.1.2');
  const seen = await askEcho(lab, home.ns, [{ host: a, port: 7000 }, { host: b, port: 7000 }]);
  assert.equal(seen.length, 2);
  const [first, second] = seen.map((s) => s.split(':'));
  assert.equal(first![0], home.wanAddress, 'the server sees the router, not the home');
  assert.equal(second![0], home.wanAddress);
  assert.equal(first![1], second![1], 'endpoint-independent mapping: the same external port for both servers');
});

test('a symmetric NAT gives different source ports to two public destinations', async (t) => {
  const lab = await createNatLab(t);
  const a = await lab.publicHost(0);
  const b = await lab.publicHost(1);
  await lab.udpEcho(a, 7000);
  await lab.udpEcho(b, 7000);
  const home = await lab.addHome({ nat: 'symmetric' });
  const seen = await askEcho(lab, home.ns, [{ host: a, port: 7000 }, { host: b, port: 7000 }]);
  const [first, second] = seen.map((s) => s.split(':'));
  assert.equal(first![0], home.wanAddress);
  assert.equal(second![0], home.wanAddress);
  assert.notEqual(first![1], second![1], 'a new mapping per destination');
});

test('an open host is on the public segment with its own address; a second home cannot reach the first home\'s LAN', async (t) => {
  const lab = await createNatLab(t);
  const one = await lab.addHome({ nat: 'cone' });
  const two = await lab.addHome({ nat: 'cone' });
  const open = await lab.addHome({ nat: 'none' });
  assert.equal(open.lanAddress, open.wanAddress);
  // The open host answers echo from inside its own namespace: start a server there by hand.
  const echo = lab.spawn(open.ns, process.execPath, ['-e', `const s=require('node:dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(r.address+':'+r.port,r.port,r.address));s.bind(7001,()=>console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => echo.stdout!.once('data', () => r()));
  const fromHome = await askEcho(lab, one.ns, [{ host: open.wanAddress, port: 7001 }]);
  assert.equal(fromHome[0]!.split(':')[0], one.wanAddress, 'the open host sees home one through its router');
  // Home two sends to home one's LAN address: its router has no route there (only to the public /24).
  const across = await askEcho(lab, two.ns, [{ host: one.lanAddress, port: 7001 }]);
  assert.equal(across[0], null, 'nothing came back from another home\'s LAN address');
  const ping = await lab.exec(two.ns, process.execPath, ['-e', `require('node:net').connect(7001,'${one.lanAddress}').on('error',e=>{console.log(e.code);process.exit(0)}).setTimeout(1500,()=>{console.log('timeout');process.exit(0)})`]);
  assert.match(ping.stdout, /EHOSTUNREACH|ENETUNREACH|timeout|ECONNREFUSED/);
  assert.doesNotMatch(ping.stdout, /ECONNREFUSED/, 'no host on another home\'s LAN answered');
});

test('miniupnpd on a router (UPnP and NAT-PMP) is up, STUN-checked, and its mappings are listed', async (t) => {
  const lab = await createNatLab(t);
  const home = await lab.addHome({ nat: 'cone', upnp: true, natpmp: true });
  assert.match(home.miniupnpdLog(), /Port forwarding is now enabled/);
  assert.deepEqual(await home.mappings(), []);
  // miniupnpc's upnpc, a standard UPnP client, adds one (internal port 40000, external 40001).
  await lab.exec(home.ns, 'upnpc', ['-u', home.upnpUrl!, '-e', 'lab', '-a', home.lanAddress, '40000', '40001', 'TCP', '60']);
  assert.deepEqual(await home.mappings(), [{ protocol: 'tcp', externalPort: 40001, internalAddress: home.lanAddress, internalPort: 40000 }]);
});
