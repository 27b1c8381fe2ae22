// An external Ethereum wallet through EIP-1193 (`window.ethereum`, e.g. MetaMask): its account, its
// chain, personal_sign — and a read-back of the node's Sign-In with Ethereum (EIP-4361) message, so
// the page never asks the wallet to sign in to another site or as another account.

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export function walletProvider(): Eip1193Provider | undefined {
  const eth = (window as unknown as { ethereum?: Partial<Eip1193Provider> }).ethereum;
  return eth && typeof eth.request === 'function' ? (eth as Eip1193Provider) : undefined;
}

export function hasWallet(): boolean {
  return walletProvider() !== undefined;
}

function need(): Eip1193Provider {
  const eth = walletProvider();
  if (!eth) throw new Error('No Ethereum wallet in this browser (window.ethereum).');
  return eth;
}

/** The wallet's first account, asking the user to connect it if needed. */
export async function walletAccount(): Promise<string> {
  const accounts = await need().request({ method: 'eth_requestAccounts' });
  const first = Array.isArray(accounts) ? accounts[0] : undefined;
  if (typeof first !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(first)) throw new Error('The wallet shared no account.');
  return first;
}

export async function walletChainId(): Promise<number> {
  try {
    const id = await need().request({ method: 'eth_chainId' });
    const n = typeof id === 'string' ? Number.parseInt(id, 16) : typeof id === 'number' ? id : NaN;
    return Number.isSafeInteger(n) && n > 0 ? n : 1;
  } catch {
    // Sign-in does not depend on the chain; mainnet is what a wallet without the method means.
    return 1;
  }
}

/** 0x-hex of the UTF-8 text: what personal_sign takes (wallets show it decoded). */
export function utf8Hex(text: string): string {
  return `0x${Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** EIP-191 personal_sign of `text` by `address`, by the wallet. */
export async function walletSign(text: string, address: string): Promise<string> {
  const sig = await need().request({ method: 'personal_sign', params: [utf8Hex(text), address] });
  if (typeof sig !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(sig)) throw new Error('The wallet returned no signature.');
  return sig;
}

/** Why this page will not have the wallet sign `message`, or undefined when it is a sign-in to this
 *  origin as `address` (EIP-4361: "<host> wants you to sign in…", the account, then fields). */
export function checkSiweMessage(message: string, address: string): string | undefined {
  const lines = message.split('\n');
  if (lines[0] !== `${location.host} wants you to sign in with your Ethereum account:`) return `it is not a sign-in to ${location.host}`;
  if ((lines[1] ?? '').toLowerCase() !== address.toLowerCase()) return 'it names another account';
  const uri = lines.find((l) => l.startsWith('URI: '))?.slice(5);
  if (uri !== undefined && !(uri === location.origin || uri.startsWith(`${location.origin}/`))) return `it is for ${uri}`;
  return undefined;
}
