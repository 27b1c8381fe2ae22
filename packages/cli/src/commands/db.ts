// `cascade db copy --state-dir DIR --database URL`: a node's state moved from its SQLite file into
// an empty PostgreSQL database (issue 42), so that `cascade serve --database URL` runs on it.
import { copyStateToPostgres, redactUrl } from '@cascade/node/verbs';
import { connectNode } from './node-access.ts';
import { CliError, UsageError } from '../core/errors.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';

export async function dbCommand(inv: Invocation, out: Output): Promise<number> {
  const [action] = inv.positionals;
  if (action !== 'copy') throw new UsageError(`unknown db action "${action}" (copy)`);
  const { stateDir, database } = inv.options;
  if (database === undefined) throw new UsageError('db copy needs --database postgres://… (or $CASCADE_DATABASE_URL): where the state goes');
  const node = await connectNode(stateDir);
  if (node) throw new CliError(`a node (pid ${node.info.pid}) runs on ${stateDir}: stop it first, so that nothing it writes is left behind`);
  const r = await copyStateToPostgres(stateDir, database);
  const rows = r.tables.reduce((n, t) => n + t.rows, 0);
  out.result({ event: 'state-copied', from: r.from, to: redactUrl(database), tables: r.tables, rows }, () =>
    [
      ...r.tables.map((t) => `${t.name.padEnd(16)} ${t.rows}`),
      `copied ${rows} rows of ${r.from} into ${redactUrl(database)}`,
      `start the node on it with: cascade serve --state-dir ${stateDir} --database <URL>`,
    ].join('\n'),
  );
  return 0;
}
