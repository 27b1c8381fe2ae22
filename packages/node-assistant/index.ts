// @cascade/node-assistant — the assistant on a running node, above the node: @cascade/assistant over
// the node's real state (AssistantNodeView: health, torrents, the evidence only events tell), the
// help entries and the configured LLM (startAssistant), and the control RPC `ask` (assistantRpc).
export { startAssistant, assistantRpc, DEFAULT_HELP_DIR, type NodeAssistant, type NodeAssistantOptions } from './src/assistant.ts';
export { AssistantNodeView, type NodeViewOptions, type ViewedNode } from './src/node-view.ts';
export { TorrentEvidence, type EvidenceNode, type TorrentEvidenceRecord } from './src/evidence.ts';
