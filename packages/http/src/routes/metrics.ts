// GET /metrics: the node in Prometheus' text format, for the node's owner (the API token as a Bearer
// token, or an owner's signed-in session) or for a scraper holding the metrics token, a credential
// that reads metrics and nothing else (`serve --metrics-token`, CASCADE_METRICS_TOKEN). Also counts
// every HTTP request by route pattern, method and status. The collectors, and prom-client with its
// OpenTelemetry API (~90 modules, ~0.08 CPU-s), load at the first scrape, not with every node.

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { tokenEquals } from '@cascade/node/features';
import { errorBody } from '../app/http-errors.ts';
import { NodeError } from '@cascade/node';
import { summaryCache } from '@cascade/node/features';
import type { NodeMetrics, MetricsSnapshot } from '../metrics/collectors.ts';
import { RequestCounts } from '../metrics/request-counts.ts';

export const METRICS_PATH = '/metrics';
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** What a metrics token may be: what fits a Bearer header, long enough not to be guessed. */
const METRICS_TOKEN = /^[A-Za-z0-9._~+/=-]{16,256}$/;

export interface MetricsOptions {
  /** A second credential that may read /metrics only (Authorization: Bearer <it>). */
  metricsToken?: string | undefined;
}

/** Throws a NodeError naming the rule when `token` cannot be a metrics token. */
export function checkMetricsToken(token: string): void {
  if (!METRICS_TOKEN.test(token)) {
    throw new NodeError('failed', 'the metrics token must be 16 to 256 characters of letters, digits and . _ ~ + / = - (e.g. `openssl rand -hex 24`)');
  }
}

/** What one scrape reads: the engine's counters and the library's rows by state (one pass each). */
function readNode(ctx: ApiContext): MetricsSnapshot {
  const node = ctx.node;
  const cache = summaryCache(node);
  // Only rows whose torrent changed since the last look are rebuilt (about 1 ms for 10,000 idle).
  cache.refresh();
  const torrentsByState = new Map<string, number>();
  let checksWaiting = 0;
  for (const row of cache.rows()) {
    torrentsByState.set(row.state, (torrentsByState.get(row.state) ?? 0) + 1);
    if (row.checkWaiting) checksWaiting++;
  }
  return { counters: node.session.counters?.(), torrentsByState, checksWaiting };
}

/**
 * Registers GET /metrics and the request counter. Call right after the gate is installed, before
 * other routes, so every request is counted (refusals and 404s too).
 */
export function metricsRoutes(app: FastifyInstance, ctx: ApiContext, opts: MetricsOptions = {}): void {
  const scrapeToken = opts.metricsToken;
  if (scrapeToken !== undefined) checkMetricsToken(scrapeToken);
  const requests = new RequestCounts();
  let metrics: Promise<NodeMetrics> | undefined;
  const loadMetrics = () =>
    import('../metrics/collectors.ts').then(
      ({ NodeMetrics }) =>
        new NodeMetrics({
          snapshot: () => readNode(ctx),
          version: VERSION,
          cluster: ctx.node.cluster ? () => ctx.node.cluster!.figures() : undefined,
          requests,
          afterCollection: () => ctx.node.memory.lastCollection,
        }),
      (err: unknown) => {
        metrics = undefined; // the next scrape tries again
        throw err;
      },
    );

  // A callback hook, not an async one: no promise per request for an integer increment.
  app.addHook('onResponse', (req, reply, done) => {
    // The route's pattern ("/api/torrents/:infoHash"), never the URL: a bounded set of series.
    requests.count(req.routeOptions.url, req.method, reply.statusCode);
    done();
  });

  app.get(METRICS_PATH, {
    // The gate checks the Host only; the handler takes the metrics token or the owner's credentials.
    config: { access: 'owner', selfAuth: true },
    schema: {
      summary: 'Prometheus metrics (text exposition format)',
      description: 'For the owner (API token as Bearer, or an owner session) or the metrics token. Series: see the server README.',
      tags: ['node'],
      produces: ['text/plain'],
    },
    handler: async (req, reply) => {
      const auth = req.headers.authorization;
      const bearer = auth !== undefined ? /^Bearer ([^\s]+)$/i.exec(auth)?.[1] : undefined;
      const byScrapeToken = scrapeToken !== undefined && bearer !== undefined && tokenEquals(bearer, scrapeToken);
      if (!byScrapeToken) {
        const r = await ctx.auth.gate.admit(req.raw, 'owner');
        if ('status' in r) {
          if (r.status === 401) reply.header('www-authenticate', 'Bearer realm="cascade metrics"');
          return reply.code(r.status).type('application/json; charset=utf-8').send(errorBody(r.status, r.status === 401 && scrapeToken ? `${r.message}, or the metrics token` : r.message));
        }
      }
      const m = await (metrics ??= loadMetrics());
      const text = await m.scrape();
      return reply.type(m.contentType).header('cache-control', 'no-store').send(text);
    },
  });
}
