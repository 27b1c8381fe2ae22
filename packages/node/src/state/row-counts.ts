// Row counts of the tables `debug` shows beside the library's size (the view has that one), read
// through the Store in the SQL both engines run.

import type { Queryable } from './store.ts';

export async function rowCounts(store: Queryable): Promise<{ resume: number; peers: number; bannedPeers: number }> {
  const row = await store.get<{ resume: number; peers: number; banned: number }>(
    `SELECT (SELECT count(*) FROM resume) AS resume, (SELECT count(*) FROM peers) AS peers,
            (SELECT count(*) FROM peers WHERE banned = 1) AS banned`,
  );
  return { resume: Number(row?.resume ?? 0), peers: Number(row?.peers ?? 0), bannedPeers: Number(row?.banned ?? 0) };
}
