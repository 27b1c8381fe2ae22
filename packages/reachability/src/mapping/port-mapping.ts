// Port mapping on the home gateway, so that peers outside a NAT can connect in: the BitTorrent TCP
// port and the DHT's UDP port, by UPnP IGD or NAT-PMP (@achingbrain/nat-port-mapper speaks both) or
// PCP (pcp.ts: the library has none), renewed at half the lease, removed on stop(). `status()` is what
// the node shows under /api/network's `portMapping` and what it announces (`externalPort`).
// 'auto' tries UPnP, then PCP, then NAT-PMP; 'natpmp' and 'pcp' are that protocol alone.
//
// Only the gateway of the default route is asked (gateway.ts): SSDP goes out of that interface only,
// NAT-PMP and PCP to that next hop only. When none answers, `error` says so after one round (a few seconds,
// well within a minute), and the mapper tries again: soon at first (5 s, then 15 s: a router that is
// still booting, or an answer lost on a busy host, should not cost a minute of unreachability), then
// after `retryMs`, twice as long after each failed round up to 16 times that (a network without UPnP
// does not hear an M-SEARCH every minute forever).
//
// Library quirks worked around here (4.0.5):
// - UPnP: the library's own discovery searches every interface, so the gateway comes from our SSDP
//   answer through `getGateway(URL)`; its leases are at least 3600 s; its unmap() deletes by the
//   internal port with an empty protocol, which miniupnpd refuses, so deletion is done with the
//   device's own DeletePortMapping call; it only accepts IGD:2 devices.
// - NAT-PMP: the `ttl` option goes into the request as seconds (not ms as documented); a request
//   that gets no answer blocks its gateway object for good, so each round uses a fresh one; the
//   library's automatic refresh is off (it would fire again after stop()).
import type { Gateway, PortMapping } from '@achingbrain/nat-port-mapper';

/** The UPnP/NAT-PMP library, loaded when a mapping is first tried: a node with mapping off (or
 *  not yet started) holds none of its 5 MB of code and objects. */
const natLibrary = () => import('@achingbrain/nat-port-mapper');
import { defaultRoute, ssdpSearch, type DefaultRoute } from './gateway.ts';
import { pcpMap, PcpError } from './pcp.ts';

/** 'pcp' alone is for callers that want it (the node's setting offers auto, upnp, natpmp, off). */
export type PortMappingMode = 'auto' | 'upnp' | 'natpmp' | 'pcp' | 'off';
export const PORT_MAPPING_MODES: readonly PortMappingMode[] = ['auto', 'upnp', 'natpmp', 'pcp', 'off'];

export interface PortMappingStatus {
  /** How the mapping was made, or null when there is none. */
  method: 'upnp' | 'natpmp' | 'pcp' | null;
  /** The gateway's port for the BitTorrent TCP port: what trackers and the DHT are told. */
  externalPort: number | null;
  /** The gateway's port for the DHT's UDP port. */
  externalUdpPort: number | null;
  /** The gateway's external address, as the gateway reports it. */
  externalAddress: string | null;
  /** The gateway asked (its address, or its UPnP description URL). */
  gateway: string | null;
  /** Why there is no mapping, when the mode is not 'off' and there is none. */
  error: string | null;
}

export interface PortMappingOptions {
  method: PortMappingMode;
  /** The BitTorrent listen port (TCP). */
  tcpPort: number;
  /** The DHT's UDP port, when the DHT runs. */
  udpPort?: number | null;
  /** The address to map to; default: the one the default route uses. */
  localAddress?: string;
  /** Lease asked for, in seconds (default 3600; UPnP through the library never goes below 3600). */
  leaseSeconds?: number;
  /** How long each protocol gets to answer, per round (default 4000 ms). */
  answerTimeoutMs?: number;
  /** How long after a failed round the next one starts (default 60 s; doubled per failure, ×16 at most). */
  retryMs?: number;
  /** Called whenever status() changes. */
  onChange?: (status: PortMappingStatus) => void;
}

export interface PortMapper {
  status(): PortMappingStatus;
  /** Resolves after the first round, with its status. */
  ready: Promise<PortMappingStatus>;
  /** Removes the mappings from the gateway and stops renewing. */
  stop(): Promise<void>;
}

const DESCRIPTION = 'Cascade';

