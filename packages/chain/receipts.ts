// @cascade/chain/receipts: signing and checking seeding receipts, and what they name, without the
// rest of the chain package (viem, the contracts' artifacts, anvil): what a node loads at
// its first Cascade peer, in the middle of a transfer (issue 40).
export { signReceipt, signReceiptWithSecret, checkReceipt, receiptDomain, RECEIPT_TYPES, type Receipt } from './src/receipts/receipts.ts';
export { receiptDigest } from './src/receipts/receipt-digest.ts';
export { receiptTermsOf, type ReceiptTermsOf, type NodeChainOptions } from './src/receipts/receipt-terms.ts';
