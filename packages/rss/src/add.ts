// How a rule's take reaches the node: the same steps as `POST /api/torrents {"uri": …}` — a
// .torrent URL fetched through the SSRF guard and parsed, a magnet parsed — then the node's add,
// unless the node already has that torrent.

import { parseTorrent, parseTorrentId, type TorrentSource } from '@cascade/engine';
import { fetchTorrentFile, type PrivateAllowance } from '@cascade/node/features';
import type { RssAdd } from './service.ts';

/** The parts of a running node a take uses (a CascadeNode has them): the torrents its session
 *  holds, and the add every door makes (the model resolves the options). */
export interface RssNode {
  readonly session: { get(infoHash: string): unknown };
  addWith(source: TorrentSource, input: { savePath: string | null; category: string | null; tags: string[]; paused: boolean }): Promise<unknown>;
}

export interface NodeAddDeps {
  node: RssNode;
  downloadDir: string;
  allowPrivateUrls: PrivateAllowance;
  changed?: () => void;
}

export function nodeAdd(deps: NodeAddDeps): RssAdd {
  return async (req) => {
    let source: TorrentSource;
    let infoHash: string;
    if (/^https?:\/\//i.test(req.uri)) {
      const bytes = await fetchTorrentFile(req.uri, { allowPrivate: deps.allowPrivateUrls });
      infoHash = parseTorrent(bytes).infoHashHex;
      source = bytes;
    } else if (/^magnet:/i.test(req.uri)) {
      infoHash = parseTorrentId(req.uri).infoHashHex;
      source = req.uri;
    } else {
      throw new Error(`not a .torrent URL or magnet: ${req.uri.slice(0, 200)}`);
    }
    if (deps.node.session.get(infoHash)) return { infoHash, existing: true };
    // The node's add options: the rule's save path, else its category's, else the download dir.
    await deps.node.addWith(source, { savePath: req.savePath, category: req.category, tags: req.tags, paused: req.paused });
    deps.changed?.();
    return { infoHash, existing: false };
  };
}
