// @cascade/assistant: help that reads the user's own node. A knowledge base (docs/help), retrieval
// over it, diagnostics checks over a NodeView the server hands in, answers composed without an LLM
// or by one the user configured. Imports nothing of the node.
export type * from './src/types.ts';
