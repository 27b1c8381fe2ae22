// The CLI reaches @cascade/engine through the node's lazy door (loadEngine in
// packages/node/src/core/engine.ts), so verbs such as `list` start without loading the engine; the
// types come straight from the engine (a type import loads nothing).
export { loadEngine, type EngineLib } from '@cascade/node/verbs';
export type * from '@cascade/engine';
