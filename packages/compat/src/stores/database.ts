// The part of the node's state Store that the compatible APIs' own tables need (the node's
// StateDB.store satisfies it): the APIs keep their sessions and records in the node's database, so
// every member of a cluster answers the same, without the APIs depending on the node.
export type SqlValue = string | number | bigint | Uint8Array | null;
type Row = Record<string, unknown>;

export interface CompatQueryable {
  all<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  get<R extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export interface CompatDatabase extends CompatQueryable {
  transaction<T>(fn: (tx: CompatQueryable) => Promise<T>): Promise<T>;
}
