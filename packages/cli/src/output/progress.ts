// The live one-line progress display on a terminal, redrawn in place with \r.

import type { Writable } from 'node:stream';
import { formatBar, formatDuration, formatPercent, formatSpeed } from './format.ts';
import type { TorrentStats } from '../core/engine.ts';

/** The progress line for a terminal `columns` wide; the bar takes whatever room is left. */
export function progressLine(s: TorrentStats, columns = 80): string {
  // A pty may report 0 columns (e.g. under `script`); assume a classic terminal then.
  if (!(columns >= 20)) columns = 80;
  const pct = s.pieceCount === undefined ? '  ?.?%' : formatPercent(s.progress).padStart(6);
  const phase = s.state === 'downloading' || s.state === 'seeding' ? '' : `${s.state} `;
  // Fixed-width fields keep the bar from jittering as speeds change.
  const tail =
    ` ↓ ${formatSpeed(s.downloadSpeed).padStart(11)} ↑ ${formatSpeed(s.uploadSpeed).padStart(11)}` +
    ` ETA ${(s.progress >= 1 ? '0s' : formatDuration(s.eta)).padEnd(6)} ${s.peers} peer${s.peers === 1 ? '' : 's'}`;
  const head = `${phase}${pct} `;
  const room = columns - 1 - head.length - tail.length - 2;
  const bar = room >= 10 ? formatBar(s.progress, Math.min(room, 40)) : '';
  return `${head}${bar}${tail}`.slice(0, Math.max(0, columns - 1));
}

export class ProgressDisplay {
  #out: Writable & { columns?: number };
  #drawn = false;

  constructor(out: Writable & { columns?: number }) {
    this.#out = out;
  }

  update(s: TorrentStats): void {
    // \x1b[K clears what a longer previous line left behind.
    this.#out.write(`\r${progressLine(s, this.#out.columns || 80)}\x1b[K`);
    this.#drawn = true;
  }

  /** Ends the progress line so the next output starts on a fresh line. */
  finish(): void {
    if (this.#drawn) this.#out.write('\n');
    this.#drawn = false;
  }
}
