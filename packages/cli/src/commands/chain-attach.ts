// The chain and seeding receipts for the one-shot `seed` and `download` (serve attaches its own, and
// starts its embedded chain at its first need: http/src/app/server.ts).
// An external chain (--chain-rpc) starts at once. The embedded dev chain is needed only once a
// Cascade peer proves an identity (receipts are only ever exchanged with those), and even then not
// to sign or check receipts, which name its chain id and pool known beforehand (ChainService.terms):
// so it starts once the node has been quiet for three seconds after that (at most a minute later), never
// during the transfer it would slow down (issue 40), and a one-shot download that ends first never
// starts it at all. A transfer with plain BitTorrent peers never pays for it either. `download`
// also holds it until its download is done (`after`): before the first byte a node is quiet too,
// and a chain started then (viem loaded, anvil spawned: over a second of the main thread) stalled
// the transfer it was waiting for.
import { IdlePacer, sessionBytesMoved, type CascadeNode } from '@cascade/node';
import { attachRewards, type NodeRewards } from '@cascade/rewards';
import type { Options } from '../parse/args.ts';
import { errorReport } from '../core/error-report.ts';
import { servicesOf } from '../core/unreachable.ts';
import type { Output } from '../output/output.ts';

/** How long the embedded chain waits for a quiet node before it starts anyway. */
const QUIET_START_MAX_MS = 60_000;
/** How long the node must have been quiet: a peer that just proved its identity may take a moment
 *  (its own start, its signatures) before it asks for data, and the chain's start (viem loaded,
 *  anvil spawned) holds the main thread over a second. */
const QUIET_FOR_MS = 3_000;

export function chainFor(node: CascadeNode, o: Options, out: Output, after?: Promise<unknown>): NodeRewards | undefined {
  if (o.chain === false) return undefined;
  const rewards = attachRewards(node, o.chain, o.receipts, o.ipfsApi !== undefined ? { ipfsApi: o.ipfsApi } : {});
  // A chain that does not start leaves the transfer going: said in one line, as an error would be.
  const start = () => rewards.start((line, failure) => out.note(failure === undefined ? line : `chain: not started: ${errorReport(failure, servicesOf(o)).line}`));
  if (o.chain.rpcUrl) {
    start();
    return rewards;
  }
  let closed = false;
  let waiting = false;
  node.identified.onIdentified(() => {
    if (waiting) return;
    waiting = true;
    // Receipts will be signed or checked: load that now, at the handshake, not at the first MiB.
    void rewards.preload();
    void (async () => {
      await after;
      const pacer = new IdlePacer(sessionBytesMoved(node.session));
      const end = Date.now() + QUIET_START_MAX_MS;
      let quietSince = 0;
      for (;;) {
        await pacer.beforeSlice();
        quietSince = pacer.busy ? 0 : quietSince || Date.now();
        if (closed || Date.now() >= end || (quietSince > 0 && Date.now() - quietSince >= QUIET_FOR_MS)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      if (!closed) start();
    })();
  });
  return {
    ...rewards,
    close: () => {
      closed = true;
      return rewards.close();
    },
  };
}
