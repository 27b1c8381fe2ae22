// `cascade create … --web-seed-from-public-url [--cdn-url URL]` (issue 61 item 5, docs/storage/cdn.md):
// the node's own address as the torrent's BEP 19 web seed, so every client can pull from the CDN.
// --cdn-url alone implies it (a flag that did nothing would mislead).
import { UsageError } from '../core/errors.ts';
import type { Invocation } from '../parse/args.ts';

/** `<--cdn-url or the node's public URL>/webseed/<infohash>/`: where the node serves this torrent's
 *  files once it seeds them (http routes/webseed.ts), through the CDN when there is one. */
export async function ownWebSeed(o: Invocation['options'], meta: { infoHashHex: string; version?: string }): Promise<string> {
  if (meta.version === 'v2') throw new UsageError('--web-seed-from-public-url serves files by v1 infohash: make a v1 or --hybrid torrent');
  let base = o.cdnUrl;
  if (base === undefined) {
    const { connectControl } = await import('@cascade/node/verbs');
    const node = await connectControl(o.stateDir);
    const settings = node ? await node.call<{ publicUrl?: string | null }>('settings.get').catch(() => undefined) : undefined;
    base = settings?.publicUrl ?? undefined;
    if (!base) throw new UsageError(`--web-seed-from-public-url needs an address: --cdn-url URL, or a node running on ${o.stateDir} with a public URL (serve --public-url URL)`);
  }
  return `${base.replace(/\/+$/, '')}/webseed/${meta.infoHashHex}/`;
}
