// Row counts of the tables `debug` shows beside the library's size (the view has that one), read
// through the Store in the SQL both engines run: this member's rows (schema 19).

import type { Queryable } from './store.ts';

export async function rowCounts(store: Queryable, memberId = ''): Promise<{ resume: number; peers: number; bannedPeers: number }> {
  const row = await store.get<{ resume: number; peers: number; banned: number }>(
    `SELECT (SELECT count(*) FROM resume WHERE member_id = ?) AS resume, (SELECT count(*) FROM peers WHERE member_id = ?) AS peers,
            (SELECT count(*) FROM peers WHERE member_id = ? AND banned = 1) AS banned`,
    [memberId, memberId, memberId],
  );
  return { resume: Number(row?.resume ?? 0), peers: Number(row?.peers ?? 0), bannedPeers: Number(row?.banned ?? 0) };
}
