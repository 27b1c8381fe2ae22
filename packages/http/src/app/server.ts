// startServer: the whole node in one process — the engine session with its DHT, the state DB, the
// built-in tracker (HTTP, UDP and WebSocket), and the web UI + HTTP API + socket.io feed on one
// HTTP port. `cascade serve` (and so `npm start`) is a thin wrapper around this.

import type { IceServerSetting, PortMappingSetting } from '@cascade/shapes';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Server as SocketServer } from 'socket.io';
import { startTracker, type RunningTracker } from '@cascade/tracker';
import { privateTorrentUrlsFor, publicAnnounceUrls } from '@cascade/node/features';
import { silentLog, type CascadeNode, type NodeLog, type NodeOptions } from '@cascade/node';
import { startNode } from '@cascade/node';
import { NodeError, errorMessage, nodeClusterView } from '@cascade/node';
import { buildApp } from './app.ts';
import { checkMetricsToken } from '../routes/metrics.ts';
import { compatOps } from '../compat/compat-ops.ts';
import { LiveFeed } from '../feed/live.ts';
import { openChatRelay, PostgresChatStore } from '@cascade/chat/server';
import { loadLibrary } from '@cascade/node/features';
import { DEFAULT_WEB_ROOT } from './web.ts';
import type { ApiContext } from './context.ts';
import type { QueueOptions } from '@cascade/node/features';
import type { ConnectionLimits } from '@cascade/node';
import type { StoragePlugin } from '@cascade/node';
import { followTrustedProxies, setUpAuth, trustedProxiesOf } from '../auth/setup.ts';
import { nodeIdentity } from '@cascade/node';
import { makeDirsSync } from '@cascade/engine/make-dirs';
import { setTorrentLimits, type TorrentLimits } from '@cascade/engine';
import { RssService, rssRpc, nodeAdd } from '@cascade/rss';
import { startAssistant, assistantRpc } from '@cascade/node-assistant';
import type { ChainConfig } from '@cascade/rewards';
import type { ReceiptTerms } from '@cascade/rewards';
import { networkPlugin, type OnionOptions } from '@cascade/node-network';
import { attachRewards } from '@cascade/rewards';
import { wireMarket } from './market.ts';
import { checkGgufFile, isLocalLlm, loadNodeLlamaCpp, type LlmConfig } from '@cascade/assistant';


/** How long stopping the node lets HTTP responses in flight finish before it cuts them. */
const CLOSE_GRACE_MS = 2000;
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_BT_PORT = 6881;
/** The usual tracker port (opentracker's); HTTP on TCP and UDP share the number. */
export const DEFAULT_TRACKER_PORT = 6969;
export const DEFAULT_MAX_UPLOAD = 4 * 1024 ** 3;

