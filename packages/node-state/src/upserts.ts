// StateDB's upserts in the SQL both engines run (store.ts's dialect): the existing row named by its
// table (PostgreSQL finds a bare column in DO UPDATE ambiguous beside `excluded`), the larger of two
// values by CASE (SQLite's two-argument MAX is PostgreSQL's GREATEST), ON CONFLICT … DO NOTHING for
// INSERT OR IGNORE. store-cases/upserts.ts runs them on both.

/** A torrent added, or re-added: see TorrentRecords.add (its parameters: torrent-writes.ts upsertParams). 13 parameters. */
export const UPSERT_TORRENT = `
  INSERT INTO torrents (info_hash, name, source_kind, torrent, magnet, save_path, status, selected_files,
                        length, piece_count, added_at, private_discovery, mirrors, queue_position)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(queue_position), 0) + 1 FROM torrents))
  ON CONFLICT (info_hash) DO UPDATE SET
    name = COALESCE(excluded.name, torrents.name),
    -- never trade .torrent bytes for a magnet: the bytes carry trackers and metadata
    source_kind = CASE WHEN excluded.source_kind = 'torrent' THEN 'torrent' ELSE torrents.source_kind END,
    torrent = COALESCE(excluded.torrent, torrents.torrent),
    magnet = COALESCE(torrents.magnet, excluded.magnet),
    save_path = excluded.save_path,
    status = excluded.status,
    error = NULL,
    selected_files = excluded.selected_files,
    length = COALESCE(excluded.length, torrents.length),
    piece_count = COALESCE(excluded.piece_count, torrents.piece_count),
    -- once hidden, always hidden: re-adding without the flag must not start announcing openly
    private_discovery = CASE WHEN excluded.private_discovery > torrents.private_discovery THEN excluded.private_discovery ELSE torrents.private_discovery END,
    mirrors = COALESCE(excluded.mirrors, torrents.mirrors)`;

/** A member's key pair, made once: another process's, made meanwhile, wins. 5 parameters: the
 *  member id first. */
export const INSERT_IDENTITY = `
  INSERT INTO identity (member_id, peer_id, private_key, public_key, created_at) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (member_id) DO NOTHING`;

/** An identity's reputation deltas added up, in one member's ledger. 8 parameters: the member id first. */
export const UPSERT_IDENTITY_LEDGER = `
  INSERT INTO identity_ledger (member_id, did, account, verified_bytes, hash_failures, bans, first_seen, last_seen)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (member_id, did) DO UPDATE SET
    account = COALESCE(excluded.account, identity_ledger.account),
    verified_bytes = identity_ledger.verified_bytes + excluded.verified_bytes,
    hash_failures = identity_ledger.hash_failures + excluded.hash_failures,
    bans = identity_ledger.bans + excluded.bans,
    last_seen = CASE WHEN excluded.last_seen > identity_ledger.last_seen THEN excluded.last_seen ELSE identity_ledger.last_seen END`;

/** A peer's traffic and ban deltas added up, in one member's ledger. 9 parameters: the member id first. */
export const UPSERT_PEER = `
  INSERT INTO peers (member_id, address, peer_id, score, bytes_up, bytes_down, banned, ban_reason, last_seen)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (member_id, address) DO UPDATE SET
    peer_id = COALESCE(excluded.peer_id, peers.peer_id),
    score = peers.score + excluded.score,
    bytes_up = peers.bytes_up + excluded.bytes_up,
    bytes_down = peers.bytes_down + excluded.bytes_down,
    banned = CASE WHEN excluded.banned > peers.banned THEN excluded.banned ELSE peers.banned END,
    ban_reason = COALESCE(excluded.ban_reason, peers.ban_reason),
    last_seen = CASE WHEN excluded.last_seen > peers.last_seen THEN excluded.last_seen ELSE peers.last_seen END`;
