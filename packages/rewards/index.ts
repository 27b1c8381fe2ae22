// @cascade/rewards — the node's side of the chain, above the node: the chain service, seeding
// receipts exchanged with peers and kept in the node's state, rewards and claims, registrations,
// and the chain verbs with no node running (also `./chain-verbs`, which the CLI loads alone).
// `attachRewards` plugs it into a running node (serve, and the one-shot seed and download); the
// node imports nothing of it.
export type { ChainHealth, ChainConfig } from './src/chain-service.ts';
export type { Rewards, RewardClaim, ReceiptTerms } from './src/receipt-exchange.ts';
export { attachRewards, type NodeRewards } from './src/node-rewards.ts';
export { openChainVerbs, type ChainVerbs } from './src/chain-verbs.ts';