export interface ServerOptions {
  stateDir: string;
  /** Torrents' data in a bucket (issue 61: serve --storage s3://…, made by the CLI from
   *  @cascade/storage-s3); omitted: the disk. The caller closes it after the server. */
  storage?: StoragePlugin;
  /** A postgres:// URL: the node's state in that database, not <stateDir>/cascade.db (issue 42). */
  database?: string;
  /** A cluster member on `database` (serve --cluster-url URL, --redis URL): its HTTP address as the
   *  other members reach it, and the Redis for the change fan-out (issue 42; docs/cluster.md). */
  cluster?: { url: string; redis?: string };
  /** A cluster member's id given outright (NodeOptions.memberId); omitted = its state dir's. */
  memberId?: string;
  /** Web UI + API port; 0 = any. Default 8080. */
  httpPort?: number;
  /** Bind address of the web UI and API. Default 127.0.0.1: only this machine. */
  host?: string;
  /** Bind address of the built-in tracker. Default the BitTorrent listener's (btHost: '::'), as
   *  libtorrent's and qBittorrent's embedded trackers listen where peers can reach them. */
  trackerHost?: string;
  /** Where uploads and added torrents go. Default `<stateDir>/downloads`. */
  downloadDir?: string;
  /** BitTorrent TCP port; 0 = any. Default 6881. */
  btPort?: number;
  /** BitTorrent bind address. Default 0.0.0.0: peers must be able to connect. */
  btHost?: string;
  /** false = no DHT; omitted = public bootstrap routers. */
  dht?: false | { bootstrap: string[] };
  /** false: BitTorrent over TCP only (`serve --no-utp`); omitted = uTP beside TCP. */
  utp?: boolean;
  /** Public trackers: added to every torrent, and to the announce list of torrents made from uploads. */
  trackers?: string[];
  /** Ports of the built-in tracker (default 6969 for both; 0 = any), or false for none. */
  trackerPorts?: false | { http?: number; udp?: number };
  /** Most bytes one upload may carry. Default 4 GiB. */
  maxUploadBytes?: number;
  /** How long a streaming response waits for one missing piece. Default 120 s. */
  streamWaitMs?: number;
  /** URLs added by `{"uri": "http…"}` may reach loopback, private and link-local addresses
   *  (`serve --allow-private-urls`). Default false: public addresses only (no SSRF). */
  allowPrivateUrls?: boolean;
  /** The engine's connection limits (docs/security.md, "Hostile peers"); each omitted one keeps its default. */
  connectionLimits?: ConnectionLimits;
  /** The built web app. Default packages/web/dist. */
  webRoot?: string;
  /** STUN/TURN URLs the node's WebRTC peers use; omitted = the engine's default; [] = host candidates only. */
  iceServers?: string[];
  /** Extra browser origins allowed to call the API (a web dev server). */
  allowedOrigins?: string[];
  /** Host names the node answers to besides IP addresses and localhost (refused otherwise: DNS rebinding). */
  allowedHosts?: string[];
  /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For / Forwarded name the client:
   *  for the claim's tries, the chat's per-address budgets and the tracker's rate limits
   *  (`serve --trusted-proxy`, CASCADE_TRUSTED_PROXY). Stored as the trustedProxies setting, which
   *  can change while the node runs; omitted: the setting as stored (default none). */
  trustedProxies?: string[];
  /** Node events and messages (the CLI passes its Output). Default silent. */
  log?: NodeLog;
  /** One line for a failure of a service the node depends on (the CLI's: what failed, at which
   *  address, and what to do); default: the error's first line. A library's multi-line message
   *  (viem's, for a chain that does not answer) must not reach the console whole. */
  describeFailure?: (err: unknown) => string;
  /** How others reach this node's tracker ("https://cascade.example.org"): stored as the publicUrl
   *  setting, whose /announce (and ws form) new torrents and magnets carry. Omitted: the setting as stored. */
  publicUrl?: string | null;
  /** `serve --ice-server`: stored as the iceServers setting (the node's WebRTC and its web UI use it).
   *  Omitted: the setting as stored. */
  iceServersSetting?: IceServerSetting[];
  /** `cascade serve`: map the ports on the gateway as the portMapping setting says (tests and other
   *  embedders leave it off; CASCADE_PORT_MAPPING overrides the setting). */
  mapPorts?: boolean;
  /** `serve --port-mapping`: stored as the portMapping setting. Omitted: the setting as stored. */
  portMappingSetting?: PortMappingSetting;
  /** BEP 14 local service discovery: 'setting' (`cascade serve`) follows the lsd setting; 'on' /
   *  'off' for this run. Omitted: off (tests and other embedders); CASCADE_LSD overrides. */
  lsd?: 'setting' | 'on' | 'off';
  /** Fastify's request log (pino) on stdout. Default off. */
  logger?: boolean;
  /** Limits on the .torrents this process accepts (files, pieces, bytes, bencode depth and values);
   *  unset ones keep the engine's defaults (DEFAULT_TORRENT_LIMITS). Process-wide. */
  torrentLimits?: Partial<TorrentLimits>;
  /** The queue's clock and timer period (tests drive the alt-speed schedule with their own clock). */
  queue?: QueueOptions;
  /** A second Bearer credential that may read GET /metrics and nothing else (for Prometheus);
   *  the API token reads it too. `serve --metrics-token` / CASCADE_METRICS_TOKEN. */
  metricsToken?: string;
  /** What the assistant writes its answers with: an OpenAI-compatible endpoint (serve --llm-url,
   *  --llm-model, --llm-key / CASCADE_LLM_KEY) or a local GGUF model (--llm-gguf, through
   *  node-llama-cpp); omitted = the built-in answers. Only an endpoint sends anything off the machine. */
  llm?: LlmConfig;
  /** The assistant's help entries. Default: the repo's docs/help. */
  helpDir?: string;
  /** The node's chain (issue 13): false for none; default the embedded dev chain. */
  chain?: ChainConfig;
  /** When receipts are sent and claims made (defaults: a receipt per MiB, no automatic claim). */
  receipts?: ReceiptTerms;
  /** A Kubo RPC API (http://host:5001) the metadata blocks of registered torrents are pinned to. */
  ipfsApi?: string;
  /** Private discovery through these onion directories (issue 14); byDefault: every add uses it. */
  onion?: OnionOptions;
  /** Relay for others (`serve --relay`): on this port (0 = any), an exit unless exit is false;
   *  published to onion.directories. */
  relay?: { port: number; exit: boolean };
}

