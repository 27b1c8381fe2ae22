// @cascade/chain/embedded: what the embedded dev chain's saved state says, without starting it and
// without the rest of the chain package (viem, the artifacts, anvil): whether its market has listings.
export { embeddedMarketListed } from './src/node-chain/embedded-state.ts';
