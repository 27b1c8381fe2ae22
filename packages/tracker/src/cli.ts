// `cascade tracker`: runs a tracker until SIGINT/SIGTERM. Also runnable directly
// (`node packages/tracker/src/cli.ts --json`), which is how tests start separate processes.

import module from 'node:module';
import { parseArgs } from 'node:util';
import type { TrackerOptions } from './core/tracker.ts';
import { TrustedProxies } from './core/proxy.ts';
import { DEFAULT_TURN_TTL, checkTurnUrl } from './ice/turn-url.ts';

const USAGE = `usage: cascade tracker [options]

  --http-port N        HTTP announce/scrape, /stats, /metrics (and WebSocket) port (default 6969)
  --udp-port N         UDP announce port (default 6969)
  --ws                 also serve WebTorrent's WebSocket protocol on the HTTP port
  --private            private mode: /announce/<passkey>, registered torrents only
  --redis URL          share swarms with other tracker processes through Redis
  --host ADDR          bind address (default ::, IPv6 and IPv4; 0.0.0.0 without IPv6)
  --interval S         announce interval asked of clients (default 1800)
  --rate-limit N       requests per second per IP, 0 for none (default 100, bursts of 500)
  --trust-proxy CIDR   a reverse proxy (address or range) whose X-Forwarded-For names the
                       announcing client (repeatable; e.g. the Ingress controller's pod range)
  --admin-token T      private mode: admin API token (default: random, printed)
  --torrent HEX        private mode: register this infohash (repeatable)
  --turn-url URL       a TURN server to hand out credentials for at /ice-servers:
                       turn:host:port or turns:host:port, optionally ?transport=tcp (repeatable)
  --turn-secret S      that TURN server's static-auth-secret (coturn use-auth-secret);
                       better in $CASCADE_TURN_SECRET, which keeps it out of the process list
  --turn-ttl S         seconds a minted TURN credential lasts (default ${DEFAULT_TURN_TTL})
  --udp-io auto|mmsg|dgram
                       how UDP datagrams move: mmsg reads and sends them in batches (Linux,
                       the addon npm install builds), dgram is node:dgram (default auto:
                       mmsg where it is built)
  --json               print machine-readable lines instead of text

The UDP port also answers STUN binding requests. GET /ice-servers on the HTTP port lists that STUN
service and, with --turn-url, fresh TURN credentials (private mode: /ice-servers/<passkey>).
`;

export class CliUsageError extends Error {}

