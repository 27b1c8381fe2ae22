// Speed limits as people type them: "500k", "4 MiB/s", "1.5M", "0" or "" (no limit); a bare number
// is KiB/s, as in qBittorrent and Transmission. Units are binary (k = KiB).

const UNIT: Record<string, number> = { '': 1024, b: 1, k: 1024, ki: 1024, m: 1024 ** 2, mi: 1024 ** 2, g: 1024 ** 3, gi: 1024 ** 3 };

/** Bytes/s, 0 = no limit; a string saying what is wrong for input it cannot read. */
export function parseRate(text: string): number | string {
  const v = text.trim().toLowerCase().replace(/\/s$/, '').replace(/ps$/, '');
  if (v === '' || v === 'none' || v === 'unlimited' || v === '∞') return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(b|ki?|mi?|gi?)?b?$/.exec(v);
  if (!m) return `“${text.trim()}” is not a speed: write e.g. 500k, 4M or 0 for no limit`;
  const bytes = Math.round(Number(m[1]) * UNIT[m[2] ?? '']!);
  return bytes;
}

/** A limit as the input shows it: "" for none, else the shortest exact form ("512k", "4M"). */
export function rateText(bytesPerSecond: number): string {
  if (!bytesPerSecond) return '';
  for (const [unit, size] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['k', 1024]] as const) {
    if (bytesPerSecond % size === 0) return `${bytesPerSecond / size}${unit}`;
  }
  if (bytesPerSecond >= 1024) return `${(bytesPerSecond / 1024).toFixed(1)}k`;
  return `${bytesPerSecond}b`;
}
