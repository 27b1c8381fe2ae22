// Private discovery for a node (issue 14): an onion client over the relays of the given
// directories, handed to the engine as its PrivateDiscovery; and `serve --relay` / `cascade relay`:
// a relay (and discovery exit) on its own port, published to the directories.
import { OnionClient, directoryRelays, onionDiscovery, type ExitExecutor, type OnionEvent, type RelayDescriptor } from '@cascade/onion';
import { RelayGossip } from './relay-gossip.ts';
import { dialRelay, nodeExitExecutor, startRelay, wsTrackerTunnels, type RunningRelay } from '@cascade/onion/node';
import type { Identity } from '@cascade/identity';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isPrivateAddress, type IdentifiedPeers, type NodeLog, type NodePrivateDiscovery } from '@cascade/node/network-host';
import type { PrivateDiscovery } from '@cascade/engine';
import type { OnionStatus } from '@cascade/shapes';

export interface OnionOptions {
  /** Directory base URLs (Cascade trackers serving /relays). */
  directories: string[];
  /** Every torrent added without saying otherwise uses private discovery. */
  byDefault?: boolean;
}

/** A node's private discovery: what the node keeps of it (node.onion), and the client, the relay
 *  gossip and the node's own relay behind it. */
export interface NodeOnion extends NodePrivateDiscovery {
  client: OnionClient;
  discovery: PrivateDiscovery;
  byDefault: boolean;
  /** Relays learned from and offered to Cascade peers. */
  gossip: RelayGossip;
  /** This node's own relay (serve --relay), once it runs. */
  relay?: RunningRelay;
  status(): OnionStatus;
}

// What `cascade health` and GET /api/health say of private discovery (@cascade/shapes).
export type { OnionStatus };

/**
 * The node's onion client over the directories' relays and those its peers told it of; `host` (the
 * node's --host) is where its links to relays leave from. The first hop comes from a directory
 * whenever a directory lists any.
 */
export function onionClientFor(o: OnionOptions, host: string | undefined, out: NodeLog, identified: IdentifiedPeers): NodeOnion {
  const outgoing = host && host !== '0.0.0.0' && host !== '::' ? host : undefined;
  const gossip = new RelayGossip(identified);
  const fromDirectories = directoryRelays(o.directories, {
    onDropped: (n, reasons) => out.note(`onion: ${n} relay descriptor(s) dropped: ${reasons.slice(0, 3).join('; ')}`),
  });
  let listed: RelayDescriptor[] = [];
  let lastError: string | null = null;
  gossip.setKnown(() => listed);
  const relays = async (): Promise<RelayDescriptor[]> => {
    try {
      listed = await fromDirectories();
    } catch (err) {
      lastError = `directory: ${(err as Error).message}`;
      if (gossip.relays().length === 0) throw err;
    }
    const ids = new Set(listed.map((r) => r.id));
    return [...listed, ...gossip.relays().filter((r) => !ids.has(r.id))];
  };
  const client = new OnionClient({
    relays,
    guard: (r) => listed.some((l) => l.id === r.id),
    dial: (address, signal) => dialRelay(address, signal, outgoing),
    onEvent: (e: OnionEvent) => {
      if (e.type === 'circuit-built') out.event('circuit', { built: true, hops: e.path.length, ms: e.ms });
      else if (e.type === 'circuit-failed') {
        lastError = e.error;
        out.event('circuit', { built: false, error: e.error });
      }
      else out.event('circuit', { closed: true, reason: e.reason });
    },
  });
  const onion: NodeOnion = {
    client,
    discovery: onionDiscovery(client) as PrivateDiscovery,
    byDefault: o.byDefault === true,
    gossip,
    close: () => client.close(),
    status: () => {
      const own = onion.relay?.descriptor();
      return {
        directories: o.directories,
        privateByDefault: o.byDefault === true,
        relays: { listed: listed.length, learned: gossip.relays().length },
        circuits: { ...client.stats },
        lastError,
        relay: onion.relay && own ? { tcp: own.tcp ?? null, ws: own.ws ?? null, exit: own.exit !== null, circuits: onion.relay.core.circuits, tabs: onion.relay.signal?.tabs ?? 0 } : null,
      };
    },
  };
  return onion;
}