type Method = 'upnp' | 'pcp' | 'natpmp';
const NAME: Record<Method, string> = { upnp: 'UPnP', pcp: 'PCP', natpmp: 'NAT-PMP' };

interface Active {
  method: Method;
  gatewayId: string;
  route: DefaultRoute;
  /** The address mapped to. */
  local: string;
  /** What to delete on stop: protocol and ports. */
  mapped: { protocol: 'TCP' | 'UDP'; internalPort: number; externalPort: number; nonce?: Uint8Array }[];
  /** For UPnP: the description URL, to reach the device again. */
  location?: string;
  /** When to renew, in ms: half the lease granted (RFC 6886 §3.3, RFC 6887 §11.2.1). */
  renewMs: number;
}

interface Got { tcp: number; udp: number | null; externalAddress: string; active: Active }

export function startPortMapping(opts: PortMappingOptions): PortMapper {
  const lease = Math.max(2, Math.round(opts.leaseSeconds ?? 3600));
  const answerMs = opts.answerTimeoutMs ?? 4000;
  const baseRetryMs = opts.retryMs ?? 60_000;
  let failures = 0;
  const EARLY_RETRIES_MS = [5_000, 15_000];
  const retryMs = () => {
    const n = failures++;
    return n < EARLY_RETRIES_MS.length ? Math.min(baseRetryMs, EARLY_RETRIES_MS[n]!) : baseRetryMs * 2 ** Math.min(4, n - EARLY_RETRIES_MS.length);
  };
  let state: PortMappingStatus = { method: null, externalPort: null, externalUdpPort: null, externalAddress: null, gateway: null, error: null };
  let active: Active | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const stopCtl = new AbortController();

  const set = (next: PortMappingStatus) => {
    const changed = JSON.stringify(next) !== JSON.stringify(state);
    state = next;
    if (changed) opts.onChange?.({ ...state });
  };
  const schedule = (ms: number, fn: () => Promise<void>) => {
    if (stopped) return;
    timer = setTimeout(() => { running = fn().catch(() => {}); }, ms);
    timer.unref?.();
  };

  const round = async (): Promise<void> => {
    if (stopped) return;
    const route = await defaultRoute();
    if (!route) {
      set({ ...empty(), error: 'no default route: no gateway to ask for a port mapping' });
      return schedule(retryMs(), round);
    }
    const local = opts.localAddress && opts.localAddress !== '0.0.0.0' ? opts.localAddress : route.localAddress;
    // auto: UPnP, then PCP, then NAT-PMP when the gateway answered PCP with NAT-PMP's "unsupported
    // version" (both listen on 5351: when PCP got no answer at all, NAT-PMP would get none either).
    const tries: Method[] = opts.method === 'auto' ? ['upnp', 'pcp', 'natpmp'] : [opts.method as Method];
    const errors: string[] = [];
    for (const method of tries) {
      if (stopped) return;
      if (method === 'natpmp' && opts.method === 'auto' && pcpSilent) continue;
      try {
        const began = Date.now();
        const got = await mapWith(method, route, local);
        if (stopped) {
          active = got.active;
          return; // stop() is waiting for this round and removes what it made
        }
        active = got.active;
        set({ method, externalPort: got.tcp, externalUdpPort: got.udp, externalAddress: got.externalAddress, gateway: got.active.gatewayId, error: null });
        failures = 0;
        return schedule(renewIn(got, began), renew);
      } catch (err) {
        if (method === 'pcp') pcpSilent = err instanceof PcpError && err.noAnswer;
        errors.push(`${NAME[method]}: ${(err as Error).message}`);
      }
    }
    const none = tries.length > 1 ? `no gateway offered a port mapping by UPnP or NAT-PMP/PCP (${errors.join('; ')})` : errors.join('; ');
    set({ ...empty(), error: none });
    schedule(retryMs(), round);
  };

  const renew = async (): Promise<void> => {
    if (stopped || !active) return;
    const prev = active;
    try {
      const began = Date.now();
      const got = await mapWith(prev.method, prev.route, prev.local, prev);
      if (stopped) { active = got.active; return; }
      active = got.active;
      set({ ...state, externalPort: got.tcp, externalUdpPort: got.udp, externalAddress: got.externalAddress, error: null });
      schedule(renewIn(got, began), renew);
    } catch (err) {
      active = null;
      set({ ...empty(), error: `renewing the ${NAME[prev.method]} mapping failed: ${(err as Error).message}` });
      schedule(retryMs(), round);
    }
  };

  let pcpSilent = false;

  /** A lease runs from when the gateway took the round's first request, not from when the round's
   *  last answer came: a round of four requests on a busy host can take a good part of a short lease. */
  const renewIn = (got: Got, began: number) => Math.max(0, got.active.renewMs - (Date.now() - began));

  function mapWith(method: Method, route: DefaultRoute, local: string, prev?: Active): Promise<Got> {
    if (method === 'upnp') return mapUpnp(route, local, prev?.location);
    if (method === 'pcp') return mapPcp(route, local, prev);
    return mapPmp(route, local);
  }

  async function mapPcp(route: DefaultRoute, local: string, prev?: Active): Promise<Got> {
    const mapped: Active['mapped'] = [];
    const want: { protocol: 'TCP' | 'UDP'; port: number }[] = [{ protocol: 'TCP', port: opts.tcpPort }];
    if (opts.udpPort) want.push({ protocol: 'UDP', port: opts.udpPort });
    let externalAddress = '';
    let lifetime = lease;
    try {
      for (const w of want) {
        const before = prev?.mapped.find((m) => m.protocol === w.protocol && m.internalPort === w.port);
        const m = await pcpMap({
          gateway: route.gateway, localAddress: local, protocol: w.protocol === 'TCP' ? 'tcp' : 'udp', internalPort: w.port,
          externalPort: before?.externalPort ?? w.port, lifetime: lease, ...(before?.nonce ? { nonce: before.nonce } : {}),
          timeoutMs: answerMs, signal: stopCtl.signal,
        });
        mapped.push({ protocol: w.protocol, internalPort: w.port, externalPort: m.externalPort, nonce: m.nonce });
        externalAddress = m.externalAddress;
        lifetime = Math.min(lifetime, m.lifetime);
      }
    } catch (err) {
      if (!prev) await deletePcp(route, local, mapped).catch(() => {});
      throw err;
    }
    const tcp = mapped[0]!.externalPort;
    const udp = mapped[1]?.externalPort ?? null;
    return { tcp, udp, externalAddress, active: { method: 'pcp', gatewayId: route.gateway, route, local, mapped, renewMs: Math.max(1, lifetime) * 500 } };
  }

  async function mapUpnp(route: DefaultRoute, local: string, knownLocation?: string): Promise<Got> {
    let location = knownLocation;
    if (!location) {
      const answers = await ssdpSearch(local, answerMs, stopCtl.signal);
      if (answers.length === 0) throw new Error(`no UPnP gateway answered SSDP on ${route.iface} (${local})`);
      location = answers[0]!.location;
    }
    const signal = AbortSignal.any([AbortSignal.timeout(answerMs * 2), stopCtl.signal]);
    const gw = await (await natLibrary()).upnpNat({ autoRefresh: false }).getGateway(new URL(location), { signal });
    const ttl = lease * 1000; // the library takes ms for UPnP
    const mapped: Active['mapped'] = [];
    try {
      const tcp = await gw.map(opts.tcpPort, local, { protocol: 'tcp', externalPort: opts.tcpPort, ttl, description: `${DESCRIPTION} BitTorrent`, autoRefresh: false, signal });
      mapped.push({ protocol: 'TCP', internalPort: opts.tcpPort, externalPort: tcp.externalPort });
      let udp: PortMapping | null = null;
      if (opts.udpPort) {
        udp = await gw.map(opts.udpPort, local, { protocol: 'udp', externalPort: opts.udpPort, ttl, description: `${DESCRIPTION} DHT`, autoRefresh: false, signal });
        mapped.push({ protocol: 'UDP', internalPort: opts.udpPort, externalPort: udp.externalPort });
      }
      // The library's UPnP leases are at least 3600 s.
      return { tcp: tcp.externalPort, udp: udp?.externalPort ?? null, externalAddress: tcp.externalHost, active: { method: 'upnp' as const, gatewayId: location, route, local, mapped, location, renewMs: Math.max(lease, 3600) * 500 } };
    } catch (err) {
      await deleteUpnp(gw, mapped).catch(() => {});
      throw err;
    }
  }

  async function mapPmp(route: DefaultRoute, local: string): Promise<Got> {
    const gw = (await natLibrary()).pmpNat(route.gateway, { autoRefresh: false });
    const mapped: Active['mapped'] = [];
    try {
      const signal = () => AbortSignal.any([AbortSignal.timeout(answerMs), stopCtl.signal]);
      const tcp = await gw.map(opts.tcpPort, local, { protocol: 'tcp', externalPort: opts.tcpPort, ttl: lease, autoRefresh: false, signal: signal() })
        .catch((err: Error) => { throw new Error(err.name === 'TimeoutError' || /abort/i.test(err.message) ? `no answer from ${route.gateway}:5351` : err.message); });
      mapped.push({ protocol: 'TCP', internalPort: opts.tcpPort, externalPort: tcp.externalPort });
      let udp: PortMapping | null = null;
      if (opts.udpPort) {
        udp = await gw.map(opts.udpPort, local, { protocol: 'udp', externalPort: opts.udpPort, ttl: lease, autoRefresh: false, signal: signal() });
        mapped.push({ protocol: 'UDP', internalPort: opts.udpPort, externalPort: udp.externalPort });
      }
      // The library does not say what lifetime the gateway granted: renew at half the one asked for.
      return { tcp: tcp.externalPort, udp: udp?.externalPort ?? null, externalAddress: tcp.externalHost, active: { method: 'natpmp' as const, gatewayId: route.gateway, route, local, mapped, renewMs: lease * 500 } };
    } catch (err) {
      await deletePmp(gw, mapped).catch(() => {});
      throw err;
    } finally {
      await gw.stop().catch(() => {});
    }
  }

  const ready = (async () => {
    if (opts.method === 'off') return { ...state };
    running = round().catch((err) => set({ ...empty(), error: (err as Error).message }));
    await running;
    return { ...state };
  })();

  return {
    status: () => ({ ...state }),
    ready,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      // A round in flight finishes (with short timeouts) so that what it mapped is removed too.
      await running.catch(() => {});
      stopCtl.abort();
      const was = active;
      active = null;
      if (was) await removeAll(was).catch(() => {});
      set(empty());
    },
  };

  async function removeAll(a: Active) {
    const signal = AbortSignal.timeout(answerMs);
    if (a.method === 'upnp') {
      const gw = await (await natLibrary()).upnpNat({ autoRefresh: false }).getGateway(new URL(a.location!), { signal });
      await deleteUpnp(gw, a.mapped);
    } else if (a.method === 'pcp') {
      await deletePcp(a.route, a.local, a.mapped);
    } else {
      const gw = (await natLibrary()).pmpNat(a.route.gateway, { autoRefresh: false });
      try { await deletePmp(gw, a.mapped); } finally { await gw.stop().catch(() => {}); }
    }
  }
}