/** The tracker's options, for its parser and for the check that the docs quote only real ones. */
export const TRACKER_OPTIONS = {
  'http-port': { type: 'string' },
  'udp-port': { type: 'string' },
  ws: { type: 'boolean' },
  private: { type: 'boolean' },
  redis: { type: 'string' },
  host: { type: 'string' },
  interval: { type: 'string' },
  'rate-limit': { type: 'string' },
  'trust-proxy': { type: 'string', multiple: true },
  'admin-token': { type: 'string' },
  torrent: { type: 'string', multiple: true },
  'turn-url': { type: 'string', multiple: true },
  'turn-secret': { type: 'string' },
  'turn-ttl': { type: 'string' },
  'udp-io': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

export function parseTrackerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { opts: TrackerOptions; json: boolean; help: boolean; hostGiven: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: TRACKER_OPTIONS,
    }));
  } catch (err) {
    throw new CliUsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const num = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) throw new CliUsageError(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  const rate = num('rate-limit', values['rate-limit'], 0, 1_000_000);
  if (values.redis !== undefined && !/^rediss?:\/\//.test(values.redis)) throw new CliUsageError('--redis wants a redis:// URL');
  const trustProxy = values['trust-proxy'] ?? [];
  try {
    new TrustedProxies(trustProxy);
  } catch (err) {
    throw new CliUsageError(`--trust-proxy: ${(err as Error).message}`);
  }
  for (const t of values.torrent ?? []) if (!/^[0-9a-fA-F]{40}$/.test(t)) throw new CliUsageError(`--torrent ${t}: not a 40-digit hex infohash`);
  const turnUrls = values['turn-url'] ?? [];
  for (const u of turnUrls) {
    try {
      checkTurnUrl(u);
    } catch (err) {
      throw new CliUsageError(`--turn-url ${(err as Error).message}`);
    }
  }
  // The environment's secret counts only with a --turn-url: it may be set for other programs too.
  const turnSecret = values['turn-secret'] ?? env.CASCADE_TURN_SECRET;
  if (turnUrls.length > 0 && !turnSecret) throw new CliUsageError('--turn-url needs the TURN server\'s shared secret: --turn-secret S or $CASCADE_TURN_SECRET');
  if (turnUrls.length === 0 && values['turn-secret'] !== undefined) throw new CliUsageError('--turn-secret needs at least one --turn-url');
  if (turnUrls.length === 0 && values['turn-ttl'] !== undefined) throw new CliUsageError('--turn-ttl needs at least one --turn-url');
  const turnTtl = num('turn-ttl', values['turn-ttl'], 60, 30 * 86_400);
  const udpIo = values['udp-io'];
  if (udpIo !== undefined && udpIo !== 'auto' && udpIo !== 'mmsg' && udpIo !== 'dgram') throw new CliUsageError(`--udp-io must be auto, mmsg or dgram, not ${udpIo}`);
  const opts: TrackerOptions = {
    // '::' serves IPv6 and IPv4 peers on one socket each for HTTP and UDP.
    host: values.host ?? '::',
    httpPort: num('http-port', values['http-port'], 0, 65535) ?? 6969,
    udpPort: num('udp-port', values['udp-port'], 0, 65535) ?? 6969,
    ws: values.ws ?? false,
    private: values.private ?? false,
    redis: values.redis,
    interval: num('interval', values.interval, 1, 86_400),
    rateLimit: rate === undefined ? undefined : rate === 0 ? false : { perSecond: rate, burst: rate * 5 },
    adminToken: values['admin-token'],
    torrents: values.torrent,
    ...(trustProxy.length > 0 ? { trustProxy } : {}),
    ...(udpIo !== undefined ? { udpIo } : {}),
    ...(turnUrls.length > 0 ? { turn: { urls: turnUrls, secret: turnSecret!, ...(turnTtl !== undefined ? { ttl: turnTtl } : {}) } } : {}),
  };
  return { opts, json: values.json ?? false, help: values.help ?? false, hostGiven: values.host !== undefined };
}

/** Runs `cascade tracker` with these arguments (after the subcommand) until SIGINT or SIGTERM. */
export async function runTrackerCli(argv: string[]): Promise<void> {
  const { opts, json, help, hostGiven } = parseTrackerArgs(argv);
  if (help) {
    process.stdout.write(USAGE);
    return;
  }
  // Handlers go in before anything is printed: whoever reads the listening line may signal at once.
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const unhook = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  let t;
  try {
    // Imported here, not above: run as a program, the compile cache is on by now (see the end).
    const { startTracker } = await import('./core/tracker.ts');
    t = await startTracker(opts).catch((err: NodeJS.ErrnoException) => {
      // A machine without IPv6: IPv4 only, as before.
      if (hostGiven || (err.code !== 'EAFNOSUPPORT' && err.code !== 'EADDRNOTAVAIL')) throw err;
      return startTracker({ ...opts, host: '0.0.0.0' });
    });
    // Written now rather than at exit, which a SIGKILL skips.
    module.flushCompileCache?.();
  } catch (err) {
    unhook();
    throw err;
  }
  if (json) {
    const line: Record<string, unknown> = { event: 'listening', http: t.httpAnnounceUrl, udp: t.udpAnnounceUrl, ws: t.wsAnnounceUrl ?? null, stats: t.statsUrl, metrics: t.metricsUrl, iceServers: t.iceServersUrl, stun: t.stunUrl, private: t.private };
    if (t.adminToken) line.adminToken = t.adminToken;
    process.stdout.write(JSON.stringify(line) + '\n');
  } else {
    const lines = [
      `cascade tracker listening (${t.private ? 'private' : 'public'}, ${opts.redis ? 'redis' : 'in-memory'} store)`,
      `  http   ${t.httpAnnounceUrl}${t.private ? '/<passkey>' : ''}`,
      `  udp    ${t.udpAnnounceUrl}${t.private ? '/<passkey>' : ''}`,
      ...(t.wsAnnounceUrl ? [`  ws     ${t.wsAnnounceUrl}${t.private ? '/<passkey>' : ''}`] : []),
      `  stats  ${t.statsUrl}`,
      `  metrics ${t.metricsUrl}`,
      `  stun   ${t.stunUrl}`,
      `  ice servers ${t.iceServersUrl}${opts.turn ? ` (with TURN credentials for ${opts.turn.urls.join(', ')})` : ''}`,
    ];
    if (t.adminToken) {
      const base = t.statsUrl.replace(/\/stats$/, '');
      lines.push(
        `  admin token ${t.adminToken}`,
        `    add a user:      curl -X POST -H 'authorization: Bearer ${t.adminToken}' ${base}/admin/users -d '{"name":"alice"}'`,
        `    add a torrent:   curl -X POST -H 'authorization: Bearer ${t.adminToken}' ${base}/admin/torrents -d '{"infoHash":"<40 hex>"}'`,
      );
    }
    process.stdout.write(lines.join('\n') + '\n');
  }

  await stopped;
  unhook();
  await t.close();
  if (json) process.stdout.write(JSON.stringify({ event: 'closed' }) + '\n');
}

if (import.meta.main) {
  // Node's compile cache keeps our TypeScript stripped on disk: from the second start on, the
  // type stripper (a WebAssembly module whose memory never shrinks) is barely used, and the
  // process starts ~20 MB smaller. NODE_COMPILE_CACHE, if set, says where the cache lives.
  module.enableCompileCache?.();
  runTrackerCli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`cascade tracker: ${(err as Error).message}\n`);
    process.exitCode = err instanceof CliUsageError ? 2 : 1;
  });
}
