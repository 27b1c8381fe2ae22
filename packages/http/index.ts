// @cascade/http — a node's HTTP face: startServer runs a node (@cascade/node) with the built-in
// tracker, the chat relay, and the web UI + HTTP API + socket.io feed + compatible APIs on one port.

export {
  startServer,
  DEFAULT_HTTP_PORT,
  DEFAULT_BT_PORT,
  DEFAULT_TRACKER_PORT,
  DEFAULT_MAX_UPLOAD,
} from './src/app/server.ts';
export type { ServerOptions, RunningServer } from './src/app/server.ts';
export { buildApp } from './src/app/app.ts';
export type { AppOptions } from './src/app/app.ts';
export type { ApiContext } from './src/app/context.ts';
export { LiveFeed } from './src/feed/live.ts';
export { parseRange, type RangeResult } from './src/app/range.ts';
export { DEFAULT_WEB_ROOT } from './src/app/web.ts';
