// How a rule's take reaches the node: the same steps as `POST /api/torrents {"uri": …}` — a
// .torrent URL fetched through the SSRF guard and parsed, a magnet parsed — then the node's add,
// unless the node already has that torrent.

import { parseTorrent, parseTorrentId } from '@cascade/engine';
import { fetchTorrentFile } from '../sources/fetch-torrent.ts';
import type { PrivateAllowance } from '../sources/url-guard.ts';
import type { NodeCore, TorrentAdder } from '../core/node-parts.ts';
import type { TorrentSource } from '../core/engine.ts';
import type { RssAdd } from './service.ts';

export interface NodeAddDeps {
  node: Pick<NodeCore, 'session'> & Pick<TorrentAdder, 'addWith'>;
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
