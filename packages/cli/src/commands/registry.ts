// `cascade register <torrent-file|infohash>`, `cascade verify <infohash>` and `cascade rewards [claim]`
// (issue 13): ownership records in the content registry and seeding rewards from the reward pool,
// through the running node (its account signs and receives the rewards; it or its external signer
// pays gas).
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { ChainHealth, ControlClient } from '@cascade/node';
import type { RewardClaim, Rewards } from '@cascade/shapes';
import type { Options } from '../args.ts';
import { CliError, UsageError } from '../errors.ts';
import { NO_NODE, requireNode, type Verb } from './node-access.ts';
import { units18 } from '../format.ts';

/** With --chain-rpc/--chain-contracts, the running node must be on that chain: a verb never acts
 *  on another chain than the one asked for. */
async function sameChain(node: ControlClient, o: Options): Promise<void> {
  if (o.chain === false || !o.chain.rpcUrl) return;
  const c = await node.call<ChainHealth>('chain');
  if (c.state !== 'running') throw new CliError(`the running node's chain is ${c.state === 'error' ? `in error: ${c.error}` : c.state}, not ${o.chain.rpcUrl}`);
  const want = o.chain.contracts!;
  if (c.chainId !== o.chain.chainId || c.contracts.registry.toLowerCase() !== want.registry.toLowerCase() || c.contracts.pool.toLowerCase() !== want.pool.toLowerCase()) {
    throw new CliError(`the running node is on chain ${c.chainId} (registry ${c.contracts.registry}), not the one given (chain ${o.chain.chainId}, registry ${want.registry})`);
  }
  // Gas is paid by whoever the running node was started with: a verb cannot switch the payer.
  const signer = o.chain.signer;
  if (!signer) return;
  const paidBy = c.signer ? `the external signer at ${c.signer.url}${c.signer.account ? ` (${c.signer.account})` : ''}` : `its own account ${c.account}`;
  if (!c.signer || c.signer.url !== signer.url || (signer.from !== undefined && c.signer.account?.toLowerCase() !== signer.from.toLowerCase())) {
    throw new CliError(`the running node pays gas with ${paidBy}, not with the signer given (${signer.url}${signer.from ? `, ${signer.from}` : ''}): restart it with those options`);
  }
}

export const register: Verb = async (inv, out, node) => {
  const arg = inv.positionals[0]!;
  const params: Record<string, unknown> = {};
  if (existsSync(arg) && statSync(arg).isFile()) params.torrent = readFileSync(arg).toString('base64');
  else if (/^[0-9a-fA-F]{1,40}$/.test(arg)) params.infoHash = arg;
  else throw new UsageError(`register wants a .torrent file or an infohash, got "${arg}"`);
  await sameChain(requireNode(node, 'register'), inv.options);
  const r = await requireNode(node, 'register').call<{ tx: string | null; infoHash: string; owner: string; metadataCid: string; block: number }>('register', params);
  out.result(r, () =>
    r.tx === null
      ? `${r.infoHash} is already registered to this node's account ${r.owner} (block ${r.block}), metadata ${r.metadataCid}`
      : `registered ${r.infoHash} to ${r.owner} in block ${r.block} (tx ${r.tx}), metadata ${r.metadataCid}`,
  );
  return 0;
};

export const verify: Verb = async (inv, out, node) => {
  const ih = inv.positionals[0]!;
  if (!/^[0-9a-fA-F]{40}$/.test(ih)) throw new UsageError(`verify wants a full 40-digit infohash, got "${ih}"`);
  let r: { owner: string; did: string | null; metadataCid: string; block: number } | undefined;
  try {
    if (node) {
      await sameChain(node, inv.options);
      r = await node.call('verify', { infoHash: ih });
    } else {
      r = await verifyOnChain(ih, inv.options);
    }
  } catch (err) {
    // "not registered" is an answer, not a failure of the command: exit 1 with it, as documented.
    if (/is not registered/.test((err as Error).message)) {
      out.result({ infoHash: ih.toLowerCase(), registered: false }, () => `${ih.toLowerCase()}: not registered`);
      return 1;
    }
    throw err instanceof Error ? new CliError(err.message) : err;
  }
  const found = r!;
  out.result(found, () => `${ih.toLowerCase()}: owner ${found.owner}${found.did ? ` (${found.did})` : ''}, metadata ${found.metadataCid}, block ${found.block}`);
  return 0;
};

/** verify with no node running: straight from the registry on --chain-rpc (the did is unknown
 *  here: it is in the metadata block, which a node holds). */
async function verifyOnChain(ih: string, o: Options): Promise<{ owner: string; did: null; metadataCid: string; block: number }> {
  if (o.chain === false || !o.chain.rpcUrl) throw new CliError(`verify needs a running node, or --chain-rpc URL --chain-contracts FILE to read the registry itself: ${NO_NODE}`);
  const { recordAt } = await import('@cascade/chain');
  const rec = await recordAt(o.chain.rpcUrl, o.chain.contracts!.registry, ih.toLowerCase());
  if (!rec) throw new CliError(`${ih.toLowerCase()} is not registered`);
  return { owner: rec.owner, did: null, metadataCid: rec.metadataCid, block: rec.block };
}

export const rewards: Verb = async (inv, out, node) => {
  const [verb] = inv.positionals;
  if (verb !== undefined && verb !== 'claim') throw new UsageError(`rewards: unknown verb "${verb}" (rewards | rewards claim)`);
  const control = requireNode(node, 'rewards');
  await sameChain(control, inv.options);
  const call = async <T>(method: string): Promise<T> => {
    try {
      return await control.call<T>(method, {});
    } catch (err) {
      throw err instanceof Error ? new CliError(err.message) : err;
    }
  };
  if (verb === 'claim') {
    const c = await call<RewardClaim>('rewards.claim');
    out.result(c, () =>
      [
        c.tx === null ? 'nothing new to claim' : `claimed ${c.claimedBytes} bytes (tx ${c.tx})`,
        ...c.skipped.map((s) => `  left out: ${s.infoHash} from ${s.downloader}: ${s.reason}`),
      ].join('\n'),
    );
    return 0;
  }
  const r = await call<Rewards>('rewards');
  out.result(r, () =>
    [
      `earned   ${r.earnedBytes} bytes in ${r.receipts} receipt${r.receipts === 1 ? '' : 's'}`,
      `claimed  ${r.claimedBytes} bytes`,
      `pending  ${r.pendingBytes} bytes (${units18(BigInt(r.pendingBytes) * BigInt(r.rewardPerByte))} SEED at ${units18(BigInt(r.rewardPerByte) * 2n ** 30n)} SEED per GiB)`,
      `balance  ${units18(r.balance)} SEED on ${r.account}`,
    ].join('\n'),
  );
  return 0;
};
