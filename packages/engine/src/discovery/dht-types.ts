// The shapes of the DHT's own KRPC methods (DhtQueries and what it takes and gives): types only,
// outside src/node/ so the platform-free API (api.ts, SessionHandle.dhtQueries) can name them without
// importing the k-rpc implementation (node/dht-queries.ts), which needs node:crypto.

import type { PeerAddress } from '../types.ts';

/** A node met on a walk: where it is, its id, and the write token it handed us. */
export interface DhtContact {
  host: string;
  port: number;
  id: Uint8Array;
  token: Uint8Array;
}

/** A KRPC error the handler answers with: [code, message] (BEP 5: 201 generic, 203 protocol…). */
export interface DhtQueryError {
  error: [number, string];
}

/** Answers one query's `a` dictionary (byte strings arrive as Uint8Array) with the reply's fields.
 *  from.tokened: the query carried a token this node gave that address (the asker is really there:
 *  a large answer cannot be aimed at someone else by spoofing the source address). */
export type DhtQueryHandler = (args: Record<string, unknown>, from: PeerAddress & { tokened: boolean }) => Record<string, unknown> | DhtQueryError;

export interface DhtQueryReply {
  from: PeerAddress;
  /** The reply's `r` dictionary as decoded (byte strings as Uint8Array). */
  r: Record<string, unknown>;
}

export interface DhtQueries {
  /** This node's DHT id (20 bytes). */
  readonly nodeId: Uint8Array;
  /**
   * Answers queries of `method` (not one BEP 5 or 44 defines). Every answer also carries `id`, a
   * `token` for the asker's address and the `nodes` closest to `a.target` (when it is 20 bytes).
   * write: the query must carry a token this node gave that address in the last 5-10 minutes,
   * else it is refused with error 203 before the handler sees it.
   */
  handle(method: string, handler: DhtQueryHandler, opts?: { write?: boolean }): void;
  /**
   * Walks toward `target` (20 bytes) sending {q: method, a: {...args, target}} to ever closer
   * nodes; onReply sees every answer. Resolves with the closest nodes that answered with a token
   * (at most k = 8 per address family: a dual-stack node walks both), nearest first: where a write
   * for this target goes. An aborted `signal` ends it at once with the nodes met so far, and no
   * further node is asked.
   */
  walk(target: Uint8Array, method: string, args: Record<string, unknown>, onReply?: (reply: DhtQueryReply) => void, signal?: AbortSignal): Promise<DhtContact[]>;
  /** Sends {q: method, a: {...args, token}} to each contact with its own token; resolves with how
   *  many accepted it and the errors the others answered; onReply sees each answer. */
  send(contacts: DhtContact[], method: string, args: Record<string, unknown>, onReply?: (reply: DhtQueryReply) => void): Promise<{ accepted: number; errors: string[] }>;
}
