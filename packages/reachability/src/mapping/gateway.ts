// Finding the gateway to ask for a port mapping, on the interface the default route uses only (a
// machine with a LAN and a VPN maps and announces what its traffic really leaves by; `--host` binding
// something else does not change that).
// - NAT-PMP and PCP talk to the default route's next hop (RFC 6886 §3.1, RFC 6887 §8.1).
// - UPnP finds its gateway by SSDP: one M-SEARCH to 239.255.255.250:1900 sent from the default
//   route's address and out of that interface only (the library's own search binds every interface).
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { routeSource } from '../ice/nat-type.ts';

export interface DefaultRoute {
  /** The next hop (the gateway), e.g. 192.168.1.1. */
  gateway: string;
  /** The interface name, e.g. eth0. */
  iface: string;
  /** This host's address the kernel uses on that route. */
  localAddress: string;
}

/** The IPv4 default route with the lowest metric, from /proc/net/route (this network namespace's). */
export async function defaultRoute(): Promise<DefaultRoute | null> {
  let text: string;
  try {
    text = await readFile('/proc/net/route', 'utf8');
  } catch {
    return null; // not Linux: no gateway to ask, which the mapper reports as its error
  }
  let best: { gateway: string; iface: string; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== '00000000' || f[7] !== '00000000') continue;
    const flags = parseInt(f[3]!, 16);
    if (!(flags & 0x1) || !(flags & 0x2)) continue; // RTF_UP and RTF_GATEWAY
    const metric = Number(f[6]);
    if (!best || metric < best.metric) best = { gateway: hexToIp(f[2]!), iface: f[0]!, metric };
  }
  if (!best) return null;
  const localAddress = await routeSource({ host: best.gateway, port: 5351 });
  return localAddress ? { gateway: best.gateway, iface: best.iface, localAddress } : null;
}

/** /proc/net/route writes addresses as little-endian hex. */
function hexToIp(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

const SSDP_ADDRESS = '239.255.255.250';
const IGD = ['urn:schemas-upnp-org:device:InternetGatewayDevice:2', 'urn:schemas-upnp-org:device:InternetGatewayDevice:1'];

export interface SsdpAnswer { location: string; from: string; st: string }

/**
 * M-SEARCH for Internet Gateway Devices from `localAddress`, out of its interface only; resolves with
 * the answers heard within `timeoutMs` (sent three times, as UDP may lose one), IGD:2 first.
 */
export async function ssdpSearch(localAddress: string, timeoutMs = 3000, signal?: AbortSignal): Promise<SsdpAnswer[]> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const answers = new Map<string, SsdpAnswer>();
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, localAddress, () => { socket.off('error', reject); resolve(); });
    });
    socket.on('error', () => {});
    socket.setMulticastInterface(localAddress);
    socket.setMulticastTTL(2);
    socket.on('message', (msg, rinfo) => {
      const head = parseHeaders(msg.toString('latin1'));
      const st = head.get('st') ?? '';
      const location = head.get('location');
      if (!location || !IGD.includes(st)) return;
      answers.set(`${location} ${st}`, { location, from: rinfo.address, st });
    });
    const send = () => {
      for (const st of IGD) {
        const msg = `M-SEARCH * HTTP/1.1\r\nHOST: ${SSDP_ADDRESS}:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ${st}\r\n\r\n`;
        socket.send(msg, 1900, SSDP_ADDRESS);
      }
    };
    const started = Date.now();
    send();
    while (Date.now() - started < timeoutMs && !signal?.aborted) {
      await new Promise((r) => setTimeout(r, Math.min(500, timeoutMs)));
      const has2 = [...answers.values()].some((a) => a.st === IGD[0]);
      if (has2) break;
      if (Date.now() - started < timeoutMs * 0.7) send();
    }
  } finally {
    socket.close();
  }
  return [...answers.values()].sort((a, b) => IGD.indexOf(a.st) - IGD.indexOf(b.st));
}

function parseHeaders(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return out;
}
