// @cascade/chain: the Solidity contracts (content registry, seed token, reward pool) and their
// compiled artifacts, the embedded dev chain (anvil), deployment, and receipt/registration signing.
export { startAnvil, anvilBinary, type AnvilOptions, type RunningAnvil } from './src/node-chain/anvil.ts';
export { contentRegistry, cascadeToken, rewardPool, cascadeMarket, type Compiled } from './src/contracts/artifacts.ts';
export { deployContracts, deployMarket, deployWithKey, type Deployment, type PoolTerms } from './src/contracts/deploy.ts';
export {
  signReceipt, signReceiptWithSecret, checkReceipt, receiptDomain, RECEIPT_TYPES, signRegistration, registryDomain, REGISTER_TYPES,
  type Receipt, type Registration,
} from './src/receipts/receipts.ts';
export { NodeChain, type NodeChainOptions, type ChainStatus, type PendingTx } from './src/node-chain/node-chain.ts';
export { receiptTermsOf, type ReceiptTermsOf } from './src/receipts/receipt-terms.ts';
export { ExternalSigner, signerError, type ExternalSignerOptions } from './src/node-chain/signer.ts';
export { metadataBlock, readMetadataBlock, dagJsonCid, type TorrentMetadata, type MetadataBlock } from './src/records/metadata.ts';
export { recordArweaveTx, recordOf, recordAt, register, type RegistryRecord } from './src/records/registry.ts';
export { claimReceipts, paidBytes, receiptKey, tokenBalance, rewardRate, type SignedReceipt, type ClaimResult } from './src/records/rewards.ts';
