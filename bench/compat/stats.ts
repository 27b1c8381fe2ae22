// Summaries of the repeated calls (median, p90, bytes) and the table line with Cascade / Transmission.

export interface Sample {
  ms: number;
  bytes: number;
}

export interface Stat {
  count: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
  /** Size of the answer (median: rates and etas may change a few digits between calls). */
  bytes: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function stat(samples: Sample[]): Stat {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const bytes = samples.map((s) => s.bytes).sort((a, b) => a - b);
  return { count: ms.length, medianMs: percentile(ms, 50), p90Ms: percentile(ms, 90), minMs: ms[0]!, maxMs: ms[ms.length - 1]!, bytes: percentile(bytes, 50) };
}

const cell = (s: Stat) => `${s.medianMs.toFixed(1).padStart(8)} / ${s.p90Ms.toFixed(1).padStart(8)}`.padEnd(22);
const size = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${b} B`).padStart(9);

export function lineOf(label: string, c: Stat, t: Stat | undefined): string {
  const ref = t ? `${cell(t)} ${size(t.bytes)}   ${(c.medianMs / t.medianMs).toFixed(2)}× (${(c.p90Ms / t.p90Ms).toFixed(2)}×)` : `${'—'.padEnd(22)} ${''.padStart(9)}   —`;
  return `${label.padEnd(32)} ${cell(c)} ${size(c.bytes)}   ${ref}`;
}
