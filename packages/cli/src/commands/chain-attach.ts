// The chain and seeding receipts for the one-shot `seed` and `download` (serve attaches its own the
// same way: http/src/app/server.ts). An external chain (--chain-rpc) starts at once. The embedded dev
// chain starts at its first need (ChainService.startWhenNeeded): a verb asked of this node through
// its control endpoint (`cascade rewards`, `claim`, `register`, `verify`, `health`…) or its automatic
// claim (--auto-claim). Receipts are signed and checked without it (their chain id and pool are
// known beforehand, ChainService.terms), so transfers never start it, whoever the peers are.
// It used to start once the node had been quiet for three seconds (at most a minute) after a
// Cascade peer proved its identity: a `download --seed` or `seed` that serves a swarm at under
// 1 MiB/s counts as quiet, so each one loaded viem, spawned anvil and deployed the contracts
// (~0.7 CPU-s, most of it on the main thread) in the middle of the swarm it was serving, for
// nothing it then used (issue 60).
import type { CascadeNode } from '@cascade/node';
import { attachRewards, type NodeRewards } from '@cascade/rewards';
import type { Options } from '../parse/args.ts';
import { errorReport } from '../core/error-report.ts';
import { servicesOf } from '../core/unreachable.ts';
import type { Output } from '../output/output.ts';

export function chainFor(node: CascadeNode, o: Options, out: Output): NodeRewards | undefined {
  if (o.chain === false) return undefined;
  const rewards = attachRewards(node, o.chain, o.receipts, o.ipfsApi !== undefined ? { ipfsApi: o.ipfsApi } : {});
  // A chain that does not start leaves the transfer going: said in one line, as an error would be.
  const log = (line: string, failure?: unknown) => out.note(failure === undefined ? line : `chain: not started: ${errorReport(failure, servicesOf(o)).line}`);
  if (o.chain.rpcUrl) {
    rewards.start(log);
    return rewards;
  }
  rewards.startWhenNeeded(log);
  let preloaded = false;
  node.identified.onIdentified(() => {
    if (preloaded) return;
    preloaded = true;
    // Receipts will be signed or checked: load that now, at the handshake, not at the first MiB.
    void rewards.preload();
  });
  return rewards;
}
