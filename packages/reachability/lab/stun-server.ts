// A STUN server for the NAT lab, run inside a lab namespace (`ip netns exec NS node stun-server.ts
// IP1[,IP2] [PORT1[,PORT2]]`). With two addresses and two ports it honours RFC 5780's CHANGE-REQUEST:
// the answer leaves from the other address and/or port. miniupnpd needs exactly that: it sends four
// requests (no change, change port, change IP, both) and grants mappings only when all four come back,
// i.e. when nothing filters the WAN side. It also names OTHER-ADDRESS, which miniupnpd's newer STUN
// code requires and probeNat() treats as a second server.
// Prints "ready" on stdout once every socket is bound.
import dgram from 'node:dgram';
import { ATTR, BINDING_REQUEST, bindingSuccess, decodeStun, isStunMessage } from '../src/ice/stun-message.ts';

const ips = (process.argv[2] ?? '').split(',').filter(Boolean);
const ports = (process.argv[3] ?? '3478,3479').split(',').map(Number);
if (ips.length === 0) {
  console.error('usage: stun-server.ts IP1[,IP2] [PORT1[,PORT2]]');
  process.exit(2);
}

const sockets = new Map<string, dgram.Socket>();
const key = (ip: string, port: number) => `${ip}:${port}`;

await Promise.all(ips.flatMap((ip) => ports.map((port) => new Promise<void>((resolve, reject) => {
  const s = dgram.createSocket('udp4');
  s.once('error', reject);
  s.bind(port, ip, () => {
    s.off('error', reject);
    s.on('error', () => {});
    sockets.set(key(ip, port), s);
    s.on('message', (msg, rinfo) => answer(ip, port, msg, rinfo));
    resolve();
  });
}))));

function answer(ip: string, port: number, msg: Buffer, rinfo: dgram.RemoteInfo) {
  if (!isStunMessage(msg)) return;
  const m = decodeStun(msg);
  if (m.type !== BINDING_REQUEST) return;
  const change = m.attributes.find((a) => a.type === ATTR.CHANGE_REQUEST)?.value;
  const flags = change && change.length === 4 ? change[3]! : 0;
  const otherIp = ips.find((x) => x !== ip) ?? ip;
  const otherPort = ports.find((x) => x !== port) ?? port;
  const fromIp = flags & 4 ? otherIp : ip;
  const fromPort = flags & 2 ? otherPort : port;
  const out = sockets.get(key(fromIp, fromPort)) ?? sockets.get(key(ip, port))!;
  const other = ips.length > 1 && ports.length > 1 ? { family: 4 as const, address: otherIp, port: otherPort } : undefined;
  const reply = bindingSuccess(m.transactionId, { family: 4, address: rinfo.address, port: rinfo.port }, {
    origin: { family: 4, address: fromIp, port: fromPort },
    ...(other ? { other } : {}),
  });
  out.send(reply, rinfo.port, rinfo.address);
}

process.on('SIGTERM', () => process.exit(0));
console.log('ready');