export interface RunningServer {
  /** Base URL of the web UI and API, e.g. http://127.0.0.1:8080 */
  url: string;
  httpPort: number;
  node: CascadeNode;
  tracker: RunningTracker | undefined;
  /** The live feed's socket.io server: made by its first request (a cluster member's at start). */
  readonly io: SocketServer | undefined;
  app: FastifyInstance;
  /** The node's API token (Authorization: Bearer …), as `cascade token` prints it; rotatable. */
  readonly token: string;
  /** The one-time claim code while the node has no owner (`cascade claim-code`), else undefined. */
  claimCode(): Promise<string | undefined>;
  /** The node's own did:key and Ethereum account. */
  identity: { did: string; address: string };
  /** Whether an owner has claimed the node yet. */
  claimed(): Promise<boolean>;
  /** Resolves (with how many loaded) once the stored library has been re-added. */
  ready: Promise<number>;
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function portError(err: unknown, what: string, port: number, flag: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new NodeError('failed', `${what} port ${port} is already in use; choose one with ${flag} N (0 = any free port)`);
  if (code === 'EACCES') return new NodeError('failed', `not allowed to listen on ${what} port ${port}; use a port above 1023`);
  if (code === 'EADDRNOTAVAIL') return new NodeError('failed', `cannot listen on that address for the ${what}: no such local address`);
  return err instanceof Error ? err : new Error(String(err));
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = opts.log ?? silentLog;
  const host = opts.host ?? '127.0.0.1';
  const stateDir = resolve(opts.stateDir);
  const downloadDir = resolve(opts.downloadDir ?? join(stateDir, 'downloads'));
  makeDirsSync(downloadDir);
  if (opts.torrentLimits) setTorrentLimits(opts.torrentLimits);
  // A bad --trusted-proxy fails the start before anything starts.
  if (opts.trustedProxies) trustedProxiesOf(opts.trustedProxies);
  // A bad token fails the start before anything listens.
  if (opts.metricsToken !== undefined) checkMetricsToken(opts.metricsToken);
  // So does a --llm-gguf that is no model file, or node-llama-cpp missing: the model itself loads
  // after the start, in the background.
  if (opts.llm && isLocalLlm(opts.llm)) {
    await checkGgufFile(opts.llm.gguf);
    await loadNodeLlamaCpp();
  }

  const nodeOptions: NodeOptions = {
    stateDir,
    ...(opts.database !== undefined ? { database: opts.database } : {}),
    ...(opts.memberId !== undefined ? { memberId: opts.memberId } : {}),
    port: opts.btPort ?? DEFAULT_BT_PORT,
    host: opts.btHost,
    dht: opts.dht !== false,
    dhtBootstrap: opts.dht ? opts.dht.bootstrap : [],
    trackers: opts.trackers ?? [],
    ...(opts.utp === false ? { utp: false } : {}),
    iceServers: opts.iceServers?.map((url) => ({ urls: [url] })),
    downloadDir,
    queue: opts.queue,
    // URLs inside torrents (web seeds, trackers) as the node's typed URLs, unless only this
    // machine or LAN can reach its API (torrent-url-guard.ts).
    privateTorrentUrls: opts.allowPrivateUrls === true || privateTorrentUrlsFor(host) ? true : false,
    ...(opts.connectionLimits ? { connectionLimits: opts.connectionLimits } : {}),
  };
  // How the node is reached and finds peers (@cascade/node-network): the network's probe, LSD, port
  // mapping, private discovery (its onion client loaded only with directories).
  const network = networkPlugin({ onion: opts.onion, mapPorts: opts.mapPorts === true, portMappingSetting: opts.portMappingSetting, lsd: opts.lsd });
  // A cluster's member joins with @cascade/cluster, loaded only then: a single node never loads it.
  const cluster = opts.cluster ? (await import('@cascade/cluster')).clusterPlugin(opts.cluster) : undefined;
  // Its private shares load the first time it meets one, its content ids with it (computed as torrents complete).
  const plugins = {
    privateShares: () => import('@cascade/private-node').then((m) => m.openPrivateShares),
    contentIds: () => import('@cascade/content-node').then((m) => m.openContentIds),
  };
  const node = await startNode(nodeOptions, log, { exclusive: true, reportListening: false, cluster, network, plugins, storage: opts.storage, stopWhenDataGone: true });

  const cleanups: (() => Promise<void> | void)[] = [() => node.stop()];
  let libraryLoaded = false;
  let stopping = false;
  const unwind = async () => {
    stopping = true;
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
  };

  try {
    const proxies = await followTrustedProxies(node, opts.trustedProxies);
    let tracker: RunningTracker | undefined;
    if (opts.trackerPorts !== false) {
      const tp = opts.trackerPorts ?? {};
      const httpPort = tp.http ?? DEFAULT_TRACKER_PORT;
      // Peers on other machines announce to it (the torrents it makes name it): it listens where the
      // BitTorrent listener does, not on the web UI's loopback address. A wildcard bind keeps naming
      // the web UI's address in its URLs (reachable through it, and what torrents made so far say).
      const bind = opts.trackerHost ?? opts.btHost ?? '::';
      const wildcard = bind === '::' || bind === '0.0.0.0';
      const tOpts = { host: bind, ...(wildcard ? { urlHost: host } : {}), httpPort, udpPort: tp.udp ?? DEFAULT_TRACKER_PORT, ws: true, proxies };
      try {
        tracker = await startTracker(tOpts).catch((err: NodeJS.ErrnoException) => {
          // '::' on a machine without IPv6: IPv4 alone, as the BitTorrent listener does.
          if (bind !== '::' || opts.trackerHost !== undefined || (err.code !== 'EAFNOSUPPORT' && err.code !== 'EADDRNOTAVAIL')) throw err;
          return startTracker({ ...tOpts, host: '0.0.0.0' });
        });
      } catch (err) {
        throw portError(err, 'tracker', httpPort, '--tracker-port');
      }
      const t = tracker;
      // Closed after the node, whose torrents still announce "stopped" to it on the way out.
      cleanups.unshift(() => t.close());
    }

    // One place decides the node's trackers, for every door a torrent comes through: uploads and API
    // adds (routes/add.ts), control adds (cascade add), the library. The default save path is the
    // downloadDir setting (node.model), which `downloadDir` seeds on a fresh state dir.
    const localTrackers = () =>
      tracker ? [tracker.httpAnnounceUrl, tracker.udpAnnounceUrl, ...(tracker.wsAnnounceUrl ? [tracker.wsAnnounceUrl] : [])] : [];
    // A public URL (setting or --public-url) stands for the built-in tracker in what others get.
    node.announceUrls = () => {
      const pub = node.model.getSettings().publicUrl;
      const own = pub && tracker ? Object.values(publicAnnounceUrls(pub)) : localTrackers();
      return [...own, ...(opts.trackers ?? [])];
    };
    node.ownTrackers = localTrackers;
    // The node's torrents announce to the built-in tracker in-process (one call for its HTTP and
    // UDP URLs): 10,000 torrents would otherwise each send HTTP + UDP requests to this very process.
    if (tracker) {
      const t = tracker;
      // Its WebSocket tier too: the seeds' re-announces (5.6 a second at 10,000) cost 0.9% of a core
      // through two WebSocket stacks; browsers' offers still reach us through the tracker as before.
      const connectWs = t.connectLocalWebSocket;
      const webSocket = t.wsAnnounceUrl && connectWs ? { url: t.wsAnnounceUrl, connect: () => connectWs() as unknown as WebSocket } : undefined;
      node.session.setLocalTracker?.({ urls: [t.httpAnnounceUrl, t.udpAnnounceUrl], announce: (req) => t.announceLocal(req), ...(webSocket ? { webSocket } : {}) });
    }
    node.model.reach = { hosts: [host, opts.btHost ?? '::'], dht: opts.dht !== false };
    // The flag only seeds the setting: once changed (Settings, PATCH /api/settings) the setting wins. Say so.
    const inUse = node.model.getSettings().downloadDir;
    if (opts.downloadDir !== undefined && inUse !== downloadDir) {
      log.note(`note: downloads go to ${inUse} (the downloadDir setting), not ${downloadDir}; change it in Settings or with \`cascade settings downloadDir DIR\``);
    }
    if (opts.publicUrl !== undefined) await node.model.setSettings({ publicUrl: opts.publicUrl });
    if (opts.iceServersSetting !== undefined) await node.model.setSettings({ iceServers: opts.iceServersSetting });

    let live: LiveFeed | undefined;
    let httpPort = 0;
    const authParts = await setUpAuth(node, {
      stateDir,
      log,
      proxies,
      ...(opts.allowedOrigins ? { allowedOrigins: opts.allowedOrigins } : {}),
      ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}),
    });
    const { auth } = authParts;
    const id = nodeIdentity(node.db);
    if (opts.relay && opts.onion) {
      const { startNodeRelay } = await import('@cascade/node-network/onion');
      const relay = await startNodeRelay(
        {
          identity: id,
          host: opts.btHost && opts.btHost !== '0.0.0.0' ? opts.btHost : host,
          port: opts.relay.port,
          directories: opts.onion.directories,
          exit: opts.relay.exit,
          ...(opts.dht === false ? { dhtBootstrap: [] } : opts.dht && opts.dht.bootstrap.length > 0 ? { dhtBootstrap: opts.dht.bootstrap } : {}),
        },
        log,
      );
      cleanups.push(() => relay.close());
      network.onion?.gossip.setOwn(() => relay.descriptor());
      if (network.onion) network.onion.relay = relay;
      const d = relay.descriptor();
      log.event('relay', { port: relay.port, tcp: d.tcp, ws: d.ws, exit: d.exit !== null });
      log.say(`onion relay on ${d.tcp}${d.exit ? ' (discovery exit)' : ''}`);
    }
    const allowPrivateUrls = opts.allowPrivateUrls ?? false;
    const rss = new RssService({
      db: node.db,
      add: nodeAdd({ node, downloadDir, allowPrivateUrls, changed: () => live?.poke() }),
      allowPrivateUrls,
      changed: () => live?.poke(),
      log: (line) => log.note(line),
      ...(node.cluster ? { refreshesHere: () => node.cluster?.isCoordinator === true } : {}),
    });
    // A member that becomes the coordinator takes the feeds' timer over.
    node.cluster?.on('coordinator', (holds) => holds && libraryLoaded && rss.start());
    // Before node.stop() (cleanups run last first): a take in flight still writes to the DB.
    cleanups.push(() => rss.close());
    node.control?.extend(rssRpc(rss));
    // Built before the library loads, so it sees every torrent's hash failures and bans.
    const helper = startAssistant(node, {
      bittorrentHost: opts.btHost ?? '::',
      ...(opts.helpDir !== undefined ? { helpDir: opts.helpDir } : {}),
      ...(opts.llm ? { llm: opts.llm } : {}),
      log: (line) => log.note(line),
      // The market's findings (issue 62); `market` is wired below, before any question can come.
      market: () => market.assistantView(),
    });
    cleanups.push(() => helper.close());
    node.control?.extend(assistantRpc(node, helper.assistant));
    // `cascade cluster`: a node not in a cluster names itself by its public URL, else its own.
    node.control?.extend({ cluster: () => nodeClusterView(node, node.model.getSettings().publicUrl ?? `http://${urlHost(host)}:${httpPort}`) });
    // The chain and seeding receipts (issue 13): the receipts' watcher goes on before the library loads.
    const rewards = attachRewards(node, opts.chain ?? {}, opts.receipts, opts.ipfsApi ? { ipfsApi: opts.ipfsApi } : {});
    cleanups.push(() => rewards.close());
    // The market (issue 62): its RPCs now, @cascade/market loaded when first used or once the chain
    // runs with a market contract, whenever it starts (its watchers deliver this node's sales and
    // open its purchases).
    const market = wireMarket(node, rewards.chain, (e) => {
      live?.poke();
      if (e) live?.market(e);
    });
    node.control?.extend(market.rpc);
    cleanups.push(() => market.close());
    const ctx: ApiContext = {
      chat: {},
      chain: rewards.chain,
      chainRpc: rewards.handlers,
      marketRpc: market.rpc,
      node,
      auth,
      rss,
      // The setting, so a change applies to the next add or upload at once.
      get downloadDir() {
        return node.model.getSettings().downloadDir;
      },
      maxUploadBytes: opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD,
      streamWaitMs: opts.streamWaitMs ?? 120_000,
      allowPrivateUrls,
      bittorrentHost: opts.btHost ?? '::',
      httpHost: host,
      announceUrls: () => node.announceUrls(),
      endpoints: () => ({
        http: httpPort,
        tracker: tracker && {
          http: tracker.httpAnnounceUrl,
          udp: tracker.udpAnnounceUrl,
          ws: tracker.wsAnnounceUrl,
          httpPort: tracker.httpPort,
          udpPort: tracker.udpPort,
        },
      }),
      changed: () => live?.poke(),
      readiness: () => ({ libraryLoaded, stopping }),
      ...(tracker ? { trustForwarder: tracker.trustForwarder } : {}),
    };

