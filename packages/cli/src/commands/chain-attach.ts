// The chain and seeding receipts for the one-shot `seed` and `download` (serve attaches its own).
// An external chain (--chain-rpc) starts at once; the embedded dev chain only when a Cascade peer
// proves an identity — receipts are only ever exchanged with those — so a transfer with plain
// BitTorrent peers never pays for starting a chain.
import { attachRewards, type CascadeNode, type NodeRewards } from '@cascade/server/core';
import type { Options } from '../args.ts';
import type { Output } from '../output.ts';

export function chainFor(node: CascadeNode, o: Options, out: Output): NodeRewards | undefined {
  if (o.chain === false) return undefined;
  const rewards = attachRewards(node, o.chain, o.receipts, o.ipfsApi !== undefined ? { ipfsApi: o.ipfsApi } : {});
  const start = () => rewards.start((line) => out.note(line));
  if (o.chain.rpcUrl) start();
  else node.identified.onIdentified(start);
  return rewards;
}
