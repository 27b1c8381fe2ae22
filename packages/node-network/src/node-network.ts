// How this node is reached, found out rather than guessed: which STUN servers it has (the ICE
// servers configured, else those of the Cascade trackers it announces to), what they say its
// address is and what kind of NAT it sits behind, what the gateway mapped, and which ICE servers the
// node's WebRTC uses as a result. Probed at start, again when the network changes (interfaces come
// and go, the default route's source address moves) or new trackers appear, and every few minutes.
import os from 'node:os';
import { boundFetch } from '@cascade/engine/bound-fetch';
import type { TrackerFetch } from '@cascade/engine';
import { probeNat, parseStunUrl, routeSource, type NatKind, type StunServer } from '@cascade/reachability/ice';
import type { IceServer } from '@cascade/node/basics';
import type { NodePortMapping } from '@cascade/node/network-host';
import type { NetworkStatus, PortMappingStatus } from '@cascade/shapes';

// What GET /api/network sends (@cascade/shapes).
export type { NetworkStatus, PortMappingStatus };

export interface NodeNetworkDeps {
  /** Every tracker URL the node announces to (its own, the configured ones, its torrents'). */
  trackerUrls(): string[];
  /** The iceServers setting (or the node's fixed list); [] = find them, unless fixed. */
  configuredIceServers(): IceServer[];
  /** True when the list is fixed by the node's options: used as it is, even empty (host candidates only). */
  fixed?(): boolean;
  /** Puts a list in force for new WebRTC connections; relayOnly behind a symmetric NAT with TURN. */
  apply(list: IceServer[], opts: { relayOnly: boolean }): void;
  portMapping?(): PortMappingStatus | undefined;
  /** The BitTorrent listener's bind address, when it names one. */
  bindAddress?: string | undefined;
  fetch?: typeof fetch;
  /** The node's guard for URLs its torrents name (SessionOptions.urlGuard): a tracker the engine
   *  may not contact is not asked for STUN or /ice-servers either. */
  urlGuard?: { fetch: typeof fetch; trackerFetch?: TrackerFetch; check(url: string): Promise<void> } | undefined;
  log?(line: string): void;
  /** Whether a STUN server runs on this host (asked nothing: it would always say "open"). Tests on
   *  loopback say no. */
  isOwnAddress?(host: string): boolean;
}

const WATCH_MS = 15_000;
const REPROBE_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 3_000;

export class NodeNetwork {
  #deps: NodeNetworkDeps;
  #status: NetworkStatus;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #probing: Promise<void> | undefined;
  #again = false;
  #signature = '';
  /** The trackers' hosts, walked from every torrent only when one was added (soon()) or every
   *  REPROBE_MS: at 10,000 torrents the walk costs tens of ms and a heap of garbage, every 15 s. */
  #hosts: string | undefined;
  #hostsAt = 0;
  #turnExpires = Infinity;
  #stopped = false;
  /** soon() looked at once, the one time it does (see there). */
  #eagerDone = false;

