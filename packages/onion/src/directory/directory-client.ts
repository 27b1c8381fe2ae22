// Talking to a directory (a Cascade tracker's /relays): publish a descriptor, fetch the signed list.
// Platform-free: global fetch.
import { checkRelayList, type CheckedList, type RelayDescriptor } from './descriptor.ts';

export const RELAYS_PATH = '/relays';

function relaysUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}${RELAYS_PATH}`;
}

export async function publishDescriptor(directory: string, d: RelayDescriptor): Promise<void> {
  const res = await fetch(relaysUrl(directory), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(d),
    signal: AbortSignal.timeout(10_000),
  });
  // The answer is read to its end even when it is only `{ok:true}`: a body left unread holds the
  // request open until the timeout aborts it (a browser then reports the publish as failed) and, in
  // Node, holds the connection until it is collected.
  const text = await res.text();
  if (!res.ok) throw new Error(`directory answered ${res.status}: ${text.slice(0, 200)}`);
}

export async function fetchRelayList(directory: string, opts: { pinned?: string } = {}): Promise<CheckedList> {
  const res = await fetch(relaysUrl(directory), { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`directory answered ${res.status}`);
  return checkRelayList(await res.json(), opts);
}

/**
 * The relays of one or more directories, refreshed when older than `maxAgeMs`; descriptors that
 * fail their checks are dropped (and counted), good ones merged by identity.
 */
export function directoryRelays(directories: string[], opts: { maxAgeMs?: number; onDropped?: (n: number, reasons: string[]) => void } = {}): () => Promise<RelayDescriptor[]> {
  let cache: { at: number; relays: RelayDescriptor[] } | undefined;
  let inflight: Promise<RelayDescriptor[]> | undefined;
  const maxAge = opts.maxAgeMs ?? 60_000;
  return async () => {
    if (cache && Date.now() - cache.at < maxAge && cache.relays.every((r) => r.expires > Date.now())) return cache.relays;
    inflight ??= (async () => {
      const lists = await Promise.allSettled(directories.map((d) => fetchRelayList(d)));
      const byId = new Map<string, RelayDescriptor>();
      const reasons: string[] = [];
      for (const l of lists) {
        if (l.status !== 'fulfilled') {
          reasons.push(String((l.reason as Error)?.message ?? l.reason));
          continue;
        }
        for (const d of l.value.dropped) reasons.push(`${String(d.id)}: ${d.reason}`);
        for (const r of l.value.relays) {
          const have = byId.get(r.id);
          if (!have || have.published < r.published) byId.set(r.id, r);
        }
      }
      if (reasons.length > 0) opts.onDropped?.(reasons.length, reasons);
      if (byId.size === 0 && lists.every((l) => l.status === 'rejected')) throw new Error(`no directory answered: ${reasons.join('; ')}`);
      cache = { at: Date.now(), relays: [...byId.values()] };
      return cache.relays;
    })().finally(() => (inflight = undefined));
    return inflight;
  };
}
