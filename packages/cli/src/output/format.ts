// Human-readable sizes, speeds and durations for the terminal. Binary units (KiB, MiB) because
// piece lengths and file sizes in BitTorrent are powers of two and read more naturally that way.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${Math.round(v)} B`;
  // One decimal below 100 keeps the width stable while a transfer speeds up.
  return `${v < 100 ? v.toFixed(1) : Math.round(v)} ${UNITS[i]}`;
}

export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Seconds → "45s", "1m05s", "2h03m", "3d04h"; unknown or absurd → "--". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (x: number) => String(x).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  const days = Math.floor(s / 86400);
  // Past 100 days an ETA carries no information.
  if (days >= 100) return '--';
  return `${days}d${pad(Math.floor((s % 86400) / 3600))}h`;
}

/** 0..1 → "45.2%"; never shows 100.0% until it really is complete. */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return '?%';
  const f = Math.min(1, Math.max(0, fraction));
  const tenths = Math.floor(f * 1000);
  return `${(tenths / 10).toFixed(1)}%`;
}

/** A fixed-width text bar: `[#####-----]`. */
export function formatBar(fraction: number, width: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.floor(f * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const SIZE_MULT: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "16384", "256k", "1MiB" → bytes. Suffixes are binary: piece lengths are powers of two. */
export function parseSize(text: string): number {
  const m = SIZE_RE.exec(text.trim());
  if (!m) throw new Error(`invalid size "${text}" (want bytes, or a number with K/M/G)`);
  const unit = (m[2] ?? 'b')[0]!.toLowerCase();
  const n = Number(m[1]) * SIZE_MULT[unit]!;
  if (!Number.isSafeInteger(n)) throw new Error(`invalid size "${text}" (not a whole number of bytes)`);
  return n;
}

/** The most a rate limit may be (bytes/s): past any link, still exact as a double (the node's bound). */
export const MAX_RATE = 2 ** 42;

/**
 * A rate limit as people write it → bytes/s: "4MiB", "500k", "1.5M", "2 MB/s", "65536"; "0",
 * "none", "unlimited" and "off" = no limit (0). Binary units, as everywhere in the CLI; fractions
 * of a byte are rounded.
 */
export function parseRate(text: string): number {
  const t = text.trim().toLowerCase().replace(/\/s$/, '');
  if (t === 'none' || t === 'unlimited' || t === 'off') return 0;
  const m = SIZE_RE.exec(t);
  if (!m) throw new Error(`invalid rate "${text}" (want bytes/s, a number with K/M/G like 500k or 4MiB, or "none")`);
  const n = Math.round(Number(m[1]) * SIZE_MULT[(m[2] ?? 'b')[0]!]!);
  if (n > MAX_RATE) throw new Error(`invalid rate "${text}": more than ${MAX_RATE} bytes/s`);
  return n;
}

/** bytes/s → "4.0 MiB/s", 0 → "none". */
export function formatLimit(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? formatSpeed(bytesPerSecond) : 'none';
}

/** A token amount in base units of 18 decimals (ETH, SEED), exactly: "0.008388608", "100". */
export function units18(baseUnits: string | bigint): string {
  const v = BigInt(baseUnits);
  const whole = v / 10n ** 18n;
  const frac = (v % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole.toString();
}