export interface RelayProcessOptions {
  identity: Identity;
  host: string;
  port: number;
  directories: string[];
  /** false: a middle relay only (no exit). */
  exit: boolean;
  /** The exit's DHT bootstrap nodes; [] = no DHT look-ups; omitted = the public routers. */
  dhtBootstrap?: string[];
  /** Whether the exit announces to trackers on loopback, private and link-local addresses.
   *  Default: only when the relay itself is bound to such an address (a relay of a private network);
   *  a relay on a public address would otherwise let anyone probe the network behind it. */
  privateTargets?: boolean;
}

/** A relay with a discovery exit: tracker announces through the engine's transports, look-ups
 *  through a DHT of its own that joins on the first look-up. Everything leaves from `host`. */
export async function startNodeRelay(o: RelayProcessOptions, out: NodeLog): Promise<RunningRelay> {
  const lib = await import('@cascade/engine/node-transports');
  const outgoing = o.host === '0.0.0.0' || o.host === '::' ? undefined : o.host;
  let dht: InstanceType<typeof lib.Dht> | undefined;
  const exit = o.exit
    ? nodeExitExecutor({
        http: lib.createHttpTransport(undefined, lib.boundFetch(outgoing)),
        udp: new lib.UdpTracker(outgoing ? { bindAddress: outgoing } : {}),
        ...(o.dhtBootstrap?.length === 0
          ? {}
          : {
              dht: async () => {
                dht = new lib.Dht({ bootstrap: o.dhtBootstrap ?? lib.PUBLIC_DHT_ROUTERS, ...(outgoing ? { host: outgoing } : {}) });
                await dht.listen(0);
                return dht;
              },
            }),
      })
    : undefined;
  const privateTargets = o.privateTargets ?? (outgoing === undefined || isPrivateAddress(outgoing));
  const tunnel = o.exit ? wsTrackerTunnels({ ...(outgoing ? { localAddress: outgoing } : {}), ...(privateTargets ? {} : { checkUrl: publicTarget }) }) : undefined;
  const relay = await startRelay({
    identity: o.identity,
    host: o.host,
    port: o.port,
    directories: o.directories,
    ...(exit ? { exit: privateTargets ? exit : publicTargetsOnly(exit) } : {}),
    ...(tunnel ? { tunnel } : {}),
    // A public relay extends to public addresses only: EXTEND must not probe the network behind it.
    ...(privateTargets ? {} : { checkExtend: (address: string) => publicTarget(address.startsWith('tcp:') ? `tcp://${address.slice(4)}` : address) }),
    onEvent: (name, fields) => {
      out.event(name, fields);
      if (name === 'relay-publish-failed') out.note(`relay: publishing to ${String(fields.directory)} failed: ${String(fields.error)}`);
    },
  });
  const close = relay.close.bind(relay);
  return Object.assign(relay, {
    close: async () => {
      await close();
      await dht?.close();
    },
  });
}

/** An exit that refuses tracker URLs whose host is (or resolves to) a local or private address. */
async function publicTarget(url: string): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const answers = isIP(host) ? [{ address: host }] : await lookup(host, { all: true, verbatim: true }).catch(() => []);
  if (answers.length === 0) throw new Error(`cannot resolve ${host}`);
  if (answers.some((a) => isPrivateAddress(a.address))) throw new Error(`${host} is a local or private address: this exit announces to public trackers only`);
}

function publicTargetsOnly(exec: ExitExecutor): ExitExecutor {
  const check = publicTarget;
  return {
    ...exec,
    announce: async (r) => {
      await check(r.url);
      return exec.announce(r);
    },
    ...(exec.scrape
      ? {
          scrape: async (r) => {
            await check(r.url);
            return exec.scrape!(r);
          },
        }
      : {}),
  };
}

export { RelayGossip };
