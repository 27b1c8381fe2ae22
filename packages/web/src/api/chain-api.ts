// The node's chain routes (issue 13, packages/http/src/routes/chain.ts): who registered a torrent
// in the content registry, registering one for the node's account, the seeding rewards and claiming
// them. Before asking, the views read the chain's state from /api/health (public): a node without a
// chain, or one still starting it, is said so plainly instead of earning a 409 from each route.
import { api, request } from './api.ts';
import type { RewardClaim as ClaimResult, Rewards, TorrentRegistration as Registration } from '@cascade/shapes';

// The node's shapes (@cascade/shapes): a torrent's registration, the rewards, a claim's result.
export type { ClaimResult, Registration, Rewards };

/** The chain as /api/health reports it: running, or why not (the words the node's routes use). */
export type ChainAvailability = { running: true } | { running: false; starting: boolean; message: string };

export async function chainAvailability(): Promise<ChainAvailability> {
  const chain = (await api.health()).chain as { state?: string; error?: string } | undefined;
  if (chain?.state === 'running') return { running: true };
  if (!chain || chain.state === 'off') return { running: false, starting: false, message: 'This node runs without a chain (--no-chain).' };
  if (chain.state === 'starting') return { running: false, starting: true, message: 'The chain is starting…' };
  return { running: false, starting: false, message: `The chain is not running: ${chain.error ?? 'unknown error'}` };
}

const h = (infoHash: string) => encodeURIComponent(infoHash);

export const chainApi = {
  registration: (infoHash: string) => request<Registration>('GET', `/api/torrents/${h(infoHash)}/registration`),
  register: (infoHash: string) => request<Registration>('POST', `/api/torrents/${h(infoHash)}/register`),
  rewards: () => request<Rewards>('GET', '/api/rewards'),
  claim: () => request<ClaimResult>('POST', '/api/rewards/claim'),
};
