// Renders `list` / `search` rows (the ListEntry shape comes from the node, @cascade/http) as a
// table: a header, then one line per torrent; live speeds, tags and errors follow the name.

import type { ListEntry } from '@cascade/shapes';
import { formatBytes, formatPercent, formatSpeed, formatDuration } from './format.ts';

const COLUMNS = [
  { head: 'HASH', width: 8 },
  { head: 'STATE', width: 11 },
  { head: 'DONE', width: 6, right: true },
  { head: 'SIZE', width: 9, right: true },
  { head: 'QUEUE', width: 5, right: true },
  { head: 'RATIO', width: 6, right: true },
  { head: 'CATEGORY', width: 12 },
  { head: 'NAME', width: 0 },
] as const;

function cell(text: string, c: (typeof COLUMNS)[number]): string {
  if (c.width === 0) return text;
  const cut = text.length > c.width ? `${text.slice(0, c.width - 1)}…` : text;
  return 'right' in c && c.right ? cut.padStart(c.width) : cut.padEnd(c.width);
}

function row(values: string[]): string {
  return values.map((v, i) => cell(v, COLUMNS[i]!)).join('  ');
}

function line(e: ListEntry): string {
  let text = row([
    e.infoHash.slice(0, 8),
    e.state,
    e.progress === null ? '?' : formatPercent(e.progress),
    e.length === null ? '?' : formatBytes(e.length),
    e.queuePosition === null || e.queuePosition === undefined ? '-' : `#${e.queuePosition}`,
    typeof e.ratio === 'number' ? e.ratio.toFixed(2) : '-',
    e.category ?? '-',
    e.name ?? '(no metadata yet)',
  ]);
  if (e.tags && e.tags.length > 0) text += `  [${e.tags.join(', ')}]`;
  if (e.live && (e.downloadSpeed > 0 || e.uploadSpeed > 0 || e.peers > 0)) {
    text += `  ↓ ${formatSpeed(e.downloadSpeed)} ↑ ${formatSpeed(e.uploadSpeed)}, ${e.peers} peers`;
    if (e.eta !== null && e.progress !== 1) text += `, ETA ${formatDuration(e.eta)}`;
  }
  if (e.error) text += `  error: ${e.error}`;
  return text;
}

export function renderEntries(entries: ListEntry[]): string {
  if (entries.length === 0) return 'no torrents';
  return [row(COLUMNS.map((c) => c.head)).trimEnd(), ...entries.map(line)].join('\n');
}
