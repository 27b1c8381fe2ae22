// createAssistant: one question in, one answer out. Resolves which torrent it is about (given, named
// in the question, or the conversation's), runs the checks, retrieves entries, and composes the
// answer — built in, or streamed by the configured LLM with the built-in one as its fallback.
import { randomUUID } from 'node:crypto';
import { mergeActions, composeAnswer, openAction, selectFindings } from './compose.ts';
import { ConversationStore, followUpKind } from './conversation.ts';
import { loadHelpDir, validateEntries } from '../knowledge/kb.ts';
import { buildPrompt, describeLlmError, streamChat, type ChatMessage } from '../llm/llm.ts';
import { isLocalLlm, LocalModel, localModelName } from '../llm/local-llm.ts';
import { createRetriever, tokenize } from '../knowledge/retrieval.ts';
import type { AskRequest, AssistantAnswer, Finding, HelpEntry, LlmConfig, NodeView, Source, TorrentView } from '../types.ts';

export type Checks = (node: NodeView, infoHash?: string) => Promise<Finding[]>;

export interface AssistantOptions {
  /** A folder of <id>.md entries (docs/help)… */
  helpDir?: string;
  /** …or the entries themselves. */
  entries?: HelpEntry[];
  node: NodeView;
  checks: Checks;
  llm?: LlmConfig;
  /** Sees every prompt given to the LLM (tests check what went in). */
  onPrompt?: (messages: ChatMessage[]) => void;
  /** Whole-completion limit for the LLM (default 60 s). */
  llmTimeoutMs?: number;
  conversations?: ConversationStore;
}

export type AssistantEvent = { type: 'token'; text: string } | { type: 'answer'; answer: AssistantAnswer };

export interface Assistant {
  ask(req: AskRequest): Promise<AssistantAnswer>;
  askStream(req: AskRequest, signal?: AbortSignal): AsyncIterable<AssistantEvent>;
  /** llm: null = built-in answers; `local` = a GGUF model in this process (nothing leaves the machine). */
  info(): { llm: null | { model: string; url: string; local: boolean }; entries: number };
  /** Loads a local model now rather than at the first question (a no-op otherwise). */
  warm(): Promise<void>;
  close(): Promise<void>;
  /** The entries it answers from (for a help browser). */
  readonly entries: readonly HelpEntry[];
}

/** Bad input: the route answers 400 with this message. */
export class AssistantInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssistantInputError';
  }
}

/** An infoHash the node does not know: the route answers 404. */
export class UnknownTorrentError extends Error {
  readonly infoHash: string;
  constructor(infoHash: string) {
    super(`no torrent with infohash ${infoHash}`);
    this.name = 'UnknownTorrentError';
    this.infoHash = infoHash;
  }
}

export const MAX_QUESTION_CHARS = 2000;
const MAX_SOURCES = 3;
// Entries scoring below this share of the best one are noise, not "see also".
const RELATIVE_CUTOFF = 0.45;

interface Prepared {
  question: string;
  conversation: string;
  torrent?: TorrentView;
  findings: Finding[];
  entries: HelpEntry[];
  sources: Source[];
  answer: AssistantAnswer;
}