    const app = await buildApp(ctx, {
      webRoot: opts.webRoot ?? DEFAULT_WEB_ROOT,
      compat: compatOps(ctx, auth.token),
      metricsToken: opts.metricsToken,
      assistant: helper.assistant,
      ...(opts.logger ? { logger: true } : {}),
    });
    cleanups.push(async () => {
      // Requests in flight get a moment to finish; a response that would run on (a film playing from
      // a torrent still downloading, a long download through the API) is cut after it, so stopping
      // the node never waits on a viewer (fastify's close would, until the last byte).
      const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
    });
    const appClose = cleanups.length - 1;
    const feed = new LiveFeed(app.server, node, auth.gate, auth.holds);
    live = feed;
    node.changed = () => feed.poke();
    if (opts.cluster?.redis !== undefined) {
      // Loaded only for a cluster's member: a single node never loads Redis. Its connections close
      // after the HTTP server (cleanups run last first), whose socket.io rooms unsubscribe through them.
      // A member's socket.io is made now, not at its first client: the adapter joins it to the others'.
      const adapter = (await import('../feed/cluster-adapter.ts')).attachRedisAdapter(await feed.load(), opts.cluster.redis);
      cleanups.splice(appClose, 0, () => adapter.close());
    }
    // Before app.close(): socket.io's long-lived connections would otherwise hold the server open.
    cleanups.push(() => feed.close());
    cleanups.push(() => auth.holds.close());
    // Another member's writes: feed sockets of a user removed there go, RSS timers follow its feeds.
    for (const table of ['members', 'sessions']) node.cluster?.onTable(table, () => auth.changed());
    for (const table of ['rss_feeds', 'rss_settings']) node.cluster?.onTable(table, () => libraryLoaded && rss.start());
    // End-to-end encrypted chat on the same socket.io server (namespace /chat); it stores ciphertext only.
    // A node on PostgreSQL relays chat from it too (chat_* tables); else its state dir's chat.db. Its
    // store opens (and is pruned) now; its namespace is there when socket.io is, for its first client.
    const chatStore = node.db.store.dialect === 'postgres' ? { store: await PostgresChatStore.open(node.db.store) } : {};
    const chat = openChatRelay({ dbPath: join(stateDir, 'chat.db'), ...chatStore, log: (line) => log.event('chat', { line }), clientAddress: (req) => proxies.clientAddress(req) });
    feed.withIo((io) => chat.attach(io));
    cleanups.push(() => chat.close());
    ctx.chat!.contactsOf = (did) => chat.contactsOf(did);