  constructor(deps: NodeNetworkDeps) {
    this.#deps = deps;
    this.#status = {
      nat: 'unknown', externalAddress: null, localAddress: null, portMapping: this.#portMapping(), iceServers: [],
      iceSource: 'none', relayOnly: false, stun: {}, reason: 'not probed yet', probedAt: null,
    };
  }

  start(): void {
    void this.refresh();
    this.#timer = setInterval(() => this.#watch(), WATCH_MS);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
  }

  /** Something may have changed (a torrent with trackers was added): look within a second, once
   *  for a burst of adds, and probe only if the trackers' hosts did change. */
  soon(): void {
    this.#hosts = undefined;
    if (this.#stopped) return;
    // The first torrent's trackers may be the only STUN servers this node will know, and its WebRTC
    // offers are made without them until then (a `cascade download`'s connection waited ~1 s
    // longer for this): the first time, with none known yet, look within 100 ms too. Only in
    // addition: a torrent not yet started lists no trackers, and the hosts seen then are kept
    // (#hostsAt), so the look a second later, with the hosts walked again, stays.
    if (!this.#eagerDone && this.#status.iceServers.length === 0) {
      this.#eagerDone = true;
      setTimeout(() => {
        if (this.#stopped) return;
        this.#hosts = undefined;
        this.#watch();
        this.#hosts = undefined;
      }, 100).unref();
    }
    if (this.#soon) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.#hosts = undefined;
      this.#watch();
    }, 1000);
    this.#soon.unref();
  }

  status(): NetworkStatus {
    return { ...this.#status, portMapping: this.#portMapping() };
  }

  /** Probes again now (coalesced: one probe at a time, one more after it if asked meanwhile). */
  refresh(): Promise<void> {
    if (this.#probing) {
      this.#again = true;
      return this.#probing;
    }
    this.#probing = this.#probe()
      .catch((err: Error) => this.#deps.log?.(`network probe failed: ${err.message}`))
      .finally(() => {
        this.#probing = undefined;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          void this.refresh();
        }
      });
    return this.#probing;
  }

  #watch(): void {
    const due = this.#status.probedAt === null || Date.now() - this.#status.probedAt > REPROBE_MS || Date.now() / 1000 > this.#turnExpires - 600;
    if (due || this.#currentSignature() !== this.#signature) void this.refresh();
  }

  /** What, when it changes, calls for a new probe: local addresses and the trackers' hosts. */
  #currentSignature(): string {
    const addrs = Object.values(os.networkInterfaces()).flat().filter((a) => a && !a.internal).map((a) => a!.address).sort();
    if (this.#hosts === undefined || Date.now() - this.#hostsAt > REPROBE_MS) {
      this.#hosts = [...new Set(this.#deps.trackerUrls().map(hostOf).filter(Boolean))].sort().join(',');
      this.#hostsAt = Date.now();
    }
    return `${addrs.join(',')}|${this.#hosts}|${JSON.stringify(this.#deps.configuredIceServers())}`;
  }

  async #probe(): Promise<void> {
    this.#signature = this.#currentSignature();
    const configured = this.#deps.configuredIceServers();
    const useConfigured = configured.length > 0 || this.#deps.fixed?.() === true;
    // The trackers' STUN serves the NAT probe even when the ICE servers are configured.
    const fromTrackers = await this.#trackerIceServers();
    const stunServers = dedupe([...stunOf(configured), ...fromTrackers.stun]).filter((s) => !(this.#deps.isOwnAddress ?? isOwnAddress)(s.host));
    const probe = await probeNat(stunServers, this.#deps.bindAddress ? { bindAddress: this.#deps.bindAddress } : {});
    if (this.#stopped) return;
    const answered = dedupe(fromTrackers.stun).filter((s) => !(probe.answers[`${s.host}:${s.port}`] ?? 'error').startsWith('error'));
    let iceServers: IceServer[];
    let iceSource: NetworkStatus['iceSource'];
    if (useConfigured) {
      iceServers = configured;
      iceSource = 'setting';
    } else {
      iceServers = [...answered.map((s) => ({ urls: [`stun:${hostPort(s)}`] })), ...fromTrackers.turn];
      iceSource = iceServers.length > 0 ? 'trackers' : 'none';
      this.#turnExpires = fromTrackers.expires;
    }
    // Behind a symmetric NAT only a relay reaches peers across the internet (LAN peers come over
    // TCP): the node gathers relay candidates only there, and its connections leave out the peer's
    // candidates no relay can reach (the engine's relayReachableSdp), which would cost the relay.
    const relayOnly = probe.nat === 'symmetric' && iceServers.some((s) => s.urls.some((u) => /^turns?:/i.test(u)));
    this.#deps.apply(iceServers, { relayOnly });
    const localAddress = probe.localAddress ?? (stunServers[0] ? await routeSource(stunServers[0]) : null);
    this.#status = {
      nat: probe.nat, externalAddress: probe.externalAddress, localAddress, portMapping: this.#portMapping(), iceServers, iceSource, relayOnly,
      stun: probe.answers, reason: probe.reason, probedAt: Date.now(),
    };
  }

  /** STUN servers and TURN credentials from the trackers: a udp:// tracker's port answers STUN;
   *  an http(s)/ws(s) Cascade tracker says at /ice-servers what it offers (others answer 404). */
  async #trackerIceServers(): Promise<{ stun: StunServer[]; turn: IceServer[]; expires: number }> {
    const stun: StunServer[] = [];
    const turn: IceServer[] = [];
    let expires = Infinity;
    const iceServerUrls = new Set<string>(); // the trackers' /ice-servers URLs
    for (const url of this.#deps.trackerUrls()) {
      try {
        const u = new URL(url);
        if (u.protocol === 'udp:' && u.port) {
          if (this.#deps.urlGuard && !(await this.#deps.urlGuard.check(url).then(() => true, () => false))) continue;
          stun.push({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) });
        }
        else if (/^(https?|wss?):$/.test(u.protocol)) {
          // A private Cascade tracker's announce URL carries the passkey (/announce/<passkey>): TURN
          // credentials are minted for members only, so the passkey goes along.
          const passkey = /\/announce\/([^/?#]+)/.exec(u.pathname)?.[1];
          iceServerUrls.add(`${u.protocol.replace(/^ws/, 'http')}//${u.host}/ice-servers${passkey ? `/${passkey}` : ''}`);
        }
      } catch {
        // not a URL: nothing to learn from it
      }
    }
    // node:http underneath (the guard's tracker side, or bound-fetch): the global fetch and the
    // Response class load Node's undici (~0.1 CPU-s) at the first probe of every node.
    const given = this.#deps.fetch ?? (this.#deps.urlGuard?.trackerFetch ? undefined : this.#deps.urlGuard?.fetch);
    const getJson = async (url: string): Promise<unknown> => {
      const init = { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' as const };
      if (given) {
        const res = await given(url, init);
        return res.ok ? res.json() : undefined;
      }
      const res = await (this.#deps.urlGuard?.trackerFetch ?? boundFetch(undefined))(url, init);
      if (!res.ok || !res.body) return void (await res.body?.cancel());
      return JSON.parse(await textOf(res.body));
    };
    await Promise.all([...iceServerUrls].map(async (url) => {
      try {
        const json = await getJson(url);
        if (json === undefined) return;
        const body = json as { iceServers?: { urls: unknown; username?: unknown; credential?: unknown }[]; ttl?: number };
        for (const s of body.iceServers ?? []) {
          const urls = (Array.isArray(s.urls) ? s.urls : [s.urls]).filter((x): x is string => typeof x === 'string');
          for (const u of urls.filter((x) => /^stun:/i.test(x))) stun.push(parseStunUrl(u));
          const relays = urls.filter((x) => /^turns?:/i.test(x));
          // Only the fields ICE reads, and only strings: this JSON comes from the network. TURN
          // without credentials is useless (and refused by RTCPeerConnection).
          if (relays.length > 0 && typeof s.username === 'string' && typeof s.credential === 'string') turn.push({ urls: relays, username: s.username, credential: s.credential });
        }
        if (typeof body.ttl === 'number') expires = Math.min(expires, Date.now() / 1000 + body.ttl);
      } catch {
        // not a Cascade tracker, or unreachable: it offers nothing
      }
    }));
    return { stun, turn, expires };
  }

  #portMapping(): PortMappingStatus {
    return this.#deps.portMapping?.() ?? { method: null, externalPort: null, error: 'port mapping is off' };
  }
}

function stunOf(list: IceServer[]): StunServer[] {
  const out: StunServer[] = [];
  for (const s of list) for (const u of Array.isArray(s.urls) ? s.urls : [s.urls]) if (/^stun:/i.test(u)) out.push(parseStunUrl(u));
  return out;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

const hostPort = (s: StunServer) => (s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`);

function dedupe(list: StunServer[]): StunServer[] {
  const seen = new Set<string>();
  return list.filter((s) => !seen.has(hostPort(s)) && seen.add(hostPort(s)));
}

/** A STUN server on this very host says nothing about the way out (it would always answer "open"). */
function isOwnAddress(host: string): boolean {
  if (/^(127\.|::1$|localhost$)/i.test(host)) return true;
  return Object.values(os.networkInterfaces()).flat().some((a) => a?.address === host);
}

/** The node's own NodeNetwork: trackers from its options, its own tracker, and its torrents'. */
export function startNodeNetwork(
  node: {
    ownTrackers(): string[];
    readonly portMapping: Pick<NodePortMapping, 'status'> | undefined;
    session: { list(): Iterable<{ trackers(): { url: string }[] }>; setIceServers?(list: IceServer[] | undefined, opts?: { relayOnly?: boolean }): void };
    fixedIceServers: IceServer[] | undefined;
    model: { settings: { current(): { readonly iceServers: IceServer[] } } };
    out?: { note(line: string): void };
  },
  opts: { trackers: string[]; bindAddress?: string | undefined; urlGuard?: NodeNetworkDeps['urlGuard'] },
): NodeNetwork {
  const network = new NodeNetwork({
    trackerUrls: () => {
      const urls = new Set([...opts.trackers, ...node.ownTrackers()]);
      // Every tracker of every torrent: the engine contacts them anyway, so asking them for STUN
      // reaches no host that would not otherwise be reached.
      for (const t of node.session.list()) for (const tr of t.trackers()) urls.add(tr.url);
      return [...urls];
    },
    // A copy of the one list, not of all the settings (this runs every 15 s).
    configuredIceServers: () => node.fixedIceServers ?? structuredClone(node.model.settings.current().iceServers),
    fixed: () => node.fixedIceServers !== undefined,
    apply: (list, opts) => node.session.setIceServers?.(list, opts),
    portMapping: () => node.portMapping?.status(),
    bindAddress: opts.bindAddress && !/^(0\.0\.0\.0|::)$/.test(opts.bindAddress) ? opts.bindAddress : undefined,
    urlGuard: opts.urlGuard,
  });
  network.start();
  return network;
}

/** A stream's text, refused past 1 MiB (a tracker's /ice-servers answer is a few hundred bytes). */
async function textOf(body: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > 1024 * 1024) throw new Error('answer too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