export function createAssistant(opts: AssistantOptions): Assistant {
  if (opts.entries === undefined && opts.helpDir === undefined) throw new Error('createAssistant needs helpDir or entries');
  // Read and indexed on first use, not when the node starts: most nodes run for days without a
  // question, and every start (and every test server) would pay for 85 files and an index.
  let kb: { entries: HelpEntry[]; byId: Map<string, HelpEntry>; retriever: ReturnType<typeof createRetriever> } | undefined;
  const knowledge = () => {
    if (kb === undefined) {
      const entries = opts.entries ?? loadHelpDir(opts.helpDir!);
      if (opts.entries) validateEntries(entries);
      kb = { entries, byId: new Map(entries.map((e) => [e.id, e])), retriever: createRetriever(entries) };
    }
    return kb;
  };
  const conversations = opts.conversations ?? new ConversationStore();
  const llm = opts.llm;
  const modelName = llm === undefined ? undefined : isLocalLlm(llm) ? localModelName(llm) : llm.model;
  let local: Promise<LocalModel> | undefined;
  const localModel = () => {
    if (llm === undefined || !isLocalLlm(llm)) throw new Error('no local model configured');
    local ??= LocalModel.load(llm);
    // A model that failed to load may load next time (a file being copied in, say).
    local.catch(() => (local = undefined));
    return local;
  };
  async function* complete(messages: ChatMessage[], signal?: AbortSignal): AsyncGenerator<string> {
    if (llm === undefined) return;
    if (!isLocalLlm(llm)) {
      yield* streamChat(llm, messages, { signal, timeoutMs: opts.llmTimeoutMs });
      return;
    }
    const limit = AbortSignal.timeout(opts.llmTimeoutMs ?? 60_000);
    yield* (await localModel()).stream(messages, signal ? AbortSignal.any([signal, limit]) : limit);
  }

  async function prepare(req: AskRequest): Promise<Prepared> {
    const asked = validate(req);
    const { byId, retriever } = knowledge();
    const conversation = typeof req.conversation === 'string' && req.conversation.trim() !== '' ? req.conversation.slice(0, 200) : randomUUID();
    const previous = conversations.get(conversation);
    const kind = previous === undefined ? null : followUpKind(asked);
    // A follow-up is about the same torrent; a pure one ("and now?") is retrieved as the question it follows.
    const followUp = kind === 'pure';
    const question = followUp ? previous!.question : asked;

    let torrent: TorrentView | undefined;
    const hash = req.infoHash?.toLowerCase() ?? (kind !== null ? previous!.infoHash : undefined);
    if (hash !== undefined) {
      torrent = await opts.node.torrent(hash);
      if (torrent === undefined) {
        if (req.infoHash !== undefined) throw new UnknownTorrentError(req.infoHash);
      }
    }
    if (torrent === undefined) torrent = await torrentNamedIn(asked, opts.node);
    if (torrent === undefined && kind === null) torrent = await onlyUnfinishedTorrent(asked, opts.node);

    // The torrent's name and hash are not what the question asks about: "Ubuntu 24.04 has an error" is about errors.
    const hits = retriever.search(torrent !== undefined && !followUp ? withoutTorrent(question, torrent) : question, 8);
    const top = hits[0]?.score ?? 0;
    const retrieved = hits.filter((h) => h.score >= top * RELATIVE_CUTOFF).slice(0, MAX_SOURCES);
    const retrievedIds = new Set(retrieved.map((h) => h.entry.id));

    const all = await opts.checks(opts.node, torrent?.infoHash);
    // About a torrent: every finding counts. A general question: only findings that explain what it
    // is about (they cite one of the retrieved entries), so "how do I change my password" is not
    // answered with the node's port status.
    const relevant = torrent !== undefined ? all : all.filter((f) => f.severity !== 'ok' && f.entries.some((id) => retrievedIds.has(id)));
    const findings = selectFindings(relevant);

    // Sources: what the findings cite first (the answer leads with them), then retrieval's best.
    const scores = new Map(hits.map((h) => [h.entry.id, h.score]));
    const sourceIds: string[] = [];
    for (const f of findings) {
      const cited = f.severity === 'ok' ? undefined : f.entries.find((id) => byId.has(id));
      if (cited !== undefined && !sourceIds.includes(cited)) sourceIds.push(cited);
    }
    for (const h of retrieved) if (!sourceIds.includes(h.entry.id)) sourceIds.push(h.entry.id);
    const chosen = sourceIds.slice(0, Math.max(MAX_SOURCES, Math.min(sourceIds.length, 4))).map((id) => byId.get(id)!);
    const sources: Source[] = chosen.map((e) => ({ id: e.id, title: e.title, ui: e.ui, score: scores.get(e.id) ?? 0 }));

    const actions = mergeActions([
      ...findings.map((f) => f.actions),
      chosen.slice(0, 2).map((e) => openAction(e, torrent?.infoHash)).filter((a) => a !== undefined),
    ]);
    conversations.set(conversation, { question: torrent !== undefined && !followUp ? withoutTorrent(question, torrent) : question, infoHash: torrent?.infoHash });
    const text = composeAnswer({ findings, entries: chosen, torrentName: torrent ? (torrent.name ?? torrent.infoHash.slice(0, 8)) : undefined });
    return {
      question: followUp ? `${asked} (following up on: "${question}")` : asked,
      conversation,
      torrent,
      findings,
      entries: chosen,
      sources,
      answer: { answer: text, findings, sources, actions, conversation, answeredBy: 'built-in' },
    };
  }

  async function* askStream(req: AskRequest, signal?: AbortSignal): AsyncGenerator<AssistantEvent> {
    const p = await prepare(req);
    if (llm === undefined) {
      yield { type: 'answer', answer: p.answer };
      return;
    }
    const messages = buildPrompt({ question: p.question, findings: p.findings, entries: p.entries, torrent: p.torrent });
    let text = '';
    try {
      opts.onPrompt?.(messages);
      for await (const piece of complete(messages, signal)) {
        text += piece;
        yield { type: 'token', text: piece };
      }
      if (text.trim() === '') throw new Error('it returned an empty answer');
    } catch (err) {
      if (signal?.aborted) throw err;
      const note = `_(The language model ${modelName} could not answer — ${describeLlmError(err)}. This is the built-in answer.)_`;
      yield { type: 'answer', answer: { ...p.answer, answer: `${p.answer.answer}\n\n${note}` } };
      return;
    }
    // A model may cite a number it was not given: drop those, the sources list is the truth.
    const cited = text.trim().replace(/\[(\d+)\]/g, (m, n: string) => (Number(n) >= 1 && Number(n) <= p.sources.length ? m : ''));
    yield { type: 'answer', answer: { ...p.answer, answer: cited, answeredBy: modelName! } };
  }

  return {
    get entries() {
      return knowledge().entries;
    },
    async ask(req) {
      let final: AssistantAnswer | undefined;
      for await (const ev of askStream(req)) if (ev.type === 'answer') final = ev.answer;
      return final!;
    },
    askStream,
    info: () => ({
      llm: llm === undefined ? null : isLocalLlm(llm) ? { model: modelName!, url: 'this node', local: true } : { model: llm.model, url: new URL(llm.url).host, local: false },
      entries: knowledge().entries.length,
    }),
    async warm() {
      if (llm !== undefined && isLocalLlm(llm)) await localModel();
    },
    async close() {
      const m = local;
      local = undefined;
      if (m) await (await m.catch(() => undefined))?.close();
    },
  };
}

