// The node's Prometheus metrics: GET /metrics and the series behind it (see the server README).
export { metricsRoutes, checkMetricsToken, METRICS_PATH, type MetricsOptions } from '../routes/metrics.ts';
export { NodeMetrics, TORRENT_STATES, TRANSPORTS, DHT_QUERY_TYPES, UNMATCHED_ROUTE } from './collectors.ts';
