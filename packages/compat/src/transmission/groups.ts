// Transmission's bandwidth groups (group-get, group-set, torrent-set `group`, torrent-get `group`):
// Cascade has per-torrent limits only, so a group is a named pair of limits kept in the adapters'
// memory (the node's state: every member of a cluster knows the groups; memory.ts) and written onto
// each member torrent as its own limits (when the group has a limit on).

import type { CompatOps, TorrentPatch } from '../ops.ts';
import { KB, RpcError, bool, int, str, type Args } from './args.ts';

export interface GroupView {
  honorsSessionLimits: boolean;
  name: string;
  'speed-limit-down-enabled': boolean;
  'speed-limit-down': number;
  'speed-limit-up-enabled': boolean;
  'speed-limit-up': number;
}

const fresh = (name: string): GroupView => ({
  honorsSessionLimits: true,
  name,
  'speed-limit-down-enabled': false,
  'speed-limit-down': 0,
  'speed-limit-up-enabled': false,
  'speed-limit-up': 0,
});

/** The groups and their members as the adapters' memory keeps them. */
export interface StoredGroups {
  groups: GroupView[];
  /** infohash → group name. */
  members: Record<string, string>;
}

export class BandwidthGroups {
  readonly #groups = new Map<string, GroupView>();
  /** infohash → group name. */
  readonly #members = new Map<string, string>();

  /** The groups as stored (anything unreadable left out). */
  static from(stored: unknown): BandwidthGroups {
    const g = new BandwidthGroups();
    const s = stored as Partial<StoredGroups> | undefined;
    for (const v of Array.isArray(s?.groups) ? s.groups : []) if (v && typeof v.name === 'string') g.#groups.set(v.name, { ...fresh(v.name), ...v });
    for (const [ih, name] of Object.entries(s?.members && typeof s.members === 'object' ? s.members : {})) if (typeof name === 'string') g.#members.set(ih, name);
    return g;
  }

  /** What to store; members only of torrents still `known` (null: every one). */
  stored(known: ReadonlySet<string> | null): StoredGroups {
    return { groups: [...this.#groups.values()], members: Object.fromEntries([...this.#members].filter(([ih]) => !known || known.has(ih))) };
  }

  groupOf(infoHash: string): string {
    return this.#members.get(infoHash) ?? '';
  }

  /** torrent-set `group`: '' leaves any group; an unknown name is created, as Transmission does. */
  join(infoHash: string, name: string, patch: TorrentPatch): void {
    if (name === '') {
      this.#members.delete(infoHash);
      return;
    }
    let g = this.#groups.get(name);
    if (!g) this.#groups.set(name, (g = fresh(name)));
    this.#members.set(infoHash, name);
    Object.assign(patch, limitsOf(g));
  }

  get(args: Args): { group: GroupView[] } {
    const asked = args.group;
    if (asked === undefined) return { group: [...this.#groups.values()] };
    const names = typeof asked === 'string' ? [asked] : asked;
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new RpcError('"group" must be a group name or a list of them');
    return { group: (names as string[]).flatMap((n) => this.#groups.get(n) ?? []) };
  }

  async set(ops: CompatOps, args: Args): Promise<void> {
    const name = str(args, 'name');
    if (name === undefined || name === '') throw new RpcError('No group name given');
    const g = this.#groups.get(name) ?? fresh(name);
    const down = int(args, 'speed-limit-down');
    const up = int(args, 'speed-limit-up');
    if ((down !== undefined && down < 0) || (up !== undefined && up < 0)) throw new RpcError('speed limits are 0 or more kB/s');
    const honors = bool(args, 'honorsSessionLimits');
    if (honors === false) throw new RpcError('Cascade’s node-wide limits always apply (honorsSessionLimits)');
    g['speed-limit-down'] = down ?? g['speed-limit-down'];
    g['speed-limit-up'] = up ?? g['speed-limit-up'];
    g['speed-limit-down-enabled'] = bool(args, 'speed-limit-down-enabled') ?? g['speed-limit-down-enabled'];
    g['speed-limit-up-enabled'] = bool(args, 'speed-limit-up-enabled') ?? g['speed-limit-up-enabled'];
    this.#groups.set(name, g);
    const patch = limitsOf(g);
    for (const [ih, group] of this.#members) if (group === name) await ops.setTorrent(ih, patch);
  }
}

/** A group's limits as a member's own (bytes/s, 0 = none). */
function limitsOf(g: GroupView): TorrentPatch {
  return {
    downloadLimit: g['speed-limit-down-enabled'] ? g['speed-limit-down'] * KB : 0,
    uploadLimit: g['speed-limit-up-enabled'] ? g['speed-limit-up'] * KB : 0,
  };
}
