// Accuracy of retrieval over a labelled question set (test/questions/*.json): shared by the
// bench (bench/assistant) and the regression test, so both count the same way.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HelpEntry } from '../types.ts';

export interface LabelledQuestion {
  q: string;
  /** The entries that answer it, best first. */
  entries: string[];
  findings?: string[];
  /** The file it came from (for messages). */
  file: string;
}

/** Reads question files, or every *.json of folders; throws naming the file and index of a malformed one. */
export function loadQuestions(paths: string[]): LabelledQuestion[] {
  const files = paths.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((n) => n.endsWith('.json')).sort().map((n) => join(p, n)) : [p]));
  return files.flatMap((file) => {
    const list: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(list)) throw new Error(`${file}: must be a JSON array of {"q", "entries"}`);
    return list.map((item, i) => {
      const x = item as Partial<LabelledQuestion>;
      if (typeof x?.q !== 'string' || x.q.trim() === '' || !Array.isArray(x.entries) || x.entries.length === 0 || !x.entries.every((e) => typeof e === 'string')) {
        throw new Error(`${file}: question #${i + 1} needs "q" (text) and "entries" (a non-empty list of entry ids)`);
      }
      return { q: x.q, entries: x.entries, findings: x.findings, file };
    });
  });
}

/** Labels that name no entry: "<file>: "<q>" → <id>". */
export function unknownLabels(questions: LabelledQuestion[], entries: readonly HelpEntry[]): string[] {
  const ids = new Set(entries.map((e) => e.id));
  return questions.flatMap((q) => q.entries.filter((id) => !ids.has(id)).map((id) => `${q.file}: "${q.q}" → ${id}`));
}

export interface Accuracy {
  questions: number;
  /** The first result is one of the labelled entries. */
  top1: number;
  /** The first result is the labelled best entry. */
  top1Best: number;
  /** A labelled entry is among the first three. */
  top3: number;
  misses: { q: string; expected: string[]; got: string[] }[];
}

export function accuracy(questions: LabelledQuestion[], rank: (q: string) => string[]): Accuracy {
  let top1 = 0;
  let top1Best = 0;
  let top3 = 0;
  const misses: Accuracy['misses'] = [];
  for (const q of questions) {
    const got = rank(q.q).slice(0, 3);
    if (got[0] !== undefined && q.entries.includes(got[0])) top1++;
    else misses.push({ q: q.q, expected: q.entries, got });
    if (got[0] === q.entries[0]) top1Best++;
    if (got.some((id) => q.entries.includes(id))) top3++;
  }
  const n = questions.length || 1;
  return { questions: questions.length, top1: top1 / n, top1Best: top1Best / n, top3: top3 / n, misses };
}
