// The words a torrent's name is found by: runs of letters and digits, lower-cased (NFKC), 2 to 32
// characters long, each once, in order of appearance. A publisher files its record under these words
// and a reader's query is cut the same way, so "Ubuntu-24.04 desktop.iso" is found by "ubuntu desktop".

const WORD = /[\p{L}\p{N}]+/gu;
const MIN_WORD = 2;
const MAX_WORD = 32;

/** The keyword `text` stands for, or '' when it is not one (too short, too long, not a word). */
export function normalizeKeyword(text: string): string {
  const w = text.normalize('NFKC').toLowerCase().trim();
  const chars = [...w];
  if (chars.length < MIN_WORD || chars.length > MAX_WORD) return '';
  return /^[\p{L}\p{N}]+$/u.test(w) ? w : '';
}

/** The distinct keywords of a name or a query, in order. */
export function keywordsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    const w = normalizeKeyword(m[0]);
    if (w && !out.includes(w)) out.push(w);
  }
  return out;
}
