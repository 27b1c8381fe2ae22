// `cascade download <id> -o <dir>`: fetch one torrent and exit 0 when every selected piece is
// verified (or keep seeding with --seed); a plain file's URL goes to download-plain.ts instead
// (download-plan.ts picks). --json prints a progress event about every 500 ms, with the bytes each
// source gave (peers, web seeds, --mirror URLs); on a terminal a live progress line is redrawn.

import { resolve } from 'node:path';
import { loadEngine } from '../core/engine.ts';
import { errorMessage, startNode, type CascadeNode } from '@cascade/node';
import { nodePlugins } from '../core/node-plugins.ts';
import { networkPlugin } from '@cascade/node-network';
import { CliError } from '../core/errors.ts';
import type { DescribedSource } from '../download/source.ts';
import { chainFor } from './chain-attach.ts';
import { planDownload } from '../download/download-plan.ts';
import type { GatewayResult } from '../download/ipfs-download.ts';
import { ensureOutputDir, ensureStateDir } from '../core/writable-dir.ts';
import { waitForStopSignal } from '../core/signals.ts';
import { waitForDone } from '../download/torrent-wait.ts';
import { ProgressDisplay, progressLine } from '../output/progress.ts';
import { formatBytes, formatDuration, formatSpeed } from '../output/format.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';
import type { TorrentHandle, TorrentStats } from '../core/engine.ts';

const JSON_PROGRESS_MS = 500;
/** How long a content id is looked for on the DHT by default (a node just started is still joining). */
const CONTENT_LOOKUP_S = 30;
const PLAIN_PROGRESS_MS = 5000;

/** Rejects after `seconds` pass with no movement (bytes, verified pieces, metadata, state). */
function stallTimeout(t: TorrentHandle, seconds: number): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    let last = '';
    let lastChange = Date.now();
    timer = setInterval(() => {
      const s = t.stats();
      const sig = `${s.downloaded}/${s.verifiedPieces}/${s.pieceCount}/${s.state}`;
      if (sig !== last) {
        last = sig;
        lastChange = Date.now();
      } else if (Date.now() - lastChange >= seconds * 1000) {
        const what = s.pieceCount === undefined ? 'no metadata received' : 'no data received';
        reject(new CliError(`timed out: ${what} for ${seconds}s (${s.peers} peers connected; ${s.peers === 0 ? trackersSay(t) : 'are any reachable?'})`));
      }
    }, Math.min(1000, seconds * 250));
  });
  return { promise, cancel: () => clearInterval(timer) };
}

/** With no peer: when every tracker failed, that is why (the engine's word for each); else the question. */
function trackersSay(t: TorrentHandle): string {
  const trackers = t.trackers();
  const failed = trackers.filter((tr) => tr.status === 'error');
  if (trackers.length === 0 || failed.length < trackers.length) return 'are any reachable?';
  const list = failed.map((tr) => `${tr.url}${tr.message ? `: ${tr.message}` : ''}`).join(', ');
  return `no tracker answered: ${list}; start ${failed.length === 1 ? 'it' : 'them'}, or give a peer with --peer`;
}

function progressEvent(s: TorrentStats, t: TorrentHandle): Record<string, unknown> {
  const lsd = t.discovery().lsd;
  return {
    progress: s.progress,
    downloadSpeed: s.downloadSpeed,
    uploadSpeed: s.uploadSpeed,
    peers: s.peers,
    eta: Number.isFinite(s.eta) ? s.eta : null,
    verifiedPieces: s.verifiedPieces,
    pieceCount: s.pieceCount ?? null,
    // Payload bytes this run, both ways, and how many copies the connected peers hold (issue 60's lab reads them).
    downloaded: s.downloaded,
    uploaded: s.uploaded,
    distributedCopies: t.distributedCopies?.() ?? null,
    sources: (t.sources?.() ?? []).map((x) => ({ kind: x.kind === 'webseed' ? 'mirror' : 'peer', address: x.address, downloaded: x.downloaded, ...(x.banned ? { banned: true } : {}) })),
    // Peers heard by local service discovery (BEP 14), when it runs for this torrent.
    ...(lsd?.enabled ? { lsdPeers: lsd.peersFound } : {}),
  };
}

