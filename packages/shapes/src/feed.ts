// The live feed (socket.io on the API's server, http/src/feed/live.ts): the events the node sends and
// the ones a client sends it, with their payloads.

import type { ListEntry, TorrentDetail } from './torrents.ts';
import type { Settings } from './settings.ts';
import type { MarketFeedEvent } from './market.ts';

/** `torrents`: the whole list, on connect and in answer to `torrents:resync`. */
export interface TorrentsEvent {
  torrents: ListEntry[];
}

/** `torrents:changes`: the rows that changed since the last send, whole, and the infohashes gone;
 *  at most once a second, soon after a poke, never empty. */
export interface TorrentsChangesEvent {
  updated: ListEntry[];
  removed: string[];
}

/** `torrent:<infohash>`: a subscribed torrent's detail every second, or null once it is removed. */
export type TorrentDetailEvent = TorrentDetail | null;

/** `settings`: the node's settings, whole, each time they change (whoever changed them: another
 *  page, the API, the CLI, a compatible client), so an open Settings form follows. */
export type SettingsEvent = Settings;

/** What the node sends, by event name. */
export interface FeedServerEvents {
  torrents: (e: TorrentsEvent) => void;
  settings: (e: SettingsEvent) => void;
  'torrents:changes': (e: TorrentsChangesEvent) => void;
  /** A market listing or order of this node changed (sold, bought, delivered, opened, refunded, delisted). */
  market: (e: MarketFeedEvent) => void;
  [torrent: `torrent:${string}`]: (e: TorrentDetailEvent) => void;
}

/** What a client sends, by event name: a full list again, and the torrents whose detail it watches. */
export interface FeedClientEvents {
  'torrents:resync': () => void;
  subscribe: (infoHash: string) => void;
  unsubscribe: (infoHash: string) => void;
}
