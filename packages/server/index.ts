// @cascade/server — the node's app: startServer runs the engine, the state DB, the built-in tracker
// and the web UI + HTTP API + socket.io feed in one process. Everything from ./core.ts (the node
// layer the CLI also uses) is re-exported here.

export * from './core.ts';
export {
  startServer,
  DEFAULT_HTTP_PORT,
  DEFAULT_BT_PORT,
  DEFAULT_TRACKER_PORT,
  DEFAULT_MAX_UPLOAD,
} from './src/server.ts';
export type { ServerOptions, RunningServer } from './src/server.ts';
export { buildApp } from './src/app.ts';
export type { AppOptions } from './src/app.ts';
export type { ApiContext } from './src/context.ts';
export { LiveFeed } from './src/live.ts';
export { loadLibrary } from './src/library.ts';
export { parseRange, type RangeResult } from './src/range.ts';
export { torrentDetail, fileViews, magnetOf } from './src/torrent-view.ts';
export type { TorrentDetail, FileView } from './src/torrent-view.ts';
export { DEFAULT_WEB_ROOT } from './src/web.ts';
