// A service the command could not reach is said in one line (issue 65 item 2): what, where, why in a
// few words, and what to do — `cannot reach the chain at http://127.0.0.1:9/ (connection refused);
// start it or pass --chain-rpc`. Built from the error's causes (the failed connection's code, the
// URL or address it was for), never from a library's message: viem's alone is ten lines (request
// body, version…), and it goes behind --verbose with the rest of the chain of causes.

import { redactUrl } from '@cascade/node/basics';
import { CliError } from './errors.ts';
import type { Options } from '../parse/args.ts';

/** Something a command reaches over the network, named as the user named it. */
export interface Service {
  /** "the chain", "the database". */
  what: string;
  url: string;
  /** What to do about it: "start it or pass --chain-rpc". */
  advice: string;
  /** The option that names it, when one does. */
  option?: string;
}

/** A service given by an option: started elsewhere, or named wrongly. */
export function optionService(what: string, url: string, option: string): Service {
  return { what, url, advice: `start it or pass ${option}`, option };
}

/** fetch (undici) never connects to some ports (the Fetch standard's "bad ports": 9, 25, 6000…). */
const BLOCKED_PORT = 'a port fetch never connects to';

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out',
  ENOTFOUND: 'no such host',
  EAI_NONAME: 'no such host',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate is not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate names another host',
};

type ErrorLike = Record<string, unknown>;

/** An error, its causes, and the members of an AggregateError (a name with several addresses). */
export function* causes(err: unknown, depth = 0): Generator<ErrorLike> {
  if (err === null || typeof err !== 'object' || depth > 8) return;
  const e = err as ErrorLike;
  yield e;
  if (Array.isArray(e.errors)) for (const x of e.errors) yield* causes(x, depth + 1);
  yield* causes(e.cause, depth + 1);
}

export interface ConnectionFailure {
  reason: string;
  /** Where it was going, as far as the causes say. */
  url: string | undefined;
  host: string | undefined;
  port: number | undefined;
}

function reasonOf(e: ErrorLike): string | undefined {
  if (typeof e.code === 'string' && Object.hasOwn(REASONS, e.code)) return REASONS[e.code];
  // A timeout by AbortSignal.timeout (fetch) or viem; pg says it only in words.
  if (e.name === 'TimeoutError') return 'timed out';
  if (e.message === 'bad port') return BLOCKED_PORT;
  if (typeof e.message === 'string' && /^(timeout expired|Connection terminated due to connection timeout)$/.test(e.message)) return 'timed out';
  return undefined;
}

/** Why a connection failed, from the first cause that says, and where it was going; undefined when
 *  the error is not a failed connection. */
export function connectionFailure(err: unknown): ConnectionFailure | undefined {
  const f: Partial<ConnectionFailure> = {};
  for (const e of causes(err)) {
    f.reason ??= reasonOf(e);
    // viem's HttpRequestError names the URL; Node's socket errors the address and port; ENOTFOUND the host name.
    if (typeof e.url === 'string') f.url ??= e.url;
    if (typeof e.address === 'string') f.host ??= e.address;
    if (typeof e.hostname === 'string') f.host ??= e.hostname;
    if (typeof e.port === 'number') f.port ??= e.port;
  }
  return f.reason === undefined ? undefined : { reason: f.reason, url: f.url, host: f.host, port: f.port };
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443, 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379 };
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '::ffff:127.0.0.1']);

function endpoint(url: string): { host: string; port: number | undefined; href: string } | undefined {
  try {
    const u = new URL(url);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port !== '' ? Number(u.port) : DEFAULT_PORTS[u.protocol], href: u.href };
  } catch {
    return undefined;
  }
}

/** Whether a failure was on the way to this service: the same URL, else the same host and port. */
function isFor(f: ConnectionFailure, s: Service): boolean {
  const want = endpoint(s.url);
  if (!want) return false;
  if (f.url !== undefined) return endpoint(f.url)?.href === want.href;
  if (f.port === undefined || f.port !== want.port) return false;
  return f.host === undefined || f.host === want.host || (LOOPBACK.has(f.host) && LOOPBACK.has(want.host));
}

export class Unreachable extends CliError {
  readonly service: Service;
  readonly reason: string;
  constructor(service: Service, reason: string, cause: unknown) {
    const advice = reason === BLOCKED_PORT ? `run it on another port${service.option ? ` and pass that with ${service.option}` : ''}` : service.advice;
    super(`cannot reach ${service.what} at ${redactUrl(service.url)} (${reason}); ${advice}`);
    this.name = 'Unreachable';
    this.service = service;
    this.reason = reason;
    this.cause = cause;
  }
}

/** The error as an Unreachable when it is a failed connection to one of `services` (the first
 *  whose URL or address it names; with one service and no address in the error, that one). */
export function asUnreachable(err: unknown, services: Service[]): Unreachable | undefined {
  if (err instanceof Unreachable) return err;
  const f = connectionFailure(err);
  if (!f) return undefined;
  const located = f.url !== undefined || f.port !== undefined;
  const service = services.find((s) => isFor(f, s)) ?? (!located && services.length === 1 ? services[0] : undefined);
  return service ? new Unreachable(service, f.reason, err) : undefined;
}

/** Runs `work`; a failure to reach one of `services` becomes its one-line error. */
export async function reaching<T>(services: Service | Service[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asUnreachable(err, [services].flat()) ?? err;
  }
}

/** The services an invocation names by option, for an error no command wrapped: the first whose
 *  URL or address the failure names is the one said. */
export function servicesOf(o: Options): Service[] {
  const services: Service[] = [];
  if (o.database !== undefined) services.push(optionService('the database', o.database, '--database'));
  if (o.chain !== false && o.chain.rpcUrl !== undefined) services.push(optionService('the chain', o.chain.rpcUrl, '--chain-rpc'));
  if (o.chain !== false && o.chain.signer) services.push(optionService('the chain signer', o.chain.signer.url, '--chain-signer'));
  if (o.ipfsApi !== undefined) services.push(optionService('the IPFS API', o.ipfsApi, '--ipfs-api'));
  if (o.s3Endpoint !== undefined) services.push(optionService('the S3 endpoint', o.s3Endpoint, '--s3-endpoint'));
  if (o.cluster && o.cluster.redis !== undefined) services.push(optionService('Redis', o.cluster.redis, '--redis'));
  if (o.llmUrl !== undefined) services.push(optionService('the language model', o.llmUrl, '--llm-url'));
  for (const d of o.directories) services.push(optionService('the onion directory', d, '--directory'));
  for (const t of o.trackers) services.push(optionService('the tracker', t, '--tracker'));
  return services;
}

/** A failed connection said with the address the error itself names: for a service this command
 *  did not name (the running node's chain, reached by the node). */
export function unreachableAt(err: unknown, what: string, advice: string, option?: string): Unreachable | undefined {
  const f = connectionFailure(err);
  const where = f?.url ?? (f?.host !== undefined && f.port !== undefined ? `${f.host}:${f.port}` : undefined);
  return f && where !== undefined ? new Unreachable({ what, url: where, advice, ...(option ? { option } : {}) }, f.reason, err) : undefined;
}
