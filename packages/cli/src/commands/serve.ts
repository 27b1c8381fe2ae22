// `cascade serve` (what `npm start` runs): the whole node from @cascade/http — every torrent in
// the library, the built-in tracker, the DHT, and the web UI + API — until SIGINT/SIGTERM. Verbs
// keep working against it through the control endpoint.

import { dhtPortOf, ownerResetOf, type CascadeNode, type NodeLog } from '@cascade/node';
import { waitForStopSignal } from '../core/signals.ts';
import { errorReport } from '../core/error-report.ts';
import { servicesOf } from '../core/unreachable.ts';
import { openStorage } from '../core/storage.ts';
import { ensureStateDir } from '../core/writable-dir.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';

export async function serveCommand(inv: Invocation, out: Output): Promise<number> {
  const o = inv.options;
  const stop = waitForStopSignal();
  await ensureStateDir(o.stateDir);
  await ensureWebApp(out);
  // Torrents in a bucket (issue 61): --storage for new ones, `add --storage s3://…` for any one.
  const storage = await openStorage(o);
  // Loaded here, not at the top: other commands should not pay for Fastify and socket.io.
  const { startServer } = await import('@cascade/http');
  const server = await startServer({
    stateDir: o.stateDir,
    storage,
    ...(o.database !== undefined ? { database: o.database } : {}),
    ...(o.cluster ? { cluster: o.cluster } : {}),
    ...(o.httpPort !== undefined ? { httpPort: o.httpPort } : {}),
    // --host binds every listener: the BitTorrent one too (without it BitTorrent takes ::, IPv6 and IPv4, as
    // peers must reach it, while HTTP stays on 127.0.0.1).
    ...(o.host !== undefined ? { host: o.host, btHost: o.host } : {}),
    ...(o.downloadDir !== undefined ? { downloadDir: o.downloadDir } : {}),
    btPort: o.port,
    dht: o.dht ? { bootstrap: o.dhtBootstrap } : false,
    ...(o.utp ? {} : { utp: false }),
    trackers: o.trackers,
    ...(o.trackerPort !== undefined ? { trackerPorts: { http: o.trackerPort, udp: o.trackerPort } } : {}),
    ...(o.trackerHost !== undefined ? { trackerHost: o.trackerHost } : {}),
    ...(o.allowedHosts.length > 0 ? { allowedHosts: o.allowedHosts } : {}),
    ...(o.trustedProxies.length > 0 ? { trustedProxies: o.trustedProxies } : {}),
    ...(o.allowPrivateUrls ? { allowPrivateUrls: true } : {}),
    ...(o.publicUrl !== undefined ? { publicUrl: o.publicUrl } : {}),
    ...(o.iceServers ? { iceServersSetting: o.iceServers } : {}),
    // serve is the one door that maps ports (tests and benchmarks set CASCADE_PORT_MAPPING=off).
    mapPorts: true,
    // LSD as the lsd setting says, or as --lsd / --no-lsd say for this run (CASCADE_LSD overrides).
    lsd: o.lsd,
    ...(o.portMapping !== undefined ? { portMappingSetting: o.portMapping } : {}),
    ...metricsToken(o.metricsToken),
    ...(o.llmUrl !== undefined && o.llmModel !== undefined ? { llm: llmConfig(o.llmUrl, o.llmModel, o.llmKey) } : {}),
    ...(o.llmGguf !== undefined
      ? { llm: { gguf: o.llmGguf, ...(o.llmThreads !== undefined ? { threads: o.llmThreads } : {}), ...(o.llmMaxTokens !== undefined ? { maxTokens: o.llmMaxTokens } : {}) } }
      : {}),
    chain: o.chain,
    receipts: o.receipts,
    ...(o.ipfsApi !== undefined ? { ipfsApi: o.ipfsApi } : {}),
    ...(o.onion ? { onion: o.onion } : {}),
    ...(o.relay ? { relay: { port: o.relayPort, exit: o.exit } } : {}),
    log: serveLog(out),
    describeFailure: (err) => errorReport(err, servicesOf(o)).line,
  });
  try {
    const { node, tracker, url, httpPort } = server;
    void node.fatal.then((reason) => stop.failWith(reason));
    const bittorrentPort = node.session.port;
    out.event('listening', {
      url,
      httpPort,
      bittorrentPort,
      // `port` is what seed/download call the BitTorrent port in their `listening` event.
      port: bittorrentPort,
      dhtPort: dhtPortOf(node.session) ?? null,
      trackerHttpPort: tracker?.httpPort ?? null,
      trackerUdpPort: tracker?.udpPort ?? null,
    });
    out.say(`Cascade is running: open ${url} (API docs at ${url}/api/docs)`);
    const claimCode = await server.claimCode();
    if (claimCode !== undefined) {
      // Only whoever sees this console (or reads the state dir) has it: the claim needs it.
      const reset = ownerResetOf(node.db.stateDir);
      out.event('claim-code', { code: claimCode, reason: reset ? 'owner-reset' : 'first-run', ...(reset ? { resetAt: new Date(reset.at).toISOString(), removed: reset.removed } : {}) });
      if (reset) {
        const was = reset.removed ? ` (it was ${reset.removed})` : '';
        out.say(`This node has had no owner since \`cascade users reset-owner\` on ${utcMinute(reset.at)}${was}: open that page, sign in and claim it with the claim code ${claimCode}`);
      } else out.say(`First run: open that page, sign in and claim the node as its owner with the claim code ${claimCode}`);
      out.say('(`cascade claim-code` shows it again; it works once).');
    }
    out.say('Scripts and other tools: `cascade token` prints the API token (Authorization: Bearer …).');
    out.say(`BitTorrent on port ${bittorrentPort}${tracker ? `, tracker on port ${tracker.httpPort}` : ''}`);

    const loaded = await Promise.race([server.ready, stop.promise.then(() => undefined)]);
    // A single node killed during a removal with the data: the files it had not yet deleted go now
    // (a cluster member's holdings sweep its own). Not beside 'serving': the harnesses then check.
    if (loaded !== undefined && !node.cluster) await dropLeftCopies(node, out);
    if (loaded !== undefined) {
      const database = node.db.store.dialect === 'postgres' ? node.db.path : null;
      const cluster = node.cluster ? { id: node.cluster.id, url: node.cluster.url, epoch: node.cluster.epoch } : null;
      out.event('serving', { torrents: loaded, controlPort: node.control?.port ?? null, stateDir: node.db.stateDir, database, cluster });
      if (cluster) out.say(`member ${cluster.id} of the cluster on that database, reached at ${cluster.url} (\`cascade cluster\` lists the members)`);
      out.say(
        `${loaded} torrent${loaded === 1 ? '' : 's'} loaded, state in ${database ?? node.db.stateDir}. ` +
          'Add files in the web UI or with `cascade add <magnet>`; Ctrl-C to stop.',
      );
      await stop.promise;
    }
    out.note('stopping…');
    return stop.failure === undefined ? 0 : 1;
  } finally {
    await server.close();
    storage.close();
  }
}

