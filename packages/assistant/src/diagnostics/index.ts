// runChecks: the assistant's live diagnostics over the node's real state (a NodeView the server
// hands in). With an infohash, that torrent's checks (with the node-wide ones that explain it);
// without, the node-wide ones. Each finding carries its evidence, help entries and actions.
import type { Finding, MarketView, NodeView } from '../types.ts';
import { nodeChecks } from './node-checks.ts';
import { torrentChecks } from './torrent-checks.ts';
import { marketChecks } from './market-checks.ts';

export async function runChecks(node: NodeView, infoHash?: string, now = Date.now()): Promise<Finding[]> {
  const health = await node.health();
  if (infoHash !== undefined) {
    const t = await node.torrent(infoHash);
    if (t === undefined) return [];
    return torrentChecks(t, health, now);
  }
  // The market's findings come with the node-wide ones; a market that cannot be read says so itself.
  const market = node.market ? await node.market().catch((err: Error): MarketView => ({ problem: err.message, orders: [] })) : undefined;
  return [...nodeChecks(health, await node.torrents(), now), ...marketChecks(market, now)];
}

export { nodeChecks } from './node-checks.ts';
export { torrentChecks, trackerAnswered, trackerFailing } from './torrent-checks.ts';
export { marketChecks } from './market-checks.ts';
