// The node's own errors. Domain code says what kind of failure it met (bad input, nothing by that
// name, a clash with what exists, too large, a source that cannot be used) and nothing about who
// asked: the HTTP API maps the kind to a status (http-errors.ts), the CLI to an exit code, and the
// control RPC carries the kind across so a `cascade` verb fails as the node did.

export type NodeErrorKind =
  /** The request itself is wrong (a bad value, a missing field): HTTP 400, exit 2. */
  | 'invalid'
  /** Nothing by that name (no such torrent, feed, rule): HTTP 404, exit 1. */
  | 'not-found'
  /** Well formed, but it clashes with what the node holds or is doing: HTTP 409, exit 1. */
  | 'conflict'
  /** Bigger than the node accepts: HTTP 413, exit 1. */
  | 'too-large'
  /** A source named by the request could not be used (fetch failed, nothing found): HTTP 422, exit 1. */
  | 'unusable'
  /** It could not be done now (a port in use, the chain not running, shutdown trouble): HTTP 409, exit 1. */
  | 'failed'
  /** What the node needs underneath is away (its PostgreSQL database unreachable, issue 42): nothing
   *  was changed, the same request may succeed later. HTTP 503, exit 1. */
  | 'unavailable';

const NODE_ERROR_KINDS: readonly NodeErrorKind[] = ['invalid', 'not-found', 'conflict', 'too-large', 'unusable', 'failed', 'unavailable'];

export class NodeError extends Error {
  readonly kind: NodeErrorKind;
  /** `cause`: the error underneath (a failed connection's, with its code and address), so whoever
   *  reports it can say what failed rather than pass a library's message on. */
  constructor(kind: NodeErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NodeError';
    this.kind = kind;
  }

  /** The exit code a command that met this error ends with. */
  get exitCode(): number {
    return this.kind === 'invalid' ? 2 : 1;
  }
}

/** Input that breaks a rule (was UsageError): the most common kind, so it has its own class. */
export class InvalidInput extends NodeError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid', message, options);
    this.name = 'InvalidInput';
  }
}

export const invalid = (message: string): NodeError => new InvalidInput(message);
export const conflict = (message: string): NodeError => new NodeError('conflict', message);

export function isNodeErrorKind(v: unknown): v is NodeErrorKind {
  return typeof v === 'string' && (NODE_ERROR_KINDS as readonly string[]).includes(v);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
