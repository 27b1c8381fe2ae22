// The database away (issue 42 item 6): which driver errors mean the server could not be reached
// rather than a statement being wrong, and the error the node answers with then (a NodeError of
// kind 'unavailable': HTTP 503, "nothing was changed"). Kept apart from postgres-store.ts so that
// what retries on it (write-batch.ts) does not load the driver on a node on SQLite.

import { NodeError, errorMessage } from './errors.ts';

// Errors that say the server is away, not that the statement is wrong: sockets refused or cut,
// PostgreSQL's connection exceptions (class 08), its shutdown (57P01-57P03) and too many clients.
const AWAY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);
const AWAY_MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|not queryable|Connection ended|the database system is (starting up|shutting down)/i;

/** Whether the driver's error means the database could not be reached (rather than a bad statement). */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof NodeError) return err.kind === 'unavailable';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (AWAY_CODES.has(code) || code.startsWith('08'))) return true;
  return AWAY_MESSAGES.test(errorMessage(err));
}

/** The error a write (or a read the views cannot answer) meets while the database is away: HTTP 503. */
export function unreachable(err: unknown, committing = false): NodeError {
  if (err instanceof NodeError) return err;
  // The driver's words without the server's address: a caller learns why, not where the database is.
  const detail = errorMessage(err).replace(/\[?[0-9a-f:.]*[0-9a-f]\]?:\d+|\b\d{1,3}(\.\d{1,3}){3}\b/gi, 'the database server');
  return new NodeError(
    'unavailable',
    committing
      ? `the database became unreachable while this change was being committed (${detail}); it may or may not have been stored: read it back once the database is back`
      : `the database is unreachable: ${detail}; nothing was changed, try again once it is back`,
  );
}
