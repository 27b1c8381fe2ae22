// `cascade identity`: the node's did and Ethereum account, read from its state dir (made on first
// use, as the node itself does), whether or not the node is running.
import { nodeIdentity, StateDB } from '@cascade/server/core';
import type { Invocation } from '../args.ts';
import type { Output } from '../output.ts';

export async function identityCommand(inv: Invocation, out: Output): Promise<number> {
  const db = StateDB.open(inv.options.stateDir);
  try {
    const id = nodeIdentity(db);
    out.result({ did: id.did, address: id.address }, () => `did:     ${id.did}\naddress: ${id.address}`);
    return 0;
  } finally {
    db.close();
  }
}
