// CompatOps over this node: what Transmission RPC and qBittorrent's Web API (@cascade/compat) may
// do, each call the same operation Cascade's own API makes, so all doors share one model.

import { createHmac } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { CompatOps, TorrentInfo, TorrentRow, NodeSettings, TransferInfo } from '@cascade/compat';
import type { ApiContext } from '../app/context.ts';
import { CompatSessionStore, CompatStateStore } from '@cascade/compat/stores';
import { summaryCache } from '@cascade/node/features';
import { torrentDetailOf, loadedTorrent, findTorrent } from '../routes/lookup.ts';
import { addTorrentBytes, addUri } from '@cascade/node/features';
import { selectFiles } from '@cascade/node/features';
import { torrentFiles } from '@cascade/node/features';
import { incomingPeers, reachabilityOf } from '@cascade/node-network';
import type { ApiToken } from '@cascade/node';
import { badRequest, httpStatusOf } from '../app/http-errors.ts';
import { compatEdits } from './compat-edits.ts';
import { compatRss } from './compat-rss.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** qBittorrent's defaults: an hour idle ends a WebUI session; at most 256 sessions. */
const QB_IDLE_MS = 3600 * 1000;
const QB_MAX_SESSIONS = 256;
/** qBittorrent's web_ui_max_auth_fail_count and web_ui_ban_duration. */
const QB_MAX_AUTH_FAILS = 5;
const QB_BAN_MS = 3600 * 1000;

