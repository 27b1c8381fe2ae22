// `cascade seed <torrent> --dir <path>`: check the data already on disk and seed it. Refuses to
// seed incomplete data (that would be a download; use `cascade download` for that). With
// `--storage s3://bucket/path` the data is in a bucket (issue 61), put there by anyone: checked by
// ranged GETs and seeded from it.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadEngine } from '../core/engine.ts';
import { errorMessage, startNode } from '@cascade/node';
import { nodePlugins } from '../core/node-plugins.ts';
import { networkPlugin } from '@cascade/node-network';
import { UsageError, CliError } from '../core/errors.ts';
import { chainFor } from './chain-attach.ts';
import { describeTorrentBytes } from '../download/source.ts';
import { waitForStopSignal } from '../core/signals.ts';
import { waitForVerification } from '../download/torrent-wait.ts';
import { openStorage } from '../core/storage.ts';
import { ensureStateDir } from '../core/writable-dir.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';

export async function seedCommand(inv: Invocation, out: Output): Promise<number> {
  const o = inv.options;
  const file = inv.positionals[0]!;
  if (!o.dir && !o.storage) throw new UsageError('seed needs --dir <save-path>, the directory that holds the data, or --storage s3://bucket/path');
  if (o.dir && o.storage) throw new UsageError('seed takes the data from --dir or from --storage, not both');
  // From a bucket the download dir only holds what a rewrite would stage (nothing, for data that checks out).
  const dir = resolve(o.dir ?? join(o.stateDir, 'downloads'));
  const storage = o.storage ? await openStorage({ stateDir: o.stateDir, storage: undefined, s3Endpoint: o.s3Endpoint }) : undefined;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new UsageError(`cannot read torrent file ${file}: ${errorMessage(err)}`);
  }
  const described = describeTorrentBytes(bytes, file, await loadEngine());

  await ensureStateDir(o.stateDir);
  const stop = waitForStopSignal();
  // Content ids are computed to be published: with no DHT, or private discovery, there is nowhere to.
  // Its network: the probe and the trackers' ICE servers, LSD with --lsd, private discovery with --directory.
  const network = networkPlugin({ onion: o.onion, lsd: o.lsd });
  const node = await startNode(o, out, { contentIds: o.dht && !o.onion?.byDefault ? 'background' : 'on-demand', network, plugins: nodePlugins, storage });
  void node.fatal.then((reason) => stop.failWith(reason));
  const chain = chainFor(node, o, out);
  // Its complete public torrent goes on the DHT as `serve` puts it (signed records under its
  // infohashes, content ids and name words): its files hashed once their data checked out, at idle
  // time, then published once, and again every 30 minutes while it runs. Never per piece.
  node.content.onPublished = (t, s, r) => {
    out.event('published', { infoHash: s.infoHash, infoHashV2: s.infoHashV2, cids: s.cids, keys: r.keys, accepted: r.accepted });
    out.say(
      r.accepted > 0
        ? `published ${s.cids.length === 1 ? 'its content id' : `${s.cids.length} content ids`} on the DHT (${r.keys} keys, ${r.accepted} stores)`
        : `no DHT node took the records of ${t.infoHashHex} yet (${r.errors[0] ?? 'none answered'}); it publishes them again while it runs`,
    );
  };
  try {
    const opts = { savePath: dir, ...(o.onion?.byDefault ? { privateDiscovery: true } : {}), ...(o.superSeed ? { superSeeding: true } : {}) };
    // The bucket is checked (it exists, the credentials reach it) before anything starts.
    if (o.storage) await node.chooseStorage(bytes, o.storage).catch((err: unknown) => { throw new CliError(errorMessage(err), 1, { cause: err }); });
    const where = o.storage ? `${o.storage.replace(/\/+$/, '')}/${described.name ?? ''}` : join(dir, described.name ?? '');
    // add() returns once the engine has checked what is on disk (resume data makes that quick).
    out.note(`checking ${where} …`);
    const t = await node.add(bytes, opts, false);
    const result = await Promise.race([waitForVerification(t), stop.promise.then(() => 'interrupted' as const)]);
    if (result === 'interrupted') return stop.failure === undefined ? 0 : 1;
    if (result === 'incomplete') {
      const s = t.stats();
      throw new CliError(
        `data at ${o.storage ? where : join(dir, described.name ?? s.name ?? '')} is incomplete: ` +
          `${s.verifiedPieces} of ${s.pieceCount ?? described.pieceCount} pieces verified`,
      );
    }
    // Only complete data joins the library, so a failed seed leaves no half-record behind.
    await node.record(t, bytes, opts);
    out.event('seeding', { infoHash: t.infoHashHex });
    out.say(`seeding ${described.name} (${t.infoHashHex}); Ctrl-C to stop`);
    // --json: what the seed gives, every half second (bytes uploaded, peers, the copies they hold).
    const ticker = out.json ? setInterval(() => {
      const s = t.stats();
      out.event('progress', { uploaded: s.uploaded, uploadSpeed: s.uploadSpeed, peers: s.peers, distributedCopies: t.distributedCopies?.() ?? null });
    }, 500) : undefined;
    await stop.promise;
    clearInterval(ticker);
    return stop.failure === undefined ? 0 : 1;
  } finally {
    await chain?.close();
    await node.stop();
    storage?.close();
  }
}
