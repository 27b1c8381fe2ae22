// pause, resume, recheck and remove on several torrents at once (`cascade pause aaaa bbbb`, or
// `cascade pause all`): one `bulk` call to the running node — the operation behind the web UI's
// multi-select bar — with one line per torrent, then how many it acted on, and exit 1 when any of
// them failed.

import { resolveInfoHash, type ControlClient } from '@cascade/node/verbs';
import type { BulkResponse, ListEntry } from '@cascade/shapes';
import { short } from './node-access.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';

type Action = 'pause' | 'resume' | 'recheck' | 'remove';

const DONE: Record<Action | 'announce', string> = { pause: 'paused', resume: 'resumed', recheck: 'rechecking', remove: 'removed', announce: 'announced' };

/**
 * The last line of a verb that acted on several torrents or all of them: how many, zero included
 * (`pause all` with nothing to pause once printed nothing at all). In --json an event with the
 * count, named as the line starts. `skipped` (announce): torrents left alone for their state.
 */
export function sayCount(out: Output, action: Action | 'announce', count: number, failed = 0, skipped?: number): void {
  const total = count + (skipped ?? 0);
  const torrents = `${total === count ? count : `${count} of ${total}`} torrent${total === 1 ? '' : 's'}`;
  out.result({ event: DONE[action], count, failed, ...(skipped !== undefined ? { skipped } : {}) }, () =>
    `${DONE[action]} ${torrents}${failed > 0 ? `; ${failed} failed` : ''}`,
  );
}

/** True when the verb names more than one torrent (or "all"): then runMany handles it. */
export function namesMany(inv: Invocation): boolean {
  return inv.positionals.length > 1 || inv.positionals[0] === 'all';
}

export async function runMany(inv: Invocation, out: Output, node: ControlClient, action: Action): Promise<number> {
  let infoHashes: string[] | 'all';
  if (inv.positionals.includes('all')) infoHashes = 'all';
  else {
    // Prefixes are resolved here (the bulk operation takes full infohashes), each as a single verb would.
    const { torrents } = await node.call<{ torrents: ListEntry[] }>('list');
    const known = torrents.map((e) => e.infoHash);
    infoHashes = [...new Set(inv.positionals.map((arg) => resolveInfoHash(arg, known)))];
  }
  const deleteData = action === 'remove' && inv.options.deleteData;
  const { results } = await node.call<BulkResponse>('bulk', { action, infoHashes, ...(deleteData ? { deleteData: true } : {}) });
  out.result({ action, results, ...(action === 'remove' ? { deletedData: deleteData } : {}) }, () =>
    results.map((r) => (r.ok ? `${DONE[action]} ${short(r.infoHash)}` : `${short(r.infoHash)}: ${r.error ?? 'failed'}`)).join('\n'),
  );
  const failed = results.filter((r) => !r.ok).length;
  sayCount(out, action, results.length - failed, failed);
  return failed === 0 ? 0 : 1;
}
