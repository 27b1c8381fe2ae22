// The CLI reaches @cascade/engine through the server's lazy door (packages/server/src/engine.ts), so
// verbs such as `list` start without loading the engine; this file only re-exports it.
export * from '../../server/src/engine.ts';
