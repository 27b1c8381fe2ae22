// The answer's light Markdown as React elements (never as HTML: the text may come from an LLM):
// paragraphs, "- " lists, **bold**, _italic_, `code`, "#" headings, [title](#/route) links inside
// the app, and [n] citations that point at the answer's sources list.
import type { ReactNode } from 'react';
import type { Source } from '../../assistant-api.ts';

export interface Cite {
  sources: Source[];
  /** Scrolls to source n (1-based) of this answer and marks it. */
  show(n: number): void;
}

export function AnswerText({ text, cite, skip }: { text: string; cite?: Cite; skip?: (line: string) => boolean }) {
  const blocks: ReactNode[] = [];
  let list: string[] = [];
  let para: string[] = [];
  const flush = () => {
    if (list.length > 0) {
      blocks.push(
        <ul key={blocks.length}>
          {list.map((l, i) => (
            <li key={i}>{inline(l, cite)}</li>
          ))}
        </ul>,
      );
      list = [];
    }
    if (para.length > 0) {
      const lines = para;
      blocks.push(
        <p key={blocks.length}>
          {lines.map((l, i) => (
            <span key={i}>
              {i > 0 && <br />}
              {inline(l, cite)}
            </span>
          ))}
        </p>,
      );
      para = [];
    }
  };
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (skip?.(line)) continue;
    const item = /^\s*(?:[-*•]|\d+[.)])\s+(.*)$/.exec(line);
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (line.trim() === '') flush();
    else if (heading) {
      flush();
      blocks.push(
        <p key={blocks.length} className="assistant-heading">
          <strong>{inline(heading[1]!, cite)}</strong>
        </p>,
      );
    } else if (item) {
      if (para.length > 0) {
        const keep = list;
        list = [];
        flush();
        list = keep;
      }
      list.push(item[1]!);
    } else {
      if (list.length > 0) flush();
      para.push(line);
    }
  }
  flush();
  return <div className="assistant-text">{blocks}</div>;
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
    else if (m[3] !== undefined) out.push(citation(Number(m[3]), k, cite));
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
