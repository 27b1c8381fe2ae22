// Whether what the node shares can be found from elsewhere (issue 20, defect 8): a node that listens
// beyond this machine while the trackers in its torrents and magnets are all loopback addresses
// hands out links nobody else can use. The warning says so, and how to fix it, where the user shares.

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1|0:0:0:0:0:0:0:1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host.replace(/^\[|\]$/g, ''));
}

function trackerHost(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

export interface Reach {
  /** The addresses the node listens on (BitTorrent, HTTP); 0.0.0.0 / :: = every interface. */
  hosts: string[];
  dht: boolean;
}

/** A sentence for the user, or null when the trackers are fine (or the node is only local anyway). */
export function shareWarning(trackers: readonly string[], reach: Reach): string | null {
  if (!reach.hosts.some((h) => !isLoopbackHost(h))) return null;
  const hosts = trackers.map(trackerHost).filter((h): h is string => h !== undefined);
  if (hosts.some((h) => !isLoopbackHost(h))) return null;
  const what = hosts.length === 0 ? 'name no tracker' : 'name only trackers on this machine (127.0.0.1)';
  const dht = reach.dht ? ' Only the DHT can lead others here.' : ' With the DHT off, nobody else can find this node through them.';
  // ASCII only ('>' rather than an arrow): this text rides in every GET /api/torrents body, and one
  // character beyond Latin-1 makes V8 build the whole JSON (6 MB at 10,000 torrents) as a two-byte
  // string, twice the garbage per request.
  return (
    `Links shared from this node ${what}, so people on other machines cannot use them to find it.${dht} ` +
    'Set a public URL (Settings > Public URL, or `cascade serve --public-url https://your.host`) or add a public tracker.'
  );
}
