// Seeding receipts and rewards as the API (/api/rewards, /api/torrents/:infoHash/registration), the
// `rewards.*` RPCs, `cascade chain` and the web app show them.

/** The node's seeding rewards. */
export interface Rewards {
  earnedBytes: number;
  claimedBytes: number;
  pendingBytes: number;
  /** The node account's token balance, in base units (18 decimals), as a decimal string. */
  balance: string;
  account: string;
  /** Token base units paid per byte served. */
  rewardPerByte: string;
  receipts: number;
}

/** What a claim of the held receipts did. */
export interface RewardClaim {
  /** null: nothing new to claim, no transaction sent. */
  tx: string | null;
  /** Bytes the pool paid for in this claim. */
  claimedBytes: number;
  /** Receipts left out, and why (the pool's error name or the node's reason). */
  skipped: { infoHash: string; downloader: string; reason: string }[];
}

/** Who registered a torrent in the content registry, if anyone. */
export type TorrentRegistration =
  | { registered: false; infoHash: string }
  | {
      registered: true;
      infoHash: string;
      /** The registering Ethereum account (0x…). */
      owner: string;
      /** The owner's did, from the metadata block when this node holds it. */
      did?: string | null;
      metadataCid: string;
      block: number;
      /** The metadata block names this very infohash; null: the block is not held here. */
      matches?: boolean | null;
      /** Registered by this node's account. */
      ours: boolean;
      /** The register call's transaction (null when it was already ours). */
      tx?: string | null;
    };
