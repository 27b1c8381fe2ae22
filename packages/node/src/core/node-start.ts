// Starting a node: the state DB, the engine session with the node's extensions, the control
// endpoint, the node's ICE servers and the network plug-in it is handed. Apart from node.ts so that
// the node's class stays one file's read.
import { StateDB, holdAsSingleNode, type DatabaseLease } from '@cascade/node-state';
import { NodeError, errorMessage } from '@cascade/node-state/errors';
import { stateOpenOptions } from './member-id.ts';
import { torrentUrlGuard } from '@cascade/sources/guarded';
import { connectControl } from './control.ts';
import { loadEngine, type SessionHandle, type SessionOptions } from './engine.ts';
import { IdentifiedPeers } from '../peers/identified-peers.ts';
import { nodeIdentity, useNativeSignatures } from './node-identity.ts';
import { CascadeNode, dhtPortOf, type NodeLog, type NodeOptions, type NodePlugins } from './node.ts';
import type { NodeNetworkProbe, NodePortMapping, NodePrivateDiscovery } from './node-network.ts';
import type { ContentIdMode } from './content-ids.ts';
import { undoUnfinishedMoves } from '@cascade/engine/move-journal';
import { loadModelState } from '../model/index.ts';
import type { NodeCluster } from './node-cluster.ts';
import type { StoragePlugin } from './storage-plugin.ts';

/**
 * How a node becomes a member of a cluster (startNode's `cluster`): made by the layer that starts
 * a member (@cascade/cluster's clusterPlugin, which @cascade/http loads for serve --cluster-url). A
 * single node is started without one, and nothing of the cluster is loaded.
 */
export interface ClusterPlugin {
  /** Joins on the opened, migrated state before anything else holds it (the member's lease, in
   *  place of the single node's), or throws a NodeError: not on PostgreSQL (invalid), a single
   *  node or another live process with this member's id on the database (conflict). */
  join(db: StateDB, stateDir: string, out: NodeLog): Promise<JoinedCluster>;
}

/** A member that joined, as startNode brings it along. */
export interface JoinedCluster extends NodeCluster {
  /** Before the node exists: the change bus (--redis) connects in the background, and publishes
   *  every shared write the Store commits from then on. */
  connect(): Promise<void>;
  /** The node exists: the member keeps its views current and follows it (node.cluster and
   *  node.lease, its figures, holdings, placement and events). */
  follow(node: CascadeNode): Promise<void>;
}

/**
 * How a node is reached and finds peers beyond what its engine does alone (startNode's `network`):
 * made by the layer that starts the node (@cascade/node-network's networkPlugin, which @cascade/http
 * and the CLI's seed and download hand in). A node started without one probes nothing, runs no
 * local service discovery, maps no port and has no private discovery (node-network.ts).
 */
export interface NetworkPlugin {
  /** Before the session exists: private discovery for the engine over the node's identified peers
   *  (they trade relays), or undefined for none. `host`: where its links leave from. */
  privateDiscovery(parts: { host: string | undefined; out: NodeLog; identified: IdentifiedPeers }): Promise<NodePrivateDiscovery | undefined>;
  /** The node exists and listens: what it starts to follow it (the network's probe, LSD, port mapping). */
  follow(
    node: CascadeNode,
    parts: { trackers: string[]; host: string | undefined; urlGuard: SessionOptions['urlGuard']; dhtPort: number | undefined },
  ): Promise<{ network?: NodeNetworkProbe | undefined; portMapping?: NodePortMapping | undefined }>;
}

