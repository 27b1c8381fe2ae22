// Conversation context: the last request of each conversation, so a follow-up ("and now?", "still
// not working") re-runs the same torrent's checks and the same retrieval. Bounded (oldest dropped
// first) and expiring, so a node answering many clients keeps a small, fixed amount of it.
import { tokenize } from '../knowledge/retrieval.ts';

export interface ConversationTurn {
  /** The question retrieval used (a follow-up keeps its predecessor's). */
  question: string;
  infoHash?: string;
  at: number;
}

export interface ConversationStoreOptions {
  /** Conversations kept (default 500). */
  max?: number;
  /** Idle time after which a conversation is forgotten (default 30 min). */
  ttlMs?: number;
  now?: () => number;
}

export class ConversationStore {
  readonly #turns = new Map<string, ConversationTurn>();
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(opts: ConversationStoreOptions = {}) {
    this.#max = opts.max ?? 500;
    this.#ttlMs = opts.ttlMs ?? 30 * 60_000;
    this.#now = opts.now ?? Date.now;
  }

  get(id: string): ConversationTurn | undefined {
    const turn = this.#turns.get(id);
    if (turn === undefined) return undefined;
    if (this.#now() - turn.at > this.#ttlMs) {
      this.#turns.delete(id);
      return undefined;
    }
    // Used now: move it to the end, so the least recently used is dropped first.
    this.#turns.delete(id);
    this.#turns.set(id, turn);
    return turn;
  }

  set(id: string, turn: Omit<ConversationTurn, 'at'>): void {
    // Re-inserting moves it to the end: Map order is then least recently used first.
    this.#turns.delete(id);
    this.#turns.set(id, { ...turn, at: this.#now() });
    while (this.#turns.size > this.#max) this.#turns.delete(this.#turns.keys().next().value!);
  }

  get size(): number {
    return this.#turns.size;
  }
}

// A follow-up says "again" without saying what: short, and made of these words only.
const FOLLOW_UP_WORDS = new Set(`and now what about how so still not working work works worked nothing same problem issue
  again check recheck try retry tried it is its fixed fix better any change changed did does do done yet there
  ok okay well hmm then anything else happening happen going on status update updated stuck broken help please
  whats thing i ive me my we the a that this should look looks see`.split(/\s+/).filter(Boolean));
const FOLLOW_UP_CORE = /\b(now|still|again|yet|fixed|better|changed|same|retry|recheck|anything)\b/;
// "now how do I add a magnet" is a new question that happens to say "now".
const NEW_QUESTION = /^(now |so |and |ok |okay )*(how|where|what is|what are|what does|can i|is there|why does|why do)\b/;

/**
 * "pure": a follow-up that only makes sense after the previous question ("and now?", "still not working"):
 * re-run the checks and retrieve as before. "partial": short, saying again-ish things with a word or two of
 * its own ("I forwarded the port, and now?"): re-run the same torrent's checks, retrieve for its own words.
 */
export function followUpKind(question: string): 'pure' | 'partial' | null {
  const words = tokenize(question);
  if (words.length === 0 || words.length > 8) return null;
  const text = words.join(' ');
  if (!FOLLOW_UP_CORE.test(text)) return null;
  const own = words.filter((w) => !FOLLOW_UP_WORDS.has(w));
  if (own.length === 0) return 'pure';
  return own.length <= 2 && !NEW_QUESTION.test(text) ? 'partial' : null;
}

/** True for a follow-up that only makes sense after the previous question ("and now?", "still not working"). */
export function isFollowUp(question: string): boolean {
  return followUpKind(question) === 'pure';
}
