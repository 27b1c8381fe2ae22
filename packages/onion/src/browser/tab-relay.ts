// A relay in a browser tab, while the tab is open and its user opted in (docs/onion.md, "Tab
// relays"). It holds a signalling WebSocket at one node relay (registered under a did of its own,
// made for this opt-in so it is not linked to the user's identity), publishes a descriptor that
// says so to the directories, and answers sealed offers with data channels whose cells it switches
// like any relay. It extends circuits over WebSocket to node relays or over WebRTC to other tabs,
// and is never an exit.
import { generateIdentity, type Identity } from '@cascade/identity';
import { RelayCore, type RelayCoreOptions } from '../relay/relay.ts';
import { generateOnionKey, relayIdDigest, type OnionKeyPair } from '../protocol/ntor.ts';
import { b64u, signDescriptor, type RelayDescriptor } from '../directory/descriptor.ts';
import { directoryRelays, publishDescriptor } from '../directory/directory-client.ts';
import { MAX_SIGNAL_MESSAGE, openOffer, sealAnswer, signRegistration, type SignalMessage } from '../relay/signal.ts';
import { browserDialer, channelLink, gathered, splitCandidates, type RtcOptions } from './rtc-link.ts';

export interface TabRelayOptions extends RtcOptions {
  /** Directory base URLs: where node relays (and their signalling) are listed, and where this
   *  tab's descriptor goes. */
  directories: string[];
  identity?: Identity;
  descriptorLifetimeMs?: number;
  /** How often the onion key changes (default 6 hours, as node relays); the previous key keeps
   *  working for one more period, so circuits being built are not cut. */
  onionKeyRotateMs?: number;
  /** Peer connections open at once (each a link from one client or relay). Default 32. */
  maxLinks?: number;
  onEvent?: (name: string, fields: Record<string, unknown>) => void;
  /** How long an answered offer waits for the client's `ready` before its candidates are added
   *  anyway (clients and signalling nodes from before `ready`). Default 2 s. */
  readyFallbackMs?: number;
  /** See RelayCoreOptions.observe (tests: what this relay saw). */
  observe?: RelayCoreOptions['observe'];
}

export interface TabRelayStatus {
  did: string;
  /** The node relay this tab signals through. */
  signal: string | undefined;
  registered: boolean;
  links: number;
  circuits: number;
  relayedCells: number;
  published: { directory: string; ok: boolean; error?: string }[];
}

export interface RunningTabRelay {
  readonly core: RelayCore;
  status(): TabRelayStatus;
  descriptor(): RelayDescriptor | undefined;
  close(): void;
}

// Tabs come and go: a short lifetime keeps a closed tab's descriptor from being tried for long.
const TAB_DESCRIPTOR_LIFETIME_MS = 10 * 60_000;
const RECONNECT_MS = 3000;
const READY_FALLBACK_MS = 2000;