/** exempt: URLs the torrent URL guard never checks (the node's own and --tracker ones). */
export function sessionOptions(o: NodeOptions, db: StateDB, exempt: () => Iterable<string> = () => o.trackers): SessionOptions {
  const opts: SessionOptions = {
    port: o.port,
    dht: o.dht ? (o.dhtBootstrap.length > 0 ? { bootstrap: o.dhtBootstrap } : {}) : false,
    peerId: db.identity.peerId,
    resumeStore: db.resumeStore,
    // ftp:// mirrors of a torrent are read through basic-ftp (http(s) the engine reads itself),
    // loaded on the first FTP read.
    rangeReaders: { ftp: (url, start, end, signal) => import('@cascade/sources/ftp').then((m) => m.ftpRangeRead(url, start, end, signal)) },
  };
  if (o.host !== undefined) opts.host = o.host;
  if (o.utp === false) opts.utp = false;
  if (o.trackers.length > 0) opts.trackers = o.trackers;
  Object.assign(opts, o.connectionLimits ?? {});
  if (o.privateTorrentUrls !== undefined && o.privateTorrentUrls !== true) {
    const localAddress = o.host && o.host !== '0.0.0.0' && o.host !== '::' ? o.host : undefined;
    opts.urlGuard = torrentUrlGuard({ allowPrivate: o.privateTorrentUrls, exempt, localAddress });
  }
  if (o.iceServers) opts.webrtc = { iceServers: o.iceServers };
  return opts;
}

function friendlyStartError(err: unknown, o: NodeOptions): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new NodeError('failed', 
      `port ${o.port} is already in use${o.port === 6881 ? ' (another BitTorrent client or cascade node?)' : ''}; ` +
        'choose one with --port N, or --port 0 for any free port',
    );
  }
  if (code === 'EACCES') return new NodeError('failed', `not allowed to listen on port ${o.port}; use a port above 1023`);
  if (code === 'EADDRNOTAVAIL') return new NodeError('failed', `cannot listen on ${o.host}: no such local address`);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Opens the state DB, starts the engine session and the control endpoint, and prints the
 * `listening` (and `dht`) events. exclusive: refuse when another node already runs on this state
 * dir (serve); otherwise just leave control.json to that node. reportListening: false leaves the
 * `listening` event to the caller (the server reports its HTTP URL in the same event).
 */
