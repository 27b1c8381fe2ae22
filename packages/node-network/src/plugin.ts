// The network a node is started with (startNode's `network`): how it is reached (the probe and the
// ICE servers found on its trackers), BEP 14 local service discovery, port mapping on the gateway,
// private discovery. Made by the layer that starts the node: @cascade/http's startServer (`serve`)
// and the CLI's seed and download. What a run does not use is not loaded: the onion client only
// with directories (--directory), the port mapper only when the node maps (serve).
import type { NetworkPlugin, PortMappingSetting } from '@cascade/node/network-host';
import { startNodeNetwork } from './node-network.ts';
import { followLsd, type LsdMode } from './lsd.ts';
import type { NodeOnion, OnionOptions } from './onion.ts';

export interface NetworkOptions {
  /** Private discovery through onion circuits built from these directories' relays (issue 14). */
  onion?: OnionOptions | undefined;
  /** BEP 14 local service discovery: 'setting' follows the lsd setting (`serve`), 'on'/'off' for
   *  this run; omitted = off. CASCADE_LSD overrides it (lsd.ts). */
  lsd?: LsdMode | undefined;
  /** Map the ports on the gateway as the portMapping setting says (`serve` only; tests, benchmarks,
   *  seed and download never map). CASCADE_PORT_MAPPING overrides the setting (port-mapping.ts). */
  mapPorts?: boolean | undefined;
  /** `serve --port-mapping`: stored as the portMapping setting before the mapping starts. */
  portMappingSetting?: PortMappingSetting | undefined;
}

/** The plug-in, and what it made for the node that started with it. */
export interface NodeNetworking extends NetworkPlugin {
  /** Private discovery once the node has started with directories: its client, the relays its
   *  peers told it of, and the node's own relay (`serve --relay` sets it). */
  readonly onion: NodeOnion | undefined;
}

export function networkPlugin(o: NetworkOptions = {}): NodeNetworking {
  let onion: NodeOnion | undefined;
  return {
    get onion() {
      return onion;
    },
    async privateDiscovery({ host, out, identified }) {
      if (!o.onion || o.onion.directories.length === 0) return undefined;
      onion = (await import('./onion.ts')).onionClientFor(o.onion, host, out, identified);
      return onion;
    },
    async follow(node, { trackers, host, urlGuard, dhtPort }) {
      const network = startNodeNetwork(node, { trackers, bindAddress: host, urlGuard });
      try {
        await followLsd(node, o.lsd);
        if (!o.mapPorts) return { network };
        if (o.portMappingSetting) await node.model.setSettings({ portMapping: o.portMappingSetting });
        const { followPortMapping } = await import('./port-mapping.ts');
        return { network, portMapping: followPortMapping(node, { udpPort: dhtPort, host }) };
      } catch (err) {
        network.stop();
        throw err;
      }
    },
  };
}
