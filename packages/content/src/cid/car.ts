// CARv1 framing (https://ipld.io/specs/transport/car/carv1/), written by hand so a CAR streams block by
// block with nothing buffered: the header is a DAG-CBOR map {roots: [root], version: 1} — one fixed
// shape, encoded here byte by byte in DAG-CBOR's canonical key order ("roots" before "version") —
// and each block is varint(length of CID + data), the CID's bytes, the data.
import type { CID } from 'multiformats/cid';
import { varint } from 'multiformats';

const utf8 = new TextEncoder();

function withLength(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(varint.encodingLength(body.length) + body.length);
  varint.encodeTo(body.length, out, 0);
  out.set(body, varint.encodingLength(body.length));
  return out;
}

/** A CARv1 header naming `root`. */
export function carHeader(root: CID): Uint8Array {
  const link = new Uint8Array(1 + root.bytes.length);
  link.set(root.bytes, 1); // a CID in DAG-CBOR: tag 42 over 0x00 then its bytes
  const len = link.length;
  const bytesHead = len < 24 ? [0x40 + len] : len < 256 ? [0x58, len] : [0x59, len >> 8, len & 0xff];
  const cbor = new Uint8Array([0xa2, 0x65, ...utf8.encode('roots'), 0x81, 0xd8, 0x2a, ...bytesHead, ...link, 0x67, ...utf8.encode('version'), 0x01]);
  return withLength(cbor);
}

/** One block's frame: its length prefix and CID (the data follows, not copied). */
export function carBlockHead(cid: CID, dataLength: number): Uint8Array {
  const n = cid.bytes.length + dataLength;
  const out = new Uint8Array(varint.encodingLength(n) + cid.bytes.length);
  varint.encodeTo(n, out, 0);
  out.set(cid.bytes, varint.encodingLength(n));
  return out;
}

/** The media type a trustless gateway answers a CAR with (CARv1, depth-first, no duplicates). */
export const CAR_TYPE = 'application/vnd.ipld.car; version=1; order=dfs; dups=n';
export const RAW_BLOCK_TYPE = 'application/vnd.ipld.raw';
