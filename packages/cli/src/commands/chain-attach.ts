// The chain and seeding receipts for the one-shot `seed` and `download` (serve attaches its own).
// An external chain (--chain-rpc) starts at once. The embedded dev chain is needed only once a
// Cascade peer proves an identity (receipts are only ever exchanged with those), and even then not
// to sign or check receipts, which name its chain id and pool known beforehand (ChainService.terms):
// so it starts once the node has been quiet for a second after that (at most a minute later), never
// during the transfer it would slow down (issue 40), and a one-shot download that ends first never
// starts it at all. A transfer with plain BitTorrent peers never pays for it either.
import { attachRewards, IdlePacer, sessionBytesMoved, type CascadeNode, type NodeRewards } from '@cascade/node';
import type { Options } from '../parse/args.ts';
import type { Output } from '../output/output.ts';

/** How long the embedded chain waits for a quiet node before it starts anyway. */
const QUIET_START_MAX_MS = 60_000;

export function chainFor(node: CascadeNode, o: Options, out: Output): NodeRewards | undefined {
  if (o.chain === false) return undefined;
  const rewards = attachRewards(node, o.chain, o.receipts, o.ipfsApi !== undefined ? { ipfsApi: o.ipfsApi } : {});
  const start = () => rewards.start((line) => out.note(line));
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
      const pacer = new IdlePacer(sessionBytesMoved(node.session));
      const end = Date.now() + QUIET_START_MAX_MS;
      do await pacer.beforeSlice();
      while (pacer.busy && !closed && Date.now() < end);
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
