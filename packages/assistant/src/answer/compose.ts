// The built-in answer (no LLM): findings first (problems, then warnings; "ok" only when nothing
// else was found), each with its evidence, then the best entries in a few sentences citing [n],
// then the actions of both merged without duplicates.
import { stripMarkdown } from '../knowledge/retrieval.ts';
import type { AssistantAction, Finding, HelpEntry } from '../types.ts';

const SEVERITY_ORDER: Record<Finding['severity'], number> = { problem: 0, warning: 1, info: 2, ok: 3 };
const MAX_FINDINGS = 5;

/** The findings worth showing, most severe first; "ok" ones only when there is nothing else. */
export function selectFindings(findings: Finding[]): Finding[] {
  const sorted = [...findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const notOk = sorted.filter((f) => f.severity !== 'ok');
  return (notOk.length > 0 ? notOk : sorted).slice(0, MAX_FINDINGS);
}

const ROUTE_NAMES: Record<string, string> = {
  '#/torrents': 'Torrents', '#/share': 'Share', '#/add': 'Add', '#/rss': 'RSS', '#/chat': 'Chat',
  '#/network': 'Network', '#/settings': 'Settings', '#/assistant': 'Assistant',
};

/** The "open this place" button for an entry's UI route ("#/torrents/<hash>" gets the torrent's hash). */
export function openAction(entry: HelpEntry, infoHash?: string): AssistantAction | undefined {
  if (entry.ui === null) return undefined;
  let href = entry.ui;
  if (/^#\/torrents\/[^/]+/.test(href)) {
    if (infoHash === undefined) href = '#/torrents';
    else href = `#/torrents/${infoHash}`;
  }
  const top = /^#\/[a-z-]+/.exec(href)?.[0] ?? href;
  const name = href.startsWith('#/torrents/') ? 'the torrent' : (ROUTE_NAMES[top] ?? top.slice(2));
  return { id: `open-${href.slice(2).replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '').toLowerCase()}`, label: `Open ${name}`, href };
}

/** Actions in order, without repeats (same id and same target counts as the same step). */
export function mergeActions(lists: AssistantAction[][]): AssistantAction[] {
  const seen = new Set<string>();
  const out: AssistantAction[] = [];
  for (const a of lists.flat()) {
    const key = `${a.id}|${a.request ? `${a.request.method} ${a.request.path}` : ''}|${a.href ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
  }
  return out;
}

/** The first sentences of an entry, up to about `max` characters, as plain text on one line. */
export function excerpt(body: string, max = 420): string {
  return firstSentences(body, max).trim();
}

function firstSentences(body: string, max: number): string {
  // Lines of a list stay lines ("\n- …"); other line breaks inside a paragraph are spaces.
  const paragraphs = stripMarkdown(body, { codeBlocks: false }).split(/\n\s*\n/).map((p) => p.replace(/\n(?!- )/g, ' ').replace(/[ \t]+/g, ' ').trim()).filter(Boolean);
  let text = '';
  for (const p of paragraphs) {
    // Sentences end at . ! ? before a space and a capital, digit or quote ("magnet:?xt=…" and "file.mkv" are not ends).
    const sentences = p.split(/(?<=[.!?])[ ]+(?=[A-Z0-9"'(*[`])|(\n)/).filter((x) => x !== undefined && x !== '');
    for (const s of sentences) {
      if (s === '\n') {
        text = text.replace(/ $/, '') + '\n';
        continue;
      }
      const next = text === '' || text.endsWith('\n') ? `${text}${s.trim()}` : `${text} ${s.trim()}`;
      if (text !== '' && next.length > max) return text;
      text = next;
      if (text.length >= max) return text.length > max + 80 ? `${text.slice(0, max).replace(/\s+\S*$/, '')}…` : text;
    }
    if (text.length >= max * 0.6) return text;
  }
  return text;
}

export interface ComposeInput {
  findings: Finding[];
  /** Sources in citation order. */
  entries: HelpEntry[];
  torrentName?: string;
}

export function composeAnswer(input: ComposeInput): string {
  const cite = new Map(input.entries.map((e, i) => [e.id, i + 1]));
  const lines: string[] = [];
  const serious = input.findings.filter((f) => f.severity === 'problem' || f.severity === 'warning');
  if (input.torrentName !== undefined && input.findings.length > 0) {
    lines.push(serious.length > 0 ? `Checked "${input.torrentName}" just now:` : `Checked "${input.torrentName}" just now, nothing wrong found:`);
  }
  for (const f of input.findings) {
    const refs = f.entries.map((id) => cite.get(id)).filter((n) => n !== undefined).map((n) => `[${n}]`).join('');
    const label = f.severity === 'problem' ? 'Problem' : f.severity === 'warning' ? 'Warning' : f.severity === 'ok' ? 'OK' : 'Note';
    lines.push(`- **${label}:** ${f.title}${/[.!?]$/.test(f.title) ? '' : '.'} ${f.evidence}${refs ? ` ${refs}` : ''}`);
  }
  if (input.findings.length > 0) lines.push('');

  const [best, ...rest] = input.entries;
  if (best === undefined) {
    if (input.findings.length === 0) lines.push('I have no help entry on that. Try other words (what you see, the screen, the error message), or browse the help in the Assistant panel.');
  } else {
    lines.push(`**${best.title}** [1]: ${excerpt(best.body)}`);
    if (rest.length > 0) lines.push('', `See also: ${rest.map((e) => `${e.title} [${cite.get(e.id)}]`).join('; ')}.`);
  }
  return lines.join('\n').trim();
}