function validate(req: AskRequest): string {
  if (req === null || typeof req !== 'object') throw new AssistantInputError('the request must be an object with a "question"');
  if (typeof req.question !== 'string' || req.question.trim() === '') throw new AssistantInputError('"question" must be a non-empty string');
  if (req.question.length > MAX_QUESTION_CHARS) throw new AssistantInputError(`"question" is longer than ${MAX_QUESTION_CHARS} characters`);
  if (req.infoHash !== undefined && (typeof req.infoHash !== 'string' || !/^[0-9a-fA-F]{40}$/.test(req.infoHash))) {
    throw new AssistantInputError('"infoHash" must be 40 hexadecimal characters');
  }
  if (req.conversation !== undefined && typeof req.conversation !== 'string') throw new AssistantInputError('"conversation" must be a string');
  return req.question.trim();
}

/** The question without the torrent's name, name words or (a prefix of) its infohash. */
export function withoutTorrent(question: string, torrent: TorrentView): string {
  let q = question;
  if (torrent.name) {
    const at = q.toLowerCase().indexOf(torrent.name.toLowerCase());
    if (at >= 0) q = `${q.slice(0, at)} ${q.slice(at + torrent.name.length)}`;
    const nameWords = new Set(tokenize(torrent.name));
    q = q.split(/(\s+)/).filter((w) => !(tokenize(w).length > 0 && tokenize(w).every((t) => nameWords.has(t)))).join('');
  }
  q = q.replace(/\b[0-9a-fA-F]{6,40}\b/g, (h) => (torrent.infoHash.startsWith(h.toLowerCase()) ? ' ' : h));
  const rest = q.replace(/\s+/g, ' ').trim();
  return rest === '' ? question : rest;
}

