// --database URL (and $CASCADE_DATABASE_URL): where a node keeps its state when not in its state
// dir's SQLite file. Only a PostgreSQL URL names one; anything else is a usage error, said without
// the password the URL may hold.
import { isPostgresUrl, redactUrl } from '@cascade/node/basics';
import { UsageError } from '../core/errors.ts';

export function databaseOption(given: string | undefined, fromEnv: string | undefined): string | undefined {
  const source = given !== undefined ? '--database' : '$CASCADE_DATABASE_URL';
  const url = given ?? (fromEnv?.trim() || undefined);
  if (url === undefined) return undefined;
  let ok = isPostgresUrl(url);
  if (ok) {
    try {
      ok = new URL(url).hostname !== '' || new URL(url).searchParams.has('host');
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new UsageError(`${source} wants a PostgreSQL URL (postgres://user:password@host:port/database), not "${redactUrl(url)}"`);
  return url;
}