/**
 * Builds the web app when it is missing or older than its sources (a fresh clone, a `git pull`),
 * so every way the README starts a node (`npm start`, `npx cascade serve`, `.bin/cascade serve`)
 * serves the UI. About two seconds when it builds, a few milliseconds when it does not. A failed
 * build is not fatal: the API still works and `/` says how to build.
 */
async function ensureWebApp(out: Output): Promise<void> {
  try {
    const web = await import('@cascade/web');
    if (!web.isWebStale()) return;
    out.note('building the web app (packages/web/dist)…');
    await web.ensureWebBuilt({ quiet: true });
  } catch (err) {
    out.note(`cannot build the web app: ${(err as Error).message}; the API works, the UI does not`);
  }
}

/** The assistant's endpoint; the key from the flag, else $CASCADE_LLM_KEY (an empty variable means none). */
function llmConfig(url: string, model: string, flag: string | undefined): { url: string; model: string; key?: string } {
  const key = flag ?? (process.env.CASCADE_LLM_KEY || undefined);
  return { url, model, ...(key !== undefined ? { key } : {}) };
}

/** The flag, else $CASCADE_METRICS_TOKEN (an empty variable means none). */
function metricsToken(flag: string | undefined): { metricsToken?: string } {
  const token = flag ?? (process.env.CASCADE_METRICS_TOKEN || undefined);
  return token !== undefined ? { metricsToken: token } : {};
}

/** "2026-11-28 04:10 UTC": when, in the console's words, without the seconds nobody needs. */
function utcMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** The node's log. In --json mode its notes (what a person reads on stderr: a copy that could not be
 *  deleted, a database write that failed) are `note` events, so a service whose output is collected
 *  as JSON loses none of them; they were silent (bench:crash --cluster could not see them). */
export function serveLog(out: Output): NodeLog {
  if (!out.json) return out;
  return { event: (name, fields) => out.event(name, fields), say: (text) => out.say(text), note: (message) => out.event('note', { message }) };
}

async function dropLeftCopies(node: CascadeNode, out: Output): Promise<void> {
  try {
    const { dropOwnTombstones } = await import('@cascade/cluster/tombstones');
    const n = await dropOwnTombstones(node);
    if (n === 0) return;
    out.event('removal-finished', { torrents: n });
    out.say(`Finished ${n} removal${n === 1 ? '' : 's'} with the data that a stop had cut short: the files are deleted`);
  } catch (err) {
    out.note(`finishing the removals a stop interrupted failed: ${(err as Error).message}`);
  }
}
