// The one-time claim code (issue 44): the first claim of a fresh node must present it, so only whoever
// can read the machine's console or state dir becomes its owner — not whoever reaches the page first
// (behind a reverse proxy every visitor looks local; under Docker the owner never does). Jupyter's
// token and Home Assistant's onboarding work the same way. Kept in <state-dir>/claim-code (0600);
// the file is the only copy, so `cascade claim-code` and a running node always agree; a claim
// deletes it.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { makeDirsSync } from '@cascade/engine/make-dirs';
import { tokenEquals } from '@cascade/node-state';

export const CLAIM_CODE_FILE = 'claim-code';
/** Beside the code after `users reset-owner`: so a restarted node can say why it has no owner
 *  (it is not a first run) until the node is claimed again. */
export const OWNER_RESET_FILE = 'owner-reset';
// Crockford's base32 without I, L, O, U: read off a console and typed by hand without mix-ups.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 16 symbols of 5 bits: 80 bits, far past guessing even without the per-address limit on tries. */
const LENGTH = 16;

export function claimCodePath(stateDir: string): string {
  return join(stateDir, CLAIM_CODE_FILE);
}

/** What a code compares as: upper case, without the dashes and spaces people type. */
export function normalizeClaimCode(s: string): string {
  return s.toUpperCase().replace(/[\s-]+/g, '');
}

/** The stored code ("ABCD-EFGH-…"), or undefined when there is none (or it is garbage). */
export function readClaimCode(stateDir: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(claimCodePath(stateDir), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return new RegExp(`^[${ALPHABET}]{${LENGTH}}$`).test(normalizeClaimCode(text)) ? text : undefined;
}

/** The stored code, or a new one written (0600) when there is none. */
export function ensureClaimCode(stateDir: string): string {
  return readClaimCode(stateDir) ?? newClaimCode(stateDir);
}

/** Replaces the code with a new one (after an owner reset: an old copy must not claim). */
export function newClaimCode(stateDir: string): string {
  let raw = '';
  for (let i = 0; i < LENGTH; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
  const code = raw.match(/.{4}/g)!.join('-');
  makeDirsSync(stateDir, 0o700);
  const path = claimCodePath(stateDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, code + '\n', { mode: 0o600 });
  renameSync(tmp, path);
  return code;
}

/** Whether `presented` is the stored code (constant time); false when there is none. */
export function claimCodeMatches(stateDir: string, presented: unknown): boolean {
  const code = readClaimCode(stateDir);
  if (code === undefined || typeof presented !== 'string' || presented.length > 100) return false;
  return tokenEquals(normalizeClaimCode(presented), normalizeClaimCode(code));
}

/** Spent (or no longer needed: the node has an owner). */
export function removeClaimCode(stateDir: string): void {
  rmSync(claimCodePath(stateDir), { force: true });
  rmSync(join(stateDir, OWNER_RESET_FILE), { force: true });
}

export interface OwnerReset {
  /** When the owner was removed (ms since the epoch). */
  at: number;
  /** The removed owner's id, or null when the node had none. */
  removed: string | null;
}

/** After an owner reset: a new code (an old copy must not claim), and a note of the reset. */
export function resetClaimCode(stateDir: string, removed: string | null, at = Date.now()): string {
  const code = newClaimCode(stateDir);
  const path = join(stateDir, OWNER_RESET_FILE);
  writeFileSync(`${path}.${process.pid}.tmp`, JSON.stringify({ at, removed } satisfies OwnerReset) + '\n', { mode: 0o600 });
  renameSync(`${path}.${process.pid}.tmp`, path);
  return code;
}

/** The reset the node's missing owner comes from, or undefined (a first run, or claimed since). */
export function ownerResetOf(stateDir: string): OwnerReset | undefined {
  try {
    const v = JSON.parse(readFileSync(join(stateDir, OWNER_RESET_FILE), 'utf8')) as Partial<OwnerReset>;
    if (typeof v.at !== 'number') return undefined;
    return { at: v.at, removed: typeof v.removed === 'string' ? v.removed : null };
  } catch {
    // Missing or unreadable: the message falls back to "first run", which loses nothing.
    return undefined;
  }
}
