// The node's API token: a bearer credential for scripts and the CLI (`cascade token` prints it).
// Kept in <state-dir>/api-token with mode 0600, so whoever can read the state dir (the node's
// operator) holds it; made on first use and kept across restarts.
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { makeDirsSync } from '@cascade/engine/make-dirs';

export const API_TOKEN_FILE = 'api-token';
const TOKEN = /^[A-Za-z0-9_-]{32,128}$/;

export function apiTokenPath(stateDir: string): string {
  return join(stateDir, API_TOKEN_FILE);
}

/** The stored token, or a new one written (0600) if there is none or it is unreadable garbage. */
export function loadOrCreateApiToken(stateDir: string): string {
  const path = apiTokenPath(stateDir);
  try {
    const t = readFileSync(path, 'utf8').trim();
    if (TOKEN.test(t)) {
      // A token copied in by hand may be world-readable; it is a credential.
      chmodSync(path, 0o600);
      return t;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return writeNewToken(stateDir);
}

function writeNewToken(stateDir: string): string {
  const path = apiTokenPath(stateDir);
  makeDirsSync(stateDir, 0o700);
  const token = randomBytes(32).toString('base64url');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, token + '\n', { mode: 0o600 });
  renameSync(tmp, path);
  return token;
}

/**
 * The token a running node checks, shared by its control endpoint, the HTTP gate and the compatible
 * APIs: rotate() writes a new one and every checker sees it at once, so the old one stops working
 * on the next request. Without a node, rotating is just writing a new file.
 */
export class ApiToken {
  readonly stateDir: string;
  #value: string;
  readonly #listeners: ((token: string) => void)[] = [];

  constructor(stateDir: string) {
    this.stateDir = stateDir;
    this.#value = loadOrCreateApiToken(stateDir);
  }

  get value(): string {
    return this.#value;
  }

  matches(presented: string): boolean {
    return tokenEquals(presented, this.#value);
  }

  rotate(): string {
    this.#value = writeNewToken(this.stateDir);
    for (const l of this.#listeners) l(this.#value);
    return this.#value;
  }

  onRotate(listener: (token: string) => void): void {
    this.#listeners.push(listener);
  }
}

/** `cascade token --rotate` with no node running. */
export function rotateApiToken(stateDir: string): string {
  return writeNewToken(stateDir);
}

/** Constant-time comparison of a presented token with the real one. */
export function tokenEquals(presented: string, token: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
