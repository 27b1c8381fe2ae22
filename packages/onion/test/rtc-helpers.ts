// What the tab relay tests share: the page's RTCPeerConnection (node-datachannel's polyfill bound to
// 127.0.0.1, as Chromium inside the tests' loopback-only namespace), and waiting on a tab.
import { before, after, type TestContext } from 'node:test';
import { RTCPeerConnection as PolyfillPC } from 'node-datachannel/polyfill';
import { cleanup as stopDataChannels } from 'node-datachannel';
import { OnionClient, directoryRelays, type AnnounceRequest, type ExitExecutor, type OnionClientOptions } from '../index.ts';
import { browserDialer, startTabRelay, type RunningTabRelay, type TabRelayOptions } from '../browser.ts';
import { directory, relays, type Observed } from './helpers.ts';

export const INFO_HASH = 'feedface00112233445566778899aabbccddeeff';

/** Installs the polyfill as the global RTCPeerConnection for this test file (a subclass of the
 *  bound one when given, to watch what the code under test does with it). */
export function usePolyfillRTC(extend?: (base: typeof PolyfillPC) => typeof PolyfillPC): void {
  before(() => {
    const Bound = class extends PolyfillPC {
      constructor(config: RTCConfiguration = {}) {
        super({ ...config, bindAddress: '127.0.0.1' } as RTCConfiguration);
      }
    };
    (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection = extend ? extend(Bound) : Bound;
  });
  // libdatachannel keeps a thread alive after a connection closed that never connected (an offer
  // made, no answer): without this the test process would never exit. After a connection whose
  // DTLS handshake failed (see dialTabRelay's retry) its cleanup can give up waiting on that thread;
  // the process still exits, and what the tests assert has already been checked.
  after((t) => {
    try {
      stopDataChannels();
    } catch (err) {
      if (!/cleanup timeout/.test((err as Error).message)) throw err;
      t.diagnostic(`node-datachannel: ${(err as Error).message}`);
    }
  });
}

export function exit(asked: AnnounceRequest[]): ExitExecutor {
  return {
    async announce(r) {
      asked.push(r);
      return { interval: 60, peers: [{ host: '127.0.0.40', port: 6881 }] };
    },
    async dhtLookup() {
      return [];
    },
  };
}

export const announce = (): AnnounceRequest => ({
  op: 'announce', url: 'http://127.0.0.30:6969/announce', infoHash: INFO_HASH, peerId: '2d4353303030312d' + '00'.repeat(12),
  port: 0, uploaded: 0, downloaded: 0, left: 100, event: 'started',
});

export async function until<T>(what: string, fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function registered(tab: RunningTabRelay): Promise<void> {
  await until('the tab relay registered and published', () => tab.status().registered && tab.status().published.some((p) => p.ok));
}

/** A directory, node relays on `hosts`, a registered tab relay and a browser client (Node's
 *  WebSocket, the polyfill's WebRTC), all closed after the test. */
export async function tabRelayWorld(
  t: TestContext,
  hosts: string[],
  o: { exit?: ExitExecutor; seen?: Observed[]; tab?: Partial<TabRelayOptions>; client?: Partial<OnionClientOptions> } = {},
) {
  const { tracker, url } = await directory();
  const rs = await relays(hosts, url, o.exit, o.seen ?? []);
  const tab = startTabRelay({ directories: [url], iceServers: [], ...o.tab });
  const client = new OnionClient({ relays: directoryRelays([url], { maxAgeMs: 0 }), dial: browserDialer({ iceServers: [] }), prefer: 'ws', webrtc: true, stepTimeoutMs: 10_000, ...o.client });
  t.after(async () => {
    client.close();
    tab.close();
    await Promise.all(rs.map((r) => r.relay.close()));
    await tracker.close();
  });
  await registered(tab);
  return { url, rs, tab, client };
}

/** A raw signalling connection, to speak the protocol by hand: `next(type)` is the next message
 *  not read yet, which must be of that type. */
export async function signalSession(url: string, check: (m: Record<string, unknown>, type: string) => void) {
  const ws = new WebSocket(url);
  const inbox: Record<string, unknown>[] = [];
  let closed: number | undefined;
  ws.addEventListener('message', (e) => inbox.push(JSON.parse(String(e.data)) as Record<string, unknown>));
  ws.addEventListener('close', (e) => (closed = e.code));
  await until('challenge', () => inbox.find((m) => m.type === 'challenge'));
  let read = 1;
  const next = async (type: string) => {
    const m = await until(type, () => inbox[read]);
    read++;
    check(m, type);
    return m;
  };
  return { ws, inbox, nonce: inbox[0]!.nonce as string, next, closed: () => closed, unread: () => inbox.slice(read) };
}