/** The DHT's answer for `cid`, asked again until `seconds` pass while it knows nothing yet. */
async function findContent(node: CascadeNode, cid: string, seconds: number, out: Output): Promise<DescribedSource> {
  out.note(`looking up ${cid} on the DHT`);
  const end = Date.now() + seconds * 1000;
  for (;;) {
    try {
      const found = await node.content.findContent(cid);
      out.event('found', { cid, infoHash: found.row.infoHash, infoHashV2: found.row.infoHashV2, name: found.row.name, publisher: found.row.publisher, providers: found.row.providers });
      return { source: found.magnet, infoHash: found.row.infoHash ?? found.row.infoHashV2!, name: found.row.name, length: found.row.length, pieceCount: undefined, trackers: [] };
    } catch (err) {
      if (!/was found/.test(errorMessage(err)) || Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function downloadCommand(inv: Invocation, out: Output): Promise<number> {
  const o = inv.options;
  // Validate the argument before a node starts: bad input is a usage error (exit 2).
  const plan = await planDownload(inv.positionals[0]!, o, loadEngine);
  const dir = resolve(o.output ?? o.dir ?? '.');
  await ensureOutputDir(dir);
  // A plain file's downloader and the IPFS gateways' (multiformats, the CAR reader) are imported
  // only by a download that uses them: a torrent's loads neither (issue 64 item 4).
  if (plan.kind === 'plain') return (await import('../download/download-plain.ts')).downloadPlainFile(plan.urls, plan.sha256, dir, out);
  await ensureStateDir(o.stateDir);
  // IPFS trustless gateways beside the swarm (issue 61): the first to give the whole file, checked
  // block by block, wins; a UnixFS CID is not on the DHT, so the gateways alone fetch one.
  const gateways = plan.kind === 'content' ? (plan.gateways ?? []) : [];
  const ipfsStop = new AbortController();
  const gatewayLib = plan.kind === 'content' && gateways.length > 0 ? await import('../download/ipfs-download.ts') : undefined;
  const gatewaysFailed = (err: unknown) => gatewayLib?.gatewaysFailed(err);
  const ipfs = plan.kind === 'content' && gatewayLib ? gatewayLib.downloadFromGateways(plan.cid, gateways, dir, out, ipfsStop.signal) : undefined;
  const ipfsDone = (r: GatewayResult) => {
    const cid = (plan as { cid: string }).cid;
    out.event('done', { path: r.path, length: r.bytes, cid, gateway: r.gateway, blocks: r.blocks });
    out.event('verified', { cid, path: r.path });
    out.say(`done: ${r.path} — ${formatBytes(r.bytes)} from IPFS gateway ${r.gateway} (${r.blocks} blocks, each checked)\nverified: ${r.path} is ${cid}`);
    return 0;
  };
  if (ipfs && (await import('@cascade/content/cid')).isUnixfsCid((plan as { cid: string }).cid)) {
    try {
      return ipfsDone(await ipfs);
    } catch (err) {
      throw gatewaysFailed(err) ?? new CliError(errorMessage(err), 1, { cause: err });
    }
  }
  // Settles only when the gateways gave the file: a failure there leaves the swarm to go on.
  const ipfsWon = ipfs ? ipfs.then((r) => ({ ipfs: r }), (err: unknown) => (ipfsStop.signal.aborted || out.note(gatewaysFailed(err)?.message ?? errorMessage(err)), new Promise<never>(() => {}))) : undefined;
  const stop = waitForStopSignal();
  // A one-shot download does not read its file back for content ids (issue 40): it computes them
  // only when it serves the file (--seed) or was asked for one (a download by content id).
  // Its network: the probe and the trackers' ICE servers (its WebRTC's STUN), LSD only with --lsd,
  // private discovery (the onion client, loaded only then) with --directory; it maps no port.
  const network = networkPlugin({ onion: o.onion, lsd: o.lsd });
  const node = await startNode(o, out, { contentIds: o.seed ? 'background' : 'on-demand', network, plugins: nodePlugins }).catch((err: unknown) => {
    ipfsStop.abort(); // no node, no download: the gateways' fetch stops with it
    throw err;
  });
  void node.fatal.then((reason) => stop.failWith(reason));
  // The embedded chain starts only when something needs it (chain-attach.ts): never for a transfer.
  const chain = chainFor(node, o, out);
  let ticker: NodeJS.Timeout | undefined;
  const display = out.interactive ? new ProgressDisplay(out.stdout) : undefined;
  const cleanups: (() => void)[] = [];
  try {
    // A content id: the torrent the DHT's records say holds it (a magnet naming its providers).
    const cid = plan.kind === 'content' ? plan.cid : undefined;
    let described: DescribedSource;
    if (plan.kind === 'content') {
      const found = findContent(node, plan.cid, o.timeout ?? CONTENT_LOOKUP_S, out);
      found.catch(() => {}); // awaited below; a look-up the gateways outran must not go unhandled
      try {
        const first = await (ipfsWon ? Promise.race([found, ipfsWon]) : found);
        if ('ipfs' in first) return ipfsDone(first.ipfs);
        described = first;
      } catch (err) {
        if (!ipfs) throw err;
        // Not on the DHT: the gateways may still give it.
        try {
          return ipfsDone(await ipfs);
        } catch (e) {
          throw new CliError(`${errorMessage(err)}; ${(gatewaysFailed(e)?.message ?? errorMessage(e))}`, 1, { cause: e });
        }
      }
    } else described = plan.described;
    const mirrors = plan.kind === 'torrent' ? plan.mirrors : [];
    const opts = {
      savePath: dir,
      ...(o.peers.length > 0 ? { peers: o.peers } : {}),
      ...(mirrors.length > 0 ? { mirrors } : {}),
      ...(o.onion?.byDefault ? { privateDiscovery: true } : {}),
    };
    const t = await node.add(described.source, opts);
    const started = Date.now();
    out.note(`downloading ${described.name ?? t.infoHashHex} to ${dir}`);
    t.once('metadata', () => {
      const m = t.metainfo;
      if (m) out.event('metadata', { infoHash: t.infoHashHex, name: m.name, length: m.length, pieceCount: m.pieceCount });
    });

    let lastPlain = 0;
    const tick = () => {
      const s = t.stats();
      if (out.json) out.event('progress', progressEvent(s, t));
      else if (display) display.update(s);
      else if (Date.now() - lastPlain >= PLAIN_PROGRESS_MS) {
        lastPlain = Date.now();
        out.say(progressLine(s, 100));
      }
    };
    ticker = setInterval(tick, out.json ? JSON_PROGRESS_MS : display ? 250 : 1000);
    tick();

    const done = waitForDone(t);
    cleanups.push(done.cancel);
    const racers: Promise<unknown>[] = [done.promise.then(() => 'done' as const), stop.promise.then(() => 'interrupted' as const)];
    if (ipfsWon) racers.push(ipfsWon);
    if (o.timeout !== undefined) {
      const stall = stallTimeout(t, o.timeout);
      cleanups.push(stall.cancel);
      racers.push(stall.promise);
    }
    const result = await Promise.race(racers);
    for (const c of cleanups) c();
    clearInterval(ticker);
    ticker = undefined;
    if (typeof result === 'object' && result !== null && 'ipfs' in result) {
      display?.finish();
      return ipfsDone((result as { ipfs: GatewayResult }).ipfs);
    }
    if (result === 'interrupted') {
      display?.finish();
      if (stop.failure !== undefined) return 1; // the node said why (a lost database lease)
      out.note('interrupted; progress is saved for next time');
      return 130;
    }

    const s = t.stats();
    if (out.json) out.event('progress', progressEvent(s, t));
    else display?.update(s);
    display?.finish();
    const seconds = (Date.now() - started) / 1000;
    out.event('done', { infoHash: t.infoHashHex, downloaded: s.downloaded, uploaded: s.uploaded, seconds, sources: progressEvent(s, t).sources });
    out.say(
      `done: ${s.name ?? t.infoHashHex} — ${formatBytes(s.downloaded)} in ${formatDuration(seconds)}` +
        (seconds > 0 ? ` (${formatSpeed(s.downloaded / seconds)})` : ''),
    );

    if (cid) {
      // The whole file checked against the id it was asked for: a torrent that only claimed it fails.
      const file = await node.content.contentFile(t, cid);
      if (!file) throw new CliError(`the torrent ${t.infoHashHex} found for ${cid} has no file with those bytes; its publisher is ignored from now on`);
      out.event('verified', { cid, path: file });
      out.say(`verified: ${file} is ${cid}`);
    }
    // The receipts for the last pieces, to the seeders that sent them, before the connections close.
    await chain?.receipts.flush(3000);
    if (o.seed) {
      out.event('seeding', { infoHash: t.infoHashHex });
      out.say('seeding; Ctrl-C to stop');
      await stop.promise;
    }
    return stop.failure === undefined ? 0 : 1;
  } finally {
    ipfsStop.abort();
    for (const c of cleanups) c();
    if (ticker) clearInterval(ticker);
    display?.finish();
    await chain?.close();
    await node.stop();
  }
}
