// A torrent's public metadata as a content-addressed block: DAG-JSON, CIDv1 (sha2-256). Any IPFS
// client can fetch it by CID from a node that holds it and check the bytes against the CID.
import * as dagJson from '@ipld/dag-json';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';

export interface TorrentMetadata {
  /** Format of this block; readers refuse versions they do not know. */
  v: 1;
  infoHash: string;
  name: string;
  /** Files below the torrent's name (pad files left out), with their sizes in bytes. */
  files: { path: string; length: number }[];
  length: number;
  magnet: string;
  description?: string;
  /** The registering owner's did:key. */
  owner: string;
}

export interface MetadataBlock {
  cid: string;
  bytes: Uint8Array;
}

export async function metadataBlock(meta: TorrentMetadata): Promise<MetadataBlock> {
  const bytes = dagJson.encode(meta);
  const cid = await dagJsonCid(bytes);
  return { cid: cid.toString(), bytes };
}

/** The block's metadata if `bytes` hash to `cid` and decode as version 1; else throws why. */
export async function readMetadataBlock(cid: string, bytes: Uint8Array): Promise<TorrentMetadata> {
  const want = CID.parse(cid);
  if (want.code !== dagJson.code) throw new Error(`${cid} is not a DAG-JSON block`);
  const got = await dagJsonCid(bytes);
  if (!got.equals(want)) throw new Error(`the block does not hash to ${cid}`);
  const meta = dagJson.decode(bytes) as TorrentMetadata;
  if (meta.v !== 1) throw new Error(`unknown metadata version ${String(meta.v)}`);
  return meta;
}

/** The CIDv1 (dag-json, sha2-256) of a block's bytes: what any IPFS node computes for them. */
export async function dagJsonCid(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(dagJson.code, await sha256.digest(bytes));
}
