// @cascade/rss — the node's RSS reader: feeds, download rules and their matches (see src/service.ts).
// It sits above the node: the HTTP face makes an RssService over the node's state and add
// (`nodeAdd`) and adds its control RPCs (`rssRpc`); the node imports nothing of it.
export { RssService, type RssAdd, type RssAddRequest, type RssServiceOptions, type FeedView, type ItemView, type PreviewItem } from './src/service.ts';
export { rssRpc } from './src/rpc.ts';
export { nodeAdd, type NodeAddDeps, type RssNode } from './src/add.ts';
export type { RssDatabase, RssQueryable, RuleRecord, MatchRecord } from './src/store.ts';
export { parseFeed, FeedFormatError, type ParsedFeed, type ParsedItem } from './src/parse-feed.ts';
export { parseEpisodeFilter, matchesEpisodeFilter, episodeOf, episodeKey } from './src/episode.ts';
export { compileFilter, matchTitles, MatchTimeout } from './src/match.ts';
