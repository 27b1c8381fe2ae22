// Human-readable numbers.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${Math.round(n)} B`;
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[i]}`;
}

export function formatSpeed(n: number | null | undefined): string {
  if (!n || !Number.isFinite(n) || n <= 0) return '0 B/s';
  return `${formatBytes(n)}/s`;
}

export function formatEta(seconds: number | null | undefined, state?: string): string {
  if (state === 'seeding' || state === 'paused') return '—';
  // Without metadata the size is unknown, so is the time left (the engine may say 0).
  if (state === 'metadata') return '∞';
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '∞';
  if (seconds < 1) return 'now';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function formatPercent(p: number | null | undefined): string {
  const v = Math.max(0, Math.min(1, p ?? 0)) * 100;
  return v === 100 ? '100%' : v >= 10 ? `${v.toFixed(1)}%` : `${v.toFixed(1)}%`;
}

export function ratioOf(uploaded: number | undefined, downloaded: number | undefined, length?: number | null): string {
  if (uploaded === undefined) return '—';
  const base = downloaded !== undefined && downloaded > 0 ? downloaded : length ?? 0;
  if (!base) return uploaded > 0 ? '∞' : '0.00';
  return (uploaded / base).toFixed(2);
}

export function shortHash(h: string): string {
  return h.length > 16 ? `${h.slice(0, 8)}…${h.slice(-6)}` : h;
}

export function peersText(peers: number, seeds: number | undefined): string {
  return seeds === undefined ? String(peers) : `${peers} (${seeds})`;
}

/** A point in time as a short local date and time; accepts Unix seconds or milliseconds. */
export function formatDate(t: number | null | undefined): string {
  if (t === null || t === undefined || !Number.isFinite(t) || t <= 0) return '—';
  const d = new Date(t < 1e12 ? t * 1000 : t);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function formatRatio(r: number | null): string {
  if (r === null) return '—';
  if (!Number.isFinite(r)) return '∞';
  return r.toFixed(2);
}

/** A balance in 10^18 units (ether, the token) as a short decimal (four places at most). */
export function units18(wei: string | undefined | null): string {
  if (wei === undefined || wei === null) return '—';
  const n = BigInt(wei);
  const whole = n / 10n ** 18n;
  const frac = ((n % 10n ** 18n) / 10n ** 14n).toString().padStart(4, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}
