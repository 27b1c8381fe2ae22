// @cascade/compat/stores — the compatible APIs' state in the node's database (qBittorrent's SIDs,
// Transmission's shown values, searches, failed logins), apart from the routes so that loading the
// stores does not load Fastify's adapters.
export { CompatSessionStore, TOUCH_EVERY_MS } from './src/stores/sessions.ts';
export { CompatStateStore } from './src/stores/state.ts';
export type { CompatDatabase, CompatQueryable } from './src/stores/database.ts';