/** The torrent a question names: an infohash (or a prefix of 6+ hex digits), or its name. */
export async function torrentNamedIn(question: string, node: NodeView): Promise<TorrentView | undefined> {
  const list = await node.torrents();
  if (list.length === 0) return undefined;
  const lower = question.toLowerCase();
  for (const m of lower.matchAll(/\b[0-9a-f]{6,40}\b/g)) {
    if (!/[0-9]/.test(m[0]) || !/[a-f]/.test(m[0])) continue; // "123456" or "deface" are words or numbers
    const found = list.filter((t) => t.infoHash.startsWith(m[0]));
    if (found.length === 1) return (await node.torrent(found[0]!.infoHash)) ?? found[0];
  }
  // By name: all the name's words (ignoring "1080p", extensions…) appear in the question, longest name wins.
  const words = new Set(tokenize(question));
  let best: TorrentView | undefined;
  let bestLen = 0;
  for (const t of list) {
    if (!t.name) continue;
    const nameWords = tokenize(t.name.replace(/\.[a-z0-9]{2,4}$/i, '')).filter((w) => w.length > 1);
    const letters = nameWords.join('').length;
    if (nameWords.length === 0 || letters < 4) continue;
    const inQuestion = lower.includes(t.name.toLowerCase()) || nameWords.every((w) => words.has(w));
    if (inQuestion && letters > bestLen) {
      best = t;
      bestLen = letters;
    }
  }
  if (best === undefined) {
    // Loosely: one distinctive word of a name ("my ubuntu one is stuck"), if exactly one torrent has it.
    const matches = list.filter((t) => t.name && tokenize(t.name).some((w) => w.length >= 5 && !/^\d+$/.test(w) && !GENERIC_NAME_WORDS.has(w) && words.has(w)));
    if (matches.length === 1) best = matches[0];
  }
  return best === undefined ? undefined : ((await node.torrent(best.infoHash)) ?? best);
}

/** A question about something going wrong ("my download is stuck at 0%"), not a how-to ("how do I add a magnet"). */
const TRANSFER_TROUBLE = /\b0 ?%|\b(stuck|stall\w*|slow\w*|frozen|hang(s|ing)?|nothing happens|no peers|not (start|download|finish|complet|mov|work|go)\w*|(won'?t|doesn'?t|isn'?t|can'?t|never) \w+|what'?s wrong|wrong with|problems?|errors?|broken)\b/i;

/**
 * A question about "my download" that names none: when exactly one torrent is unfinished (the
 * usual case of a user asking why it is stuck), that one is meant, and its checks answer first.
 * Several unfinished ones: nothing is guessed.
 */
export async function onlyUnfinishedTorrent(question: string, node: NodeView): Promise<TorrentView | undefined> {
  if (!TRANSFER_TROUBLE.test(question)) return undefined;
  const unfinished = (await node.torrents()).filter((t) => t.state === 'error' || t.progress === null || t.progress < 1);
  if (unfinished.length !== 1) return undefined;
  return (await node.torrent(unfinished[0]!.infoHash)) ?? unfinished[0];
}

// Words in torrent names that are also words of questions about anything.
const GENERIC_NAME_WORDS = new Set(['torrent', 'download', 'downloads', 'video', 'videos', 'music', 'audio', 'files', 'folder',
  'share', 'seeding', 'stuck', 'speed', 'slow', 'complete', 'edition', 'season', 'episode', 'movie', 'album', 'backup',
  'data', 'image', 'images', 'photos', 'linux', 'release', 'version', 'final', 'collection', 'private', 'public', 'tracker']);
