// @cascade/shapes — the shapes Cascade's doors exchange, types only (see README.md).

// Torrents: the list entry, the detail view, search results, patches, queue moves, bulk actions.
export type {
  ListEntry,
  FileView,
  TransportCounts,
  PeerStats,
  PeerView,
  SourceBytes,
  TorrentDetail,
  StorageLocation,
  PieceMap,
  SearchRow,
  TorrentPatch,
  QueueMove,
  BulkAction,
  BulkRequest,
  BulkResult,
  BulkResponse,
  AddResult,
  PlainSourceView,
  PlainDownloadView,
} from './src/torrents.ts';

// Trackers: status, discovery report, the announce request.
export type {
  TrackerStatus,
  PeerAttempt,
  DiscoveryReport,
  AnnounceEvent,
  AnnounceCounts,
  AnnounceParams,
  LocalAnnounceRequest,
  LocalAnnounceReply,
} from './src/tracker.ts';

// Settings: the node's settings, categories, ICE servers.
export type { Settings, AltSpeedSchedule, SeedingLimitAction, PortMappingSetting, IceServer, IceServerSetting, Category } from './src/settings.ts';

// Network: the NAT, port mapping, ICE servers in force, private discovery.
export type { NatKind, PortMappingStatus, NetworkStatus, OnionStatus } from './src/network.ts';

// Who may use a node: roles, the sign-in challenge, who a request is, members.
export type { Role, CallerRole, SignInMethod, Challenge, WhoAmI, Member } from './src/auth.ts';

// RSS: feeds, items, rules, matches, previews, settings.
export type {
  RssParsedItem,
  RssFeedRecord,
  RssFeed,
  RssItemRecord,
  RssItem,
  RssRuleFields,
  RssRule,
  RssMatch,
  RssPreviewItem,
  RssSettings,
} from './src/rss.ts';

// Receipts and rewards.
export type { Rewards, RewardClaim, TorrentRegistration } from './src/receipts.ts';

// The live feed's events.
export type { TorrentsEvent, TorrentsChangesEvent, TorrentDetailEvent, FeedServerEvents, FeedClientEvents, SettingsEvent } from './src/feed.ts';

// A peer connection as a BEP 10 extension from outside the engine sees it (engine and identity).
export type { ExtensionPeer } from './src/extension.ts';

// A cluster of nodes on one database: its members and the replicas each torrent has (issue 42).
export type { ClusterMember, ClusterView, TorrentHolder } from './src/cluster.ts';

// The marketplace (issue 62): listings, orders and what selling and buying answer.
export type { MarketListing, MarketOrder, MarketOrderStatus, MarketSellRequest, MarketTxResult, MarketDeliverResult, MarketWalletTerms, MarketFeedEvent } from './src/market.ts';
