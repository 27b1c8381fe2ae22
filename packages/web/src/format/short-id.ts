// Short labels for dids and addresses. shortDid is @cascade/identity's, letter for letter: importing
// it from there would pull that package's whole crypto (~87 KB) into the main chunk, which otherwise
// loads it only when signing in (keys.ts).

/** did shortened for labels: did:key:z6Mk…last6 */
export function shortDid(did: string): string {
  return did.length > 24 ? `${did.slice(0, 12)}…${did.slice(-6)}` : did;
}

/** 0x1234…abcd */
export function shortAddress0x(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}
