// Which member of a cluster a state dir is (docs/cluster.md, "State"): its id is its node key's did,
// and the key is found by member id, so the id is kept in the state dir (`member-id`) and resolved
// before the state's views are read. Only the state dir that ran as the single node on this
// database (node_lease's last holder) takes over the single node's rows (member ''): a fresh member
// on a database copied from a single node must not claim that node's pieces, which its disk lacks.
// Part of opening the state (every verb's open goes through stateOpenOptions), so it is the node's,
// not @cascade/cluster's.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceId, newNodeKey, SELECT_NODE_KEY, INSERT_IDENTITY, renameMember, SINGLE_NODE, type OpenStateOptions } from '@cascade/node-state';
import type { Store } from '@cascade/node-state/store';

const MEMBER_FILE = 'member-id';

function readMemberFile(stateDir: string): string | undefined {
  try {
    const id = readFileSync(join(stateDir, MEMBER_FILE), 'utf8').trim();
    return id.startsWith('did:key:') ? id : undefined;
  } catch {
    return undefined;
  }
}

async function keyOf(store: Store, memberId: string): Promise<string | undefined> {
  const row = await store.get<{ private_key: string }>(SELECT_NODE_KEY, [memberId]);
  return row?.private_key;
}

/** Did this state dir run as the single node on this database (or was it copied from it)? */
async function ranAsSingleNode(store: Store, stateDir: string): Promise<boolean> {
  const row = await store.get<{ holder: string }>('SELECT holder FROM node_lease WHERE id = 1');
  return row?.holder === instanceId(stateDir);
}

/**
 * This state dir's member id on the (migrated) store, made the first time it joins: the single
 * node's own rows become its rows when it is the state dir that ran as the single node, else a new
 * node key is made for it. The file is written before the rows move, so a start interrupted between
 * the two finishes the move the next time.
 */
export async function resolveMemberId(store: Store, stateDir: string): Promise<string> {
  // Loaded here: the verbs that only read a member-id file stay free of the identity package.
  const { didOfNodeKey } = await import('./node-identity.ts');
  const kept = readMemberFile(stateDir);
  if (kept && (await keyOf(store, kept))) return kept;
  const single = await keyOf(store, SINGLE_NODE);
  if (single && (await ranAsSingleNode(store, stateDir))) {
    const did = didOfNodeKey(single);
    if (kept === undefined || kept === did) {
      writeFileSync(join(stateDir, MEMBER_FILE), `${did}\n`, { mode: 0o600 });
      await renameMember(store, did);
      return did;
    }
  }
  // A new member, or one whose key is gone from the database (a database replaced under it): a
  // new key, and the id that goes with it.
  const row = newNodeKey(SINGLE_NODE, Date.now());
  const did = didOfNodeKey(row[2]);
  row[0] = did;
  writeFileSync(join(stateDir, MEMBER_FILE), `${did}\n`, { mode: 0o600 });
  await store.run(INSERT_IDENTITY, row);
  return did;
}

/**
 * How a state dir's state is opened: a cluster member's rows once it has joined one (its
 * `member-id` file), made on joining (`joining`: serve --cluster-url); a single node's otherwise.
 * SQLite state is one node's, always member ''.
 */
export function stateOpenOptions(stateDir: string, database: string | undefined, joining = false): OpenStateOptions {
  if (!database) return {};
  if (joining) return { database, memberId: (store) => resolveMemberId(store, stateDir) };
  return { database, memberId: readMemberFile(stateDir) ?? SINGLE_NODE };
}
