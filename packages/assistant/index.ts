// @cascade/assistant: help that reads the user's own node. A knowledge base (docs/help), retrieval
// over it, diagnostics checks over a NodeView the server hands in, answers composed without an LLM
// or by one the user configured. Imports nothing of the node.
export type * from './src/types.ts';
export { createAssistant, AssistantInputError, UnknownTorrentError, MAX_QUESTION_CHARS } from './src/answer/answer.ts';
export type { Assistant, AssistantEvent, AssistantOptions, Checks } from './src/answer/answer.ts';
export { followUpKind } from './src/answer/conversation.ts';
export { loadHelpDir, parseHelpEntry, validateEntries, HelpEntryError } from './src/knowledge/kb.ts';
export { createRetriever } from './src/knowledge/retrieval.ts';
export type { Retriever, SearchResult } from './src/knowledge/retrieval.ts';
export { ConversationStore, isFollowUp } from './src/answer/conversation.ts';
export { runChecks } from './src/diagnostics/index.ts';
export { checkGgufFile, isLocalLlm, loadNodeLlamaCpp, LocalLlmError, INSTALL_LLM_HINT, LLM_CACHE_DIR } from './src/llm/local-llm.ts';
export type { ChatMessage } from './src/llm/llm.ts';
