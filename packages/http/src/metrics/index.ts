// The node's Prometheus metrics: GET /metrics and the series behind it (see the server README). The
// series (collectors.ts, with prom-client) load at the first scrape; requests are counted from the start.
export { metricsRoutes, checkMetricsToken, METRICS_PATH, type MetricsOptions } from '../routes/metrics.ts';
export { RequestCounts, UNMATCHED_ROUTE } from './request-counts.ts';
export type { NodeMetrics } from './collectors.ts';
