// Checks of single option values shared by the parsers (args.ts, chain-options.ts): a bad value is a
// usage error (exit 2) naming the option.
import { UsageError } from '../core/errors.ts';

export function parseInteger(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} wants a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** `value` when it is an http(s) URL; otherwise a usage error naming `flag`. */
export function httpUrl(flag: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`${flag} wants a URL, got "${value}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${flag} wants an http(s) URL, got "${value}"`);
  return value;
}
