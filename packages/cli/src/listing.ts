// Renders `list` / `search` rows (the ListEntry shape comes from the node, @cascade/server).

import type { ListEntry } from '@cascade/server/core';
import { formatBytes, formatPercent, formatSpeed, formatDuration } from './format.ts';

export function renderEntries(entries: ListEntry[]): string {
  if (entries.length === 0) return 'no torrents';
  return entries
    .map((e) => {
      const pct = e.progress === null ? '   ?  ' : formatPercent(e.progress).padStart(6);
      const size = e.length === null ? '?' : formatBytes(e.length);
      let line = `${e.infoHash.slice(0, 8)}  ${e.state.padEnd(11)} ${pct}  ${size.padStart(9)}  ${e.name ?? '(no metadata yet)'}`;
      if (e.live && (e.downloadSpeed > 0 || e.uploadSpeed > 0 || e.peers > 0)) {
        line += `  [↓ ${formatSpeed(e.downloadSpeed)} ↑ ${formatSpeed(e.uploadSpeed)}, ${e.peers} peers`;
        line += e.eta !== null && e.progress !== 1 ? `, ETA ${formatDuration(e.eta)}]` : ']';
      }
      if (e.error) line += `  error: ${e.error}`;
      return line;
    })
    .join('\n');
}
