// The LLM path: the same findings and entries the built-in answer uses go into a prompt that tells
// the model to answer only from them and cite [n]; the completion streams from any OpenAI-compatible
// /v1/chat/completions (llama.cpp's server, Ollama, LM Studio, a hosted API) through the `openai` SDK
// (no dependencies of its own, loaded only when an LLM is configured).
import type { Finding, HelpEntry, RemoteLlmConfig, TorrentView } from '../types.ts';

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

export interface PromptInput {
  question: string;
  findings: Finding[];
  /** The sources in citation order: [1] is entries[0]. */
  entries: HelpEntry[];
  torrent?: Pick<TorrentView, 'infoHash' | 'name' | 'state' | 'progress'>;
}

const SYSTEM = [
  'You are the help assistant of Cascade, a peer-to-peer file-sharing app (BitTorrent engine, web UI, `cascade` CLI).',
  'Answer ONLY from the findings about the user\'s node and the help entries given below.',
  'Findings come first: if a finding explains the problem, say so plainly with its evidence, then what to do.',
  'Cite the help entries you use as [1], [2]… by their numbers. Never cite a number that is not given.',
  'Never invent a setting, menu, button, command, or feature that the entries do not name; if the entries do not answer the question, say you do not know and point to the closest entry.',
  'Be short: at most 6 sentences or a short list. Plain words, no preamble.',
].join(' ');

const ENTRY_CHARS = 1800;

export function buildPrompt(input: PromptInput): ChatMessage[] {
  const parts: string[] = [];
  if (input.torrent) {
    const t = input.torrent;
    const progress = t.progress === null ? 'unknown' : `${Math.round(t.progress * 100)}%`;
    parts.push(`The question is about the torrent "${t.name ?? t.infoHash}" (${t.infoHash}), state ${t.state}, ${progress} done.`);
  }
  if (input.findings.length > 0) {
    parts.push('Findings from the checks just run on the user\'s node:');
    for (const f of input.findings) {
      const actions = f.actions.map((a) => a.label).join('; ');
      parts.push(`- [${f.severity}] ${f.title}. Evidence: ${f.evidence}${actions ? `. Suggested actions: ${actions}` : ''}`);
    }
  } else {
    parts.push('The checks found nothing wrong on the user\'s node for this question.');
  }
  parts.push('', 'Help entries:');
  input.entries.forEach((e, i) => {
    const body = e.body.length > ENTRY_CHARS ? `${e.body.slice(0, ENTRY_CHARS)}…` : e.body;
    parts.push(`[${i + 1}] ${e.title}${e.ui ? ` (web UI: ${e.ui})` : ''}`, body, '');
  });
  if (input.entries.length === 0) parts.push('(no entry matched this question)', '');
  parts.push(`Question: ${input.question}`);
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: parts.join('\n') },
  ];
}

/** The base URL the SDK wants (".../v1"), from what a user may type: host, host/v1, or the full route. */
export function llmBaseUrl(url: string): string {
  const u = new URL(url);
  let path = u.pathname.replace(/\/+$/, '').replace(/\/chat\/completions$/, '');
  if (path === '') path = '/v1';
  return `${u.origin}${path}`;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /** Milliseconds for the whole completion (default 60 s: a CPU model is slow). */
  timeoutMs?: number;
}

/** Streams the completion's text pieces in order; throws on any HTTP, network or timeout error. */
export async function* streamChat(config: RemoteLlmConfig, messages: ChatMessage[], opts: StreamOptions = {}): AsyncGenerator<string> {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({
    baseURL: llmBaseUrl(config.url),
    // Local servers want no key; the SDK insists on one, and sends it only as a bearer header.
    apiKey: config.key ?? 'not-needed',
    timeout: opts.timeoutMs ?? 60_000,
    maxRetries: 0,
  });
  const stream = await client.chat.completions.create(
    { model: config.model, messages, stream: true, temperature: 0.2 },
    { signal: opts.signal },
  );
  for await (const chunk of stream) {
    const text = chunk.choices[0]?.delta?.content;
    if (text) yield text;
  }
}

/** A short, key-free description of an LLM error for the fallback note. */
export function describeLlmError(err: unknown): string {
  const e = err as { status?: number; name?: string; message?: string; cause?: { code?: string; cause?: { code?: string } } };
  // The SDK's error classes, by name: it is imported lazily, so no instanceof here.
  const kind = (err as object | null)?.constructor?.name ?? e?.name;
  if (typeof e?.status === 'number') return `it answered HTTP ${e.status}`;
  if (kind === 'APIConnectionTimeoutError' || e?.name === 'AbortError' || e?.name === 'TimeoutError') return 'it timed out';
  const code = e?.cause?.code ?? e?.cause?.cause?.code;
  if (kind === 'APIConnectionError' || code) return `it could not be reached${code ? ` (${code})` : ''}`;
  return (e?.message ?? String(err)).replace(/\.+$/, '').slice(0, 200);
}
