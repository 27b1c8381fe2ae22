// What the embedded dev chain's saved state says, read from its files in <stateDir>/chain without
// starting it (no anvil spawned, no viem loaded): `serve` starts that chain at its first need
// (issue 64), except for a node whose market has listings, whose watchers must follow them at once.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Deployment } from '../contracts/deploy.ts';

/** CascadeMarket's `listingCount`: its first storage slot (its ReentrancyGuard keeps its own in an
 *  ERC-7201 namespace, and its other state before it is immutable; a test checks it against a real listing). */
const LISTING_COUNT_SLOT = 0n;

/**
 * Whether the market contract on the embedded chain saved in <stateDir>/chain has any listing, so
 * orders to deliver or purchases to open: its `listingCount` in anvil's state file (--state:
 * `accounts[address].storage`, slot → value), which is what anvil loads at its next start. False
 * when there is no such file, no market deployed, or the file cannot be read as that.
 */
export async function embeddedMarketListed(stateDir: string): Promise<boolean> {
  const dir = join(stateDir, 'chain');
  try {
    const market = (JSON.parse(await readFile(join(dir, 'deployment.json'), 'utf8')) as Partial<Deployment>).market?.toLowerCase();
    if (!market) return false;
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { accounts?: Record<string, { storage?: Record<string, string> }> };
    const account = Object.entries(state.accounts ?? {}).find(([address]) => address.toLowerCase() === market)?.[1];
    return Object.entries(account?.storage ?? {}).some(([slot, value]) => BigInt(slot) === LISTING_COUNT_SLOT && BigInt(value) !== 0n);
  } catch {
    return false;
  }
}
