// RSS: feeds, download rules and their matches (see service.ts).
export { RssService, type RssAdd, type RssAddRequest, type FeedView, type ItemView, type PreviewItem } from './service.ts';
export { rssRpc } from './rpc.ts';
export { nodeAdd } from './add.ts';
export { parseFeed, FeedFormatError, type ParsedFeed, type ParsedItem } from './parse-feed.ts';
export { parseEpisodeFilter, matchesEpisodeFilter, episodeOf, episodeKey } from './episode.ts';
export { compileFilter, matchTitles, MatchTimeout } from './match.ts';
