// @cascade/market — the marketplace (issue 62, docs/market.md): a node sells access to a private
// share it can open, buys, delivers the key sealed to each buyer and opens what it bought, on the
// market contract (@cascade/chain's CascadeMarket). Above the node, which imports nothing of it: the
// HTTP face and the CLI load it with a dynamic import where they use it (`serve` starts the watchers
// once its chain runs), so `cascade download` never loads it.
export { MarketService, type MarketHost, type ShareSecret } from './src/service.ts';
export { nodeMarketHost } from './src/node-host.ts';
export { marketRpc, sellRequest, type MarketRpc } from './src/rpc.ts';
export { MarketRefused, type MarketChain } from './src/contract.ts';
export { keyCommitment, parsePrice, parseRoyalty, parseDeadline, TermsError, ETHER } from './src/terms.ts';
