// Retrieval: which help entries answer a question written in the user's own words. MiniSearch
// (BM25) over title and keywords (boosted: they name the symptom) and the body, with prefix and
// fuzzy matching for typos, and one shared term pipeline for index and query: contractions folded
// ("won't" → "wont"), a light suffix stemmer ("seeding", "seeds" → "seed") and a short stop-word
// list; the query's torrent slang is also mapped to the words the entries use ("dl" → "download").
import MiniSearch from 'minisearch';
import type { HelpEntry } from '../types.ts';

export interface SearchResult {
  entry: HelpEntry;
  /** BM25 score, higher is better; only comparable within one query. */
  score: number;
}

export interface Retriever {
  search(question: string, limit?: number): SearchResult[];
  /** The terms a question becomes after the pipeline (for debugging a miss). */
  terms(question: string): string[];
  readonly entries: readonly HelpEntry[];
}

// Words that carry no meaning in a help question. Kept short on purpose: "not", "no", "slow", "cant"
// are symptoms and stay.
const STOP_WORDS = new Set(`a an the i im ive me my mine we our you your it its is are was were be been being am
  to of and or in on at for from by with as into about this that these those there here then than so
  do does did doing done how what why when where which who whom whose can could would should will shall
  may might must have has had having just any some please pls plz help hi hello hey thanks thank ok okay
  get got gets getting one also still very really much more most if else but yet up out
  cascade app`.split(/\s+/).filter(Boolean));

// Slang and spelling variants → the words the entries use. Values may hold several words.
const SYNONYMS: Record<string, string> = {
  dl: 'download', dls: 'download', dload: 'download', downlod: 'download', dwnld: 'download', leech: 'download', leeching: 'download',
  ul: 'upload', upl: 'upload',
  seeder: 'seed', seeders: 'seed', seeding: 'seed', seedbox: 'seed',
  leecher: 'peer', leechers: 'peer',
  torrnet: 'torrent', torent: 'torrent', torrents: 'torrent',
  pw: 'password', pwd: 'password', passwd: 'password',
  login: 'sign in', logon: 'sign in', signin: 'sign in', logout: 'sign out', signout: 'sign out',
  mag: 'magnet', magnets: 'magnet',
  wifi: 'network', internet: 'network', connection: 'connect', connections: 'connect', conn: 'connect',
  fw: 'firewall', ufw: 'firewall', iptables: 'firewall',
  portforward: 'port forward', portforwarding: 'port forward', upnp: 'port forward nat', router: 'router nat port',
  kbps: 'speed', mbps: 'speed', kb: 'speed', mb: 'speed', fast: 'speed', faster: 'speed', slowly: 'slow',
  pct: 'percent', percentage: 'percent',
  '0pct': 'stuck zero percent', zero: 'stuck zero',
  frozen: 'stuck', freeze: 'stuck', hangs: 'stuck', hanging: 'stuck', stallled: 'stall', stalled: 'stall', stuk: 'stuck',
  wont: 'not', doesnt: 'not', dont: 'not', cant: 'not cannot', isnt: 'not', arent: 'not', didnt: 'not', nothing: 'not',
  cannot: 'not',
  hdd: 'disk', ssd: 'disk', drive: 'disk', storage: 'disk', space: 'disk space',
  vid: 'video', vids: 'video', movie: 'video', film: 'video', mp4: 'video', mkv: 'video', watch: 'stream',
  msg: 'message', msgs: 'message', dm: 'message chat', pm: 'message chat',
  cli: 'command line', terminal: 'command line', cmd: 'command',
  ui: 'web interface', gui: 'web interface', webui: 'web interface', browser: 'browser web',
  ratio: 'share ratio', cap: 'limit', throttle: 'limit', throttled: 'limit',
  eth: 'wallet chain', crypto: 'chain', tor: 'onion',
};

