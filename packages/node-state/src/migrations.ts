// The state's migrations, oldest first: one list for both engines, in SQLite's types (schema.ts's
// postgresDdl maps them for PostgreSQL). A schema change is a new entry at the end and a bump of
// SCHEMA_VERSION in schema.ts; an entry that shipped never changes.

/** MIGRATIONS[i] upgrades a schema at version i to version i + 1. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE torrents (
    info_hash      TEXT PRIMARY KEY,          -- 40 lowercase hex
    name           TEXT,                      -- unknown for a magnet until metadata arrives
    source_kind    TEXT NOT NULL CHECK (source_kind IN ('torrent', 'magnet')),
    torrent        BLOB,                      -- .torrent bytes when source_kind = 'torrent'
    magnet         TEXT,                      -- magnet URI or bare infohash otherwise
    save_path      TEXT NOT NULL,
    status         TEXT NOT NULL,             -- queued | downloading | seeding | paused | error
    error          TEXT,
    selected_files TEXT,                      -- JSON array of file indices; NULL = all
    length         INTEGER,
    piece_count    INTEGER,
    added_at       INTEGER NOT NULL,          -- ms since epoch
    completed_at   INTEGER
  );
  CREATE TABLE resume (
    info_hash  TEXT PRIMARY KEY,
    have       BLOB NOT NULL,                 -- BEP 3 bitfield of pieces verified on disk
    info       BLOB,                          -- raw info dict, so magnets resume without metadata
    files      TEXT,                          -- JSON [{length, mtimeMs}] when 'have' was saved
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE peers (
    address    TEXT PRIMARY KEY,              -- host:port
    peer_id    TEXT,
    score      REAL NOT NULL DEFAULT 0,
    bytes_up   INTEGER NOT NULL DEFAULT 0,
    bytes_down INTEGER NOT NULL DEFAULT 0,
    banned     INTEGER NOT NULL DEFAULT 0,
    ban_reason TEXT,
    last_seen  INTEGER NOT NULL
  );
  CREATE TABLE identity (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    peer_id     BLOB NOT NULL,                -- 20 bytes, stable across restarts
    private_key TEXT NOT NULL,                -- Ed25519, PKCS#8 PEM
    public_key  TEXT NOT NULL,                -- Ed25519, SPKI PEM
    created_at  INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE identity_ledger (
    did            TEXT PRIMARY KEY,          -- a did:key proved through the Cascade wire extension
    account        TEXT,                      -- its Ethereum account, as last proved
    verified_bytes INTEGER NOT NULL DEFAULT 0, -- bytes of pieces it sent us that passed the hash
    hash_failures  INTEGER NOT NULL DEFAULT 0, -- pieces it contributed to that failed the hash
    bans           INTEGER NOT NULL DEFAULT 0,
    first_seen     INTEGER NOT NULL,
    last_seen      INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE members (
    id       TEXT PRIMARY KEY,                -- a did:key, or an Ethereum address in lowercase
    role     TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    added_at INTEGER NOT NULL,
    added_by TEXT                             -- who added it: a did, an address, 'token' or 'claim'
  );
  CREATE UNIQUE INDEX one_owner ON members (role) WHERE role = 'owner';
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,              -- SHA-256 hex of the cookie value (the value is never stored)
    did        TEXT,                          -- who signed in: a did:key and/or an account (lowercase)
    address    TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE torrent_peers (                -- peers given by hand (add --peer, connect): see manual-peers.ts
    info_hash TEXT NOT NULL,
    address   TEXT NOT NULL,                  -- host:port as given
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (info_hash, address)
  );
  `,
  `
  -- RSS (@cascade/rss, packages/rss/src/store.ts): feeds, their items, download rules and the matches the rules took.
  CREATE TABLE rss_feeds (
    id               INTEGER PRIMARY KEY,
    url              TEXT NOT NULL UNIQUE,
    title            TEXT,                    -- the feed's own title, once read
    refresh_interval INTEGER,                 -- seconds; NULL = the global interval
    last_refresh_at  INTEGER,                 -- ms since epoch of the last attempt
    last_success_at  INTEGER,
    last_error       TEXT,                    -- why the last attempt failed; NULL after a success
    created_at       INTEGER NOT NULL
  );
  CREATE TABLE rss_items (
    feed_id       INTEGER NOT NULL REFERENCES rss_feeds (id) ON DELETE CASCADE,
    guid          TEXT NOT NULL,
    title         TEXT NOT NULL,
    torrent_url   TEXT,                       -- .torrent URL or magnet
    link          TEXT,
    published_at  INTEGER,
    size          INTEGER,
    read          INTEGER NOT NULL DEFAULT 0,
    first_seen_at INTEGER NOT NULL,
    PRIMARY KEY (feed_id, guid)
  );
  CREATE TABLE rss_rules (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1,
    must_contain     TEXT NOT NULL DEFAULT '',
    must_not_contain TEXT NOT NULL DEFAULT '',
    use_regex        INTEGER NOT NULL DEFAULT 0,
    episode_filter   TEXT NOT NULL DEFAULT '',
    smart_filter     INTEGER NOT NULL DEFAULT 0,
    feeds            TEXT NOT NULL DEFAULT '[]', -- JSON array of feed ids; [] = every feed
    category         TEXT,
    save_path        TEXT,
    tags             TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    add_paused       INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    created_at       INTEGER NOT NULL
  );
  CREATE TABLE rss_matches (                  -- an item a rule took: never taken twice
    id         INTEGER PRIMARY KEY,
    feed_id    INTEGER NOT NULL,              -- kept after the feed or rule is removed
    guid       TEXT NOT NULL,
    rule_id    INTEGER NOT NULL,
    rule_name  TEXT NOT NULL,
    title      TEXT NOT NULL,
    source     TEXT NOT NULL,                 -- the .torrent URL or magnet that was added
    info_hash  TEXT,
    episode    TEXT,                          -- smart filter key (S01E05, a date, …-REPACK)
    error      TEXT,                          -- the add failed; retried on later refreshes
    attempts   INTEGER NOT NULL DEFAULT 1,
    at         INTEGER NOT NULL,
    UNIQUE (feed_id, guid)
  );
  CREATE INDEX rss_matches_rule ON rss_matches (rule_id, episode);
  CREATE TABLE rss_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                       -- JSON
  );
  `,
  // 6: daily use (issue 20) — node settings, categories, and each torrent's own options. The node
  // model (src/model/) reads and writes these; see its README section for the meaning of each.
  `
  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,                   -- a key of Settings (model/settings.ts)
    value TEXT NOT NULL                       -- its JSON value; keys not stored take their default
  );
  CREATE TABLE categories (
    name       TEXT PRIMARY KEY,
    save_path  TEXT,                          -- absolute; NULL = the node's download dir
    created_at INTEGER NOT NULL
  );
  ALTER TABLE torrents ADD COLUMN category TEXT;                            -- a categories.name or NULL
  ALTER TABLE torrents ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';          -- JSON array of strings
  ALTER TABLE torrents ADD COLUMN queue_position INTEGER;                   -- order in the queue (lower first)
  ALTER TABLE torrents ADD COLUMN force_start INTEGER NOT NULL DEFAULT 0;   -- 1 = runs past the queue
  ALTER TABLE torrents ADD COLUMN download_limit INTEGER NOT NULL DEFAULT 0; -- bytes/s, 0 = none
  ALTER TABLE torrents ADD COLUMN upload_limit INTEGER NOT NULL DEFAULT 0;   -- bytes/s, 0 = none
  ALTER TABLE torrents ADD COLUMN ratio_limit REAL;                         -- NULL = global, -1 = none
  ALTER TABLE torrents ADD COLUMN seeding_time_limit INTEGER;               -- s; NULL = global, -1 = none
  ALTER TABLE torrents ADD COLUMN seeding_time INTEGER NOT NULL DEFAULT 0;  -- s spent seeding, all runs
  ALTER TABLE torrents ADD COLUMN total_downloaded INTEGER NOT NULL DEFAULT 0; -- bytes, all runs (ratio)
  ALTER TABLE torrents ADD COLUMN total_uploaded INTEGER NOT NULL DEFAULT 0;   -- bytes, all runs (ratio)
  UPDATE torrents SET queue_position = (SELECT count(*) FROM torrents t2
    WHERE t2.added_at < torrents.added_at OR (t2.added_at = torrents.added_at AND t2.info_hash <= torrents.info_hash));
  `,
  // 7: every add takes MAX(queue_position) + 1 (the bottom of the queue): a table scan per add
  // without this index, which made adding 10,000 torrents quadratic (10 s of scans).
  `
  CREATE INDEX torrents_queue_position ON torrents (queue_position);
  `,
  // 8: private shares (issue 24): the content keys of the shares this node can read.
  `
  CREATE TABLE share_keys (
    info_hash TEXT PRIMARY KEY,
    key       BLOB NOT NULL,                  -- the share's 32-byte content key
    origin    TEXT NOT NULL CHECK (origin IN ('shared', 'link', 'envelope')),
    written   BLOB                            -- bitfield of chunks whose plaintext is written
  );
  `,
  // 9: private discovery (issue 14): the torrent announces and looks up through onion circuits only.
  `
  ALTER TABLE torrents ADD COLUMN private_discovery INTEGER NOT NULL DEFAULT 0;
  `,
  // 10: content ids (issue 15): each complete file's SHA-256 and CID, and the DHT publishers this
  // node caught lying (local reputation: their records are ignored).
  `
  CREATE TABLE file_cids (
    info_hash  TEXT NOT NULL,                 -- torrents.info_hash
    file_index INTEGER NOT NULL,              -- index in the metainfo's file list
    sha256     BLOB NOT NULL,                 -- 32 bytes, of the file's whole content
    cid        TEXT NOT NULL,                 -- CIDv1 raw sha2-256 (bafkrei…)
    PRIMARY KEY (info_hash, file_index)
  );
  CREATE INDEX file_cids_cid ON file_cids (cid);
  CREATE TABLE dht_blames (
    publisher TEXT PRIMARY KEY,               -- did:key
    reason    TEXT NOT NULL,
    at        INTEGER NOT NULL                -- ms since epoch
  );
  `,
  // 11: a torrent's mirrors (issue 15: --mirror, POST /api/torrents {mirrors}), drawn from in every
  // run, not only the one they were given in: a JSON list of http(s)/ftp URLs, NULL for none.
  `
  ALTER TABLE torrents ADD COLUMN mirrors TEXT;
  `,
  // 12: roles (issue 44): admins manage members, viewers only read (dashboards). SQLite cannot widen
  // a CHECK in place: the table is rebuilt with its rows.
  `
  CREATE TABLE members_v12 (
    id       TEXT PRIMARY KEY,
    role     TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    added_at INTEGER NOT NULL,
    added_by TEXT
  );
  INSERT INTO members_v12 (id, role, added_at, added_by) SELECT id, role, added_at, added_by FROM members;
  DROP TABLE members;
  ALTER TABLE members_v12 RENAME TO members;
  CREATE UNIQUE INDEX one_owner ON members (role) WHERE role = 'owner';
  `,
  // 13: every new session first drops the expired ones and, past the cap, the oldest: without these
  // each was a scan of the whole table (50,000 sign-ins took minutes: auth.test.ts's sessions case).
  `
  CREATE INDEX sessions_expires_at ON sessions (expires_at);
  CREATE INDEX sessions_created_at ON sessions (created_at);
  `,
  // 14: what remotes edit on a torrent (issue 45, qBittorrent's and Transmission's APIs): the name
  // the user gave it (NULL = its own), its tracker tiers as edited (a JSON list of lists of URLs,
  // NULL = as added), and its renamed files (a JSON object: file index → path components, -1 the
  // torrent's folder; NULL = none). Replayed whenever the torrent is loaded. And tags created ahead
  // of any torrent (qBittorrent's createTags): listed with those torrents carry.
  `
  CREATE TABLE created_tags (name TEXT PRIMARY KEY);
  ALTER TABLE torrents ADD COLUMN display_name TEXT;
  ALTER TABLE torrents ADD COLUMN tracker_tiers TEXT;
  ALTER TABLE torrents ADD COLUMN renamed_files TEXT;
  `,
  // 15: the order a torrent's pieces come in (issue 43 item 7): sequential, first and last pieces
  // first, file priorities — a JSON object, NULL = the normal order. Replayed when it loads.
  `
  ALTER TABLE torrents ADD COLUMN piece_order TEXT;
  `,
  // 16: seeding receipts (@cascade/rewards' receipt-store.ts) move into the state from their own file
  // (<state>/chain/receipts.db, copied once at start by @cascade/rewards' old-receipts.ts), so PostgreSQL can hold
  // them too. Amounts are decimal text: they are uint256 on the chain.
  `
  CREATE TABLE receipts_sent (                -- as a downloader: the cumulative bytes signed for each seeder
    info_hash  TEXT NOT NULL,
    seeder     TEXT NOT NULL,                 -- its account, lowercase
    cumulative INTEGER NOT NULL,
    PRIMARY KEY (info_hash, seeder)
  );
  CREATE TABLE receipts_held (                -- as a seeder: each downloader's newest valid receipt
    info_hash   TEXT NOT NULL,
    downloader  TEXT NOT NULL,                -- its account, lowercase
    seeder      TEXT NOT NULL,
    cumulative  TEXT NOT NULL,
    expiry      TEXT NOT NULL,
    chain_id    TEXT NOT NULL,
    pool        TEXT NOT NULL,
    signature   TEXT NOT NULL,
    received_at INTEGER NOT NULL,             -- ms since epoch
    paid        TEXT NOT NULL DEFAULT '0',    -- bytes of it the pool paid for, as last read
    PRIMARY KEY (info_hash, downloader)
  );
  `,
  // 17: the API token of a node on PostgreSQL (issue 42: every member of a cluster takes the same
  // one). A node on SQLite keeps it in <state-dir>/api-token as before and leaves this empty.
  `
  CREATE TABLE api_token (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    token      TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 18: which node may use a shared database (state/database-lease.ts): one, until clusters come
  // (docs/cluster.md). A node on SQLite leaves it empty (its state dir's control endpoint says).
  `
  CREATE TABLE node_lease (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT NOT NULL,                -- the holder's instance id (<state-dir>/instance-id)
    description TEXT NOT NULL,                -- "pid 123 on host h, state dir /x": for messages
    epoch       INTEGER NOT NULL,             -- +1 at every take-over: a renewal of an older epoch fails
    renewed_at  INTEGER NOT NULL,             -- ms, the database's clock
    expires_at  INTEGER NOT NULL              -- ms, the database's clock
  );
  `,
  // 19: the per-member split (docs/cluster.md, issue 42 step 2). What is one machine's truth is
  // keyed by member id ('' = a single node; a cluster member's did, state/member-rows.ts renames
  // '' to it): its key and peer id, its resume records (the pieces on its disk), the peers and
  // identities it met, the publishers it caught lying, the receipts signed by or for its account,
  // which chunks of a private share it decrypted to its disk, and a torrent's running status here
  // (torrent_holders; torrents.status/error/completed_at are still written, a member reads its
  // holder row). A key changes: the tables are rebuilt (SQLite cannot change one in place).
  `
  CREATE TABLE identity_v19 (
    member_id   TEXT NOT NULL DEFAULT '' PRIMARY KEY,
    peer_id     BLOB NOT NULL,
    private_key TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
  );
  INSERT INTO identity_v19 (member_id, peer_id, private_key, public_key, created_at) SELECT '', peer_id, private_key, public_key, created_at FROM identity;
  DROP TABLE identity;
  ALTER TABLE identity_v19 RENAME TO identity;
  CREATE TABLE resume_v19 (
    member_id  TEXT NOT NULL DEFAULT '',
    info_hash  TEXT NOT NULL,
    have       BLOB NOT NULL,
    info       BLOB,
    files      TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (member_id, info_hash)
  );
  INSERT INTO resume_v19 (member_id, info_hash, have, info, files, updated_at) SELECT '', info_hash, have, info, files, updated_at FROM resume;
  DROP TABLE resume;
  ALTER TABLE resume_v19 RENAME TO resume;
  CREATE TABLE peers_v19 (
    member_id  TEXT NOT NULL DEFAULT '',
    address    TEXT NOT NULL,
    peer_id    TEXT,
    score      REAL NOT NULL DEFAULT 0,
    bytes_up   INTEGER NOT NULL DEFAULT 0,
    bytes_down INTEGER NOT NULL DEFAULT 0,
    banned     INTEGER NOT NULL DEFAULT 0,
    ban_reason TEXT,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (member_id, address)
  );
  INSERT INTO peers_v19 (member_id, address, peer_id, score, bytes_up, bytes_down, banned, ban_reason, last_seen)
    SELECT '', address, peer_id, score, bytes_up, bytes_down, banned, ban_reason, last_seen FROM peers;
  DROP TABLE peers;
  ALTER TABLE peers_v19 RENAME TO peers;
  CREATE TABLE identity_ledger_v19 (
    member_id      TEXT NOT NULL DEFAULT '',
    did            TEXT NOT NULL,
    account        TEXT,
    verified_bytes INTEGER NOT NULL DEFAULT 0,
    hash_failures  INTEGER NOT NULL DEFAULT 0,
    bans           INTEGER NOT NULL DEFAULT 0,
    first_seen     INTEGER NOT NULL,
    last_seen      INTEGER NOT NULL,
    PRIMARY KEY (member_id, did)
  );
  INSERT INTO identity_ledger_v19 (member_id, did, account, verified_bytes, hash_failures, bans, first_seen, last_seen)
    SELECT '', did, account, verified_bytes, hash_failures, bans, first_seen, last_seen FROM identity_ledger;
  DROP TABLE identity_ledger;
  ALTER TABLE identity_ledger_v19 RENAME TO identity_ledger;
  CREATE TABLE dht_blames_v19 (
    member_id TEXT NOT NULL DEFAULT '',
    publisher TEXT NOT NULL,
    reason    TEXT NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (member_id, publisher)
  );
  INSERT INTO dht_blames_v19 (member_id, publisher, reason, at) SELECT '', publisher, reason, at FROM dht_blames;
  DROP TABLE dht_blames;
  ALTER TABLE dht_blames_v19 RENAME TO dht_blames;
  CREATE TABLE receipts_sent_v19 (
    member_id  TEXT NOT NULL DEFAULT '',
    info_hash  TEXT NOT NULL,
    seeder     TEXT NOT NULL,
    cumulative INTEGER NOT NULL,
    PRIMARY KEY (member_id, info_hash, seeder)
  );
  INSERT INTO receipts_sent_v19 (member_id, info_hash, seeder, cumulative) SELECT '', info_hash, seeder, cumulative FROM receipts_sent;
  DROP TABLE receipts_sent;
  ALTER TABLE receipts_sent_v19 RENAME TO receipts_sent;
  CREATE TABLE receipts_held_v19 (
    member_id   TEXT NOT NULL DEFAULT '',
    info_hash   TEXT NOT NULL,
    downloader  TEXT NOT NULL,
    seeder      TEXT NOT NULL,
    cumulative  TEXT NOT NULL,
    expiry      TEXT NOT NULL,
    chain_id    TEXT NOT NULL,
    pool        TEXT NOT NULL,
    signature   TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    paid        TEXT NOT NULL DEFAULT '0',
    PRIMARY KEY (member_id, info_hash, downloader)
  );
  INSERT INTO receipts_held_v19 (member_id, info_hash, downloader, seeder, cumulative, expiry, chain_id, pool, signature, received_at, paid)
    SELECT '', info_hash, downloader, seeder, cumulative, expiry, chain_id, pool, signature, received_at, paid FROM receipts_held;
  DROP TABLE receipts_held;
  ALTER TABLE receipts_held_v19 RENAME TO receipts_held;
  CREATE TABLE share_writes (                 -- chunks of a private share whose plaintext is on this member's disk
    member_id TEXT NOT NULL DEFAULT '',
    info_hash TEXT NOT NULL,
    written   BLOB NOT NULL,                  -- bitfield of chunks
    PRIMARY KEY (member_id, info_hash)
  );
  INSERT INTO share_writes (member_id, info_hash, written) SELECT '', info_hash, written FROM share_keys WHERE written IS NOT NULL;
  ALTER TABLE share_keys DROP COLUMN written;
  CREATE TABLE torrent_holders (              -- a torrent on a member's disk: its running status there
    info_hash    TEXT NOT NULL,
    member_id    TEXT NOT NULL DEFAULT '',
    epoch        INTEGER NOT NULL DEFAULT 0,  -- the member's lease epoch when it took the torrent (step 3)
    state        TEXT NOT NULL,               -- queued | downloading | seeding | paused | error
    error        TEXT,
    completed_at INTEGER,                     -- ms: when it last finished downloading here
    progress     REAL NOT NULL DEFAULT 0,     -- verified pieces / pieces, as of the last resume save
    updated_at   INTEGER NOT NULL,            -- ms since epoch
    PRIMARY KEY (info_hash, member_id)
  );
  CREATE INDEX torrent_holders_member ON torrent_holders (member_id);
  INSERT INTO torrent_holders (info_hash, member_id, epoch, state, error, completed_at, progress, updated_at)
    SELECT info_hash, '', 0, status, error, completed_at, CASE WHEN status = 'seeding' THEN 1 ELSE 0 END, COALESCE(completed_at, added_at) FROM torrents;
  `,
  // 20: cluster membership (issue 42 step 3, cluster/cluster-store.ts): each member's lease and the
  // figures it renews it with, and the coordinator's one-row lease. Times are ms on the database's
  // clock. Empty on a node that is not in a cluster.
  `
  CREATE TABLE cluster_members (
    id            TEXT PRIMARY KEY,           -- the member's node key as a did:key
    url           TEXT NOT NULL,              -- its HTTP address as the others reach it (--cluster-url)
    instance      TEXT NOT NULL,              -- its state dir's instance id: the same member restarted rejoins at once
    epoch         INTEGER NOT NULL,           -- +1 at each join and when declared dead: a renewal of an older one fails (fencing)
    lease_until   INTEGER NOT NULL,           -- alive while the database's clock is not past it
    last_seen     INTEGER NOT NULL,           -- its last renewal
    torrents      INTEGER NOT NULL DEFAULT 0,
    free_bytes    INTEGER NOT NULL DEFAULT 0,
    download_rate INTEGER NOT NULL DEFAULT 0, -- bytes/s
    upload_rate   INTEGER NOT NULL DEFAULT 0,
    bt_port       INTEGER,                    -- its BitTorrent port (holders are peers of each other: step 5)
    started_at    INTEGER NOT NULL,           -- when it joined
    dead_at       INTEGER                     -- when the coordinator declared it dead; NULL while it is not
  );
  CREATE TABLE cluster_coordinator (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    member_id   TEXT NOT NULL,                -- cluster_members.id
    epoch       INTEGER NOT NULL,             -- +1 at every take-over
    lease_until INTEGER NOT NULL
  );
  `,
  // 21: where each holder keeps its copy (issue 42 step 5, docs/cluster.md "Replicas and
  // placement"): members' data directories are their own, so a torrent placed on a member is saved
  // under that member's download dir, not the adder's path. NULL on a row the coordinator placed and
  // its member has not taken yet; the rows before this one keep their copy at the library's path.
  `
  ALTER TABLE torrent_holders ADD COLUMN save_path TEXT;
  UPDATE torrent_holders SET save_path = (SELECT t.save_path FROM torrents t WHERE t.info_hash = torrent_holders.info_hash);
  `,
  // 22: the compatible APIs' sessions (qBittorrent's SID cookie) in the state, shared by a
  // cluster's members so a balancer needs no stickiness (@cascade/compat's src/stores/sessions.ts). Only a hash of
  // the cookie is kept, as for sign-in sessions.
  `
  CREATE TABLE compat_sessions (
    token_hash TEXT PRIMARY KEY,              -- SHA-256 hex of the cookie value
    api        TEXT NOT NULL,                 -- which API's session: qbittorrent
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL               -- ms; refreshed at most once a minute; idle past the API's timeout ends it
  );
  CREATE INDEX compat_sessions_last_seen ON compat_sessions (api, last_seen);
  `,
  // 23: a save path moved through any member moves every holder's own copy (issue 42, docs/cluster.md
  // "Replicas and placement"): the path asked, as given (a relative one is under each member's own
  // download dir), is left on each other holder's row for that holder to move its copy to; what
  // failed there is kept for the torrent's detail.
  // And what the compatible APIs remember beside the settings, so every member of a cluster answers
  // the same (@cascade/compat's src/stores/state.ts): Transmission's values shown for limits that are off,
  // qBittorrent's searches and search plugin, failed logins by address (qBittorrent's ban), and
  // Transmission's torrent ids.
  `
  ALTER TABLE torrent_holders ADD COLUMN move_to TEXT;   -- a move asked through another member, not done yet here; NULL: none
  ALTER TABLE torrent_holders ADD COLUMN move_error TEXT; -- why the last move asked failed here; NULL: it did not
  CREATE TABLE compat_state (
    api        TEXT NOT NULL,                 -- transmission | qbittorrent
    name       TEXT NOT NULL,                 -- what it is (a search's name carries its session's hash)
    value      TEXT NOT NULL,                 -- JSON
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (api, name)
  );
  CREATE TABLE compat_torrent_ids (           -- Transmission's small torrent ids, the same through every member
    api       TEXT NOT NULL,
    info_hash TEXT NOT NULL,
    id        INTEGER NOT NULL,                -- never given to another torrent: rows stay after a removal
    PRIMARY KEY (api, info_hash),
    UNIQUE (api, id)
  );
  CREATE TABLE compat_login_failures (
    api          TEXT NOT NULL,
    address      TEXT NOT NULL,               -- the client's IP address
    failures     INTEGER NOT NULL,            -- failed logins in a row
    banned_until INTEGER NOT NULL,            -- ms; 0: not banned
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (api, address)
  );
  `,
  // 24: the credential each compatible API session was opened with (issue 65, compat's src/stores/sessions.ts):
  // one opened with a token since rotated ends. Sessions from before say none and end too.
  `
  ALTER TABLE compat_sessions ADD COLUMN credential TEXT NOT NULL DEFAULT ''; -- the API token's generation (ApiToken.generation)
  `,
  // 25: each complete file's UnixFS CID beside its SHA-256 one (issue 61, docs/storage/ipfs.md).
  `
  ALTER TABLE file_cids ADD COLUMN unixfs TEXT;  -- the CID @helia/unixfs gives the bytes by default; NULL: not computed yet
  ALTER TABLE file_cids ADD COLUMN chunks BLOB;  -- each 1 MiB chunk's SHA-256 (32 bytes each): the DAG is rebuilt from them
  CREATE INDEX file_cids_unixfs ON file_cids (unixfs);
  `,
  // 26: a torrent's super-seeding switch (BEP 16, issue 60; engine's swarm/super-seed.ts).
  `
  ALTER TABLE torrents ADD COLUMN super_seeding INTEGER NOT NULL DEFAULT 0;  -- 1 = super-seeds while complete
  `,
  // 27: a removal's tombstone keeps the names the torrent's files had then (torrents.renamed_files):
  // a holder down at the removal deletes its copy by them when back, the library's row being gone
  // (before, by the .torrent's names alone: a renamed file stayed; issue 63). And the remover's own
  // keeps a private share's plaintext (its folder or file): a kill before it went left it for good.
  `
  ALTER TABLE torrent_holders ADD COLUMN renamed_files TEXT;  -- JSON as torrents.renamed_files, on a removal's tombstone; NULL otherwise
  ALTER TABLE torrent_holders ADD COLUMN plaintext_path TEXT; -- a private share's plaintext, absolute, on the remover's own tombstone; NULL otherwise
  `,
];
