import { generateIdentity, type Identity } from '@cascade/identity';
import { startTracker, type RunningTracker } from '@cascade/tracker';
import { startRelay, dialRelay, type RunningRelay } from '../node.ts';
import { OnionClient, directoryRelays, type ExitExecutor, type Link, type OnionClientOptions } from '../index.ts';

export interface Observed {
  relay: string;
  link: string;
  direction: 'in' | 'out';
  size: number;
  cell: Uint8Array;
  peeled?: Uint8Array;
}

export async function directory(): Promise<{ tracker: RunningTracker; url: string }> {
  const tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
  return { tracker, url: `http://127.0.0.1:${tracker.httpPort}` };
}

export async function relays(
  hosts: string[],
  dir: string,
  exit: ExitExecutor | undefined,
  seen: Observed[],
): Promise<{ relay: RunningRelay; identity: Identity; host: string }[]> {
  return Promise.all(
    hosts.map(async (host) => {
      const identity = generateIdentity(`relay ${host}`);
      const relay = await startRelay({
        identity,
        host,
        directories: [dir],
        ...(exit ? { exit } : {}),
        observe: (e) =>
          seen.push({ relay: host, link: e.link.remote, direction: e.direction, size: e.cell.length, cell: e.cell.slice(), ...(e.peeled ? { peeled: e.peeled.slice() } : {}) }),
      });
      return { relay, identity, host };
    }),
  );
}

export function client(dir: string, from: string, more: Partial<OnionClientOptions> = {}): OnionClient {
  return new OnionClient({
    relays: directoryRelays([dir], { maxAgeMs: 0 }),
    dial: (address, signal): Promise<Link> => dialRelay(address, signal, from),
    stepTimeoutMs: 5000,
    requestTimeoutMs: 10_000,
    ...more,
  });
}

export function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
