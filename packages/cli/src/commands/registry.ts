// `cascade register <torrent-file|infohash>`, `cascade verify <infohash>` and `cascade rewards [claim]`
// (issue 13): ownership records in the content registry and seeding rewards from the reward pool,
// through the running node (its account signs and pays gas, and receives the rewards).
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { RewardClaim, Rewards } from '@cascade/server/core';
import { CliError, UsageError } from '@cascade/server/errors';
import { requireNode, type Verb } from './node-access.ts';
import { units18 } from '../format.ts';

export const register: Verb = async (inv, out, node) => {
  const arg = inv.positionals[0]!;
  const params: Record<string, unknown> = {};
  if (existsSync(arg) && statSync(arg).isFile()) params.torrent = readFileSync(arg).toString('base64');
  else if (/^[0-9a-fA-F]{1,40}$/.test(arg)) params.infoHash = arg;
  else throw new UsageError(`register wants a .torrent file or an infohash, got "${arg}"`);
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
  let r: { owner: string; did: string | null; metadataCid: string; block: number };
  try {
    r = await requireNode(node, 'verify').call('verify', { infoHash: ih });
  } catch (err) {
    // "not registered" is an answer, not a failure of the command: exit 1 with it, as documented.
    if (/is not registered/.test((err as Error).message)) {
      out.result({ infoHash: ih.toLowerCase(), registered: false }, () => `${ih.toLowerCase()}: not registered`);
      return 1;
    }
    throw err instanceof Error ? new CliError(err.message) : err;
  }
  out.result(r, () => `${ih.toLowerCase()}: owner ${r.owner}${r.did ? ` (${r.did})` : ''}, metadata ${r.metadataCid}, block ${r.block}`);
  return 0;
};

export const rewards: Verb = async (inv, out, node) => {
  const [verb] = inv.positionals;
  if (verb !== undefined && verb !== 'claim') throw new UsageError(`rewards: unknown verb "${verb}" (rewards | rewards claim)`);
  const control = requireNode(node, 'rewards');
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
