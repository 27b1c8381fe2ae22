// The node's port mapping on the home gateway (issue 23): the BitTorrent TCP port and the DHT's UDP
// port, mapped by UPnP or NAT-PMP while the node runs, removed on a clean stop; the gateway's
// external port is what trackers, the DHT and peers are told (Session.setAnnouncePort).
//
// Only `cascade serve` maps (it passes mapPorts); nodes started by tests, benchmarks, seed and
// download never do. CASCADE_PORT_MAPPING (auto|upnp|natpmp|off) overrides the setting and the
// command line for a serve process: `npm test` and the benchmarks set it to "off", so that no SSDP,
// NAT-PMP or PCP packet from them ever reaches the machine's real network.
import { startPortMapping, type PortMapper, type PortMappingStatus } from '@cascade/reachability';
import { PORT_MAPPING_SETTINGS, type NodePortMapping, type PortMappingSetting } from '@cascade/node/network-host';

export const PORT_MAPPING_ENV = 'CASCADE_PORT_MAPPING';

interface NodeLike {
  session: {
    port: number;
    setAnnouncePort?(port: number | null): void;
    list(): Iterable<{ announce(): void }>;
  };
  model: {
    getSettings(): { portMapping: PortMappingSetting };
    settings: { onChange(fn: (next: unknown, prev: unknown, changed: string[]) => void): void };
  };
  out?: { note(line: string): void; say(line: string): void; event(name: string, fields?: Record<string, unknown>): void };
}

export type { NodePortMapping };

/** The mode in force: the environment's override when valid, else the setting. */
export function effectivePortMapping(setting: PortMappingSetting, env: NodeJS.ProcessEnv = process.env): PortMappingSetting {
  const forced = env[PORT_MAPPING_ENV]?.trim().toLowerCase();
  if (forced && PORT_MAPPING_SETTINGS.includes(forced as PortMappingSetting)) return forced as PortMappingSetting;
  // A belt to the braces above: a node started (however indirectly) by `node --test` without an
  // explicit CASCADE_PORT_MAPPING maps nothing, even when the test file was run on its own.
  if (env.NODE_TEST_CONTEXT) return 'off';
  return setting;
}

const OFF: PortMappingStatus = { method: null, externalPort: null, externalUdpPort: null, externalAddress: null, gateway: null, error: 'port mapping is off' };

/**
 * Follows the portMapping setting (and CASCADE_PORT_MAPPING): starts the mapper, restarts it when
 * the setting changes, and points the session's announced port at the external port.
 */
export function followPortMapping(node: NodeLike, opts: { udpPort?: number | undefined; host?: string | undefined; env?: NodeJS.ProcessEnv; leaseSeconds?: number }): NodePortMapping {
  let mapper: PortMapper | null = null;
  let mode: PortMappingSetting = 'off';
  let switching: Promise<void> = Promise.resolve();
  let stopped = false;
  const bind = opts.host && !/^(0\.0\.0\.0|::)$/.test(opts.host) ? opts.host : undefined;

  const announced = (port: number | null) => {
    node.session.setAnnouncePort?.(port);
    // Trackers hear the new port at once rather than at their next interval (often 30 min).
    for (const t of node.session.list()) t.announce();
  };

  const start = () => {
    mode = effectivePortMapping(node.model.getSettings().portMapping, opts.env);
    if (mode === 'off' || stopped) return;
    let last: number | null = null;
    mapper = startPortMapping({
      method: mode,
      tcpPort: node.session.port,
      udpPort: opts.udpPort ?? null,
      ...(bind ? { localAddress: bind } : {}),
      ...(opts.leaseSeconds ? { leaseSeconds: opts.leaseSeconds } : {}),
      onChange: (s) => {
        node.out?.event('portMapping', { ...s });
        if (s.externalPort !== last) {
          last = s.externalPort;
          announced(s.externalPort);
          if (s.externalPort !== null) node.out?.say(`port mapping (${s.method}): ${s.externalAddress ?? '?'}:${s.externalPort} → port ${node.session.port}`);
        }
        if (s.error) node.out?.note(`port mapping: ${s.error}`);
      },
    });
  };

  const restart = () => {
    switching = switching.then(async () => {
      const was = mapper;
      mapper = null;
      if (was) await was.stop();
      announced(null);
      start();
    });
  };

  start();
  node.model.settings.onChange((_n, _p, changed) => {
    if (changed.includes('portMapping') && effectivePortMapping(node.model.getSettings().portMapping, opts.env) !== mode) restart();
  });

  return {
    status: () => (mapper ? mapper.status() : { ...OFF, error: mode === 'off' ? OFF.error : null }),
    async stop() {
      stopped = true;
      await switching;
      const was = mapper;
      mapper = null;
      if (was) await was.stop();
    },
  };
}
