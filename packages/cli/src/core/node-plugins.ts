// The features above the node that `seed` and `download` hand to startNode (issue 64), each loaded
// (its import()) only when the node needs it: its private shares the first time it meets one (a
// private torrent, a link's key), its content ids when it computes them (seed, download --seed) or
// is asked for one (a download by content id, a search through it). A public one-shot download
// loads neither.
import type { NodePlugins } from '@cascade/node';

export const nodePlugins: NodePlugins = {
  privateShares: () => import('@cascade/private-node').then((m) => m.openPrivateShares),
  contentIds: () => import('@cascade/content-node').then((m) => m.openContentIds),
};