export async function startNode(
  o: NodeOptions,
  out: NodeLog,
  opts: { exclusive?: boolean; reportListening?: boolean; contentIds?: ContentIdMode; cluster?: ClusterPlugin | undefined; network?: NetworkPlugin | undefined; plugins?: NodePlugins | undefined; storage?: StoragePlugin | undefined; stopWhenDataGone?: boolean } = {},
): Promise<CascadeNode> {
  const other = await connectControl(o.stateDir, 5000);
  if (other && opts.exclusive) {
    throw new NodeError('failed', 
      `a cascade node is already running on ${o.stateDir} (pid ${other.info.pid}); stop it or use another --state-dir`,
    );
  }
  // Opened and read into memory (identity, records, resume bitfields, ledgers) before anything
  // reads it synchronously (the session's peer id, the listing).
  const open = stateOpenOptions(o.stateDir, o.database, opts.cluster !== undefined);
  const db = await StateDB.open(o.stateDir, o.memberId !== undefined ? { ...open, memberId: o.memberId } : open);
  // A shared database serves one node at a time, or the members of one cluster: their leases say which.
  let single: DatabaseLease | undefined;
  let member: JoinedCluster | undefined;
  try {
    if (opts.cluster) member = await opts.cluster.join(db, o.stateDir, out);
    else single = await holdAsSingleNode(db.store, o.stateDir);
  } catch (err) {
    await db.close();
    throw err;
  }
  // Moves a crash cut short are put back before any torrent looks for its files. A cluster member's
  // torrent removed through another member while this one was down is known by its tombstone, whose
  // folder its files go back to: that is where the tombstone deletes them (bench:crash --cluster).
  const removedAs = async (ih: string) => {
    const savePath = await db.records.removedCopyPath(ih);
    return savePath === undefined ? undefined : { savePath, renamedFiles: null };
  };
  for (const line of await undoUnfinishedMoves(o.stateDir, async (ih) => db.records.get(ih) ?? (await removedAs(ih)))) out.note(line);
  useNativeSignatures();
  const identified = new IdentifiedPeers(out, db);
  // The node's own trackers are known once it exists (a server sets announceUrls after the start).
  let own: () => Iterable<string> = () => o.trackers;
  let session: SessionHandle;
  let sOpts: SessionOptions;
  let onion: NodePrivateDiscovery | undefined;
  // The node's private shares choose their storage; they exist once the node does, before any load.
  let storageFor: NonNullable<SessionOptions['storageFor']> | undefined;
  let moveData: NonNullable<SessionOptions['moveData']> | undefined;
  try {
    const lib = await loadEngine();
    const extensions = [identified.extension(nodeIdentity(db), lib.CLIENT_NAME)];
    onion = await opts.network?.privateDiscovery({ host: o.host, out, identified });
    sOpts = sessionOptions(o, db, () => own());
    session = await lib.Session.create({
      ...sOpts,
      // A served library whose drive did not mount says so rather than downloading it all again
      // onto the disk under the empty mount point. Not for a cluster member (its copy is fetched from
      // the other holders: the cluster repairs itself) nor a one-shot download (asked to download).
      stopWhenDataGone: opts.stopWhenDataGone === true && !opts.cluster,
      ...(onion ? { privateDiscovery: onion.discovery } : {}),
      extensions,
      // A bucket (issue 61) stands in for the disk; a private share's storage sits on either.
      storageFor: (meta, savePath, standard, base = () => opts.storage?.storageFor(meta, savePath) ?? standard()) => (storageFor ? storageFor(meta, savePath, base) : base()),
      moveData: (meta, from, to, standard) => (moveData ? moveData(meta, from, to, standard) : standard()),
    });
  } catch (err) {
    onion?.close();
    await (member ?? single)?.release();
    await db.close();
    throw friendlyStartError(err, o);
  }
  // A member's change bus: published from the first shared write on; connects in the background.
  await member?.connect();
  const node = new CascadeNode({ session, db, modelState: await loadModelState(db.store), out, identified, downloadDir: o.downloadDir, queue: o.queue, contentIds: opts.contentIds, plugins: opts.plugins });
  // Content ids computed as torrents complete are there before the first torrent is.
  if (opts.plugins?.contentIds && node.content.mode === 'background') await node.content.ready().catch((err: unknown) => out.note(`content ids: ${errorMessage(err)}`));
  if (member) await member.follow(node);
  else if (single) {
    node.lease = single;
    single.keep((reason) => node.failed(reason));
  }
  node.onion = onion;
  node.storage = opts.storage;
  own = () => [...o.trackers, ...node.announceUrls(), ...node.ownTrackers()];
  storageFor = node.privateShares.storageFor;
  moveData = node.privateShares.moveData;
  node.model.movesWith = (ih) => {
    const root = node.privateShares.plaintextRoot(ih);
    return root ? [root] : [];
  };
  if (o.iceServers) node.fixedIceServers = o.iceServers;
  if (opts.reportListening !== false) {
    out.event('listening', { port: session.port });
    out.say(`listening on port ${session.port}`);
  }
  const dhtPort = o.dht ? dhtPortOf(session) : undefined;
  if (dhtPort !== undefined) {
    out.event('dht', { port: dhtPort });
    out.say(`DHT on UDP port ${dhtPort}`);
  }
  if (opts.network) {
    const followed = await opts.network.follow(node, { trackers: o.trackers, host: o.host, urlGuard: sOpts.urlGuard, dhtPort });
    node.network = followed.network;
    node.portMapping = followed.portMapping;
  }
  node.followIceServerSetting();
  try {
    await node.startControl(!other);
  } catch (err) {
    await node.stop().catch(() => {});
    throw err;
  }
  if (other) out.note(`note: another node (pid ${other.info.pid}) owns ${o.stateDir}; verbs will talk to that one`);
  return node;
}
