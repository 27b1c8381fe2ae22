// --cluster-url URL and --redis URL (and $CASCADE_REDIS_URL) of `serve`: a member of a cluster on
// a shared PostgreSQL database (issue 42, docs/cluster.md). Both are checked here, before the node
// starts: a member needs the database (--database, or $CASCADE_DATABASE_URL), an address the other
// members can reach, and a Redis URL that is one. Redis is kept for the members' change fan-out.
import { redactUrl } from '@cascade/node/basics';
import { UsageError } from '../core/errors.ts';

export type ClusterOption = { url: string; redis?: string } | undefined;

function parse(flag: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new UsageError(`${flag} wants a URL, got "${redactUrl(value)}"`);
  }
}

/** The member's own HTTP address: http(s)://host[:port][/path], where the others reach it. */
function memberUrl(value: string): string {
  const u = parse('--cluster-url', value);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--cluster-url wants this member's http(s):// address, got "${value}"`);
  if (u.username || u.password || u.search || u.hash) throw new UsageError(`--cluster-url wants a plain address (no user, query or fragment), got "${redactUrl(value)}"`);
  // A wildcard is where a server listens, not where anyone reaches it.
  if (['0.0.0.0', '[::]', ''].includes(u.hostname)) {
    throw new UsageError(`--cluster-url names the address the other members reach this one at, not a wildcard: got "${value}" (e.g. http://10.0.0.5:8080)`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

function redisUrl(source: string, value: string): string {
  const u = parse(source, value);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`${source} wants a redis:// (or rediss://) URL, not "${redactUrl(value)}"`);
  if (u.hostname === '') throw new UsageError(`${source} wants a Redis host: redis://host:port, not "${redactUrl(value)}"`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw new UsageError(`${source}: the path of a Redis URL is a database number (redis://host:6379/0), not "/${db}"`);
  return value;
}

/**
 * --cluster-url, with --redis (else $CASCADE_REDIS_URL): undefined for a node not in a cluster.
 * $CASCADE_REDIS_URL alone is ignored (an environment shared by other programs), --redis alone is a
 * usage error.
 */
export function clusterOption(url: string | undefined, redis: string | undefined, redisEnv: string | undefined, database: string | undefined): ClusterOption {
  if (url === undefined) {
    if (redis !== undefined) throw new UsageError('--redis is for a cluster member: give --cluster-url URL (and --database) too');
    return undefined;
  }
  if (database === undefined) {
    throw new UsageError('--cluster-url makes this node a member of a cluster, whose members share their state in PostgreSQL: give --database postgres://… (or $CASCADE_DATABASE_URL) too');
  }
  const fromEnv = redis === undefined ? redisEnv?.trim() || undefined : undefined;
  const r = redis !== undefined ? redisUrl('--redis', redis) : fromEnv !== undefined ? redisUrl('$CASCADE_REDIS_URL', fromEnv) : undefined;
  return { url: memberUrl(url), ...(r !== undefined ? { redis: r } : {}) };
}