function empty(): PortMappingStatus {
  return { method: null, externalPort: null, externalUdpPort: null, externalAddress: null, gateway: null, error: null };
}

/** DeletePortMapping by external port and protocol, through the device the library reached. */
async function deleteUpnp(gw: Gateway, mapped: Active['mapped']) {
  const device = await (gw as unknown as { getGateway(o?: object): Promise<{ run(service: string, action: string, args: [string, string | number][], o?: object): Promise<unknown> }> }).getGateway();
  for (const m of mapped) {
    await device.run('urn:schemas-upnp-org:service:WANIPConnection:2', 'DeletePortMapping', [
      ['NewRemoteHost', ''], ['NewExternalPort', m.externalPort], ['NewProtocol', m.protocol],
    ], { signal: AbortSignal.timeout(4000) });
  }
}

/** PCP deletes a mapping with lifetime 0 and its nonce (RFC 6887 §15). */
async function deletePcp(route: DefaultRoute, local: string, mapped: Active['mapped']) {
  for (const m of mapped) {
    await pcpMap({ gateway: route.gateway, localAddress: local, protocol: m.protocol === 'TCP' ? 'tcp' : 'udp', internalPort: m.internalPort, externalPort: 0, lifetime: 0, ...(m.nonce ? { nonce: m.nonce } : {}), timeoutMs: 3000 });
  }
}

/** NAT-PMP deletes a mapping with lifetime 0 and external port 0 (RFC 6886 §3.4). */
async function deletePmp(gw: Gateway, mapped: Active['mapped']) {
  for (const m of mapped) {
    await gw.map(m.internalPort, '', { protocol: m.protocol === 'TCP' ? 'tcp' : 'udp', externalPort: 0, ttl: 0, autoRefresh: false, signal: AbortSignal.timeout(4000) });
  }
}
