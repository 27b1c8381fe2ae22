// Where a torrent finds peers and says it is there: its trackers (v1, and a hybrid's v2 hash too),
// the DHT (or private discovery's lookup for a hidden torrent), local discovery; its web seeds and
// mirrors (BEP 19: HTTP sources of its pieces, from the metainfo or added); what its tracker
// clients read of it (AnnouncingTorrent) and the tiers a remote edits. Torrent (torrent.ts) extends it.

import type { DiscoveryReport, TrackerStatus } from '../api.ts';
import { bytesLeft } from './torrent-report.ts';
import { TorrentHashes } from './torrent-hashes.ts';
import { toHex } from '../encoding/hex.ts';
import { sharedTiers } from '../discovery/shared-tiers.ts';
import { TorrentTrackerOptions } from '../discovery/torrent-tracker-options.ts';
import type { TrackerStats } from '../discovery/tracker-client.ts';
import { peerIdLike } from '../wire/peer-id.ts';
import { webSeedsFor, type WebSeedHost } from '../swarm/webseed.ts';

export abstract class TorrentDiscovery extends TorrentHashes {
  /** Announce tiers, as added or as a remote last set them (setTrackers). */
  protected trackerUrls: string[][] = [];

  protected startDiscovery(): void {
    this.startTrackers();
    this.ctx.lsd?.join(this);
    if (this.dhtAllowed()) {
      // Seeds take their DHT turn as it comes round (spread over the interval); a torrent that
      // wants data looks for peers at once.
      const wantsData = !this.picker?.done;
      this.ctx.scheduler.joinDht(this, !wantsData);
      if (wantsData) this.dhtRound();
    }
  }

  protected startTrackers(): void {
    const hidden = this.opts.privateDiscovery === true;
    if (this.trackerUrls.length > 0 && !this.trackerClient) {
      // Hidden: a peer id of this torrent's own (the session's would link its torrents at the
      // trackers) and port 0, which Cascade trackers answer without listing anyone.
      const peerId = hidden ? peerIdLike(this.ctx.peerId) : this.ctx.peerId;
      const tracker = (infoHash: Uint8Array, infoHashHex?: string) =>
        this.ctx.createTracker(new TorrentTrackerOptions(this, { infoHash, infoHashHex, peerId, hidden, tiers: this.trackerUrls, pacer: this.ctx.scheduler.announces }), hidden);
      // The metainfo's own copy of the id where it has one (the getter makes a new array each time),
      // and this torrent's own hex string (the WebRTC hooks keep it).
      this.trackerClient = tracker(this.metainfo?.infoHashHex === this.infoHashHex ? this.metainfo.infoHash : this.infoHash, this.infoHashHex);
      this.trackerClient.start();
      // A hybrid torrent's v2 peers look for it under its truncated v2 hash: announce both, as
      // libtorrent does (BEP 52).
      const v2 = this.handshakeIds()[1];
      if (v2) (this.trackerClientV2 = tracker(v2)).start();
    }
  }

  trackerStats(): TrackerStats {
    // Before metadata `left` is unknown; 0 would make trackers take us for a seed and hand us no
    // seeds (a WebSocket tracker would not even relay our offers to them).
    const left = bytesLeft(this.picker, this.metainfo);
    return { uploaded: this.sessionUploaded, downloaded: this.sessionDownloaded, left: this.metainfo ? left : Math.max(left, 1) };
  }

  trackerStatusChanged(): void {
    this.touch();
  }

  announcePort(): number {
    return this.ctx.port();
  }

  /** The DHT is for public torrents; a hidden one looks up through private discovery only. */
  protected dhtAllowed(): boolean {
    if (this.metainfo?.private) return false;
    return this.opts.privateDiscovery ? !!this.ctx.privateDiscovery?.dhtLookup : !!this.ctx.dht;
  }

  dhtRound(): void {
    if (!this.running || !this.dhtAllowed()) return;
    const lookup = this.opts.privateDiscovery ? this.ctx.privateDiscovery?.dhtLookup : undefined;
    if (lookup) {
      this.discoveryLog.dhtLookup();
      lookup(this.infoHashHex).then(
        (peers) => {
          this.discoveryLog.dhtPeers(peers.length);
          peers.forEach((p) => this.addPeer(p, 'dht'));
        },
        () => {},
      );
      return;
    }
    const dht = this.ctx.dht;
    if (!dht) return;
    // A hybrid torrent is looked up and announced under its v1 and its truncated v2 hash.
    for (const id of this.handshakeIds()) {
      const hex = toHex(id);
      this.discoveryLog.dhtLookup();
      dht.lookup(hex, (peers) => {
        this.discoveryLog.dhtPeers(peers.length);
        peers.forEach((p) => this.addPeer(p, 'dht'));
      });
      dht.announce(hex, this.ctx.port()).catch(() => {});
    }
  }

  protected async stopTrackers(): Promise<void> {
    const clients = [this.trackerClient, this.trackerClientV2];
    this.trackerClient = this.trackerClientV2 = undefined;
    await Promise.all(clients.map((c) => c?.stop().catch(() => {})));
  }

  trackers(): TrackerStatus[] {
    return this.trackerClient?.status() ?? [];
  }

  firstTrackerUrl(): string | undefined {
    return this.trackerClient?.firstUrl();
  }

  discovery(): DiscoveryReport {
    return this.discoveryLog.report(this.trackers(), this.metainfo?.private ? undefined : this.ctx.dht, this.lsdAllowed() && this.ctx.lsd?.enabled() === true);
  }

  announce(): void {
    this.trackerClient?.announce();
    this.trackerClientV2?.announce();
    this.dhtRound();
  }

  trackerList(): string[][] {
    return this.trackerUrls.map((t) => [...t]);
  }

  async setTrackers(tiers: string[][]): Promise<void> {
    this.trackerUrls = sharedTiers(tiers.map((t) => t.filter((u) => typeof u === 'string' && u !== '')).filter((t) => t.length > 0));
    await this.stopTrackers();
    if (this.running && !this.closed) this.startTrackers();
    this.touch();
  }

  protected hasWebSeedsRunning(): boolean {
    return this.webSeeds?.some((w) => w.running) ?? false;
  }

  protected startWebSeeds(): void {
    const meta = this.metainfo;
    if (!meta || !this.picker || this.picker.done || this.state === 'paused' || this.closed) return;
    if (!this.webSeeds && (this.webSeedUrls?.length ?? 0) + meta.urlList.length > 0) {
      const host: WebSeedHost = {
        picker: () => this.picker,
        active: () => !this.closed && this.state !== 'paused' && this.state !== 'error',
        isBanned: (key) => this.ctx.isBanned(key), limit: () => this.throttle.down,
        deliver: (_seed, index, begin, block) => this.acceptBlock(_seed.key, undefined, index, begin, block),
        warn: (message) => this.emit('warning', message),
      };
      this.webSeeds = webSeedsFor([...meta.urlList, ...(this.webSeedUrls ?? [])], meta, host, this.ctx);
    }
    for (const w of this.webSeeds ?? []) w.start();
  }
}
