// @cascade/sources/guarded: fetching what a user or a torrent names without letting it reach this
// machine or its LAN (the SSRF guard): address checks, pinned connections, capped bodies. Node.
export { isPrivateAddress, resolveAllowed, UrlRefused, type PrivateAllowance } from './src/guarded/url-guard.ts';
export { FetchError, MAX_REDIRECTS, MAX_TORRENT_FILE, fetchCapped, fetchTorrentFile, guardedRequest, type FetchCappedOptions, type FetchTorrentOptions } from './src/guarded/fetch-capped.ts';
export { guardedFetch, guardedSource } from './src/guarded/guarded-fetch.ts';
export { privateTorrentUrlsFor, torrentUrlGuard } from './src/guarded/torrent-url-guard.ts';