    const wantPort = opts.httpPort ?? DEFAULT_HTTP_PORT;
    try {
      await app.listen({ port: wantPort, host });
    } catch (err) {
      throw portError(err, 'HTTP', wantPort, '--http-port');
    }
    httpPort = (app.server.address() as AddressInfo).port;
    const describe = opts.describeFailure ?? ((err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!);
    const chainLog = (line: string, failure?: unknown) => log.note(failure === undefined ? line : `chain: not started: ${describe(failure)}`);
    // An external chain starts now, in the background. The embedded dev chain (viem loaded, anvil
    // spawned: ~0.5 CPU-s, ~28 MB here and ~26 MB in anvil) starts at its first need (issue 64; ChainService's header says
    // which), or now when its saved state has market listings: the market's watchers deliver this
    // node's sales and open its purchases from the start.
    if (opts.chain && opts.chain.rpcUrl) rewards.start(chainLog);
    else {
      rewards.startWhenNeeded(chainLog);
      void rewards.marketListed().then((listed) => listed && rewards.start(chainLog));
    }
    market.start();

    const ready = loadLibrary(node, log)
      .then((n) => {
        libraryLoaded = true;
        feed.poke();
        // Rules see the stored torrents as loaded, so a take never re-adds one.
        rss.start();
        return n;
      })
      .catch((err: unknown) => {
        // Only possible when the node is being stopped under the load.
        log.note(`loading the library stopped: ${errorMessage(err)}`);
        return 0;
      });

    let closing: Promise<void> | undefined;
    return {
      url: `http://${urlHost(host)}:${httpPort}`,
      httpPort,
      node,
      tracker,
      get io() {
        return feed.io;
      },
      app,
      get token() {
        return auth.token.value;
      },
      claimCode: authParts.claimCode,
      identity: auth.node,
      claimed: async () => (await auth.store.owner()) !== undefined,
      ready,
      close: () => (closing ??= unwind()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
