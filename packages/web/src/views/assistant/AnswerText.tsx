// The answer's light Markdown as React elements (never as HTML: the text may come from an LLM):
// paragraphs, "- " lists, **bold**, _italic_, `code`, "#" headings, [title](#/route) links inside
// the app, and [n] citations that point at the answer's sources list.
import type { ReactNode } from 'react';
import type { Source } from '../../api/assistant-api.ts';

export interface Cite {
  sources: Source[];
  /** Scrolls to source n (1-based) of this answer and marks it. */
  show(n: number): void;
}

export function AnswerText({ text, cite, skip, tail }: { text: string; cite?: Cite; skip?: (line: string) => boolean; tail?: ReactNode }) {
  // Blocks first (paragraphs of lines, lists of items, headings), then each line's inline marks.
  type Block = { kind: 'p' | 'ul' | 'h'; lines: string[] };
  const blocks: Block[] = [];
  let open: Block | undefined;
  const start = (kind: Block['kind']) => {
    if (open?.kind !== kind) blocks.push((open = { kind, lines: [] }));
    return open;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (skip?.(line)) continue;
    const item = /^\s*(?:[-*•]|\d+[.)])\s+(.*)$/.exec(line);
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (line.trim() === '') open = undefined;
    else if (heading) {
      blocks.push({ kind: 'h', lines: [heading[1]!] });
      open = undefined;
    } else if (item) start('ul').lines.push(item[1]!);
    else start('p').lines.push(line);
  }
  const last = blocks.length - 1;
  return (
    <div className="assistant-text">
      {blocks.map((b, i) => {
        // What follows the text (a streaming answer's caret) goes at the end of its last line.
        const end = i === last ? tail : undefined;
        if (b.kind === 'ul') {
          return (
            <ul key={i}>
              {b.lines.map((l, j) => (
                <li key={j}>
                  {inline(l, cite)}
                  {j === b.lines.length - 1 && end}
                </li>
              ))}
            </ul>
          );
        }
        if (b.kind === 'h') {
          return (
            <p key={i} className="assistant-heading">
              <strong>{inline(b.lines[0]!, cite)}</strong>
              {end}
            </p>
          );
        }
        return (
          <p key={i}>
            {b.lines.map((l, j) => (
              <span key={j}>
                {j > 0 && <br />}
                {inline(l, cite)}
              </span>
            ))}
            {end}
          </p>
        );
      })}
      {blocks.length === 0 && tail}
    </div>
  );
}

// One pass over a line: the first of these that matches at the earliest place wins.
const INLINE = /\*\*([^*\n]+)\*\*|`([^`\n]+)`|\[(\d{1,2})\]|\[([^\]\n]+)\]\(([^)\s]+)\)|(?<![\w])[_*]([^_*\n]+)[_*](?![\w])/g;

export function inline(line: string, cite?: Cite): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  for (const m of line.matchAll(INLINE)) {
    const at = m.index;
    if (at > last) out.push(line.slice(last, at));
    const k = out.length;
    if (m[1] !== undefined) out.push(<strong key={k}>{inline(m[1], cite)}</strong>);
    else if (m[2] !== undefined) out.push(<code key={k}>{m[2]}</code>);
    else if (m[3] !== undefined) {
      // "[2]." must not wrap between the citation and its full stop.
      const punct = /^[.,;:!?)]+/.exec(line.slice(at + m[0].length))?.[0] ?? '';
      out.push(
        <span key={k} className="nowrap">
          {citation(Number(m[3]), 'c', cite)}
          {punct}
        </span>,
      );
      last = at + m[0].length + punct.length;
      continue;
    }
    else if (m[4] !== undefined && m[5] !== undefined) {
      // Only places inside the app become links: an LLM's URL is shown, not followed blindly.
      out.push(m[5].startsWith('#/') ? <a key={k} href={m[5]}>{m[4]}</a> : `${m[4]} (${m[5]})`);
    } else if (m[6] !== undefined) out.push(<em key={k}>{m[6]}</em>);
    last = at + m[0].length;
  }
  if (last < line.length) out.push(line.slice(last));
  return out;
}

export function citation(n: number, key: number | string, cite?: Cite): ReactNode {
  const source = cite?.sources[n - 1];
  if (!cite || !source) return `[${n}]`;
  return (
    <button key={key} type="button" className="cite" onClick={() => cite.show(n)} title={source.title} aria-label={`Source ${n}: ${source.title}`} data-testid="assistant-cite">
      [{n}]
    </button>
  );
}
