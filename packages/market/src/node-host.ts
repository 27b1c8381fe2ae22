// The market's view of a running node (MarketHost): its identity's X25519 key, a share's key and
// salt when the node can open it (what `sell` refuses without), and adding a bought share with its
// key, as `cascade add LINK` does. Through the node's public entry points only.
import type { CascadeNode } from '@cascade/node';
import { nodeIdentity } from '@cascade/node';
import { addResult, addUri } from '@cascade/node/features';
import { ShareKeys } from '@cascade/private-node/offline';
import { checkKey, linkFor, readPrivateInfo } from '@cascade/private-shares';
import type { MarketHost, ShareSecret } from './service.ts';
import { NodeError } from '@cascade/node/basics';

export function nodeMarketHost(node: CascadeNode, opts: { log?: (line: string) => void; changed?: () => void } = {}): MarketHost {
  const keys = new ShareKeys(node.db);
  return {
    identity: () => nodeIdentity(node.db),
    resolve: (arg) => node.resolve(arg),
    async share(infoHash): Promise<ShareSecret> {
      const t = node.session.get(infoHash);
      if (!t?.metainfo) throw new NodeError('not-found', `this node does not have ${infoHash} (or not its metadata yet)`);
      const info = readPrivateInfo(t.metainfo.infoBytes);
      if (!info) throw new NodeError('conflict', `${t.metainfo.name} is not a private share: the market sells the key to one (make it with \`cascade share\` or Share in the web app)`);
      const held = await keys.get(infoHash);
      if (!held) throw new NodeError('conflict', `this node cannot open ${infoHash}: it holds no key for it, so it has nothing to deliver`);
      try {
        checkKey(info, held.key);
      } catch {
        throw new NodeError('conflict', `this node's key for ${infoHash} does not open it: nothing it could deliver`);
      }
      const manifest = node.privateShares.view(infoHash)?.manifest;
      return {
        infoHash,
        key: held.key,
        salt: info.salt,
        name: manifest?.name ?? t.metainfo.name,
        size: manifest?.length ?? t.metainfo.length,
        magnet: addResult(t, true, node).magnet,
      };
    },
    hasKey: async (infoHash) => (await keys.get(infoHash)) !== undefined,
    async open(_infoHash, magnet, key) {
      await addUri(node, linkFor(magnet, key), {}, { allowPrivateUrls: false });
    },
    // A listing's signed DHT record (issue 62): its name's words and the share's infohash find it.
    async publishListing(l) {
      const content = await node.content.ready();
      if (!content.publish) throw new NodeError('failed', 'this node does not publish DHT records');
      await content.publish({ name: l.name, length: l.size, infoHash: l.infoHash, infoHashV2: null, cids: [], port: node.session.port, market: { chainId: l.chainId, contract: l.contract, listingId: l.listingId } });
    },
    log: opts.log ?? ((line) => node.out.note(line)),
    ...(opts.changed ? { changed: opts.changed } : {}),
  };
}
