// Client of the node's assistant (POST/GET /api/assistant, packages/node/src/assistant). The
// shapes are the contract's own types (packages/assistant/src/types.ts), imported as types only:
// nothing of the assistant package reaches the bundle.
//
// With an LLM configured the answer streams as Server-Sent Events over the POST's own response
// (EventSource only does GET): `event: token` {text} … then `event: answer` {AssistantAnswer}, or
// `event: error` {message}. Without one — or from a node that answers JSON anyway — the reply is
// the AssistantAnswer as JSON.
import { ApiError, errorOf, request } from './api.ts';

import type { AskRequest, AssistantAction, AssistantAnswer } from '@cascade/assistant';
export type { AssistantAction, AssistantAnswer, AskRequest, Finding, Severity, Source } from '@cascade/assistant';

/** GET /api/assistant: null llm = nothing leaves the machine. */
export interface AssistantInfo {
  /** local: a GGUF model in the node's own process (--llm-gguf); nothing leaves the machine. */
  llm: null | { model: string; host: string; local: boolean };
  entries: number;
}

/** The node says the endpoint's host as `url` (or `host`); a full URL is cut down to its host. */
export function normaliseInfo(raw: unknown): AssistantInfo {
  const o = (raw && typeof raw === 'object' ? raw : {}) as { llm?: unknown; entries?: unknown };
  const entries = typeof o.entries === 'number' ? o.entries : 0;
  if (!o.llm || typeof o.llm !== 'object') return { llm: null, entries };
  const l = o.llm as { model?: unknown; host?: unknown; url?: unknown; local?: unknown };
  let host = typeof l.host === 'string' ? l.host : typeof l.url === 'string' ? l.url : '';
  try {
    if (/^[a-z]+:\/\//i.test(host)) host = new URL(host).host;
  } catch {}
  return { llm: { model: typeof l.model === 'string' ? l.model : 'a language model', host: host || 'a remote server', local: l.local === true }, entries };
}

/** Fills what an older or partial answer leaves out, so the view never meets undefined lists. */
export function normaliseAnswer(raw: unknown): AssistantAnswer {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Partial<AssistantAnswer>;
  return {
    answer: typeof o.answer === 'string' ? o.answer : '',
    findings: Array.isArray(o.findings) ? o.findings.map((f) => ({ ...f, entries: Array.isArray(f.entries) ? f.entries : [], actions: Array.isArray(f.actions) ? f.actions : [] })) : [],
    sources: Array.isArray(o.sources) ? o.sources : [],
    actions: Array.isArray(o.actions) ? o.actions : [],
    conversation: typeof o.conversation === 'string' ? o.conversation : '',
    answeredBy: typeof o.answeredBy === 'string' ? o.answeredBy : 'built-in',
  };
}

export async function assistantInfo(): Promise<AssistantInfo> {
  return normaliseInfo(await request<unknown>('GET', '/api/assistant'));
}

export interface AskOptions {
  /** Ask for a streamed answer (only worth it when an LLM writes it). */
  stream: boolean;
  onToken?: (text: string) => void;
  signal?: AbortSignal;
}

export async function askAssistant(req: AskRequest, opts: AskOptions): Promise<AssistantAnswer> {
  const path = '/api/assistant';
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: opts.stream ? 'text/event-stream, application/json;q=0.5' : 'application/json' },
    body: JSON.stringify(req),
    signal: opts.signal ?? null,
  });
  if (!res.ok) throw await errorOf(res, path);
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream') || !res.body) return normaliseAnswer(await res.json());

  let answer: AssistantAnswer | undefined;
  for await (const ev of readEvents(res.body)) {
    if (ev.event === 'token') {
      const text = parseData<{ text?: unknown }>(ev.data)?.text;
      if (typeof text === 'string') opts.onToken?.(text);
    } else if (ev.event === 'answer') {
      answer = normaliseAnswer(parseData(ev.data));
    } else if (ev.event === 'error') {
      const message = parseData<{ message?: unknown }>(ev.data)?.message;
      throw new ApiError(502, `The assistant stopped: ${typeof message === 'string' ? message : 'unknown error'}`);
    }
  }
  if (!answer) throw new ApiError(502, 'The answer was cut off before it finished (the connection to the node closed).');
  return answer;
}

/** Sends an action's API call with this page's session, as api.ts sends every other call. */
export function runActionRequest(req: NonNullable<AssistantAction['request']>): Promise<unknown> {
  if (!req.path.startsWith('/api/')) return Promise.reject(new ApiError(400, `not an API path: ${req.path}`));
  return request<unknown>(req.method, req.path, req.body);
}

function parseData<T>(data: string): T | undefined {
  try {
    return JSON.parse(data) as T;
  } catch {
    return undefined;
  }
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Server-Sent Events off a response body (the text/event-stream format: blank-line separated
 *  blocks of `field: value` lines; several data lines join with \n; comments start with ':'). */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      // A \r\n split across two reads leaves a lone \r: normalised once the \n arrives.
      buf = (buf + decoder.decode(value, { stream: !done })).replace(/\r\n|\r(?=[^])/g, '\n');
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const ev = parseBlock(block);
        if (ev) yield ev;
      }
      if (done) {
        const ev = parseBlock(buf);
        if (ev) yield ev;
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length > 0 ? { event, data: data.join('\n') } : undefined;
}