export function startTabRelay(o: TabRelayOptions): RunningTabRelay {
  const identity = o.identity ?? generateIdentity('tab relay');
  let keys: OnionKeyPair[] = [generateOnionKey()];
  const core = new RelayCore({
    idDigest: relayIdDigest(identity.signPublic),
    onionKeys: () => keys,
    dial: browserDialer(o),
    maxCircuits: 512,
    ...(o.observe ? { observe: o.observe } : {}),
  });
  const lifetime = o.descriptorLifetimeMs ?? TAB_DESCRIPTOR_LIFETIME_MS;
  const nodes = directoryRelays(o.directories, { maxAgeMs: 30_000 });
  const pcs = new Set<RTCPeerConnection>();
  let signalUrl: string | undefined;
  let ws: WebSocket | undefined;
  let registered = false;
  let current: RelayDescriptor | undefined;
  let published: TabRelayStatus['published'] = [];
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Answered offers whose client has not said `ready`, by `from:id`: adds the client's candidates. */
  const awaitingReady = new Map<string, { add: (why: 'ready' | 'fallback') => void; fallback: ReturnType<typeof setTimeout> }>();

  // The tab applied the offer without the client's candidates, so its ICE agent has nobody to check
  // yet: the client's checks come first (answered from their peer-reflexive address, which is all a
  // loopback or LAN link needs), and the tab's own checks, which open its NAT to the client, start
  // once the client has applied the answer. Checks that reach a client applying the answer fail its
  // DTLS handshake (docs/onion.md, "Signalling").
  const addCandidatesLater = (pc: RTCPeerConnection, from: number, id: number, candidates: RTCIceCandidateInit[]) => {
    const key = `${from}:${id}`;
    const add = (why: 'ready' | 'fallback') => {
      clearTimeout(entry.fallback);
      if (awaitingReady.get(key) === entry) awaitingReady.delete(key);
      if (!pcs.has(pc)) return;
      // A candidate the stack refuses (a kind it does not support) leaves the others to try.
      void Promise.allSettled(candidates.map((c) => pc.addIceCandidate(c))).then((r) => {
        const failed = r.filter((x) => x.status === 'rejected').length;
        o.onEvent?.('tab-relay-candidates', { from, id, candidates: candidates.length, failed, after: why });
      });
    };
    const entry = { add, fallback: setTimeout(() => add('fallback'), o.readyFallbackMs ?? READY_FALLBACK_MS) };
    awaitingReady.set(key, entry);
  };

  const publish = async () => {
    if (!signalUrl || closed) return;
    const now = Date.now();
    current = signDescriptor(identity, { onionKey: b64u(keys[0]!.public), rtc: signalUrl, exit: null, published: now, expires: now + lifetime });
    const d = current;
    published = await Promise.all(
      o.directories.map((directory) =>
        publishDescriptor(directory, d).then(
          () => ({ directory, ok: true }),
          (err: Error) => ({ directory, ok: false, error: err.message }),
        ),
      ),
    );
    o.onEvent?.('tab-relay-published', { published });
  };

  const answer = async (from: number, id: number, box: string) => {
    let offer;
    try {
      offer = openOffer(identity, box);
    } catch {
      return send({ type: 'error', to: from, id, error: 'offer does not open for this relay' });
    }
    if (pcs.size >= (o.maxLinks ?? 32)) return send({ type: 'error', to: from, id, error: 'relay busy' });
    const pc = new RTCPeerConnection({ iceServers: o.iceServers ?? [] });
    pcs.add(pc);
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') pcs.delete(pc);
    });
    // A channel that does not open soon is a dial that went nowhere: its slot is freed.
    const giveUp = setTimeout(() => {
      pc.close();
      pcs.delete(pc);
    }, 30_000);
    pc.addEventListener('datachannel', (e: RTCDataChannelEvent) => {
      channelLink(pc, e.channel, `webrtc:offer-${from}`, false).then(
        (link) => {
          clearTimeout(giveUp);
          link.onClose(() => pcs.delete(pc));
          core.attach(link);
        },
        () => pcs.delete(pc),
      );
    });
    try {
      const { sdp, candidates } = splitCandidates(offer.sdp);
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      send({ type: 'answer', to: from, id, box: sealAnswer(offer.answerKey, pc.localDescription!.sdp) });
      addCandidatesLater(pc, from, id, candidates);
    } catch (err) {
      clearTimeout(giveUp);
      pc.close();
      pcs.delete(pc);
      send({ type: 'error', to: from, id, error: `cannot answer: ${(err as Error).message}` });
    }
  };

  const send = (m: SignalMessage) => {
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  };

  const connect = async () => {
    if (closed) return;
    let url: string | undefined;
    try {
      const withSignal = (await nodes()).filter((r) => typeof r.signal === 'string');
      url = withSignal[Math.floor(Math.random() * withSignal.length)]?.signal;
    } catch (err) {
      o.onEvent?.('tab-relay-error', { error: (err as Error).message });
    }
    if (!url) {
      o.onEvent?.('tab-relay-error', { error: 'no node relay offers signalling' });
      return retry();
    }
    const socket = new WebSocket(url);
    ws = socket;
    socket.addEventListener('message', (e: MessageEvent) => {
      if (typeof e.data !== 'string' || e.data.length > MAX_SIGNAL_MESSAGE) return;
      let m: SignalMessage;
      try {
        m = JSON.parse(e.data) as SignalMessage;
      } catch {
        return;
      }
      if (m.type === 'challenge') socket.send(JSON.stringify(signRegistration(identity, m.nonce)));
      else if (m.type === 'registered') {
        registered = true;
        signalUrl = url;
        o.onEvent?.('tab-relay-registered', { signal: url, did: identity.did });
        void publish();
      } else if (m.type === 'offer' && 'from' in m && typeof m.from === 'number' && typeof m.id === 'number' && typeof m.box === 'string') {
        void answer(m.from, m.id, m.box);
      } else if (m.type === 'ready' && 'from' in m) {
        awaitingReady.get(`${m.from}:${m.id}`)?.add('ready');
      } else if (m.type === 'error') o.onEvent?.('tab-relay-error', { error: m.error });
    });
    socket.addEventListener('close', () => {
      if (ws !== socket) return;
      registered = false;
      ws = undefined;
      retry();
    });
  };

  const retry = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void connect(), RECONNECT_MS);
  };

  // Republish at a third of the lifetime, so a missed turn still leaves a valid descriptor.
  const republish = setInterval(() => registered && void publish(), Math.max(1000, lifetime / 3));
  const rotate = setInterval(() => {
    keys = [generateOnionKey(), keys[0]!];
    if (registered) void publish();
  }, o.onionKeyRotateMs ?? 6 * 3600_000);
  void connect();

  return {
    core,
    descriptor: () => current,
    status: () => ({
      did: identity.did,
      signal: signalUrl,
      registered,
      links: pcs.size,
      circuits: core.circuits,
      relayedCells: core.stats.cellsOut,
      published,
    }),
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(republish);
      clearInterval(rotate);
      for (const { fallback } of awaitingReady.values()) clearTimeout(fallback);
      awaitingReady.clear();
      ws?.close();
      core.close();
      for (const pc of pcs) pc.close();
      pcs.clear();
    },
  };
}