/** Splits text into raw lowercase words; "won't" → "wont", "0 %" → "0pct", "1a2b-3c" → "1a2b", "3c". */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[’‘`´]/g, "'")
    .replace(/(\w)'(\w)/g, '$1$2')
    .replace(/(\d+)\s*%/g, ' $1pct ')
    .split(/[^a-z0-9]+/)
    .filter((t) => t !== '');
}

/** A light suffix stemmer: enough to meet "seeding"/"seeds"/"seeded" at "seed", applied to both sides. */
export function stem(word: string): string {
  if (word.length <= 3 || /^\d/.test(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('ing') && word.length > 5) return undouble(word.slice(0, -3));
  if (word.endsWith('ed') && word.length > 4) return undouble(word.slice(0, -2));
  if (word.endsWith('es') && /(ss|sh|ch|x)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !word.endsWith('is')) return word.slice(0, -1);
  return word;
}

function undouble(w: string): string {
  return /([bdgmnprt])\1$/.test(w) ? w.slice(0, -1) : w;
}

/** One word of an entry → the term indexed. Stop words are indexed too (queries leave them out, but a question
 * of stop words only, "help", searches them); synonyms are the query's business: the entries say "download". */
export function indexTerm(word: string): string {
  return stem(word);
}

/** One raw word → the terms searched for it: itself and its synonyms, stemmed (none for a stop word). */
export function processTerm(word: string): string[] {
  const mapped = SYNONYMS[word];
  const words = mapped !== undefined ? [word, ...mapped.split(' ')] : [word];
  const out = new Set<string>();
  for (const w of words) if (!STOP_WORDS.has(w)) out.add(stem(w));
  return [...out];
}

// Share of the best score added for a keyword phrase said word for word (measured: bench/assistant).
const PHRASE_BONUS = 0.35;

export interface RetrieverOptions {
  /** Boosts of the fields (defaults: title 2, keywords 4, body 1). */
  boost?: { title?: number; keywords?: number; body?: number };
  /** How much a fuzzy or prefix match counts against an exact one (defaults 0.3, 0.6). */
  weights?: { fuzzy?: number; prefix?: number };
}

export function createRetriever(entries: readonly HelpEntry[], opts: RetrieverOptions = {}): Retriever {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const index = new MiniSearch<{ id: string; title: string; keywords: string; body: string }>({
    fields: ['title', 'keywords', 'body'],
    tokenize,
    processTerm: (term) => indexTerm(term),
    searchOptions: { processTerm: (term) => processTerm(term) },
  });
  const phrasesById = new Map(entries.map((e) => [e.id, e.keywords.map((k) => tokenize(k)).filter((t) => t.length >= 2).map((t) => ` ${t.join(' ')} `)]));
  index.addAll(entries.map((e) => ({ id: e.id, title: e.title, keywords: e.keywords.join(' ; '), body: stripMarkdown(e.body) })));
  // Measured on the question set (bench/assistant): keywords, written in users' words, count most.
  const boost = { title: 2, keywords: 4, body: 1, ...opts.boost };
  const weights = { fuzzy: 0.3, prefix: 0.6, ...opts.weights };

  return {
    entries,
    terms: (question) => tokenize(question).flatMap((t) => processTerm(t)),
    search(question, limit = 5) {
      // A question made only of stop words ("help", "how do I?") still means something: search its
      // words as they are rather than find nothing.
      const onlyStopWords = tokenize(question).every((t) => processTerm(t).length === 0);
      const hits = index.search(question, {
        // …in titles and keywords only: a body's "it helps" says nothing about "help".
        ...(onlyStopWords ? { processTerm: (t: string) => stem(t), fields: ['title', 'keywords'] } : {}),
        boost,
        combineWith: 'OR',
        // Prefix for longer words only ("config" finds "configuration"); one edit in 5+ letter
        // words, two in 9+ ("trakcer", "dowload"): short words misspelled are too ambiguous.
        prefix: (term) => term.length >= 4,
        fuzzy: (term) => (term.length >= 9 ? 0.25 : term.length >= 5 ? 0.2 : false),
        weights,
      });
      // A keyword phrase of several words said word for word ("where are my files") is the user's own
      // wording the entry was written for: worth more than its words scattered, stop words included.
      const said = ` ${tokenize(question).join(' ')} `;
      const top = hits[0]?.score ?? 0;
      const scored = hits.map((h) => {
        const phrases = phrasesById.get(h.id as string) ?? [];
        const bonus = phrases.some((p) => said.includes(p)) ? top * PHRASE_BONUS : 0;
        return { entry: byId.get(h.id as string)!, score: Math.round((h.score + bonus) * 1000) / 1000 };
      });
      return scored.sort((a, b) => b.score - a.score).slice(0, limit);
    },
  };
}

/** Markdown → plain text good enough for indexing and excerpts (links keep their text; code blocks kept unless codeBlocks: false). */
export function stripMarkdown(md: string, opts: { codeBlocks?: boolean } = {}): string {
  return md
    .replace(/```[\s\S]*?```/g, (block) => (opts.codeBlocks === false ? ' ' : block.replace(/```\w*/g, ' ')))
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/^\s{0,3}#{1,6}\s+/gm, '')
    .replace(/^\s*[-*+]\s+/gm, '- ')
    .replace(/(\*\*|__)(.*?)\1/g, '$2')
    .replace(/(^|\W)[*_]([^*_\n]+)[*_](?=\W|$)/g, '$1$2');
}
