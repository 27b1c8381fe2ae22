// The assistant's conversation, kept outside React: it survives leaving the view (an action that
// opens Settings, a look at the torrent list) and a reload (sessionStorage), and an answer still
// streaming keeps arriving meanwhile. One conversation per signed-in person: a change of person
// starts a new one.
import { useSyncExternalStore } from 'react';
import { askAssistant, assistantInfo, type AssistantAnswer, type AssistantInfo } from '../api/assistant-api.ts';

export interface Turn {
  key: number;
  question: string;
  /** The torrent it was asked about, when one was attached. */
  infoHash?: string;
  status: 'asking' | 'streaming' | 'done' | 'error';
  /** Text streamed so far (an LLM writing); replaced by the answer when it ends. */
  streamed: string;
  answer?: AssistantAnswer;
  error?: string;
}

export interface AssistantState {
  owner: string;
  turns: Turn[];
  /** The id the last answer gave: sent with the next question to keep the context. */
  conversation?: string;
  info?: AssistantInfo;
  infoError?: string;
}

const STORAGE_KEY = 'cascade.assistant';
const MAX_TURNS = 50;

let state: AssistantState = load();
let controller: AbortController | undefined;
const listeners = new Set<() => void>();

function load(): AssistantState {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (raw) {
      const saved = JSON.parse(raw) as Pick<AssistantState, 'owner' | 'turns' | 'conversation'>;
      if (Array.isArray(saved.turns)) return { owner: String(saved.owner ?? ''), turns: saved.turns.filter((t) => t.status === 'done' || t.status === 'error'), conversation: saved.conversation };
    }
  } catch {}
  return { owner: '', turns: [] };
}

function set(next: Partial<AssistantState>): void {
  state = { ...state, ...next };
  for (const fn of listeners) fn();
  // Only what is finished is kept: a reload does not resume a half-streamed answer.
  if (state.turns.every((t) => t.status === 'done' || t.status === 'error')) {
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ owner: state.owner, turns: state.turns, conversation: state.conversation }));
    } catch {}
  }
}

function updateTurn(key: number, patch: Partial<Turn>): void {
  set({ turns: state.turns.map((t) => (t.key === key ? { ...t, ...patch } : t)) });
}

export function useAssistant(): AssistantState {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => state,
  );
}

/** Called by the view with who is signed in: another person gets a conversation of their own. */
export function setAssistantOwner(owner: string): void {
  if (state.owner === owner) return;
  controller?.abort();
  set({ owner, turns: [], conversation: undefined });
}

/** Reads GET /api/assistant (is an LLM configured, and where to) for the privacy line. */
export async function loadAssistantInfo(): Promise<void> {
  try {
    set({ info: await assistantInfo(), infoError: undefined });
  } catch (err) {
    set({ infoError: (err as Error).message });
  }
}

export function isBusy(s: AssistantState = state): boolean {
  return s.turns.some((t) => t.status === 'asking' || t.status === 'streaming');
}

let nextKey = Date.now();

/** Asks the node; streams when it says an LLM is configured (tokens show as they come). */
export async function ask(question: string, infoHash?: string): Promise<void> {
  const q = question.trim();
  if (!q || isBusy()) return;
  const key = nextKey++;
  const turn: Turn = { key, question: q, status: 'asking', streamed: '', ...(infoHash ? { infoHash } : {}) };
  set({ turns: [...state.turns, turn].slice(-MAX_TURNS) });
  controller = new AbortController();
  const stream = !!state.info?.llm;
  let streamed = '';
  try {
    const answer = await askAssistant(
      { question: q, ...(infoHash ? { infoHash } : {}), ...(state.conversation ? { conversation: state.conversation } : {}) },
      {
        stream,
        signal: controller.signal,
        onToken: (text) => {
          streamed += text;
          updateTurn(key, { status: 'streaming', streamed });
        },
      },
    );
    updateTurn(key, { status: 'done', answer, streamed: '' });
    if (answer.conversation) set({ conversation: answer.conversation });
  } catch (err) {
    const aborted = (err as Error).name === 'AbortError';
    updateTurn(key, { status: 'error', error: aborted ? 'Stopped.' : (err as Error).message, streamed });
  } finally {
    controller = undefined;
  }
}

/** Stops the answer being written (the node stops asking its LLM when the request goes away). */
export function stopAsking(): void {
  controller?.abort();
}

/** Forgets the conversation: the next question starts a new one on the node too. */
export function newConversation(): void {
  controller?.abort();
  set({ turns: [], conversation: undefined });
}