export function compatOps(ctx: ApiContext, token: Pick<ApiToken, 'matches' | 'value' | 'generation' | 'onRotate'>): CompatOps {
  const { node } = ctx;
  const qbSessions = new CompatSessionStore(node.db.store);
  // Each use of a SID already compares its credential with the token's generation; this clears the
  // state of the old ones at once (on every member: each hears the rotation, issue 42's reload).
  token.onRotate(() => {
    qbSessions.revoke('qbittorrent', token.generation).catch(() => {
      // The state away: the sessions stay refused by that check, and idle out within the hour.
    });
  });
  const rows = (): TorrentRow[] => {
    const cache = summaryCache(node);
    cache.refresh();
    return cache.rows();
  };
  // Sums over every row and the tags in use change only when some row does: kept with the list's
  // generation, so a poll of an idle library (sync/maindata's server_state, tags) walks no row.
  let sums = { generation: -1, downloadSpeed: 0, uploadSpeed: 0, sessionDownloaded: 0, sessionUploaded: 0, totalDownloaded: 0, totalUploaded: 0 };
  let tagsInUse = { generation: -1, createdVersion: -1, tags: [] as string[] };
  /** Grows when tags are created or deleted ahead of any torrent (no row shows those). */
  let createdTagsVersion = 0;
  let live = { at: -Infinity, health: node.session.health(), reachability: 'unknown' as TransferInfo['reachability'] };
  /** Mutations name torrents by infohash; the API's exact 40-hex form, any case. */
  const known = (infoHash: string): string => findTorrent(ctx, infoHash).infoHash;
  const done = <T>(v: T): T => {
    ctx.changed();
    return v;
  };

  return {
    ...compatEdits(ctx),
    version: VERSION,
    checkPassword: (password) => token.matches(password),
    credential: () => token.generation,
    // Both kept where every member of a cluster finds them, so a balancer needs no stickiness: the
    // SID in the state, the session id derived from the API token (a rotation changes it).
    qbSessions: qbSessionsIn(qbSessions, new CompatStateStore(node.db.store)),
    // What the adapters remember, in the state: every member of a cluster answers the same.
    memory: new CompatStateStore(node.db.store),
    transmissionIds: (infoHashes) => new CompatStateStore(node.db.store).torrentIds('transmission', infoHashes),
    transmissionSessionId: () => createHmac('sha256', token.value).update('cascade: transmission session id').digest('hex').slice(0, 48),
    list: rows,
    listState() {
      const cache = summaryCache(node);
      cache.refresh();
      return { generation: cache.generation, size: cache.size };
    },
    listChangedSince: (since) => summaryCache(node).updatedSince(since),

    info(infoHash): TorrentInfo {
      const d = torrentDetailOf(ctx, infoHash);
      // Held only by other members of a cluster: the metainfo as they have it.
      const meta = node.session.get(d.infoHash)?.metainfo ?? node.db.elsewhere?.metainfo(d.infoHash);
      return {
        ...d,
        comment: meta?.comment ?? null,
        createdBy: meta?.createdBy ?? null,
        creationDate: meta?.creationDate !== undefined ? meta.creationDate * 1000 : null,
        isPrivate: meta?.private ?? false,
        folder: meta?.multiFile ? meta.name : null,
      };
    },

    files(infoHash) {
      const f = findTorrent(ctx, infoHash);
      return f.torrent ? torrentFiles(node, f.torrent, f.record?.selectedFiles ?? null) : (node.db.elsewhere?.files(f.infoHash) ?? null);
    },

    wantsAllFiles(infoHash) {
      const t = node.session.get(infoHash);
      return t?.wantsAllFiles?.() ?? false;
    },

    async add(req) {
      const extra = {
        ...(req.savePath !== undefined ? { savePath: req.savePath } : {}),
        ...(req.category !== undefined ? { category: req.category } : {}),
        ...(req.tags !== undefined ? { tags: req.tags } : {}),
        ...(req.paused !== undefined ? { paused: req.paused } : {}),
      };
      let r;
      if (req.torrent) r = await addTorrentBytes(node, req.torrent, extra);
      else if (req.uri !== undefined) r = await addUri(node, req.uri, extra, { allowPrivateUrls: ctx.allowPrivateUrls });
      else throw badRequest('nothing to add: give a magnet, an infohash, a .torrent URL or a .torrent file');
      return done({ infoHash: r.infoHash, name: r.name, existing: r.existing });
    },

    async remove(infoHash, deleteData) {
      await node.remove(known(infoHash), deleteData);
      done(undefined);
    },
    async pause(infoHash) {
      await node.pause(known(infoHash));
      done(undefined);
    },
    async resume(infoHash) {
      await node.resume(known(infoHash));
      done(undefined);
    },
    recheck(infoHash) {
      node.recheck(loadedTorrent(ctx, infoHash).infoHashHex);
      done(undefined);
    },
    reannounce(infoHash) {
      const t = loadedTorrent(ctx, infoHash);
      if (!['paused', 'error'].includes(t.stats().state)) t.announce();
    },
    async setTorrent(infoHash, patch) {
      await node.model.setTorrent(known(infoHash), patch);
      done(undefined);
    },
    async addTags(infoHash, tags) {
      done(await node.model.changeTags(known(infoHash), tags, 'add'));
    },
    async removeTags(infoHash, tags) {
      done(await node.model.changeTags(known(infoHash), tags, 'remove'));
    },
    async selectFiles(infoHash, selected) {
      done(await selectFiles(node, loadedTorrent(ctx, infoHash), selected));
    },
    async moveInQueue(infoHashes, move) {
      // Complete torrents have no place in the queue: skipped, as both clients do.
      await node.queue.move(infoHashes.map(known), move);
      done(undefined);
    },

    settings: () => node.model.getSettings() as unknown as NodeSettings,
    setSettings: async (patch) => done((await node.model.setSettings(patch)) as unknown as NodeSettings),
    categories: () => node.model.listCategories(),
    addCategory: async (c) => done(await node.model.addCategory(c)),
    updateCategory: async (c) => done(await node.model.updateCategory(c.name, { savePath: c.savePath })),
    removeCategory: async (name) => done(await node.model.removeCategory(name)),
    tags() {
      const cache = summaryCache(node);
      cache.refresh();
      if (tagsInUse.generation !== cache.generation || tagsInUse.createdVersion !== createdTagsVersion) {
        tagsInUse = { generation: cache.generation, createdVersion: createdTagsVersion, tags: node.model.tags() };
      }
      return [...tagsInUse.tags];
    },
    createTags: async (tags) => done(void (await node.model.createTags(tags), createdTagsVersion++)),
    deleteTags: async (tags) => done(void (await node.model.deleteTags(tags), createdTagsVersion++)),

    transfer(maxAgeMs = 0) {
      const cache = summaryCache(node);
      cache.refresh();
      if (sums.generation !== cache.generation) {
        sums = { generation: cache.generation, downloadSpeed: 0, uploadSpeed: 0, sessionDownloaded: 0, sessionUploaded: 0, totalDownloaded: 0, totalUploaded: 0 };
        for (const r of cache.rows()) {
          sums.downloadSpeed += r.downloadSpeed;
          sums.uploadSpeed += r.uploadSpeed;
          sums.sessionDownloaded += r.downloaded;
          sums.sessionUploaded += r.uploaded;
          sums.totalDownloaded += r.totalDownloaded;
          sums.totalUploaded += r.totalUploaded;
        }
      }
      const { generation: _generation, ...totals } = sums;
      // The session's counts walk every torrent: a poller may take them up to maxAgeMs old.
      if (Date.now() - live.at > maxAgeMs) {
        const h = node.session.health();
        const loopback = reachabilityOf(ctx.bittorrentHost, 0) === 'local-only';
        live = { at: Date.now(), health: h, reachability: reachabilityOf(ctx.bittorrentHost, loopback || h.peers === 0 ? 0 : incomingPeers(node.session)) };
      }
      const h = live.health;

      return {
        ...totals,
        dhtEnabled: h.dhtEnabled,
        dhtNodes: h.dhtNodes,
        peers: h.peers,
        reachability: live.reachability,
        bittorrentPort: node.session.port,
        uptimeSeconds: Math.round((Date.now() - node.startedAt) / 1000),
      };
    },

    async freeSpace(pathInput) {
      if (typeof pathInput !== 'string' || pathInput === '' || pathInput.includes('\0')) throw badRequest('a path is needed');
      const path = isAbsolute(pathInput) ? pathInput : resolve(node.model.getSettings().downloadDir, pathInput);
      try {
        const s = await statfs(path);
        return { path, free: s.bavail * s.bsize, total: s.blocks * s.bsize };
      } catch (err) {
        throw badRequest(`no free space to report for ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    },

    rss: compatRss(ctx.rss),
    search: (query, signal) => node.content.search(query, signal),

    statusOf: httpStatusOf,
    changed: () => ctx.changed(),
  };
}

function qbSessionsIn(store: CompatSessionStore, state: CompatStateStore): NonNullable<CompatOps['qbSessions']> {
  return {
    start: (credential) => store.start('qbittorrent', credential, QB_IDLE_MS, QB_MAX_SESSIONS),
    use: (id) => store.use('qbittorrent', id, QB_IDLE_MS),
    end: (id) => store.end(id),
    // Failed logins counted by every member together: a balancer spreading them does not multiply the tries.
    isBanned: (address) => state.isBanned('qbittorrent', address),
    loginFailed: (address) => state.loginFailed('qbittorrent', address, QB_MAX_AUTH_FAILS, QB_BAN_MS),
    loginSucceeded: (address) => state.loginSucceeded('qbittorrent', address),
  };
}
