// The assistant on the node: @cascade/assistant over this node's real state (AssistantNodeView),
// the built-in diagnostics, the help entries in the repo's docs/help, and the LLM the user
// configured (serve --llm-url/--llm-model/--llm-key, or a local GGUF model with --llm-gguf). Served at /api/assistant and as the control
// RPC `ask` (`cascade ask`).

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createAssistant, runChecks, AssistantInputError, UnknownTorrentError, type Assistant, type LlmConfig, type MarketView } from '@cascade/assistant';
import { InvalidInput, NodeError } from '@cascade/node/basics';
import type { RpcHandlers } from '@cascade/node';
import type { InfoHashResolver } from '@cascade/node/features';
import { AssistantNodeView, type ViewedNode } from './node-view.ts';

/** The repo's knowledge base, next to the packages. */
export const DEFAULT_HELP_DIR = fileURLToPath(new URL('../../../docs/help/', import.meta.url));

export interface NodeAssistantOptions {
  bittorrentHost: string;
  helpDir?: string;
  llm?: LlmConfig;
  log?: (line: string) => void;
  /** The node's market orders (issue 62), when it runs a chain: the market's findings come from them. */
  market?: () => Promise<MarketView | undefined>;
}

export interface NodeAssistant {
  assistant: Assistant;
  view: AssistantNodeView;
  close(): Promise<void>;
}

export function startAssistant(node: ViewedNode, opts: NodeAssistantOptions): NodeAssistant {
  const view = new AssistantNodeView(node, { bittorrentHost: opts.bittorrentHost });
  if (opts.market) view.market = opts.market;
  const helpDir = opts.helpDir ?? DEFAULT_HELP_DIR;
  // A node installed without the docs still diagnoses: findings need no entries.
  const source = existsSync(helpDir) ? { helpDir } : { entries: [] };
  if (!('helpDir' in source)) opts.log?.(`note: no help entries at ${helpDir}; the assistant answers from its checks only`);
  const assistant = createAssistant({ ...source, node: view, checks: (n, ih) => runChecks(n, ih), ...(opts.llm ? { llm: opts.llm } : {}) });
  if (opts.llm) {
    // The first answer should not wait for a model of several GB to load.
    void assistant.warm().catch((err: Error) => opts.log?.(`the assistant's local model did not load: ${err.message}; answers are built in until it does`));
  }
  return {
    assistant,
    view,
    close: async () => {
      view.close();
      await assistant.close();
    },
  };
}

/** The control RPC `ask` (params: question, infoHash?, conversation?) → AssistantAnswer. */
export function assistantRpc(node: InfoHashResolver, assistant: Assistant): RpcHandlers {
  return {
    ask: async (p) => {
      const question = p.question;
      if (typeof question !== 'string') throw new InvalidInput('missing "question"');
      let infoHash: string | undefined;
      if (typeof p.infoHash === 'string' && p.infoHash !== '') infoHash = node.resolve(p.infoHash);
      try {
        return await assistant.ask({
          question,
          ...(infoHash ? { infoHash } : {}),
          ...(typeof p.conversation === 'string' ? { conversation: p.conversation } : {}),
        });
      } catch (err) {
        if (err instanceof AssistantInputError) throw new InvalidInput(err.message);
        if (err instanceof UnknownTorrentError) throw new NodeError('not-found', err.message);
        throw err;
      }
    },
  };
}
